"""The query mix: the queries open-data portals and their users send, as templates, with parameter
values drawn deterministically from the generated CSV files, so every engine gets the same
sequence of distinct queries.

The queries that the query page shows as examples are lod's stored queries (`queries/*.rq`), run
here with generated values. Every query keeps to what all engines share: no FROM, the default graph
being the union of the data and the vocabulary (peers load both into their default graph); dates
are compared as strings, because the data keeps each date's precision (xsd:gYear, xsd:gYearMonth,
xsd:date) and SPARQL 1.1 defines no order between those types.

    python benchmarks/queries.py DATA_DIR      # print one query of each class
"""

from __future__ import annotations

import csv
import functools
import random
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

from lod.query.stored import StoredQuery, bundled_queries

BASE = "https://w3id.org/lod-ikz/"
PREFIXES = """\
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX adms: <http://www.w3.org/ns/adms#>
PREFIX ikz: <https://w3id.org/lod-ikz/def/>
PREFIX time: <http://www.w3.org/2006/time#>
"""


@dataclass(frozen=True)
class QueryClass:
    name: str
    title: str
    form: str
    """select, ask, construct or describe: what the response holds and how it is counted."""
    template: str
    """A `string.Template` of the query after PREFIXES, or the name of one of lod's stored queries
    (`queries/NAME.rq`, whose parameters are these values) as `stored:NAME`."""
    compare: bool = True
    """Whether all engines must give the same count (DESCRIBE's result is up to each engine)."""

    def render(self, values: dict[str, str]) -> str:
        if self.template.startswith(_STORED):
            return _stored(self.template.removeprefix(_STORED)).text(values)
        return PREFIXES + Template(self.template).substitute(values)

    @property
    def accept(self) -> str:
        if self.form in ("construct", "describe"):
            return "application/n-triples"
        return "application/sparql-results+json"


_STORED = "stored:"


@functools.cache
def _stored(name: str) -> StoredQuery:
    return next(q for q in bundled_queries() if q.name == name)


