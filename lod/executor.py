"""Runs SPARQL queries in a child process that can be stopped, so every query is bounded in time.

Oxigraph cannot cancel a running query, so a query runs in a child process of its own: when it
takes longer than the limit, the child is killed and a new one started for the next query. The
child writes the whole serialised result to a spool (memory for small results, a temporary file
for large ones) before the parent sends anything, so a client never receives a ``200`` that breaks
off half-way, and the status and headers (including truncation) are known before the body.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import queue
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyoxigraph as ox

from .errors import LodError
from .formats import RdfFormat
from .negotiation import negotiate
from .query_text import service_calls, with_endpoints
from .results import ResultFormat, write_boolean, write_solutions
from .service_gateway import FederationPolicy, ServiceGateway

log = logging.getLogger(__name__)

SERVICE_OFF = ("SERVICE (federated query) is switched off on this endpoint: it would make this server "
               "fetch other endpoints on the client's behalf")

INLINE_LIMIT = 256 * 1024
"""Results up to this size travel back in memory; larger ones through a temporary file."""

GRAPH_FORMATS = (RdfFormat.TURTLE, RdfFormat.NTRIPLES, RdfFormat.JSONLD, RdfFormat.RDFXML)
_OX_GRAPH_FORMATS = {
    RdfFormat.TURTLE: ox.RdfFormat.TURTLE,
    RdfFormat.NTRIPLES: ox.RdfFormat.N_TRIPLES,
    RdfFormat.JSONLD: ox.RdfFormat.JSON_LD,
    RdfFormat.RDFXML: ox.RdfFormat.RDF_XML,
}


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


# --- the child ----------------------------------------------------------------------------


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

    def outcome(self, media_type: str, *, count: int, truncated: bool) -> QueryOutcome:
        if self.file is not None:
            self.file.close()
            return QueryOutcome(200, media_type, path=self.path, size=self.size, count=count,
                                truncated=truncated)
        return QueryOutcome(200, media_type, body=bytes(self.buffer), size=self.size, count=count,
                            truncated=truncated)


class _Counted:
    """Passes on at most ``limit`` items and remembers whether there were more."""

    def __init__(self, items: Iterable[Any], limit: int) -> None:
        self.items = iter(items)
        self.limit = limit
        self.count = 0
        self.truncated = False

    def __iter__(self) -> Iterator[Any]:
        for item in itertools.islice(self.items, self.limit):
            self.count += 1
            yield item
        self.truncated = next(self.items, None) is not None


_ALIASES = {
    "application/sparql-results+json": "application/json",
    "application/sparql-results+xml": "application/xml",
    "application/ld+json": "application/json",
}
"""Generic media types clients send for a specific one; the specific one is what they get."""


def _choose(request: QueryRequest, offered: list[str]) -> str | None:
    for wanted in (f.lower() for f in request.formats):
        for media_type, labels in _LABELS.items():
            if media_type in offered and wanted in labels:
                return media_type
    if request.formats:
        return None
    aliases = {_ALIASES[m]: m for m in offered if m in _ALIASES}
    chosen = negotiate(request.accept, [*offered, *aliases])
    return aliases.get(chosen, chosen) if chosen else None


_LABELS: dict[str, tuple[str, ...]] = {
    **{f.media_type: (f.label, f.media_type) for f in ResultFormat},
    **{f.media_type: (f.label, f.media_type, f.extension.lstrip(".")) for f in GRAPH_FORMATS},
}
# Names clients put in `format` (SPARQLWrapper sends its return format there, e.g. n3).
_LABELS["application/sparql-results+json"] += ("application/json",)
_LABELS["application/sparql-results+xml"] += ("application/xml",)
_LABELS["text/turtle"] += ("n3", "text/n3", "application/turtle")
_LABELS["application/ld+json"] += ("json-ld", "json", "application/json")
_LABELS["application/rdf+xml"] += ("rdf+xml", "xml", "application/xml")
_LABELS["application/n-triples"] += ("nt", "n-triples")


def evaluate(store: ox.Store, request: QueryRequest, *, max_rows: int, spool_dir: str,
             gateway: ServiceGateway | None = None) -> QueryOutcome:
    """Evaluate one query against ``store`` and serialise its result (runs in the child).

    ``SERVICE`` is refused unless a ``gateway`` is given, which lets through allowed endpoints."""
    query = request.query
    calls = service_calls(query)
    if calls:
        refusal = SERVICE_OFF if gateway is None else gateway.policy.refusal(calls)
        if refusal:
            return error(403, refusal)
        assert gateway is not None
        query = with_endpoints(query, calls, gateway.local_urls(calls))
    try:
        return _evaluate(store, request, query, max_rows=max_rows, spool_dir=spool_dir)
    except OSError as failure:
        if gateway is None or not calls:
            raise
        return error(502, f"a SERVICE call failed: {gateway.original(str(failure))}")


def _evaluate(store: ox.Store, request: QueryRequest, query: str, *, max_rows: int, spool_dir: str,
              ) -> QueryOutcome:
    options: dict[str, Any] = {}
    try:
        if request.default_graphs:
            options["default_graph"] = [ox.NamedNode(iri) for iri in request.default_graphs]
        else:
            options["use_default_graph_as_union"] = True
        if request.named_graphs:
            options["named_graphs"] = [ox.NamedNode(iri) for iri in request.named_graphs]
    except ValueError as failure:
        return error(400, f"default-graph-uri and named-graph-uri must be absolute IRIs "
                          f"(SPARQL 1.1 Protocol §2.1.4): {failure}")
    try:
        result = store.query(query, **options)
    except SyntaxError as failure:
        return error(400, f"the query is not valid SPARQL 1.1: {failure}")
    except ValueError as failure:
        return error(400, f"the query or its dataset is not valid: {failure}")
    spool = _Spool(spool_dir)
    out = cast(BinaryIO, spool)  # it has the write() the serialisers use
    if isinstance(result, ox.QueryBoolean):
        offered = [f.media_type for f in ResultFormat]
        chosen = _choose(request, offered)
        if chosen is None:
            return _not_acceptable(offered, request)
        write_boolean(out, ResultFormat.from_label(chosen), bool(result))
        return spool.outcome(chosen, count=1, truncated=False)
    if isinstance(result, ox.QuerySolutions):
        offered = [f.media_type for f in ResultFormat]
        chosen = _choose(request, offered)
        if chosen is None:
            return _not_acceptable(offered, request)
        variables = [v.value for v in result.variables]
        rows = _Counted(result, max_rows)
        write_solutions(out, ResultFormat.from_label(chosen), variables, rows)
        return spool.outcome(chosen, count=rows.count, truncated=rows.truncated)
    offered = [f.media_type for f in GRAPH_FORMATS]
    chosen = _choose(request, offered)
    if chosen is None:
        return _not_acceptable(offered, request)
    triples = _Counted(result, max_rows)
    rdf_format = next(f for f in GRAPH_FORMATS if f.media_type == chosen)
    ox.serialize(triples, out, format=_OX_GRAPH_FORMATS[rdf_format])
    spool.flush()
    return spool.outcome(chosen, count=triples.count, truncated=triples.truncated)


def _not_acceptable(offered: list[str], request: QueryRequest) -> QueryOutcome:
    asked = f"format={', '.join(request.formats)}" if request.formats else f"Accept: {request.accept}"
    names = ", ".join(_LABELS[m][0] for m in offered)
    return error(406, f"no format asked for ({asked}) can represent this result; available: "
                      f"{', '.join(offered)} (format= {names})")


def _detach_from_server(connection: Connection) -> None:
    """Forget what the server process gave us by forking: its signal handlers (gunicorn's would
    keep SIGTERM from ending the child) and its sockets (which would keep the port bound)."""
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
                   signal.SIGWINCH, signal.SIGCHLD, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the server's to handle
    keep = connection.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))


def _child_main(connection: Connection, max_rows: int, spool_dir: str,
                federation: FederationPolicy | None) -> None:
    _detach_from_server(connection)
    parent = os.getppid()
    gateway = ServiceGateway(federation) if federation else None
    stores: dict[str, ox.Store] = {}
    while True:
        try:
            # A forked child may hold copies of its parent's pipe ends, so it cannot count on
            # seeing the pipe close: it also leaves when its parent is gone (e.g. os._exit).
            while not connection.poll(1.0):
                if os.getppid() != parent:
                    return
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        store_path, request = message
        try:
            store = stores.get(store_path)
            if store is None:
                stores.clear()  # a new release replaces the old one
                store = stores[store_path] = ox.Store.read_only(store_path)
            outcome = evaluate(store, request, max_rows=max_rows, spool_dir=spool_dir, gateway=gateway)
        except OSError as failure:
            outcome = error(503, f"the store cannot be read: {failure}")
        except Exception as failure:  # report, keep serving; the parent logs it
            log.exception("query failed")
            outcome = error(500, f"the query failed inside the query engine: {type(failure).__name__}")
        connection.send(outcome)


# --- the parent ---------------------------------------------------------------------------


class QueryExecutor:
    """Runs queries with a time limit in a child process, one query at a time per executor.

    Each server process has one executor; the child is started on first use and restarted after a
    query had to be stopped."""

    def __init__(self, *, timeout: float, max_rows: int, spool_dir: str | None = None,
                 federation: FederationPolicy | None = None) -> None:
        self.timeout = timeout
        self.max_rows = max_rows
        self.federation = federation
        self.spool_dir = spool_dir or tempfile.gettempdir()
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Connection | None = None
        self._context = multiprocessing.get_context("fork")

    def _start(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection is not None:
            return self._connection
        ours, theirs = self._context.Pipe()
        self._process = self._context.Process(
            target=_child_main, args=(theirs, self.max_rows, self.spool_dir, self.federation), daemon=True,
            name="lod-query")
        self._process.start()
        theirs.close()
        self._connection = ours
        return ours

    def _stop(self) -> None:
        if self._process is not None:
            pid = self._process.pid
            self._process.kill()
            self._process.join(5)
            for leftover in Path(self.spool_dir).glob(f"lod-result-{pid}-*"):
                leftover.unlink(missing_ok=True)
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def execute(self, store_path: Path, request: QueryRequest) -> QueryOutcome:
        """Evaluate ``request`` against the store at ``store_path`` within the time limit."""
        with self._lock:
            connection = self._start()
            started = time.monotonic()
            try:
                connection.send((str(store_path), request))
                if connection.poll(self.timeout):
                    outcome: QueryOutcome = connection.recv()
                    return outcome
            except (EOFError, OSError, BrokenPipeError):
                self._stop()
                return error(500, "the query engine stopped while evaluating the query "
                                  "(it may have needed more memory than it may use)")
            self._stop()
            log.warning("query stopped after %.1f s: %.200r", time.monotonic() - started, request.query)
            return error(504, f"the query was stopped because it took longer than the limit of "
                              f"{self.timeout:g} seconds; narrow it down (LIMIT, more specific "
                              "patterns) and try again")

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(OSError):
                    self._connection.send(None)
            self._stop()


class Overloaded(LodError):
    """Every query slot stayed busy for the whole wait: the client should come back later."""

    status = 503

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"the server is busy with other queries; try again in {retry_after} s")


class ExecutorPool:
    """A fixed number of executors per server process: the number of queries it runs at once.

    A request waits at most ``wait`` seconds for one; then it is turned away with 503 rather than
    queued, so that under overload latency stays bounded and clients are told to retry."""

    def __init__(self, *, size: int, wait: float, timeout: float, max_rows: int,
                 federation: FederationPolicy | None = None) -> None:
        self.wait = wait
        self.timeout = timeout
        self._idle: queue.SimpleQueue[QueryExecutor] = queue.SimpleQueue()
        for _ in range(size):
            self._idle.put(QueryExecutor(timeout=timeout, max_rows=max_rows, federation=federation))

    def execute(self, store_path: Path, request: QueryRequest) -> QueryOutcome:
        try:
            executor = self._idle.get(timeout=self.wait)
        except queue.Empty:
            raise Overloaded(retry_after=max(1, round(self.timeout / 2))) from None
        try:
            return executor.execute(store_path, request)
        finally:
            self._idle.put(executor)
