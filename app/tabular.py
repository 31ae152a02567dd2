"""CSV cells that a spreadsheet shows as text and never runs as a formula.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab, a carriage
return or a line break before one of them, or their full-width forms) as a formula, so a name or
an answer someone typed could run as one when a marketer opens an export. Every CSV file the app
writes passes its text cells through :func:`safe_cell`, which prefixes such a cell with an
apostrophe, as OWASP advises against CSV injection: the spreadsheet shows the text, apostrophe
hidden. JSON exports are data and are never changed this way.

This module is shared infrastructure: it imports no area.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_cell(value: object) -> str:
    """``value`` as a CSV cell that no spreadsheet runs as a formula (None is an empty cell)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
