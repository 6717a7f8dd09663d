"""A release: the store, the dumps with checksums, VoID, DCAT-AP.de and the validation report,
built from data that validates, written into a new directory and switched in atomically.

Layout of a release directory::

    release/
      current -> builds/20261125T161000123Z-3fa2c1     (a symlink, replaced atomically)
      builds/20261125T161000123Z-3fa2c1/
        store/  dumps/  manifest.json  void.ttl  catalog.ttl  validation.ttl  plan-statistics.json

A build is written to ``builds/.partial-…`` and renamed when complete, so ``builds/`` holds only
finished builds, and ``current`` only ever points to one. ``manifest.json`` is written last.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import gzip
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial as partial_call
from pathlib import Path
from secrets import token_hex
from typing import IO, Any, cast

import pyoxigraph as ox
from rdflib import Graph

from lod.browse.index import build_index
from lod.errors import LodError
from lod.formats import RdfFormat
from lod.messages import tr, tr_n
from lod.rdf import statistics as plan_statistics
from lod.rdf.inputs import load_rdf, split_inputs
from lod.rdf.mapping import record_iris, triples
from lod.rdf.store import (
    ONTOLOGY_GRAPH,
    create_store,
    merge_into_default,
    select,
    to_oxigraph,
)
from lod.records.model import Dataset
from lod.records.sources import read_records
from lod.release.changes import (
    Changes,
    compare,
    ntriples_dump,
    ntriples_lines,
    ntriples_of,
    read_changes,
    write_changes,
)
from lod.release.layout import BUILDS, CURRENT, Release, ReleaseError, open_release, sha256_of
from lod.release.manifest import DumpFile, Manifest
from lod.release.metadata import Publisher, catalog_graph, void_graph
from lod.release.parallel import run_parallel
from lod.schemes import ontology_graph
from lod.settings import Settings
from lod.validation.choice import ShapesChoice, combined, record_shapes, validate_with_pyshacl
from lod.validation.compiler import report_of, validate_store_part
from lod.validation.report import format_text, trace
from lod.vocab import PREFIXES

Progress = Callable[[str], None]


class NotPublishable(LodError):
    """The data has violations (or warnings, unless they are allowed): nothing was published."""

    status = 422

    def __init__(self, report_text: str) -> None:
        self.report_text = report_text
        super().__init__(tr("the data does not validate; nothing was published") + f"\n{report_text}")


@dataclass(frozen=True)
class DumpSpec:
    """One dump: its format, whether it is gzipped, and whether it holds every graph."""

    format: RdfFormat
    gzipped: bool
    all_graphs: bool

    def file_name(self, stem: str) -> str:
        return f"{stem}{self.format.extension}{'.gz' if self.gzipped else ''}"


DUMPS = (
    DumpSpec(RdfFormat.TURTLE, gzipped=False, all_graphs=False),
    DumpSpec(RdfFormat.NTRIPLES, gzipped=True, all_graphs=False),
    DumpSpec(RdfFormat.NQUADS, gzipped=True, all_graphs=True),
    DumpSpec(RdfFormat.JSONLD, gzipped=False, all_graphs=False),
)
"""The data (default graph) as Turtle, N-Triples and JSON-LD; with the vocabulary as N-Quads."""


# --- building -----------------------------------------------------------------------------


def build_release(inputs: Path | Sequence[Path], *, settings: Settings, allow_warnings: bool = False,
                  progress: Progress | None = None,
                  before_switch: Callable[[Path, Manifest], None] | None = None) -> Release:
    """Read, validate and publish ``inputs`` as a new release under ``settings.release_dir``.

    ``inputs`` is a directory of CSV files, a JSON file or a workbook of records, RDF files
    (`lod.rdf.inputs`), or one of the former beside any of the latter. Raises
    :class:`~lod.errors.InputError` or :class:`NotPublishable` and publishes nothing when the data
    is wrong; the release served before stays served and intact whatever happens.
    ``before_switch`` gets the finished build and its manifest just before it is switched in; if
    it raises, nothing is switched. The data is validated against the shapes ``settings.shapes``
    chooses (:mod:`lod.validation.choice`)."""
    say = progress or (lambda _message: None)
    paths = (inputs,) if isinstance(inputs, Path) else tuple(inputs)
    choice = ShapesChoice.parse(settings.shapes)
    checks = choice.checks()
    if checks.reference is not None:
        say(tr("the compiled check cannot run every shape ({reason}): {files} are checked with pySHACL, "
               "the reference", reason=checks.why_reference, files=", ".join(map(str, choice.files))))
    sorted_inputs = split_inputs(paths)
    root = settings.release_dir
    (root / BUILDS).mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        say(tr("reading {inputs}", inputs=", ".join(map(str, paths))))
        records = sorted_inputs.records
        notes: list[str] = []
        dataset = read_records(records, notes=notes) if records else Dataset()
        for note in notes:
            say(note)
        created = datetime.now(UTC)
        # Milliseconds keep the ids of successive builds in build order: pruning sorts by name.
        release_id = f"{created:%Y%m%dT%H%M%S}{created.microsecond // 1000:03d}Z-{token_hex(3)}"
        partial = root / BUILDS / f".partial-{release_id}"
        final = root / BUILDS / release_id
        try:
            partial.mkdir()
            say(tr_n("mapping {count} record into the store", "mapping {count} records into the store",
                     len(dataset)))
            memory = _memory_store(dataset, sorted_inputs.rdf_files, settings.base_iri, say)
            compiled = checks.compiled
            parts = range(len(compiled.groups) if compiled else 0)
            say(tr("validating while the store and the dumps are written and the statistics counted"))
            # What is validated is what is published: the store on disk, the dumps and the
            # statistics are all written from this store in memory, by processes that share it.
            dumps_dir, stem = partial / "dumps", settings.dataset_name
            dumps_dir.mkdir()
            tasks: dict[str, list[Callable[[ox.Store], Any]]] = {
                "dumps": [partial_call(_write_dump, spec, dumps_dir, stem) for spec in DUMPS],
                "statistics": [partial_call(_statistics, base_iri=settings.base_iri)],
                "plan statistics": [plan_statistics.count],
                "browse index": [partial_call(build_index, directory=partial)],
                "validation": [] if compiled is None else [
                    partial_call(validate_store_part, compiled=compiled, part=part) for part in parts],
                "reference": [] if checks.reference is None else [
                    partial_call(validate_with_pyshacl, shapes=checks.reference)]}
            write_store = partial_call(_write_store, partial / "store", memory)
            results = run_parallel(tasks, memory, meanwhile=write_store)
            del memory
            dumps, [stats] = tuple(results["dumps"]), results["statistics"]
            plan_statistics.write(results["plan statistics"][0], partial)
            report = combined(None if compiled is None else report_of(results["validation"], compiled),
                              results["reference"][0] if results["reference"] else None)
            record_shapes(report.graph, choice.described())
            if not report.passes(strict=not allow_warnings):
                findings = trace(report, record_iris(dataset, base_iri=settings.base_iri))
                raise NotPublishable(format_text(findings))
            served = _merge_graphs_into_default(partial / "store")
            replaced, previous = _replaced(root, say)
            if previous is not None:
                say(tr("comparing with release {release_id}", release_id=previous.manifest.release_id))
                before = ntriples_dump(previous)
                write_changes(partial, compare(lambda: ntriples_lines(before),
                                               ntriples_lines(partial / "dumps" / ntriples_of(dumps).name),
                                               previous=previous.manifest.release_id))
            manifest = Manifest(release_id=release_id, created=created.isoformat(),
                                base_iri=settings.base_iri, dumps=dumps, warnings=len(report.warnings),
                                inputs=tuple(map(str, paths)), served_triples=served,
                                shapes=choice.described(),
                                previous=replaced, **stats)
            say(tr("describing"))
            (partial / "validation.ttl").write_bytes(
                report.graph.serialize(format="turtle", encoding="utf-8"))
            _write_metadata(partial, manifest, settings)
            (partial / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
            _fsync_tree(partial)
            if before_switch is not None:
                before_switch(partial, manifest)
            os.rename(partial, final)
            _switch_current(root, final)
        except OSError as error:
            shutil.rmtree(partial, ignore_errors=True)
            reason = tr("the disk is full") if error.errno == errno.ENOSPC else str(error)
            raise ReleaseError(tr("build failed ({reason}); the published release is unchanged",
                                  reason=reason)) from None
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        say(tr("published release {release_id}", release_id=release_id))
        _prune(root, keep=settings.keep_releases)
        return Release(final, manifest)


def _replaced(root: Path, say: Progress) -> tuple[str | None, Release | None]:
    """The id of the release the new one replaces (``current`` names it) and that release, to
    compare with: (None, None) for the first. One that cannot be opened is named but not compared
    (its changes are then not recorded), which is said."""
    link = root / CURRENT
    if not link.is_symlink():
        return None, None
    replaced = Path(os.readlink(link)).name
    try:
        return replaced, open_release(root, check_store=False)
    except ReleaseError as error:
        say(tr("not compared with the release before: {reason}", reason=error))
        return replaced, None


def _memory_store(dataset: Dataset, rdf_files: Sequence[Path], base_iri: str, say: Progress) -> ox.Store:
    """The release in memory: the records and RDF files in the default graph (or the RDF files' own
    named graphs), the vocabulary in its graph. Oxigraph validates it five to eight times faster
    than a store on disk."""
    store = ox.Store()
    store.bulk_extend(_all_quads(dataset, base_iri))
    for file in rdf_files:
        say(tr("loading {file}", file=file))
        load_rdf(store, file)
    return store


def _write_store(path: Path, memory: ox.Store) -> None:
    """The release's store on disk, for the server."""
    store = create_store(path, data=memory.quads_for_pattern(None, None, None, None))
    del store
    gc.collect()  # closed: the build directory is renamed later


