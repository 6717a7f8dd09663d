"""A query process that dies is replaced, and the log says why; one forked with the store in
memory takes its copy of the store before its first query."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from lod.query.evaluate import QueryLimits, QueryRequest
from lod.query.executor import InMemory, QueryExecutor
from lod.query.prepare import QueryPreparer
from lod.release.layout import open_release
from lod.settings import Settings

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def test_a_crashed_query_process_is_logged_with_its_cause(release_dir: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    store = open_release(release_dir).store_path
    preparer = QueryPreparer(base_iri="http://127.0.0.1/sparql")
    executor = QueryExecutor(timeout=30, limits=QueryLimits.from_settings(Settings()), preparer=preparer)
    try:
        assert executor.execute(store, QueryRequest("ASK { ?s ?p ?o }", formats=("json",))).status == 200
        victim = executor._process.pid

        def crash() -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not executor._lock.locked():
                time.sleep(0.01)  # until the slow query is under way
            os.kill(victim, signal.SIGSEGV)

        killer = threading.Thread(target=crash)
        killer.start()
        with caplog.at_level(logging.ERROR, logger="lod.query.executor"):
            outcome = executor.execute(store, QueryRequest(SLOW, formats=("json",)))
        killer.join()
        assert outcome.status == 500 and "log" in (outcome.message or "")
        assert any("SIGSEGV" in record.getMessage() and SLOW[:30] in record.getMessage()
                   for record in caplog.records)
        after = executor.execute(store, QueryRequest("ASK { ?s ?p ?o }", formats=("json",)))
        assert after.status == 200 and executor._process.pid != victim
    finally:
        executor.close()


def _minor_faults(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[7])


def _faults_in_a_fork(store: ox.Store, query: str) -> int:
    """The page faults of ``query`` in a fresh fork of this process, which shares ``store``."""
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        before = _minor_faults(os.getpid())
        list(store.query(query))  # type: ignore[arg-type]
        os.write(writing, str(_minor_faults(os.getpid()) - before).encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as answer:
        faults = int(answer.read())
    os.waitpid(child, 0)
    return faults


def test_a_query_process_takes_its_copy_of_the_store_in_memory_first(tmp_path: Path) -> None:
    # Oxigraph's reading writes reference counts into the quads: a forked process that reads the
    # shared store copies each page it touches first, a page fault each (25 of 80 ms of CPU of a
    # count per Land at scale 1). The query process takes its copy as it starts, not under queries.
    store = ox.Store()
    store.bulk_extend(ox.Quad(ox.NamedNode(f"http://example.org/s{n}"), ox.NamedNode("http://example.org/p"),
                              ox.Literal(f"value {n}"), ox.DefaultGraph()) for n in range(200_000))
    scan = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    unprepared = _faults_in_a_fork(store, scan)
    path = tmp_path / "store"
    executor = QueryExecutor(timeout=60, limits=QueryLimits.from_settings(Settings()),
                             preparer=QueryPreparer(base_iri="http://127.0.0.1/sparql"))
    memory = InMemory(str(path), store)
    try:
        assert executor.execute(path, QueryRequest("ASK {}", formats=("json",)), memory).status == 200
        before = _minor_faults(executor._process.pid)
        assert executor.execute(path, QueryRequest(scan, formats=("json",)), memory).status == 200
        taken_over = _minor_faults(executor._process.pid) - before
    finally:
        executor.close()
    assert unprepared > 1000 and taken_over < unprepared / 4, (taken_over, unprepared)
