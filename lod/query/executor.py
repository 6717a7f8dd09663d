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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from lod.errors import LodError
from lod.query.evaluate import (
    QueryLimits,
    QueryOutcome,
    QueryRequest,
    error,
    prepare_and_evaluate,
)
from lod.query.gateway import FederationPolicy, ServiceForwarder, ServiceGateway
from lod.query.literals import LiteralIndex
from lod.query.prepare import QueryPreparer
from lod.query.ranks import ObjectRanks
from lod.query.sandbox import confine, died_of_memory
from lod.rdf import statistics as plan_statistics
from lod.rdf.store import select as select_rows

log = logging.getLogger(__name__)

# --- the child ----------------------------------------------------------------------------


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


def _take_over(store: ox.Store) -> None:
    """Read every quad of the store once. Oxigraph's reading counts references in the quads it
    passes, which writes to them: each page of the store a query touches first in this process
    is copied from the server's then (copy on write), a page fault of a few microseconds. Taken
    all at once here (1 s and 460 MB at 1.5 million quads, which the process would copy bit by
    bit anyway), queries are spared it: page faults were 25 of the 80 ms of CPU of the portal
    mix's counts per Land."""
    select_rows(store, "SELECT (COUNT(*) AS ?quads) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")


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
    if memory and memory.store:
        _take_over(memory.store)
    planned_for = None  # the store whose release's statistics the preparer plans with
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
            if planned_for != store_path:
                preparer.use_release(plan_statistics.read(Path(store_path).parent), LiteralIndex(store),
                                     ObjectRanks(store))
                planned_for = store_path
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