def _merge_graphs_into_default(path: Path) -> int:
    """Merge every named graph (the vocabulary, and those of RDF inputs) into the default graph,
    once the dumps of the default graph are written: queries then see the union of all graphs
    without asking Oxigraph for it, which makes it evaluate analytic queries a quarter to a half
    slower. Returns the triples the default graph then holds."""
    store = ox.Store(str(path))
    merge_into_default(store)
    store.flush()
    served = _number(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    del store
    gc.collect()
    return served


def _all_quads(dataset: Dataset, base_iri: str) -> Iterator[ox.Quad]:
    """The records' triples in the default graph, the vocabulary in its named graph."""
    default = ox.DefaultGraph()
    for s, p, o in triples(dataset, base_iri=base_iri):
        yield ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), default)  # type: ignore[arg-type]
    # Sorted: the dumps follow the order of insertion, and a graph's order depends on the hash seed.
    for s, p, o in sorted(ontology_graph()):
        yield ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), ONTOLOGY_GRAPH)  # type: ignore[arg-type]


def _write_dump(spec: DumpSpec, directory: Path, stem: str, store: ox.Store) -> DumpFile:
    name = spec.file_name(stem)
    path = directory / name
    graph = None if spec.all_graphs else ox.DefaultGraph()
    options: dict[str, Any] = {"format": spec.format.oxigraph, "from_graph": graph}
    if spec.format in (RdfFormat.TURTLE, RdfFormat.TRIG):
        options["prefixes"] = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    with path.open("wb") as raw:
        if spec.gzipped:
            # mtime=0 and no file name inside: equal data gives byte-equal dumps and checksums.
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as compressed:
                store.dump(cast(IO[bytes], compressed), **options)
        else:
            store.dump(raw, **options)
    return DumpFile(name=name, format=spec.format, gzipped=spec.gzipped, size=path.stat().st_size,
                    sha256=sha256_of(path))


