"""Linked Data: every minted IRI (``/id/…``) and vocabulary IRI (``/def/…``) dereferences.

``/id/x`` answers ``303 See Other`` with the document ``/doc/x``, which is HTML for people and
Turtle, JSON-LD, N-Triples or RDF/XML for machines, by ``Accept``, a ``format`` parameter or a
file extension (``/doc/x.ttl``). Official keys lead to their organisation: ``/ags/05358008``.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request

from lod.formats import SERVED_RDF_FORMATS, RdfFormat
from lod.negotiation import negotiate
from lod.query.describe import by_key_query, document_query, exists_query
from lod.query.evaluate import QueryRequest
from lod.vocab import IKZ
from lod.web import pages
from lod.web.context import lod_context
from lod.web.errors import error_response
from lod.web.paths import iri_of, local_path
from lod.web.rdf_response import rdf_media_types
from lod.web.sparql import outcome_response

blueprint = Blueprint("linked_data", __name__)

_EXTENSIONS = {**{f.extension: f.media_type for f in SERVED_RDF_FORMATS}, ".html": "text/html"}


def _exists(iri: str) -> bool:
    return lod_context().ask(exists_query(iri))


@blueprint.route("/id/<path:path>")
def resource(path: str) -> Response:
    iri = iri_of(path)
    if iri is None or "#" in iri or not _exists(iri):
        return error_response(404, f"nothing is published as {request.path}")
    return _see_other(f"/doc/{path}")


@blueprint.route("/def", defaults={"path": ""})
@blueprint.route("/def/<path:path>")
def vocabulary(path: str) -> Response:
    iri = iri_of(f"def/{path}".rstrip("/"))
    if iri is None or not _exists(iri):
        return error_response(404, f"nothing is published as {request.path}")
    return _see_other(f"/doc/def/{path}".rstrip("/"))


def _see_other(location: str) -> Response:
    if request.query_string:
        location += "?" + request.query_string.decode("ascii", "replace")
    response = Response(status=303, headers={"Location": location, "Vary": "Accept"})
    return response


@blueprint.route("/doc/<path:path>")
def document(path: str) -> Response:
    media_type = None
    for extension, candidate in _EXTENSIONS.items():
        if path.endswith(extension):
            path, media_type = path[: -len(extension)], candidate
            break
    iri = iri_of(path)
    if iri is None or not _exists(iri):
        return error_response(404, f"nothing is published as {request.path}")
    offered = ["text/html", *rdf_media_types()]
    if media_type is None and request.args.get("format"):
        label = request.args["format"]
        media_type = "text/html" if label == "html" else RdfFormat.from_label(label).media_type
        if media_type not in offered:
            names = ", ".join(f.label for f in SERVED_RDF_FORMATS)
            return error_response(406, f"available formats: html, {names}")
    media_type = media_type or negotiate(request.headers.get("Accept"), offered)
    if media_type is None:
        return error_response(406, f"available: {', '.join(offered)}")
    links = ", ".join(f'</doc/{path}{f.extension}>; rel="alternate"; type="{f.media_type}"'
                      for f in SERVED_RDF_FORMATS)
    if media_type == "text/html":
        response = pages.resource_page(iri, path=path)
    else:
        response = outcome_response(lod_context().query(QueryRequest(
            query=document_query(iri), formats=(media_type,)), for_page=True))
    response.headers["Link"] = links
    response.headers["Vary"] = "Accept, Accept-Language"  # the HTML page follows the reader's language
    response.headers["Content-Location"] = f"/doc/{path}{_extension(media_type)}"
    return response


def _extension(media_type: str) -> str:
    return next(ext for ext, candidate in _EXTENSIONS.items() if candidate == media_type)


# The Regionalschlüssel of a Land has 2 digits, of a Regierungsbezirk 3, of a Kreis 5, of a
# Gemeindeverband 9, of a Gemeinde 12 (the official municipality directory).
_KEYS = {"ags": (re.compile(r"\d{8}"), "ags"), "kreis": (re.compile(r"\d{5}"), "kreisschluessel"),
         "ars": (re.compile(r"\d{2}|\d{3}|\d{5}|\d{9}|\d{12}"), "ars")}


@blueprint.route("/<any(ags, kreis, ars):scheme>/<key>")
def official_key(scheme: str, key: str) -> Response:
    pattern, prop = _KEYS[scheme]
    if not pattern.fullmatch(key):
        return error_response(404, f"{key!r} is not a valid {prop}")
    rows = lod_context().select(by_key_query(f"{IKZ}{prop}", key))
    target = local_path(rows[0]["s"]["value"]) if rows else None
    if target is None:
        return error_response(404, f"no organisation with {prop} {key}")
    return _see_other(target)
