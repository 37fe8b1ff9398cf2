"""The minutes of the vote count (biên bản kiểm phiếu): HTML and PDF from the record alone."""

from __future__ import annotations

import copy
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ballot.demo import run_demo
from ballot.election.counting import count_manifest
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.manifest import Manifest
from ballot.tally.minutes import (
    MINUTES_CSS,
    fingerprint_blocks,
    minutes_data,
    minutes_filename,
    render_minutes_html,
    render_minutes_pdf,
    vn_date,
    write_minutes,
)
from ballot.tally.record import load_record
from ballot.tally.verify import Check, Report, verify_record

TITLE = "BIÊN BẢN KIỂM PHIẾU"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("minutes") / "run"
    result = run_demo(out=out, voters=6, units=5, trustees=3, threshold=2, seed=1,
                      say=lambda *_: None)
    assert result.ok
    return result


@pytest.fixture(scope="module")
def record(demo):
    return load_record(demo.record)


@pytest.fixture(scope="module")
def report(record):
    return verify_record(record, workers=1)


@pytest.fixture(scope="module")
def page(record, report):
    return render_minutes_html(record, report)


def text_of(page: str) -> str:
    """The visible text: tags removed, entities decoded, spaces collapsed."""
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(body))


def recount(record: dict, *, rules: dict | None = None, units: dict | None = None,
            roll: dict | None = None, counts: dict | None = None,
            figures: dict | None = None, paper: dict | None = None) -> dict:
    """A copy of the record with other counts, rules, roll or units, counted by the real rules
    engine (the copy no longer verifies; the minutes only print what it says)."""
    rec = copy.deepcopy(record)
    m = rec["manifest"]
    if rules:
        m["rules"].update(rules)
    for u in m["units"]:
        u.update((units or {}).get(u["unit_id"], {}))
    for e in m["roll"]:
        e.update((roll or {}).get(e["roll_id"], {}))
    manifest = Manifest.from_json(m)
    if counts is not None:
        rec["counts"] = [{"unit_id": uid, **c} for uid, c in counts.items()]
    if figures is not None:
        rec["figures"] = figures
    if paper is not None:
        rec["paper"] = paper
    uc = {c["unit_id"]: UnitCounts(c["votes"], c["abstain"], c["blank"]) for c in rec["counts"]}
    rec["results"] = count_manifest(manifest, uc, MeetingFigures(**rec["figures"])).to_json()
    return rec


def votes(x=0, t=0, h=0, k=0, abstain=0, blank=0) -> dict:
    return {"votes": {"HTXSNV": x, "HTTNV": t, "HTNV": h, "KHTNV": k}, "abstain": abstain,
            "blank": blank}


# --- the demo's record ---------------------------------------------------------------------

def test_demo_writes_both_files(demo):
    assert demo.minutes_html is not None and demo.minutes_html.exists()
    assert demo.minutes_pdf is not None and demo.minutes_pdf.read_bytes().startswith(b"%PDF")
    assert demo.minutes_html.name.endswith("-minutes.html")


def test_title_meeting_and_date(record, page):
    text = text_of(page)
    m = record["manifest"]
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    assert TITLE in text
    assert m["organisation"] in text and m["title"] in text
    assert "ngày 15 tháng 12 năm 2025" in text


def test_fingerprint_in_blocks_of_four(record, page):
    blocks = fingerprint_blocks(record["base_hash"])
    assert len(blocks) == 16 and all(len(b) == 4 for b in blocks)
    assert "".join(blocks) == record["base_hash"]
    assert " ".join(blocks) in text_of(page)


def test_figures_and_quorum(record, page):
    text = text_of(page)
    f = record["figures"]
    for label, value in [("Số đảng viên chính thức được triệu tập", f["convened"]),
                         ("Số đảng viên được trừ", f["excluded"]),
                         ("Số làm căn cứ tính tỷ lệ N", record["results"]["base"]),
                         ("Số đảng viên có mặt", f["present"]),
                         ("Số đảng viên vắng mặt", f["convened"] - f["present"])]:
        assert re.search(re.escape(label) + r" " + str(value) + r"\b", text), label
    assert record["results"]["base_text"]["vi"] in text
    assert record["results"]["quorum"]["text"]["vi"] in text
    for label in ("Số phiếu phát ra", "Số phiếu thu về", "Số phiếu hợp lệ",
                  "Số phiếu không hợp lệ"):
        assert label in text
    assert "Không có phiếu giấy" in text


