"""The lists of organisations, cooperations, people and events, and the search, for people who do
not write SPARQL: pages in German and English, and the same URLs as JSON and CSV.

    /organisations  /cooperations  /people  /events     (/organisationen … redirect here)
        ?kind=…&land=05&topic=…&status=…&year=…&role=…  facet values: OR within a facet, AND across
        &q=…            words the names must contain
        &sort=name|newest|oldest|largest  &page=N  &size=N (at most 500)
        &format=html|json|csv (or by Accept); CSV holds every row the filters let through
    /search?q=…     ranked hits across the lists; ``format=json`` for typeahead

The index these read is built with each release (:mod:`lod.browse.index`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request
from markupsafe import Markup

from lod.browse.index import FACETS
from lod.browse.lists import LISTS, SORTS, BrowseIndex, IndexMissing, ListPage, ListRequest, Row
from lod.browse.search import Hit, count, search
from lod.errors import LodError
from lod.messages import number
from lod.negotiation import negotiate
from lod.web.context import lod_context
from lod.web.pages import page_language
from lod.web.paths import local_path
from lod.web.pictures import Bar, bar_chart

blueprint = Blueprint("browse", __name__)

MAX_SIZE = 500
SEARCH_PAGE = 20
SUGGESTIONS = 8
GERMAN_PATHS = {"organisationen": "organisations", "kooperationen": "cooperations", "personen": "people",
                "ereignisse": "events", "suche": "search"}
FORMATS = {"html": "text/html", "json": "application/json", "csv": "text/csv"}
_KNOWN = {"q", "sort", "page", "size", "format", "lang"}

TEXT: dict[str, dict[str, Any]] = {
    "de": {
        "lists": {"organisations": "Organisationen", "cooperations": "Kooperationen", "people": "Personen",
                  "events": "Ereignisse"},
        "one": {"organisations": "Organisation", "cooperations": "Kooperation", "people": "Person",
                "events": "Ereignis"},
        "intro": {
            "organisations": "Kommunen, Kreise, Länder, Verbände, Unternehmen und Einrichtungen, die an "
                             "Kooperationen beteiligt sind.",
            "cooperations": "Zweckverbände, Vereinbarungen, Netzwerke und Programme der interkommunalen "
                            "Zusammenarbeit.",
            "people": "Personen in Stellen der Organisationen.",
            "events": "Unterzeichnungen, Treffen und Veranstaltungen.",
        },
        "facets": {"kind": "Art", "land": "Land", "role": "Rolle", "topic": "Thema", "status": "Status",
                   "year": "Jahr"},
        "name": "Name", "kind": "Art", "lands": "Land", "year": "Jahr", "more_lands": "und {count} weitere",
        "size": {"organisations": "Kooperationen", "cooperations": "Mitglieder", "people": "Stellen",
                 "events": ""},
        "sorts": {"name": "Name (A\N{EN DASH}Z)", "newest": "Neueste zuerst", "oldest": "Älteste zuerst",
                  "largest": "Größte zuerst"},
        "filter": "Filter", "to_filter": "Zu den Filtern", "apply": "Anwenden",
        "reset": "Alle Filter entfernen", "sort": "Sortierung",
        "words": "Im Namen", "found": "{count} gefunden", "none": "Nichts gefunden.",
        "page": "Seite {page} von {pages}", "previous": "Vorige Seite", "next": "Nächste Seite",
        "pages": "Seiten", "download": "Diese Liste herunterladen", "results": "Ergebnis",
        "search": "Suche", "search_intro": "Nach Namen, Abkürzungen, anderen Namen und amtlichen "
                  "Schlüsseln (AGS, ARS); Umlaute dürfen fehlen oder umschrieben sein.",
        "search_for": "Suche nach {query}",
        "charts": {"land": "Kooperationen je Land (nach den Ländern ihrer Mitglieder)",
                   "topic": "Kooperationen je Thema", "year": "Kooperationen nach dem Jahr ihres Beginns"},
        "more_in": "Alle {count} Treffer unter {list}",
    },
    "en": {
        "lists": {"organisations": "Organisations", "cooperations": "Cooperations", "people": "People",
                  "events": "Events"},
        "one": {"organisations": "Organisation", "cooperations": "Cooperation", "people": "Person",
                "events": "Event"},
        "intro": {
            "organisations": "Municipalities, districts, Länder, associations, companies and institutions "
                             "taking part in cooperations.",
            "cooperations": "Special-purpose associations, agreements, networks and programmes of "
                            "inter-municipal cooperation.",
            "people": "People in posts of the organisations.",
            "events": "Signings, meetings and events.",
        },
        "facets": {"kind": "Kind", "land": "Land (state)", "role": "Role", "topic": "Topic",
                   "status": "Status", "year": "Year"},
        "name": "Name", "kind": "Kind", "lands": "Land", "year": "Year", "more_lands": "and {count} more",
        "size": {"organisations": "Cooperations", "cooperations": "Members", "people": "Posts", "events": ""},
        "sorts": {"name": "Name (A\N{EN DASH}Z)", "newest": "Newest first", "oldest": "Oldest first",
                  "largest": "Largest first"},
        "filter": "Filter", "to_filter": "To the filters", "apply": "Apply",
        "reset": "Remove all filters", "sort": "Order",
        "words": "In the name", "found": "{count} found", "none": "Nothing found.",
        "page": "Page {page} of {pages}", "previous": "Previous page", "next": "Next page",
        "pages": "Pages", "download": "Download this list", "results": "Results",
        "search": "Search", "search_intro": "By name, abbreviation, other names and official keys "
                  "(AGS, ARS); umlauts may be left out or spelled out.",
        "search_for": "Search for {query}",
        "charts": {"land": "Cooperations per Land (by the Länder of their members)",
                   "topic": "Cooperations per topic", "year": "Cooperations by the year they began"},
        "more_in": "All {count} hits in {list}",
    },
}
"""The words of the pages, by page language."""


class BadRequest(LodError):
    status = 400


class NotAcceptable(LodError):
    status = 406


@blueprint.route("/<any(organisationen, kooperationen, personen, ereignisse, suche):german>")
def german_path(german: str) -> Response:
    """The German words for the lists lead to them (one URL per list, so links and caches agree)."""
    query = request.query_string.decode("ascii", "replace")
    target = f"/{GERMAN_PATHS[german]}" + (f"?{query}" if query else "")
    return redirect(target, 301)  # type: ignore[return-value]


@blueprint.route("/<any(organisations, cooperations, people, events):list_name>")
def listing(list_name: str) -> Response:
    chosen = _format()
    language = page_language()
    list_request = _list_request(list_name)
    index = lod_context().browse_index()
    if chosen == "text/csv":
        return _csv(index, list_request, language)
    page = index.read(list_request, language=language)
    if chosen == "application/json":
        return _json(_page_json(index, page, language))
    html = render_template("browse.html", language=language, text=TEXT[language], page=page,
                           list_name=list_name, **_view(index, page, language))
    return _vary(Response(html, content_type="text/html; charset=utf-8"))


@blueprint.route("/search")
def search_page() -> Response:
    chosen = _format()
    language = page_language()
    query = request.args.get("q", "").strip()
    page_number = _number("page", 1, minimum=1)
    index = lod_context().browse_index()
    if chosen == "application/json":
        limit = _number("size", SUGGESTIONS, minimum=1, maximum=MAX_SIZE)
        hits = search(index, query, language=language, limit=limit, offset=(page_number - 1) * limit)
        return _json({"query": query, "total": count(index, query),
                      "hits": [_hit_json(index, hit, language) for hit in hits]})
    if chosen == "text/csv":
        raise BadRequest("format=csv: the search answers html or json; the lists answer csv")
    hits = search(index, query, language=language, limit=SEARCH_PAGE, offset=(page_number - 1) * SEARCH_PAGE)
    total = count(index, query)
    per_list = {name: index.read(ListRequest(name, {}, words=query, size=0), language=language).total
                for name in LISTS} if query else {}
    html = render_template(
        "search.html", language=language, text=TEXT[language], query=query, search_query=query,
        hits=[_hit_json(index, hit, language) for hit in hits], total=total, per_list=per_list,
        page_number=page_number, pages=max(1, -(-total // SEARCH_PAGE)), number=lambda n: number(n, language),
        page_link=lambda n: "?" + urlencode({"q": query, "page": n, **_lang_argument(language)}))
    return _vary(Response(html, content_type="text/html; charset=utf-8"))


@dataclass(frozen=True)
class Overview:
    """What the home page shows of the lists: their sizes, and charts of the cooperations."""

    totals: dict[str, int]
    charts: list[Markup]


def overview(language: str) -> Overview | None:
    """The lists' sizes and the cooperations per Land, topic and start year, as charts whose bars
    lead to the list filtered so; None for a release without an index."""
    try:
        index = lod_context().browse_index()
    except IndexMissing:
        return None
    text = TEXT[language]
    totals = {name: index.read(ListRequest(name, {}, size=0), language=language).total for name in LISTS}
    cooperations = index.read(ListRequest("cooperations", {}, size=0), language=language)
    facets = {f.name: f for f in cooperations.facets}
    lang = _lang_argument(language)
    charts = []
    for facet in ("land", "topic", "year"):
        values = facets[facet].values if facet in facets else ()
        bars = [Bar(index.label(v.value, language), v.count,
                    "/cooperations?" + urlencode({facet: v.value, **lang})) for v in values]
        charts.append(bar_chart(title=text["charts"][facet], bars=bars, language=language))
    return Overview(totals, charts)


# --- the request ----------------------------------------------------------------------------


def _format() -> str:
    label = request.args.get("format")
    if label:
        if label not in FORMATS:
            raise BadRequest(f"format={label!r}: available are {', '.join(FORMATS)}")
        return FORMATS[label]
    chosen = negotiate(request.headers.get("Accept"), list(FORMATS.values()))
    if chosen is None:
        raise NotAcceptable(f"available formats: {', '.join(FORMATS.values())}")
    return chosen


def _list_request(list_name: str) -> ListRequest:
    facets = FACETS[list_name]
    unknown = sorted(set(request.args) - _KNOWN - set(facets))
    if unknown:
        raise BadRequest(f"unknown parameter {unknown[0]!r}: {list_name} are filtered by "
                         f"{', '.join(facets)}, and take {', '.join(sorted(_KNOWN))}")
    sort = request.args.get("sort", "name")
    if sort not in SORTS:
        raise BadRequest(f"sort={sort!r}: available are {', '.join(SORTS)}")
    filters = {facet: frozenset(v for v in request.args.getlist(facet) if v) for facet in facets}
    return ListRequest(list_name, {f: v for f, v in filters.items() if v}, words=request.args.get("q", ""),
                       sort=sort, page=_number("page", 1, minimum=1),
                       size=_number("size", 50, minimum=1, maximum=MAX_SIZE))


def _number(name: str, default: int, *, minimum: int, maximum: int = 10**9) -> int:
    given = request.args.get(name)
    if given is None or given == "":
        return default
    if not given.isdigit() or not minimum <= int(given) <= maximum:
        raise BadRequest(f"{name}={given!r}: a whole number from {minimum} to {maximum} is expected")
    return int(given)


def _lang_argument(language: str) -> dict[str, str]:
    """``lang`` for links, when the page's language was chosen by it (else the browser chooses)."""
    return {"lang": language} if request.args.get("lang") else {}


