"""The minutes of the vote count as an A4 PDF (reportlab), from :func:`minutes_data`.

Vietnamese needs a font with its precomposed letters: DejaVu Sans (regular and bold) ships in
``ballot/tally/fonts`` with its licence, so nothing depends on the fonts of the machine.
Every page carries the organisation, the date, the start of the election fingerprint and
"Trang i/n".
"""

from __future__ import annotations

import threading

import io
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping, Sequence
# escapes output; parses nothing (bandit B406)
from xml.sax.saxutils import escape  # nosec B406

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .minutes import ABSTAIN_COLOUR, LevelView, MinutesData, UnitRow, minutes_data, vn_percent
from .verify import Report

__all__ = ["render_minutes_pdf", "FONT", "FONT_BOLD", "FONTS_DIR"]

FONTS_DIR = Path(__file__).with_name("fonts")
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
MONO = "Courier-Bold"  # the fingerprint is ASCII hex: a built-in font is enough

PAGE_W, PAGE_H = A4
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 18 * mm, 14 * mm, 15 * mm, 16 * mm
WIDTH = PAGE_W - MARGIN_L - MARGIN_R

GRID = colors.HexColor("#777777")
LIGHT = colors.HexColor("#eeeeee")
RULE = colors.HexColor("#dddddd")
GREY = colors.HexColor("#555555")
OK = colors.HexColor("#1b5e20")
BAD = colors.HexColor("#b3261e")
WIN = colors.HexColor("#e8f0e0")


_FONTS_LOCK = threading.Lock()
_fonts_ready = False


def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold) from the package once; <b> selects the bold. Under
    a lock: the secretary's first download may render while finalize pre-renders, and a
    renderer that saw the regular font but not yet its family fails."""
    global _fonts_ready
    with _FONTS_LOCK:
        if _fonts_ready:
            return
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                      boldItalic=FONT_BOLD)
        _fonts_ready = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12.5)
    s = {
        "base": base,
        "small": ParagraphStyle("small", base, fontSize=8, leading=10),
        "tiny": ParagraphStyle("tiny", base, fontSize=6.8, leading=8.2, textColor=GREY),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=9.6),
        "cellb": ParagraphStyle("cellb", base, fontName=FONT_BOLD, fontSize=8, leading=9.6),
        "cellc": ParagraphStyle("cellc", base, fontSize=7, leading=8.4, alignment=TA_CENTER),
        "num": ParagraphStyle("num", base, fontSize=8, leading=9, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", base, fontName=FONT_BOLD, fontSize=7.2, leading=8.6,
                               alignment=TA_CENTER),
        "center": ParagraphStyle("center", base, alignment=TA_CENTER),
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=15, leading=19,
                                alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", base, fontName=FONT_BOLD, fontSize=10.5,
                                   leading=14, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", base, fontName=FONT_BOLD, fontSize=10, leading=13,
                             spaceBefore=9, spaceAfter=3),
        "fp": ParagraphStyle("fp", base, fontName=MONO, fontSize=12.5, leading=17,
                             alignment=TA_CENTER),
        "sigrole": ParagraphStyle("sigrole", base, fontName=FONT_BOLD, fontSize=9.5,
                                  leading=12, alignment=TA_CENTER),
        "sighint": ParagraphStyle("sighint", base, fontSize=7.5, leading=9, alignment=TA_CENTER,
                                  textColor=GREY),
    }
    return s


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _en(text: str, size: float = 6.8) -> str:
    """The minutes are in Vietnamese only (a biên bản kiểm phiếu): no English gloss. The
    English version is the HTML page's (``render_minutes_html(..., lang="en")``)."""
    return ""


DOTS = "." * 60


def _fill(value: str | None, dots: int = 60) -> str:
    return f"<b>{_e(value)}</b>" if value else "." * dots


