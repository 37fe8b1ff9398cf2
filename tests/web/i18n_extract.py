"""Every msgid used in ballot/web (Python ``_()`` calls, templates, the phone's strings)."""

from __future__ import annotations

import ast
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "ballot" / "web"


def python_msgids() -> set[str]:
    out: set[str] = set()
    for path in WEB.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "_" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                out.add(node.args[0].value)
    return out


def template_msgids() -> set[str]:
    from jinja2 import Environment

    env = Environment(extensions=["jinja2.ext.i18n"])
    out: set[str] = set()
    for path in (WEB / "templates").rglob("*.html"):
        for _line, _func, message in env.extract_translations(
                path.read_text(encoding="utf-8"), gettext_functions=("_",)):
            if isinstance(message, tuple):  # _("text", name=value): ("text", None, ...)
                message = message[0]
            if isinstance(message, str):
                out.add(message)
    return out


def data_msgids() -> set[str]:
    from ballot.web import errors, i18n, vote

    out = set(vote.VOTER_STRINGS.values()) | set(errors._TITLES.values()) | {"Error"}
    for table in (i18n.STATUS_NAMES, i18n.ROLL_STATUS_NAMES, i18n.PRESET_NAMES, i18n.KIND_NAMES,
                  i18n.BASE_NAMES, i18n.OUTCOME_NAMES):
        out |= set(table.values())
    return out


def all_msgids() -> set[str]:
    return python_msgids() | template_msgids() | data_msgids()
