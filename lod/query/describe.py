"""What a page about one resource shows, gathered with a few SPARQL queries.

The queries run through a ``select`` function (SPARQL JSON bindings in, rows out), so this module
works against any endpoint; the web layer only renders the :class:`ResourceView`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lod.query.results import JsonTerm
from lod.vocab import DCTERMS, FOAF, IKZ, ORG, PROV, RDF, RDFS, SCHEMA, SKOS, TIME, VCARD

Binding = dict[str, JsonTerm]
Select = Callable[[str], list[Binding]]

LABEL_PROPERTIES = tuple(str(p) for p in (SKOS.prefLabel, RDFS.label, FOAF.name, SCHEMA.name, DCTERMS.title))
"""The properties that name a resource, the preferred one first."""
LABEL_PATH = "|".join(f"<{p}>" for p in LABEL_PROPERTIES)
"""The label properties as a property path: ``?x LABEL_PATH ?label``."""
RDF_TYPE = str(RDF.type)
DERIVED_FROM = str(PROV.wasDerivedFrom)
MAX_INCOMING = 500
MAX_MEMBERSHIP_ROWS = 20_000
"""A membership is a few rows (one per label and role); enough for thousands of members."""

_TIME_VALUES = tuple(str(p) for p in (TIME.inXSDDate, TIME.inXSDgYearMonth, TIME.inXSDgYear))
_TIME_PATH = "|".join(f"<{p}>" for p in _TIME_VALUES)
_ADDRESS_LINES = (
    (str(VCARD["street-address"]),), (str(SCHEMA.streetAddress),),
    (str(VCARD["postal-code"]), str(VCARD.locality)), (str(SCHEMA.postalCode), str(SCHEMA.addressLocality)),
    (str(VCARD["country-name"]),), (str(SCHEMA.addressCountry),),
)
"""Address properties as the lines of a postal address, in the order they are written."""

# What may not stand between the angle brackets of a SPARQL IRIREF (SPARQL 1.1, section 19.8).
_NOT_IN_IRIREF = re.compile(r'[\x00-\x20<>"{}|^`\\]')


MEMBERSHIP_DETAILS = f"""OPTIONAL {{ ?m <{ORG.role}> ?role . OPTIONAL {{ ?role {LABEL_PATH} ?rl }} }}
          OPTIONAL {{ ?m <{ORG.memberDuring}> ?i .
            OPTIONAL {{ ?i <{TIME.hasBeginning}>/({_TIME_PATH}) ?start }}
            OPTIONAL {{ ?i <{TIME.hasEnd}>/({_TIME_PATH}) ?end }}
            OPTIONAL {{ ?i <{TIME.inside}>/({_TIME_PATH}) ?asOf }} }}"""
"""A membership ``?m``'s roles (``?role``, labelled ``?rl``) and period (``?start``, ``?end``,
``?asOf``), as :func:`add_role` and :func:`period_of` read them."""


def iri_ref(iri: str) -> str:
    """``iri`` as a SPARQL IRI reference ``<…>``; raises ValueError for a string that cannot be
    one, so no text from outside can change a query.

    >>> iri_ref("https://w3id.org/lod-ikz/id/organisation/kgst")
    '<https://w3id.org/lod-ikz/id/organisation/kgst>'
    """
    if not iri or _NOT_IN_IRIREF.search(iri):
        raise ValueError(f"not an IRI that can be queried: {iri!r}")
    return f"<{iri}>"


def string_literal(text: str) -> str:
    r"""``text`` as a SPARQL string literal, every character that could end it escaped.

    >>> print(string_literal('say "hi"'))
    "say \"hi\""
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def exists_query(iri: str) -> str:
    """Whether anything is said of ``iri`` or points at it."""
    ref = iri_ref(iri)
    return f"ASK {{ {{ {ref} ?p ?o }} UNION {{ ?s ?p {ref} }} }}"


def by_key_query(key_property: str, key: str) -> str:
    """The resource whose ``key_property`` is the string ``key`` (an official key)."""
    return f"SELECT ?s WHERE {{ ?s {iri_ref(key_property)} {string_literal(key)} }} LIMIT 1"