CLASSES = (
    QueryClass("lookup", "look up one organisation by its AGS", "select", "stored:organisation-by-key"),
    QueryClass("cooperations_of", "the cooperations of a municipality, with roles", "select",
               "stored:cooperations-of-municipality"),
    QueryClass("members_of", "the members of a cooperation, with names and roles", "select",
               "stored:members-of-cooperation"),
    QueryClass("count_per_land", "cooperations of one kind founded since a year, per Land", "select", """\
SELECT ?land (COUNT(DISTINCT ?cooperation) AS ?cooperations) WHERE {
  ?cooperation org:classification <$kind> ; schema:foundingDate ?date .
  FILTER(STR(?date) >= "$year")
  ?membership org:organization ?cooperation ; org:member ?member .
  ?member ikz:ags ?ags .
  BIND(SUBSTR(?ags, 1, 2) AS ?land)
} GROUP BY ?land ORDER BY ?land"""),
    QueryClass("count_per_topic", "cooperations founded since a year with a member in one Land, "
               "per topic", "select", """\
SELECT ?topic ?label (COUNT(DISTINCT ?cooperation) AS ?cooperations) WHERE {
  ?cooperation dcterms:subject ?topic ; schema:foundingDate ?date .
  FILTER(STR(?date) >= "$year")
  ?topic skos:prefLabel ?label . FILTER(LANG(?label) = "de")
  ?membership org:organization ?cooperation ; org:member ?member .
  ?member ikz:ags ?ags . FILTER(STRSTARTS(?ags, "$land"))
} GROUP BY ?topic ?label ORDER BY DESC(?cooperations) ?topic"""),
    QueryClass("text_filter", "organisations whose name contains a text", "select", """\
SELECT ?org ?name WHERE {
  ?org a org:Organization ; skos:prefLabel ?name .
  FILTER(LANG(?name) = "de" && CONTAINS(LCASE(?name), "$text"))
} ORDER BY ?name LIMIT 50"""),
    QueryClass("date_window", "cooperations founded in a window of years, latest first", "select", """\
SELECT ?cooperation ?name ?founded WHERE {
  ?cooperation a org:OrganizationalCollaboration ; schema:foundingDate ?date ; skos:prefLabel ?name .
  FILTER(LANG(?name) = "de")
  BIND(STR(?date) AS ?founded)
  FILTER(?founded >= "$first" && ?founded < "$end")
} ORDER BY DESC(?founded) ?cooperation LIMIT 20"""),
    QueryClass("two_hop", "partners in other Länder of one Land's municipalities, in cooperations "
               "founded since a year", "select", """\
SELECT ?other (COUNT(DISTINCT ?partner) AS ?partners) WHERE {
  ?city ikz:ags ?ags . FILTER(STRSTARTS(?ags, "$land"))
  ?m1 org:member ?city ; org:organization ?cooperation .
  ?cooperation schema:foundingDate ?date . FILTER(STR(?date) >= "$year")
  ?m2 org:organization ?cooperation ; org:member ?partner .
  ?partner ikz:ags ?partnerAgs .
  BIND(SUBSTR(?partnerAgs, 1, 2) AS ?other)
  FILTER(?other != "$land")
} GROUP BY ?other ORDER BY ?other"""),
    QueryClass("paged_listing", "a page of the cooperation listing, with OPTIONAL details", "select", """\
SELECT ?cooperation ?name ?kind ?status ?founded ?dissolved ?homepage WHERE {
  ?cooperation a org:OrganizationalCollaboration ; skos:prefLabel ?name .
  FILTER(LANG(?name) = "de")
  OPTIONAL { ?cooperation org:classification ?k . ?k skos:prefLabel ?kind . FILTER(LANG(?kind) = "de") }
  OPTIONAL { ?cooperation adms:status ?s . ?s skos:prefLabel ?status . FILTER(LANG(?status) = "de") }
  OPTIONAL { ?cooperation schema:foundingDate ?founded }
  OPTIONAL { ?cooperation schema:dissolutionDate ?dissolved }
  OPTIONAL { ?cooperation foaf:homepage ?homepage }
} ORDER BY $order LIMIT $limit OFFSET $offset"""),
    QueryClass("construct", "CONSTRUCT one cooperation with the labels of what it links to", "construct", """\
CONSTRUCT { <$cooperation> ?p ?o . ?o skos:prefLabel ?label } WHERE {
  <$cooperation> ?p ?o .
  OPTIONAL { ?o skos:prefLabel ?label }
}"""),
    QueryClass("describe", "DESCRIBE one organisation", "describe", "DESCRIBE <$organisation>",
               compare=False),
    QueryClass("ask", "ASK whether a municipality is a member of a cooperation", "ask", """\
ASK { ?membership org:member <$member> ; org:organization <$cooperation> }"""),
)

