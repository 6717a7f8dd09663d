"""Asking SPARQL endpoints, ours or anyone's, and getting typed results back.

A query goes to a :class:`QuerySource`: an :class:`Endpoint` (a remote SPARQL 1.1 endpoint, asked
over :mod:`lod.remote.http`, with timeouts, retries when the endpoint is busy, and an optional
on-disk :class:`AnswerCache`) or a :class:`LocalRelease` (a release on disk, answered by a query
runner, :mod:`lod.query.runners`). Either gives a :class:`SelectResult`
of rdflib terms, a ``bool`` for ASK, or an rdflib ``Graph`` for CONSTRUCT and DESCRIBE::

    wikidata = Endpoint(WIKIDATA_ENDPOINT, cache=AnswerCache(Path(".cache/sparql")))
    for row in wikidata.select("SELECT ?item ?population WHERE { ... }"):
        row["item"]                      # an rdflib URIRef
        row.python()["population"]       # an int

Nothing here is called by the web layer: our endpoint never fetches other endpoints for a client.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import io
import json
import logging
import os
import re
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TypeAlias, TypeVar
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.query import Result

from lod.errors import LodError, UsageError
from lod.formats import RdfFormat, ResultFormat
from lod.messages import tr
from lod.query.evaluate import QueryLimits, QueryRequest
from lod.query.prepare import QueryPreparer
from lod.query.runners import InProcessQueries, QueryRunner
from lod.release.layout import open_release
from lod.remote.http import HttpClient, NoAnswer, error_text, read_some
from lod.remote.query_text import QUERY_KEYWORDS, UPDATE_KEYWORDS, tokens
from lod.vocab import QUERY_PREFIXES

__all__ = [
    "WIKIDATA_ENDPOINT",
    "AnswerCache",
    "Endpoint",
    "EndpointError",
    "EndpointTimeout",
    "FederationError",
    "LocalRelease",
    "QueryResult",
    "QuerySource",
    "RdflibTerm",
    "SelectResult",
    "Solution",
    "paged_query",
    "query_form",
    "retry_after",
    "to_python",
]

log = logging.getLogger(__name__)

WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"

RdflibTerm: TypeAlias = URIRef | Literal | BNode
"""A value in a result row."""

RETRY_STATUSES = frozenset({429, 503})
"""Statuses that say "not now": the request is sent again after a pause."""

_POST_ABOVE = 1500
"""Queries longer than this (in characters) are POSTed: some servers cut URLs at 2 KiB."""

_F = TypeVar("_F", RdfFormat, ResultFormat)

_ACCEPT = {
    "results": "application/sparql-results+json, application/sparql-results+xml;q=0.9",
    "graph": "text/turtle, application/n-triples;q=0.9, application/rdf+xml;q=0.8, "
             "application/ld+json;q=0.7",
}
"""What an endpoint may answer in, by kind of result (only that kind: some endpoints answer a
CONSTRUCT in results JSON when that is offered)."""


# --- errors -------------------------------------------------------------------------------------


class FederationError(LodError):
    """An endpoint could not be asked, or its answer could not be read."""

    status = 502


class EndpointError(FederationError):
    """The endpoint answered a query with an error status (``http_status``)."""

    def __init__(self, endpoint: str, http_status: int, detail: str, *, over_http: bool = True) -> None:
        self.endpoint = endpoint
        self.http_status = http_status
        self.detail = detail
        if over_http:
            super().__init__(tr("{endpoint} answered HTTP {status}: {detail}", endpoint=endpoint,
                                status=http_status, detail=detail))
        elif http_status < 500:  # a release queried in this process: no HTTP is involved
            super().__init__(tr("{endpoint} refused the query: {detail}", endpoint=endpoint, detail=detail))
        else:
            super().__init__(tr("{endpoint} could not answer the query: {detail}", endpoint=endpoint,
                                detail=detail))


class EndpointTimeout(FederationError):
    """The endpoint did not answer in time."""

    status = 504


# --- results ------------------------------------------------------------------------------------


def to_python(term: RdflibTerm) -> object:
    """A term as a plain Python value: an IRI or blank node as ``str``, a literal as its value
    (``int``, ``Decimal``, ``date``, ``bool``, …), or its lexical form when rdflib has no Python
    type for it (``xsd:gYear``, unknown datatypes, ill-typed values)."""
    if isinstance(term, Literal):
        value = term.toPython()
        return str(term) if isinstance(value, Literal) else value
    return str(term)


class Solution(Mapping[str, RdflibTerm]):
    """One row of a SELECT result: each bound variable (without ``?``) and its term.

    Unbound variables are absent: ``row.get("x")`` is None for them."""

    __slots__ = ("_terms",)

    def __init__(self, terms: Mapping[str, RdflibTerm]) -> None:
        self._terms = dict(terms)

    def __getitem__(self, name: str) -> RdflibTerm:
        return self._terms[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def __repr__(self) -> str:
        return f"Solution({self._terms!r})"

    def python(self) -> dict[str, object]:
        """The row with plain Python values (see :func:`to_python`)."""
        return {name: to_python(term) for name, term in self._terms.items()}


@dataclass(frozen=True, slots=True)
class SelectResult:
    """The solutions of a SELECT query, in the order the endpoint gave them."""

    variables: tuple[str, ...]
    rows: tuple[Solution, ...]
    truncated: bool = False
    """The endpoint says it cut the result at its row limit (``X-SPARQL-MaxRows``)."""

    def __iter__(self) -> Iterator[Solution]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def python(self) -> list[dict[str, object]]:
        """Every row with plain Python values."""
        return [row.python() for row in self.rows]


QueryResult: TypeAlias = SelectResult | bool | Graph
"""SELECT gives a SelectResult, ASK a bool, CONSTRUCT and DESCRIBE a Graph."""


def query_form(query: str) -> str:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``; a ``UsageError`` for anything else."""
    for token in tokens(query):
        if token.kind != "name":
            continue
        word = token.text.upper()
        if word in QUERY_KEYWORDS:
            return word
        if word in UPDATE_KEYWORDS:
            raise UsageError(tr("this is a SPARQL Update ({keyword}); only queries are sent to endpoints",
                                keyword=word))
    raise UsageError(tr("not a SPARQL query: found none of SELECT, ASK, CONSTRUCT, DESCRIBE"))


