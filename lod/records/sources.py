"""Reading records from CSV files or JSON, with the file and line of every problem.

A data directory holds one CSV file per record type (``organisations.csv``, …; see
``data/README.md``), and may hold the records an import wrote in a folder of their own
(``gemeindeverzeichnis/``: its ``sources.csv``, ``organisations.csv`` and ``statements.csv``),
read with the others as one dataset. A JSON file holds an object with the same names as keys, each
a list of objects whose keys are the CSV columns (lists for columns with several values).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from lod.errors import InputError, Problem, UsageError
from lod.messages import tr, tr_n
from lod.records.model import (
    RECORD_TYPES,
    Column,
    Dataset,
    Origin,
    Record,
    Schemes,
    check_dataset,
    columns,
    resolve_keys,
)

SEPARATOR = ";"
"""Between the values of a column that holds several."""

_BY_COLLECTION = {t.collection: t for t in RECORD_TYPES}

IMPORTED = {"gemeindeverzeichnis": ("sources", "organisations", "statements")}
"""Folders of a data directory that imports write (see :mod:`lod.records.gemeinden`), and the record
files each may hold."""


@dataclass
class _Reading:
    """What reading found: the records, the problems, and the records that could not be made
    (by type and slug, so that references to them are not reported as dangling too)."""

    records: dict[str, list[Record]] = field(
        default_factory=lambda: {t.collection: [] for t in RECORD_TYPES})
    problems: list[Problem] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    unread_types: set[str] = field(default_factory=set)
    """Record types of a file that could not be read at all: references to them are not checked."""
    notes: list[str] = field(default_factory=list)

    def add(self, record_type: type[Record], values: Mapping[str, Any], origin: Origin) -> None:
        record, problems = build_record(record_type, values, origin)
        if record:
            self.records[record_type.collection].append(record)
            return
        self.problems.extend(problems)
        slug = str(values.get("slug") or "").strip()
        if slug:
            self.unreadable.append((record_type.kind_name, slug))


def read_records(path: str | Path, *, schemes: Schemes | None = None,
                 notes: list[str] | None = None) -> Dataset:
    """Read and check every record in a data directory of CSV files, one JSON file or one
    Excel workbook (:mod:`.workbook`).

    Raises :class:`~lod.errors.InputError` listing every problem found, each with its file and
    line; returns only a dataset in which every reference resolves and every value is allowed.
    ``notes`` gets what a reader should know that is no problem (a CSV file's separator other
    than the comma).

    >>> dataset = read_records("data/")            # doctest: +SKIP
    >>> len(dataset.organisations)                 # doctest: +SKIP
    """
    path = Path(path)
    reading = _Reading()
    if path.is_dir():
        _read_directory(path, reading)
    elif path.is_file() and path.suffix.lower() == ".json":
        _read_json(path, reading)
    elif path.is_file() and path.suffix.lower() == ".xlsx":
        _read_workbook(path, reading)
    elif path.exists():
        raise UsageError(tr("{path}: expected a directory of CSV files, a .json file or an .xlsx workbook",
                            path=path))
    else:
        raise UsageError(tr("{path}: no such file or directory", path=path))
    dataset = Dataset(**{name: tuple(items) for name, items in reading.records.items()})  # type: ignore[arg-type]
    dataset = resolve_keys(dataset)
    problems = reading.problems
    if schemes is None:
        from lod.schemes import load_schemes  # the ontology is only parsed when it is needed

        schemes = load_schemes()
    problems.extend(check_dataset(dataset, schemes, unreadable=reading.unreadable,
                                  unread_types=reading.unread_types))
    if notes is not None:
        notes.extend(reading.notes)
    if problems:
        raise InputError(problems)
    return dataset


def build_record(record_type: type[Record], values: Mapping[str, Any], origin: Origin,
                 ) -> tuple[Record | None, list[Problem]]:
    """Make one record from its column values (strings, or lists for columns with several).

    Returns the record, or ``None`` and the problems of every column that is wrong."""
    specs = columns(record_type)
    file, line = origin.file, origin.line
    problems = [Problem(file, line, name, None, tr("unknown column; known: {known}", known=", ".join(specs)))
                for name in values if name not in specs]
    arguments: dict[str, Any] = {}
    for name, spec in specs.items():
        texts = _texts(values.get(name), spec)
        if not texts:
            if spec.required:
                problems.append(Problem(file, line, name, None,
                                        tr("is required: {allowed}", allowed=spec.type.allowed)))
            continue
        parsed = []
        for text in texts:
            try:
                parsed.append(spec.type.parse(text))
            except ValueError as error:
                problems.append(Problem(file, line, name, text, str(error)))
        arguments[name] = tuple(parsed) if spec.many else parsed[0] if parsed else None
    if problems:
        return None, problems
    return record_type(origin=origin, **arguments), []


def _texts(value: Any, spec: Column) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else (
        str(value).split(SEPARATOR) if spec.many else [str(value)])
    return [text for text in (str(item).strip() for item in items) if text]


def _read_directory(directory: Path, reading: _Reading) -> None:
    known = ", ".join(f"{name}.csv" for name in _BY_COLLECTION)
    for path in sorted(directory.glob("*.csv")):
        if path.stem not in _BY_COLLECTION:
            reading.problems.append(Problem(str(path), None, None, None,
                                            tr("unknown file; expected {expected}", expected=known)))
    if not (directory / "sources.csv").is_file():
        reading.problems.append(Problem(str(directory / "sources.csv"), None, None, None,
                                        tr("is missing: every record cites a source")))
        reading.unread_types.add("source")  # said once, not again for every citation
    for record_type in RECORD_TYPES:
        path = directory / f"{record_type.collection}.csv"
        if path.is_file():
            _read_csv(path, record_type, reading)
    for folder, collections in IMPORTED.items():
        if not (directory / folder).is_dir():
            continue
        for path in sorted((directory / folder).glob("*.csv")):
            if path.stem not in collections:
                reading.problems.append(Problem(str(path), None, None, None, tr(
                    "unknown file; expected {expected}",
                    expected=", ".join(f"{name}.csv" for name in collections))))
        for name in collections:
            path = directory / folder / f"{name}.csv"
            if path.is_file():
                _read_csv(path, _BY_COLLECTION[name], reading)


def read_collection(path: Path, record_type: type[Record]) -> list[Record]:
    """The records of one CSV file, each checked on its own (not its references).

    Raises :class:`~lod.errors.InputError` with every problem; an absent file has no records."""
    if not path.is_file():
        return []
    reading = _Reading()
    _read_csv(path, record_type, reading)
    if reading.problems:
        raise InputError(reading.problems)
    return reading.records[record_type.collection]


def table(record_type: type[Record], records: Iterable[Record]) -> list[list[str]]:
    """Records as the rows of their CSV file or sheet: a header of every column (sources last),
    then a row per record, several values joined by ';'."""
    names = sorted(columns(record_type), key=lambda name: name == "sources")
    rows = [names]
    for record in records:
        values = record_fields(record)
        rows.append([SEPARATOR.join(v) if isinstance(v := values.get(name, ""), list) else v
                     for name in names])
    return rows


def format_csv(record_type: type[Record], records: Iterable[Record]) -> str:
    """Records as the text of their CSV file: a header of every column, a row per record.

    >>> format_csv(Statement, dataset.statements)   # doctest: +SKIP
    'slug,subject,indicator,value,qualifier,as_of,quote,sources\\n...'
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table(record_type, records))
    return buffer.getvalue()