def document_query(iri: str) -> str:
    """The triples of a document: the resource's own, its hash parts' (two levels deep, e.g. a
    membership's ``#interval`` and ``#start``), and the triples that point at it."""
    ref, prefix = iri_ref(iri), string_literal(f"{iri}#")
    part = f"STRSTARTS(STR(?h), {prefix})"
    return f"""CONSTRUCT {{ {ref} ?p ?o . ?h ?hp ?ho . ?s ?sp {ref} }} WHERE {{
  {{ {ref} ?p ?o }}
  UNION {{ {ref} ?p1 ?h . FILTER({part}) ?h ?hp ?ho }}
  UNION {{ {ref} ?p1 ?h1 . FILTER(STRSTARTS(STR(?h1), {prefix})) ?h1 ?p2 ?h . FILTER({part}) ?h ?hp ?ho }}
  UNION {{ ?s ?sp {ref} }}
}}"""


@dataclass
class Labels:
    """Labels of a term by language; :meth:`best` picks one for a reader's language."""

    by_language: dict[str, str] = field(default_factory=dict)

    def add(self, binding: dict[str, str] | None) -> None:
        if binding:
            self.by_language.setdefault(binding.get("xml:lang", ""), binding["value"])

    def pick(self, language: str) -> tuple[str, str] | None:
        """The best label for ``language`` and the language it is in (``""`` for none)."""
        for choice in (language, "de", "en", ""):
            if choice in self.by_language:
                return choice, self.by_language[choice]
        return next(iter(self.by_language.items()), None)

    def best(self, language: str) -> str | None:
        picked = self.pick(language)
        return picked[1] if picked else None


@dataclass
class ShownTerm:
    """An IRI or literal as a page shows it."""

    value: str
    kind: str
    """"uri", "literal" or "bnode"."""
    language: str | None = None
    datatype: str | None = None
    labels: Labels = field(default_factory=Labels)
    part: Part | None = None
    """What the resource says about this term when it is one of its hash parts (``#interval``)."""

    @classmethod
    def of(cls, binding: dict[str, str]) -> ShownTerm:
        return cls(binding["value"], binding["type"], binding.get("xml:lang"), binding.get("datatype"))


@dataclass
class ShownStatement:
    """A property with its values, as one row of a page."""

    property: ShownTerm
    values: list[ShownTerm]


@dataclass
class Period:
    """When something held: its beginning, its end and the date it was known to hold (literals
    typed by their precision, ``xsd:gYear`` to ``xsd:date``)."""

    start: ShownTerm | None = None
    end: ShownTerm | None = None
    as_of: ShownTerm | None = None


@dataclass
class Part:
    """A hash part of the resource (``#interval``, ``#site``, ``#address``), folded under the
    property that points at it."""

    types: list[ShownTerm]
    statements: list[ShownStatement]
    """What the part says, its own nested parts folded in turn."""
    period: Period | None = None
    """Set when the part is a ``time:Interval``."""
    address: list[list[ShownTerm]] | None = None
    """The lines of a postal address, when the part is an address or a place or site with one."""


@dataclass
class MembershipRow:
    """One membership, seen from one of its two sides."""

    iri: str
    party: ShownTerm
    """The other side: the member (on the organisation's page) or the organisation."""
    roles: list[ShownTerm]
    period: Period
    post: ShownTerm | None
    """The post held, when the membership is a person's tenure of a post."""


@dataclass
class SourceRef:
    """A source the resource's statements are taken from."""

    iri: str
    title: str | None
    date: str | None
    title_language: str | None = None
    date_datatype: str | None = None


@dataclass
class ResourceView:
    """Everything the page of a resource shows."""

    iri: str
    labels: Labels
    types: list[ShownTerm]
    properties: list[ShownStatement]
    parts: dict[str, list[ShownStatement]]
    """Hash parts no property of the resource points at (normally none), by their IRI."""
    incoming: list[ShownStatement]
    """Resources that point at this one, by the property that points; the memberships of
    :attr:`members` and :attr:`memberships` are left out here."""
    sources: list[SourceRef]
    members: list[MembershipRow] = field(default_factory=list)
    """Memberships in this organisation or cooperation: its members with their roles."""
    memberships: list[MembershipRow] = field(default_factory=list)
    """Memberships of this resource in others: the cooperations it takes part in."""


