"""Reading records: every kind of input error is reported with file, line, column and value."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod import InputError, Membership, Organisation, UsageError, check_records, read_records
from lod.cli import cli
from lod.records.model import Record
from lod.records.sources import record_fields


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture does not contain {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_records(directory)
    return [str(problem) for problem in caught.value.problems]


def test_fixture_reads(minimal: Path) -> None:
    dataset = read_records(minimal)
    assert [o.slug for o in dataset.organisations] == ["kgst", "vitako", "dresden", "eb-it"]
    assert dataset.memberships[0].slug == "oss--kgst"
    assert dataset.organisations[0].origin is not None
    assert dataset.organisations[0].origin.line == 2
    assert len(dataset) == 14


# (file, text to replace, replacement, expected fragments of one problem)
CASES = {
    "bad date": ("cooperations.csv", ",2020-07,,active", ",2020-13,,active",
                 ["cooperations.csv:2", "'start'", "'2020-13'", "calendar date"]),
    "date format": ("events.csv", ",2020-07,", ",July 2020,", ["events.csv:2", "'date'", "YYYY-MM-DD"]),
    "end before start": ("cooperations.csv", ",2020-07,,active", ",2020-07,2019,active",
                         ["cooperations.csv:2", "'end'", "'2019'", "before start"]),
    "ags length": ("organisations.csv", "14612000", "1461200",
                   ["organisations.csv:4", "'ags'", "'1461200'", "8 digits"]),
    "ags land code": ("organisations.csv", "14612000", "17612000",
                      ["organisations.csv:4", "'ags'", "01-16"]),
    "ags on a district key": ("organisations.csv", "14612000", "00612000", ["'ags'", "01-16"]),
    "ags for a non-municipality": ("organisations.csv", "KGSt,,", "KGSt,05358008,",
                                   ["organisations.csv:2", "'ags'", "only for kind municipality"]),
    "shared official key": ("organisations.csv", "IT-Dienstleistungen,,,,,,,,,dresden",
                            "IT-Dienstleistungen,,,,Q1731,,,,,dresden",
                            ["organisations.csv:5", "'wikidata'", "'Q1731'",
                             "also the wikidata of organisation dresden"]),
    "unknown reference": ("memberships.csv", "vitako,oss", "vitakoo,oss",
                          ["memberships.csv:3", "'member'", "'vitakoo'", "refers to no organisation"]),
    "unknown concept": ("cooperations.csv", "informal-agreement", "handshake",
                        ["cooperations.csv:2", "'kind'", "'handshake'", "cooperation-kind", "allowed:"]),
    "duplicate slug": ("organisations.csv", "\neb-it,", "\nkgst,",
                       ["organisations.csv:5", "'slug'", "duplicate", "organisations.csv:2"]),
    "slug shared with a cooperation": ("cooperations.csv", "\noss,", "\nkgst,",
                                       ["cooperations.csv:2", "duplicate", "organisation"]),
    "bad slug": ("people.csv", "klaus-effing,Klaus", "Klaus Effing,Klaus",
                 ["people.csv:2", "'slug'", "a slug"]),
    "missing required value": ("posts.csv", ",board,", ",,", ["posts.csv:2", "'role'", "is required"]),
    "missing column": ("statements.csv", "slug,subject,", "slug,topic,",
                       ["statements.csv:1", "'topic'", "unknown column"]),
    "wrong cell count": ("people.csv", "press-2020\n", "press-2020,extra\n",
                         ["people.csv:2", "has 5 cells but the header has 4"]),
    "malformed quoting": ("people.csv", "Klaus Effing", '"Klaus "Effing', ["people.csv:2", "malformed CSV"]),
    "bad url": ("organisations.csv", "http://www.kgst.de", "www.kgst.de",
                ["organisations.csv:2", "'homepage'", "http or https URL"]),
    "bad number": ("statements.csv", ",2200,", ",2.200,5,", ["statements.csv:2"]),
    "membership outside its cooperation": ("memberships.csv", "partner,2020-07,", "partner,2019-01,",
                                           ["memberships.csv:2", "'start'", "before the start of"]),
    "tenure without a date": ("tenures.csv", ",2020-09-25,", ",,", ["tenures.csv:2", "'as_of'", "required"]),
    "unknown source": ("people.csv", ",Dr.,press-2020", ",Dr.,press-2021",
                       ["people.csv:2", "'sources'", "refers to no source"]),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_input_error_is_located(minimal: Path, case: tuple[str, str, str, list[str]]) -> None:
    file, old, new, fragments = case
    edit(minimal / file, old, new)
    problems = problems_of(minimal)
    assert any(all(fragment in problem for fragment in fragments) for problem in problems), problems


def test_all_errors_are_reported_at_once(minimal: Path) -> None:
    edit(minimal / "organisations.csv", "14612000", "1461200")
    edit(minimal / "cooperations.csv", "informal-agreement", "handshake")
    edit(minimal / "people.csv", "press-2020", "nowhere")
    problems = problems_of(minimal)
    assert len(problems) == 3
    assert {p.split(":")[0].rsplit("/", 1)[-1] for p in problems} == {
        "organisations.csv", "cooperations.csv", "people.csv"}


def test_line_of_a_row_after_a_multiline_cell(minimal: Path) -> None:
    edit(minimal / "organisations.csv", "Eigenbetrieb IT-Dienstleistungen", '"Eigenbetrieb\nIT"')
    edit(minimal / "organisations.csv", "\neb-it,", "\neb-it,")
    with (minimal / "organisations.csv").open("a", encoding="utf-8") as file:
        file.write("bad slug,company,X,,,,,,,,,,press-2020\n")
    assert any("organisations.csv:7" in p and "'slug'" in p for p in problems_of(minimal))


def test_not_utf8(minimal: Path) -> None:
    path = minimal / "people.csv"
    path.write_bytes(path.read_bytes().replace(b"Effing", "Eff\xefng".encode("latin-1")))
    assert any("people.csv:2" in p and "not UTF-8" in p for p in problems_of(minimal))


def test_unknown_file_is_reported(minimal: Path) -> None:
    (minimal / "organisation.csv").write_text("slug\n", encoding="utf-8")
    assert any("organisation.csv" in p and "unknown file" in p for p in problems_of(minimal))


def test_missing_sources_file(minimal: Path) -> None:
    (minimal / "sources.csv").unlink()
    assert any("sources.csv" in p and "is missing" in p for p in problems_of(minimal))


def test_missing_path() -> None:
    with pytest.raises(UsageError, match="no such file"):
        read_records("/nonexistent/data")


def test_json_gives_the_same_records(minimal: Path, tmp_path: Path) -> None:
    from_csv = read_records(minimal)
    document = {
        t: [record_fields(r) for r in getattr(from_csv, t)]
        for t in ("sources", "organisations", "cooperations", "memberships", "people", "posts",
                  "tenures", "events", "statements")
    }
    path = tmp_path / "data.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert read_records(path) == from_csv


def test_json_error_names_the_record(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"sources": [{"slug": "s", "kind": "register", "title": "T",
                                             "language": "deu", "date": "2024"}]}), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_records(path)
    (problem,) = caught.value.problems
    assert problem.file.endswith("data.json#/sources/0")
    assert problem.column == "language" and problem.value == "deu"


def test_records_built_in_python_are_checked() -> None:
    from lod import Dataset, check_dataset, load_schemes

    organisation = Organisation(slug="x", kind="municipality", name_de="X", ags="05358008",
                                sources=("missing",))
    problems = check_dataset(Dataset(organisations=(organisation,)), load_schemes())
    assert [(p.file, p.column) for p in problems] == [("organisations[x]", "sources")]


def _as_german_spreadsheets_save(path: Path, encoding: str = "utf-8") -> None:
    """The file as Excel and LibreOffice save CSV in German: semicolons, CRLF, cells quoted where
    they hold a semicolon."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file, delimiter=";", lineterminator="\r\n").writerows(rows)


