"""Talking to a remote SPARQL 1.1 store: the query, update and Graph Store Protocol endpoints.

A release is uploaded as two named graphs and switched in with one update; queries name those
graphs as their dataset (see :mod:`lod.remote.queries`)::

    {base_iri}release/{release_id}              the data and the vocabulary (the local default graph)
    {base_iri}release/{release_id}/vocabulary   the vocabulary (the local store's ikz: graph)
    {base_iri}release/                          the control graph, holding
        <{base_iri}release/> dcat:hasCurrentVersion <{base_iri}release/{release_id}> .
        <{base_iri}release/> dcat:hasVersion <{base_iri}release/{id}> .   (one per uploaded release)

HTTP is spoken by :mod:`lod.remote.http`: an upload is a graph's N-Triples written into a temporary
file and sent from there, so a graph is never held in memory.
"""

from __future__ import annotations

import http.client
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, cast
from urllib.parse import quote, urlencode

from lod.errors import LodError, UsageError
from lod.query.results import JsonTerm, Solutions
from lod.remote.http import Credentials, Exchange, HttpClient, NoAnswer, error_text, public, read_some
from lod.settings import Settings
from lod.vocab import DCAT

CURRENT_VERSION = str(DCAT.hasCurrentVersion)
"""The pointer's predicate: the control graph's subject has the served release as current version."""
VERSION = str(DCAT.hasVersion)
"""Records every release uploaded (before its upload starts), so that pruning finds them all."""

RESULTS_JSON = "application/sparql-results+json"


class RemoteStoreError(LodError):
    """The remote store cannot be reached, refused a request or answered with an error."""

    status = 502


class RemoteTimeout(RemoteStoreError):
    """The remote store did not answer within the time allowed."""

    status = 504


@dataclass(frozen=True)
class ReleaseGraphs:
    """The remote names of one release's graphs."""

    data: str
    vocabulary: str

    @classmethod
    def of(cls, base_iri: str, release_id: str) -> ReleaseGraphs:
        data = f"{control_graph(base_iri)}{release_id}"
        return cls(data=data, vocabulary=f"{data}/vocabulary")

    @classmethod
    def named(cls, data: str) -> ReleaseGraphs:
        """The graphs of the release whose data graph is ``data`` (as the pointer names it)."""
        return cls(data=data, vocabulary=f"{data}/vocabulary")

    @property
    def release_id(self) -> str:
        return self.data.rsplit("/", 1)[-1]


def control_graph(base_iri: str) -> str:
    """The graph that holds the pointer to the current release and the list of uploaded ones."""
    return f"{base_iri}release/"


