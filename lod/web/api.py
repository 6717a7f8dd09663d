"""The API for those who do not write SPARQL: each stored query (:mod:`lod.query.stored`) is
``GET /api/{name}?parameter=…``, answering plain JSON (an array of objects), CSV or SPARQL JSON;
``/api/openapi.json`` describes them all (OpenAPI 3.1) and ``/api`` lists them for people.

A request is a SPARQL query like any other: the same time limits, slots, result cache and ETags
as ``/sparql``. Parameters go in as typed RDF terms, never as text; ``limit`` and ``offset`` page
through the rows in a stable order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from lod.negotiation import negotiate
from lod.query.evaluate import QueryRequest
from lod.query.results import Solutions
from lod.query.stored import RESERVED, Parameter, ParameterError, StoredQuery
from lod.web.context import lod_context
from lod.web.errors import error_response as _error_response
from lod.web.pages import page_language
from lod.web.sparql import conditional, outcome_response, validators

blueprint = Blueprint("api", __name__)

DEFAULT_LIMIT = 100

_FORMATS = {"json": "application/json", "csv": "text/csv",
            "sparql-json": "application/sparql-results+json"}
"""What a stored query answers in, by its name in ``format=``; the first is the default."""


@blueprint.route("/api")
def index() -> Response:
    context = lod_context()
    html = render_template("api.html", queries=list(context.stored_queries().values()),
                           example_url=example_url, language=page_language(), settings=context.settings)
    return Response(html, content_type="text/html; charset=utf-8")


@blueprint.route("/api/openapi.json")
def openapi() -> Response:
    context = lod_context()
    document = openapi_document(context.stored_queries(), server=context.settings.public_url,
                                max_rows=context.settings.max_rows)
    return Response(json.dumps(document, ensure_ascii=False, indent=1),
                    content_type="application/json; charset=utf-8")


@blueprint.route("/api/<name>")
def run(name: str) -> Response:
    context = lod_context()
    stored = context.stored_queries().get(name)
    if stored is None:
        return error_response(404, f"there is no stored query {name!r}; the API has "
                                   f"{', '.join(context.stored_queries()) or 'none'} (see /api)")
    arguments = request.args
    repeated = sorted(k for k in arguments if len(arguments.getlist(k)) > 1)
    if repeated:
        return error_response(400, f"parameter {repeated[0]} is given more than once")
    try:
        chosen = _format(arguments.get("format"), request.headers.get("Accept"))
        limit = _count(arguments, "limit", DEFAULT_LIMIT, lowest=1, highest=context.settings.max_rows)
        offset = _count(arguments, "offset", 0, lowest=0, highest=None)
        values = {k: v for k, v in arguments.items() if k not in RESERVED}
        text = stored.page(values, limit=limit, offset=offset)
    except ParameterError as refusal:
        return error_response(400, str(refusal))
    plain = chosen == "application/json"  # another representation of the result: a tag of its own
    key, outcome = context.cached_query(
        QueryRequest(text, formats=("application/sparql-results+json" if plain else chosen,)),
        etag=conditional(suffix="plain" if plain else ""))
    tag = f"{key}-plain" if plain else key
    if outcome is None:
        return Response(status=304, headers=validators(tag))
    if outcome.status != 200:
        return error_response(outcome.status, outcome.message or "the query failed")
    if not plain:
        response = outcome_response(outcome, etag=key)
    else:
        rows = Solutions.from_json(outcome.read()).plain()
        response = Response(json.dumps(rows, ensure_ascii=False), 200, headers=validators(tag),
                            content_type="application/json; charset=utf-8")
        if len(rows) == limit:
            following = {**arguments.to_dict(), "offset": str(offset + limit)}
            response.headers["Link"] = f'</api/{name}?{urlencode(following)}>; rel="next"'
    return response


def error_response(status: int, message: str) -> Response:
    """An API's error: JSON unless the client asks for another shape."""
    return _error_response(status, message, default="application/json")


