"""Values of the model: partial dates and their order."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lod import PartialDate


@pytest.mark.parametrize(("text", "earliest", "latest", "precision"), [
    ("2014", date(2014, 1, 1), date(2014, 12, 31), "year"),
    ("2016-09", date(2016, 9, 1), date(2016, 9, 30), "month"),
    ("2016-12", date(2016, 12, 1), date(2016, 12, 31), "month"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
    ("2014-01-24", date(2014, 1, 24), date(2014, 1, 24), "day"),
])
def test_partial_date_bounds(text: str, earliest: date, latest: date, precision: str) -> None:
    value = PartialDate.parse(text)
    assert (value.earliest, value.latest, value.precision, str(value)) == (
        earliest, latest, precision, text)


@pytest.mark.parametrize("text", ["14", "2014-1", "2014-13", "2014-02-30", "24.01.2014", "2014-01-24T00:00"])
def test_partial_date_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        PartialDate.parse(text)


@pytest.mark.parametrize(("first", "second", "before"), [
    ("2016-09", "2016", False),   # overlapping: not certainly before
    ("2016", "2016-09", False),
    ("2015", "2016-01", True),
    ("2016-08-31", "2016-09", True),
    ("2016-09-30", "2016-09", False),
])
def test_is_before_respects_precision(first: str, second: str, before: bool) -> None:
    assert PartialDate.parse(first).is_before(PartialDate.parse(second)) is before


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)),
       st.sampled_from([4, 7, 10]))
def test_every_truncation_contains_the_day(day: date, length: int) -> None:
    value = PartialDate.parse(day.isoformat()[:length])
    assert value.earliest <= day <= value.latest
