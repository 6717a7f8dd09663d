"""Records in an Excel workbook: read like a data directory, written back by `lod export`, with
every problem naming the sheet, the row and the column."""

from __future__ import annotations

import csv
import datetime
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from lod import InputError, read_records
from lod.records.model import RECORD_TYPES
from lod.records.sources import format_csv


def lod(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lod", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, check=False)


def same_records(first: Path, second: Path) -> None:
    a, b = read_records(first), read_records(second)
    for record_type in RECORD_TYPES:
        name = record_type.collection
        assert format_csv(record_type, getattr(a, name)) == format_csv(record_type, getattr(b, name)), name


def book_from_directory(directory: Path, path: Path) -> None:
    """A workbook as a user makes one from the CSV files: numbers as numbers, dates as dates, as
    a spreadsheet program types what it reads."""
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for file in sorted(directory.glob("*.csv")):
        sheet = book.create_sheet(file.stem)
        with file.open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.reader(handle)):
                sheet.append([_typed(cell) if number else cell for cell in row])
    book.save(path)


def _typed(cell: str) -> object:
    if cell.isdigit() and not cell.startswith("0"):
        return int(cell)
    try:
        return datetime.date.fromisoformat(cell) if len(cell) == 10 else cell
    except ValueError:
        return cell


def test_export_and_read_back_round_trip(minimal: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    done = lod("export", minimal, "-o", book)
    assert done.returncode == 0, done.stderr
    assert f"records to {book}" in done.stderr
    loaded = openpyxl.load_workbook(book)
    assert loaded.sheetnames == [t.collection for t in RECORD_TYPES]
    same_records(minimal, book)


def test_a_workbook_typed_by_a_spreadsheet_program_reads_the_same(minimal: Path, tmp_path: Path) -> None:
    book = tmp_path / "typed.xlsx"
    book_from_directory(minimal, book)
    cells = [c for sheet in openpyxl.load_workbook(book).worksheets
             for row in sheet.iter_rows(values_only=True) for c in row]
    assert any(isinstance(c, int) for c in cells) and any(isinstance(c, datetime.datetime) for c in cells)
    same_records(minimal, book)


LIBREOFFICE = Path(__file__).parent / "fixtures" / "libreoffice"


def test_a_workbook_saved_by_libreoffice_reads_the_same(minimal: Path) -> None:
    """Calc's own writer (see fixtures/libreoffice/README.md): the same records, and they conform."""
    same_records(minimal, LIBREOFFICE / "minimal.xlsx")
    done = lod("validate", LIBREOFFICE / "minimal.xlsx")
    assert done.returncode == 0, done.stderr


def test_a_key_libreoffice_read_as_a_number_is_named_once() -> None:
    """Calc's CSV import made the AGS 05754008 the number 5754008; the sheet has no sources,
    which is said once, not again for every record citing one."""
    with pytest.raises(InputError) as raised:
        read_records(LIBREOFFICE / "organisations-csv-import.xlsx")
    assert [str(p).partition("]")[2] for p in raised.value.problems] == [
        ":6: column 'ags', value '5754008': is a number in the workbook, which lost the key's leading "
        "zero (05754008): format the column as text and type the key with its zeros",
        ": is missing: every record cites a source"]


def test_problems_name_sheet_row_and_column(minimal: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    assert lod("export", minimal, "-o", book).returncode == 0
    loaded = openpyxl.load_workbook(book)
    sheet = loaded["organisations"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row=3, column=header.index("kind") + 1, value="no-such-kind")
    dresden = next(row for row in range(2, sheet.max_row + 1)
                   if sheet.cell(row=row, column=header.index("slug") + 1).value == "dresden")
    sheet.cell(row=dresden, column=header.index("ags") + 1, value=5358008)  # a key typed as a number
    loaded.create_sheet("notes")
    loaded.save(book)
    with pytest.raises(InputError) as caught:
        read_records(book)
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"{book}[organisations]:3: column 'kind', value 'no-such-kind'")
               for p in found), found
    assert any(p.startswith(f"{book}[organisations]:{dresden}: column 'ags', value '5358008'")
               and "leading zero" in p for p in found), found
    assert any(p.startswith(f"{book}[notes]: unknown sheet") for p in found), found


def test_a_file_that_is_no_workbook(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    book.write_text("slug,kind\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read as an Excel workbook"):
        read_records(book)


def test_build_and_validate_a_workbook(minimal: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    assert lod("export", minimal, "-o", book).returncode == 0
    validated = lod("validate", book)
    assert validated.returncode == 0, validated.stderr
    built = lod("build", book, "--release-dir", tmp_path / "release")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "release" / "current" / "manifest.json").is_file()