def _format(name: str | None, accept: str | None) -> str:
    if name is not None:
        if name not in _FORMATS:
            raise ParameterError(f"parameter format: {name!r} is not one of {', '.join(_FORMATS)}")
        return _FORMATS[name]
    chosen = negotiate(accept, list(_FORMATS.values()), default=_FORMATS["json"])
    if chosen is None:
        raise ParameterError(f"none of the formats asked for (Accept: {accept}) is offered; "
                             f"offered: {', '.join(_FORMATS.values())}")
    return chosen


def _count(arguments: Mapping[str, str], name: str, default: int, *, lowest: int, highest: int | None) -> int:
    text = arguments.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or int(text) < lowest or (highest is not None
                                                                           and int(text) > highest):
        allowed = f"from {lowest} to {highest}" if highest is not None else f"{lowest} or more"
        raise ParameterError(f"parameter {name}: {text!r} is not a whole number {allowed}")
    return int(text)


def example_url(stored: StoredQuery) -> str:
    """The API request that runs ``stored`` with its examples."""
    values = {p.name: p.example for p in stored.parameters if p.example is not None}
    return f"/api/{stored.name}" + (f"?{urlencode(values)}" if values else "")


# --- OpenAPI ----------------------------------------------------------------------------------

_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "iri"},
    "key": {"type": "string", "pattern": "^[A-Za-z0-9._-]+$"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
}


def openapi_document(queries: Mapping[str, StoredQuery], *, server: str, max_rows: int) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the stored queries' API."""
    error = {"description": "what is wrong, and where", "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}}
    paths: dict[str, Any] = {}
    for stored in queries.values():
        parameters = [_parameter(p) for p in stored.parameters] + [
            {"name": "limit", "in": "query", "required": False,
             "description": "rows per page / Zeilen je Seite",
             "schema": {"type": "integer", "minimum": 1, "maximum": max_rows, "default": DEFAULT_LIMIT}},
            {"name": "offset", "in": "query", "required": False,
             "description": "rows to skip / zu überspringende Zeilen",
             "schema": {"type": "integer", "minimum": 0, "default": 0}},
            {"name": "format", "in": "query", "required": False,
             "description": "instead of Accept / statt Accept",
             "schema": {"type": "string", "enum": list(_FORMATS)}}]
        paths[f"/api/{stored.name}"] = {"get": {
            "operationId": stored.name.replace("-", "_"),
            "summary": stored.summary.get("en", ""),
            "description": " / ".join(t for t in (stored.summary.get("de"), stored.description.get("de"),
                                                  stored.description.get("en")) if t),
            "parameters": parameters,
            "responses": {
                "200": {"description": "the rows, in a stable order; a full page links the next "
                                       "(Link: rel=next)", "content": {
                    "application/json": {"schema": {"type": "array", "items": {
                        "type": "object", "additionalProperties": True}}},
                    "text/csv": {"schema": {"type": "string"}},
                    "application/sparql-results+json": {"schema": {"type": "object"}}}},
                "304": {"description": "not modified (If-None-Match)"},
                "400": error, "404": error, "503": error, "504": error}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "lod: stored queries", "version": "1",
                 "description": "Stored SPARQL queries of this dataset as plain HTTP requests. / "
                                "Gespeicherte SPARQL-Abfragen dieses Datensatzes als einfache Aufrufe."},
        "servers": [{"url": server.rstrip("/")}],
        "paths": paths,
        "components": {"schemas": {"Error": {"type": "object", "properties": {
            "status": {"type": "integer"}, "error": {"type": "string"}, "message": {"type": "string"}}}}},
    }


def _parameter(parameter: Parameter) -> dict[str, Any]:
    schema = dict(_SCHEMAS[parameter.type])
    if parameter.values:
        schema["enum"] = list(parameter.values)
    if parameter.default is not None:
        schema["default"] = parameter.default
    described: dict[str, Any] = {
        "name": parameter.name, "in": "query", "required": parameter.required, "schema": schema,
        "description": " / ".join(parameter.description.get(language, "") for language in ("de", "en")
                                  if parameter.description.get(language))}
    if parameter.example is not None:
        described["example"] = parameter.example
    return described
