"""A new publishing project (``lod init DIR``): what a publisher fills in, and how to go on.

    DIR/
      data/*.csv      one file per record type, the header only
      data.xlsx       the same as a workbook: a sheet per record type, each header cell noting
                      what the column holds (choose one of the two)
      lod.toml        the settings to fill in: publisher, base IRI, licence
      README.md       the steps, in German and English: edit, lod validate, lod build, lod serve
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font

from lod.errors import UsageError
from lod.files import write_atomically
from lod.messages import speaking, tr
from lod.records.model import RECORD_TYPES, Column, ConceptRef, Record, Ref, columns
from lod.records.sources import format_csv, table

SETTINGS = """\
# The settings of this project (lod build --config lod.toml; or LOD_CONFIG=lod.toml).
# Die Einstellungen dieses Projekts. Every setting: docs/operations.md of lod.

# Who publishes the data (DCAT publisher) / Wer die Daten veröffentlicht:
publisher_name = "{publisher}"
publisher_homepage = ""
publisher_email = ""

# The IRIs of your data begin with this, and must stay the same once published (a domain you control,
# ending in '/') / Der Anfang aller IRIs Ihrer Daten; nach der ersten Veröffentlichung nicht mehr ändern:
base_iri = "https://example.org/lod/"

# The licence, from the dcat-ap.de list / Die Lizenz, aus der Liste von dcat-ap.de:
license = "http://dcat-ap.de/def/licenses/cc-by/4.0"

# The file names of the downloads / Der Name der Download-Dateien:
dataset_name = "{name}"
"""

README = """\
# {name}

## Deutsch

Dieses Verzeichnis ist ein Publikationsprojekt von `lod`.

1. Tragen Sie die Einstellungen in `lod.toml` ein: Ihre Organisation, den Anfang Ihrer IRIs
   (`base_iri`, eine Adresse unter Ihrer Domain) und die Lizenz.
2. Erfassen Sie Ihre Daten, entweder in den CSV-Dateien in `data/` (eine Datei je Art von
   Datensatz, Komma oder Semikolon als Trennzeichen, UTF-8) oder in der Arbeitsmappe
   `data.xlsx` (ein Blatt je Art; die Kopfzellen erklären, was in eine Spalte gehört). Jeder
   Datensatz nennt in `sources` mindestens eine Quelle aus `sources`.
3. Prüfen: `lod validate data/` (oder `lod validate data.xlsx`). Jeder Fehler nennt Datei, Zeile,
   Spalte und was erlaubt ist.
4. Veröffentlichen: `lod build --config lod.toml data/` (oder `data.xlsx`). Nur Daten, die die
   Prüfung bestehen, werden veröffentlicht; die vorige Veröffentlichung bleibt bis dahin bestehen.
5. Anbieten: `lod serve --config lod.toml`, dann http://127.0.0.1:8000/ im Browser: Seiten,
   SPARQL-Endpunkt, API und Downloads.

## English

This directory is a publishing project of `lod`.

1. Fill in `lod.toml`: your organisation, the beginning of your IRIs (`base_iri`, an address on
   your domain) and the licence.
2. Enter your data, either in the CSV files in `data/` (one file per kind of record, commas or
   semicolons between cells, UTF-8) or in the workbook `data.xlsx` (a sheet per kind; the header
   cells say what a column holds). Every record names at least one source from `sources` in its
   `sources` column.
3. Check: `lod validate data/` (or `lod validate data.xlsx`). Every error names the file, row,
   column and what is allowed.
4. Publish: `lod build --config lod.toml data/` (or `data.xlsx`). Only data that passes the check
   is published; the release before stays served until then.
5. Serve: `lod serve --config lod.toml`, then open http://127.0.0.1:8000/: pages, the SPARQL
   endpoint, the API and the downloads.
"""


def start_project(directory: Path, *, publisher: str = "") -> list[Path]:
    """Write a new project into ``directory`` (absent or empty); returns the files written.
    Raises :class:`UsageError` when ``directory`` holds anything: nothing is overwritten."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(tr("{directory} exists and is not an empty directory: `lod init` starts a new "
                            "project and overwrites nothing", directory=directory))
    name = _slug(directory.resolve().name) or "lod-data"
    files = {directory / "data" / f"{t.collection}.csv": format_csv(t, ()).encode() for t in RECORD_TYPES}
    files[directory / "data.xlsx"] = starter_workbook()
    files[directory / "lod.toml"] = SETTINGS.format(
        publisher=(publisher or "Name Ihrer Organisation / your organisation's name").replace('"', "'"),
        name=name).encode()
    files[directory / "README.md"] = README.format(name=name).encode()
    for path, payload in files.items():
        write_atomically(path, payload)
    return sorted(files)


def _slug(text: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower()).strip("-")


def column_help(record_type: type[Record], name: str, spec: Column) -> str:
    """What a column holds, for a person filling it in (in English, like the rest of the
    workbook's notes, whatever language lod speaks)."""
    kind = spec.type
    if isinstance(kind, Ref):
        what = f"the slug of a {' or '.join(kind.targets)} record"
    elif isinstance(kind, ConceptRef):
        what = f"a concept of the scheme {kind.scheme} (data/README.md of lod lists them)"
    else:
        with speaking("en"):
            what = kind.allowed
    parts = [f"{name}: {what}"]
    if spec.many:
        parts.append("several values separated by ';'")
    parts.append("required" if spec.required and not (name == "slug" and hasattr(record_type, "slug_parts"))
                 else "may stay empty")
    return "; ".join(parts)


def starter_workbook() -> bytes:
    """An empty workbook: a sheet per record type with its header, each header cell's note saying
    what the column holds, cells formatted as text (so keys keep their leading zeros)."""
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    for record_type in RECORD_TYPES:
        sheet = book.create_sheet(record_type.collection)
        [names] = table(record_type, ())
        for index, name in enumerate(names, start=1):
            cell = sheet.cell(row=1, column=index, value=name)
            cell.font = Font(bold=True)
            cell.comment = Comment(column_help(record_type, name, columns(record_type)[name]), "lod")
            letter = cell.column_letter
            sheet.column_dimensions[letter].width = max(12, len(name) + 4)
            for row in range(2, 201):
                sheet.cell(row=row, column=index).number_format = "@"
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
