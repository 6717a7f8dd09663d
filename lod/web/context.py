"""What every request needs: the settings, the release being served and the query executor."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from flask import Flask, current_app
from rdflib import Graph

from lod.errors import LodError, UsageError
from lod.formats import RdfFormat
from lod.query.cache import ResultCache, request_key
from lod.query.executor import ExecutorPool, QueryLimits, QueryOutcome, QueryRequest
from lod.query.gateway import FederationPolicy
from lod.query.planner import Engine
from lod.query.prepare import QueryPreparer
from lod.query.sandbox import probe
from lod.rdf.store import load_in_memory
from lod.release.metadata import service_description
from lod.release.publish import CURRENT, Release, describe_release, load_release, open_release
from lod.remote.queries import FROM_REFUSED, RemoteQueries
from lod.remote.store import RemoteStore
from lod.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ReleaseHolder:
    """The release to serve. It follows the ``current`` link, so a new build is picked up on the
    next request; requests already answering go on with the release they started with."""

    release_dir: Path
    fixed: Release | None = None
    _release: Release | None = None
    _target: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _link: str = field(init=False)

    def __post_init__(self) -> None:
        self._link = str(self.release_dir / CURRENT)

    def get(self) -> Release:
        if self.fixed is not None:
            return self.fixed
        try:  # once per request: one system call on a path made once
            target: str | None = os.readlink(self._link)
        except OSError:  # no link (yet): the release directory itself, or an error that says why
            target = None
        with self._lock:
            if self._release is None or target != self._target:
                # `lod serve` checked the store before starting; the query processes open it.
                self._release = (open_release(self.release_dir, check_store=False) if target is None
                                 else load_release((self.release_dir / target).resolve(), check_store=False))
                self._target = target
            return self._release


@dataclass
class Metadata:
    """VoID, the DCAT-AP.de catalog and the service description of one release."""

    void: Graph
    catalog: Graph
    service: Graph


class QueryFailed(LodError):
    """An internal query of a page did not finish; carries the executor's status."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class Queries(Protocol):
    """What answers queries on a release: the local store's executors or a remote store. Each
    prepares the client's query for its engine (:mod:`lod.query.prepare`) before anything runs."""

    def execute(self, release: Release, request: QueryRequest, *, for_page: bool = False,
                ) -> QueryOutcome: ...


class LocalQueries:
    """The executor pool over the release's own store, read from memory when it is small enough."""

    def __init__(self, pool: ExecutorPool, *, memory_store_triples: int) -> None:
        self.pool = pool
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


def query_runner(settings: Settings) -> Queries:
    """A remote store's when ``remote_query_url`` is set, else the local executor pool."""
    remote = RemoteStore.from_settings(settings)
    base_iri = f"{settings.public_url}sparql"
    if remote is not None:
        # Oxigraph's extensions are for the local engine: a remote store gets standard SPARQL, no
        # SERVICE (it would call other endpoints itself) and no FROM (the server names the dataset).
        preparer = QueryPreparer(base_iri=base_iri, engine=Engine.STANDARD, dataset_refusal=FROM_REFUSED)
        return RemoteQueries(remote, preparer=preparer, slots=settings.query_slots, wait=settings.queue_wait,
                             timeout=settings.query_timeout, max_rows=settings.max_rows,
                             max_bytes=settings.remote_max_mb * 1_000_000)
    federation = FederationPolicy.from_settings(settings)
    confinement = probe()
    log.info("query processes: %s", confinement.summary())
    if federation is not None and not confinement.may_federate:
        raise UsageError("federation is on, but query processes cannot have a network of their own "
                         f"here ({'; '.join(confinement.missing)}): SERVICE calls could not be kept "
                         "to the gateway, so the server does not start; switch federation off or run "
                         "where network namespaces are allowed (as root, or with user namespaces)")
    limits = QueryLimits(max_rows=settings.max_rows, max_bytes=settings.max_result_mb * 1_000_000,
                         memory_bytes=settings.query_memory_mb << 20)
    return LocalQueries(ExecutorPool(size=settings.query_slots, page_size=settings.page_slots,
                                     wait=settings.queue_wait, timeout=settings.query_timeout,
                                     limits=limits, federation=federation,
                                     preparer=QueryPreparer(base_iri=base_iri, federation=federation)),
                        memory_store_triples=settings.memory_store_triples)


class LodContext:
    """Per-process state of the app; each executor's child process is started on first use."""

    def __init__(self, settings: Settings, releases: ReleaseHolder) -> None:
        self.settings = settings
        self.releases = releases
        self._metadata: tuple[str, Metadata] | None = None
        self.queries = query_runner(settings)

        self.results = ResultCache(max_bytes=settings.result_cache_mb * 1024 * 1024)

    def warm_up(self) -> None:
        """Prepare the current release for queries (a server process calls it as it starts)."""
        if isinstance(self.queries, LocalQueries):
            try:
                self.queries.warm_up(self.releases.get())
            except LodError as failure:  # the first request reports it to its client
                log.warning("no release to prepare: %s", failure)

    def query(self, request: QueryRequest, *, for_page: bool = False) -> QueryOutcome:
        """Run a query on the current release; raises Overloaded when every slot stays busy. A query
        that may not run (not SPARQL 1.1, an update, SERVICE where it is off) is an outcome with
        its status (400, 403) and why."""
        _key, outcome = self.cached_query(request, for_page=for_page)
        assert outcome is not None  # only a matching If-None-Match leaves it out
        return outcome

    def cached_query(self, request: QueryRequest, *, etag: str | None = None, for_page: bool = False,
                     ) -> tuple[str, QueryOutcome | None]:
        """The request's key (its ETag) and its outcome: from the cache, or evaluated now.

        When ``etag`` (a client's If-None-Match) equals the key, nothing is evaluated and the
        outcome is None: the client's copy is current, the release being unchangeable."""
        release = self.releases.get()
        key = request_key(release.manifest.release_id, request)
        if etag == key:
            return key, None
        outcome = self.results.get(key)
        if outcome is None:
            outcome = self.queries.execute(release, request, for_page=for_page)
            self.results.put(key, outcome)
        return key, outcome

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        """The bindings of a page's SELECT (or ASK: one row ``{"boolean": …}``), as SPARQL JSON;
        pages run in the query slots kept for them."""
        outcome = self.query(QueryRequest(query=query, formats=("json",)), for_page=True)
        if outcome.status != 200:
            raise QueryFailed(outcome.status, outcome.message or "query failed")
        document = json.loads(outcome.read())
        if "boolean" in document:
            return [{"boolean": {"value": str(document["boolean"]).lower()}}]
        rows: list[dict[str, dict[str, str]]] = document["results"]["bindings"]
        return rows

    def ask(self, query: str) -> bool:
        return self.select(query)[0]["boolean"]["value"] == "true"

    def metadata(self) -> Metadata:
        release = self.releases.get()
        cached = self._metadata
        if cached is None or cached[0] != release.manifest.release_id:
            void, catalog = describe_release(release.manifest, self.settings)
            cached = (release.manifest.release_id, Metadata(
                void=void, catalog=catalog,
                service=service_description(
                    public_url=self.settings.public_url, federated_query=self.settings.federation,
                    default_graph_triples=release.manifest.served_triples,
                    named_graphs=release.manifest.named_graphs)))
            self._metadata = cached
        return cached[1]


def lod_context(app: Flask | None = None) -> LodContext:
    context: LodContext = (app or current_app).extensions["lod"]
    return context
