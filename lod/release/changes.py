"""What changed from one release to the next: the triples added and removed, and the records added,
removed and changed, each changed one with the properties that changed. Every release keeps them
beside its dumps:

    changes/changes.json   the summary: the release replaced, counts, the records by IRI
    changes/added.nt.gz    the triples added, as N-Triples, sorted
    changes/removed.nt.gz  the triples removed

Two releases are compared by their N-Triples dumps (the data, the default graph): the older one's
lines are held as digests in a set and the newer one's streamed past it, so the time is linear in
the size of both and the memory in the older one. A record is a subject IRI; ``…#interval`` and other
``#`` parts count as their record. Triples are compared as written: a blank node's label is the
store's, so a triple with a blank node shows as removed and added when its label changes (the
records of `lod` have none; RDF inputs may).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox

from lod.files import write_atomically
from lod.formats import RdfFormat
from lod.messages import tr
from lod.rdf.mapping import triples
from lod.rdf.store import to_oxigraph
from lod.records.model import Dataset
from lod.records.sources import read_records
from lod.release.layout import CURRENT, Release, load_release, open_release
from lod.release.manifest import DumpFile

FOLDER = "changes"
SUMMARY, ADDED, REMOVED = "changes.json", "added.nt.gz", "removed.nt.gz"


@dataclass(frozen=True)
class Changes:
    """The difference between two versions of the data. ``previous`` is the release replaced
    (None for the first release, or when data directories were compared)."""

    previous: str | None
    triples_added: int
    triples_removed: int
    records_added: tuple[str, ...] = ()
    records_removed: tuple[str, ...] = ()
    records_changed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Record IRI to the properties (IRIs) of its triples added or removed."""

    @property
    def empty(self) -> bool:
        return not (self.triples_added or self.triples_removed)

    def as_json(self) -> dict[str, Any]:
        """The document of ``changes.json``."""
        return {"previous": self.previous,
                "triples": {"added": self.triples_added, "removed": self.triples_removed},
                "records": {"added": list(self.records_added), "removed": list(self.records_removed),
                            "changed": {iri: list(p) for iri, p in self.records_changed.items()}}}

    def to_json(self) -> str:
        return json.dumps(self.as_json(), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Changes:
        document: dict[str, Any] = json.loads(text)
        records = document["records"]
        return cls(previous=document["previous"], triples_added=document["triples"]["added"],
                   triples_removed=document["triples"]["removed"],
                   records_added=tuple(records["added"]), records_removed=tuple(records["removed"]),
                   records_changed={iri: tuple(p) for iri, p in records["changed"].items()})

    def summary(self) -> str:
        """One line for people, in the current language."""
        if self.empty:
            return tr("no change")
        return tr("records: {added} added, {removed} removed, {changed} changed; triples: "
                  "{triples_added} added, {triples_removed} removed", added=len(self.records_added),
                  removed=len(self.records_removed), changed=len(self.records_changed),
                  triples_added=self.triples_added, triples_removed=self.triples_removed)

    def lines(self, *, limit: int | None = 20) -> Iterator[str]:
        """The summary, then the records by kind of change (at most ``limit`` of each)."""
        yield self.summary()
        kinds = ((tr("added"), [(iri, "") for iri in self.records_added]),
                 (tr("removed"), [(iri, "") for iri in self.records_removed]),
                 (tr("changed"), [(iri, f" ({', '.join(p)})") for iri, p in self.records_changed.items()]))
        for label, found in kinds:
            if found:
                yield f"{label}: {len(found)}"
            for iri, detail in found[:limit]:
                yield f"  {iri}{detail}"
            if limit is not None and len(found) > limit:
                yield "  " + tr("… and {number} more", number=len(found) - limit)


@dataclass(frozen=True)
class Difference:
    """The lines two N-Triples documents do not share, sorted, and what they mean for records."""

    added: list[bytes]
    removed: list[bytes]
    changes: Changes


Lines = Callable[[], Iterable[bytes]]
"""N-Triples lines that can be read again: a file is read twice rather than held in memory."""


def compare(old: Lines, new: Iterable[bytes], *, previous: str | None = None) -> Difference:
    """The difference from the N-Triples lines of ``old`` to ``new``, each listing a triple once
    (as a store's dump does; blank lines and comments are skipped). ``old`` is held as 128-bit
    digests of its lines (a fifth of their size, and a collision less likely than a disk error)
    and read a second time for the lines removed; ``new`` is read once."""
    remaining: set[bytes] = set()
    old_subjects: set[bytes] = set()
    for line in _triples(old()):
        remaining.add(blake2b(line, digest_size=16).digest())
        old_subjects.add(line[:line.find(b" ")])
    added: set[bytes] = set()
    new_subjects: set[bytes] = set()
    for line in _triples(new):
        new_subjects.add(line[:line.find(b" ")])
        digest = blake2b(line, digest_size=16).digest()
        if digest in remaining:
            remaining.discard(digest)
        else:
            added.add(line)
    removed = {line for line in _triples(old()) if blake2b(line, digest_size=16).digest() in remaining} \
        if remaining else set()
    old_records, new_records = set(map(_record, old_subjects)), set(map(_record, new_subjects))
    changed: dict[bytes, set[bytes]] = {}
    for line in (*added, *removed):
        subject, predicate, _ = line.split(b" ", 2)
        record = _record(subject)
        if record in old_records and record in new_records:
            changed.setdefault(record, set()).add(predicate)
    changes = Changes(previous, len(added), len(removed),
                      records_added=_iris(new_records - old_records),
                      records_removed=_iris(old_records - new_records),
                      records_changed={_iri(r): _iris(p) for r, p in sorted(changed.items())})
    return Difference(sorted(added), sorted(removed), changes)


def _triples(lines: Iterable[bytes]) -> Iterator[bytes]:
    for line in lines:
        line = line.strip()
        if line and line[0] != 0x23:  # not a comment, '#'
            yield line


def _record(subject: bytes) -> bytes:
    """The record a subject belongs to: itself, or for ``<…#part>`` ``<…>``."""
    return subject.partition(b"#")[0] + b">" if subject.startswith(b"<") and b"#" in subject else subject


def _iri(term: bytes) -> str:
    text = term.decode("utf-8")
    return text[1:-1] if text.startswith("<") else text


def _iris(terms: Iterable[bytes]) -> tuple[str, ...]:
    return tuple(sorted(map(_iri, terms)))


def write_changes(directory: Path, difference: Difference) -> None:
    """``difference`` as ``directory/changes/``: the summary and the two files of triples."""
    folder = directory / FOLDER
    folder.mkdir(exist_ok=True)
    for name, lines in ((ADDED, difference.added), (REMOVED, difference.removed)):
        with (folder / name).open("wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as compressed:
            for line in lines:
                compressed.write(line + b"\n")
    write_atomically(folder / SUMMARY, difference.changes.to_json().encode("utf-8"))


def read_changes(release_path: Path) -> Changes | None:
    """What a release recorded as changed, or None for a release built before lod kept changes."""
    path = release_path / FOLDER / SUMMARY
    return Changes.from_json(path.read_text(encoding="utf-8")) if path.is_file() else None


def ntriples_of(dumps: Iterable[DumpFile]) -> DumpFile:
    """The N-Triples dump among a release's dumps."""
    return next(d for d in dumps if d.format is RdfFormat.NTRIPLES)


def ntriples_dump(release: Release) -> Path:
    """The N-Triples dump of a release's data, which changes are computed from."""
    return release.path / "dumps" / ntriples_of(release.manifest.dumps).name


def difference(old: Path, new: Path, *, base_iri: str) -> Difference:
    """What changed from ``old`` to ``new``, each a release directory (its current release), a
    build of one (``builds/{id}``), or records (a data directory, a .json file or a workbook),
    which are mapped under the base IRI of the release beside them, else ``base_iri``."""
    releases = {path: _release_at(path) for path in (old, new)}
    base = next((r.manifest.base_iri for r in releases.values() if r is not None), base_iri)

    def lines(path: Path) -> Lines:
        release = releases[path]
        if release is not None:
            return lambda: ntriples_lines(ntriples_dump(release))
        records = records_ntriples(read_records(path), base_iri=base)
        return lambda: records

    before = releases[old]
    return compare(lines(old), lines(new)(), previous=before.manifest.release_id if before else None)


def _release_at(path: Path) -> Release | None:
    if (path / "manifest.json").is_file():
        return load_release(path, check_store=False)
    if (path / CURRENT).exists():
        return open_release(path, check_store=False)
    return None


def ntriples_lines(path: Path) -> Iterator[bytes]:
    """The lines of an N-Triples file, gzipped (``.gz``) or not, read as a stream in chunks of a
    megabyte (splitting a chunk is faster than reading line by line)."""
    with (gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")) as file:
        rest = b""
        while chunk := cast(IO[bytes], file).read(1 << 20):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest


def records_ntriples(dataset: Dataset, *, base_iri: str) -> list[bytes]:
    """The records' triples as the N-Triples dump of their release writes them (Oxigraph's
    serialiser), so that data directories and releases compare line by line."""
    store = ox.Store()
    store.bulk_extend(ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), ox.DefaultGraph())  # type: ignore[arg-type]
                      for s, p, o in triples(dataset, base_iri=base_iri))
    dumped = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    return dumped.splitlines() if dumped else []
