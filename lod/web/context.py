"""What every request needs: the settings, the release being served and the query executor."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app
from rdflib import Graph

from lod.browse.lists import BrowseIndex
from lod.errors import LodError
from lod.query.cache import ResultCache, request_key
from lod.query.evaluate import QueryOutcome, QueryRequest
from lod.query.results import JsonTerm, Solutions
from lod.query.runners import LocalQueries, QueryRunner
from lod.query.stored import StoredQuery, bundled_queries, read_stored_queries
from lod.release.changes import read_changes
from lod.release.layout import CurrentRelease
from lod.release.metadata import service_description
from lod.release.publish import describe_release
from lod.settings import Settings

log = logging.getLogger(__name__)


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


class LodContext:
    """Per-process state of the app; each executor's child process is started on first use."""

    def __init__(self, settings: Settings, releases: CurrentRelease, queries: QueryRunner) -> None:
        self.settings = settings
        self.releases = releases
        self.queries = queries
        self._metadata: tuple[str, Metadata] | None = None
        self._stored: tuple[str, dict[str, StoredQuery]] | None = None
        self._browse: tuple[str, BrowseIndex] | None = None

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

    def select(self, query: str) -> list[dict[str, JsonTerm]]:
        """The solutions of a page's SELECT; pages run in the query slots kept for them."""
        return self._solutions(query).rows

    def ask(self, query: str) -> bool:
        return self._solutions(query).boolean is True

    def _solutions(self, query: str) -> Solutions:
        outcome = self.query(QueryRequest(query=query, formats=("json",)), for_page=True)
        if outcome.status != 200:
            raise QueryFailed(outcome.status, outcome.message or "query failed")
        return Solutions.from_json(outcome.read())

    def stored_queries(self) -> dict[str, StoredQuery]:
        """The API's stored queries, by name: those bundled with lod and the release's own
        (``queries/`` of the build, checked when it was built), which win."""
        release = self.releases.get()
        cached = self._stored
        if cached is None or cached[0] != release.manifest.release_id:
            own = release.path / "queries"
            queries = [*bundled_queries(), *(read_stored_queries(own) if own.is_dir() else ())]
            cached = self._stored = (release.manifest.release_id, {q.name: q for q in queries})
        return cached[1]

    def browse_index(self) -> BrowseIndex:
        """The lists and search index of the current release (opened once per release)."""
        release = self.releases.get()
        cached = self._browse
        if cached is None or cached[0] != release.manifest.release_id:
            cached = self._browse = (release.manifest.release_id, BrowseIndex(release.path))
        return cached[1]

    def metadata(self) -> Metadata:
        release = self.releases.get()
        cached = self._metadata
        if cached is None or cached[0] != release.manifest.release_id:
            void, catalog = describe_release(release.manifest, self.settings, read_changes(release.path))
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
