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
import re
import select
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyoxigraph as ox

from lod.errors import LodError
from lod.formats import SERVED_RDF_FORMATS, RdfFormat, ResultFormat
from lod.negotiation import negotiate
from lod.query.gateway import FederationPolicy, ServiceForwarder, ServiceGateway
from lod.query.prepare import QueryInvalid, QueryPreparer, QueryRefused
from lod.query.results import write_boolean, write_solutions
from lod.query.sandbox import confine, died_of_memory
from lod.settings import Settings

log = logging.getLogger(__name__)

INLINE_LIMIT = 256 * 1024
"""Results up to this size travel back in memory; larger ones through a temporary file."""

_Format = ResultFormat | RdfFormat
_RESULT_FORMATS = tuple(ResultFormat)


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


def evaluate(store: ox.Store, request: QueryRequest, *, max_rows: int, max_bytes: int, spool_dir: str,
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


def _evaluate(store: ox.Store, request: QueryRequest, *, max_rows: int, max_bytes: int, spool_dir: str,
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


def _detach_from_server(*keep: int) -> None:
    """Forget what the server process gave us by forking: its signal handlers (the worker's would
    keep SIGTERM from ending the child) and its sockets (which would keep the port bound)."""
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
                   signal.SIGWINCH, signal.SIGCHLD, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the server's to handle
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


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


def _child_main(fd: int, relay_fd: int, limits: QueryLimits, spool_dir: str, preparer: QueryPreparer,
                federation: FederationPolicy | None, memory: InMemory | None) -> None:
    _detach_from_server(fd, relay_fd)
    # Before anything is evaluated: no network but the gateway's, no more memory than allowed.
    confine(memory_bytes=limits.memory_bytes, loopback=federation is not None)
    channel = _Channel(fd)
    parent = os.getppid()
    gateway = None
    if federation is not None:
        gateway = ServiceGateway(federation, _Channel(relay_fd))
        gateway.start()
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
            # Prepared here, in the confined process: the server process's threads then spend no
            # time on it under their shared lock, and a parser that failed takes down only this.
            outcome = prepare_and_evaluate(store, QueryRequest(*fields), preparer, limits=limits,
                                           spool_dir=spool_dir, gateway=gateway)
        except MemoryError:
            outcome = _out_of_memory(limits)
        except OSError as failure:
            log.error("the store cannot be read: %s", failure)
            outcome = error(503, "the store cannot be read; the server's log says why")
        except Exception as failure:  # report, keep serving; the parent logs it
            log.exception("query failed")
            outcome = error(500, f"the query failed inside the query engine: {type(failure).__name__}")
        channel.send(_outcome_fields(outcome))


def prepare_and_evaluate(store: ox.Store, request: QueryRequest, preparer: QueryPreparer, *,
                         limits: QueryLimits, spool_dir: str, gateway: ServiceGateway | None = None,
                         ) -> QueryOutcome:
    """Prepare ``request`` for the engine and evaluate it; a query that may not run is an outcome
    with its status (400, 403) and why."""
    try:
        prepared = preparer.prepare(request.query)
    except (QueryInvalid, QueryRefused) as refusal:
        return error(refusal.status, str(refusal))
    return evaluate(store, replace(request, query=prepared.text), max_rows=limits.max_rows,
                    max_bytes=limits.max_bytes, spool_dir=spool_dir, gateway=gateway)


def _out_of_memory(limits: QueryLimits) -> QueryOutcome:
    megabytes = (limits.memory_bytes or 0) // (1 << 20)
    return error(507, f"the query needed more memory than the {megabytes} MB a query may use "
                      "(setting query_memory_mb); narrow it down (LIMIT, fewer or shorter values) "
                      "and try again")


# --- the parent ---------------------------------------------------------------------------


class QueryExecutor:
    """Runs queries with a time limit in a child process, one query at a time per executor.

    Each server process has one executor per query slot; the child is started on first use and
    restarted after a query had to be stopped or the child died."""

    def __init__(self, *, timeout: float, limits: QueryLimits, preparer: QueryPreparer,
                 spool_dir: str | None = None, federation: FederationPolicy | None = None) -> None:
        self.timeout = timeout
        self.limits = limits
        self.preparer = preparer
        """What prepares each query in the child (the child has its copy, made by the fork)."""
        self.federation = federation
        self.spool_dir = spool_dir or tempfile.gettempdir()
        self._lock = threading.Lock()
        self._process: Any = None
        self._channel: _Channel | None = None
        self._relay: _Channel | None = None
        self._memory: InMemory | None = None  # what the running child was forked with
        self._context = multiprocessing.get_context("fork")

    def _start(self, memory: InMemory | None) -> _Channel:
        if self._process is not None and self._memory is not memory:
            self._stop()  # forked before this store was loaded: the next child gets it
        if self._process is not None and self._process.is_alive() and self._channel is not None:
            return self._channel
        ours, theirs = _socket_pair()
        relay_ours, relay_theirs = _socket_pair()
        self._channel, self._relay = _Channel(ours), _Channel(relay_ours)
        self._memory = memory
        try:
            self._process = self._context.Process(
                target=_child_main,
                args=(theirs, relay_theirs, self.limits, self.spool_dir, self.preparer, self.federation,
                      memory),
                daemon=True, name="lod-query")
            self._process.start()
        finally:
            os.close(theirs)
            os.close(relay_theirs)
        if self.federation is not None:
            threading.Thread(target=ServiceForwarder(self.federation).serve, args=(self._relay,),
                             daemon=True, name="lod-service-forwarder").start()
        return self._channel

    def _stop(self) -> None:
        if self._process is not None:
            pid = self._process.pid
            self._process.kill()
            self._process.join(5)
            for leftover in Path(self.spool_dir).glob(f"lod-result-{pid}-*"):
                leftover.unlink(missing_ok=True)
        for channel in (self._channel, self._relay):
            if channel is not None:
                channel.close()
        self._process = self._channel = self._relay = None

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
                return self._died(request)
            self._stop()
            log.warning("query stopped after %.1f s: %.200r", time.monotonic() - started, request.query)
            return error(504, f"the query was stopped because it took longer than the limit of "
                              f"{self.timeout:g} seconds; narrow it down (LIMIT, more specific "
                              "patterns) and try again")

    def _died(self, request: QueryRequest) -> QueryOutcome:
        """The outcome of a query whose process died under it, and the cause in the log."""
        process = self._process
        process.join(5)
        code = process.exitcode
        self._stop()
        if died_of_memory(code, self.limits.memory_bytes):
            log.warning("query process %s ran out of its memory (exit %s): %.200r", process.pid, code,
                        request.query)
            return _out_of_memory(self.limits)
        cause = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit {code}"
        log.error("query process %s died (%s) evaluating %.200r", process.pid, cause, request.query)
        return error(500, "the query engine stopped while evaluating the query; the server's log says "
                          "why, and the next query gets a new one")

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                with contextlib.suppress(OSError):
                    self._channel.send(None)
            self._stop()


def _socket_pair() -> tuple[int, int]:
    ours, theirs = (end.detach() for end in socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
    return ours, theirs


class Overloaded(LodError):
    """Every query slot stayed busy for the whole wait: the client should come back later."""

    status = 503

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"the server is busy with other queries; try again in {retry_after} s")


class ExecutorPool:
    """A fixed number of executors per server process: the number of queries it runs at once,
    plus ``page_size`` kept for the queries of pages, so that SPARQL clients cannot starve them.

    A request waits at most ``wait`` seconds for one; then it is turned away with 503 rather than
    queued, so that under overload latency stays bounded and clients are told to retry."""

    def __init__(self, *, size: int, page_size: int = 0, wait: float, timeout: float,
                 limits: QueryLimits, preparer: QueryPreparer, federation: FederationPolicy | None = None,
                 ) -> None:
        self.wait = wait
        self.timeout = timeout
        self.page_size = page_size
        self._idle: queue.SimpleQueue[QueryExecutor] = queue.SimpleQueue()
        self._idle_for_pages: queue.SimpleQueue[QueryExecutor] = queue.SimpleQueue()
        for _ in range(size):
            self._idle.put(QueryExecutor(timeout=timeout, limits=limits, preparer=preparer,
                                         federation=federation))
        for _ in range(page_size):  # pages run the server's own queries: no SERVICE
            self._idle_for_pages.put(QueryExecutor(timeout=timeout, limits=limits, preparer=preparer))
        self._memory: InMemory | None = None
        self._loading = threading.Lock()

    def execute(self, store_path: Path, request: QueryRequest, *,
                load: Callable[[], ox.Store] | None = None, for_page: bool = False) -> QueryOutcome:
        """Run ``request`` in a free slot (one kept for pages when ``for_page``, if there are). With
        ``load``, the store is first loaded into this process's memory (once per store), and the
        query processes forked from it read that."""
        memory = self.load(store_path, load) if load is not None else None
        idle = self._idle_for_pages if for_page and self.page_size else self._idle
        try:
            executor = idle.get(timeout=self.wait)
        except queue.Empty:
            raise Overloaded(retry_after=max(1, round(self.timeout / 2))) from None
        try:
            return executor.execute(store_path, request, memory)
        finally:
            idle.put(executor)

    def free(self, *, for_page: bool = False) -> int:
        """How many slots are free now (an estimate: others may take them the next moment)."""
        return (self._idle_for_pages if for_page else self._idle).qsize()

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
