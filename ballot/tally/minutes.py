"""The minutes of the vote count (biên bản kiểm phiếu), from the election record alone.

In Vietnamese only, as a biên bản kiểm phiếu; an English version is a separate document
(``lang="en"``, the same layout with every text in English). Two renderings of one view
(:func:`minutes_data`): a self-contained printable HTML page (:func:`render_minutes_html`, A4
print CSS, no script, no external asset unless the caller links :data:`MINUTES_CSS` as a file)
and an A4 PDF (:func:`ballot.tally.minutes_pdf.render_minutes_pdf`, with the DejaVu Sans fonts
shipped in ``ballot/tally/fonts``). :func:`write_minutes` writes both.

The record gives everything that was counted; ``meeting`` (optional) carries what only the
meeting knows; what it does not give is left as a dotted line to fill in by hand:

- ``locality``: the place name before the date in the heading ("Phường Bến Nghé");
- ``place``: where the meeting was held; ``started``, ``ended``: times ("14 giờ 00");
- ``chair``, ``secretary``: names; ``complaints``: free text (line breaks kept);
- ``second_round``: ``{"agree": {unit_id: n}, "disagree": {unit_id: n}}`` for the candidates
  of the record's second round, held on paper; with every candidate's agree count, the
  selection is counted by :func:`ballot.election.second_round.second_round` (more than 1/2 of
  N, at most K). When the second round was held electronically, its results come as they
  are: ``"outcome": {unit_id: "selected" | "not_selected" | "second_round_tie" |
  "quorum_failed"}`` and ``"texts": {group or "": its rule text}`` (nothing is counted again:
  that round had its own N and quorum).

The committee is the manifest's trustees. Unknown keys are refused (``ValueError``).
"""

from __future__ import annotations

import contextvars
import html
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping, Sequence

from ballot.election.errors import CountError
from ballot.election.rules import Threshold
from ballot.election.second_round import second_round as count_second_round
from ballot.election.text import percent

from .verify import Report

__all__ = [
    "MINUTES_CSS",
    "MEETING_KEYS",
    "MinutesData",
    "minutes_data",
    "minutes_filename",
    "render_minutes_html",
    "render_minutes_pdf",
    "write_minutes",
    "fingerprint_blocks",
]

#: The keys ``meeting`` may carry; every one is optional.
MEETING_KEYS = ("locality", "place", "started", "ended", "chair", "secretary", "complaints",
                "second_round", "verification", "verifier_fingerprint",
                "release_fingerprint")

OUTCOME_VI = {
    "passed": "Đạt",
    "no_majority": "Không mức nào đủ số phiếu — trình cấp có thẩm quyền",
    "quorum_failed": "Không đủ số lượng có mặt",
    "cut_by_quota": "Giảm do vượt tỷ lệ xuất sắc",
    "quota_tie": "Bằng phiếu tại ngưỡng tỷ lệ — cấp có thẩm quyền quyết định",
    "second_round": "Chờ vòng hai",
    "selected": "Được chọn (vòng hai)",
    "not_selected": "Không được chọn (vòng hai)",
    "second_round_tie": "Bằng phiếu ở vị trí thứ K — cấp có thẩm quyền quyết định",
}
#: Short forms for the results table (the rule text says the rest).
OUTCOME_SHORT_VI = {
    "passed": "đạt",
    "no_majority": "không đủ đa số",
    "quorum_failed": "không đủ số lượng",
    "cut_by_quota": "giảm do tỷ lệ",
    "quota_tie": "bằng phiếu tại ngưỡng tỷ lệ",
    "second_round": "chờ vòng hai",
    "selected": "được chọn",
    "not_selected": "không được chọn",
    "second_round_tie": "bằng phiếu vòng hai",
}
OUTCOME_EN = {
    "passed": "passed",
    "no_majority": "no majority — for the deciding body",
    "quorum_failed": "quorum not met",
    "cut_by_quota": "cut by the quota",
    "quota_tie": "tie at the quota cut — for the deciding body",
    "second_round": "second round",
    "selected": "selected in the second round",
    "not_selected": "not selected in the second round",
    "second_round_tie": "tied at place K — for the deciding body",
}

#: Vietnamese titles of the verifier's checks (``ballot.tally.verify``), by key.
CHECK_TITLES_VI = {
    "manifest": "Thông tin cuộc bỏ phiếu (danh sách, mức, quy tắc)",
    "manifest_binding": "Thông tin cuộc bỏ phiếu khớp với bộ khóa",
    "ceremony": "Tạo khóa của các ủy viên ban kiểm phiếu",
    "base_hash": "Mã nhận diện cuộc bỏ phiếu",
    "issuance": "Sổ cấp quyền bỏ phiếu (token)",
    "board": "Bảng công khai phiếu",
    "board_count": "Số phiếu không vượt số quyền đã cấp",
    "ballots": "Từng phiếu: quyền, chữ ký, chứng minh",
    "limits": "Mỗi phiếu không quá K phiếu Đồng ý trong mỗi nhóm (vòng hai)",
    "tokens_unique": "Không quyền bỏ phiếu nào dùng hai lần",
    "chain": "Chuỗi băm của bảng phiếu",
    "aggregate": "Tổng mã hóa tính lại từ bảng phiếu",
    "decryption": "Giải mã từng phần của các ủy viên",
    "electronic_counts": "Số phiếu điện tử sau giải mã",
    "counts": "Số phiếu (điện tử + giấy)",
    "figures": "Số liệu hội nghị",
    "results": "Kết quả tính lại theo quy tắc",
    "paper_instead": "Thẻ đã gác lại (đã nhận thẻ, bỏ phiếu giấy)",
    "excess": "Số phiếu điện tử không vượt số thẻ còn hiệu lực (không thừa phiếu)",
}

#: One colour per level, highest first (enough contrast in grey too).
LEVEL_COLOURS = ("#2e7d32", "#1f5fa8", "#b7791f", "#b3261e", "#6a1b9a", "#455a64")
ABSTAIN_COLOUR = "#9e9e9e"

BASE_KIND_VI = {
    "convened_minus_excluded": "số đảng viên chính thức được triệu tập trừ số được trừ",
    "present": "số đảng viên có mặt",
    "valid_ballots": "số phiếu hợp lệ",
}


# --------------------------------------------------------------------------------------------
# The view
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LevelView:
    code: str
    short: str
    name_vi: str
    name_en: str
    colour: str
    threshold: Fraction          # of N
    threshold_text: str          # "> 1/2 N"


@dataclass(frozen=True)
class VoteCell:
    code: str
    votes: int
    share: Fraction | None       # of N
    percent: str                 # "90,0%"
    winner: bool                 # the level the votes gave


@dataclass(frozen=True)
class UnitRow:
    no: int
    unit_id: str
    name: str
    self_level: str | None
    proposed_level: str | None
    score: int | None
    cells: tuple[VoteCell, ...]
    abstain: int
    abstain_share: Fraction | None
    blank: int
    base: int
    level: str | None
    voted_level: str | None
    outcome: str
    outcome_vi: str
    outcome_short_vi: str
    outcome_en: str
    rule_vi: str
    rule_en: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class QuotaView:
    group: str
    ratio: str | None
    n: int
    x_max: int | None
    limit: int | None
    candidates: tuple[str, ...]  # names
    kept: tuple[str, ...]
    cut: tuple[str, ...]
    tied: tuple[str, ...]
    second_round: bool
    text_vi: str
    text_en: str


@dataclass(frozen=True)
class SecondRoundRow:
    unit_id: str
    name: str
    agree: int | None
    disagree: int | None
    status: str                  # "" when not counted yet


@dataclass(frozen=True)
class SecondRoundView:
    group: str
    k: int
    rows: tuple[SecondRoundRow, ...]
    text_vi: str | None          # the count's summary, when counts were given


@dataclass(frozen=True)
class CheckView:
    ok: bool
    title_vi: str
    title_en: str
    detail: str                  # the verifier's (English)
    detail_vi: str = ""