def test_every_unit_with_its_counts_result_and_rule(record, page):
    text = text_of(page)
    names = {u["unit_id"]: u["name"] for u in record["manifest"]["units"]}
    rows = re.findall(r"<tr><td class=\"no\">.*?</tr>", page, flags=re.S)
    assert len(rows) == len(record["results"]["units"])
    for row, r in zip(rows, record["results"]["units"]):
        cells = re.findall(r'<td class="v[^"]*"><b>(\d+)</b>', row)
        expected = [r["counts"]["votes"][lv["code"]] for lv in record["manifest"]["levels"]]
        assert [int(c) for c in cells] == expected + [r["counts"]["abstain"]]
        assert html.escape(names[r["unit_id"]]) in row
        assert html.escape(r["rule"]["vi"]) in row
        assert (r["level"] or {"no_majority": "không đủ đa số"}.get(r["outcome"], "")) in row
    for lv in record["manifest"]["levels"]:
        assert lv["name_vi"] in text
    assert "%" in text and "," in text  # % of N with the Vietnamese decimal comma


def test_signature_lines_and_committee(record, page):
    text = text_of(page)
    for role in ("THƯ KÝ", "CHỦ TRÌ HỘI NGHỊ", "CÁC THÀNH VIÊN BAN KIỂM PHIẾU"):
        assert role.lower() in text.lower()
    for i, name in enumerate(record["manifest"]["trustees"]["members"], 1):
        assert name in text and f"Ủy viên {i}".lower() in text.lower()
    assert text.count("(Ký, ghi rõ họ tên)") == 2 + len(record["manifest"]["trustees"]["members"])
    assert "Khiếu nại" in text


def test_verification_status(record, report, page):
    text = text_of(page)
    assert report.ok
    assert "Hồ sơ hợp lệ" in text and "✗" not in text
    assert text.count("✓") >= len(report.checks)
    unverified = text_of(render_minutes_html(record, None))
    assert "chưa kiểm tra" in unverified and "Hồ sơ hợp lệ" not in unverified
    bad = Report(checks=[Check("manifest", "Manifest", True, "ok"),
                         Check("chain", "Board hash chain", False, "entry 3 changed")])
    failed = text_of(render_minutes_html(record, bad))
    assert "KHÔNG hợp lệ" in failed and "✗" in failed and "KHÔNG ĐẠT" in failed
    assert "entry 3 changed" not in failed  # the verifier's English: in the English version
    english = text_of(render_minutes_html(record, bad, lang="en"))
    assert "does NOT verify" in english and "entry 3 changed" in english


def test_minutes_are_vietnamese_only_and_english_is_a_separate_version(record, report, page):
    text = text_of(page)
    # no English gloss anywhere: headings, labels, the verification section
    for english in ("Minutes of the vote count", "chair", "on the roll", "tokens issued",
                    "eligible members", "ballots", "verified", "Election fingerprint"):
        assert english not in text, english
    assert "Mã nhận diện và kiểm tra hồ sơ" in text
    assert f"{len(record['issuance_log'])} thẻ đã cấp cho" in text
    assert "Không chọn" in text and "Không XL" not in text  # the phone's term for abstain
    en = render_minutes_html(record, report, lang="en")
    assert '<html lang="en">' in en
    en_text = text_of(en)
    assert "MINUTES OF THE VOTE COUNT" in en_text and "BIÊN BẢN" not in en_text
    assert "Official members convened" in en_text and "eligible members" in en_text
    with pytest.raises(ValueError):
        render_minutes_html(record, report, lang="fr")


def test_self_contained_print_page(record, report, page):
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", page)  # no event-handler attributes
    assert "style=" not in page  # no inline style attributes: a strict CSP can serve it
    assert re.search(r"@page\s*{[^}]*size:\s*A4", page)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<style>" in page and MINUTES_CSS.strip()[:40] in page
    linked = render_minutes_html(record, report, css_href="/static/minutes.css")
    assert '<link rel="stylesheet" href="/static/minutes.css">' in linked
    assert "<style>" not in linked


def test_quota_section_is_shown(record, page):
    assert "Tỷ lệ hoàn thành xuất sắc nhiệm vụ".lower() in text_of(page).lower()
    for g in record["results"]["quota"]:
        assert html.escape(g["text"]["vi"]) in page


# --- escaping ------------------------------------------------------------------------------

def test_names_from_csv_are_escaped(record, report):
    rec = copy.deepcopy(record)
    evil = '<script>alert("x")</script> & Cô <b>Lan</b>'
    rec["manifest"]["units"][0]["name"] = evil
    rec["manifest"]["organisation"] = "Chi bộ <img src=x onerror=alert(1)>"
    rec["manifest"]["trustees"]["members"][0] = "</td><script>1</script>"
    meeting = {"chair": "<i>Chủ tọa</i>", "place": '"Hội trường" <A>',
               "complaints": "<script>alert(2)</script>"}
    page = render_minutes_html(rec, report, meeting=meeting)
    assert "<script" not in page and "<img" not in page and "<i>Chủ" not in page
    assert html.escape(evil) in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    pdf = render_minutes_pdf(rec, report, meeting=meeting)  # reportlab markup is escaped too
    assert pdf.startswith(b"%PDF")