def _number(store: ox.Store, query: str) -> int:
    return int(select(store, query)[0][0].value)


def _count(store: ox.Store, query: str) -> dict[str, int]:
    return {str(row[0].value): int(row[1].value) for row in select(store, query)}


def _statistics(store: ox.Store, *, base_iri: str) -> dict[str, Any]:
    classes = _count(store, "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c")
    properties = _count(store, "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p")
    namespaces = [str(ns) for ns in PREFIXES.values()]
    used = {ns for ns in namespaces for term in (*classes, *properties) if term.startswith(ns)}
    # The entities are the typed resources with minted IRIs (a record each, not its parts); one
    # pass over the typed subjects is far cheaper than filtering every triple's subject.
    minted = sorted(str(row[0].value) for row in select(
        store, f'SELECT DISTINCT ?s WHERE {{ ?s a ?c FILTER(STRSTARTS(STR(?s), "{base_iri}id/") '
               f'&& !CONTAINS(STR(?s), "#")) }}'))
    examples = [next((iri for iri in minted if iri.startswith(f"{base_iri}id/{kind}/")), None)
                for kind in ("organisation", "cooperation", "membership")]
    return {
        # Without FROM, a query sees the default graph only: the data, not the vocabulary.
        "triples": _number(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"),
        "vocabulary_triples": _number(
            store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ONTOLOGY_GRAPH.value}> {{ ?s ?p ?o }} }}"),
        "named_graphs": _count(
            store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"),
        "entities": len(minted),
        "class_counts": classes,
        "property_counts": properties,
        "vocabularies": tuple(sorted(used)),
        "example_resources": tuple(e for e in examples if e is not None),
    }