def test_semicolons_are_recognised_and_said(minimal: Path) -> None:
    for name in ("organisations", "memberships"):
        _as_german_spreadsheets_save(minimal / f"{name}.csv")
    notes: list[str] = []
    dataset = read_records(minimal, notes=notes)
    assert dataset == read_records(minimal) and len(dataset.organisations) == 4
    assert sorted(notes) == [f"{minimal / name}.csv: columns separated by semicolons ';'"
                             for name in ("memberships", "organisations")]
    # A value with a semicolon (a column of several values) survives the quoting.
    assert dataset.memberships[0].slug == "oss--kgst"


def test_a_file_in_windows_1252_is_reported_once(minimal: Path) -> None:
    """Not one problem per reference into it: those cannot be checked until it can be read."""
    _as_german_spreadsheets_save(minimal / "organisations.csv", encoding="cp1252")
    edit_bytes = (minimal / "organisations.csv").read_bytes()
    assert b"\xfc" in edit_bytes or b"\xe4" in edit_bytes or b"\xf6" in edit_bytes, "no umlaut in the fixture"
    found = problems_of(minimal)
    assert len(found) == 1, found
    assert "organisations.csv" in found[0] and "not UTF-8" in found[0] and "Windows-1252" in found[0]


def test_the_cli_says_the_separator(minimal: Path) -> None:
    _as_german_spreadsheets_save(minimal / "organisations.csv")
    done = CliRunner().invoke(cli, ["validate", str(minimal)])
    assert done.exit_code == 0, done.output
    assert "note: " in done.stderr and "organisations.csv: columns separated by semicolons" in done.stderr


def test_a_file_with_a_wrong_header_is_reported_without_a_cascade(minimal: Path) -> None:
    edit(minimal / "sources.csv", "slug,kind,title", "slug;kind,title")
    found = problems_of(minimal)
    assert found and all("sources.csv:1" in p for p in found), found