class Bars(Flowable):
    """A small horizontal bar chart: one bar per level (then abstain), its length the share of
    N, with a tick at the level's threshold."""

    def __init__(self, items: Sequence[tuple[str, Fraction | None, Fraction | None]],
                 width: float, bar: float = 1.1 * mm, gap: float = 0.35 * mm) -> None:
        super().__init__()
        self.items = list(items)
        self.bar, self.gap = bar, gap
        self.width = width
        self.height = len(self.items) * (bar + gap) - gap

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        for i, (colour, share, thr) in enumerate(self.items):
            y = self.height - (i + 1) * self.bar - i * self.gap
            c.setFillColor(LIGHT)
            c.rect(0, y, self.width, self.bar, stroke=0, fill=1)
            if share:
                c.setFillColor(colors.HexColor(colour))
                c.rect(0, y, float(min(share, 1)) * self.width, self.bar, stroke=0, fill=1)
            if thr is not None:
                x = float(thr) * self.width
                c.setStrokeColor(colors.black)
                c.setLineWidth(0.6)
                c.line(x, y - 0.25 * mm, x, y + self.bar + 0.25 * mm)


class Swatch(Flowable):
    def __init__(self, colour: str, w: float = 3 * mm, h: float = 2 * mm) -> None:
        super().__init__()
        self.colour, self.width, self.height = colour, w, h

    def draw(self) -> None:
        self.canv.setFillColor(colors.HexColor(self.colour))
        self.canv.rect(0, 0, self.width, self.height, stroke=0, fill=1)


def _numbered_canvas(footer_left: str):
    """A canvas that knows the page count when it saves, for "Trang i/n"."""

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 7)
                self.setFillColor(GREY)
                self.setStrokeColor(colors.HexColor("#999999"))
                self.setLineWidth(0.4)
                self.line(MARGIN_L, MARGIN_B - 4 * mm, PAGE_W - MARGIN_R, MARGIN_B - 4 * mm)
                self.drawString(MARGIN_L, MARGIN_B - 7.5 * mm, footer_left)
                self.drawRightString(PAGE_W - MARGIN_R, MARGIN_B - 7.5 * mm,
                                     f"Trang {self._pageNumber}/{total}")
                super().showPage()
            super().save()

    return NumberedCanvas


def _facts(rows: list[tuple[str, str, str]], st: dict[str, ParagraphStyle]) -> Table:
    data = [[Paragraph(a, st["base"]), Paragraph(f"<b>{b}</b>", st["num"] if b else st["base"]),
             Paragraph(c, st["small"])] for a, b, c in rows]
    t = Table(data, colWidths=[86 * mm, 16 * mm, WIDTH - 102 * mm])
    t.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.8),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return t


def _grid_style(header_rows: int = 1) -> list[tuple]:
    return [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), LIGHT),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.8),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.2),
    ]


def _results_table(d: MinutesData, st: dict[str, ParagraphStyle]) -> Table:
    levels = d.levels
    n_lv = len(levels)
    w_no, w_prop, w_abst, w_blank = 6 * mm, 13 * mm, 11 * mm, 9 * mm
    w_chart, w_res = 22 * mm, 38 * mm
    w_blank = w_blank if d.has_blank else 0
    w_lv = 13 * mm if n_lv <= 4 else max(9.5 * mm, 52 * mm / n_lv)
    w_name = WIDTH - (w_no + w_prop + n_lv * w_lv + w_abst + w_blank + w_chart + w_res)
    head = [Paragraph("TT", st["head"]), Paragraph(_e(d.unit_label_vi), st["head"]),
            Paragraph("Tự XL<br/>Đề xuất", st["head"])]
    head += [Paragraph(_e(lv.short), st["head"]) for lv in levels]
    head.append(Paragraph("Không chọn", st["head"]))
    if d.has_blank:
        head.append(Paragraph("Bỏ trống", st["head"]))
    head += [Paragraph("Biểu đồ", st["head"]), Paragraph("Kết quả — căn cứ", st["head"])]
    data = [head]
    style = _grid_style() + [
        ("TOPPADDING", (0, 0), (-1, -1), 0.8),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.4),
        ("LEFTPADDING", (0, 0), (-1, -1), 1.6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 1.6),
    ]
    first_lv = 3
    for i, r in enumerate(d.units, 1):
        row: list[Any] = [Paragraph(str(r.no), st["num"]), Paragraph(_e(r.name), st["cellb"]),
                          Paragraph(f"{_e(r.self_level or '—')}<br/>{_e(r.proposed_level or '—')}",
                                    st["cellc"])]
        for j, c in enumerate(r.cells):
            row.append(Paragraph(f"<b>{c.votes}</b><br/>"
                                 f'<font size="6.5" color="#444444">{_e(c.percent)}</font>',
                                 st["num"]))
            if c.winner:
                style.append(("BACKGROUND", (first_lv + j, i), (first_lv + j, i), WIN))
        row.append(Paragraph(f"<b>{r.abstain}</b><br/><font size=\"6.5\" color=\"#444444\">"
                             f"{_e(vn_percent(r.abstain_share))}</font>", st["num"]))
        if d.has_blank:
            row.append(Paragraph(f"<b>{r.blank}</b>", st["num"]))
        row.append(Bars(_bar_items(r, levels), w_chart - 3.2))
        head = (f"<b>{_e(r.level)}</b> · {_e(r.outcome_short_vi)}" if r.level
                else f'<font color="#b3261e"><b>{_e(r.outcome_short_vi)}</b></font>')
        res = (f"{head}<br/>"
               f'<font size="6.5" color="#333333">{_e(r.rule_vi)}</font>')
        for f in r.flags:
            res += f'<br/><font size="6.5" color="#b3261e">⚠ {_e(f)}</font>'
        row.append(Paragraph(res, st["cell"]))
        data.append(row)
    widths = [w_no, w_name, w_prop] + [w_lv] * n_lv + [w_abst]
    if d.has_blank:
        widths.append(w_blank)
    widths += [w_chart, w_res]
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle(style))
    return t


