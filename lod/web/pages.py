"""HTML pages for people: a resource's page, in German or English."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Response, render_template, request
from markupsafe import Markup

from lod.formats import SERVED_RDF_FORMATS
from lod.messages import number
from lod.query.describe import (
    LABEL_PROPERTIES,
    MembershipRow,
    ResourceView,
    Select,
    ShownStatement,
    ShownTerm,
    describe,
)
from lod.query.network import network
from lod.query.places import member_places
from lod.vocab import DCTERMS, SCHEMA, SKOS, XSD
from lod.web.context import lod_context
from lod.web.maps import member_map
from lod.web.paths import local_path
from lod.web.pictures import network_picture

LANGUAGES = ("de", "en")

TEXT = {
    "de": {
        "types": "Typ", "properties": "Eigenschaften",
        "members": "Mitglieder", "memberships": "Mitgliedschaften", "people": "Personen",
        "member": "Mitglied", "organisation": "Kooperation oder Organisation", "person": "Person",
        "role": "Rolle", "post": "Stelle", "period": "Zeitraum", "membership": "Mitgliedschaft",
        "incoming": "Verweise auf diese Ressource",
        "incoming_intro": "Andere Ressourcen, die mit der genannten Eigenschaft auf diese verweisen.",
        "via": "über", "quotes": ("„", "“"),
        "sources": "Quellen", "formats": "Maschinenlesbar",
        "formats_intro": "Diese Beschreibung gibt es auch als RDF:", "iri": "IRI",
        "since": "seit", "until": "bis", "as_of": "Stand", "parts": "Weitere Angaben",
        "language": "Sprache", "network": "Wer mit wem zusammenarbeitet",
        "map": "Wo die Mitglieder liegen",
    },
    "en": {
        "types": "Type", "properties": "Properties",
        "members": "Members", "memberships": "Memberships", "people": "People",
        "member": "Member", "organisation": "Cooperation or organisation", "person": "Person",
        "role": "Role", "post": "Post", "period": "Period", "membership": "Membership",
        "incoming": "Referenced by",
        "incoming_intro": "Other resources that point at this one with the property named.",
        "via": "via", "quotes": ("“", "”"),
        "sources": "Sources", "formats": "Machine-readable",
        "formats_intro": "This description is also available as RDF:", "iri": "IRI",
        "since": "since", "until": "until", "as_of": "as of", "parts": "Further details",
        "language": "Language", "network": "Who cooperates with whom",
        "map": "Where the members are",
    },
}
"""The words of the page around the data, by page language."""

LANGUAGE_NAMES = {"de": {"de": "Deutsch", "en": "Englisch"}, "en": {"de": "German", "en": "English"}}
FORMAT_NAMES = {"turtle": "Turtle", "jsonld": "JSON-LD", "ntriples": "N-Triples", "rdfxml": "RDF/XML"}
MONTHS = {
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}
_FIRST = (str(SKOS.altLabel), str(DCTERMS.description), str(SKOS.definition), str(SCHEMA.description))
"""Properties shown before the others, which follow in the order of their labels."""


def page_language() -> str:
    """``?lang=en`` if given, else the browser's preference among German and English."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="de") or "de"


