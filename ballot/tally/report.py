"""Plain-text views of a record and of a verification: the results table and the checklist."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

from ballot.election.text import percent

from .verify import Report

__all__ = ["results_table", "checklist"]


def _frac(text: str | None) -> Fraction | None:
    return Fraction(text) if text is not None else None


def locale_lang() -> str:
    """"vi" under a Vietnamese locale (LC_ALL, LC_MESSAGES or LANG = vi_…), else "en"."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "vi" if value.lower().startswith("vi") else "en"
    return "en"


def results_table(record: dict[str, Any], *, limit: int | None = None,
                  lang: str | None = None) -> str:
    """Units with votes per level (and % of N), the result and the rule that produced it; in
    Vietnamese under a Vietnamese locale (or ``lang="vi"``), in English otherwise."""
    from ballot.election.table import OUTCOME_TEXT

    vi = (lang or locale_lang()) == "vi"

    def tr(v: str, e: str) -> str:
        return v if vi else e

    manifest = record["manifest"]
    codes = [lv["code"] for lv in manifest["levels"]]
    names = {u["unit_id"]: u["name"] for u in manifest["units"]}
    results = record["results"]
    rows = results["units"][:limit] if limit else results["units"]
    name_w = max([len(names[r["unit_id"]]) for r in rows] + [8])
    head = f"{'#':>3}  {tr('Đơn vị', 'Unit'):<{name_w}}  " + "  ".join(f"{c:>13}" for c in codes) \
        + f"  {tr('Không chọn', 'Abstain'):>10}  {tr('Kết quả', 'Result')}"
    lines = [f"N = {results['base']} ({results['base_text']['vi' if vi else 'en']})", head,
             "─" * len(head)]
    for i, r in enumerate(rows, 1):
        votes = r["counts"]["votes"]
        cells = "  ".join(f"{votes.get(c, 0):>4} ({percent(_frac(r['shares'].get(c))):>6})"
                          for c in codes)
        level = r["level"] or "—"
        outcome = OUTCOME_TEXT.get(r["outcome"], (r["outcome"], r["outcome"]))[0 if vi else 1]
        lines.append(f"{i:>3}  {names[r['unit_id']]:<{name_w}}  {cells}  "
                     f"{r['counts']['abstain']:>10}  {level} · {outcome}")
    if limit and len(results["units"]) > limit:
        more = len(results["units"]) - limit
        lines.append(tr(f"… còn {more} đơn vị trong hồ sơ", f"… {more} more units in the record"))
    summary: dict[str, int] = {}
    for r in results["units"]:
        key = r["level"] or OUTCOME_TEXT.get(r["outcome"], (r["outcome"],) * 2)[0 if vi else 1]
        summary[key] = summary.get(key, 0) + 1
    lines.append(tr("Tổng hợp: ", "Summary: ") + ", ".join(f"{k}: {v}" for k, v in summary.items()))
    for g in results.get("quota", []):
        lines.append(tr(f"Tỷ lệ ({g['group'] or 'chung'}): n = {g['n']}, tối đa X = {g['x_max']}; "
                        f"giữ {len(g['kept'])}, chuyển xuống {len(g['cut'])}, bằng phiếu "
                        f"{len(g['tied'])} — {g['text']['vi']}",
                        f"Quota ({g['group'] or 'all'}): n = {g['n']}, X_max = {g['x_max']}; "
                        f"kept {len(g['kept'])}, cut {len(g['cut'])}, tied {len(g['tied'])} — "
                        f"{g['text']['en']}"))
    return "\n".join(lines)


def checklist(report: Report) -> str:
    lines = ["Kiểm tra hồ sơ bầu cử / Verification of the election record:"]
    for c in report.checks:
        lines.append(f"  [{'✓' if c.ok else '✗'}] {c.title}: {c.detail}")
    if report.ok:
        lines.append("KẾT QUẢ: HỢP LỆ — every check passed.")
    else:
        failure = report.first_failure
        lines.append(f"KẾT QUẢ: KHÔNG HỢP LỆ — first failing check: "
                     f"{failure.title if failure else 'none run'}")
    return "\n".join(lines)


def results_csv(results: dict[str, Any]) -> str:
    """Units × (votes and % of N per level, abstain, result, rule), UTF-8 with a BOM and ';'
    so that Excel opens Vietnamese names correctly."""
    import csv
    import io

    manifest = results["manifest"]
    codes = [lv["code"] for lv in manifest["levels"]]
    names = {u["unit_id"]: u["name"] for u in manifest["units"]}
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    from .csv_safe import csv_row

    w.writerow(csv_row(["stt", "unit_id", "ho_ten"] + [x for c in codes for x in (c, f"{c}_%N")]
                       + ["bo_qua", "ket_qua", "tinh_trang", "quy_tac"]))
    for i, r in enumerate(results["results"]["units"], 1):
        votes = r["counts"]["votes"]
        cells = []
        for c in codes:
            cells += [votes.get(c, 0), percent(_frac(r["shares"].get(c)))]
        w.writerow(csv_row([i, r["unit_id"], names[r["unit_id"]]] + cells +
                           [r["counts"]["abstain"], r["level"] or "", r["outcome"], r["rule"]["vi"]]))
    return "\ufeff" + out.getvalue()