# The shapes portals and federation engines send beyond the classic lookups (issue #12): details
# that may be missing on dense properties, negation, alternatives, paths, nested groups and the
# bound joins of federation engines.
_START = "time:hasBeginning/(time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear)"
_END = "time:hasEnd/(time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear)"
BROADER = (
    QueryClass("members_optional", "the members of a cooperation with their key and when they joined "
               "(OPTIONALs on dense properties, one a path)", "select", f"""\
SELECT ?member ?name ?key ?joined WHERE {{
  ?membership org:organization <$cooperation> ; org:member ?member .
  ?member skos:prefLabel ?name . FILTER(LANG(?name) = "de")
  OPTIONAL {{ ?member ikz:ags ?key }}
  OPTIONAL {{ ?membership org:memberDuring/{_START} ?joined }}
}} ORDER BY ?name ?member"""),
    QueryClass("memberships_of", "the cooperations of a municipality with the interval of its "
               "membership (OPTIONALs of three triples)", "select", """\
SELECT ?cooperation ?name ?joined ?left WHERE {
  ?city ikz:ags "$ags" .
  ?membership org:member ?city ; org:organization ?cooperation .
  ?cooperation skos:prefLabel ?name . FILTER(LANG(?name) = "de")
  OPTIONAL { ?membership org:memberDuring ?interval . ?interval time:hasBeginning ?b . ?b ?precision ?joined
             FILTER(?precision IN (time:inXSDDate, time:inXSDgYearMonth, time:inXSDgYear)) }
  OPTIONAL { ?membership org:memberDuring ?interval2 . ?interval2 time:hasEnd ?e . ?e time:inXSDDate ?left }
} ORDER BY ?cooperation"""),
    QueryClass("nested_optional", "the members of a cooperation, when they joined and, if they "
               "left, when (nested OPTIONALs)", "select", f"""\
SELECT ?member ?joined ?left WHERE {{
  ?membership org:organization <$cooperation> ; org:member ?member .
  OPTIONAL {{
    ?membership org:memberDuring ?interval .
    OPTIONAL {{ ?interval {_START} ?joined }}
    OPTIONAL {{ ?interval {_END} ?left }}
  }}
}} ORDER BY ?member"""),
    QueryClass("not_exists", "the municipalities of a district in no cooperation of one kind "
               "(FILTER NOT EXISTS)", "select", """\
SELECT ?city ?name WHERE {
  ?city schema:containedInPlace <$district> ; skos:prefLabel ?name . FILTER(LANG(?name) = "de")
  FILTER NOT EXISTS { ?membership org:member ?city ; org:organization ?c . ?c org:classification <$kind> }
} ORDER BY ?name ?city"""),
    QueryClass("minus", "the present members of a cooperation: its members MINUS those that left",
               "select", """\
SELECT ?member ?name WHERE {
  ?membership org:organization <$cooperation> ; org:member ?member .
  ?member skos:prefLabel ?name . FILTER(LANG(?name) = "de")
  MINUS { ?membership org:memberDuring/time:hasEnd ?end }
} ORDER BY ?name ?member"""),
    QueryClass("union", "the cooperations of a municipality and of the bodies it lies in (UNION)",
               "select", """\
SELECT ?cooperation ?name ?via WHERE {
  { ?membership org:member <$organisation> ; org:organization ?cooperation . BIND("itself" AS ?via) }
  UNION
  { <$organisation> schema:containedInPlace ?above .
    ?membership org:member ?above ; org:organization ?cooperation . BIND(STR(?above) AS ?via) }
  ?cooperation skos:prefLabel ?name . FILTER(LANG(?name) = "de")
} ORDER BY ?via ?cooperation"""),
    QueryClass("transitive", "a cooperation and all its parts, at any depth (dcterms:isPartOf*)",
               "select", """\
SELECT ?part ?name WHERE {
  ?part dcterms:isPartOf* <$cooperation> ; skos:prefLabel ?name . FILTER(LANG(?name) = "de")
} ORDER BY ?part"""),
    QueryClass("group_concat", "per municipality of a district, its cooperations in one cell "
               "(GROUP_CONCAT)", "select", """\
SELECT ?city (COUNT(DISTINCT ?cooperation) AS ?count)
       (GROUP_CONCAT(DISTINCT ?name; separator="; ") AS ?cooperations) WHERE {
  ?city schema:containedInPlace <$district> .
  ?membership org:member ?city ; org:organization ?cooperation .
  ?cooperation skos:prefLabel ?name . FILTER(LANG(?name) = "de")
} GROUP BY ?city ORDER BY ?city"""),
    QueryClass("subselect_limit", "the members of the ten latest cooperations on a topic before a "
               "year (sub-SELECT with LIMIT)", "select", """\
SELECT ?cooperation ?founded ?member WHERE {
  { SELECT ?cooperation ?founded WHERE {
      ?cooperation dcterms:subject <$topic> ; schema:foundingDate ?date .
      BIND(STR(?date) AS ?founded) FILTER(?founded < "$year")
    } ORDER BY DESC(?founded) ?cooperation LIMIT 10 }
  ?membership org:organization ?cooperation ; org:member ?member .
} ORDER BY DESC(?founded) ?cooperation ?member"""),
    QueryClass("values_join", "a federation engine's bound join: the memberships of 20 "
               "organisations as one VALUES block", "select", """\
SELECT ?member ?membership ?cooperation WHERE {
  ?membership org:member ?member ; org:organization ?cooperation .
} VALUES ?member { $members }"""),
    QueryClass("text_ci", "organisations whose name matches a text in any case (REGEX, flag i)",
               "select", """\
SELECT ?org ?name WHERE {
  ?org a org:Organization ; skos:prefLabel ?name .
  FILTER(LANG(?name) = "de" && REGEX(?name, "$text", "i"))
} ORDER BY ?name LIMIT 50"""),
)
CLASSES += BROADER
BY_NAME = {c.name: c for c in CLASSES}