def _term(value: object, source: str) -> RdflibTerm:
    if isinstance(value, URIRef | Literal | BNode):
        return value
    raise FederationError(f"{source} answered with a value that is not an RDF term: {value!r}")


def _format_of(kind: type[_F], media_type: str, form: str, source: str) -> _F:
    for fmt in kind:
        if media_type in fmt.names:
            return fmt
    raise FederationError(f"{source} answered a {form} query with {media_type!r}; "
                          f"expected one of {', '.join(f.media_type for f in kind)}")


def _decode(form: str, media_type: str, body: bytes, *, source: str, truncated: bool) -> QueryResult:
    try:
        if form in ("SELECT", "ASK"):
            results = _format_of(ResultFormat, media_type, form, source)
            parsed = Result.parse(io.BytesIO(body), format=results.label)
            if parsed.type == "ASK":
                return bool(parsed.askAnswer)
            variables = tuple(str(v) for v in parsed.vars or ())
            rows = tuple(Solution({str(k): _term(v, source) for k, v in binding.items()})
                         for binding in parsed.bindings)
            return SelectResult(variables, rows, truncated)
        graph_format = _format_of(RdfFormat, media_type, form, source)
        rdf = graph_format.rdflib_name
        if graph_format is RdfFormat.JSONLD:
            # rdflib's JSON-LD parser warns that it uses a deprecated class of rdflib's own.
            triples = (quad.triple for quad in ox.parse(body, format=ox.RdfFormat.JSON_LD))
            body, rdf = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"", "nt"
        return Graph().parse(data=body, format=rdf)
    except (ValueError, KeyError, TypeError, SyntaxError) as error:
        raise FederationError(f"{source}: the answer is not valid {media_type}: {error}") from None


# --- sources ------------------------------------------------------------------------------------


