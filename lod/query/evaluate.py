"""Evaluating one query on a store and writing its result: the formats the client may have, the
limits on rows and bytes, the spool that holds the whole result before anything is sent.

What runs it is elsewhere: the confined query processes (:mod:`lod.query.executor`), this process
(:mod:`lod.query.runners`) or a remote store's adapter (:mod:`lod.remote.queries`), all with this
code, so a result is the same document whoever computed it.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, BinaryIO, Protocol, cast

import pyoxigraph as ox

from lod.formats import SERVED_RDF_FORMATS, RdfFormat, ResultFormat
from lod.negotiation import negotiate
from lod.query.gateway import ServiceGateway
from lod.query.prepare import QueryInvalid, QueryPreparer, QueryRefused
from lod.query.results import write_boolean, write_solutions
from lod.query.top import choose
from lod.settings import Settings

INLINE_LIMIT = 256 * 1024
"""Results up to this size travel back in memory; larger ones through a temporary file."""

_Format = ResultFormat | RdfFormat
_RESULT_FORMATS = tuple(ResultFormat)

PLANS_LOGGER = "lod.query.plans"
plans = logging.getLogger(PLANS_LOGGER)
"""Where each query the planner rewrote is logged, at INFO (the setting log_plans)."""


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """A SPARQL query as the protocol delivers it, with what the client accepts."""

    query: str
    accept: str | None = None
    formats: tuple[str, ...] = ()
    """Format names or media types the client asked for explicitly (``format=json``); the first
    that fits the result is used, and none fitting is a 406."""
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    max_rows: int | None = None
    """Rows returned at most, when fewer than the server's ``max_rows`` (a page shows a few)."""
    max_bytes: int | None = None
    """Bytes of result at most, when fewer than the server's limit."""


@dataclass(frozen=True, slots=True)
class QueryOutcome:
    """A finished query: the status, and the body in memory or in a file the receiver deletes."""

    status: int
    media_type: str
    body: bytes = b""
    path: str | None = None
    size: int = 0
    count: int = 0
    truncated: bool = False
    message: str | None = None
    """For errors: what went wrong, for the person who sent the query."""

    def read(self) -> bytes:
        """The whole body, from memory or from the spooled file (which is then removed)."""
        if self.path is None:
            return self.body
        try:
            with open(self.path, "rb") as file:
                return file.read()
        finally:
            os.unlink(self.path)


def error(status: int, message: str) -> QueryOutcome:
    return QueryOutcome(status, "text/plain; charset=utf-8", message=message)


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """What one query may take: rows, bytes of result, and memory beyond the store it reads."""

    max_rows: int
    max_bytes: int
    memory_bytes: int | None

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(max_rows=settings.max_rows, max_bytes=settings.max_result_mb * 1_000_000,
                   memory_bytes=settings.query_memory_mb << 20)


