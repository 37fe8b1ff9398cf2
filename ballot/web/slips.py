"""Invitation slips, and the sealed stash that keeps one-time codes until they are handed out.

Codes exist only once: the trustees' access codes in the return value of ``Meeting.create`` and
the invitation codes in that of ``Meeting.open_voting`` (the database keeps only their hashes).
They must survive until the secretary has printed them, possibly over several requests and
workers, without the server being able to read them on its own afterwards:

- the codes are encrypted with a fresh random 32-byte key (NaCl SecretBox, XSalsa20-Poly1305)
  and the ciphertext is written to ``<instance>/sealed/<slug>.<kind>`` (mode 0600);
- the key is kept only in the secretary's session cookie (signed, HttpOnly, SameSite=Lax,
  Secure over HTTPS), never on the server.

Neither half alone reveals a code: a copy of the server's disk or database does not, and
neither does the cookie without the server. The trustees' codes are shown once (the page that
shows them deletes the file). The invitation codes stay printable (page and PDF) until the
secretary destroys them or closes voting, which deletes the file. If the secretary's session
is lost before printing, the codes are gone; the invitations of members who have not voted can
then be issued again (new codes; the old ones stop working).
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Sequence

import nacl.exceptions
import nacl.secret
import nacl.utils

__all__ = ["Stash", "Slip", "make_slips", "group_code", "qr_svg_data_uri", "slips_pdf"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\.(trustees|invitations)$")


class Stash:
    """Sealed files in one folder; the keys live elsewhere (the session)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ValueError(f"bad stash name {name!r}")
        return self.folder / f"{name}.sealed"

    def seal(self, name: str, data: Any) -> str:
        """Encrypt ``data`` (JSON) to the file ``name``; returns the key (base64url)."""
        key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
        blob = nacl.secret.SecretBox(key).encrypt(json.dumps(data).encode("utf-8"))
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
        return base64.urlsafe_b64encode(key).decode("ascii")

    def open(self, name: str, key: str | None) -> Any | None:
        """The data, or None when the file is gone or the key does not open it."""
        if not key:
            return None
        try:
            blob = self._path(name).read_bytes()
            raw = nacl.secret.SecretBox(base64.urlsafe_b64decode(key.encode("ascii"))).decrypt(blob)
        except (FileNotFoundError, ValueError, TypeError, nacl.exceptions.CryptoError):
            return None
        return json.loads(raw)

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def drop(self, name: str) -> None:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            pass


@dataclass(frozen=True)
class Slip:
    roll_id: str
    name: str
    code: str
    url: str  # the invitation URL: base/v/<slug>#<code>
    page_url: str  # base/v/<slug>, for typing the code by hand

    @property
    def groups(self) -> str:
        return group_code(self.code)


def group_code(code: str, size: int = 5) -> str:
    """The code in short groups for typing (case, spaces and dashes are ignored when it is
    typed back; see ``repo.normalize_invitation_code``)."""
    plain = code.replace("-", "").replace(" ", "")
    return " ".join(plain[i:i + size] for i in range(0, len(plain), size))


def make_slips(base_url: str, slug: str, roll: Sequence[dict[str, Any]],
               codes: dict[str, str]) -> list[Slip]:
    """One slip per member with a code, in roll order."""
    page = f"{base_url}/v/{slug}"
    return [Slip(e["roll_id"], e["name"], codes[e["roll_id"]], f"{page}#{codes[e['roll_id']]}", page)
            for e in roll if e["roll_id"] in codes]


def qr_svg_data_uri(text: str) -> str:
    """A QR code as a ``data:image/svg+xml`` URI (allowed by the CSP's img-src data:)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2,
                      error_correction=qrcode.constants.ERROR_CORRECT_M)
    data = img.to_string(encoding="unicode").encode("utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


# -- the PDF -----------------------------------------------------------------------------------

_FONT_CANDIDATES = (
    Path(__file__).resolve().parents[1] / "tally" / "fonts",
    Path("/usr/share/fonts/truetype/dejavu"),
)


def _register_fonts() -> tuple[str, str]:
    """(regular, bold) font names with Vietnamese glyphs (DejaVu Sans), else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "BallotSans" in pdfmetrics.getRegisteredFontNames():
        return "BallotSans", "BallotSans-Bold"
    for folder in _FONT_CANDIDATES:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists():
            pdfmetrics.registerFont(TTFont("BallotSans", str(regular)))
            pdfmetrics.registerFont(TTFont("BallotSans-Bold", str(bold if bold.exists() else regular)))
            return "BallotSans", "BallotSans-Bold"
    return "Helvetica", "Helvetica-Bold"  # pragma: no cover - no font with Vietnamese glyphs


