"""CSV files that a spreadsheet opens without running anything (OWASP "CSV Injection").

Every CSV writer of the project goes through :func:`writer`: a text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read as a formula by Excel,
LibreOffice or Google Sheets (``=HYPERLINK(...)`` in an error message becomes a link that
leaks data), so it gets a leading single quote, which makes it plain text. Numbers are not
text: they are written as they are, so negative figures stay numbers.
"""

from __future__ import annotations

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value``, with a ``'`` in front when it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(value) for value in row])


def writer(file, **options) -> _SafeWriter:
    """``csv.writer(file, **options)`` whose rows cannot start a formula."""
    return _SafeWriter(file, **options)