def describe_release(manifest: Manifest, settings: Settings, changes: Changes | None = None,
                     ) -> tuple[Graph, Graph]:
    """VoID and the DCAT-AP.de catalog of a release, for the server at ``settings.public_url``;
    ``changes`` are what changed since the release before (`lod.release.changes`)."""
    publisher = Publisher(name=settings.publisher_name, homepage=settings.publisher_homepage or None,
                          email=settings.publisher_email or None)
    void = void_graph(manifest, public_url=settings.public_url, base_iri=settings.base_iri,
                      license_iri=settings.license)
    catalog = catalog_graph(manifest, public_url=settings.public_url, base_iri=settings.base_iri,
                            changes=changes, license_iri=settings.license, publisher=publisher)
    return void, catalog


def _write_metadata(directory: Path, manifest: Manifest, settings: Settings) -> None:
    void, catalog = describe_release(manifest, settings, read_changes(directory))
    (directory / "void.ttl").write_bytes(void.serialize(format="turtle", encoding="utf-8"))
    (directory / "catalog.ttl").write_bytes(catalog.serialize(format="turtle", encoding="utf-8"))


@contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    with (root / ".build.lock").open("w") as lock:
        try:
            # A POSIX lock, not flock(): the processes a build forks must not inherit it, so that
            # a build killed outright frees it at once.
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            raise ReleaseError(tr("another build is writing to {release_dir}; try again when it is done",
                                  release_dir=root)) from None
        yield


def _fsync_tree(directory: Path) -> None:
    """Make the build durable before it is switched in: a crash after the switch finds it whole."""
    for path in sorted(directory.rglob("*"), reverse=True):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _switch_current(root: Path, build: Path) -> None:
    """Point ``current`` at ``build`` with one rename: readers see the old or the new, never none."""
    temporary = root / f".{CURRENT}.{build.name}"
    temporary.unlink(missing_ok=True)
    os.symlink(Path(BUILDS) / build.name, temporary)
    os.replace(temporary, root / CURRENT)
    _fsync_directory(root)


def _prune(root: Path, *, keep: int) -> None:
    """Remove old builds and leftovers of interrupted ones; never the current one."""
    builds = root / BUILDS
    current = (root / CURRENT).resolve()
    for leftover in builds.glob(".partial-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    finished = sorted((p for p in builds.iterdir() if not p.name.startswith(".")), reverse=True)
    for old in finished[keep:]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


