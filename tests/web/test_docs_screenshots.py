"""docs/web.md shows the phone's ballot, review and receipt; the README links them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_screenshots_exist_and_are_linked():
    web = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("phone-ballot", "phone-review", "phone-receipt"):
        png = ROOT / "docs" / "img" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert f"(img/{name}.png)" in web and f"(docs/img/{name}.png)" in readme
