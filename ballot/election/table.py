"""A readable text report of a count (Vietnamese first): figures, a box table, the rules used."""

from __future__ import annotations

import unicodedata
from typing import Sequence

from ._fields import format_fraction
from .results import CountResult
from .text import percent
from .units import Unit

__all__ = ["format_result", "OUTCOME_TEXT"]

OUTCOME_TEXT = {
    "passed": ("đạt", "passed"),
    "no_majority": ("không đủ đa số", "no majority"),
    "quorum_failed": ("không đủ số lượng", "quorum failed"),
    "cut_by_quota": ("giảm do tỷ lệ", "cut by quota"),
    "quota_tie": ("bằng phiếu tại ngưỡng tỷ lệ", "tie at the quota cut"),
    "second_round": ("chờ vòng hai", "second round"),
    "selected": ("được chọn", "selected"),
    "not_selected": ("không được chọn", "not selected"),
    "second_round_tie": ("bằng phiếu vòng hai", "tied in the second round"),
}


def width(text: str) -> int:
    """Display width: combining marks take no column, wide characters two."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF"
               else 1 for c in text)


def _pad(text: str, n: int, right: bool = False) -> str:
    fill = " " * (n - width(text))
    return fill + text if right else text + fill


def _box(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(width(r[i]) for r in [header] + rows) for i in range(len(header))]

    def line(l: str, m: str, r: str) -> str:
        return l + m.join("─" * (w + 2) for w in widths) + r

    def row(cells: list[str]) -> str:
        return "│" + "│".join(" " + _pad(c, widths[i], i in right) + " "
                              for i, c in enumerate(cells)) + "│"

    return ([line("┌", "┬", "┐"), row(header), line("├", "┼", "┤")] + [row(r) for r in rows]
            + [line("└", "┴", "┘")])


def _yes(flag: bool) -> str:
    return "có / on" if flag else "không / off"


def format_result(result: CountResult, units: Sequence[Unit], title: str | None = None) -> str:
    f, rules, levels = result.figures, result.rules, result.levels
    names = {u.unit_id: u.name for u in units}
    out = [f"KẾT QUẢ KIỂM PHIẾU / COUNT RESULT" + (f" — {title}" if title else ""), ""]
    out.append("Mức xếp loại / levels:")
    out += [f"  {lv.code:<8} {lv.name_vi} ({lv.name_en})" for lv in levels]
    out.append("")
    out.append(f"Triệu tập / convened {f.convened} · được trừ / excluded {f.excluded} · "
               f"có mặt / present {f.present} · vắng / absent {f.absent}")
    issued = "—" if f.ballots_issued is None else str(f.ballots_issued)
    out.append(f"Phiếu / ballots: phát ra / issued {issued} · thu về / returned {f.returned} · "
               f"hợp lệ / valid {f.ballots_valid} · không hợp lệ / invalid {f.ballots_invalid}")
    out.append(f"N = {result.base} ({result.base_text.vi} / {result.base_text.en})")
    out.append(f"{result.quorum.text.vi} / {result.quorum.text.en}")
    thresholds = ", ".join(f"{lv.code} {rules.threshold_for(lv.code).describe()}" for lv in levels)
    out.append(f"Ngưỡng / thresholds: {thresholds}")
    out.append(f"Cộng dồn / cumulative fallback: {_yes(rules.cumulative)} · "
               f"không xếp loại / abstain: {_yes(rules.abstain_allowed)}")
    if rules.quota is not None:
        q = rules.quota
        if q.base == "against_and_above":
            out.append(f"Tỷ lệ / quota: {q.top} ≤ {format_fraction(q.ratio)} × ({q.against} "
                       f"trở lên / or better) (X_max = ⌊r·n⌋, theo nhóm / per group)")
        else:
            out.append(f"Tỷ lệ / quota: {q.top} ≤ {format_fraction(q.ratio)} × {q.against} "
                       f"(X_max = ⌊r·n/(1+r)⌋, theo nhóm / per group)")
    else:
        out.append("Tỷ lệ / quota: không áp dụng / none")
    out.append("")

    header = ["#", "Mã", "Họ tên / Đơn vị"] + [lv.short for lv in levels] + [
        "Không chọn", "Bỏ trống", "Kết quả", "Ghi chú"]
    rows = []
    for i, r in enumerate(result.units, 1):
        cells = [str(i), r.unit_id, names.get(r.unit_id, "")]
        cells += [f"{r.counts.vote(lv.code)} ({percent(r.share(lv.code))})" for lv in levels]
        vi, en = OUTCOME_TEXT[r.outcome]
        cells += [str(r.counts.abstain), str(r.counts.blank), r.level or "—", vi]
        rows.append(cells)
    n_levels = len(levels)
    out += _box(header, rows, {0} | set(range(3, 5 + n_levels)))
    out.append("%: phần trăm của N (percent of N) · Không chọn: không xếp loại (abstain) · "
               "Bỏ trống: dòng để trống hoặc đánh hai ô (row left empty or marked twice)")
    seen = []
    for r in result.units:
        if r.outcome not in seen:
            seen.append(r.outcome)
    out.append("Ghi chú / outcome: " + " · ".join(
        f"{OUTCOME_TEXT[o][0]} = {OUTCOME_TEXT[o][1]}" for o in seen))
    out.append("")

    out.append("Căn cứ / rules applied:")
    for i, r in enumerate(result.units, 1):
        level = f"{r.level} — {levels[r.level].name_vi}" if r.level else "—"
        out.append(f"{i:>3}. {r.unit_id} {names.get(r.unit_id, '')}: {level}")
        out.append(f"     {r.rule.vi}")
        out.append(f"     {r.rule.en}")
        for flag in r.flags:
            out.append(f"     ⚠ {flag.text.vi} / {flag.text.en}")
    if result.quota:
        out.append("")
        out.append("Tỷ lệ xuất sắc theo nhóm / excellent quota per group:")
        for g in result.quota:
            out.append(f"  {g.text.vi}")
            out.append(f"  {g.text.en}")
            if g.tied:
                out.append(f"  ⚠ Bằng phiếu / tied: {', '.join(g.tied)} — cấp có thẩm quyền "
                           "quyết định / for the deciding body")
    if result.second_round:
        out.append("")
        out.append("Vòng hai / second round (đồng ý / không đồng ý — agree / disagree):")
        for b in result.second_round:
            group = b.group if b.group is not None else "—"
            out.append(f"  Nhóm / group {group}: chọn tối đa / vote for at most {b.k}: "
                       + ", ".join(f"{uid} {names.get(uid, '')}".strip() for uid in b.candidates))
    return "\n".join(out) + "\n"