def describe(select: Select, iri: str) -> ResourceView:
    """Gather the page of ``iri`` with five queries (six for a resource without a name of its
    own): its triples and their labels, its hash parts, the resources that point at it, its
    memberships both ways, and its sources."""
    ref = iri_ref(iri)
    in_parts = f'STRSTARTS(STR(?s), CONCAT(STR({ref}), "#"))'
    outgoing = _group(select(f"""
        SELECT ?p ?o ?pl ?ol WHERE {{
          {ref} ?p ?o .
          OPTIONAL {{ ?p <{RDFS.label}> ?pl }}
          OPTIONAL {{ ?o {LABEL_PATH} ?ol }}
        }}"""), value="o")
    labels = _own_labels(outgoing)
    if not labels.by_language:
        for row in select(f"SELECT ?l WHERE {{ {_display_label(ref, '?l')} }}"):
            labels.add(row.get("l"))
    types = next((s.values for s in outgoing if s.property.value == RDF_TYPE), [])
    rows = select(f"""
        SELECT ?s ?p ?o ?pl ?ol WHERE {{
          {{ {ref} ?p1 ?s . FILTER({in_parts}) }}
          UNION {{ {ref} ?p1 ?h . FILTER(STRSTARTS(STR(?h), CONCAT(STR({ref}), "#")))
                   ?h ?p2 ?s . FILTER({in_parts}) }}
          ?s ?p ?o .
          OPTIONAL {{ ?p <{RDFS.label}> ?pl }}
          OPTIONAL {{ ?o {LABEL_PATH} ?ol }}
        }}""")
    part_rows = {part: _group([r for r in rows if r["s"]["value"] == part], value="o")
                 for part in sorted({row["s"]["value"] for row in rows})}
    folded: set[str] = set()
    properties = [s for s in outgoing if s.property.value not in (RDF_TYPE, DERIVED_FROM)]
    _fold(properties, part_rows, folded, path=(iri,))
    parts = {part: statements for part, statements in part_rows.items() if part not in folded}
    members, memberships = _memberships(select, ref)
    shown = {row.iri for row in (*members, *memberships)}
    incoming = _group(select(f"""
        SELECT ?p ?s ?pl ?ol WHERE {{
          ?s ?p {ref} .
          OPTIONAL {{ ?p <{RDFS.label}> ?pl }}
          {_display_label("?s", "?ol")}
        }} LIMIT {MAX_INCOMING}"""), value="s")
    for statement in incoming:
        statement.values = [term for term in statement.values if term.value not in shown]
    incoming = [statement for statement in incoming if statement.values]
    sources = [SourceRef(row["source"]["value"], row.get("title", {}).get("value"),
                         row.get("date", {}).get("value"), row.get("title", {}).get("xml:lang"),
                         row.get("date", {}).get("datatype"))
               for row in select(f"""
        SELECT ?source ?title ?date WHERE {{
          {ref} <{DERIVED_FROM}> ?source .
          OPTIONAL {{ ?source <http://purl.org/dc/terms/title> ?title }}
          OPTIONAL {{ ?source <http://purl.org/dc/terms/issued> ?date }}
        }} ORDER BY STR(?date) ?source""")]
    return ResourceView(iri, labels, types, properties, parts, incoming, sources,
                        members, memberships)


def names(select: Select, iris: Iterable[str]) -> dict[str, Labels]:
    """The names of those ``iris`` that the data holds now, for a list of records (what changed
    from one release to the next): each IRI something is said of, with its labels (a membership
    or an observation named as on its page; none for a resource without a name). IRIs the data
    no longer holds, and strings that cannot be queried as IRIs, are left out. One query.

    >>> names(lambda query: [], ["not an iri>"])
    {}
    """
    refs = []
    for iri in dict.fromkeys(iris):
        try:
            refs.append(iri_ref(iri))
        except ValueError:
            continue
    if not refs:
        return {}
    found: dict[str, Labels] = {}
    for row in select(f"""
        SELECT ?s ?l WHERE {{
          VALUES ?s {{ {" ".join(refs)} }}
          FILTER EXISTS {{ ?s ?p ?o }}
          {_display_label("?s", "?l")}
        }}"""):
        found.setdefault(row["s"]["value"], Labels()).add(row.get("l"))
    return found