def _link(list_name: str, list_request: ListRequest, **changes: Any) -> str:
    """The URL of ``list_request`` with some parameters changed (None leaves one out)."""
    r = list_request
    arguments = [(facet, value) for facet, values in sorted(r.filters.items()) for value in sorted(values)]
    plain = {"q": r.words or None, "sort": None if r.sort == "name" else r.sort,
             "page": None if r.page == 1 else r.page, "size": None if r.size == 50 else r.size,
             "lang": request.args.get("lang") or None}
    plain.update(changes)
    arguments += [(name, str(value)) for name, value in plain.items() if value is not None]
    return f"/{list_name}" + (f"?{urlencode(arguments)}" if arguments else "")


# --- answers --------------------------------------------------------------------------------


def _row_json(index: BrowseIndex, row: Row, language: str) -> dict[str, Any]:
    return {"iri": row.iri, "label": row.label, "page": local_path(row.iri) or row.iri,
            "kind": None if row.kind is None else {"iri": row.kind, "label": index.label(row.kind, language)},
            "lands": [{"key": land, "label": index.label(land, language)} for land in row.lands],
            "year": row.year, "size": row.size}


def _hit_json(index: BrowseIndex, hit: Hit, language: str) -> dict[str, Any]:
    return {"iri": hit.iri, "label": hit.label, "page": local_path(hit.iri) or hit.iri, "list": hit.list,
            "list_label": TEXT[language]["one"][hit.list],
            "kind": None if hit.kind is None else index.label(hit.kind, language),
            "lands": [index.label(land, language) for land in hit.lands]}


