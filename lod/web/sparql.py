"""``/sparql``: the SPARQL 1.1 Protocol (query operation only), the service description, and a
query page for people.

Protocol: https://www.w3.org/TR/sparql11-protocol/ — §2.1.1 query via GET, §2.1.2 via URL-encoded
POST, §2.1.3 via POST ``application/sparql-query``; §2.1.4 the dataset parameters.

The query page is a plain form; where JavaScript runs, ``static/query-editor.js`` puts the vendored
YASGUI editor in its place, configured from ``/sparql/editor.json`` (see docs/architecture.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, url_for
from werkzeug.http import quote_etag

from lod.formats import SERVED_RDF_FORMATS, ResultFormat, content_type
from lod.negotiation import negotiate
from lod.query.evaluate import QueryOutcome, QueryRequest
from lod.query.prepare import READ_ONLY, QueryInvalid, QueryRefused
from lod.query.results import Solutions
from lod.query.stored import bundled_queries
from lod.release.vocabulary import ontology_vocabulary, void_vocabulary
from lod.vocab import QUERY_PREFIXES
from lod.web.context import lod_context
from lod.web.errors import error_response
from lod.web.rdf_response import graph_response, rdf_media_types

blueprint = Blueprint("sparql", __name__)

@blueprint.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    # `request` is a context-local proxy, each use a lookup: what is needed twice is read once.
    method = request.method
    if method == "OPTIONS":
        return Response(status=204)
    context = lod_context()
    if method in ("GET", "HEAD"):  # Flask answers HEAD with the GET's headers and no body
        values = request.args
        queries = values.getlist("query")
        if "update" in values:
            return error_response(403, READ_ONLY)
        if not queries:
            return _description()
    else:
        kind = request.mimetype
        if kind == "application/sparql-update" or (kind == "application/x-www-form-urlencoded"
                                                   and "update" in request.form):
            return error_response(403, READ_ONLY)
        if kind == "application/x-www-form-urlencoded":
            queries = request.form.getlist("query")
        elif kind == "application/sparql-query":
            queries = [request.get_data(as_text=True)]
        else:
            return error_response(415, "POST a query as application/x-www-form-urlencoded (field "
                                       "'query') or as application/sparql-query (SPARQL 1.1 Protocol §2.1)")
        values = request.args if kind == "application/sparql-query" else request.values
    if len(queries) != 1 or not queries[0].strip():
        return error_response(400, "exactly one non-empty 'query' parameter is required "
                                   "(SPARQL 1.1 Protocol §2.1)")
    query = queries[0]
    if len(query.encode()) > context.settings.max_query_bytes:
        return error_response(413, f"the query is longer than {context.settings.max_query_bytes} bytes")
    wanted = tuple(values.getlist("format"))
    accept = request.headers.get("Accept")
    if not wanted and _prefers_html(accept):
        return _html_results(query)
    key, outcome = context.cached_query(QueryRequest(
        query=query, accept=accept, formats=wanted,
        default_graphs=tuple(values.getlist("default-graph-uri")),
        named_graphs=tuple(values.getlist("named-graph-uri"))), etag=_if_none_match())
    if outcome is not None:
        return outcome_response(outcome, etag=key)
    response = Response(status=304)
    response.headers.extend(validators(key))
    return response


def validators(key: str) -> list[tuple[str, str]]:
    # A release never changes: the answer may be kept, but must be revalidated (it is cheap).
    return [("ETag", quote_etag(key)), ("Cache-Control", "public, no-cache"), ("Vary", "Accept")]


def _if_none_match() -> str | None:
    if "HTTP_IF_NONE_MATCH" not in request.environ:  # most requests: no need to parse anything
        return None
    tags = request.if_none_match
    return next(iter(tags), None) if tags and not tags.star_tag else None


def conditional(*, suffix: str = "") -> str | None:
    """The request key the client's ``If-None-Match`` names, for a response whose ETag is that
    key with ``-suffix`` (another representation of the same result), or None."""
    tag = _if_none_match()
    if not suffix or tag is None:
        return tag
    return tag.removesuffix(f"-{suffix}") if tag.endswith(f"-{suffix}") else None


def outcome_response(outcome: QueryOutcome, *, etag: str | None = None) -> Response:
    """A query outcome as an HTTP response; a large result streams from its spool file.

    With ``etag`` (the request's key), a successful response also carries the validators that let
    clients revalidate it."""
    if outcome.status != 200:
        return error_response(outcome.status, outcome.message or "")
    # All headers at once: each later change to a response's headers is a scan of its list.
    headers = [("Content-Type", content_type(outcome.media_type)), ("Content-Length", str(outcome.size))]
    if outcome.truncated:
        # Virtuoso's convention: the result was cut at this many rows (or triples).
        headers.append(("X-SPARQL-MaxRows", str(outcome.count)))
    headers += validators(etag) if etag is not None else [("Vary", "Accept")]
    if outcome.path:
        stream = open(outcome.path, "rb")  # noqa: SIM115 - closed by the WSGI server
        os.unlink(outcome.path)  # the open handle keeps it readable; nothing is left behind
        # Through the server's file wrapper where it has one: waitress then sends the file from its
        # event loop, holding no thread; elsewhere in chunks, closed when the last is read.
        wrapper = request.environ.get("wsgi.file_wrapper")
        body = wrapper(stream, 1 << 16) if wrapper else _chunks(stream)
        return Response(body, 200, headers=headers, direct_passthrough=True)
    return Response(outcome.body, 200, headers=headers)


def _chunks(stream: Any) -> Any:
    with stream:
        while chunk := stream.read(1 << 16):
            yield chunk


def _prefers_html(accept: str | None) -> bool:
    return bool(accept) and negotiate(accept, ["application/sparql-results+json", "text/html"]) == "text/html"


def _description() -> Response:
    """GET without a query: the service description, or the query page for a browser."""
    offered = ["text/html", *rdf_media_types()]
    chosen = negotiate(request.headers.get("Accept"), offered, default="text/turtle")
    if chosen is None:
        return error_response(406, f"the service description is available as {', '.join(offered)}")
    if chosen == "text/html":
        return _query_page()
    return graph_response(lod_context().metadata().service, chosen)


EDITOR_STYLE_ELEMENTS = ("sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=",
                         "sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg=")
"""The two ``<style>`` elements YASGUI's result table adds (its column-resizer: the rules of the
column grips; the cursor while a column is dragged)."""
EDITOR_STYLE_ATTRIBUTES = ("sha256-EntWS0hFrz2vH7susM+dPUxvHlL6sBswmM8K80E5oUk=",)
"""The one ``style`` attribute YASQE writes (``text-decoration:underline``, in the tooltip of a
syntax error). The query page's Content-Security-Policy allows these by their hashes and nothing
else inline (docs/architecture.md); ``tests/test_editor.py`` computes them from the vendored
``yasgui.min.js``, so a YASGUI that brings other inline styles fails there first."""


@dataclass(frozen=True, slots=True)
class Example:
    """A bundled stored query as the query page offers it, its example values put in."""

    name: str
    summary: Mapping[str, str]
    query: str

    @property
    def title(self) -> str:
        return f"{self.summary.get('de', '')} / {self.summary.get('en', '')}"


@functools.cache
def _examples() -> tuple[Example, ...]:
    return tuple(Example(name=q.name, summary=dict(q.summary), query=q.example()) for q in bundled_queries())


def _query_page(query: str = "", table: dict[str, Any] | None = None, error: str | None = None,
                status: int = 200) -> Response:
    examples = _examples()
    html = render_template("query.html", examples=examples, query=query or examples[0].query,
                           prefixes=QUERY_PREFIXES,
                           table=table, error=error)
    response = Response(html, status, content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Content-Security-Policy"] = current_app.config["QUERY_PAGE_CSP"]
    return response


# --- the query editor's configuration ------------------------------------------------------------


@blueprint.route("/sparql/editor.json")
def editor_config() -> Response:
    """What the query editor needs, all from this server (it asks no other): the endpoint, the
    predeclared prefixes, the classes and properties to complete (the release's VoID and the
    ontology), and the examples, one tab each."""
    vocabulary = void_vocabulary(lod_context().metadata().void) | ontology_vocabulary()
    config = {
        "endpoint": url_for("sparql.endpoint"),
        "prefixes": QUERY_PREFIXES,
        "classes": vocabulary.classes,
        "properties": vocabulary.properties,
        "examples": [{"name": e.name, "title": dict(e.summary), "query": e.query} for e in _examples()],
    }
    body = json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, content_type="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.no_cache = True  # a new release brings other terms: revalidate (cheap)
    response.make_conditional(request)
    return response


PAGE_ROWS = 500
"""Rows a result page shows; the whole result is a download away."""
PAGE_BYTES = 2_000_000
"""Bytes of result a page reads at most, whatever its rows hold."""
_DOWNLOADS = {"SELECT": [f.label for f in ResultFormat], "GRAPH": [f.label for f in SERVED_RDF_FORMATS]}


def _html_results(query: str) -> Response:
    """A browser's query: the first rows of its result as a table on the query page, with links
    to the whole result in each format (the page never holds a large result)."""
    try:
        outcome = lod_context().query(QueryRequest(
            query=query, formats=("application/sparql-results+json", "application/n-triples"),
            max_rows=PAGE_ROWS, max_bytes=PAGE_BYTES))
    except (QueryInvalid, QueryRefused) as refusal:
        return _query_page(query, error=str(refusal), status=refusal.status)
    if outcome.status != 200:
        return _query_page(query, error=outcome.message, status=outcome.status)
    body = outcome.read()
    if outcome.media_type == "application/n-triples":
        table = _triple_table(body)
        downloads = _DOWNLOADS["GRAPH"]
    else:
        table = _solution_table(Solutions.from_json(body))
        downloads = _DOWNLOADS["SELECT"]
    table["truncated"] = outcome.truncated
    table["downloads"] = [(label, f"/sparql?{urlencode({'query': query, 'format': label})}")
                          for label in downloads]
    return _query_page(query, table=table)


def _solution_table(solutions: Solutions) -> dict[str, Any]:
    if solutions.boolean is not None:
        return {"variables": ["ASK"], "rows": [[{"value": str(solutions.boolean).lower()}]]}
    rows = [[_cell(row.get(v)) for v in solutions.variables] for row in solutions.rows]
    return {"variables": solutions.variables, "rows": rows}


def _triple_table(body: bytes) -> dict[str, Any]:
    rows = [[_cell(_term_json(term)) for term in (t.subject, t.predicate, t.object)]
            for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
    return {"variables": ["subject", "predicate", "object"], "rows": rows}


def _term_json(term: Any) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.Literal) and term.language:
        return {"type": "literal", "value": term.value, "xml:lang": term.language}
    return {"type": "literal" if isinstance(term, ox.Literal) else "bnode", "value": str(term.value)}


def _cell(binding: dict[str, str] | None) -> dict[str, str] | None:
    """A value for the page; only http(s) IRIs become links (never javascript: or data:)."""
    if binding is None:
        return None
    if binding.get("type") == "uri" and binding["value"].lower().startswith(("http://", "https://")):
        return {**binding, "link": binding["value"]}
    return binding