@dataclass(frozen=True)
class MinutesData:
    organisation: str
    title: str
    date_iso: str
    date_vi: str                 # "ngày 15 tháng 12 năm 2025"
    locality: str | None         # the place name before the date in the heading ("Quận 1")
    place: str | None            # where the meeting was held
    started: str | None
    ended: str | None
    chair: str | None
    secretary: str | None
    committee: tuple[tuple[int, str, bool], ...]   # (index, name, took part in decryption)
    trustee_threshold: int
    on_roll: int
    probationary: int
    convened: int
    excluded: int
    excluded_list: tuple[tuple[str, str], ...]     # (name, reason)
    base: int
    base_kind: str
    base_text_vi: str
    base_text_en: str
    present: int
    absent: int
    quorum_required: str
    quorum_reference: int
    quorum_met: bool
    quorum_text_vi: str
    quorum_text_en: str
    electronic_voters: int
    paper_voters: int | None
    paper_instead: int           # token issued, voted on paper (a lost phone session)
    ballots: tuple[tuple[str, str, int | None, int | None, int | None], ...]
    # (label_vi, label_en, electronic, paper or None when no paper, total or None)
    has_paper: bool
    levels: tuple[LevelView, ...]
    rules: tuple[tuple[str, str], ...]             # (vi, en)
    unit_label_vi: str
    unit_label_en: str
    units: tuple[UnitRow, ...]
    has_blank: bool
    summary: tuple[tuple[str, str, int], ...]      # (label_vi, label_en, units)
    quota: tuple[QuotaView, ...]
    quota_rule: bool
    second_round: tuple[SecondRoundView, ...]
    base_hash: str
    fingerprint: tuple[str, ...]
    checks: tuple[CheckView, ...] | None           # None: not verified
    verified_ok: bool | None
    first_failure: str | None
    complaints: str | None
    #: The verification line of each round's own record (this one, then its second round's),
    #: from the server's verified record (ballot.service.verified).
    verification_lines: tuple[str, ...] = ()


#: How the minutes name a second-round candidate's result.
SECOND_ROUND_STATUS = {
    "selected": "Được chọn",
    "not_selected": "Không được chọn",
    "second_round_tie": "Bằng phiếu — cấp có thẩm quyền quyết định",
    "quorum_failed": "Vòng hai không đủ số đảng viên có mặt theo quy định",
}


def level_colours(n: int) -> tuple[str, ...]:
    """Colours for ``n`` levels, highest first; the lowest level is always red."""
    green, blue, amber, red = LEVEL_COLOURS[:4]
    if n <= 1:
        return (green,) * n
    if n == 2:
        return (green, red)
    if n == 3:
        return (green, blue, red)
    middle = [blue, amber] + list(LEVEL_COLOURS[4:])
    return (green,) + tuple(middle[i % len(middle)] for i in range(n - 2)) + (red,)


def fingerprint_blocks(hex_digest: str) -> tuple[str, ...]:
    """``"18f092c5…"`` → ``("18f0", "92c5", …)``: blocks of 4 hex digits, to read aloud."""
    h = "".join(hex_digest.split()).lower()
    return tuple(h[i:i + 4] for i in range(0, len(h), 4))


def vn_percent(value: Fraction | None) -> str:
    """Exact percent with one decimal, Vietnamese decimal comma: ``"66,7%"``; ``"—"`` if None."""
    return percent(value).replace(".", ",")


def vn_date(iso: str) -> str:
    """``"2025-12-05"`` → ``"ngày 05 tháng 12 năm 2025"`` (days below 10 and months 1, 2 get a
    leading zero, as in Party documents); anything else is returned unchanged."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", iso or "")
    if not m:
        return iso or ""
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    month = f"{mo:02d}" if mo <= 2 else str(mo)
    return f"ngày {d:02d} tháng {month} năm {y}"


def _frac(text: Any) -> Fraction | None:
    if text is None:
        return None
    try:
        return Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_meeting(meeting: Mapping[str, Any] | None) -> dict[str, Any]:
    if meeting is None:
        return {}
    if not isinstance(meeting, Mapping):
        raise ValueError("meeting: expected a mapping")
    unknown = sorted(set(meeting) - set(MEETING_KEYS))
    if unknown:
        raise ValueError(f"meeting: unknown keys {unknown} (known: {', '.join(MEETING_KEYS)})")
    out = dict(meeting)
    for key in ("locality", "place", "started", "ended", "chair", "secretary", "complaints",
                "verification"):
        v = out.get(key)
        if v is not None and not isinstance(v, str):
            raise ValueError(f"meeting.{key}: expected a string")
        out[key] = (v.strip() or None) if isinstance(v, str) else None
    sr = out.get("second_round")
    if sr is not None:
        if not isinstance(sr, Mapping) or set(sr) - {"agree", "disagree", "outcome", "texts",
                                                               "verification"}:
            raise ValueError("meeting.second_round: expected {'agree': {unit_id: n}, "
                             "'disagree': {unit_id: n}} (and 'outcome', 'texts')")
        for part in ("agree", "disagree"):
            counts = sr.get(part, {})
            if not isinstance(counts, Mapping) or any(
                    _int(n) is None or n < 0 for n in counts.values()):
                raise ValueError(f"meeting.second_round.{part}: expected {{unit_id: count ≥ 0}}")
        outcome = sr.get("outcome", {})
        if not isinstance(outcome, Mapping) or any(v not in SECOND_ROUND_STATUS
                                                   for v in outcome.values()):
            raise ValueError("meeting.second_round.outcome: expected {unit_id: "
                             + " | ".join(SECOND_ROUND_STATUS) + "}")
        texts = sr.get("texts", {})
        if not isinstance(texts, Mapping) or any(not isinstance(v, str) for v in texts.values()):
            raise ValueError("meeting.second_round.texts: expected {group: text}")
    return out


def _thresholds(rules: Mapping[str, Any], code: str) -> Threshold:
    t = rules.get("thresholds") or {}
    spec = (t.get("levels") or {}).get(code) or t.get("default") or {}
    try:
        return Threshold.from_json(spec) if spec else Threshold()
    except (ValueError, TypeError, AttributeError):  # a record the verifier rejects anyway
        return Threshold()


def _rules_lines(rules: Mapping[str, Any], levels: Sequence[LevelView],
                 base_vi: str, base_en: str) -> tuple[tuple[str, str], ...]:
    lines = [(f"Căn cứ tính tỷ lệ: {base_vi}", base_en)]
    if len({lv.threshold_text for lv in levels}) == 1:
        thr = f"{levels[0].threshold_text} với mọi mức" if levels else ""
    else:
        thr = "; ".join(f"{lv.short} {lv.threshold_text}" for lv in levels)
    lines.append((f"Một mức được công nhận khi số phiếu của mức đó {thr} "
                  "(xét từ mức cao nhất trở xuống)",
                  "a level passes when its votes reach its threshold, highest level first"))
    q = _frac(rules.get("quorum"))
    if q is not None and q > 0:
        lines.append((f"Hội nghị hợp lệ khi số có mặt ≥ {rules['quorum']} × (số triệu tập − số "
                      "được trừ)", "quorum"))
    if rules.get("cumulative"):
        lines.append(("Cộng dồn: nếu không mức nào đạt, phiếu mức cao được cộng cho mức thấp hơn "
                      "liền kề, xét dần xuống", "cumulative fallback: on"))
    else:
        lines.append(("Không cộng dồn phiếu giữa các mức; không mức nào đạt thì trình cấp có "
                      "thẩm quyền (không bốc thăm)", "no cumulative fallback; never by chance"))
    lines.append(("Dòng để trống hoặc đánh hai ô không tính cho mức nào; phần còn lại của phiếu "
                  "vẫn hợp lệ" + ("; được chọn «Không chọn» (không xếp loại)" if rules.get("abstain_allowed")
                                  else ""),
                  "blank rows count for no level" + ("; abstain allowed"
                                                     if rules.get("abstain_allowed") else "")))
    quota = rules.get("quota")
    if quota:
        groups = quota.get("group_ratios") or {}
        extra = ("; riêng " + ", ".join(f"nhóm {g}: {_ratio(r)}" for g, r in groups.items())
                 if groups else "")
        ratio = _ratio(quota.get("ratio", "1/5"))
        if quota.get("base") == "against_and_above":  # the excellent counted in the base
            lines.append((f"Tỷ lệ: số {quota['top']} không vượt quá {ratio} số đạt "
                          f"{quota['against']} trở lên trong từng nhóm{extra} (QĐ 366 Điều "
                          f"11): X ≤ ⌊r·n⌋, n = số đạt {quota['against']} trở lên",
                          "excellent quota per group, of those rated "
                          f"{quota['against']} or better, exact arithmetic"))
        else:
            lines.append((f"Tỷ lệ: số {quota['top']} không vượt quá {ratio} số "
                          f"{quota['against']} trong từng nhóm{extra} (QĐ 366 Điều 11): "
                          "X ≤ ⌊r·n/(1+r)⌋, n = số đạt "
                          f"{quota['against']} trở lên",
                          "excellent quota per group, exact arithmetic"))
    sr = rules.get("second_round") or {}
    if sr.get("enabled"):
        k = sr.get("max_k")
        lines.append(("Vượt tỷ lệ thì bỏ phiếu vòng hai (đồng ý / không đồng ý" +
                      (f", chọn tối đa {k})" if k is not None else ")"),
                      "second round instead of a cut"))
    return tuple(lines)


def _ballot_b_lines(manifest: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The rule of a second-round election (ballot B), with its link to the first round."""
    bb = manifest.get("ballot_b")
    if not isinstance(bb, Mapping):
        return ()
    first = bb.get("first_round") or {}
    need = _thresholds(manifest.get("rules") or {}, "agree").describe()
    ks = ", ".join(f"{b.get('group') or '(chung)'}: {b.get('k')}" for b in bb.get("ballots") or [])
    return (
        (f"Vòng hai của cuộc bỏ phiếu {first.get('slug', '')}: mỗi nhóm chọn tối đa K người "
         f"({ks}); được chọn khi số phiếu Đồng ý {need}, N tính như vòng một nhưng ở vòng "
         f"này (vòng một: N = {bb.get('base')}); bằng phiếu ở vị trí thứ K: cấp có thẩm quyền "
         "quyết định",
         f"second round: at most K per group, agree {need}, N of the first round's "
         "kind taken in this round; a tie at place K goes to the deciding body"),
        (f"Mỗi lá phiếu chứng minh (không lộ nội dung) không quá K phiếu Đồng ý trong mỗi nhóm; "
         f"hồ sơ vòng một: SHA-256 {str(first.get('record_sha256', ''))[:16]}…",
         "every ballot proves at most K agree per group; first round's record hash"),
    )