class _Spool:
    """A binary sink that stays in memory while small and moves to a file when it grows."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.buffer = bytearray()
        self.file: BinaryIO | None = None
        self.path: str | None = None
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.file is not None:
            return self.file.write(data)
        self.buffer += data
        if len(self.buffer) > INLINE_LIMIT:
            handle, self.path = tempfile.mkstemp(prefix=f"lod-result-{os.getpid()}-", dir=self.directory)
            self.file = os.fdopen(handle, "wb", buffering=1 << 16)
            self.file.write(self.buffer)
            self.buffer = bytearray()
        return len(data)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def discard(self) -> None:
        """Forget what was written (a result that could not be completed)."""
        if self.file is not None:
            self.file.close()
            os.unlink(self.path or "")
            self.file = self.path = None
        self.buffer = bytearray()
        self.size = 0

    def outcome(self, media_type: str, *, count: int, truncated: bool) -> QueryOutcome:
        if self.file is not None:
            self.file.close()
            return QueryOutcome(200, media_type, path=self.path, size=self.size, count=count,
                                truncated=truncated)
        return QueryOutcome(200, media_type, body=bytes(self.buffer), size=self.size, count=count,
                            truncated=truncated)


class _Counted:
    """Passes on at most ``limit`` items, and none once the spool holds ``max_bytes``; remembers
    whether there were more. The serialisers write in chunks, so a result ends within a chunk
    (64 KiB) of ``max_bytes``, always at the end of an item: the document stays whole."""

    def __init__(self, items: Iterable[Any], limit: int, spool: _Spool, max_bytes: int) -> None:
        self.items = iter(items)
        self.limit = limit
        self.spool = spool
        self.max_bytes = max_bytes
        self.count = 0
        self.truncated = False

    def __iter__(self) -> Iterator[Any]:
        spool, max_bytes = self.spool, self.max_bytes
        for item in itertools.islice(self.items, self.limit):
            if spool.size >= max_bytes:
                self.truncated = True
                return
            self.count += 1
            yield item
        self.truncated = next(self.items, None) is not None


def _choose(request: QueryRequest, offered: tuple[_Format, ...]) -> _Format | None:
    if request.formats:
        return _by_name(request.formats, offered)
    return _by_accept(request.accept, offered)


# Clients send the same few Accept headers and format names again and again: the choice is a pure
# function of them, so it is worked out once (and the cache stays small: at most 256 entries).
@functools.lru_cache(maxsize=256)
def _by_name(formats: tuple[str, ...], offered: tuple[_Format, ...]) -> _Format | None:
    for wanted in (f.strip().lower() for f in formats):
        for fmt in offered:
            if wanted in fmt.names:
                return fmt
    return None


@functools.lru_cache(maxsize=256)
def _by_accept(accept: str | None, offered: tuple[_Format, ...]) -> _Format | None:
    # A generic media type (application/json) a client sends gets the specific one it stands for.
    candidates = {f.media_type: f for f in offered}
    candidates |= {f.generic_media_type: f for f in offered if f.generic_media_type}
    chosen = negotiate(accept, list(candidates))
    return candidates[chosen] if chosen else None


class Queryable(Protocol):
    """What answers a query as a pyoxigraph ``Store`` does: an Oxigraph store, or a release's graphs
    in a remote store (:mod:`lod.remote.queries`)."""

    def query(self, query: str, *, default_graph: Any = ..., named_graphs: Any = ...) -> Any: ...


def evaluate(store: Queryable, request: QueryRequest, *, max_rows: int, max_bytes: int, spool_dir: str,
             gateway: ServiceGateway | None = None) -> QueryOutcome:
    """Evaluate one query against ``store`` and serialise its result (runs in the child).

    ``request.query`` is the text the query layer prepared: checked, and its SERVICE endpoints (if
    federation allowed any) pointing to the ``gateway``."""
    try:
        return _evaluate(store, request, max_rows=max_rows, max_bytes=max_bytes, spool_dir=spool_dir)
    except OSError:
        if gateway is None:
            raise
        # What the remote endpoint said stays here: the client learns which call failed and why,
        # in the gateway's words, never the remote body.
        return error(502, gateway.failure() or "a SERVICE call failed")


def _evaluate(store: Queryable, request: QueryRequest, *, max_rows: int, max_bytes: int, spool_dir: str,
              ) -> QueryOutcome:
    options: dict[str, Any] = {}
    try:
        # Without default-graph-uri, the store's default graph: it holds every graph's triples
        # (lod.release.publish merges them), faster to query than the union Oxigraph would compute.
        if request.default_graphs:
            options["default_graph"] = [ox.NamedNode(iri) for iri in request.default_graphs]
        if request.named_graphs:
            options["named_graphs"] = [ox.NamedNode(iri) for iri in request.named_graphs]
    except ValueError as failure:
        return error(400, f"default-graph-uri and named-graph-uri must be absolute IRIs "
                          f"(SPARQL 1.1 Protocol §2.1.4): {failure}")
    try:
        result = store.query(request.query, **options)
    except SyntaxError as failure:
        return error(400, f"the query is not valid SPARQL 1.1: {failure}")
    except ValueError as failure:
        return error(400, f"the query or its dataset is not valid: {failure}")
    spool = _Spool(spool_dir)
    out = cast(BinaryIO, spool)  # it has the write() the serialisers use
    if request.max_rows is not None:
        max_rows = min(max_rows, request.max_rows)
    if request.max_bytes is not None:
        max_bytes = min(max_bytes, request.max_bytes)
    if isinstance(result, ox.QueryBoolean):
        chosen = _choose(request, _RESULT_FORMATS)
        if not isinstance(chosen, ResultFormat):
            return _not_acceptable(_RESULT_FORMATS, request)
        write_boolean(out, chosen, bool(result))
        return spool.outcome(chosen.media_type, count=1, truncated=False)
    if isinstance(result, ox.QuerySolutions):
        chosen = _choose(request, _RESULT_FORMATS)
        if not isinstance(chosen, ResultFormat):
            return _not_acceptable(_RESULT_FORMATS, request)
        variables = [v.value for v in result.variables]
        rows = _Counted(result, max_rows, spool, max_bytes)
        write_solutions(out, chosen, variables, rows)
        return spool.outcome(chosen.media_type, count=rows.count, truncated=rows.truncated)
    graph_format = _choose(request, SERVED_RDF_FORMATS)
    if not isinstance(graph_format, RdfFormat):
        return _not_acceptable(SERVED_RDF_FORMATS, request)
    triples = _Counted(result, max_rows, spool, max_bytes)
    try:
        ox.serialize(_xml_checked(triples) if graph_format is RdfFormat.RDFXML else triples, out,
                     format=graph_format.oxigraph)
    except _NotXml as failure:
        spool.discard()
        offered = ", ".join(f.media_type for f in SERVED_RDF_FORMATS if f is not graph_format)
        return error(406, f"this result cannot be written as RDF/XML: {failure}; ask for one of {offered}")
    spool.flush()
    return spool.outcome(graph_format.media_type, count=triples.count, truncated=triples.truncated)


class _NotXml(ValueError):
    """A triple that RDF/XML cannot express."""


# RDF/XML writes a predicate as an XML element name: namespace + a local name that is an NCName.
# Oxigraph takes the longest such suffix; where there is none it writes a broken document
# (`<oxprefix: …>`), so such a result is refused instead. XML 1.0 cannot carry most C0 controls.
_NAME_START = ("A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF"
               "\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
               "\U00010000-\U000EFFFF")
_LOCAL_NAME = re.compile(f"[{_NAME_START}][{_NAME_START}\\-.0-9\u00B7\u0300-\u036F\u203F-\u2040]*\\Z")
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]")


def _xml_checked(triples: Iterable[ox.Triple]) -> Iterator[ox.Triple]:
    for triple in triples:
        predicate = triple.predicate.value
        if _LOCAL_NAME.search(predicate) is None:
            raise _NotXml(f"the predicate <{predicate}> does not end in an XML name")
        for term in (triple.subject, triple.object):
            if isinstance(term, ox.Triple):
                raise _NotXml(f"{term} is a triple term, which RDF/XML cannot write")
            if _NOT_XML_CHAR.search(term.value) is not None:
                raise _NotXml(f"{term} holds a control character that XML 1.0 cannot carry")
        yield triple


def _not_acceptable(offered: tuple[_Format, ...], request: QueryRequest) -> QueryOutcome:
    asked = f"format={', '.join(request.formats)}" if request.formats else f"Accept: {request.accept}"
    media_types, labels = ", ".join(f.media_type for f in offered), ", ".join(f.label for f in offered)
    return error(406, f"no format asked for ({asked}) can represent this result; available: "
                      f"{media_types} (format= {labels})")


def prepare_and_evaluate(store: ox.Store, request: QueryRequest, preparer: QueryPreparer, *,
                         limits: QueryLimits, spool_dir: str, gateway: ServiceGateway | None = None,
                         ) -> QueryOutcome:
    """Prepare ``request`` for the engine and evaluate it; a query that may not run is an outcome
    with its status (400, 403) and why."""
    try:
        prepared = preparer.prepare(request.query)
    except (QueryInvalid, QueryRefused) as refusal:
        return error(refusal.status, str(refusal))
    text = prepared.text
    if prepared.attempts and not (request.default_graphs or request.named_graphs):
        text = choose(store, prepared.attempts, text)  # probes run on the default graph
    if text != prepared.original and plans.isEnabledFor(logging.INFO):
        plans.info("query planned: %s\n  the engine runs: %s", prepared.original, text)
    return evaluate(store, replace(request, query=text), max_rows=limits.max_rows,
                    max_bytes=limits.max_bytes, spool_dir=spool_dir, gateway=gateway)
