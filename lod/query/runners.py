"""What answers queries on a release, behind one interface: ``execute(release, request) → outcome``.

Two runners are here: the confined query processes of a server (``LocalQueries``) and this process
(``InProcessQueries``, for ``lod query`` without a server); the third, a remote store's, is
:class:`lod.remote.queries.RemoteQueries`. Each prepares the query for its engine
(:mod:`lod.query.prepare`) before anything runs, so whoever asks — the endpoint, the pages,
``lod query`` — gets the same answer, refusals included, and reads it the same way
(:class:`lod.query.results.Solutions`).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from functools import partial
from typing import Protocol

import pyoxigraph as ox

from lod.formats import RdfFormat
from lod.query.evaluate import QueryLimits, QueryOutcome, QueryRequest, prepare_and_evaluate
from lod.query.executor import ExecutorPool
from lod.query.prepare import QueryPreparer
from lod.rdf import statistics as plan_statistics
from lod.rdf.store import load_in_memory, open_store
from lod.release.layout import Release

__all__ = ["InProcessQueries", "LocalQueries", "QueryRunner"]


class QueryRunner(Protocol):
    """Answers queries on a release. Raises :class:`~lod.query.executor.Overloaded` when it has no
    capacity left; everything else, refusals and failures included, is an outcome."""

    preparer: QueryPreparer
    """How it prepares a query for its engine (what ``lod query --explain`` shows)."""

    def execute(self, release: Release, request: QueryRequest, *, for_page: bool = False,
                ) -> QueryOutcome: ...


class LocalQueries:
    """The executor pool over the release's own store, read from memory when it is small enough."""

    def __init__(self, pool: ExecutorPool, *, preparer: QueryPreparer, memory_store_triples: int) -> None:
        self.pool = pool
        self.preparer = preparer
        """The query processes' (each prepares its own queries with a copy of it)."""
        self.memory_store_triples = memory_store_triples

    def execute(self, release: Release, request: QueryRequest, *, for_page: bool = False,
                ) -> QueryOutcome:
        return self.pool.execute(release.store_path, request, load=self._loader(release),
                                 for_page=for_page)

    def free(self) -> tuple[int, int]:
        """Free query slots and free page slots, now."""
        return self.pool.free(), self.pool.free(for_page=True)

    def warm_up(self, release: Release) -> None:
        """Load the release into memory now (if it is to be), not on the first query."""
        load = self._loader(release)
        if load is not None:
            self.pool.load(release.store_path, load)

    def _loader(self, release: Release) -> Callable[[], ox.Store] | None:
        if release.manifest.served_triples > self.memory_store_triples:
            return None
        dump = next((d for d in release.manifest.dumps if d.format is RdfFormat.NQUADS and d.gzipped), None)
        return None if dump is None else partial(load_in_memory, release.path / "dumps" / dump.name)


class InProcessQueries:
    """The release's store read in this process, one query at a time, with the limits of a query
    process but without its confinement: for the command line, never for a public endpoint."""

    def __init__(self, *, preparer: QueryPreparer, limits: QueryLimits) -> None:
        self.preparer = preparer
        self.limits = limits
        self._store: tuple[str, ox.Store] | None = None
        self._lock = threading.Lock()

    def execute(self, release: Release, request: QueryRequest, *, for_page: bool = False,
                ) -> QueryOutcome:
        with self._lock:
            path = str(release.store_path)
            if self._store is None or self._store[0] != path:
                self._store = (path, open_store(release.store_path))
                # No text index or ranks (lod.query.literals, .ranks): reading them would cost a
                # command that asks one question more than it saves.
                self.preparer.use_release(plan_statistics.read(release.path))
            return prepare_and_evaluate(self._store[1], request, self.preparer, limits=self.limits,
                                        spool_dir=tempfile.gettempdir())