def _bar_items(r: UnitRow, levels: Sequence[LevelView]):
    items = [(lv.colour, c.share, lv.threshold) for lv, c in zip(levels, r.cells)]
    items.append((ABSTAIN_COLOUR, r.abstain_share, None))
    return items


def _legend(d: MinutesData, st: dict[str, ParagraphStyle]) -> Table:
    cells: list[Any] = []
    for lv in d.levels:
        cells += [Swatch(lv.colour), Paragraph(f"{_e(lv.short)}: {_e(lv.name_vi)}", st["tiny"])]
    cells += [Swatch(ABSTAIN_COLOUR), Paragraph("Không chọn: không xếp loại", st["tiny"])]
    per_row = 3
    pairs = [cells[i:i + 2] for i in range(0, len(cells), 2)]
    rows = []
    for i in range(0, len(pairs), per_row):
        chunk = pairs[i:i + per_row]
        row: list[Any] = []
        for p in chunk:
            row += p
        row += [""] * (2 * per_row - len(row))
        rows.append(row)
    col = WIDTH / per_row
    t = Table(rows, colWidths=[4 * mm, col - 4 * mm] * per_row)
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (-1, -1), 1),
                           ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5)]))
    return t


def _story(d: MinutesData, st: dict[str, ParagraphStyle]) -> list[Any]:
    s: list[Any] = []
    P = Paragraph

    # Masthead: the issuing body on the left, the Party and place/date on the right.
    left = [P(f"<b>{_e(d.organisation.upper())}</b>", st["center"]),
            P("<b>BAN KIỂM PHIẾU</b>", st["center"]), P("<b>*</b>", st["center"])]
    place = _e(d.locality) if d.locality else "…………"
    right = [P("<b><u>ĐẢNG CỘNG SẢN VIỆT NAM</u></b>", st["center"]),
             Spacer(1, 2 * mm), P(f"{place}, {_e(d.date_vi)}", st["center"])]
    mast = Table([[left, right]], colWidths=[WIDTH * 0.45, WIDTH * 0.55])
    mast.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    s += [mast, Spacer(1, 7 * mm)]
    s.append(P("BIÊN BẢN KIỂM PHIẾU", st["title"]))
    s.append(P(_en("Minutes of the vote count", 7.5), st["center"]))
    s.append(P(_e(d.title), st["subtitle"]))
    s.append(Spacer(1, 4 * mm))
    title_lc = d.title[:1].lower() + d.title[1:] if d.title else ""
    s.append(P(f"Hôm nay, {_e(d.date_vi)}, hồi {_fill(d.started, 20)}, tại {_fill(d.place, 50)}, "
               f"{_e(d.organisation)} tiến hành bỏ phiếu kín và kiểm phiếu {_e(title_lc)}.",
               st["base"]))

    def h2(text: str, en: str) -> None:
        s.append(CondPageBreak(30 * mm))
        s.append(P(f"{text}{_en(en, 7)}", st["h2"]))

    # I. Composition.
    h2("I. THÀNH PHẦN", "chair, secretary, vote-counting committee")
    committee = "<br/>".join(
        f"{i}. <b>{_e(name)}</b> — giữ khóa số {i}"
        + (' <font color="#555555">(đã tham gia giải mã)</font>' if dec else "")
        for i, name, dec in d.committee) or DOTS
    if d.committee:
        committee += (f'<br/><font size="7.5" color="#555555">Cần {d.trustee_threshold} trong '
                      f"{len(d.committee)} ủy viên để giải mã tổng số phiếu; không ai giải mã "
                      "được từng phiếu.</font>")
    comp = Table([[P("Chủ trì hội nghị" + _en("chair"), st["base"]), P(_fill(d.chair), st["base"])],
                  [P("Thư ký hội nghị" + _en("secretary"), st["base"]),
                   P(_fill(d.secretary), st["base"])],
                  [P("Ban kiểm phiếu" + _en("committee (trustees)"), st["base"]),
                   P(committee, st["base"])]],
                 colWidths=[45 * mm, WIDTH - 45 * mm])
    comp.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                              ("LEFTPADDING", (0, 0), (-1, -1), 3),
                              ("TOPPADDING", (0, 0), (-1, -1), 1.2),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    s.append(comp)

    # II. Attendance.
    h2("II. SỐ LƯỢNG ĐẢNG VIÊN", "attendance, base N, quorum")
    voters = f"bỏ phiếu điện tử {d.electronic_voters}"
    if d.paper_voters is not None:
        voters += f", bỏ phiếu giấy {d.paper_voters}"
    if d.paper_instead:
        voters += (f" (trong đó {d.paper_instead} đồng chí đã nhận thẻ điện tử nhưng bỏ phiếu "
                   "giấy; thẻ đã gác lại)")
    if d.paper_instead:
        voters += (f" (trong đó {d.paper_instead} đồng chí đã nhận thẻ điện tử nhưng bỏ phiếu "
                   "giấy; thẻ đã gác lại)")
    q_colour = "#1b5e20" if d.quorum_met else "#b3261e"
    rows = [
        ("Tổng số đảng viên trong danh sách" + _en("on the roll"), str(d.on_roll),
         f"trong đó {d.probationary} đảng viên dự bị (không biểu quyết)" if d.probationary else ""),
        ("Số đảng viên chính thức được triệu tập" + _en("convened"), str(d.convened), ""),
        ("Số đảng viên được trừ" + _en("excluded from N"), str(d.excluded),
         "; ".join(f"{_e(n)} ({_e(r)})" for n, r in d.excluded_list)),
        ("Số làm căn cứ tính tỷ lệ N" + _en("base N"), str(d.base), _e(d.base_text_vi)),
        ("Số đảng viên có mặt" + _en("present"), str(d.present), voters),
        ("Số đảng viên vắng mặt" + _en("absent"), str(d.absent),
         f"kể cả {d.excluded} đảng viên được trừ" if d.excluded else ""),
        ("Số lượng có mặt" + _en("quorum"), f"{d.present}/{d.quorum_reference}",
         f'<font color="{q_colour}"><b>{_e(d.quorum_text_vi)}</b></font>'),
    ]
    s.append(_facts(rows, st))

    # III. Ballots.
    h2("III. SỐ PHIẾU", "ballots, electronic and paper")
    head = [P("", st["head"]), P("Điện tử" + _en("electronic", 6), st["head"])]
    if d.has_paper:
        head.append(P("Giấy" + _en("paper", 6), st["head"]))
    head.append(P("Tổng cộng" + _en("total", 6), st["head"]))
    data = [head]
    for label, en, elec, paper, tot in d.ballots:
        row = [P(f"{label}{_en(en)}", st["base"]), P(_count(elec), st["num"])]
        if d.has_paper:
            row.append(P(_count(paper), st["num"]))
        row.append(P(f"<b>{_count(tot)}</b>", st["num"]))
        data.append(row)
    n_num = 3 if d.has_paper else 2
    t = Table(data, colWidths=[WIDTH - n_num * 26 * mm] + [26 * mm] * n_num)
    t.setStyle(TableStyle(_grid_style()))
    s.append(t)
    if not d.has_paper:
        s.append(P("Không có phiếu giấy." + _en("no paper ballots"), st["small"]))

    # IV. Rules.
    h2("IV. NGUYÊN TẮC XÁC ĐỊNH KẾT QUẢ", "counting rules")
    for vi, _en_text in d.rules:
        s.append(P(f"– {_e(vi)}", ParagraphStyle("li", st["small"], leftIndent=8,
                                                  firstLineIndent=-6, spaceAfter=1)))

    # V. Results.
    h2("V. KẾT QUẢ KIỂM PHIẾU", "votes per unit, % of N")
    s.append(_results_table(d, st))
    s.append(Spacer(1, 1.5 * mm))
    s.append(_legend(d, st))
    note = ("Số nhỏ dưới mỗi ô: phần trăm của N; ô tô nền: mức theo số phiếu; vạch đen trên biểu "
            "đồ: ngưỡng của mức. Tự XL: tự xếp loại.")
    if d.has_blank:
        note += " Bỏ trống: dòng để trống hoặc đánh hai ô."
    s.append(P(note + _en("% of N; shaded: the level the votes gave; tick: threshold", 6.5),
               st["tiny"]))

    total_units = len(d.units)
    sdata = [[P(f"{_e(vi)}", st["small"]), P(f"<b>{n}</b>", st["num"]),
              P(vn_percent(Fraction(n, total_units)) if total_units else "—", st["num"])]
             for vi, _x, n in d.summary]
    sdata.append([P("<b>Cộng</b>", st["small"]), P(f"<b>{total_units}</b>", st["num"]), ""])
    summ = Table(sdata, colWidths=[100 * mm, 14 * mm, 18 * mm], hAlign="LEFT")
    summ.setStyle(TableStyle(_grid_style(0) + [("BACKGROUND", (0, -1), (-1, -1), LIGHT)]))
    s.append(KeepTogether([Spacer(1, 2 * mm), P("<b>Tổng hợp</b>" + _en("summary"), st["base"]),
                           Spacer(1, 1 * mm), summ]))

    roman = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
    section = 6
    if d.quota or d.quota_rule:
        h2(f"{roman[section]}. TỶ LỆ HOÀN THÀNH XUẤT SẮC NHIỆM VỤ", "excellent quota per group")
        section += 1
        if not d.quota:
            s.append(P("Không có nhóm nào có đề nghị mức cao nhất.", st["base"]))
        else:
            head = [P(h, st["head"]) for h in ("Nhóm", "Tỷ lệ", "n", "Tối đa X", "Ứng viên",
                                               "Giữ", "Chuyển xuống", "Bằng phiếu")]
            data = [head]
            style = _grid_style()
            for q in d.quota:
                data.append([P(_e(q.group), st["cell"]), P(_e(q.ratio or "—"), st["num"]),
                             P(str(q.n), st["num"]), P(_count(q.x_max), st["num"]),
                             P(str(len(q.candidates)), st["num"]), P(str(len(q.kept)), st["num"]),
                             P(str(len(q.cut)), st["num"]), P(str(len(q.tied)), st["num"])])
                detail = _e(q.text_vi)
                if q.cut:
                    detail += "<br/>Chuyển xuống mức liền dưới: " + ", ".join(map(_e, q.cut))
                if q.second_round:
                    detail += "<br/>Các ứng viên được đưa vào vòng hai."
                data.append([P(detail, st["cell"])] + [""] * 7)
                style.append(("SPAN", (0, len(data) - 1), (-1, len(data) - 1)))
            w = [WIDTH - 7 * 17 * mm] + [17 * mm] * 7
            t = Table(data, colWidths=w, repeatRows=1)
            t.setStyle(TableStyle(style))
            s.append(t)
            for q in d.quota:
                if q.tied:
                    box = Table([[P(f"<b>Đề nghị cấp có thẩm quyền quyết định</b> (nhóm "
                                    f"{_e(q.group)}): bằng phiếu tại ngưỡng tỷ lệ — "
                                    f"{', '.join(map(_e, q.tied))}."
                                    + _en("tie at the quota cut, for the deciding body"),
                                    st["base"])]], colWidths=[WIDTH])
                    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, BAD),
                                             ("TOPPADDING", (0, 0), (-1, -1), 3),
                                             ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
                    s += [Spacer(1, 2 * mm), box]

    if d.second_round:
        h2(f"{roman[section]}. BỎ PHIẾU VÒNG HAI", "second round: agree / disagree")
        section += 1
        for b in d.second_round:
            s.append(P(f"Nhóm {_e(b.group)}: chọn tối đa <b>{b.k}</b> trong {len(b.rows)} ứng "
                       "viên (mỗi ứng viên: đồng ý / không đồng ý).", st["base"]))
            data = [[P(h, st["head"]) for h in ("TT", "Họ và tên", "Đồng ý", "Không đồng ý",
                                                "Kết quả")]]
            for i, row in enumerate(b.rows, 1):
                data.append([P(str(i), st["num"]), P(_e(row.name), st["cellb"]),
                             P(_count(row.agree) if row.agree is not None else "", st["num"]),
                             P(_count(row.disagree) if row.disagree is not None else "", st["num"]),
                             P(_e(row.status), st["cell"])])
            t = Table(data, colWidths=[8 * mm, 62 * mm, 22 * mm, 22 * mm, WIDTH - 114 * mm],
                      repeatRows=1)
            t.setStyle(TableStyle(_grid_style() + [("TOPPADDING", (0, 1), (-1, -1), 3),
                                                   ("BOTTOMPADDING", (0, 1), (-1, -1), 4)]))
            s.append(t)
            if b.text_vi:
                s.append(P(_e(b.text_vi), st["small"]))
            s.append(Spacer(1, 2 * mm))

    # Fingerprint and verification.
    h2(f"{roman[section]}. MÃ NHẬN DIỆN VÀ KIỂM TRA HỒ SƠ",
       "election fingerprint, verification of the record")
    section += 1
    s.append(P("Mã nhận diện cuộc bỏ phiếu (đọc theo từng nhóm 4 ký tự)"
               + _en("election fingerprint, base hash") + ":", st["base"]))
    half = (len(d.fingerprint) + 1) // 2
    fp_lines = ["&nbsp;&nbsp;".join(_e(b) for b in d.fingerprint[:half]),
                "&nbsp;&nbsp;".join(_e(b) for b in d.fingerprint[half:])]
    fp = Table([[P("<br/>".join(x for x in fp_lines if x), st["fp"])]], colWidths=[150 * mm],
               hAlign="CENTER")
    fp.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                            ("TOPPADDING", (0, 0), (-1, -1), 4),
                            ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    s += [Spacer(1, 1 * mm), fp, Spacer(1, 2 * mm)]
    if d.checks is None:
        s.append(P('Kiểm tra hồ sơ: <font color="#b3261e"><b>chưa kiểm tra</b></font>'
                   + _en("not verified"), st["base"]))
    else:
        if d.verified_ok:
            s.append(P('<font color="#1b5e20"><b>✓ Hồ sơ hợp lệ: mọi bước kiểm tra đều đạt.</b>'
                       "</font>" + _en("the record verifies: every check passed"), st["base"]))
        else:
            s.append(P(f'<font color="#b3261e"><b>✗ Hồ sơ KHÔNG hợp lệ: bước «'
                       f"{_e(d.first_failure)}» không đạt.</b></font>"
                       + _en("the record does not verify"), st["base"]))
        data = []
        style = [("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                 ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                 ("TOPPADDING", (0, 0), (-1, -1), 0.6),
                 ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
                 ("LEFTPADDING", (0, 0), (-1, -1), 2)]
        for c in d.checks:
            mark = ('<font color="#1b5e20"><b>✓</b></font>' if c.ok
                    else '<font color="#b3261e"><b>✗</b></font>')
            data.append([P(mark, st["center"]), P(_e(c.title_vi), st["cell"]),
                         P(_e(c.detail_vi or c.detail), st["tiny"])])
        t = Table(data, colWidths=[6 * mm, 72 * mm, WIDTH - 78 * mm])
        t.setStyle(TableStyle(style))
        s.append(t)
    for line in d.verification_lines:
        s.append(P(_e(line), st["tiny"]))
    s.append(Spacer(1, 1 * mm))
    s.append(P("Bất kỳ ai có hồ sơ bầu cử đều có thể tự kiểm tra lại bằng lệnh "
               "<b>ballot verify</b>; mỗi đảng viên kiểm tra phiếu của mình bằng mã trên biên "
               "nhận.", st["tiny"]))

    # Complaints.
    h2(f"{roman[section]}. KHIẾU NẠI, KIẾN NGHỊ", "complaints")
    if d.complaints:
        for para in d.complaints.splitlines():
            s.append(P(_e(para) or "&nbsp;", st["base"]))
    else:
        lines = Table([[""]] * 3, colWidths=[WIDTH], rowHeights=[7 * mm] * 3)
        lines.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.6, GREY, None, (1, 2))]))
        s.append(lines)

    closing = P(f"Biên bản kết thúc hồi {_fill(d.ended, 20)} cùng ngày, đã đọc lại cho hội nghị "
                "nghe và được nhất trí thông qua.", st["base"])
    s += [Spacer(1, 3 * mm), closing, Spacer(1, 5 * mm)]
    s += _signatures(d, st)
    return s


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _sig(role: str, name: str | None, st: dict[str, ParagraphStyle]) -> list[Any]:
    return [Paragraph(role, st["sigrole"]), Paragraph("(Ký, ghi rõ họ tên)", st["sighint"]),
            Spacer(1, 17 * mm),
            Paragraph(f"<b>{_e(name)}</b>" if name else "." * 34, st["center"])]