class QuerySource(ABC):
    """Something that answers SPARQL queries: an :class:`Endpoint` or a :class:`LocalRelease`.

    Code that needs to ask takes a QuerySource, so a test can pass a small local one."""

    name: str = "a SPARQL source"
    """Names the source in messages."""

    @abstractmethod
    def query(self, query: str) -> QueryResult:
        """The result of any query form."""

    def select(self, query: str) -> SelectResult:
        _expect(query, "SELECT")
        result = self.query(query)
        if not isinstance(result, SelectResult):
            raise FederationError(f"{self.name} answered a SELECT query with {type(result).__name__}")
        return result

    def ask(self, query: str) -> bool:
        _expect(query, "ASK")
        result = self.query(query)
        if not isinstance(result, bool):
            raise FederationError(f"{self.name} answered an ASK query with {type(result).__name__}")
        return result

    def construct(self, query: str) -> Graph:
        """The graph of a CONSTRUCT or DESCRIBE query."""
        _expect(query, "CONSTRUCT", "DESCRIBE")
        result = self.query(query)
        if not isinstance(result, Graph):
            raise FederationError(f"{self.name} answered a graph query with {type(result).__name__}")
        return result

    def pages(self, query: str, *, page_size: int = 10_000, order_by: str | None = None,
              ) -> Iterator[SelectResult]:
        """The solutions of a SELECT query, ``page_size`` rows at a time (LIMIT/OFFSET).

        Paging needs a stable order. ``order_by`` (e.g. ``"?municipality DESC(?population)"``)
        orders the query wrapped as a subquery; without it a query that ends in ORDER BY (and has
        no LIMIT or OFFSET of its own) gets LIMIT/OFFSET appended, and any other query is wrapped
        and ordered by all its variables. ``page_size`` must not exceed the endpoint's own row
        limit: a page the endpoint cuts is an error, not a silent end."""
        if page_size < 1:
            raise UsageError(f"page_size={page_size}: must be at least 1")
        _expect(query, "SELECT")
        if order_by is None and not _appendable(query):
            head = self.select(paged_query(query, limit=0, offset=0, order_by=""))
            order_by = " ".join(f"?{name}" for name in head.variables)
        offset = 0
        while True:
            page = self.select(paged_query(query, limit=page_size, offset=offset, order_by=order_by))
            if page.truncated:
                raise FederationError(f"{self.name} cut a page at {len(page)} rows, fewer than "
                                      f"page_size={page_size}; use a page_size of at most its row limit")
            yield page
            if len(page) < page_size:
                return
            offset += page_size

    def select_all(self, query: str, *, page_size: int = 10_000, order_by: str | None = None,
                   ) -> SelectResult:
        """Every solution of a SELECT query, fetched in pages (see :meth:`pages`)."""
        variables: tuple[str, ...] = ()
        rows: list[Solution] = []
        for page in self.pages(query, page_size=page_size, order_by=order_by):
            variables = variables or page.variables
            rows.extend(page.rows)
        return SelectResult(variables, tuple(rows))


def _expect(query: str, *forms: str) -> None:
    form = query_form(query)
    if form not in forms:
        raise UsageError(f"expected a {' or '.join(forms)} query, not {form}")


_PROLOGUE = re.compile(r"(?:\s+|\#[^\n\r]*|(?i:BASE)\s*<[^>]*>|(?i:PREFIX)\s*[^\s:]*:\s*<[^>]*>)*")


def _top_level_words(query: str) -> set[str]:
    """Solution-modifier keywords outside every group: the query's own ORDER BY, LIMIT, OFFSET."""
    depth, seen_group, words = 0, False, set()
    for token in tokens(query):
        if token.text == "{":
            depth, seen_group = depth + 1, True
        elif token.text == "}":
            depth -= 1
        elif depth == 0 and seen_group and token.kind == "name":
            words.add(token.text.upper())
    return words & {"ORDER", "LIMIT", "OFFSET"}


def _appendable(query: str) -> bool:
    return _top_level_words(query) == {"ORDER"}


def paged_query(query: str, *, limit: int, offset: int, order_by: str | None) -> str:
    """``query`` cut to one page. With ``order_by`` it is wrapped as a subquery ordered by it
    (``""`` wraps it unordered); without, LIMIT and OFFSET are appended to its own ORDER BY."""
    if order_by is None:
        if not _appendable(query):
            raise UsageError("paging needs a stable order: end the query with ORDER BY "
                             "(and no LIMIT/OFFSET), or give order_by")
        return f"{query.rstrip()}\nLIMIT {limit} OFFSET {offset}"
    prologue = _PROLOGUE.match(query)
    end = prologue.end() if prologue else 0
    order = f"ORDER BY {order_by}\n" if order_by else ""
    return f"{query[:end]}SELECT * WHERE {{\n{query[end:].strip()}\n}}\n{order}LIMIT {limit} OFFSET {offset}"