def _page_json(index: BrowseIndex, page: ListPage, language: str) -> dict[str, Any]:
    r = page.request
    return {
        "list": r.list, "total": page.total, "page": r.page, "pages": page.pages, "size": r.size,
        "sort": r.sort, "q": r.words, "filters": {f: sorted(v) for f, v in r.filters.items()},
        "rows": [_row_json(index, row, language) for row in page.rows],
        "facets": {facet.name: [{"value": v.value, "label": index.label(v.value, language), "count": v.count,
                                 "chosen": v.chosen} for v in facet.values] for facet in page.facets},
        "links": {"next": _link(r.list, r, page=r.page + 1, format="json") if r.page < page.pages else None,
                  "previous": _link(r.list, r, page=r.page - 1, format="json") if r.page > 1 else None,
                  "csv": _link(r.list, r, page=None, size=None, format="csv"),
                  "html": _link(r.list, r, format=None)},
    }


def _csv(index: BrowseIndex, list_request: ListRequest, language: str) -> Response:
    """Every row the filters let through, streamed; one header line of column names."""
    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\r\n")
        out.writerow(["iri", "name", "kind", "kind_name", "lands", "land_names", "year", "size"])
        for row in index.all_rows(list_request, language=language):
            kind_name = "" if row.kind is None else index.label(row.kind, language)
            out.writerow([row.iri, row.label, row.kind or "", kind_name,
                          " ".join(row.lands), "; ".join(index.label(land, language) for land in row.lands),
                          "" if row.year is None else row.year, row.size])
            if buffer.tell() > 1 << 16:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(lines(), content_type="text/csv; charset=utf-8; header=present")
    response.headers["Content-Disposition"] = f'attachment; filename="{list_request.list}.csv"'
    return _vary(response)


def _json(document: dict[str, Any]) -> Response:
    return _vary(Response(json.dumps(document, ensure_ascii=False) + "\n", mimetype="application/json"))


def _vary(response: Response) -> Response:
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


def _view(index: BrowseIndex, page: ListPage, language: str) -> dict[str, Any]:
    """What the list's template needs besides the page: names, links and numbers as written."""
    r = page.request
    return {
        "label": lambda value: index.label(value, language),
        "number": lambda n: number(n, language),
        "link": lambda **changes: _link(r.list, r, **changes),
        "local": lambda iri: local_path(iri) or iri,
        "sorts": SORTS,
        "downloads": [("CSV", _link(r.list, r, page=None, size=None, format="csv")),
                      ("JSON", _link(r.list, r, format="json"))],
    }