def _signatures(d: MinutesData, st: dict[str, ParagraphStyle]) -> list[Any]:
    pair = Table([[_sig("THƯ KÝ", d.secretary, st), _sig("CHỦ TRÌ HỘI NGHỊ", d.chair, st)]],
                 colWidths=[WIDTH / 2] * 2)
    pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    members = d.committee or tuple((i, "", False) for i in (1, 2, 3))
    cells = [_sig(f"ỦY VIÊN {i}", name or None, st) for i, name, _ in members]
    rows = [cells[i:i + 3] for i in range(0, len(cells), 3)]
    rows[-1] += [""] * (3 - len(rows[-1]))
    grid = Table(rows, colWidths=[WIDTH / 3] * 3)
    grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return [KeepTogether([pair, Spacer(1, 4 * mm),
                          Paragraph("CÁC THÀNH VIÊN BAN KIỂM PHIẾU", st["sigrole"]),
                          Spacer(1, 3 * mm), grid])]


def render_minutes_pdf(record: Mapping[str, Any], report: Report | None = None, *,
                       meeting: Mapping[str, Any] | None = None) -> bytes:
    """The minutes as A4 PDF bytes."""
    register_fonts()
    d = minutes_data(record, report, meeting=meeting)
    st = _styles()
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN_L, rightMargin=MARGIN_R, topMargin=MARGIN_T,
        bottomMargin=MARGIN_B, title=f"Biên bản kiểm phiếu — {d.organisation} — {d.title}",
        author=d.organisation, subject="Biên bản kiểm phiếu / minutes of the vote count",
        creator="ballot", lang="vi",
    )
    frame = Frame(MARGIN_L, MARGIN_B, WIDTH, PAGE_H - MARGIN_T - MARGIN_B, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    fp = " ".join(d.fingerprint[:4])
    footer = (f"Biên bản kiểm phiếu — {d.organisation} — {d.date_vi} · mã nhận diện {fp} …")
    doc.build(_story(d, st), canvasmaker=_numbered_canvas(footer))
    return buf.getvalue()