# --- a remote endpoint --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    media_type: str
    body: bytes
    truncated: bool


class _Busy(Exception):
    def __init__(self, http_status: int, wait: float | None) -> None:
        self.http_status = http_status
        self.wait = wait


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait by a ``Retry-After`` header (delay-seconds or an HTTP date), or None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def default_user_agent() -> str:
    """Wikidata's policy asks clients to say who they are; so do we."""
    from lod import __version__  # here: lod/__init__ is complete by the time a client is made

    return f"lod/{__version__} (https://w3id.org/lod-ikz/; Linked Open Data of inter-municipal cooperation)"


class Endpoint(QuerySource):
    """A SPARQL 1.1 endpoint, asked over HTTP (:mod:`lod.remote.http`): a GET, or a POST for a
    long query (SPARQL 1.1 Protocol §2.1).

    ``timeout`` (whole seconds) bounds connecting and each read. A ``429`` or ``503`` answer is
    retried up to ``retries`` times, after the pause its ``Retry-After`` asks for, or else after
    ``backoff`` seconds, doubled at every attempt; an endpoint asking for more than ``max_wait``
    seconds is given up on. With a ``cache``, an answer once received is not fetched again."""

    def __init__(self, url: str, *, timeout: int = 60, retries: int = 3, backoff: float = 1.0,
                 max_wait: float = 120.0, cache: AnswerCache | None = None,
                 user_agent: str | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"endpoint {url!r}: must be an http(s) URL, e.g. {WIKIDATA_ENDPOINT}")
        if timeout < 1:
            raise UsageError(f"timeout={timeout!r}: must be at least 1 second")
        if retries < 0 or backoff < 0 or max_wait < 0:
            raise UsageError("retries, backoff and max_wait must not be negative")
        self.url = self.name = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.cache = cache
        self.user_agent = user_agent or default_user_agent()
        self._sleep = sleep
        self._http = HttpClient(timeout=timeout, user_agent=self.user_agent)

    def __repr__(self) -> str:
        return f"Endpoint({self.url!r})"

    def query(self, query: str) -> QueryResult:
        form = query_form(query)
        kind = "results" if form in ("SELECT", "ASK") else "graph"
        answer = self.cache.get(self.url, kind, query) if self.cache else None
        if answer is None:
            answer = self._fetch(query, form)
            if self.cache:
                self.cache.put(self.url, kind, query, answer)
        return _decode(form, answer.media_type, answer.body, source=self.url, truncated=answer.truncated)

    def _fetch(self, query: str, form: str) -> _Answer:
        attempt = 0
        while True:
            try:
                return self._send(query, form)
            except _Busy as busy:
                attempt += 1
                if attempt > self.retries:
                    raise EndpointError(self.url, busy.http_status, tr(
                        "still busy after {attempts} attempts; try again later", attempts=attempt)) from None
                wait = busy.wait if busy.wait is not None else self.backoff * 2 ** (attempt - 1)
                if wait > self.max_wait:
                    raise EndpointError(self.url, busy.http_status, tr(
                        "asks to retry after {wait:g} s, longer than max_wait={max_wait:g} s", wait=wait,
                        max_wait=self.max_wait)) from None
                log.warning("%s answered %d; asking again in %g s (attempt %d of %d)",
                            self.url, busy.http_status, wait, attempt + 1, self.retries + 1)
                self._sleep(wait)

    def _send(self, query: str, form: str) -> _Answer:
        headers = {"Accept": _ACCEPT["results" if form in ("SELECT", "ASK") else "graph"]}
        encoded = urlencode({"query": query})
        if len(query) > _POST_ABOVE:
            url, body = self.url, encoded.encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            url, body = f"{self.url}{'&' if '?' in self.url else '?'}{encoded}", None
        try:
            exchange = self._http.open("POST" if body is not None else "GET", url, body=body,
                                       headers=headers)
        except NoAnswer as failure:
            if failure.timed_out:
                raise EndpointTimeout(f"{self.url} {failure}") from None
            raise FederationError(tr("cannot reach {url}: {reason}", url=self.url,
                                     reason=failure.reason)) from None
        try:
            response = exchange.response
            if response.status in RETRY_STATUSES:
                raise _Busy(response.status, retry_after(response.getheader("Retry-After")))
            if response.status != 200:
                raise EndpointError(self.url, response.status, error_text(read_some(response)))
            return _Answer(response.headers.get_content_type(), response.read(),
                           truncated="X-SPARQL-MaxRows" in response.headers)
        except TimeoutError:
            raise EndpointTimeout(tr("{url} did not answer within {timeout} s", url=self.url,
                                     timeout=self.timeout)) from None
        except (OSError, http.client.HTTPException) as error:
            raise FederationError(tr("the connection to {url} failed: {reason}", url=self.url,
                                     reason=error)) from None
        finally:
            exchange.close()


