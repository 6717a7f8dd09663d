"""Serialising a small rdflib graph (metadata, a description) as an HTTP response."""

from __future__ import annotations

from flask import Response
from rdflib import Graph

from lod.formats import SERVED_RDF_FORMATS, RdfFormat


def rdf_media_types() -> list[str]:
    return [f.media_type for f in SERVED_RDF_FORMATS]


def graph_response(graph: Graph, media_type: str, *, status: int = 200) -> Response:
    rdf_format = RdfFormat.from_label(media_type)
    body = graph.serialize(format=rdf_format.rdflib_name, encoding="utf-8")
    response = Response(body, status, content_type=rdf_format.content_type)
    response.headers["Vary"] = "Accept"
    return response