def _display_label(subject: str, out: str) -> str:
    """A SPARQL pattern that binds ``out`` to a name of ``subject``: its own label, else for a
    membership its member and its organisation joined by a dash, else for an observation
    "indicator: qualifier value (date)". Memberships and observations have no name of their
    own, but people need one, and the label-less resources of a page are mostly these two."""
    v = out.lstrip("?")
    membership = f'CONCAT(STR(?ml_{v}), " \N{EN DASH} ", STR(?mo_{v}))'
    observation = (f'CONCAT(STR(?vl_{v}), ": ", COALESCE(CONCAT(STR(?ql_{v}), " "), ""), '
                   f'COALESCE(STR(?val_{v}), ""), COALESCE(CONCAT(" (", STR(?od_{v}), ")"), ""))')
    return f"""
          OPTIONAL {{ {subject} {LABEL_PATH} ?own_{v} }}
          OPTIONAL {{ {subject} <{ORG.member}>/({LABEL_PATH}) ?ml_{v} ;
                               <{ORG.organization}>/({LABEL_PATH}) ?mo_{v} .
                     FILTER(LANG(?ml_{v}) = LANG(?mo_{v}) || LANG(?ml_{v}) = "" || LANG(?mo_{v}) = "") }}
          OPTIONAL {{ {subject} <{SCHEMA.variableMeasured}>/({LABEL_PATH}) ?vl_{v} .
                     OPTIONAL {{ {subject} <{SCHEMA.value}> ?val_{v} }}
                     OPTIONAL {{ {subject} <{SCHEMA.observationDate}> ?od_{v} }}
                     OPTIONAL {{ {subject} <{IKZ.valueQualifier}>/({LABEL_PATH}) ?ql_{v}
                                FILTER(LANG(?ql_{v}) = LANG(?vl_{v})) }} }}
          BIND(IF(LANG(?ml_{v}) != "", LANG(?ml_{v}), LANG(?mo_{v})) AS ?mlang_{v})
          BIND(IF(?mlang_{v} != "", STRLANG({membership}, ?mlang_{v}), {membership}) AS ?mname_{v})
          BIND(IF(LANG(?vl_{v}) != "", STRLANG({observation}, LANG(?vl_{v})), {observation}) AS ?oname_{v})
          BIND(COALESCE(?own_{v}, ?mname_{v}, ?oname_{v}) AS {out})"""


def _own_labels(outgoing: list[ShownStatement]) -> Labels:
    """The resource's names by language, from the most preferred naming property."""
    labels = Labels()
    by_property = {s.property.value: s for s in outgoing}
    for prop in LABEL_PROPERTIES:
        for term in by_property[prop].values if prop in by_property else ():
            if term.kind == "literal":
                labels.by_language.setdefault(term.language or "", term.value)
    return labels


def _fold(statements: list[ShownStatement], parts: dict[str, list[ShownStatement]], folded: set[str], *,
          path: tuple[str, ...]) -> None:
    """Attach to each value that is a hash part what the part says, nested parts in turn."""
    for statement in statements:
        for term in statement.values:
            if term.kind != "uri" or term.value not in parts or term.value in path:
                continue
            folded.add(term.value)
            said = parts[term.value]
            inner = [s for s in said if s.property.value != RDF_TYPE]
            _fold(inner, parts, folded, path=(*path, term.value))
            types = next((s.values for s in said if s.property.value == RDF_TYPE), [])
            term.part = Part(types, inner, _period(types, inner), _address(inner))


def _value(statements: list[ShownStatement], properties: Iterable[str]) -> ShownTerm | None:
    wanted = set(properties)
    return next((s.values[0] for s in statements if s.property.value in wanted and s.values), None)


def _instant(statements: list[ShownStatement], prop: str) -> ShownTerm | None:
    instant = _value(statements, (prop,))
    return _value(instant.part.statements, _TIME_VALUES) if instant and instant.part else None


def _period(types: list[ShownTerm], statements: list[ShownStatement]) -> Period | None:
    if not any(t.value == str(TIME.Interval) for t in types):
        return None
    return Period(_instant(statements, str(TIME.hasBeginning)), _instant(statements, str(TIME.hasEnd)),
                  _instant(statements, str(TIME.inside)))


