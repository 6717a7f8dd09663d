"""The dataset's descriptions: VoID, the DCAT-AP.de catalog, the health check, the home page."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template
from rdflib import Graph

from lod.errors import LodError
from lod.formats import SERVED_RDF_FORMATS
from lod.messages import number
from lod.query.runners import LocalQueries
from lod.release.metadata import DEFAULT_DESCRIPTION, DEFAULT_TITLE
from lod.vocab import XSD
from lod.web.browse import overview
from lod.web.context import lod_context
from lod.web.pages import FORMAT_NAMES, page_language, readable_date
from lod.web.rdf_response import PAGE, graph_response, rdf_or_page

blueprint = Blueprint("catalog", __name__)


def _negotiated(graph: Graph, *, page: str) -> Response:
    chosen = rdf_or_page()
    if isinstance(chosen, Response):
        return chosen
    return _page(page) if chosen == PAGE else graph_response(graph, chosen)


_PAGES = {
    "catalog": ("DCAT-AP.de", "Katalogeintrag", "Catalogue entry", "/catalog"),
    "void": ("VoID", "Beschreibung des Datensatzes (VoID)", "Description of the dataset (VoID)",
             "/.well-known/void"),
}


def _page(name: str) -> Response:
    """The dataset as people read it: who publishes it, under which licence, its downloads with
    sizes and checksums, and the same description as RDF."""
    context, language = lod_context(), page_language()
    manifest = context.releases.get().manifest
    vocabulary, german, english, path = _PAGES[name]
    html = render_template(
        "dataset.html", language=language, settings=context.settings, manifest=manifest,
        heading=english if language == "en" else german, vocabulary=vocabulary,
        title=DEFAULT_TITLE[language], description=DEFAULT_DESCRIPTION[language],
        created=readable_date(manifest.created[:10], str(XSD.date), language),
        triples=number(manifest.served_triples, language), entities=number(manifest.entities, language),
        dumps=[(dump, f"{number(dump.size, language)} Bytes") for dump in manifest.dumps],
        alternates=[(FORMAT_NAMES.get(f.label, f.label), f"{path}?format={f.label}")
                    for f in SERVED_RDF_FORMATS])
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


@blueprint.route("/.well-known/void")
def void() -> Response:
    return _negotiated(lod_context().metadata().void, page="void")


@blueprint.route("/catalog")
def catalog() -> Response:
    return _negotiated(lod_context().metadata().catalog, page="catalog")


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
    language = page_language()
    html = render_template("home.html", manifest=release.manifest, settings=context.settings,
                           language=language, overview=overview(language),
                           number=lambda value: number(value, language))
    return Response(html, content_type="text/html; charset=utf-8")
