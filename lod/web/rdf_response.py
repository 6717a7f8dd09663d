"""Serialising a small rdflib graph (metadata, a description) as an HTTP response."""

from __future__ import annotations

from flask import Response
from rdflib import Graph

from lod.formats import RdfFormat

DOCUMENT_FORMATS = (RdfFormat.TURTLE, RdfFormat.JSONLD, RdfFormat.NTRIPLES, RdfFormat.RDFXML)
"""What a document about a resource, VoID or the catalog can be had as; the first is the default."""


def rdf_media_types() -> list[str]:
    return [f.media_type for f in DOCUMENT_FORMATS]


def format_for(media_type: str) -> RdfFormat:
    return next(f for f in DOCUMENT_FORMATS if f.media_type == media_type)


def graph_response(graph: Graph, media_type: str, *, status: int = 200) -> Response:
    rdf_format = format_for(media_type)
    body = graph.serialize(format=rdf_format.rdflib_name, encoding="utf-8")
    content_type = media_type if media_type == "application/n-triples" else f"{media_type}; charset=utf-8"
    response = Response(body, status, content_type=content_type)
    response.headers["Vary"] = "Accept"
    return response