class RemoteStore:
    """A SPARQL 1.1 store reached over HTTP; ``timeout`` bounds connecting and each wait."""

    def __init__(self, *, query_url: str, update_url: str = "", gsp_url: str = "",
                 graph_parameter: str = "graph", credentials: Credentials | None = None,
                 timeout: float = 300.0) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.graph_parameter = graph_parameter
        self.credentials = credentials or Credentials()
        self.timeout = timeout
        self.http = HttpClient(credentials=self.credentials, timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore | None:
        """The remote store the settings name, or None when remote mode is off."""
        if not settings.remote_query_url:
            return None
        return cls(query_url=settings.remote_query_url, update_url=settings.remote_update_url,
                   gsp_url=settings.remote_gsp_url, graph_parameter=settings.remote_graph_parameter,
                   credentials=Credentials(user=settings.remote_user, password=settings.remote_password,
                                           token=settings.remote_token),
                   timeout=settings.remote_timeout)

    def __repr__(self) -> str:
        return f"RemoteStore({public(self.query_url)!r})"

    def require_publishing(self) -> None:
        """Raise :class:`UsageError` unless the update and Graph Store endpoints are configured."""
        missing = [name for name, url in (("remote_update_url", self.update_url),
                                          ("remote_gsp_url", self.gsp_url)) if not url]
        if missing:
            raise UsageError(f"publishing to the remote store at {public(self.query_url)} needs "
                             f"{' and '.join(missing)} (LOD_{'/LOD_'.join(m.upper() for m in missing)})")

    # --- HTTP -------------------------------------------------------------------------------

    def open(self, method: str, url: str, *, body: bytes | None = None,
             headers: dict[str, str] | None = None, timeout: float | None = None,
             upload: IO[bytes] | None = None) -> Exchange:
        """:meth:`lod.remote.http.HttpClient.open`; raises :class:`RemoteStoreError` (or
        :class:`RemoteTimeout`) when there is no answer."""
        try:
            return self.http.open(method, url, body=body, headers=headers, timeout=timeout, upload=upload)
        except NoAnswer as failure:
            kind = RemoteTimeout if failure.timed_out else RemoteStoreError
            raise kind(f"the remote store at {public(url)} {failure}") from None

    @contextmanager
    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float | None = None,
                upload: IO[bytes] | None = None) -> Iterator[http.client.HTTPResponse]:
        """:meth:`open` as a context: the response, closed at the end of the block."""
        exchange = self.open(method, url, body=body, headers=headers, timeout=timeout, upload=upload)
        try:
            yield exchange.response
        finally:
            exchange.close()

    def detail(self, response: http.client.HTTPResponse) -> str:
        """The start of an error response's body, as text, without our secrets."""
        return self.credentials.scrub(error_text(read_some(response)))

    def failure(self, response: http.client.HTTPResponse, url: str, doing: str) -> RemoteStoreError:
        """The error for a response whose status is not a success."""
        status = response.status
        if 300 <= status < 400:
            location = response.getheader("Location")
            return RemoteStoreError(
                f"the remote store at {public(url)} answered {status} {response.reason}"
                f"{f' (to {public(location)})' if location else ''} while {doing}; lod follows no "
                "redirects: configure the URL it leads to")
        detail = self.detail(response)
        if status in (401, 403, 407):
            hint = ("check LOD_REMOTE_USER and LOD_REMOTE_PASSWORD, or LOD_REMOTE_TOKEN"
                    if self.credentials.header() else "it needs credentials: set LOD_REMOTE_USER and "
                    "LOD_REMOTE_PASSWORD, or LOD_REMOTE_TOKEN")
            return RemoteStoreError(f"the remote store at {public(url)} refused access ({status} "
                                    f"{response.reason}) while {doing}; {hint}")
        kind = RemoteTimeout if status in (408, 504) else RemoteStoreError
        return kind(f"the remote store at {public(url)} answered {status} {response.reason} while "
                    f"{doing}: {detail or '(no message)'}")

    # --- operations -------------------------------------------------------------------------

    def select(self, query: str) -> list[dict[str, JsonTerm]]:
        """The solutions of a small SELECT, as SPARQL JSON reads them (:class:`Solutions`)."""
        body = urlencode({"query": query}).encode()
        with self.request("POST", self.query_url, body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Accept": RESULTS_JSON}) as response:
            if response.status != 200:
                raise self.failure(response, self.query_url, "answering a query")
            try:
                return Solutions.from_json(response.read()).rows
            except (ValueError, KeyError, TypeError, OSError, http.client.HTTPException) as failure:
                raise RemoteStoreError(f"the remote store at {public(self.query_url)} sent an answer "
                                       f"that is not SPARQL JSON results: {failure!r}") from None

    def update(self, operation: str) -> None:
        """Run one SPARQL 1.1 Update request."""
        with self.request("POST", self.update_url, body=urlencode({"update": operation}).encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
            if not 200 <= response.status < 300:
                raise self.failure(response, self.update_url, "running an update")
            response.read()

    def put_graph(self, graph: str, write: Callable[[IO[bytes]], None]) -> None:
        """Replace ``graph`` with the N-Triples ``write`` produces (Graph Store Protocol §5.3), sent
        from a temporary file: the graph is never held in memory."""
        separator = "&" if "?" in self.gsp_url else "?"
        url = f"{self.gsp_url}{separator}{self.graph_parameter}={quote(graph, safe='')}"
        with tempfile.TemporaryFile(prefix="lod-upload-") as spool:
            write(cast(IO[bytes], spool))
            with self.request("PUT", url, headers={"Content-Type": "application/n-triples"},
                              upload=cast(IO[bytes], spool)) as response:
                if not 200 <= response.status < 300:
                    raise self.failure(response, url, f"uploading <{graph}>")
                response.read()

    def count(self, graphs: Sequence[str]) -> dict[str, int]:
        """The number of triples in each of ``graphs``."""
        values = " ".join(f"<{graph}>" for graph in graphs)
        rows = self.select(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                           f"GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g")
        found = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
        return {graph: found.get(graph, 0) for graph in graphs}

    def holds(self, graph: str) -> bool:
        """Whether ``graph`` has any triple (a SELECT: Virtuoso 7 answers ASK as a table)."""
        return bool(self.select(f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} LIMIT 1"))

    def current(self, base_iri: str) -> ReleaseGraphs | None:
        """The release the pointer names, or None."""
        control = control_graph(base_iri)
        rows = self.select(f"SELECT ?r WHERE {{ GRAPH <{control}> {{ <{control}> <{CURRENT_VERSION}> ?r }} }}"
                           " LIMIT 1")
        return ReleaseGraphs.named(rows[0]["r"]["value"]) if rows else None

    def versions(self, base_iri: str) -> list[ReleaseGraphs]:
        """Every release recorded in the control graph."""
        control = control_graph(base_iri)
        rows = self.select(f"SELECT ?r WHERE {{ GRAPH <{control}> {{ <{control}> <{VERSION}> ?r }} }}"
                           " ORDER BY ?r")
        return [ReleaseGraphs.named(row["r"]["value"]) for row in rows]

    def record(self, base_iri: str, graphs: ReleaseGraphs) -> None:
        control = control_graph(base_iri)
        self.update(f"INSERT DATA {{ GRAPH <{control}> {{ <{control}> <{VERSION}> <{graphs.data}> }} }}")

    def switch(self, base_iri: str, graphs: ReleaseGraphs | None) -> None:
        """Point the control graph at ``graphs`` (or at nothing) in one update request, which a
        store applies as one transaction (SPARQL 1.1 Update §2.2; Oxigraph and Virtuoso do):
        readers see the old pointer or the new one. It is two operations, delete and insert: the
        one ``DELETE … INSERT … WHERE { OPTIONAL … }`` inserts nothing on Virtuoso 7 while there
        is no pointer yet."""
        control = control_graph(base_iri)
        pointer = f"<{control}> <{CURRENT_VERSION}>"
        insert = f" ;\nINSERT DATA {{ GRAPH <{control}> {{ {pointer} <{graphs.data}> }} }}" if graphs else ""
        self.update(f"DELETE WHERE {{ GRAPH <{control}> {{ {pointer} ?old }} }}{insert}")

    def drop(self, base_iri: str, graphs: ReleaseGraphs) -> None:
        """Remove a release's graphs and its record (one request, in this order)."""
        control = control_graph(base_iri)
        self.update(f"DROP SILENT GRAPH <{graphs.data}> ;\nDROP SILENT GRAPH <{graphs.vocabulary}> ;\n"
                    f"DELETE DATA {{ GRAPH <{control}> {{ <{control}> <{VERSION}> <{graphs.data}> }} }}")