def _read_csv(path: Path, record_type: type[Record], reading: _Reading) -> None:
    file = str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        reading.problems.append(Problem(
            file, line, None, None,
            tr("is not UTF-8 (byte {byte:#04x}{likely_encoding}); save it as UTF-8 "
               "(in Excel: “CSV UTF-8”; in LibreOffice: character set Unicode (UTF-8)); "
               "references to its records are not checked until it can be read",
               byte=raw[error.start], likely_encoding=_likely_encoding(raw))))
        reading.unread_types.add(record_type.kind_name)
        return
    delimiter = _delimiter(text, record_type)
    if delimiter != ",":
        reading.notes.append(tr("{file}: columns separated by {separator}",
                                file=file, separator=_delimiter_name(delimiter)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, [])
    except csv.Error as error:
        reading.problems.append(Problem(file, 1, None, None,
                                        tr("malformed CSV header: {error}", error=error)))
        return

    def rows() -> Iterator[tuple[int, list[str]]]:
        end = reader.line_num
        while True:
            start = end + 1  # the line a row starts on; a quoted cell may span several
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                reading.problems.append(Problem(file, start, None, None,
                                                tr("malformed CSV: {error}", error=error)))
                return
            end = reader.line_num
            yield start, row

    _read_table(file, header, rows(), record_type, reading)


def _read_table(file: str, header: list[str], rows: Iterable[tuple[int, list[str]]],
                record_type: type[Record], reading: _Reading, *, sheet: bool = False) -> None:
    """The records of a CSV file or a ``sheet``: its header, then its rows with their line numbers.
    A sheet's rows may end before the last column or go on with empty cells."""
    header = [name.strip() for name in header]
    while sheet and header and not header[-1]:
        header.pop()
    if not any(header):
        reading.problems.append(Problem(file, 1, None, None, tr("has no header row")))
        reading.unread_types.add(record_type.kind_name)
        return
    wrong_header = list(_header_problems(file, header, record_type))
    if wrong_header:  # its rows are not read: references into them are not checked either
        reading.problems.extend(wrong_header)
        reading.unread_types.add(record_type.kind_name)
        return
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if sheet and not any(cell.strip() for cell in row[len(header):]):
            row = (row + [""] * len(header))[:len(header)]  # cut or filled to the header's width
        if len(row) != len(header):
            reading.problems.append(Problem(file, line, None, None, tr_n(
                "has {count} cell but the header has {header_cells}",
                "has {count} cells but the header has {header_cells}", len(row), header_cells=len(header))))
            continue
        reading.add(record_type, dict(zip(header, row, strict=True)), Origin(file, line))


def _read_workbook(path: Path, reading: _Reading) -> None:
    from lod.records.workbook import label, read_sheets  # openpyxl only where a workbook is read

    sheets, problems = read_sheets(path)
    reading.problems.extend(problems)
    known = ", ".join(_BY_COLLECTION)
    for name in sheets:
        if name not in _BY_COLLECTION:
            reading.problems.append(Problem(label(path, name), None, None, None,
                                            tr("unknown sheet; expected sheets named {known}", known=known)))
    if sheets and "sources" not in sheets:
        reading.problems.append(Problem(label(path, "sources"), None, None, None,
                                        tr("is missing: every record cites a source")))
        reading.unread_types.add("source")
    for record_type in RECORD_TYPES:
        rows = sheets.get(record_type.collection)
        if rows:
            _read_table(label(path, record_type.collection), rows[0][1], rows[1:], record_type, reading,
                        sheet=True)


_DELIMITERS = (",", ";", "\t")
"""The separators a CSV file may have, the comma first (it wins a tie)."""


def _delimiter_name(delimiter: str) -> str:
    """How a note names a separator, in the current language."""
    return {",": tr("commas"), ";": tr("semicolons ';'"), "\t": tr("tabs")}[delimiter]


def _delimiter(text: str, record_type: type[Record]) -> str:
    """The separator of a CSV file: the comma, or the semicolon or tab that German spreadsheet
    programs write, whichever splits the header into the most known column names (the comma on
    a tie)."""
    header = text.split("\n", 1)[0]
    known = columns(record_type)
    return max(_DELIMITERS, key=lambda d: sum(name.strip() in known for name in header.split(d)))


def _likely_encoding(raw: bytes) -> str:
    """Which encoding the bytes are likely in, as a note for the message ('' if none is)."""
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return tr(", which looks like Windows-1252")


def _header_problems(file: str, header: list[str], record_type: type[Record]) -> Iterable[Problem]:
    specs = columns(record_type)
    for name in header:
        if name not in specs:
            yield Problem(file, 1, name or tr("(empty)"), None,
                          tr("unknown column; known: {known}", known=", ".join(specs)))
        elif header.count(name) > 1:
            yield Problem(file, 1, name, None, tr("appears twice in the header"))
    for name, spec in specs.items():
        if spec.required and name not in header and not _derived(record_type, name):
            yield Problem(file, 1, name, None, tr("required column is missing from the header"))


def _derived(record_type: type[Record], name: str) -> bool:
    return name == "slug" and hasattr(record_type, "slug_parts")


def _read_json(path: Path, reading: _Reading) -> None:
    file = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = getattr(error, "lineno", None)
        reading.problems.append(Problem(file, line, None, None,
                                        tr("is not valid UTF-8 JSON: {error}", error=error)))
        return
    if not isinstance(document, dict):
        reading.problems.append(Problem(file, None, None, None,
                                        tr("must hold a JSON object of record lists")))
        return
    reading.problems.extend(
        Problem(file, None, key, None,
                tr("unknown record list; known: {known}", known=", ".join(_BY_COLLECTION)))
        for key in document if key not in _BY_COLLECTION)
    for record_type in RECORD_TYPES:
        items = document.get(record_type.collection, [])
        if not isinstance(items, list):
            reading.problems.append(Problem(file, None, record_type.collection, None, tr("must be a list")))
            continue
        for position, item in enumerate(items):
            origin = Origin(f"{file}#/{record_type.collection}/{position}")
            if isinstance(item, dict):
                reading.add(record_type, item, origin)
            else:
                reading.problems.append(Problem(origin.file, None, None, None, tr("must be a JSON object")))


def record_fields(record: Record) -> dict[str, Any]:
    """A record's column values, as :func:`build_record` takes them (for writing JSON)."""
    specs = columns(type(record))
    out: dict[str, Any] = {}
    for f in fields(record):
        if f.name not in specs:
            continue
        value = getattr(record, f.name)
        if value is None or value == ():
            continue
        out[f.name] = [str(v) for v in value] if specs[f.name].many else str(value)
    return out
