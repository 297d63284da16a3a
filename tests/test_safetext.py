"""Text that a spreadsheet would take for a formula is written as text, by one rule
(safetext.formula_safe) wherever we write cells: the published CSV and the add-in's
Validation sheet."""

from __future__ import annotations

import pytest

from planvalidator.output.opendata import csv_text

FORMULA_LIKE = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", "\n=1+1"]


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_text_that_starts_a_formula_gets_an_apostrophe_in_the_csv(text):
    """A tab or a line break before the = is as dangerous as the = itself (OWASP's CSV
    injection list; Excel trims them off); the add-in already wrote these as text."""
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "'quoted", "2028", "a=b"])
def test_other_text_is_left_alone_in_the_csv(text):
    assert csv_text(text) == text


def test_the_add_in_writes_the_same_texts_as_text():
    """The Validation sheet's cells go to Excel as typed input, where a leading apostrophe is
    itself swallowed as the text marker: such text gets a second one."""
    from planvalidator.addin.session import _text
    assert [_text(t) for t in FORMULA_LIKE] == [csv_text(t) for t in FORMULA_LIKE]
    assert _text("'quoted") == "''quoted"
