"""Runs SPARQL queries in a child process that can be stopped, so every query is bounded in time.

Oxigraph cannot cancel a running query, so a query runs in a child process of its own: when it
takes longer than the limit, the child is killed and a new one started for the next query. The
child writes the whole serialised result to a spool (memory for small results, a temporary file
for large ones) before the parent sends anything, so a client never receives a ``200`` that breaks
off half-way, and the status and headers (including truncation) are known before the body.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import logging
import multiprocessing
import operator
import os
import pickle
import queue
import select
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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
# What each kind of result is offered as, in the server's order of preference, by media type.
_RESULT_FORMATS = {f.media_type: f for f in ResultFormat}
_GRAPH_FORMATS = {f.media_type: f for f in GRAPH_FORMATS}
_RESULT_TYPES = tuple(_RESULT_FORMATS)
_GRAPH_TYPES = tuple(_GRAPH_FORMATS)


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


def _choose(request: QueryRequest, offered: tuple[str, ...]) -> str | None:
    if request.formats:
        return _by_label(request.formats, offered)
    return _by_accept(request.accept, offered)


# Clients send the same few Accept headers and format names again and again: the choice is a pure
# function of them, so it is worked out once (and the cache stays small: at most 256 entries).
@functools.lru_cache(maxsize=256)
def _by_label(formats: tuple[str, ...], offered: tuple[str, ...]) -> str | None:
    for wanted in (f.lower() for f in formats):
        for media_type, labels in _LABELS.items():
            if media_type in offered and wanted in labels:
                return media_type
    return None


@functools.lru_cache(maxsize=256)
def _by_accept(accept: str | None, offered: tuple[str, ...]) -> str | None:
    aliases = {_ALIASES[m]: m for m in offered if m in _ALIASES}
    chosen = negotiate(accept, [*offered, *aliases])
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
    calls = service_calls(query) if _may_call_service(query) else []
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


def _may_call_service(query: str) -> bool:
    """False when the query certainly has no SERVICE clause, which spares reading its tokens.

    Only for ASCII text without codepoint escapes: there the keyword is spelled with these six
    letters (in any case); elsewhere ``upper()`` and escapes may produce it from other characters."""
    return not query.isascii() or "\\u" in query or "\\U" in query or "service" in query.lower()


def _evaluate(store: ox.Store, request: QueryRequest, query: str, *, max_rows: int, spool_dir: str,
              ) -> QueryOutcome:
    options: dict[str, Any] = {}
    try:
        # Without default-graph-uri, the store's default graph: it holds every graph's triples
        # (lod.publish merges them), faster to query than the union Oxigraph would compute.
        if request.default_graphs:
            options["default_graph"] = [ox.NamedNode(iri) for iri in request.default_graphs]
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
        chosen = _choose(request, _RESULT_TYPES)
        if chosen is None:
            return _not_acceptable(_RESULT_TYPES, request)
        write_boolean(out, _RESULT_FORMATS[chosen], bool(result))
        return spool.outcome(chosen, count=1, truncated=False)
    if isinstance(result, ox.QuerySolutions):
        chosen = _choose(request, _RESULT_TYPES)
        if chosen is None:
            return _not_acceptable(_RESULT_TYPES, request)
        variables = [v.value for v in result.variables]
        rows = _Counted(result, max_rows)
        write_solutions(out, _RESULT_FORMATS[chosen], variables, rows)
        return spool.outcome(chosen, count=rows.count, truncated=rows.truncated)
    chosen = _choose(request, _GRAPH_TYPES)
    if chosen is None:
        return _not_acceptable(_GRAPH_TYPES, request)
    triples = _Counted(result, max_rows)
    ox.serialize(triples, out, format=_OX_GRAPH_FORMATS[_GRAPH_FORMATS[chosen]])
    spool.flush()
    return spool.outcome(chosen, count=triples.count, truncated=triples.truncated)


def _not_acceptable(offered: tuple[str, ...], request: QueryRequest) -> QueryOutcome:
    asked = f"format={', '.join(request.formats)}" if request.formats else f"Accept: {request.accept}"
    names = ", ".join(_LABELS[m][0] for m in offered)
    return error(406, f"no format asked for ({asked}) can represent this result; available: "
                      f"{', '.join(offered)} (format= {names})")


# --- between the two ------------------------------------------------------------------------

_LENGTH = struct.Struct("!Q")


class _Channel:
    """One end of a socket pair carrying pickled messages, each behind its length.

    Every query crosses it twice, so it is kept lighter than multiprocessing's ``Connection``: a
    poll object made once instead of a selector per wait, one system call per small message each
    way, and plain tuples rather than dataclasses inside (pickle handles those in C). It owns the
    bare descriptor: a ``socket`` object left to the garbage collector would warn."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)

    def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) < 1 << 16:
            self._write(_LENGTH.pack(len(data)) + data)
        else:  # no copy of a large body just to put the length in front
            self._write(_LENGTH.pack(len(data)))
            self._write(data)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def ready(self, timeout: float) -> bool:
        """Whether a message (or the end of the stream) is there within ``timeout`` seconds."""
        return bool(self._poll.poll(timeout * 1000))

    def recv(self) -> Any:
        """The next message; raises EOFError when the other end is gone."""
        data = self._read(1 << 16)
        while len(data) < _LENGTH.size:
            data += self._read(_LENGTH.size - len(data))
        end = _LENGTH.size + _LENGTH.unpack_from(data)[0]
        if len(data) >= end:
            return pickle.loads(memoryview(data)[_LENGTH.size:end])
        buffer = bytearray(end)
        buffer[:len(data)] = data
        view = memoryview(buffer)
        got = len(data)
        while got < end:
            received = os.readv(self.fd, [view[got:]])
            if not received:
                raise EOFError
            got += received
        return pickle.loads(view[_LENGTH.size:])

    def _read(self, size: int) -> bytes:
        data = os.read(self.fd, size)
        if not data:
            raise EOFError
        return data

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    __del__ = close  # an app dropped without close() (tests make many) closes its end too


