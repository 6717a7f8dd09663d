"""A query process that dies is replaced, and the log says why."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from lod.query.evaluate import QueryLimits, QueryRequest
from lod.query.executor import QueryExecutor
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
