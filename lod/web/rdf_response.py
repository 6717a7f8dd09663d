"""Serialising a small rdflib graph (metadata, a description) as an HTTP response, and choosing
between its RDF and the page people read instead."""

from __future__ import annotations

from flask import Response, request
from rdflib import Graph

from lod.formats import SERVED_RDF_FORMATS, RdfFormat
from lod.negotiation import negotiate
from lod.web.errors import error_response

PAGE = "text/html"


def rdf_media_types() -> list[str]:
    return [f.media_type for f in SERVED_RDF_FORMATS]


def graph_response(graph: Graph, media_type: str, *, status: int = 200) -> Response:
    rdf_format = RdfFormat.from_label(media_type)
    body = graph.serialize(format=rdf_format.rdflib_name, encoding="utf-8")
    response = Response(body, status, content_type=rdf_format.content_type)
    response.headers["Vary"] = "Accept"
    return response


def rdf_or_page() -> str | Response:
    """How to answer for a resource that is RDF with a page for people: :data:`PAGE` for a
    browser (which names text/html before ``*/*``), else the RDF media type the client prefers
    (Turtle for ``*/*`` or no Accept); ``?format=turtle`` and the like choose the RDF, as a
    page's links do. A response (400, 406) when no choice can be made."""
    label = request.args.get("format")
    if label:
        served = {f.label: f for f in SERVED_RDF_FORMATS}
        if label not in served:
            return error_response(400, f"format={label!r}: available are {', '.join(served)}")
        return served[label].media_type
    accept = request.headers.get("Accept")
    if negotiate(accept, [*rdf_media_types(), PAGE]) == PAGE:
        return PAGE
    chosen = negotiate(accept, rdf_media_types(), default="text/turtle")
    if chosen is None:
        return error_response(406, f"available formats: {', '.join(rdf_media_types())}")
    return chosen