# --- the cache ----------------------------------------------------------------------------------


class AnswerCache:
    """Answers kept on disk, one file per endpoint, result kind and query text.

    ``max_age`` (seconds) makes older answers count as missing; None keeps them until removed.
    Files are written whole and renamed into place, so several processes may share a cache."""

    def __init__(self, directory: Path, *, max_age: float | None = None) -> None:
        self.directory = directory
        self.max_age = max_age

    def path(self, endpoint: str, kind: str, query: str) -> Path:
        key = hashlib.sha256(json.dumps([endpoint, kind, query]).encode("utf-8")).hexdigest()
        return self.directory / f"{key}.sparql-cache"

    def get(self, endpoint: str, kind: str, query: str) -> _Answer | None:
        try:
            data = self.path(endpoint, kind, query).read_bytes()
        except FileNotFoundError:
            return None
        head, _, body = data.partition(b"\n")
        try:
            meta = json.loads(head)
            stored = float(meta["stored"])
            answer = _Answer(str(meta["media_type"]), body, bool(meta["truncated"]))
        except (ValueError, KeyError, TypeError):
            return None  # damaged: fetched again and overwritten
        if self.max_age is not None and time.time() - stored > self.max_age:
            return None
        return answer

    def put(self, endpoint: str, kind: str, query: str, answer: _Answer) -> None:
        target = self.path(endpoint, kind, query)
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = {"endpoint": endpoint, "query": query, "media_type": answer.media_type,
                "truncated": answer.truncated, "stored": time.time()}
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(json.dumps(meta).encode("utf-8") + b"\n" + answer.body)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise


# --- our own release ----------------------------------------------------------------------------


class LocalRelease(QuerySource):
    """The current release in ``release_dir``, queried without a server.

    Its queries are answered by ``runner`` (by default in this process; ``lod query`` passes the
    runner its settings ask for, which may be a remote store's), prepared as the endpoint prepares
    them (so SERVICE is refused), results cut at ``max_rows``."""

    def __init__(self, release_dir: Path, *, max_rows: int = 100_000, runner: QueryRunner | None = None,
                 ) -> None:
        self.release = open_release(release_dir)
        self.name = tr("the release in {release_dir}/", release_dir=release_dir)
        self.runner = runner or InProcessQueries(
            preparer=QueryPreparer(base_iri=self.release.manifest.base_iri, prefixes=QUERY_PREFIXES),
            limits=QueryLimits(max_rows=max_rows, max_bytes=sys.maxsize, memory_bytes=None))

    def query(self, query: str) -> QueryResult:
        request = QueryRequest(query, formats=(ResultFormat.JSON.media_type, RdfFormat.NTRIPLES.media_type))
        outcome = self.runner.execute(self.release, request)
        body = outcome.read()
        if outcome.status != 200:
            raise EndpointError(self.name, outcome.status, outcome.message or tr("the query failed"),
                                over_http=False)
        form = "SELECT" if outcome.media_type == ResultFormat.JSON.media_type else "CONSTRUCT"
        return _decode(form, outcome.media_type, body, source=self.name, truncated=outcome.truncated)
