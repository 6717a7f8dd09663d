"""Queries answered by a remote SPARQL 1.1 store, with the guarantees of the local endpoint.

A query is sent to the remote store with the served release's data graph, which holds the data and
the vocabulary as the local store's default graph does, as its ``default-graph-uri``, so it sees
that release and nothing else the store holds. One difference remains: a query may not use
``GRAPH`` (see below), so the vocabulary is not a named graph there; ``default-graph-uri=ikz:`` is
mapped to the vocabulary's remote graph, ``{base_iri}release/{id}/vocabulary``. The answer is
parsed as it arrives and serialised by :func:`lod.query.evaluate.evaluate`, the local endpoint's
own code: the same formats and negotiation, the same ``406``, the same ``max_rows`` cut and spool.

Bounded like the local endpoint: ``query_slots`` queries at once per process (then ``503`` with
``Retry-After``), ``query_timeout`` for the whole exchange (then ``504``), ``remote_max_mb`` read at
most; updates never get here (the web layer answers ``403``); ``SERVICE`` is refused, as the
remote store would call other endpoints itself, beyond this server's allow-list; ``FROM`` is
refused (by the query layer, on the parsed query: :data:`FROM_REFUSED`), so a query cannot widen
its dataset on a store that lets it; so is ``GRAPH`` (:data:`GRAPH_REFUSED`): Virtuoso 7 answers
``GRAPH <iri>``, and ``GRAPH ?g`` with ``FILTER(?g = <iri>)``, from any graph of that name,
whatever ``named-graph-uri`` says. A query sees the default graph only, which the protocol's
``default-graph-uri`` makes the release's data and vocabulary, and which every store tested
keeps to.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import IO, Any, cast
from urllib.parse import urlencode

import pyoxigraph as ox

from lod.formats import RdfFormat, ResultFormat
from lod.query.evaluate import QueryOutcome, QueryRequest, error, evaluate
from lod.query.executor import Overloaded
from lod.query.prepare import QueryInvalid, QueryPreparer, QueryRefused
from lod.rdf.store import ONTOLOGY_GRAPH
from lod.release.layout import Release
from lod.remote.client import retry_after
from lod.remote.http import Exchange, public
from lod.remote.store import ReleaseGraphs, RemoteStore, RemoteStoreError, RemoteTimeout

FROM_REFUSED = ("FROM and FROM NAMED are not accepted on this endpoint, whose queries are answered by a "
                "remote store; name the dataset with the default-graph-uri parameter instead (SPARQL "
                f"1.1 Protocol §2.1.4), e.g. <{ONTOLOGY_GRAPH.value}> for the vocabulary")

GRAPH_REFUSED = ("GRAPH is not accepted on this endpoint, whose queries are answered by a remote store "
                 "that may not keep GRAPH to the release's graphs (Virtuoso 7 reads any graph a query "
                 "names, whatever named-graph-uri says); the release's data and its vocabulary are both "
                 "in the default graph")

ACCEPT = {
    "results": "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
               "text/tab-separated-values;q=0.8",
    "graph": "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8",
}
"""What the remote store may answer in, for each kind of result (only that kind: Virtuoso answers a
CONSTRUCT in SPARQL results JSON when that is offered)."""


class RemoteQueries:
    """Runs queries on a release's graphs in a remote store; ``execute`` as the local executor's."""

    def __init__(self, remote: RemoteStore, *, preparer: QueryPreparer, slots: int, wait: float,
                 timeout: float, max_rows: int, max_bytes: int, spool_dir: str | None = None) -> None:
        self.remote = remote
        self.preparer = preparer
        """Prepares queries for the remote store: standard SPARQL, FROM refused."""
        self.wait = wait
        self.timeout = timeout
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.spool_dir = spool_dir or tempfile.gettempdir()
        self._slots = threading.BoundedSemaphore(slots)

    def execute(self, release: Release, request: QueryRequest, *, for_page: bool = False,
                ) -> QueryOutcome:
        """Evaluate ``request`` on ``release``'s graphs; raises :class:`~lod.query.executor.Overloaded`
        when every slot stays busy for the wait, or when the remote store says it is busy."""
        try:
            prepared = self.preparer.prepare(request.query)
        except (QueryInvalid, QueryRefused) as refusal:
            return error(refusal.status, str(refusal))
        request = replace(request, query=prepared.text)
        if not self._slots.acquire(timeout=self.wait):
            raise Overloaded(retry_after=max(1, round(self.timeout / 2)))
        try:
            return self._execute(release, request, prepared.form)
        finally:
            self._slots.release()

    def _execute(self, release: Release, request: QueryRequest, form: str) -> QueryOutcome:
        graphs = ReleaseGraphs.of(release.manifest.base_iri, release.manifest.release_id)
        dataset = _RemoteDataset(self, graphs, form)
        # Each query spools into a directory of its own, removed with whatever a failure left.
        directory = tempfile.mkdtemp(prefix="lod-remote-", dir=self.spool_dir)
        try:
            outcome = evaluate(dataset, request, max_rows=self.max_rows,
                               max_bytes=self.max_bytes, spool_dir=directory)
            if outcome.path is not None:
                kept = os.path.join(self.spool_dir, os.path.basename(outcome.path))
                os.rename(outcome.path, kept)
                outcome = replace(outcome, path=kept)
            return outcome
        except RemoteStoreError as failure:
            return error(failure.status, str(failure))
        except (OSError, SyntaxError, ValueError, http.client.HTTPException) as failure:
            # The answer broke off or is not what its media type says, found while reading it.
            known = dataset.failure
            if known is not None:
                return error(known.status, str(known))
            return error(502, f"the answer of the remote store at {public(self.remote.query_url)} "
                              f"cannot be read: {failure}")
        finally:
            dataset.close()
            shutil.rmtree(directory, ignore_errors=True)


_TRUE = ox.parse_query_results(b'{"head": {}, "boolean": true}', ox.QueryResultsFormat.JSON)
_FALSE = ox.parse_query_results(b'{"head": {}, "boolean": false}', ox.QueryResultsFormat.JSON)


def _boolean(answer: Any, url: str) -> Any:
    """The answer to an ASK query. Virtuoso 7 answers ASK as a SELECT of one variable,
    ``__ASK_RETVAL``, bound to 1 or 0 (openlink/virtuoso-opensource#464, #1016): that is read as
    the boolean it stands for; any other table is not an answer to ASK."""
    if isinstance(answer, ox.QueryBoolean):
        return answer
    if [v.value for v in answer.variables] == ["__ASK_RETVAL"]:
        values = [row[0] for row in answer]
        return _TRUE if values and values[0] is not None and values[0].value in ("1", "true") else _FALSE
    raise RemoteStoreError(f"the remote store at {public(url)} answered an ASK query with a table")


class _RemoteDataset:
    """A release's graphs on the remote store, asked as a pyoxigraph ``Store`` is asked by
    :func:`lod.query.evaluate.evaluate` (its ``query`` method, with the same dataset options), so
    the local endpoint's serialisation applies unchanged."""

    def __init__(self, owner: RemoteQueries, graphs: ReleaseGraphs, form: str) -> None:
        self.owner = owner
        self.remote = owner.remote
        self.graphs = graphs
        self.form = form
        self._accept = ACCEPT["results" if form in ("SELECT", "ASK") else "graph"]
        self.deadline = time.monotonic() + owner.timeout
        self.exchange: Exchange | None = None
        self.failure: RemoteStoreError | None = None
        self.read_bytes = 0

    def _graph(self, name: ox.NamedNode) -> str:
        """A graph the client named, as the remote store knows it."""
        vocabulary, data = self.graphs.vocabulary, self.graphs.data
        allowed = {ONTOLOGY_GRAPH.value: vocabulary, vocabulary: vocabulary, data: data}
        if name.value not in allowed:
            raise ValueError(f"<{name.value}> is not a graph of this dataset; default-graph-uri and "
                             f"named-graph-uri may name <{ONTOLOGY_GRAPH.value}> (the vocabulary), "
                             f"<{self.graphs.vocabulary}> or <{self.graphs.data}> (the data)")
        return allowed[name.value]

    def query(self, query: str, *, default_graph: Sequence[ox.NamedNode] | None = None,
              named_graphs: Sequence[ox.NamedNode] | None = None,
              use_default_graph_as_union: bool = False, **_options: Any) -> Any:
        # As in the local store: the default graph is the data and the vocabulary (one graph, as
        # uploaded), the vocabulary is the one named graph.
        defaults = [self._graph(g) for g in default_graph] if default_graph else [self.graphs.data]
        named = [self._graph(g) for g in named_graphs] if named_graphs else [self.graphs.vocabulary]
        form = [("query", query), *(("default-graph-uri", g) for g in defaults),
                *(("named-graph-uri", g) for g in named)]
        url = self.remote.query_url
        try:
            exchange = self.exchange = self.remote.open(
                "POST", url, body=urlencode(form).encode(), timeout=self._remaining(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": self._accept})
        except RemoteTimeout:
            raise self.stop(self._timeout()) from None
        response = exchange.response
        if response.status == 400:
            detail = self.remote.detail(response) or "(no message)"
            raise SyntaxError(f"the remote store rejected it: {detail}")
        if response.status in (429, 503):
            wait = retry_after(response.getheader("Retry-After"))
            raise Overloaded(retry_after=max(1, round(wait if wait is not None else self.owner.timeout / 2)))
        if response.status != 200:
            raise self.remote.failure(response, url, "answering a query")
        media_type = (response.getheader("Content-Type") or "").partition(";")[0].strip().lower()
        body = cast(IO[bytes], _Body(self))  # read() is all the parsers call
        results = next((f for f in ResultFormat if media_type in f.names), None)
        if results is not None:
            try:
                answer = ox.parse_query_results(body, results.oxigraph)
            except (SyntaxError, ValueError) as failure:  # not the client's query: the answer
                raise RemoteStoreError(f"the answer of the remote store at {public(url)} cannot be "
                                       f"read: {failure}") from None
            return _boolean(answer, url) if self.form == "ASK" else answer
        graph = next((f for f in RdfFormat if media_type in f.names), None)
        if graph is not None:
            return (quad.triple for quad in ox.parse(body, graph.oxigraph))
        raise RemoteStoreError(f"the remote store at {public(url)} answered in "
                               f"{media_type or 'no media type'}, which lod cannot read; "
                               f"it asked for {self._accept}")

    def _remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self.stop(self._timeout())
        return remaining

    def _timeout(self) -> RemoteTimeout:
        return RemoteTimeout(f"the query was stopped because it took longer than the limit of "
                             f"{self.owner.timeout:g} seconds (waiting for the remote store at "
                             f"{public(self.remote.query_url)}); narrow it down (LIMIT, more specific "
                             "patterns) and try again")

    def stop(self, failure: RemoteStoreError) -> RemoteStoreError:
        """Remember why reading stopped: the parser may pass on the error as another one."""
        self.failure = self.failure or failure
        return self.failure

    def close(self) -> None:
        if self.exchange is not None:
            self.exchange.close()


class _Body:
    """The response body as the parsers read it, within the deadline and the byte limit."""

    def __init__(self, dataset: _RemoteDataset) -> None:
        self.dataset = dataset

    def read(self, size: int = -1) -> bytes:
        dataset = self.dataset
        assert dataset.exchange is not None
        dataset.exchange.limit(dataset._remaining())
        try:
            data = dataset.exchange.response.read(size if size > 0 else 1 << 16)
        except TimeoutError:
            raise dataset.stop(dataset._timeout()) from None
        except (OSError, http.client.HTTPException) as failure:
            raise dataset.stop(RemoteStoreError(
                f"the answer of the remote store at {public(dataset.remote.query_url)} broke off: "
                f"{failure or type(failure).__name__}")) from None
        dataset.read_bytes += len(data)
        if dataset.read_bytes > dataset.owner.max_bytes:
            raise dataset.stop(RemoteStoreError(
                f"the answer of the remote store is larger than {dataset.owner.max_bytes // 1_000_000} MB "
                "(remote_max_mb) before reaching max_rows; narrow the query down"))
        return data