# --- meeting details -------------------------------------------------------------------------

def test_meeting_details_fill_the_blanks(record, report):
    meeting = {"place": "Hội trường tầng 2", "started": "14 giờ 00", "ended": "16 giờ 30",
               "chair": "Nguyễn Văn Chủ", "secretary": "Trần Thị Thư",
               "complaints": "Không có khiếu nại."}
    text = text_of(render_minutes_html(record, report, meeting=meeting))
    for value in meeting.values():
        assert value in text
    blank = render_minutes_html(record, report)
    assert blank.count('class="fill') >= 5  # dotted lines to fill by hand


def test_unknown_meeting_key_is_refused(record):
    with pytest.raises(ValueError, match="unknown keys"):
        render_minutes_html(record, None, meeting={"chairman": "x"})


def test_vietnamese_date():
    assert vn_date("2025-12-15") == "ngày 15 tháng 12 năm 2025"
    assert vn_date("2026-02-05") == "ngày 05 tháng 02 năm 2026"
    assert vn_date("2026-11-05") == "ngày 05 tháng 11 năm 2026"


# --- quota, second round, paper, flags -------------------------------------------------------

def five_units(record) -> list[str]:
    return [u["unit_id"] for u in record["manifest"]["units"]]


def test_quota_tie_and_cut_are_shown(record):
    u = five_units(record)
    # Ratio 1/4 (outstanding): n = 5 at HTTNV or better → at most 1 HTXSNV. Two candidates tie
    # on votes and score; a third, with fewer votes, is cut.
    rec = recount(
        record,
        rules={"quota": {"top": "HTXSNV", "against": "HTTNV", "ratio": "1/4",
                         "group_ratios": {}}},
        units={u[0]: {"score": 90}, u[1]: {"score": 90}, u[2]: {"score": 99}},
        counts={u[0]: votes(x=5, abstain=1), u[1]: votes(x=5, abstain=1),
                u[2]: votes(x=4, t=1, abstain=1), u[3]: votes(t=5, abstain=1),
                u[4]: votes(t=6)})
    outcomes = [r["outcome"] for r in rec["results"]["units"]]
    assert outcomes[:3] == ["quota_tie", "quota_tie", "cut_by_quota"]
    page = render_minutes_html(rec, None)
    text = text_of(page)
    names = {x["unit_id"]: x["name"] for x in rec["manifest"]["units"]}
    assert "Đề nghị cấp có thẩm quyền quyết định" in text
    tie_box = re.search(r'<div class="tie">.*?</div>', page, flags=re.S).group(0)
    assert html.escape(names[u[0]]) in tie_box and html.escape(names[u[1]]) in tie_box
    assert "Chuyển xuống mức liền dưới: " + names[u[2]] in text
    assert "bằng phiếu tại ngưỡng tỷ lệ" in text and "giảm do tỷ lệ" in text
    g = rec["results"]["quota"][0]
    assert html.escape(g["text"]["vi"]) in page
    assert (g["n"], g["x_max"], len(g["tied"]), len(g["cut"])) == (5, 1, 2, 1)
    pdf = render_minutes_pdf(rec, None)
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        ptext = pdftotext(pdf)
        assert "Đề nghị cấp có thẩm quyền quyết định" in ptext
        assert names[u[2]] in ptext


def test_second_round_candidates_and_counts(record):
    u = five_units(record)
    rec = recount(
        record,
        rules={"second_round": {"enabled": True, "max_k": None},
               "quota": {"top": "HTXSNV", "against": "HTTNV", "ratio": "1/4",
                         "group_ratios": {}}},
        counts={u[0]: votes(x=5, abstain=1), u[1]: votes(x=4, t=1, abstain=1),
                u[2]: votes(t=5, abstain=1), u[3]: votes(t=5, abstain=1), u[4]: votes(t=6)})
    assert rec["results"]["second_round"], "the rules engine sends both to a second round"
    names = {x["unit_id"]: x["name"] for x in rec["manifest"]["units"]}
    blank = text_of(render_minutes_html(rec, None))
    assert "Bỏ phiếu vòng hai".lower() in blank.lower()
    assert names[u[0]] in blank and names[u[1]] in blank
    meeting = {"second_round": {"agree": {u[0]: 5, u[1]: 2}, "disagree": {u[0]: 1, u[1]: 4}}}
    counted = text_of(render_minutes_html(rec, None, meeting=meeting))
    assert "Được chọn" in counted and "Không được chọn" in counted
    assert "Vòng hai: chọn tối đa" in counted
    with pytest.raises(ValueError, match="not second-round candidates"):
        render_minutes_html(rec, None, meeting={"second_round": {"agree": {u[3]: 1}}})
    assert render_minutes_pdf(rec, None, meeting=meeting).startswith(b"%PDF")