def _address(statements: list[ShownStatement]) -> list[list[ShownTerm]] | None:
    """Address lines of an address, or of the one address a site or place points at."""
    lines = [[term for prop in line if (term := _value(statements, (prop,)))] for line in _ADDRESS_LINES]
    lines = [line for line in lines if line]
    if lines:
        return lines
    for statement in statements:
        for term in statement.values:
            if term.part and term.part.address:
                name = _value(statements, (str(SCHEMA.name),))
                return ([[name]] if name else []) + term.part.address
    return None


def _memberships(select: Select, ref: str) -> tuple[list[MembershipRow], list[MembershipRow]]:
    """The memberships in ``ref`` (its members) and of ``ref`` (what it is a member of)."""
    rows = select(f"""
        SELECT ?m ?side ?party ?pl ?role ?rl ?start ?end ?asOf ?post ?postl WHERE {{
          {{ ?m <{ORG.organization}> {ref} ; <{ORG.member}> ?party . BIND("members" AS ?side) }}
          UNION {{ ?m <{ORG.member}> {ref} ; <{ORG.organization}> ?party . BIND("of" AS ?side) }}
          OPTIONAL {{ ?party {LABEL_PATH} ?pl }}
          {MEMBERSHIP_DETAILS}
          OPTIONAL {{ ?m <{IKZ.post}> ?post . OPTIONAL {{ ?post {LABEL_PATH} ?postl }} }}
        }} LIMIT {MAX_MEMBERSHIP_ROWS}""")
    found: dict[tuple[str, str], MembershipRow] = {}
    roles: dict[tuple[str, str, str], ShownTerm] = {}
    for row in rows:
        key = (row["side"]["value"], row["m"]["value"])
        membership = found.get(key)
        if membership is None:
            membership = found[key] = MembershipRow(
                key[1], ShownTerm.of(row["party"]), [], period_of(row),
                ShownTerm.of(row["post"]) if "post" in row else None)
        membership.party.labels.add(row.get("pl"))
        if membership.post:
            membership.post.labels.add(row.get("postl"))
        add_role(row, key, roles, membership.roles)
    members = [m for (side, _), m in found.items() if side == "members"]
    memberships = [m for (side, _), m in found.items() if side == "of"]
    for side in (members, memberships):
        side.sort(key=lambda m: (m.party.labels.best("de") or m.party.value).casefold())
    return members, memberships


def period_of(row: Binding) -> Period:
    """A membership's period from a row binding ``?start``, ``?end`` and ``?asOf`` (or not)."""
    return Period(*(ShownTerm.of(row[name]) if name in row else None for name in ("start", "end", "asOf")))


def add_role(row: Binding, key: tuple[str, str], roles: dict[tuple[str, str, str], ShownTerm],
             into: list[ShownTerm]) -> None:
    """The row's ``?role`` (labelled ``?rl``) added to ``into`` once per membership ``key``; a
    label in another language of a role seen before added to its labels."""
    if "role" not in row:
        return
    role = roles.get((*key, row["role"]["value"]))
    if role is None:
        role = roles[(*key, row["role"]["value"])] = ShownTerm.of(row["role"])
        into.append(role)
    role.labels.add(row.get("rl"))


def _group(rows: Iterable[Binding], *, value: str) -> list[ShownStatement]:
    """Rows of (property, value, labels) as one statement per property, values in order."""
    statements: dict[str, ShownStatement] = {}
    values: dict[tuple[str, str, str | None], ShownTerm] = {}
    for row in rows:
        prop = row["p"]["value"]
        statement = statements.get(prop)
        if statement is None:
            statement = statements[prop] = ShownStatement(ShownTerm(prop, "uri"), [])
        statement.property.labels.add(row.get("pl"))
        key = (prop, row[value]["value"], row[value].get("xml:lang"))
        term = values.get(key)
        if term is None:
            term = values[key] = ShownTerm.of(row[value])
            statement.values.append(term)
        term.labels.add(row.get("ol"))
    for statement in statements.values():
        statement.values.sort(key=lambda t: (t.kind != "uri", t.labels.best("de") or t.value))
    return sorted(statements.values(), key=lambda s: s.property.labels.best("de") or s.property.value)