def _fit(text: str, font: str, size: float, width: float) -> str:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _chop(text: str, font: str, size: float, width: float) -> list[str]:
    """Cut a URL into lines that fit (anywhere: it has no spaces)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line = [], ""
    for ch in text:
        if line and stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line else lines


def slips_pdf(slips: Sequence[Slip], *, title: str, organisation: str, labels: dict[str, str],
              columns: int = 2, rows: int = 4) -> bytes:
    """An A4 PDF, ``columns × rows`` slips per page with dashed cutting lines. ``labels``:
    the translated texts ``scan``, ``or_open``, ``and_type``, ``secret``."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    regular, bold = _register_fonts()
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"{title} — slips")
    page_w, page_h = A4
    w, h = page_w / columns, page_h / rows
    per_page = columns * rows
    pad = 6 * mm
    for start in range(0, max(len(slips), 1), per_page):
        chunk = slips[start:start + per_page]
        c.setDash(3, 3)
        c.setLineWidth(0.4)
        c.setStrokeGray(0.6)
        for i in range(1, columns):
            c.line(i * w, 0, i * w, page_h)
        for j in range(1, rows):
            c.line(0, j * h, page_w, j * h)
        c.setDash()
        for n, slip in enumerate(chunk):
            col, row = n % columns, n // columns
            x0, y0 = col * w, page_h - (row + 1) * h
            inner = w - 2 * pad
            c.setFillGray(0.3)
            c.setFont(regular, 7.5)
            c.drawString(x0 + pad, y0 + h - pad - 2 * mm, _fit(organisation, regular, 7.5, inner))
            c.drawString(x0 + pad, y0 + h - pad - 5.5 * mm, _fit(title, regular, 7.5, inner))
            c.setFillGray(0)
            c.setFont(bold, 11)
            c.drawString(x0 + pad, y0 + h - pad - 11 * mm, _fit(slip.name, bold, 11, inner))
            c.setFont(regular, 8.5)
            c.drawString(x0 + pad, y0 + h - pad - 15 * mm, slip.roll_id)
            qr_size = 38 * mm
            widget = QrCodeWidget(slip.url, barLevel="M", barBorder=0)
            bx0, by0, bx1, by1 = widget.getBounds()
            drawing = Drawing(qr_size, qr_size, transform=[qr_size / (bx1 - bx0), 0, 0,
                                                           qr_size / (by1 - by0), 0, 0])
            drawing.add(widget)
            renderPDF.draw(drawing, c, x0 + pad, y0 + pad + 2 * mm)
            tx = x0 + pad + qr_size + 5 * mm
            tw = w - (tx - x0) - pad
            ty = y0 + pad + qr_size - 1 * mm
            c.setFont(regular, 8)
            for line in simpleSplit(f"{labels['scan']} {labels['or_open']}", regular, 8, tw):
                c.drawString(tx, ty, line)
                ty -= 3.6 * mm
            c.setFont("Courier", 7.5)
            for line in _chop(slip.page_url, "Courier", 7.5, tw):
                c.drawString(tx, ty, line)
                ty -= 3.4 * mm
            ty -= 0.6 * mm
            c.setFont(regular, 8)
            for line in simpleSplit(labels["and_type"], regular, 8, tw):
                c.drawString(tx, ty, line)
                ty -= 3.6 * mm
            ty -= 2.4 * mm
            c.setFont("Courier-Bold", 11)
            groups = slip.groups.split(" ")
            half = (len(groups) + 1) // 2
            c.drawString(tx, ty, " ".join(groups[:half]))
            c.drawString(tx, ty - 5 * mm, " ".join(groups[half:]))
            c.setFont(regular, 6.5)
            c.setFillGray(0.35)
            for k, line in enumerate(reversed(simpleSplit(labels["secret"], regular, 6.5, tw))):
                c.drawString(tx, y0 + pad + k * 3 * mm, line)
            c.setFillGray(0)
        c.showPage()
    c.save()
    return buf.getvalue()