def test_paper_part_excluded_members_and_flags(record):
    u = five_units(record)
    rid = [e["roll_id"] for e in record["manifest"]["roll"]]
    # 6 convened, 1 excluded (N = 5); 4 voted on their phones, 1 on paper.
    rec = copy.deepcopy(record)
    rec["issuance_log"], rec["board"] = rec["issuance_log"][:4], rec["board"][:4]
    paper = {"ballots_issued": 1, "ballots_valid": 1, "ballots_invalid": 0, "voters": 1,
             "counts": [{"unit_id": x, **votes(t=1)} for x in u]}
    counts = {x: votes(t=4, h=1) for x in u}
    counts[u[4]] = votes(t=3, blank=2)  # two rows left empty or marked twice
    rec = recount(
        rec,
        roll={rid[5]: {"status": "excluded", "reason": "chuyển sinh hoạt tạm thời"}},
        units={u[4]: {"disciplined": True}},
        counts=counts, paper=paper,
        figures={"convened": 6, "excluded": 1, "present": 5, "ballots_issued": 5,
                 "ballots_valid": 5, "ballots_invalid": 0})
    page = render_minutes_html(rec, None)
    text = text_of(page)
    assert "Giấy" in text and "bỏ phiếu điện tử 4, bỏ phiếu giấy 1" in text
    assert "chuyển sinh hoạt tạm thời" in text
    assert "Bỏ trống" in text
    flagged = [r for r in rec["results"]["units"] if r["flags"]]
    assert flagged and html.escape(flagged[0]["flags"][0]["text"]["vi"]) in page
    d = minutes_data(rec, None)
    assert d.ballots[0][2:] == (4, 1, 5)    # issued: electronic, paper, total
    assert d.ballots[2][2:] == (4, 1, 5)    # valid
    assert d.has_paper and d.excluded == 1 and d.base == 5 and d.absent == 1
    assert render_minutes_pdf(rec, None).startswith(b"%PDF")


def test_quorum_failed(record):
    u = five_units(record)
    rec = recount(record, counts={x: votes(t=3) for x in u},
                  figures={"convened": 6, "excluded": 0, "present": 3, "ballots_issued": 3,
                           "ballots_valid": 3, "ballots_invalid": 0})
    text = text_of(render_minutes_html(rec, None))
    assert rec["results"]["quorum"]["text"]["vi"] in text
    assert "không đủ số lượng" in text


# --- PDF and files -------------------------------------------------------------------------

def pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode("utf-8")


def test_pdf_is_a4_and_vietnamese(record, report):
    pdf = render_minutes_pdf(record, report)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf
    assert b"DejaVuSans" in pdf
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = pdftotext(pdf)
    assert TITLE in text
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text
    assert " ".join(fingerprint_blocks(record["base_hash"])[:8]) in re.sub(r"\s+", " ", text)
    for u in record["manifest"]["units"]:
        assert u["name"] in text
    assert re.search(r"Trang 1/\d", text)
    assert "Hồ sơ hợp lệ" in text


def test_write_minutes_names_the_files(record, report, tmp_path):
    html_path, pdf_path = write_minutes(record, report, tmp_path / "out")
    stem = minutes_filename(record)
    assert html_path == tmp_path / "out" / f"{stem}.html"
    assert pdf_path == tmp_path / "out" / f"{stem}.pdf"
    assert stem == "danh-gia-xep-loai-chat-luong-dang-vien-nam-2025-minutes"
    assert TITLE in html_path.read_text(encoding="utf-8")
    assert pdf_path.read_bytes().startswith(b"%PDF")
    h2, p2 = write_minutes(record, None, tmp_path, name="chi-bo-demo")
    assert h2.name == "chi-bo-demo-minutes.html" and p2.name == "chi-bo-demo-minutes.pdf"
    assert not list(tmp_path.glob("*.tmp"))


def test_fonts_ship_with_the_package():
    fonts = Path(__file__).resolve().parents[2] / "ballot" / "tally" / "fonts"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE.txt"):
        assert (fonts / name).is_file(), name
    assert "Bitstream" in (fonts / "LICENSE.txt").read_text(encoding="utf-8")


def test_demo_table_speaks_the_locale(record, monkeypatch):
    from ballot.tally.report import results_table

    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    vi = results_table(record)
    assert "Không chọn" in vi and "Kết quả" in vi and "Tổng hợp:" in vi
    assert not re.search(r"\b(passed|no majority|Summary|Result)\b", vi), vi
    en = results_table(record, lang="en")
    assert "Abstain" in en and "Summary:" in en and "Không chọn" not in en
