"""Spreadsheet-safe CSV cells (OWASP "CSV Injection").

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``@SUM(...)``, DDE). A
member's or unit's name is typed by the secretary or imported from a file, so every text cell
written to a CSV goes through :func:`csv_cell`, which prefixes such a cell with a single quote
(the spreadsheet shows the text as typed, minus nothing but that quote). Numbers are written
as they are. The ``csv`` module then quotes the cell and doubles its quotes as usual.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_STARTS", "csv_cell", "csv_row"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet will not run: text starting with one of
    :data:`FORMULA_STARTS` gets a leading ``'``; ints, floats and None pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: list[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]
