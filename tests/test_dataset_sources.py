"""The dataset in data/ states nothing its sources do not: what it quotes or prints as given is
in the cited text, and its figures are published as the same literal by every path.

The texts are the seed documents of ../shared/seeds/ (the `document` of a source). The tests that
read them skip when that folder is absent; the rest need only data/.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.namespace import XSD

from lod import read_records
from lod.rdf.mapping import number_literal
from lod.records.model import Cooperation, Dataset, Event, Person, Record, Source, Statement
from lod.release.layout import open_release
from lod.release.publish import build_release
from lod.settings import Settings

from .conftest import ROOT, SHARED

DATA = ROOT / "data"
SEEDS = SHARED / "seeds"


@cache
def dataset() -> Dataset:
    return read_records(DATA)


def normalised(text: str) -> str:
    """Runs of whitespace as one space: a text's line breaks are not part of what it says."""
    return re.sub(r"\s+", " ", text).strip()


@cache
def seed_text(document: str) -> str:
    return normalised((SEEDS / document).read_text(encoding="utf-8"))


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"the seed documents are not here: {SEEDS}")
    return SEEDS


def sources() -> dict[str, Source]:
    return {s.slug: s for s in dataset().sources}


def cited_texts(slugs: tuple[str, ...]) -> list[str]:
    """The texts of the cited sources that are seed documents, in the order they are cited."""
    return [seed_text(source.document) for slug in slugs
            if (source := sources()[slug]).document]


def by_slug(records: Iterable[Record]) -> list[object]:
    return [pytest.param(record, id=record.slug) for record in records]


DOCUMENTED = tuple(s for s in dataset().sources if s.document)
QUOTED = tuple(s for s in dataset().statements if s.quote)
NAMED = (*dataset().cooperations, *dataset().events)


def test_the_dataset_has_what_the_tests_check() -> None:
    assert DOCUMENTED and QUOTED and dataset().people and NAMED


@pytest.mark.parametrize("source", by_slug(DOCUMENTED))
def test_document_is_a_seed(seeds: Path, source: Source) -> None:
    assert source.document is not None
    assert (seeds / source.document).is_file(), (
        f"sources.csv {source.slug}: document {source.document} is not in {seeds}")


@pytest.mark.parametrize("source", by_slug(DOCUMENTED))
def test_title_as_printed(seeds: Path, source: Source) -> None:
    assert source.document is not None
    assert normalised(source.title) in seed_text(source.document), (
        f"sources.csv {source.slug}: title {source.title!r} is not in {source.document}")


@pytest.mark.parametrize("statement", by_slug(QUOTED))
def test_quote_is_verbatim_in_the_cited_seed(seeds: Path, statement: Statement) -> None:
    # The quote is published in the language of the first source (lod.rdf.mapping): it is that
    # source's sentence.
    first = sources()[statement.sources[0]]
    assert first.document, f"statements.csv {statement.slug}: its first source {first.slug} has no document"
    assert statement.quote is not None
    assert normalised(statement.quote) in seed_text(first.document), (
        f"statements.csv {statement.slug}: the quote is not verbatim in {first.document}")


@pytest.mark.parametrize("person", by_slug(dataset().people))
def test_name_of_a_person_as_printed(seeds: Path, person: Person) -> None:
    printed = normalised(f"{person.honorific_prefix or ''} {person.name}")
    texts = cited_texts(person.sources)
    assert texts, f"people.csv {person.slug}: no cited source is a seed document"
    assert any(printed in text for text in texts), (
        f"people.csv {person.slug}: {printed!r} is in none of its sources")


@pytest.mark.parametrize("record", by_slug(NAMED))
def test_name_is_the_texts_or_marked_descriptive(seeds: Path, record: Cooperation | Event) -> None:
    """A name no text uses is a label the dataset made up, and says so: in square brackets."""
    name = record.name_de
    if name.startswith("[") and name.endswith("]"):
        assert not record.name_en or (record.name_en.startswith("[") and record.name_en.endswith("]"))
        return
    assert any(normalised(name) in text for text in cited_texts(record.sources)), (
        f"{record.collection}.csv {record.slug}: name {name!r} is in none of its sources; "
        "quote the name a source uses, or mark a descriptive label as [label]")


# --- figures: one literal, whichever way the data is published ------------------------------------


@pytest.mark.parametrize(("value", "literal"), [
    ("39", Literal("39", datatype=XSD.integer)),
    ("39.0", Literal("39", datatype=XSD.integer)),
    ("2500000000", Literal("2500000000", datatype=XSD.integer)),
    ("-0", Literal("0", datatype=XSD.integer)),
    ("2.5", Literal("2.5", datatype=XSD.decimal)),
    ("2.50", Literal("2.5", datatype=XSD.decimal)),
    ("0.125", Literal("0.125", datatype=XSD.decimal)),
])
def test_a_count_is_an_integer_and_every_number_canonical(value: str, literal: Literal) -> None:
    made = number_literal(Decimal(value))
    assert (str(made), made.datatype) == (str(literal), literal.datatype)


def test_export_and_release_write_the_same_literals(tmp_path: Path) -> None:
    exported = tmp_path / "export.nt"
    done = subprocess.run([sys.executable, "-m", "lod", "export", str(DATA), "-o", str(exported)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    build_release(DATA, settings=Settings(release_dir=tmp_path / "release"), allow_warnings=True)
    release = open_release(tmp_path / "release")
    dumped = gzip.decompress((release.path / "dumps" / "lod-ikz.nt.gz").read_bytes()).decode()
    export_lines = set(exported.read_text(encoding="utf-8").splitlines()) - {""}
    dump_lines = set(dumped.splitlines()) - {""}
    count = ('<https://w3id.org/lod-ikz/id/statement/kaaw-member-count-2017> <https://schema.org/value> '
             '"39"^^<http://www.w3.org/2001/XMLSchema#integer> .')
    assert count in export_lines and count in dump_lines
    assert export_lines == dump_lines