# --- parameters ---------------------------------------------------------------------------


def _rows(data_dir: Path, name: str) -> Iterator[dict[str, str]]:
    with (data_dir / f"{name}.csv").open(encoding="utf-8", newline="") as file:
        yield from csv.DictReader(file)


def _iri(kind: str, slug: str) -> str:
    return f"{BASE}id/{kind}/{slug}"


@dataclass(frozen=True)
class Domains:
    """The values each parameter may take, read from the CSV files, sorted."""

    municipalities: list[tuple[str, str]]
    """(slug, AGS) of municipalities whose AGS no other organisation has."""
    members: list[tuple[str, str]]
    """(slug, AGS) of such municipalities that are members of a cooperation."""
    organisations: list[str]
    cooperations: list[str]
    kinds: list[str]
    lands: list[str]
    texts: list[str]
    years: list[int]
    memberships: list[tuple[str, str]]
    """(member slug, cooperation slug) of municipal members."""
    districts: list[str]
    """Districts that municipalities lie in."""
    programmes: list[str]
    """Cooperations that others are part of."""
    topics: list[str]

    @classmethod
    def read(cls, data_dir: Path) -> Domains:
        organisations = list(_rows(data_dir, "organisations"))
        ags_count: dict[str, int] = defaultdict(int)
        for row in organisations:
            if row["ags"]:
                ags_count[row["ags"]] += 1
        municipalities = sorted((r["slug"], r["ags"]) for r in organisations
                                if r["kind"] == "municipality" and ags_count[r["ags"]] == 1)
        by_slug = dict(municipalities)
        memberships = sorted((r["member"], r["organisation"]) for r in _rows(data_dir, "memberships")
                             if r["member"] in by_slug)
        member_slugs = sorted({m for m, _ in memberships})
        cooperations = list(_rows(data_dir, "cooperations"))
        texts: set[str] = set()
        for row in organisations:
            name = row["name_de"].lower()
            # ASCII-only pieces of real names, so no engine's LCASE of umlauts decides the count.
            for start in range(0, max(0, len(name) - 5), 3):
                piece = name[start:start + 5]
                if piece.isascii() and piece.isalpha():
                    texts.add(piece)
        years = sorted({int(r["start"][:4]) for r in cooperations if r["start"]})
        above = {slug for r in organisations if r["kind"] == "municipality"
                 for slug in r["located_in"].split(";") if slug.startswith("kreis-")}
        return cls(
            municipalities=municipalities,
            members=[(slug, by_slug[slug]) for slug in member_slugs],
            organisations=sorted(r["slug"] for r in organisations),
            cooperations=sorted(r["slug"] for r in cooperations),
            kinds=sorted({r["kind"] for r in cooperations}),
            lands=sorted({ags[:2] for _, ags in municipalities}),
            texts=sorted(texts),
            years=years,
            memberships=memberships,
            districts=sorted(above),
            programmes=sorted({r["part_of"] for r in cooperations if r["part_of"]}),
            topics=sorted({t for r in cooperations for t in r["topics"].split(";") if t}),
        )