@pytest.mark.parametrize(("record", "column", "says"), [
    (Organisation(slug="a b", kind="municipality", name_de="X", sources=("press-2020",)),
     "slug", "must be a slug"),
    (Organisation(slug="x", kind="municipality", name_de="X", ags="123", sources=("press-2020",)),
     "ags", "8 digits"),
    (Organisation(slug="x", kind="municipality", name_de="X", sources="press-2020"),  # type: ignore[arg-type]
     "sources", "several values"),
    (Membership(member="kgst", organisation="nope", roles=("member",), sources=("press-2020",)),
     "organisation", "refers to no"),
])
def test_the_python_api_checks_as_the_files_do(minimal: Path, record: Record, column: str, says: str) -> None:
    """check_records on records made in code: one clear problem, never an exception from inside."""
    dataset = read_records(minimal)
    collection = record.collection
    dataset = replace(dataset, **{collection: (*getattr(dataset, collection), record)})
    with pytest.raises(InputError) as caught:
        check_records(dataset)
    found = [p for p in caught.value.problems if p.column == column]
    assert len(found) == 1 and says in found[0].message, [str(p) for p in caught.value.problems]


# --- coordinates ---------------------------------------------------------------------------


def _with_coordinates(directory: Path, points: dict[str, tuple[str, str]], *, delimiter: str = ",") -> Path:
    """organisations.csv with the columns latitude and longitude, filled for the slugs in ``points``."""
    path = directory / "organisations.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[0][-1:-1] = ["latitude", "longitude"]
    for row in rows[1:]:
        row[-1:-1] = points.get(row[0], ("", ""))
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return path


def test_coordinates_are_read_from_csv_json_and_a_workbook(minimal: Path, tmp_path: Path) -> None:
    from lod.records.workbook import workbook_of

    _with_coordinates(minimal, {"dresden": ("51.0493", "13.7381"), "kgst": ("50.9446", "6.9515")})
    dataset = read_records(minimal)
    dresden = next(o for o in dataset.organisations if o.slug == "dresden")
    assert (dresden.latitude, dresden.longitude) == (Decimal("51.0493"), Decimal("13.7381"))
    assert next(o for o in dataset.organisations if o.slug == "vitako").latitude is None
    document = {t: [record_fields(r) for r in getattr(dataset, t)] for t in ("sources", "organisations")}
    assert document["organisations"][2]["latitude"] == "51.0493"
    (tmp_path / "data.json").write_text(json.dumps(document), encoding="utf-8")
    assert read_records(tmp_path / "data.json").organisations == dataset.organisations
    (tmp_path / "data.xlsx").write_bytes(workbook_of(dataset))
    assert read_records(tmp_path / "data.xlsx").organisations == dataset.organisations


def test_coordinates_a_spreadsheet_typed_as_numbers_are_read(minimal: Path, tmp_path: Path) -> None:
    import openpyxl

    from lod.records.workbook import workbook_of

    _with_coordinates(minimal, {"dresden": ("51.0493", "13.7381")})
    book = openpyxl.load_workbook(io.BytesIO(workbook_of(read_records(minimal))))
    sheet = book["organisations"]
    header = [cell.value for cell in sheet[1]]
    for name, number in (("latitude", 51.0493), ("longitude", 13.7381)):
        sheet.cell(row=4, column=header.index(name) + 1, value=number)
    book.save(tmp_path / "book.xlsx")
    dresden = read_records(tmp_path / "book.xlsx").organisations[2]
    assert (dresden.slug, dresden.latitude, dresden.longitude) == (
        "dresden", Decimal("51.0493"), Decimal("13.7381"))


@pytest.mark.parametrize(("points", "fragments"), [
    ({"dresden": ("51,0493", "13.7381")},
     ["organisations.csv:4", "'latitude'", "'51,0493'", "decimal comma: write 51.0493", "from -90 to 90"]),
    ({"dresden": ("13.7381", "191.0493")},
     ["organisations.csv:4", "'longitude'", "'191.0493'", "out of range", "from -180 to 180"]),
    ({"dresden": ("-90.5", "13.7381")}, ["organisations.csv:4", "'latitude'", "out of range", "-90 to 90"]),
    ({"dresden": ("51\u00b0 3\u2032 N", "13.7381")},
     ["organisations.csv:4", "'latitude'", "degrees, minutes and seconds"]),
    ({"dresden": ("51.0493", "")}, ["organisations.csv:4", "'longitude'", "required when latitude is given"]),
    ({"kgst": ("", "6.9515")}, ["organisations.csv:2", "'latitude'", "required when longitude is given"]),
])
def test_bad_coordinates_are_located(minimal: Path, points: dict[str, tuple[str, str]],
                                     fragments: list[str]) -> None:
    # Semicolons between the cells, as a German spreadsheet saves them: a decimal comma stays in its cell.
    _with_coordinates(minimal, points, delimiter=";")
    problems = problems_of(minimal)
    assert len(problems) == 1 and all(fragment in problems[0] for fragment in fragments), problems


def test_bad_coordinates_are_said_in_german(minimal: Path) -> None:
    from lod.messages import speaking

    _with_coordinates(minimal, {"dresden": ("51,0493", "13.7381")}, delimiter=";")
    with speaking("de"):
        [problem] = problems_of(minimal)
    assert "Dezimalkomma: 51.0493 mit Punkt schreiben" in problem and "von -90 bis 90" in problem, problem
