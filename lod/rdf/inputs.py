"""Existing RDF files as build inputs: recognised by extension, streamed into the store.

A build may take RDF files (``.ttl``, ``.nt``, ``.nq``, ``.trig``, ``.rdf``/``.owl``, ``.jsonld``,
each optionally gzipped as ``.gz``) alone or beside a data directory of CSV files. A file is parsed
as a stream, never read whole, and goes straight into the store:

- Triples go to the default graph; the named graphs of N-Quads, TriG and JSON-LD keep their names.
  The vocabulary graph (:data:`lod.rdf.store.ONTOLOGY_GRAPH`) is reserved: a file writing into it is
  an input error.
- Each file is its own document, so its blank nodes are its own: ``_:b0`` in two files is two
  nodes (the parser renames every blank node to a fresh one).
- Relative IRIs are resolved against ``base_iri`` if one is given, otherwise they are an error the
  parser reports with its line. The file's own ``file:`` URI is never used as a base: it would
  publish a path of the machine the build ran on. JSON-LD is the exception the JSON-LD spec makes:
  its expansion silently drops terms with no definition and ids that do not resolve to an IRI.
- A file with no content at all (0 bytes, after decompression) is a document with no triples,
  whatever its format; anything else must be a valid document of its format.

Every format but JSON-LD is parsed in constant memory. pyoxigraph holds a JSON-LD document whole
while it parses it (its ``@context`` may come last, and the streaming profile that forbids that
rejects ordinary documents), so large data belongs in N-Triples, N-Quads, Turtle or TriG.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from lod.errors import InputError, Problem, UsageError
from lod.formats import RdfFormat
from lod.messages import tr
from lod.rdf.store import ONTOLOGY_GRAPH

GZIP_SUFFIX = ".gz"
RDF_EXTENSIONS: tuple[str, ...] = tuple(ext for fmt in RdfFormat for ext in fmt.extensions)
"""The suffixes of the RDF files a build reads; each may be followed by :data:`GZIP_SUFFIX`."""

# pyoxigraph puts the position both in the exception's attributes and in front of its message.
_POSITION = re.compile(r"^Parser error (?:at|between) [^:]*: ")


@dataclass(frozen=True, slots=True)
class LoadedRdf:
    """What one RDF file put into the store.

    ``quads`` counts the statements parsed, duplicates included: the store keeps one copy of a
    statement, so it may grow by fewer. ``named_graphs`` are the graphs the file wrote into besides
    the default graph."""

    path: Path
    format: RdfFormat
    quads: int
    named_graphs: frozenset[ox.NamedNode | ox.BlankNode]


@dataclass(frozen=True, slots=True)
class BuildInputs:
    """The arguments of a build, sorted: at most one source of records, and RDF files."""

    records: Path | None
    rdf_files: tuple[Path, ...]


def is_rdf_file(path: Path) -> bool:
    """Whether ``path`` names an RDF file by its extension (any case, optionally ``.gz``).

    >>> is_rdf_file(Path("dump.NT.gz")), is_rdf_file(Path("data.json"))
    (True, False)
    """
    try:
        RdfFormat.from_path(path)
    except UsageError:
        return False
    return True


def rdf_format(path: Path) -> RdfFormat:
    """The format of an RDF file by its extension; raises :class:`UsageError` for any other file."""
    return RdfFormat.from_path(path)[0]


def split_inputs(paths: Iterable[Path]) -> BuildInputs:
    """Sort build arguments into the records (a directory of CSV files, a ``.json`` file or an
    ``.xlsx`` workbook, at most one) and RDF files (by extension). Raises :class:`UsageError`
    naming the first path that is missing, not a build input, given twice, or a second source of
    records."""
    records: Path | None = None
    rdf_files: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            raise UsageError(tr("{path}: no such file or directory", path=path))
        if path.is_dir() or (path.is_file() and path.suffix.lower() in (".json", ".xlsx")):
            if records is not None:
                raise UsageError(tr("{path}: only one data directory, .json file or workbook can be "
                                    "built, and {records} was given already", path=path, records=records))
            records = path
        elif path.is_file() and is_rdf_file(path):
            # Loading a file twice would double its blank nodes, which are fresh on every load.
            if path.resolve() in seen:
                raise UsageError(tr("{path}: given twice", path=path))
            seen.add(path.resolve())
            rdf_files.append(path)
        else:
            raise UsageError(tr("{path}: not a build input; expected a directory of CSV files, a .json file, "
                                "an .xlsx workbook, or an RDF file: {extensions} (each optionally gzipped "
                                "as {gzip_suffix})", path=path, extensions=", ".join(RDF_EXTENSIONS),
                                gzip_suffix=GZIP_SUFFIX))
    if records is None and not rdf_files:
        raise UsageError(tr("nothing to build: give a data directory, a .json file, a workbook or RDF files"))
    return BuildInputs(records, tuple(rdf_files))


def load_rdf(store: ox.Store, path: Path, *, base_iri: str | None = None) -> LoadedRdf:
    """Stream the RDF file ``path`` into ``store`` and say what it held.

    Raises :class:`UsageError` if ``path`` is not an existing file with an RDF extension or
    ``base_iri`` is not an absolute IRI, and :class:`InputError` if the file cannot be read or
    decompressed, is not valid in its format (with the line and column where the parser reports
    them; the RDF/XML parser does not), or writes into the reserved vocabulary graph.

    The store is written as the file is read, so after an :class:`InputError` it may hold part of
    the file: load into a store that is thrown away when the build fails. An :class:`OSError` of
    the store itself (a full disk) is not an input error and is raised as it is.

    >>> loaded = load_rdf(ox.Store(), Path("extra.ttl"))   # doctest: +SKIP
    >>> loaded.quads                                        # doctest: +SKIP
    1042
    """
    fmt, gzipped = RdfFormat.from_path(path)
    if not path.is_file():
        raise UsageError(tr("{path}: no such file", path=path) if not path.exists()
                         else tr("{path}: not a file", path=path))
    if base_iri is not None:
        try:
            ox.NamedNode(base_iri)
        except ValueError as error:
            raise UsageError(tr("base IRI {base_iri!r} is not an absolute IRI: {error}", base_iri=base_iri,
                                error=error)) from None
    tally = _Tally()
    store.bulk_extend(_read(path, fmt, gzipped, base_iri, tally))
    return LoadedRdf(path, fmt, tally.quads, frozenset(tally.named_graphs))


def load_rdf_files(store: ox.Store, paths: Iterable[Path], *, base_iri: str | None = None,
                   ) -> tuple[LoadedRdf, ...]:
    """:func:`load_rdf` for each of ``paths``; a file that fails does not stop the others, and one
    :class:`InputError` lists the problems of every file that failed."""
    loaded: list[LoadedRdf] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            loaded.append(load_rdf(store, path, base_iri=base_iri))
        except InputError as error:
            problems.extend(error.problems)
    if problems:
        raise InputError(problems)
    return tuple(loaded)


@dataclass(slots=True)
class _Tally:
    quads: int = 0
    named_graphs: set[ox.NamedNode | ox.BlankNode] = field(default_factory=set)


def _read(path: Path, fmt: RdfFormat, gzipped: bool, base_iri: str | None, tally: _Tally,
          ) -> Iterator[ox.Quad]:
    """The quads of ``path``; every failure to read or parse it raised as an :class:`InputError`.

    The errors are translated here, around the reading, so that an error of the store consuming
    the quads is never mistaken for one of the file."""
    oxigraph_format = _oxigraph(fmt)
    count = 0
    try:
        with _open(path, gzipped) as stream:
            if not stream.peek(1):
                return
            # A GzipFile is a binary file, though typeshed does not call it an IO[bytes].
            parser = ox.parse(input=cast("IO[bytes]", stream), format=oxigraph_format,
                              base_iri=base_iri, rename_blank_nodes=True)
            for quad in parser:
                count += 1
                graph = quad.graph_name
                if not isinstance(graph, ox.DefaultGraph):
                    if graph == ONTOLOGY_GRAPH:
                        raise InputError([Problem(
                            str(path), None, None, graph.value,
                            tr("writes into the named graph reserved for the project's vocabulary "
                               "(ontology/); load these triples into another graph"))])
                    tally.named_graphs.add(graph)
                yield quad
    except SyntaxError as error:
        raise InputError([_syntax_problem(path, oxigraph_format, error, base_iri)]) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise InputError([Problem(str(path), None, None, None,
                                  tr("cannot be decompressed as gzip: {error}", error=error))]) from None
    except OSError as error:
        raise InputError([Problem(str(path), None, None, None,
                                  tr("cannot be read: {reason}", reason=error.strerror or error))]) from None
    finally:
        tally.quads = count


def _open(path: Path, gzipped: bool) -> io.BufferedReader | gzip.GzipFile:
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def _oxigraph(fmt: RdfFormat) -> ox.RdfFormat:
    found = ox.RdfFormat.from_media_type(fmt.media_type)
    if found is None:  # pragma: no cover - lod.formats only lists formats pyoxigraph parses
        raise AssertionError(f"pyoxigraph does not know {fmt.media_type}")
    return found


def _syntax_problem(path: Path, fmt: ox.RdfFormat, error: SyntaxError, base_iri: str | None,
                    ) -> Problem:
    message = _POSITION.sub("", error.msg, count=1)
    if "No scheme found in an absolute IRI" in message:
        if fmt in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
            message += " " + tr("({format} allows absolute IRIs only)", format=fmt.name)
        elif base_iri is None:
            message += " " + tr("(a relative IRI needs a base: declare one in the file or give a base IRI)")
    elif "load remote contexts" in message:
        message = tr("refers to a remote JSON-LD @context, which is never fetched; put the context inline")
    message = tr("invalid {format}: {message}", format=fmt.name, message=message)
    if error.lineno is not None and error.offset is not None:
        message = tr("column {column}: {message}", column=error.offset, message=message)
    return Problem(str(path), error.lineno, None, None, message)