def domain(domains: Domains, name: str, *, seed: int) -> list[dict[str, str]]:
    """Every distinct parameter set of query class ``name``, in a fixed order."""
    d = domains
    kind = f"{BASE}def/cooperation-kind/"
    if name == "lookup":
        return [{"ags": ags} for _, ags in d.municipalities]
    if name == "memberships_of":
        return [{"ags": ags} for _, ags in d.members]
    if name == "union":
        return [{"organisation": _iri("organisation", slug)} for slug, _ in d.municipalities]
    if name == "not_exists":
        return [{"district": _iri("organisation", s), "kind": kind + k} for s in d.districts for k in d.kinds]
    if name == "group_concat":
        return [{"district": _iri("organisation", s)} for s in d.districts]
    if name == "transitive":
        return [{"cooperation": _iri("cooperation", s)} for s in d.programmes]
    if name == "subselect_limit":
        return [{"topic": f"{BASE}def/topic/{t}", "year": str(y)} for t in d.topics for y in d.years]
    if name == "values_join":
        # Consecutive blocks of 20, as a federation engine sends the bindings it has in hand.
        parties = d.organisations
        return [{"members": " ".join(f"<{_iri('organisation', s)}>" for s in parties[i:i + 20])}
                for i in range(0, len(parties), 20)]
    if name == "text_ci":
        return [{"text": t} for t in d.texts]
    if name == "cooperations_of":
        return [{"ags": ags} for _, ags in d.members]
    if name in ("members_of", "construct", "members_optional", "nested_optional", "minus"):
        return [{"cooperation": _iri("cooperation", s)} for s in d.cooperations]
    if name == "count_per_land":
        return [{"kind": kind + k, "year": str(y)} for k in d.kinds for y in d.years]
    if name in ("count_per_topic", "two_hop"):
        return [{"land": land, "year": str(y)} for land in d.lands for y in d.years]
    if name == "text_filter":
        return [{"text": t} for t in d.texts]
    if name == "date_window":
        return [{"first": f"{y}{m}", "end": f"{y + w}{m}"} for y in d.years
                for m in ("", *(f"-{month:02d}" for month in range(1, 13))) for w in (1, 2, 3, 5)]
    if name == "paged_listing":
        orders = ("?cooperation", "?name ?cooperation", "DESC(?founded) ?cooperation")
        return [{"order": order, "limit": str(size), "offset": str(size * page)}
                for order in orders for size in (10, 20, 50)
                for page in range((len(d.cooperations) + size - 1) // size)]
    if name == "describe":
        return [{"organisation": _iri("organisation", s)} for s in d.organisations]
    if name == "ask":
        # Every municipal membership (true), and as many municipality-cooperation pairs that are
        # not one (false), drawn with a generator of their own.
        rng = random.Random(f"{seed}:ask-pairs")
        members = set(d.memberships)
        pairs = list(d.memberships)
        while len(pairs) < 2 * len(d.memberships):
            pair = (rng.choice(d.members)[0], rng.choice(d.cooperations))
            if pair not in members:
                pairs.append(pair)
        return [{"member": _iri("organisation", m), "cooperation": _iri("cooperation", c)}
                for m, c in pairs]
    raise KeyError(name)


def parameters(domains: Domains, name: str, *, seed: int, length: int,
               repeat: bool = False) -> list[dict[str, str]]:
    """At most ``length`` parameter sets of class ``name`` in a seeded random order, the same for
    the same data and seed. No set comes twice (so no result cache answers a request), unless
    ``repeat``: then the shuffled domain is repeated until ``length`` is reached."""
    rng = random.Random(f"{seed}:{name}")
    values = domain(domains, name, seed=seed)
    rng.shuffle(values)
    if repeat:
        while values and len(values) < length:
            more = list(values[: len(values)])
            rng.shuffle(more)
            values.extend(more)
    return values[:length]


def sequences(data_dir: Path, *, seed: int = 1, length: int = 2000, repeat: bool = False,
              classes: tuple[QueryClass, ...] = CLASSES) -> dict[str, list[str]]:
    """For each class, up to ``length`` query texts in the order every engine receives them."""
    domains = Domains.read(data_dir)
    return {c.name: [c.render(v) for v in parameters(domains, c.name, seed=seed, length=length,
                                                     repeat=repeat)]
            for c in classes}


if __name__ == "__main__":
    for name, texts in sequences(Path(sys.argv[1]), length=1).items():
        print(f"# {name}: {BY_NAME[name].title}\n{texts[0]}\n")
