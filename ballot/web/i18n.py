"""Vietnamese first, English second: a small gettext-like catalog and local formats.

Strings in the code and templates are written in English and wrapped in ``_()``; the
Vietnamese text comes from ``translations/vi.json`` (msgid → text). A test checks that every
msgid used in ``ballot/web`` has a Vietnamese translation, so nothing shows up in English by
accident. The language is Vietnamese unless the visitor chose English: ``?lang=en`` (or
``?lang=vi``) sets the ``lang`` cookie for a year.

Formats: Vietnamese dates ``15/12/2025``, times ``14:05``, numbers ``1.234``, decimals ``52,3``;
English ``15 Dec 2025``, ``1,234``, ``52.3``. Times are shown in the meeting's time zone
(``TIMEZONE``, default Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context, request
from markupsafe import Markup

__all__ = ["LANGS", "DEFAULT_LANG", "gettext", "get_lang", "format_date", "format_datetime",
           "format_number", "format_percent", "catalog", "init_app"]

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
COOKIE = "lang"
_DIR = Path(__file__).with_name("translations")

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """msgid → translation for ``lang`` (empty for English, the source language)."""
    path = _DIR / f"{lang}.json"
    if lang == "en" or not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("//")}


def get_lang() -> str:
    if not has_request_context():
        return DEFAULT_LANG
    lang = getattr(g, "lang", None)
    if lang is None:
        asked = request.args.get("lang")
        lang = asked if asked in LANGS else request.cookies.get(COOKIE)
        if lang not in LANGS:
            lang = DEFAULT_LANG
        g.lang = lang
    return lang


def gettext(msgid: str, lang: str | None = None, **values: Any) -> str:
    """The translation of ``msgid`` with ``%(name)s`` placeholders filled from ``values``."""
    text = catalog(lang or get_lang()).get(msgid, msgid)
    return text % values if values else text


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def format_date(value: Any, lang: str | None = None) -> str:
    d = _as_date(value)
    if d is None:
        return "" if value is None else str(value)
    if (lang or get_lang()) == "vi":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"


def _zone() -> dt.tzinfo:
    name = current_app.config.get("TIMEZONE", "Asia/Ho_Chi_Minh") if has_request_context() else None
    try:
        return ZoneInfo(name or "Asia/Ho_Chi_Minh")
    except (KeyError, ValueError):
        return dt.timezone.utc


def today() -> str:
    """Today's date (ISO) where the meeting is (``TIMEZONE``), not on the server's clock."""
    return dt.datetime.now(_zone()).date().isoformat()


def format_datetime(value: Any, lang: str | None = None) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    local = value.astimezone(_zone())
    return f"{local:%H:%M} {format_date(local.date(), lang)}"


def format_number(value: Any, lang: str | None = None, decimals: int = 0) -> str:
    if value is None:
        return ""
    lang = lang or get_lang()
    if isinstance(value, Fraction):
        value = float(value)
    text = f"{value:,.{decimals}f}" if isinstance(value, float) or decimals else f"{int(value):,}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_percent(value: Any, lang: str | None = None, decimals: int = 1) -> str:
    return f"{format_number(float(value) * 100, lang, decimals)} %"


#: Names shown for the values of the data (msgids, translated in the templates).
STATUS_NAMES = {"draft": "Draft", "key_ceremony": "Key ceremony", "open": "Voting open",
                "closed": "Voting closed", "tallied": "Counted", "published": "Published"}
ROLL_STATUS_NAMES = {"official": "official", "probationary": "probationary",
                     "excluded": "excluded"}
PRESET_NAMES = {"branch_qd366": "QĐ 366: a branch classifies its members",
                "committee_qd366": "QĐ 366: a committee classifies units or cadres",
                "criteria_grades": "Criteria grades: Excellent / Good / Average / Poor"}
KIND_NAMES = {"branch_members": "A branch classifies its members",
              "committee_units": "A committee classifies units or cadres", "custom": "Other"}
BASE_NAMES = {"convened_minus_excluded": "Members convened minus those excluded (default)",
              "present": "Members present", "valid_ballots": "Valid ballots"}
#: Outcomes of the rules engine (ballot.election.results), as shown on the results page.
OUTCOME_NAMES = {"passed": "passed", "no_majority": "no majority",
                 "quorum_failed": "quorum not met", "cut_by_quota": "moved down by the quota",
                 "quota_tie": "tie at the quota: for the deciding body",
                 "second_round": "to the second round"}
# second round: the outcomes of a second-round election (ballot B)
OUTCOME_NAMES.update({"selected": "selected in the second round",
                      "not_selected": "not selected in the second round",
                      "second_round_tie": "tie in the second round: for the deciding body"})
_STEPS = ("draft", "key_ceremony", "open", "closed", "tallied", "published")


def init_app(app: Flask) -> None:
    @app.before_request
    def _choose_lang() -> None:
        get_lang()

    @app.after_request
    def _remember_lang(response):
        asked = request.args.get("lang")
        if asked in LANGS and request.cookies.get(COOKIE) != asked:
            response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, httponly=True,
                                samesite="Lax", secure=app.config.get("SESSION_COOKIE_SECURE", False))
        return response

    app.jinja_env.globals.update(_=gettext, get_lang=get_lang, LANGS=LANGS)
    app.jinja_env.filters.update(
        vi_date=format_date, vi_datetime=format_datetime, vi_number=format_number,
        vi_percent=format_percent,
    )
    app.jinja_env.globals.update(
        lang_url=_lang_url, status_names=STATUS_NAMES, roll_status_names=ROLL_STATUS_NAMES,
        preset_names=PRESET_NAMES, kind_names=KIND_NAMES, base_names=BASE_NAMES,
        outcome_names=OUTCOME_NAMES,
        step_index=lambda status: _STEPS.index(status) if status in _STEPS else 0)


def _lang_url(lang: str) -> Markup | str:
    """The current URL with ?lang=<lang> (other query parameters kept)."""
    args = request.args.to_dict(flat=True)
    args["lang"] = lang
    from urllib.parse import urlencode

    return f"{request.path}?{urlencode(args)}"
