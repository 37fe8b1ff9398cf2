"""Vietnamese first, English on request; every text has its Vietnamese translation."""

from __future__ import annotations

import datetime as dt
import json
import re
from fractions import Fraction

from i18n_extract import WEB, all_msgids


def test_every_msgid_has_a_vietnamese_translation_and_no_stale_entry():
    catalog = json.loads((WEB / "translations" / "vi.json").read_text(encoding="utf-8"))
    catalog = {k: v for k, v in catalog.items() if not k.startswith("//")}
    used = all_msgids()
    assert sorted(used - set(catalog)) == [], "add these to ballot/web/translations/vi.json"
    assert sorted(set(catalog) - used) == [], "these translations are no longer used"
    for msgid, text in catalog.items():
        assert text.strip(), msgid
        assert sorted(re.findall(r"%\((\w+)\)s", msgid)) == sorted(re.findall(r"%\((\w+)\)s", text)), msgid


def test_vietnamese_by_default_english_on_request(client):
    page = client.get("/admin/login")
    html = page.get_data(as_text=True)
    assert '<html lang="vi">' in html and "Thư ký đăng nhập" in html
    resp = client.get("/admin/login?lang=en")
    assert '<html lang="en">' in resp.get_data(as_text=True) and "Secretary: sign in" in resp.get_data(as_text=True)
    assert "lang=en" in resp.headers["Set-Cookie"]
    # the cookie keeps the choice
    assert "Secretary: sign in" in client.get("/admin/login").get_data(as_text=True)
    assert "Thư ký đăng nhập" in client.get("/admin/login?lang=vi").get_data(as_text=True)
    assert "Thư ký đăng nhập" in client.get("/admin/login?lang=xx").get_data(as_text=True)


def test_vietnamese_formats(app):
    from ballot.web.i18n import format_date, format_datetime, format_number, format_percent

    with app.test_request_context("/"):
        assert format_date("2025-12-15") == "15/12/2025"
        assert format_date(dt.date(2025, 1, 2), "en") == "2 Jan 2025"
        assert format_number(1234567) == "1.234.567"
        assert format_number(1234567, "en") == "1,234,567"
        assert format_number(52.345, decimals=1) == "52,3"
        assert format_percent(Fraction(2, 3)) == "66,7 %"
        when = dt.datetime(2025, 12, 15, 2, 5, tzinfo=dt.timezone.utc)
        assert format_datetime(when) == "09:05 15/12/2025"  # Asia/Ho_Chi_Minh, UTC+7
        assert format_datetime("2025-12-15T02:05:00Z", "en") == "09:05 15 Dec 2025"


def test_today_is_the_meetings_date_not_the_servers(app):
    # UTC+14 and UTC−12 are 26 hours apart: their dates always differ.
    import datetime as dt
    from zoneinfo import ZoneInfo

    from ballot.web.i18n import today

    dates = {}
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        app.config["TIMEZONE"] = zone
        with app.test_request_context("/"):
            dates[zone] = today()
        assert dates[zone] == dt.datetime.now(ZoneInfo(zone)).date().isoformat()
    assert dates["Pacific/Kiritimati"] != dates["Etc/GMT+12"]
