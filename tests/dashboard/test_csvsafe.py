"""CSV cells a spreadsheet shows as text, never runs as a formula (OWASP "CSV Injection")."""

import csv
import io
from decimal import Decimal

import pytest

from dashboard import csvsafe


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("https://x","y")']
)
def test_text_that_starts_like_a_formula_gets_a_leading_quote(text):
    assert csvsafe.safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["", "tuneboard-cpu", "1 of 10 failed", "req-1", " =1"])
def test_other_text_is_left_alone(text):
    assert csvsafe.safe_cell(text) == text


@pytest.mark.parametrize("number", [-3, -2.5, Decimal("-0.000001"), 0, 1536.0, True, None])
def test_numbers_and_other_values_stay_as_they_are(number):
    assert csvsafe.safe_cell(number) is number


def test_the_writer_writes_every_row_through_it():
    out = io.StringIO()
    csvsafe.writer(out).writerow(["=cmd|' /C calc'!A0", -1.5, "ok"])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=cmd|' /C calc'!A0", "-1.5", "ok"]
