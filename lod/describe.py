"""What a page about one resource shows, gathered with a few SPARQL queries.

The queries run through a ``select`` function (SPARQL JSON bindings in, rows out), so this module
works against any endpoint; the web layer only renders the :class:`ResourceView`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Binding = dict[str, dict[str, str]]
Select = Callable[[str], list[Binding]]

LABEL_PROPERTIES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://xmlns.com/foaf/0.1/name",
    "https://schema.org/name",
    "http://purl.org/dc/terms/title",
)
_LABEL_PATH = "|".join(f"<{p}>" for p in LABEL_PROPERTIES)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"
MAX_INCOMING = 500


@dataclass
class Labels:
    """Labels of a term by language; :meth:`best` picks one for a reader's language."""

    by_language: dict[str, str] = field(default_factory=dict)

    def add(self, binding: dict[str, str] | None) -> None:
        if binding:
            self.by_language.setdefault(binding.get("xml:lang", ""), binding["value"])

    def best(self, language: str) -> str | None:
        for choice in (language, "de", "en", ""):
            if choice in self.by_language:
                return self.by_language[choice]
        return next(iter(self.by_language.values()), None)


@dataclass
class Term:
    """An IRI or literal as a page shows it."""

    value: str
    kind: str
    """"uri", "literal" or "bnode"."""
    language: str | None = None
    datatype: str | None = None
    labels: Labels = field(default_factory=Labels)

    @classmethod
    def of(cls, binding: dict[str, str]) -> Term:
        return cls(binding["value"], binding["type"], binding.get("xml:lang"), binding.get("datatype"))


@dataclass
class Statement:
    """A property with its values, as one row of a page."""

    property: Term
    values: list[Term]


@dataclass
class SourceRef:
    """A source the resource's statements are taken from."""

    iri: str
    title: str | None
    date: str | None


@dataclass
class ResourceView:
    """Everything the page of a resource shows."""

    iri: str
    labels: Labels
    types: list[Term]
    properties: list[Statement]
    parts: dict[str, list[Statement]]
    """Hash parts of the resource (``#interval``, ``#address``), by their IRI."""
    incoming: list[Statement]
    """Resources that point at this one, by the property that points."""
    sources: list[SourceRef]


def describe(select: Select, iri: str) -> ResourceView:
    """Gather the page of ``iri`` with four queries: its triples and their labels, its hash
    parts, the resources that point at it, and its sources with their dates."""
    labels = Labels()
    types: list[Term] = []
    outgoing = _group(select(f"""
        SELECT ?p ?o ?pl ?ol WHERE {{
          <{iri}> ?p ?o .
          OPTIONAL {{ ?p <http://www.w3.org/2000/01/rdf-schema#label> ?pl }}
          OPTIONAL {{ ?o {_LABEL_PATH} ?ol }}
        }}"""), value="o")
    properties = []
    for statement in outgoing:
        if statement.property.value in LABEL_PROPERTIES:
            for term in statement.values:
                labels.by_language.setdefault(term.language or "", term.value)
        if statement.property.value == RDF_TYPE:
            types = statement.values
        else:
            properties.append(statement)
    parts: dict[str, list[Statement]] = {}
    rows = select(f"""
        SELECT ?s ?p ?o ?pl ?ol WHERE {{
          {{ <{iri}> ?p1 ?s . FILTER(STRSTARTS(STR(?s), "{iri}#")) }}
          UNION {{ <{iri}> ?p1 ?h . FILTER(STRSTARTS(STR(?h), "{iri}#"))
                   ?h ?p2 ?s . FILTER(STRSTARTS(STR(?s), "{iri}#")) }}
          ?s ?p ?o .
          OPTIONAL {{ ?p <http://www.w3.org/2000/01/rdf-schema#label> ?pl }}
          OPTIONAL {{ ?o {_LABEL_PATH} ?ol }}
        }}""")
    for part in sorted({row["s"]["value"] for row in rows}):
        parts[part] = _group([r for r in rows if r["s"]["value"] == part], value="o")
    # A membership has no name of its own; it is shown by the name of its member.
    incoming = _group(select(f"""
        SELECT ?p ?s ?pl ?ol WHERE {{
          ?s ?p <{iri}> .
          OPTIONAL {{ ?p <http://www.w3.org/2000/01/rdf-schema#label> ?pl }}
          OPTIONAL {{ ?s {_LABEL_PATH} ?own }}
          OPTIONAL {{ ?s <http://www.w3.org/ns/org#member> ?member . ?member {_LABEL_PATH} ?ml }}
          BIND(COALESCE(?own, ?ml) AS ?ol)
        }} LIMIT {MAX_INCOMING}"""), value="s")
    sources = [SourceRef(row["source"]["value"], row.get("title", {}).get("value"),
                         row.get("date", {}).get("value"))
               for row in select(f"""
        SELECT ?source ?title ?date WHERE {{
          <{iri}> <{DERIVED_FROM}> ?source .
          OPTIONAL {{ ?source <http://purl.org/dc/terms/title> ?title }}
          OPTIONAL {{ ?source <http://purl.org/dc/terms/issued> ?date }}
        }} ORDER BY ?date""")]
    properties = [s for s in properties if s.property.value != DERIVED_FROM]
    return ResourceView(iri, labels, types, properties, parts, incoming, sources)


def _group(rows: Iterable[Binding], *, value: str) -> list[Statement]:
    """Rows of (property, value, labels) as one statement per property, values in order."""
    statements: dict[str, Statement] = {}
    values: dict[tuple[str, str, str | None], Term] = {}
    for row in rows:
        prop = row["p"]["value"]
        statement = statements.get(prop)
        if statement is None:
            statement = statements[prop] = Statement(Term(prop, "uri"), [])
        statement.property.labels.add(row.get("pl"))
        key = (prop, row[value]["value"], row[value].get("xml:lang"))
        term = values.get(key)
        if term is None:
            term = values[key] = Term.of(row[value])
            statement.values.append(term)
        term.labels.add(row.get("ol"))
    for statement in statements.values():
        statement.values.sort(key=lambda t: (t.kind != "uri", t.labels.best("de") or t.value))
    return sorted(statements.values(), key=lambda s: s.property.labels.best("de") or s.property.value)
