"""Records in an Excel workbook (``.xlsx``): one sheet per record type, named like its CSV file
without ``.csv`` (``organisations``, ``memberships``, …), with the same columns, a header row
first. :mod:`.sources` reads it like a data directory; :func:`workbook_of` writes records
back (:func:`workbook_of`), so a team can round-trip between ``lod`` and a spreadsheet program.

Spreadsheet programs turn what looks like a number or a date into one. Read back, a number is
written without a decimal point where it has none (``2020``), a date as ``YYYY-MM-DD``; a key
typed as a number has lost its leading zero (``5358008`` for the AGS ``05358008``), which the
message says. The workbook written here holds every value as text, so nothing is turned.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from lod.errors import Problem
from lod.messages import tr
from lod.records.model import AGS, ARS, KREISSCHLUESSEL, RECORD_TYPES, Dataset
from lod.records.sources import table

KEY_COLUMNS = {"ags": AGS, "kreisschluessel": KREISSCHLUESSEL, "ars": ARS}
"""Columns of official keys, whose leading zero a number loses."""


def label(path: Path, sheet: str) -> str:
    """How problems name a sheet: ``book.xlsx[organisations]``, then ``:row`` and the column."""
    return f"{path}[{sheet}]"


def read_sheets(path: Path) -> tuple[dict[str, list[tuple[int, list[str]]]], list[Problem]]:
    """Each sheet's rows, by sheet name, as (row number, cells as text), the header row first; and
    the problems of the file itself (not a workbook, numbers in key columns)."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        return {}, [Problem(str(path), None, None, None,
                            tr("cannot be read as an Excel workbook (.xlsx): {error}", error=error))]
    sheets: dict[str, list[tuple[int, list[str]]]] = {}
    problems: list[Problem] = []
    try:
        for sheet in book.worksheets:
            rows: list[tuple[int, list[str]]] = []
            header: list[str] = []
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                texts = [_text(cell) for cell in cells]
                if number == 1:
                    header = [text.strip() for text in texts]
                else:
                    problems.extend(_lost_zeros(path, sheet.title, number, header, cells, texts))
                rows.append((number, texts))
            sheets[sheet.title] = rows
    finally:
        book.close()
    return sheets, problems


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, datetime.datetime):
        return cell.date().isoformat() if cell.time() == datetime.time() else cell.isoformat()
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _lost_zeros(path: Path, sheet: str, row: int, header: list[str], cells: tuple[object, ...],
                texts: list[str]) -> Iterator[Problem]:
    """A problem for each key typed as a number that lost its leading zero; its text gets the
    zero back, so that the cell is reported once, for what is wrong with it."""
    for index, (name, cell) in enumerate(zip(header, cells, strict=False)):
        key = KEY_COLUMNS.get(name)
        if key is None or not isinstance(cell, int) or isinstance(cell, bool):
            continue
        text = texts[index]
        if not key.pattern.fullmatch(text) and key.pattern.fullmatch("0" + text):
            yield Problem(label(path, sheet), row, name, text,
                          tr("is a number in the workbook, which lost the key's leading zero (0{digits}): "
                             "format the column as text and type the key with its zeros", digits=text))
            texts[index] = "0" + text


def workbook_of(dataset: Dataset) -> bytes:
    """The records as a workbook file's bytes: a sheet per record type, every value as text,
    several values joined by ';' as in the CSV files."""
    book = openpyxl.Workbook(write_only=True)
    for record_type in RECORD_TYPES:
        sheet = book.create_sheet(record_type.collection)
        for row in table(record_type, getattr(dataset, record_type.collection)):
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