# A request or an outcome travels as the tuple of its fields, in the order the constructor takes.
_request_fields = operator.attrgetter(*(f.name for f in dataclasses.fields(QueryRequest)))
_outcome_fields = operator.attrgetter(*(f.name for f in dataclasses.fields(QueryOutcome)))


@dataclass(frozen=True, slots=True)
class InMemory:
    """A release's store loaded into the server process's memory, for the store at ``path``;
    ``store`` is None when it could not be loaded (queries then read the store on disk)."""

    path: str
    store: ox.Store | None


# --- the child's loop ---------------------------------------------------------------------


def _detach_from_server(keep: int) -> None:
    """Forget what the server process gave us by forking: its signal handlers (gunicorn's would
    keep SIGTERM from ending the child) and its sockets (which would keep the port bound)."""
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
                   signal.SIGWINCH, signal.SIGCHLD, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the server's to handle
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))


def _child_main(fd: int, max_rows: int, spool_dir: str, federation: FederationPolicy | None,
                memory: InMemory | None) -> None:
    _detach_from_server(fd)
    channel = _Channel(fd)
    parent = os.getppid()
    gateway = ServiceGateway(federation) if federation else None
    # The store in memory came with the fork: shared with the server process until written.
    stores: dict[str, ox.Store] = {memory.path: memory.store} if memory and memory.store else {}
    while True:
        try:
            # A forked child may hold copies of its parent's socket ends, so it cannot count on
            # seeing the socket close: it also leaves when its parent is gone (e.g. os._exit).
            while not channel.ready(1.0):
                if os.getppid() != parent:
                    return
            message = channel.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        store_path, *fields = message
        try:
            store = stores.get(store_path)
            if store is None:
                stores.clear()  # a new release replaces the old one
                store = stores[store_path] = ox.Store.read_only(store_path)
            outcome = evaluate(store, QueryRequest(*fields), max_rows=max_rows, spool_dir=spool_dir,
                               gateway=gateway)
        except OSError as failure:
            outcome = error(503, f"the store cannot be read: {failure}")
        except Exception as failure:  # report, keep serving; the parent logs it
            log.exception("query failed")
            outcome = error(500, f"the query failed inside the query engine: {type(failure).__name__}")
        channel.send(_outcome_fields(outcome))


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
        self._channel: _Channel | None = None
        self._memory: InMemory | None = None  # what the running child was forked with
        self._context = multiprocessing.get_context("fork")

    def _start(self, memory: InMemory | None) -> _Channel:
        if self._process is not None and self._memory is not memory:
            self._stop()  # forked before this store was loaded: the next child gets it
        if self._process is not None and self._process.is_alive() and self._channel is not None:
            return self._channel
        ours, theirs = (end.detach() for end in socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
        self._channel = _Channel(ours)
        self._memory = memory
        try:
            self._process = self._context.Process(
                target=_child_main, args=(theirs, self.max_rows, self.spool_dir, self.federation, memory),
                daemon=True, name="lod-query")
            self._process.start()
        finally:
            os.close(theirs)
        return self._channel

    def _stop(self) -> None:
        if self._process is not None:
            pid = self._process.pid
            self._process.kill()
            self._process.join(5)
            for leftover in Path(self.spool_dir).glob(f"lod-result-{pid}-*"):
                leftover.unlink(missing_ok=True)
        if self._channel is not None:
            self._channel.close()
        self._process = self._channel = None

    def execute(self, store_path: Path, request: QueryRequest, memory: InMemory | None = None,
                ) -> QueryOutcome:
        """Evaluate ``request`` against the store at ``store_path`` (or its copy in ``memory``)
        within the time limit."""
        with self._lock:
            channel = self._start(memory)
            started = time.monotonic()
            try:
                channel.send((str(store_path), *_request_fields(request)))
                if channel.ready(self.timeout):
                    return QueryOutcome(*channel.recv())
            except (EOFError, OSError):
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
            if self._channel is not None:
                with contextlib.suppress(OSError):
                    self._channel.send(None)
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
        self._memory: InMemory | None = None
        self._loading = threading.Lock()

    def execute(self, store_path: Path, request: QueryRequest, *,
                load: Callable[[], ox.Store] | None = None) -> QueryOutcome:
        """Run ``request`` in a free slot. With ``load``, the store is first loaded into this
        process's memory (once per store), and the query processes forked from it read that."""
        memory = self.load(store_path, load) if load is not None else None
        try:
            executor = self._idle.get(timeout=self.wait)
        except queue.Empty:
            raise Overloaded(retry_after=max(1, round(self.timeout / 2))) from None
        try:
            return executor.execute(store_path, request, memory)
        finally:
            self._idle.put(executor)

    def load(self, store_path: Path, load: Callable[[], ox.Store]) -> InMemory:
        """The copy in memory of the store at ``store_path``, loaded by ``load`` unless it is
        loaded already (a new store replaces the one before)."""
        path = str(store_path)
        memory = self._memory
        if memory is not None and memory.path == path:
            return memory  # every query but the first of a release: no lock on the way
        with self._loading:  # one load per store; queries wait for it rather than load it again
            if self._memory is None or self._memory.path != path:
                self._memory = None  # the old copy goes once its query processes are replaced
                started = time.monotonic()
                try:
                    self._memory = InMemory(path, load())
                    log.info("store %s loaded into memory in %.1f s", path, time.monotonic() - started)
                except (OSError, ValueError, SyntaxError) as failure:
                    log.warning("store %s stays on disk: loading it into memory failed: %s", path, failure)
                    self._memory = InMemory(path, None)
            return self._memory
