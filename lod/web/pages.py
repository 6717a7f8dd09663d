"""HTML pages for people: a resource's page, in German or English."""

from __future__ import annotations

from flask import Response, render_template, request

from ..describe import Term, describe
from .context import lod_context
from .rdf_response import DOCUMENT_FORMATS

LANGUAGES = ("de", "en")


def page_language() -> str:
    """``?lang=en`` if given, else the browser's preference among German and English."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="de") or "de"


def resource_page(iri: str, *, path: str) -> Response:
    from .linked_data import local_path  # the routes import this module

    context = lod_context()
    view = describe(context.select, iri)
    language = page_language()

    def href(term: Term) -> str | None:
        if term.kind != "uri":
            return None
        return local_path(term.value) or (term.value if term.value.startswith(("http:", "https:")) else None)

    def label(term: Term) -> str:
        return term.labels.best(language) or _short(term.value)

    html = render_template(
        "resource.html", view=view, language=language, href=href, label=label,
        link=lambda target: local_path(target) or target,
        title=view.labels.best(language) or _short(iri), path=path,
        alternates=[(f.label, f.media_type, f"/doc/{path}{f.extension}") for f in DOCUMENT_FORMATS],
        settings=context.settings)
    return Response(html, content_type="text/html; charset=utf-8")


def _short(iri: str) -> str:
    """The last readable part of an IRI, when nothing better is known."""
    return iri.rstrip("/#").rpartition("#")[2].rpartition("/")[2] or iri
