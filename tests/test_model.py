"""Values of the model: partial dates and their order, coordinates and their range."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lod import PartialDate
from lod.records.model import LATITUDE, LONGITUDE, Degrees, Organisation


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


# --- coordinates ---------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "text", "value"), [
    (LATITUDE, "51.9065", Decimal("51.9065")), (LATITUDE, "-90", Decimal("-90")),
    (LATITUDE, "90.0", Decimal("90.0")), (LATITUDE, "0", Decimal(0)),
    (LONGITUDE, "8.3785", Decimal("8.3785")), (LONGITUDE, "-180", Decimal("-180")),
    (LONGITUDE, "179.999999", Decimal("179.999999")),
])
def test_coordinates_in_range_are_read(column: Degrees, text: str, value: Decimal) -> None:
    assert column.parse(text) == value


@pytest.mark.parametrize(("column", "text", "says"), [
    (LATITUDE, "51,9065", "decimal comma: write 51.9065, with a point"),
    (LONGITUDE, "-8,5", "decimal comma: write -8.5, with a point"),
    (LATITUDE, "90.0001", "out of range"),
    (LONGITUDE, "180.5", "out of range"),
    (LATITUDE, "-91", "out of range"),
    (LATITUDE, "51°54'23\"", "degrees, minutes and seconds"),
    (LONGITUDE, "8.3785 E", "must be"),
    (LATITUDE, "5.19E1", "must be"),
    (LATITUDE, "NaN", "must be"),
])
def test_coordinates_out_of_range_or_in_another_notation_are_refused(column: Degrees, text: str,
                                                                     says: str) -> None:
    with pytest.raises(ValueError) as caught:
        column.parse(text)
    assert says in str(caught.value)
    assert f"from -{column.limit} to {column.limit}" in str(caught.value), "the message says the range"


def test_coordinates_go_in_pairs_and_in_range_in_records_made_in_code() -> None:
    def problems(**point: Decimal) -> list[tuple[str, object, str]]:
        return list(Organisation(slug="x", kind="municipality", name_de="X", sources=("s",),
                                 **point).own_problems())  # type: ignore[arg-type]

    assert problems() == []
    assert problems(latitude=Decimal("51.9"), longitude=Decimal("8.38")) == []
    [(column, value, message)] = problems(latitude=Decimal("51.9"))
    assert (column, value) == ("longitude", None) and "when latitude is given" in message
    [(column, value, message)] = problems(longitude=Decimal("8.38"))
    assert (column, value) == ("latitude", None) and "when longitude is given" in message
    [(column, value, message)] = problems(latitude=Decimal("95"), longitude=Decimal("8.38"))
    assert (column, value) == ("latitude", Decimal("95")) and "out of range" in message
