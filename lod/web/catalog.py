"""The dataset's descriptions: VoID, the DCAT-AP.de catalog, the health check, the home page."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from rdflib import Graph

from lod.errors import LodError
from lod.negotiation import negotiate
from lod.query.runners import LocalQueries
from lod.web.context import lod_context
from lod.web.errors import error_response
from lod.web.rdf_response import graph_response, rdf_media_types

blueprint = Blueprint("catalog", __name__)


def _negotiated(graph: Graph) -> Response:
    chosen = negotiate(request.headers.get("Accept"), rdf_media_types(), default="text/turtle")
    if chosen is None:
        return error_response(406, f"available formats: {', '.join(rdf_media_types())}")
    return graph_response(graph, chosen)


@blueprint.route("/.well-known/void")
def void() -> Response:
    return _negotiated(lod_context().metadata().void)


@blueprint.route("/catalog")
def catalog() -> Response:
    return _negotiated(lod_context().metadata().catalog)


@blueprint.route("/healthz")
def healthz() -> Response:
    """200 when a complete release is loaded and answers a query, 503 with the reason otherwise."""
    context = lod_context()
    try:
        release = context.releases.get()
    except LodError as error:
        response = jsonify(status="unavailable", reason=str(error))
        response.status_code = 503
        return response
    # Free slots now: what a load balancer may weigh; pages have theirs, so "ok" holds for them.
    free = context.queries.free() if isinstance(context.queries, LocalQueries) else None
    return jsonify(status="ok", release=release.manifest.release_id, triples=release.manifest.triples,
                   **({} if free is None else {"query_slots_free": free[0], "page_slots_free": free[1]}))


@blueprint.route("/")
def home() -> Response:
    context = lod_context()
    release = context.releases.get()
    html = render_template("home.html", manifest=release.manifest, settings=context.settings)
    return Response(html, content_type="text/html; charset=utf-8")