NUMBERS = frozenset(str(XSD[name]) for name in (
    "integer", "decimal", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte"))
"""The datatypes whose values a page writes as a number (not xsd:double: its 1.0E3 stays as it is)."""
_DECIMAL = re.compile(r"([+-]?)(\d+)(?:\.(\d+))?")


def readable_number(value: str, datatype: str | None, language: str) -> str:
    """A number as people write it: ``80.000.000`` and ``2,5`` in German, ``80,000,000`` and
    ``2.5`` in English. Anything else is returned as it is.

    >>> readable_number("80000000", str(XSD.integer), "de")
    '80.000.000'
    >>> readable_number("-1234.5", str(XSD.decimal), "en")
    '-1,234.5'
    """
    match = _DECIMAL.fullmatch(value)
    if datatype not in NUMBERS or match is None:
        return value
    sign, whole, fraction = match.groups()
    text = ("-" if sign == "-" else "") + number(int(whole), language)
    return text + ("," if language == "de" else ".") + fraction if fraction else text


def readable_date(value: str, datatype: str | None, language: str) -> str:
    """A date as people write it, keeping its precision: ``2016-09`` (``xsd:gYearMonth``) is
    "September 2016", ``2014-01-24`` (``xsd:date``) "24. Januar 2014" or "24 January 2014".
    Anything else is returned as it is.

    >>> readable_date("2014-01-24", "http://www.w3.org/2001/XMLSchema#date", "de")
    '24. Januar 2014'
    """
    parts = value.split("-")
    if not all(part.isdigit() for part in parts) or not 1 <= len(parts) <= 3:
        return value
    numbers = [int(part) for part in parts]
    if len(numbers) > 1 and not 1 <= numbers[1] <= 12:
        return value
    if datatype == str(XSD.gYearMonth) and len(numbers) == 2:
        return f"{MONTHS[language][numbers[1] - 1]} {numbers[0]}"
    if datatype == str(XSD.date) and len(numbers) == 3:
        day, month, year = numbers[2], MONTHS[language][numbers[1] - 1], numbers[0]
        return f"{day}. {month} {year}" if language == "de" else f"{day} {month} {year}"
    return value


def readable_time(value: datetime, language: str) -> str:
    """A moment as people write it, in UTC to the minute: "25. November 2026, 16:10 UTC".

    >>> readable_time(datetime(2026, 11, 25, 16, 10, 59, tzinfo=UTC), "en")
    '25 November 2026, 16:10 UTC'
    """
    utc = value.astimezone(UTC)
    return f"{readable_date(utc.date().isoformat(), str(XSD.date), language)}, {utc:%H:%M} UTC"


def is_number(term: ShownTerm) -> bool:
    return term.kind == "literal" and term.datatype in NUMBERS


def is_date(term: ShownTerm) -> bool:
    return term.kind == "literal" and term.datatype in (str(XSD.date), str(XSD.gYearMonth), str(XSD.gYear))


def any_dated(rows: list[MembershipRow]) -> bool:
    """Whether any of the memberships says when it held (else a table needs no such column)."""
    return any(row.period.start or row.period.end or row.period.as_of for row in rows)


def resource_page(iri: str, *, path: str) -> Response:
    context = lod_context()
    view = describe(context.select, iri)
    language = page_language()

    def href(term: ShownTerm) -> str | None:
        if term.kind != "uri":
            return None
        if term.value.startswith(iri + "#"):
            return None  # a part of this resource is shown where it is referred to
        return _link(term.value)

    def iri_text(value: str) -> str:
        """An IRI without a label: one of ours by its last part, another as it is, less its scheme."""
        return _short(value) if local_path(value) else value.partition("://")[2].rstrip("/") or value

    html = render_template(
        "resource.html", view=view, language=language, text=TEXT[language],
        date=lambda value, datatype: readable_date(value, datatype, language),
        amount=lambda value, datatype: readable_number(value, datatype, language), is_number=is_number,
        language_names=LANGUAGE_NAMES[language],
        href=href, iri_text=iri_text, is_date=is_date, any_dated=any_dated,
        link=lambda target: local_path(target) or target,
        title=_title(view, language), other_labels=_other_labels(view, language),
        properties=_ordered(_without_title(view), language),
        incoming=_ordered(view.incoming, language),
        members=_sorted_rows([m for m in view.members if m.post is None], language),
        people=_sorted_rows([m for m in view.members if m.post is not None], language),
        memberships=_sorted_rows(view.memberships, language),
        path=path, alternates=[(FORMAT_NAMES.get(f.label, f.label), f.media_type,
                                f"/doc/{path}{f.extension}") for f in SERVED_RDF_FORMATS],
        picture=_picture(view, context.select, language),
        places_map=_map(view, context.select, language),
        settings=context.settings)
    return Response(html, content_type="text/html; charset=utf-8")


def _link(iri: str) -> str | None:
    """Where a page links to for an IRI: its page here, else the IRI itself when it is on the web."""
    return local_path(iri) or (iri if iri.startswith(("http:", "https:")) else None)


def _picture(view: ResourceView, select: Select, language: str) -> Markup:
    """Who cooperates with whom around the resource; asked for only when it has memberships
    other than people's in posts, so the page of a person or a topic costs no query more."""
    if not any(row.post is None for row in (*view.members, *view.memberships)):
        return Markup("")
    return network_picture(network(select, view.iri), language=language, link=_link,
                           all_members="#h-members", all_groups="#h-memberships")


def _map(view: ResourceView, select: Select, language: str) -> Markup:
    """Where the resource's members lie, if any has coordinates; asked for only when it has
    members other than people in posts."""
    if not any(row.post is None for row in view.members):
        return Markup("")
    return member_map(member_places(select, view.iri), name=_title(view, language), iri=view.iri,
                      language=language, link=_link)


def _title(view: ResourceView, language: str) -> tuple[str, str]:
    """The heading of the page and its language: the best label, else the end of the IRI."""
    return view.labels.pick(language) or ("", _short(view.iri))


def _other_labels(view: ResourceView, language: str) -> list[tuple[str, str]]:
    title = _title(view, language)[1]
    return [(lang, text) for lang, text in view.labels.by_language.items() if text != title]


def _without_title(view: ResourceView) -> list[ShownStatement]:
    """The properties without the names the heading shows already."""
    shown = set(view.labels.by_language.items())
    kept = []
    for statement in view.properties:
        if statement.property.value in LABEL_PROPERTIES:
            values = [t for t in statement.values
                      if t.kind != "literal" or (t.language or "", t.value) not in shown]
            if values:
                kept.append(ShownStatement(statement.property, values))
        else:
            kept.append(statement)
    return kept


def _ordered(statements: list[ShownStatement], language: str) -> list[ShownStatement]:
    """Statements in reading order: names and descriptions first, then by label; within one,
    values in the page's language first."""
    def key(statement: ShownStatement) -> tuple[int, str]:
        prop = statement.property
        rank = _FIRST.index(prop.value) if prop.value in _FIRST else len(_FIRST)
        return rank, (prop.labels.best(language) or _short(prop.value)).casefold()

    def value_key(term: ShownTerm) -> tuple[bool, bool, str]:
        return (term.kind != "uri", term.language not in (None, language),
                (term.labels.best(language) or term.value).casefold())

    return [ShownStatement(s.property, sorted(s.values, key=value_key)) for s in sorted(statements, key=key)]


def _sorted_rows(rows: list[MembershipRow], language: str) -> list[MembershipRow]:
    return sorted(rows, key=lambda m: (m.party.labels.best(language) or _short(m.party.value)).casefold())


def _short(iri: str) -> str:
    """The last readable part of an IRI, when nothing better is known."""
    return iri.rstrip("/#").rpartition("#")[2].rpartition("/")[2] or iri