def _ratio(text: Any) -> str:
    """``"1/5"`` → ``"1/5 (20%)"``."""
    f = _frac(text)
    return f"{text} ({percent(f, 0)})" if f is not None else str(text)


def _unit_label(units: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    kinds = {u.get("kind") for u in units}
    if kinds <= {"member"}:
        return "Họ và tên", "full name"
    if kinds <= {"organisation"}:
        return "Tên tổ chức đảng", "organisation"
    return "Tổ chức / cá nhân", "unit"


def _close_line(record: Mapping[str, Any]) -> str | None:
    """What the close fixed, as the projector showed it (record version 2): the audit entry's
    number and hash and the board's head — the committee compares them with what it noted."""
    close, audit = record.get("close"), record.get("audit")
    if not isinstance(close, Mapping) or not isinstance(audit, list) or not audit:
        return None
    entry, board = audit[0], close.get("board", {})
    return (f"Chốt khi kết thúc bỏ phiếu: bút toán nhật ký số {entry.get('seq')}, mã băm "
            f"{entry.get('entry_hash')}; bảng công bố {board.get('ballots')} phiếu, mã băm cuối "
            f"{board.get('head')}.")


def minutes_data(record: Mapping[str, Any], report: Report | None = None, *,
                 meeting: Mapping[str, Any] | None = None) -> MinutesData:
    """Everything the minutes print, computed once from the record (and the report)."""
    mt = _check_meeting(meeting)
    manifest = record["manifest"]
    results = record["results"]
    figures = record.get("figures") or results.get("figures") or {}
    rules = manifest.get("rules") or results.get("rules") or {}
    units_m = list(manifest.get("units") or [])
    names = {u["unit_id"]: str(u.get("name", u["unit_id"])) for u in units_m}
    by_id = {u["unit_id"]: u for u in units_m}

    levels: list[LevelView] = []
    for i, lv in enumerate(manifest.get("levels") or results.get("levels") or []):
        t = _thresholds(rules, lv["code"])
        levels.append(LevelView(lv["code"], lv.get("short") or lv["code"], lv.get("name_vi", ""),
                                lv.get("name_en", ""), "", t.fraction, t.describe()))
    palette = level_colours(len(levels))
    levels = [LevelView(lv.code, lv.short, lv.name_vi, lv.name_en, palette[i], lv.threshold,
                        lv.threshold_text) for i, lv in enumerate(levels)]
    short = {lv.code: lv.short for lv in levels}

    # Trustees: the vote-counting committee.
    trustees = manifest.get("trustees") or {}
    decrypted = {d.get("trustee") for d in record.get("decryptions") or []}
    committee = tuple((i, str(name), i in decrypted)
                      for i, name in enumerate(trustees.get("members") or [], 1))

    roll = list(manifest.get("roll") or [])
    excluded_list = tuple((str(e.get("name", "")), str(e.get("reason") or ""))
                          for e in roll if e.get("status") == "excluded")
    convened = _int(figures.get("convened")) or 0
    present = _int(figures.get("present")) or 0
    excluded = _int(figures.get("excluded")) or 0
    quorum = results.get("quorum") or {}
    base_text = results.get("base_text") or {}

    # Ballots, electronic and paper apart.
    paper = record.get("paper")
    # Members who received a token and voted on paper instead: their tokens are set aside,
    # not ballots issued (docs/protocol.md, "paper_instead").
    set_aside = len(record.get("paper_instead") or [])
    tokens = len(record.get("issuance_log") or []) - set_aside
    cast = len(record.get("board") or [])
    p = paper or {}

    def total(key: str) -> int | None:
        return _int(figures.get(key))

    t_valid, t_invalid = total("ballots_valid"), total("ballots_invalid")
    ballots = (
        ("Số phiếu phát ra", "Ballots issued", tokens, _int(p.get("ballots_issued")) if paper else None,
         total("ballots_issued")),
        ("Số phiếu thu về", "Ballots returned", cast,
         (_int(p.get("ballots_valid")) or 0) + (_int(p.get("ballots_invalid")) or 0)
         if paper else None,
         (t_valid or 0) + (t_invalid or 0) if t_valid is not None else None),
        ("Số phiếu hợp lệ", "Valid ballots", cast, _int(p.get("ballots_valid")) if paper else None,
         t_valid),
        ("Số phiếu không hợp lệ", "Invalid ballots", 0, _int(p.get("ballots_invalid")) if paper else None,
         t_invalid),
    )

    # Units.
    rows: list[UnitRow] = []
    for no, r in enumerate(results.get("units") or [], 1):
        uid = r["unit_id"]
        u = by_id.get(uid, {})
        counts = r.get("counts") or {}
        votes = counts.get("votes") or {}
        base = _int(r.get("base")) or 0
        shares = r.get("shares") or {}
        cells = tuple(VoteCell(lv.code, int(votes.get(lv.code, 0)), _frac(shares.get(lv.code)),
                               vn_percent(_frac(shares.get(lv.code))),
                               lv.code == r.get("voted_level"))
                      for lv in levels)
        abstain = int(counts.get("abstain", 0))
        rule = r.get("rule") or {}
        outcome = r.get("outcome", "")
        rows.append(UnitRow(
            no=no, unit_id=uid, name=names.get(uid, uid),
            self_level=short.get(u.get("self_level"), u.get("self_level")),
            proposed_level=short.get(u.get("proposed_level"), u.get("proposed_level")),
            score=_int(u.get("score")), cells=cells, abstain=abstain,
            abstain_share=Fraction(abstain, base) if base else None,
            blank=int(counts.get("blank", 0)), base=base, level=r.get("level"),
            voted_level=r.get("voted_level"), outcome=outcome,
            outcome_vi=OUTCOME_VI.get(outcome, outcome),
            outcome_short_vi=OUTCOME_SHORT_VI.get(outcome, outcome),
            outcome_en=OUTCOME_EN.get(outcome, outcome),
            rule_vi=str(rule.get("vi", "")), rule_en=str(rule.get("en", "")),
            flags=tuple(str((f.get("text") or {}).get("vi", f.get("code", "")))
                        for f in r.get("flags") or []),
        ))

    # Summary: units per final level, then the open ones.
    summary: list[tuple[str, str, int]] = []
    for lv in levels:
        summary.append((f"{lv.name_vi} ({lv.short})", lv.name_en,
                        sum(1 for r in rows if r.level == lv.code)))
    for outcome in ("no_majority", "quota_tie", "second_round", "quorum_failed"):
        n = sum(1 for r in rows if r.level is None and r.outcome == outcome)
        if n:
            summary.append((f"Chưa xác định — {OUTCOME_SHORT_VI[outcome]}",
                            OUTCOME_EN[outcome], n))
    for outcome in ("selected", "not_selected", "second_round_tie"):  # a second round (ballot B)
        n = sum(1 for r in rows if r.outcome == outcome)
        if n:
            summary.append((f"Vòng hai — {OUTCOME_SHORT_VI[outcome]}", OUTCOME_EN[outcome], n))

    def group_label(g: Any) -> str:
        return str(g) if g is not None else "chung"

    quota = tuple(QuotaView(
        group=group_label(g.get("group")), ratio=g.get("ratio"), n=int(g.get("n", 0)),
        x_max=_int(g.get("x_max")), limit=_int(g.get("limit")),
        candidates=tuple(names.get(x, x) for x in g.get("candidates") or []),
        kept=tuple(names.get(x, x) for x in g.get("kept") or []),
        cut=tuple(names.get(x, x) for x in g.get("cut") or []),
        tied=tuple(names.get(x, x) for x in g.get("tied") or []),
        second_round=bool(g.get("second_round")),
        text_vi=str((g.get("text") or {}).get("vi", "")),
        text_en=str((g.get("text") or {}).get("en", "")),
    ) for g in results.get("quota") or [])

    # Second round: the candidates from the record, the counts (if any) from the meeting.
    sr_counts = mt.get("second_round") or {}
    agree_all = dict(sr_counts.get("agree") or {})
    disagree_all = dict(sr_counts.get("disagree") or {})
    known = {c for b in results.get("second_round") or [] for c in b.get("candidates") or []}
    stray = sorted((set(agree_all) | set(disagree_all) | set(sr_counts.get("outcome") or {}))
                   - known)
    if stray:
        raise ValueError(f"meeting.second_round: {stray} are not second-round candidates")
    second: list[SecondRoundView] = []
    base_n = _int(results.get("base"))
    outcome_all = dict(sr_counts.get("outcome") or {})
    texts_all = dict(sr_counts.get("texts") or {})
    for b in results.get("second_round") or []:
        cands = list(b.get("candidates") or [])
        k = int(b.get("k", 0))
        text_vi = None
        status = {c: "" for c in cands}
        if cands and all(c in outcome_all for c in cands):
            # held electronically: that round's own results, as it counted them
            status = {c: SECOND_ROUND_STATUS[outcome_all[c]] for c in cands}
            text_vi = texts_all.get(b.get("group") or "") or None
        elif cands and all(c in agree_all for c in cands):
            try:
                res = count_second_round(cands, {c: agree_all[c] for c in cands}, k, base=base_n)
            except CountError as exc:
                raise ValueError(f"meeting.second_round: {exc}") from None
            text_vi = res.text.vi
            for c in res.selected:
                status[c] = SECOND_ROUND_STATUS["selected"]
            for c in res.tied:
                status[c] = SECOND_ROUND_STATUS["second_round_tie"]
            for c in res.not_selected:
                status[c] = SECOND_ROUND_STATUS["not_selected"]
        rows2 = tuple(SecondRoundRow(c, names.get(c, c), agree_all.get(c), disagree_all.get(c),
                                     status[c]) for c in cands)
        second.append(SecondRoundView(group_label(b.get("group")), k, rows2, text_vi))
    # A second-round election (ballot B): its own counts and selection, from the record.
    status_vi = SECOND_ROUND_STATUS
    by_unit = {r["unit_id"]: r for r in results.get("units") or []}
    codes2 = [lv.code for lv in levels]
    for g in results.get("ballot_b") or []:
        rows2 = []
        for c in g.get("candidates") or []:
            r = by_unit.get(c) or {}
            votes = (r.get("counts") or {}).get("votes") or {}
            rows2.append(SecondRoundRow(c, names.get(c, c),
                                        _int(votes.get(codes2[0])) if codes2 else None,
                                        _int(votes.get(codes2[1])) if len(codes2) > 1 else None,
                                        status_vi.get(r.get("outcome"), "")))
        second.append(SecondRoundView(group_label(g.get("group")), int(g.get("k", 0)),
                                      tuple(rows2), str((g.get("text") or {}).get("vi", "")) or None))

    # Verification.
    if report is None or not report.checks:
        checks = None
        verified_ok = None
        first_failure = None
    else:
        checks = tuple(CheckView(c.ok, CHECK_TITLES_VI.get(c.key, c.title), c.title, c.detail,
                                 check_detail_vi(c.key, c.ok, record, report))
                       for c in report.checks)
        verified_ok = report.ok
        ff = report.first_failure
        first_failure = CHECK_TITLES_VI.get(ff.key, ff.title) if ff else None

    unit_vi, unit_en = _unit_label(units_m)
    base_hash = str(record.get("base_hash", ""))
    base_vi = str(base_text.get("vi", ""))
    base_en = str(base_text.get("en", ""))
    return MinutesData(
        organisation=str(manifest.get("organisation", "")),
        title=str(manifest.get("title", "")),
        date_iso=str(manifest.get("date", "")),
        date_vi=vn_date(str(manifest.get("date", ""))),
        locality=mt.get("locality"), place=mt.get("place"), started=mt.get("started"),
        ended=mt.get("ended"),
        chair=mt.get("chair"), secretary=mt.get("secretary"),
        committee=committee, trustee_threshold=int(trustees.get("threshold") or 0),
        on_roll=len(roll), probationary=sum(1 for e in roll if e.get("status") == "probationary"),
        convened=convened, excluded=excluded, excluded_list=excluded_list,
        base=int(results.get("base", 0)), base_kind=str(rules.get("base", "")),
        base_text_vi=base_vi, base_text_en=base_en,
        present=present, absent=max(convened - present, 0),
        quorum_required=str(quorum.get("required", "")),
        quorum_reference=int(quorum.get("reference", 0) or 0),
        quorum_met=bool(quorum.get("met")),
        quorum_text_vi=str((quorum.get("text") or {}).get("vi", "")),
        quorum_text_en=str((quorum.get("text") or {}).get("en", "")),
        electronic_voters=tokens,
        paper_voters=_int(p.get("voters")) if paper else None,
        paper_instead=set_aside,
        ballots=ballots, has_paper=paper is not None,
        levels=tuple(levels),
        rules=_rules_lines(rules, levels, base_vi, base_en) + _ballot_b_lines(manifest),
        unit_label_vi=unit_vi, unit_label_en=unit_en, units=tuple(rows),
        has_blank=any(r.blank for r in rows), summary=tuple(summary),
        quota=quota, quota_rule=bool(rules.get("quota")), second_round=tuple(second),
        base_hash=base_hash, fingerprint=fingerprint_blocks(base_hash),
        checks=checks, verified_ok=verified_ok, first_failure=first_failure,
        complaints=mt.get("complaints"),
        verification_lines=tuple(x for x in (
            mt.get("verification"), _close_line(record),
            (f"Vòng hai: {sr_counts['verification']}"
             if isinstance(sr_counts.get("verification"), str) else None)) if x),
    )


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

MINUTES_CSS = """\
@page {
  size: A4;
  margin: 15mm 14mm 16mm 18mm;
  @bottom-right { content: "Trang " counter(page) "/" counter(pages); font-size: 8pt; color: #444;
                  font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; }
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; color: #111; background: #fff;
  font: 10.5pt/1.4 "DejaVu Sans", "Noto Sans", "Segoe UI", Arial, sans-serif;
}
.sheet { width: 178mm; margin: 0 auto; }
@media screen {
  body { background: #e6e6e6; padding: 8mm 0; }
  .sheet { background: #fff; padding: 15mm 14mm 16mm 18mm; width: 210mm;
           box-shadow: 0 1px 6px rgba(0, 0, 0, .25); }
}
.en { color: #666; font-size: 7.5pt; font-weight: normal; font-style: normal;
      text-transform: none; margin-left: .35em; }
.muted { color: #555; }
.fill { display: inline-block; min-width: 60mm; border-bottom: 1px dotted #333; }
.fill.short { min-width: 30mm; }
.fill.wide { min-width: 120mm; }

/* Heading block: issuing body on the left, the Party's name and place/date on the right. */
.masthead { display: flex; justify-content: space-between; gap: 6mm; margin-bottom: 7mm; }
.masthead > div { text-align: center; }
.masthead .org { font-size: 10pt; font-weight: bold; text-transform: uppercase; }
.masthead .body { font-weight: bold; text-transform: uppercase; }
.masthead .star { font-weight: bold; }
.masthead .party { font-weight: bold; text-decoration: underline; text-underline-offset: 3px; }
.masthead .date { font-style: italic; margin-top: 2mm; }
h1 { text-align: center; font-size: 15pt; margin: 0; letter-spacing: .5px; }
.subtitle { text-align: center; font-weight: bold; margin: 1mm 0 0; }
.subtitle + .en, h1 + .en { display: block; text-align: center; margin-left: 0; }
.intro .fill { min-width: 35mm; }
.intro { margin: 5mm 0 2mm; }
h2 { font-size: 10.5pt; margin: 5mm 0 1.5mm; text-transform: uppercase; break-after: avoid; }
h2 .en { text-transform: none; margin-left: 2mm; }
p { margin: 1mm 0; }

table { border-collapse: collapse; width: 100%; }
.facts td { padding: .6mm 1.5mm; vertical-align: top; border-bottom: .3px solid #ddd; }
.facts td.num { text-align: right; font-weight: bold; white-space: nowrap; width: 22mm; }
.facts td.note { color: #444; font-size: 9pt; }
.grid th, .grid td { border: .5px solid #777; padding: .6mm 1.2mm; vertical-align: middle; }
.grid th { background: #eee; font-size: 8.5pt; }
.grid td.num { text-align: right; white-space: nowrap; }
.ballots td.num { width: 24mm; }
.ok { color: #1b5e20; font-weight: bold; }
.bad { color: #b3261e; font-weight: bold; }

/* The results table: compact, one row per unit. */
.results { font-size: 8pt; line-height: 1.25; }
.results thead { display: table-header-group; }
.results tr { break-inside: avoid; }
.results th { font-size: 7.5pt; padding: .5mm .6mm; }
.results td { padding: .4mm .8mm; }
.results td.no { text-align: right; width: 6mm; }
.results td.name { font-weight: bold; }
.results td.prop { text-align: center; font-size: 7pt; white-space: nowrap; width: 12mm; }
.results th.prop { white-space: nowrap; }
.results td.v { text-align: right; white-space: nowrap; width: 11mm; }
.results td.v b { display: block; font-size: 8.5pt; }
.results td.v small { display: block; color: #444; font-size: 6.8pt; }
.results td.v.win { background: #e8f0e0; }
.results td.chart { width: 25mm; padding: .4mm .6mm; }
.results td.res { width: 42mm; }
.results td.res .lv { font-weight: bold; font-size: 8.5pt; }
.results td.res .open { font-weight: bold; color: #b3261e; }
.results td.res .rule { display: block; color: #333; font-size: 6.8pt; }
.results td.res .flag { display: block; color: #b3261e; font-size: 6.8pt; }
.bars { display: block; width: 100%; height: auto; }
.legend { font-size: 7.5pt; color: #333; margin: 1mm 0 0; }
.legend .sw { display: inline-block; width: 3mm; height: 2mm; margin: 0 1mm 0 2.5mm;
              vertical-align: middle; }
ul.rules { margin: 0; padding-left: 5mm; }
.sum-title { margin-top: 3mm; }
.small { font-size: 8pt; }
.legend .tick { display: inline-block; width: 0; height: 3mm; border-left: 1.2px solid #111;
                margin: 0 1mm 0 2.5mm; vertical-align: middle; }
.summary { width: auto; min-width: 110mm; margin-top: 2mm; }

.quota td { font-size: 8.5pt; }
.tie { border: 1px solid #b3261e; padding: 1.5mm 2.5mm; margin: 1.5mm 0; }

.fp { font-family: "DejaVu Sans Mono", "Liberation Mono", Consolas, monospace; font-size: 12pt;
      font-weight: bold; letter-spacing: .5px; word-spacing: 2mm; text-align: center;
      border: 1px solid #333; padding: 2mm; margin: 1.5mm 0; }
.fp span { white-space: nowrap; }
.checks td { font-size: 8pt; padding: .3mm 1.2mm; border-bottom: .3px solid #ddd; }
.checks td.mark { width: 6mm; text-align: center; font-size: 10pt; }
.checks td.detail { color: #555; font-size: 7pt; }
.status { font-weight: bold; margin: 1.5mm 0; }
.lines .fill { display: block; min-width: 0; height: 7mm; }
.complaints { white-space: pre-wrap; }

.closing { margin-top: 4mm; }
.signatures { break-inside: avoid; margin-top: 5mm; }
.signatures .pair { display: flex; justify-content: space-between; }
.signatures .members { display: grid; grid-template-columns: repeat(3, 1fr); gap: 4mm 6mm;
                       margin-top: 6mm; }
.sig { text-align: center; min-height: 32mm; }
.sig .role { font-weight: bold; text-transform: uppercase; font-size: 9.5pt; }
.sig .hint { font-style: italic; font-size: 8pt; color: #444; }
.sig .name { margin-top: 18mm; font-weight: bold; }
.pair .sig { width: 45%; }
.members-title { text-align: center; font-weight: bold; text-transform: uppercase;
                 font-size: 9.5pt; margin-top: 4mm; }
footer { margin-top: 6mm; border-top: .5px solid #999; padding-top: 1mm; font-size: 7pt;
         color: #555; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fill(value: str | None, cls: str = "") -> str:
    if value:
        return f"<b>{_e(value)}</b>"
    return f'<span class="fill {cls}"></span>'


#: The language of the minutes being rendered: "vi" (the document, Vietnamese only, as a
#: biên bản kiểm phiếu) or "en" (a separate English version, for observers).
_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("minutes_lang", default="vi")
LANGS = ("vi", "en")


def L(vi: str, en: str) -> str:  # noqa: N802 (short on purpose: used on every label)
    """``vi`` in the Vietnamese minutes, ``en`` in the English version."""
    return en if _LANG.get() == "en" else vi


def _en(text: str) -> str:
    """Kept for callers of the former bilingual layout: no English gloss any more."""
    return ""


def check_detail_vi(key: str, ok: bool, record: Mapping[str, Any], report: Report) -> str:
    """The verifier's figures for one check, in Vietnamese (the verifier's own detail is
    English: it is shown in the English version)."""
    if not ok:
        return "KHÔNG ĐẠT — chạy lệnh ballot verify để xem chi tiết"
    f = report.figures
    m = record.get("manifest") or {}
    U = len(m.get("units") or [])
    B = len(record.get("board") or [])
    T = len(record.get("issuance_log") or [])
    S = len(record.get("paper_instead") or [])
    E = sum(1 for e in m.get("roll") or [] if e.get("status") == "official")
    tr = m.get("trustees") or {}
    n, k = len(tr.get("members") or []), int(tr.get("threshold") or 0)
    dec = sorted(d.get("trustee") for d in record.get("decryptions") or [])
    paper = record.get("paper") or None
    fig = record.get("figures") or {}
    return {
        "manifest": f"{U} dòng xếp loại, {len(m.get('levels') or [])} mức, "
                    f"{len(m.get('roll') or [])} người trong danh sách",
        "manifest_binding": "bộ khóa được tạo cho đúng thông tin cuộc bỏ phiếu này",
        "ceremony": f"{n} ủy viên, cần {k}; {n * k} chứng minh đã kiểm tra",
        "base_hash": "khớp với mã tính lại",
        "issuance": f"{T} thẻ đã cấp cho {E} đảng viên có quyền bỏ phiếu",
        "board": f"{B} mục",
        "board_count": f"{B} phiếu, {T} thẻ đã cấp",
        "paper_instead": f"{S} đảng viên đã nhận thẻ nhưng bỏ phiếu giấy",
        "excess": f"{B} phiếu, {T - S} thẻ còn hiệu lực",
        "ballots": f"{B} phiếu: {B} chữ ký thẻ, {B} chữ ký phiếu, {B * U} chứng minh đã "
                   "kiểm tra",
        "limits": f"{f.get('limit_proofs', 0)} chứng minh giới hạn đã kiểm tra",
        "tokens_unique": f"{B} thẻ khác nhau",
        "chain": f"{B} mục, chuỗi băm liền mạch",
        "aggregate": f"tổng của {U} dòng tính lại từ {B} phiếu",
        "decryption": f"ủy viên {', '.join(map(str, dec))}: {len(dec) * U} chứng minh giải mã",
        "electronic_counts": f"{U} dòng giải mã khớp, mỗi dòng {B} phiếu",
        "counts": (f"{B} phiếu điện tử + {paper.get('ballots_valid', 0)} phiếu giấy mỗi dòng"
                   if paper else f"{B} phiếu điện tử, không có phiếu giấy"),
        "figures": f"hợp lệ {fig.get('ballots_valid')}, không hợp lệ "
                   f"{fig.get('ballots_invalid')}, phát ra {fig.get('ballots_issued')}, có mặt "
                   f"{fig.get('present')}",
        "results": f"{U} kết quả tính lại theo quy tắc",
    }.get(key, "đạt")


def _bars_svg(row: UnitRow, levels: Sequence[LevelView]) -> str:
    """One thin bar per level (and abstain), its length the share of N; a tick at the level's
    threshold."""
    w, bh, gap = 100.0, 3.2, 1.0
    items = [(lv.colour, c.share, lv.threshold, f"{lv.short} {c.votes}")
             for lv, c in zip(levels, row.cells)]
    items.append((ABSTAIN_COLOUR, row.abstain_share, None, f"không chọn {row.abstain}"))
    h = len(items) * (bh + gap) - gap
    parts = [f'<svg class="bars" viewBox="0 0 {w:g} {h:g}" xmlns="http://www.w3.org/2000/svg" '
             f'role="img" aria-label="{_e(", ".join(t for *_, t in items))}">']
    for i, (colour, share, thr, _) in enumerate(items):
        y = i * (bh + gap)
        parts.append(f'<rect x="0" y="{y:g}" width="{w:g}" height="{bh:g}" fill="#eeeeee"/>')
        if share:
            parts.append(f'<rect x="0" y="{y:g}" width="{float(min(share, 1)) * w:.2f}" '
                         f'height="{bh:g}" fill="{colour}"/>')
        if thr is not None:
            x = float(thr) * w
            parts.append(f'<line x1="{x:.2f}" y1="{y - .4:g}" x2="{x:.2f}" y2="{y + bh + .4:g}" '
                         'stroke="#111" stroke-width="0.7"/>')
    parts.append("</svg>")
    return "".join(parts)


def _swatch(colour: str) -> str:
    """A legend swatch as inline SVG (a ``style`` attribute would need 'unsafe-inline')."""
    return (f'<svg class="sw" viewBox="0 0 12 8" xmlns="http://www.w3.org/2000/svg" '
            f'aria-hidden="true"><rect width="12" height="8" fill="{_e(colour)}"/></svg>')


_BLANK = '<span class="fill short"></span>'


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def render_minutes_html(record: Mapping[str, Any], report: Report | None = None, *,
                        meeting: Mapping[str, Any] | None = None,
                        css_href: str | None = None, lang: str = "vi") -> str:
    """The minutes as one printable HTML page. Every string from the record or ``meeting`` is
    escaped. With ``css_href`` the page links that stylesheet (serve :data:`MINUTES_CSS` there);
    otherwise the CSS is inlined. ``lang``: "vi" (the minutes, Vietnamese only) or "en" (a
    separate English version)."""
    if lang not in LANGS:
        raise ValueError(f"lang: one of {LANGS}")
    token = _LANG.set(lang)
    try:
        return _render_html(record, report, meeting, css_href)
    finally:
        _LANG.reset(token)


def _render_html(record: Mapping[str, Any], report: Report | None,
                 meeting: Mapping[str, Any] | None, css_href: str | None) -> str:
    d = minutes_data(record, report, meeting=meeting)
    en = _LANG.get() == "en"
    out: list[str] = []
    w = out.append
    style = (f'<link rel="stylesheet" href="{_e(css_href)}">' if css_href
             else f"<style>\n{MINUTES_CSS}</style>")
    w("<!DOCTYPE html>")
    w(f'<html lang="{_LANG.get()}"><head><meta charset="utf-8">')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">')
    w(f"<title>{L('Biên bản kiểm phiếu', 'Minutes of the vote count')} — "
      f"{_e(d.organisation)} — {_e(d.title)}</title>")
    w(style)
    w('</head><body><main class="sheet">')

    # Masthead.
    place_date = f"{_e(d.locality) if d.locality else '…………'}, {_e(L(d.date_vi, d.date_iso))}"
    w('<div class="masthead"><div>')
    w(f'<div class="org">{_e(d.organisation)}</div>')
    w(f'<div class="body">{L("Ban kiểm phiếu", "Vote-counting committee")}</div>'
      '<div class="star">*</div></div>')
    w(f'<div><div class="party">{L("ĐẢNG CỘNG SẢN VIỆT NAM", "COMMUNIST PARTY OF VIET NAM")}'
      '</div>')
    w(f'<div class="date">{place_date}</div></div></div>')

    w(f"<h1>{L('BIÊN BẢN KIỂM PHIẾU', 'MINUTES OF THE VOTE COUNT')}</h1>")
    w(f'<p class="subtitle">{_e(d.title)}</p>')
    if en:
        w(f'<p class="intro">On {_e(d.date_iso)}, at {_fill(d.started, "short")}, in '
          f"{_fill(d.place)}, {_e(d.organisation)} held a secret ballot and counted the votes: "
          f"{_e(d.title)}. (English version: the minutes of record are the Vietnamese ones.)</p>")
    else:
        w('<p class="intro">Hôm nay, '
          f"{_e(d.date_vi)}, hồi {_fill(d.started, 'short')}, tại {_fill(d.place)}, "
          f"{_e(d.organisation)} tiến hành bỏ phiếu kín và kiểm phiếu "
          f"{_e(d.title[:1].lower() + d.title[1:]) if d.title else ''}.</p>")

    # I. Composition.
    w(f'<h2>I. {L("Thành phần", "Composition")}</h2>')
    w('<table class="facts">')
    w(f"<tr><td>{L('Chủ trì hội nghị', 'Chair')}</td><td>{_fill(d.chair)}</td></tr>")
    w(f"<tr><td>{L('Thư ký hội nghị', 'Secretary')}</td><td>{_fill(d.secretary)}</td></tr>")
    w(f"<tr><td>{L('Ban kiểm phiếu', 'Vote-counting committee (trustees)')}</td><td>")
    if d.committee:
        items = []
        for i, name, dec in d.committee:
            note = L(" (đã tham gia giải mã)", " (took part in the decryption)") if dec else ""
            items.append(f"{i}. <b>{_e(name)}</b> — {L('giữ khóa số', 'holds key')} {i}"
                         f'<span class="muted">{note}</span>')
        w("<br>".join(items))
        w('<br><span class="muted">' + L(
            f"Cần {d.trustee_threshold} trong {len(d.committee)} ủy viên để giải mã tổng số "
            "phiếu; không ai giải mã được từng phiếu.",
            f"{d.trustee_threshold} of the {len(d.committee)} members are needed to decrypt "
            "the totals; nobody can decrypt a single ballot.") + "</span>")
    else:
        w(_fill(None, "wide"))
    w("</td></tr></table>")

    # II. Attendance.
    w(f'<h2>II. {L("Số lượng đảng viên", "Attendance, base N, quorum")}</h2>')
    w('<table class="facts">')

    def fact(label: str, en: str, value: Any, note: str = "") -> None:
        w(f"<tr><td>{L(label, en)}</td><td class=\"num\">{_e(value)}</td>"
          f'<td class="note">{note}</td></tr>')

    fact("Tổng số đảng viên trong danh sách", "On the roll", d.on_roll,
         L(f"trong đó {d.probationary} đảng viên dự bị (không biểu quyết)",
           f"of whom {d.probationary} probationary (no vote)") if d.probationary else "")
    fact("Số đảng viên chính thức được triệu tập", "Official members convened", d.convened)
    excl_note = "; ".join(f"{_e(n)} ({_e(r)})" for n, r in d.excluded_list)
    fact("Số đảng viên được trừ", "Excluded from N", d.excluded, excl_note)
    fact("Số làm căn cứ tính tỷ lệ N", "Base N", d.base, _e(L(d.base_text_vi, d.base_text_en)))
    fact("Số đảng viên có mặt", "Present", d.present,
         L(f"bỏ phiếu điện tử {d.electronic_voters}", f"{d.electronic_voters} electronically") +
         (L(f", bỏ phiếu giấy {d.paper_voters}", f", {d.paper_voters} on paper")
          if d.paper_voters is not None else ""))
    if d.paper_instead:
        fact("Số đảng viên đã nhận thẻ điện tử nhưng bỏ phiếu giấy",
             "Token issued, voted on paper", d.paper_instead, L(
                 "thẻ điện tử của các đồng chí này đã bị gác lại; nếu thẻ được dùng thì số "
                 "phiếu điện tử vượt số thẻ còn hiệu lực",
                 "their tokens are set aside; a ballot cast with one would be an excess"))
    fact("Số đảng viên vắng mặt", "Absent", d.absent,
         L(f"kể cả {d.excluded} đảng viên được trừ", f"including the {d.excluded} excluded")
         if d.excluded else "")
    quorum_cls = "ok" if d.quorum_met else "bad"
    fact("Số lượng có mặt", "Quorum", f"{d.present}/{d.quorum_reference}",
         f'<span class="{quorum_cls}">{_e(L(d.quorum_text_vi, d.quorum_text_en))}</span>')
    w("</table>")

    # III. Ballots.
    w(f'<h2>III. {L("Số phiếu", "Ballots")}</h2>')
    w('<table class="grid ballots"><thead><tr><th></th>'
      f"<th>{L('Điện tử', 'Electronic')}</th>")
    if d.has_paper:
        w(f"<th>{L('Giấy', 'Paper')}</th>")
    w(f"<th>{L('Tổng cộng', 'Total')}</th></tr></thead><tbody>")
    for label, label_en, elec, paper, tot in d.ballots:
        w(f"<tr><td>{L(label, label_en)}</td><td class=\"num\">{_count(elec)}</td>")
        if d.has_paper:
            w(f'<td class="num">{_count(paper)}</td>')
        w(f'<td class="num"><b>{_count(tot)}</b></td></tr>')
    w("</tbody></table>")
    if not d.has_paper:
        w(f'<p class="muted">{L("Không có phiếu giấy.", "No paper ballots.")}</p>')

    # IV. Rules.
    w(f'<h2>IV. {L("Nguyên tắc xác định kết quả", "Counting rules")}</h2>')
    w('<ul class="rules">')
    for vi, rule_en in d.rules:
        w(f"<li>{_e(L(vi, rule_en))}</li>")
    w("</ul>")

    # V. Results.
    w(f'<h2>V. {L("Kết quả kiểm phiếu", "Votes per unit, % of N")}</h2>')
    w('<table class="grid results"><thead><tr>')
    w(f'<th>{L("TT", "No.")}</th><th>{_e(L(d.unit_label_vi, d.unit_label_en))}</th>'
      f'<th class="prop">{L("Tự XL<br>Đề xuất", "Self<br>Proposed")}</th>')
    for lv in d.levels:
        w(f'<th title="{_e(lv.name_vi)}">{_e(lv.short)}</th>')
    w(f"<th>{L('Không chọn', 'Abstain')}</th>")
    if d.has_blank:
        w(f"<th>{L('Bỏ trống', 'Blank')}</th>")
    w(f"<th>{L('Biểu đồ', 'Chart')}</th><th>{L('Kết quả — căn cứ', 'Result — rule')}</th>"
      "</tr></thead><tbody>")
    for r in d.units:
        w(f'<tr><td class="no">{r.no}</td><td class="name">{_e(r.name)}</td>')
        w(f'<td class="prop">{_e(r.self_level or "—")}<br>{_e(r.proposed_level or "—")}</td>')
        for c in r.cells:
            cls = "v win" if c.winner else "v"
            w(f'<td class="{cls}"><b>{c.votes}</b><small>{_e(c.percent)}</small></td>')
        w(f'<td class="v"><b>{r.abstain}</b><small>{_e(vn_percent(r.abstain_share))}</small></td>')
        if d.has_blank:
            w(f'<td class="v"><b>{r.blank}</b></td>')
        w(f'<td class="chart">{_bars_svg(r, d.levels)}</td>')
        outcome = L(r.outcome_short_vi, r.outcome_en)
        head = (f'<span class="lv">{_e(r.level)}</span> · {_e(outcome)}' if r.level
                else f'<span class="open">{_e(outcome)}</span>')
        w(f'<td class="res">{head}'
          f'<span class="rule">{_e(L(r.rule_vi, r.rule_en))}</span>')
        for f in r.flags:
            w(f'<span class="flag">⚠ {_e(f)}</span>')
        w("</td></tr>")
    w("</tbody></table>")
    w('<p class="legend">')
    for lv in d.levels:
        w(f"{_swatch(lv.colour)}{_e(lv.short)}: {_e(L(lv.name_vi, lv.name_en))}")
    w(f"{_swatch(ABSTAIN_COLOUR)}" + L(
        "Không chọn: không xếp loại"
        '<span class="tick"></span>ngưỡng của mức. '
        "Số dưới mỗi ô: phần trăm của N; ô tô nền: mức theo số phiếu. Tự XL: tự xếp loại.",
        "Abstain: no level"
        '<span class="tick"></span>the level\'s threshold. '
        "Below each count: its share of N; shaded: the level the votes gave."))
    if d.has_blank:
        w(L(" Bỏ trống: dòng để trống hoặc đánh hai ô.", " Blank: a row left empty or marked twice."))
    w("</p>")

    w(f'<p class="sum-title"><b>{L("Tổng hợp", "Summary")}</b></p>')
    w('<table class="grid summary"><tbody>')
    total_units = len(d.units)
    for vi, sum_en, n in d.summary:
        share = vn_percent(Fraction(n, total_units)) if total_units else "—"
        w(f'<tr><td>{_e(L(vi, sum_en))}</td><td class="num"><b>{n}</b></td>'
          f'<td class="num">{share}</td></tr>')
    w(f'<tr><td><b>{L("Cộng", "Total")}</b></td><td class="num"><b>{total_units}</b></td>'
      "<td></td></tr>")
    w("</tbody></table>")

    # VI. Quota.
    section = 6
    roman = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI"]
    if d.quota or d.quota_rule:
        w(f'<h2>{roman[section]}. '
          f'{L("Tỷ lệ hoàn thành xuất sắc nhiệm vụ", "Excellent quota per group")}</h2>')
        section += 1
        if not d.quota:
            w(f"<p>{L('Không có nhóm nào có đề nghị mức cao nhất.', 'No group has a proposal at the top level.')}</p>")
        else:
            heads = (L("Nhóm", "Group"), L("Tỷ lệ", "Ratio"), "n", L("Tối đa X", "At most X"),
                     L("Ứng viên", "Candidates"), L("Giữ", "Kept"), L("Chuyển xuống", "Moved down"),
                     L("Bằng phiếu", "Tied"))
            w('<table class="grid quota"><thead><tr>' + "".join(f"<th>{h}</th>" for h in heads)
              + "</tr></thead><tbody>")
            for q in d.quota:
                w(f"<tr><td>{_e(q.group)}</td><td class=\"num\">{_e(q.ratio or '—')}</td>"
                  f'<td class="num">{q.n}</td><td class="num">{_count(q.x_max)}</td>'
                  f'<td class="num">{len(q.candidates)}</td><td class="num">{len(q.kept)}</td>'
                  f'<td class="num">{len(q.cut)}</td><td class="num">{len(q.tied)}</td></tr>')
                detail = [_e(L(q.text_vi, q.text_en))]
                if q.cut:
                    detail.append(L("Chuyển xuống mức liền dưới: ", "Moved to the level below: ")
                                  + ", ".join(map(_e, q.cut)))
                if q.second_round:
                    detail.append(L("Các ứng viên được đưa vào vòng hai.",
                                    "The candidates go to a second round."))
                w(f'<tr><td colspan="8">{"<br>".join(detail)}</td></tr>')
            w("</tbody></table>")
            for q in d.quota:
                if q.tied:
                    w(f'<div class="tie"><b>'
                      f'{L("Đề nghị cấp có thẩm quyền quyết định", "For the deciding body")}</b> '
                      f'({L("nhóm", "group")} {_e(q.group)}): '
                      f'{L("bằng phiếu tại ngưỡng tỷ lệ", "tie at the quota cut")} — '
                      f"{', '.join(map(_e, q.tied))}.</div>")

    if d.second_round:
        w(f'<h2>{roman[section]}. {L("Bỏ phiếu vòng hai", "Second round: agree / disagree")}'
          "</h2>")
        section += 1
        for b in d.second_round:
            w("<p>" + L(f"Nhóm {_e(b.group)}: chọn tối đa <b>{b.k}</b> trong {len(b.rows)} ứng "
                        "viên (mỗi ứng viên: đồng ý / không đồng ý).",
                        f"Group {_e(b.group)}: at most <b>{b.k}</b> of {len(b.rows)} candidates "
                        "(each: agree / disagree).") + "</p>")
            heads = (L("TT", "No."), L("Họ và tên", "Name"), L("Đồng ý", "Agree"),
                     L("Không đồng ý", "Disagree"), L("Kết quả", "Result"))
            w('<table class="grid"><thead><tr>' + "".join(f"<th>{h}</th>" for h in heads)
              + "</tr></thead><tbody>")
            for i, row in enumerate(b.rows, 1):
                agree = str(row.agree) if row.agree is not None else _BLANK
                dis = str(row.disagree) if row.disagree is not None else _BLANK
                w(f'<tr><td class="num">{i}</td><td>{_e(row.name)}</td><td class="num">{agree}'
                  f'</td><td class="num">{dis}</td><td>{_e(row.status)}</td></tr>')
            w("</tbody></table>")
            if b.text_vi:
                w(f"<p>{_e(b.text_vi)}</p>")

    # Fingerprint and verification.
    w(f'<h2>{roman[section]}. '
      f'{L("Mã nhận diện và kiểm tra hồ sơ", "Election fingerprint, verification of the record")}'
      "</h2>")
    section += 1
    w(f'<p>{L("Mã nhận diện cuộc bỏ phiếu (đọc theo từng nhóm 4 ký tự)", "Election fingerprint (read in groups of 4)")}:</p>')
    half = (len(d.fingerprint) + 1) // 2
    blocks = "<br>".join(" ".join(f"<span>{_e(b)}</span>" for b in part)
                         for part in (d.fingerprint[:half], d.fingerprint[half:]) if part)
    w(f'<div class="fp">{blocks}</div>')
    if d.checks is None:
        w(f'<p class="status">{L("Kiểm tra hồ sơ", "Verification of the record")}: '
          f'<span class="bad">{L("chưa kiểm tra", "not verified")}</span></p>')
    else:
        if d.verified_ok:
            w('<p class="status ok">✓ ' + L("Hồ sơ hợp lệ: mọi bước kiểm tra đều đạt.",
                                            "The record verifies: every check passed.") + "</p>")
        else:
            first = _e(d.first_failure)
            w('<p class="status bad">✗ ' + L(f"Hồ sơ KHÔNG hợp lệ: bước «{first}» không đạt.",
                                             f"The record does NOT verify: «{first}» failed.")
              + "</p>")
        w('<table class="checks"><tbody>')
        for c in d.checks:
            mark = '<span class="ok">✓</span>' if c.ok else '<span class="bad">✗</span>'
            w(f'<tr><td class="mark">{mark}</td><td class="title">'
              f"{_e(L(c.title_vi, c.title_en))}</td>"
              f'<td class="detail">{_e(L(c.detail_vi, c.detail))}</td></tr>')
        w("</tbody></table>")
    for line in d.verification_lines:
        w(f'<p class="small verification">{_e(line)}</p>')
    w('<p class="muted small">' + L(
        "Bất kỳ ai có hồ sơ bầu cử đều có thể tự kiểm tra lại bằng lệnh <code>ballot verify"
        "</code>; mỗi đảng viên kiểm tra phiếu của mình bằng mã trên biên nhận.",
        "Anyone with the election record can check it again with <code>ballot verify</code>; "
        "each member checks their own ballot with the code on their receipt.") + "</p>")
    vfp = (meeting or {}).get("verifier_fingerprint")
    if isinstance(vfp, str) and re.fullmatch(r"[0-9a-f]{64}", vfp):
        # The observers' verifier page (ballot/web/verifier.py): a saved copy is checked
        # against this SHA-256 (docs/web.md, "Observers").
        w('<p class="muted small">' + L(
            "Trang kiểm tra hồ sơ trên trình duyệt (<code>/verify</code>, "
            "<code>ballot verify --export-page</code>), dấu vân tay SHA-256",
            "Browser verifier page (<code>/verify</code>, <code>ballot verify --export-page"
            "</code>), SHA-256 fingerprint") + ": "
          f'<code>{_e(" ".join(vfp[i:i + 8] for i in range(0, 64, 8)))}</code></p>')
    rfp = (meeting or {}).get("release_fingerprint")
    if isinstance(rfp, str) and re.fullmatch(r"[0-9a-f]{64}", rfp):
        # The files served to phones and trustees (ballot monitor --print-hashes).
        w('<p class="muted small">' + L(
            "Mã các tệp phục vụ điện thoại và ban kiểm phiếu (<code>ballot monitor "
            "--print-hashes</code>)",
            "Release fingerprint of the files served to phones and trustees (<code>ballot "
            "monitor --print-hashes</code>)") + ": "
          f'<code>{_e(" ".join(rfp[i:i + 8] for i in range(0, 64, 8)))}</code></p>')

    # Complaints.
    w(f'<h2>{roman[section]}. {L("Khiếu nại, kiến nghị", "Complaints")}</h2>')
    if d.complaints:
        w(f'<p class="complaints">{_e(d.complaints)}</p>')
    else:
        w('<div class="lines"><span class="fill"></span><span class="fill"></span>'
          '<span class="fill"></span></div>')

    w('<p class="closing">' + L(
        f"Biên bản kết thúc hồi {_fill(d.ended, 'short')} cùng ngày, đã đọc lại cho hội nghị "
        "nghe và được nhất trí thông qua.",
        f"The minutes were closed at {_fill(d.ended, 'short')} the same day, read out to the "
        "meeting and approved.") + "</p>")

    # Signatures.
    sign = L("(Ký, ghi rõ họ tên)", "(signature, full name)")
    w('<div class="signatures"><div class="pair">')
    for role, name in ((L("Thư ký", "Secretary"), d.secretary),
                       (L("Chủ trì hội nghị", "Chair"), d.chair)):
        w(f'<div class="sig"><div class="role">{role}</div>'
          f'<div class="hint">{sign}</div>'
          f'<div class="name">{_e(name) if name else _BLANK}</div></div>')
    w("</div>")
    w(f'<div class="members-title">{L("Các thành viên ban kiểm phiếu", "Members of the vote-counting committee")}'
      '</div><div class="members">')
    members = d.committee or tuple((i, "", False) for i in (1, 2, 3))
    for i, name, _ in members:
        w(f'<div class="sig"><div class="role">{L("Ủy viên", "Member")} {i}</div>'
          f'<div class="hint">{sign}</div>'
          f'<div class="name">{_e(name) if name else _BLANK}</div></div>')
    w("</div></div>")

    fp_short = " ".join(d.fingerprint[:4])
    w(f"<footer>{L('Biên bản kiểm phiếu', 'Minutes of the vote count')} — {_e(d.organisation)}"
      f" — {_e(L(d.date_vi, d.date_iso))} · {L('mã nhận diện', 'fingerprint')} "
      f"{_e(fp_short)} … · {L('lập từ hồ sơ bầu cử (ballot)', 'made from the election record (ballot)')}"
      "</footer>")
    w("</main></body></html>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

def _slug(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:60].rstrip("-")


def minutes_filename(record: Mapping[str, Any], name: str | None = None) -> str:
    """The file stem: ``name`` (e.g. the meeting's slug) or the title in ASCII, + ``-minutes``."""
    stem = _slug(name) if name else ""
    if not stem:
        m = record.get("manifest") or {}
        stem = _slug(str(m.get("title", ""))) or _slug(str(m.get("organisation", ""))) or "ballot"
    return f"{stem}-minutes"


def render_minutes_pdf(record: Mapping[str, Any], report: Report | None = None, *,
                       meeting: Mapping[str, Any] | None = None) -> bytes:
    """The minutes as an A4 PDF, in Vietnamese (see :mod:`ballot.tally.minutes_pdf`)."""
    from .minutes_pdf import render_minutes_pdf as render

    return render(record, report, meeting=meeting)


def write_minutes(record: Mapping[str, Any], report: Report | None, out_dir: str | Path, *,
                  meeting: Mapping[str, Any] | None = None,
                  name: str | None = None, lang: str = "vi") -> tuple[Path, Path | None]:
    """Write ``<name-or-title>-minutes.html`` and ``…-minutes.pdf`` into ``out_dir``; the
    English version (``lang="en"``) is ``…-minutes-en.html`` only (the PDF is the minutes of
    record, in Vietnamese): its PDF path is None."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = minutes_filename(record, name) + ("-en" if lang == "en" else "")
    html_path, pdf_path = out / f"{stem}.html", out / f"{stem}.pdf"
    page = render_minutes_html(record, report, meeting=meeting, lang=lang)
    files = [(html_path, page.encode("utf-8"))]
    if lang == "en":
        pdf_path = None
    else:
        files.append((pdf_path, render_minutes_pdf(record, report, meeting=meeting)))
    for path, data in files:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return html_path, pdf_path
