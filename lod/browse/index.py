"""Building a release's browse index, ``browse.sqlite``, from the store it publishes.

The index holds what the lists and the search of the pages need and SPARQL answers slowly: every
organisation, cooperation, person and event with its names; each list's facets as bitmaps, one per
facet value and sort order (bit *p* set: the record at place *p* of that order has the value), so
that filtering is an AND of a few integers and a facet's count a popcount; and an FTS5 table of
names, other names, official keys and descriptions. It is built with the release, in the build's
directory, and switched in with it; a release never changes, so neither does its index.

The Land of an organisation comes from the first two digits of its official keys (its own, else
those of the places it lies in); a cooperation lies in the Länder of its members, a person in those
of the organisations whose posts they hold.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from lod.browse.folding import indexed_text, sort_key, transliterated, without_marks
from lod.browse.laender import LAENDER, land_of_key
from lod.vocab import ADMS, DCTERMS, FOAF, IKZ, ORG, RDF, RDFS, SCHEMA, SKOS

INDEX_FILE = "browse.sqlite"
VERSION = 1
"""The index's layout (SQLite's ``user_version``): a server reads only the layout it knows."""

FACETS: dict[str, tuple[str, ...]] = {
    "organisations": ("kind", "land", "role", "topic", "status"),
    "cooperations": ("kind", "land", "topic", "status", "year"),
    "people": ("role", "land"),
    "events": ("kind", "year"),
}
"""Each list's facets, in the order the pages show them."""

ORDERS = ("name_de", "name_en", "newest", "oldest", "largest")
"""The orders a list can be read in: by its German or English names, by year (newest or oldest
first, records without a year last), by size (members, memberships or posts; the most first)."""

BM25_WEIGHTS = "10.0, 6.0, 8.0, 1.0"
"""How much a match counts in each column of the search: names most, other names and
abbreviations, official keys, and descriptions least."""

ALL = ("", "")
"""The (facet, value) of the bitmap of every record of a list."""

_LABELS = (SKOS.prefLabel, RDFS.label, FOAF.name, SCHEMA.name, DCTERMS.title)
_OTHER_NAMES = (SKOS.altLabel, SCHEMA.alternateName)
_KEYS = (IKZ.ags, IKZ.ars, IKZ.kreisschluessel)
_DESCRIPTIONS = (DCTERMS.description, SCHEMA.description)

_SCHEMA = """
CREATE TABLE records (
    id INTEGER PRIMARY KEY, list TEXT NOT NULL, iri TEXT NOT NULL,
    label_de TEXT NOT NULL, label_en TEXT NOT NULL,
    kind TEXT, lands TEXT NOT NULL, year INTEGER, size INTEGER NOT NULL,
    rank_name_de INTEGER NOT NULL, rank_name_en INTEGER NOT NULL, rank_newest INTEGER NOT NULL,
    rank_oldest INTEGER NOT NULL, rank_largest INTEGER NOT NULL);
CREATE TABLE masks (list TEXT, ordering TEXT, facet TEXT, value TEXT, bits BLOB NOT NULL,
                    PRIMARY KEY (list, ordering, facet, value)) WITHOUT ROWID;
CREATE TABLE names (folded TEXT NOT NULL, record INTEGER NOT NULL);
CREATE TABLE labels (value TEXT PRIMARY KEY, label_de TEXT NOT NULL, label_en TEXT NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE search USING fts5(name, other, keys, description,
    tokenize = "unicode61 remove_diacritics 2", prefix = '2 3 4');
"""


@dataclass
class _Record:
    iri: str
    labels: dict[str, str]
    facets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    year: int | None = None
    size: int = 0
    other_names: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)

    def label(self, language: str) -> str:
        other = "en" if language == "de" else "de"
        for choice in (language, "", other):
            if choice in self.labels:
                return self.labels[choice]
        return next(iter(self.labels.values()), None) or self.iri.rstrip("/#").rpartition("/")[2]


class _Triples:
    """The store's statements by property, read once each (in every graph: the build's store
    holds the data and the vocabulary in graphs of their own)."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def pairs(self, predicate: ox.NamedNode | str) -> Iterator[tuple[str, ox.NamedNode | ox.Literal]]:
        node = predicate if isinstance(predicate, ox.NamedNode) else ox.NamedNode(str(predicate))
        for quad in self.store.quads_for_pattern(None, node, None, None):
            if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode | ox.Literal):
                yield quad.subject.value, quad.object

    def of_type(self, cls: str) -> set[str]:
        """The IRIs of the class's instances (the object bound: no other type is read)."""
        quads = self.store.quads_for_pattern(None, ox.NamedNode(str(RDF.type)), ox.NamedNode(cls), None)
        return {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}

    def iris(self, predicate: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for s, o in self.pairs(predicate):
            if isinstance(o, ox.NamedNode):
                found[s].add(o.value)
        return found

    def texts(self, *predicates: str) -> dict[str, list[ox.Literal]]:
        found: dict[str, list[ox.Literal]] = defaultdict(list)
        for predicate in predicates:
            for s, o in self.pairs(predicate):
                if isinstance(o, ox.Literal):
                    found[s].append(o)
        return found


def build_index(store: ox.Store, directory: Path) -> int:
    """Write ``directory/browse.sqlite`` for the data in ``store``; returns the records indexed."""
    triples = _Triples(store)
    lists = _records(triples)
    path = directory / INDEX_FILE
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(_SCHEMA + f"PRAGMA user_version = {VERSION};")
        next_id = 1
        for name, records in lists.items():
            next_id = _write_list(connection, name, records, first_id=next_id)
        _write_labels(connection, lists, triples)
        connection.executescript(
            "".join(f"CREATE INDEX records_{order} ON records (list, rank_{order});" for order in ORDERS)
            + "CREATE INDEX records_iri ON records (iri); CREATE INDEX names_folded ON names (folded);"
            f"INSERT INTO search(search, rank) VALUES ('rank', 'bm25({BM25_WEIGHTS})');"
            "INSERT INTO search(search) VALUES ('optimize');")
        connection.commit()
    finally:
        connection.close()
    return next_id - 1


def _records(triples: _Triples) -> dict[str, list[_Record]]:
    """The records of each list, with their facet values, years and sizes."""
    organisations = triples.of_type(str(ORG.Organization))
    cooperations = triples.of_type(str(ORG.OrganizationalCollaboration)) - organisations
    people, events = triples.of_type(str(FOAF.Person)), triples.of_type(str(SCHEMA.Event))

    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for s, literals in triples.texts(*map(str, _LABELS)).items():
        for literal in literals:
            labels[s].setdefault(literal.language or "", literal.value)
    listed = organisations | cooperations | people | events
    records = {iri: _Record(iri, labels.get(iri, {})) for iri in listed}
    texts = (("other_names", _OTHER_NAMES), ("keys", _KEYS), ("descriptions", _DESCRIPTIONS))
    for attribute, predicates in texts:
        for s, literals in triples.texts(*map(str, predicates)).items():
            if s in records:
                getattr(records[s], attribute).extend(dict.fromkeys(lit.value for lit in literals))

    kinds, statuses, topics = (triples.iris(str(p))
                               for p in (ORG.classification, ADMS.status, DCTERMS.subject))
    event_kinds = triples.iris(str(DCTERMS.type))
    for record in records.values():
        record.facets["kind"] |= kinds.get(record.iri, set()) | (
            event_kinds.get(record.iri, set()) if record.iri in events else set())
        record.facets["status"] |= statuses.get(record.iri, set())
        record.facets["topic"] |= topics.get(record.iri, set())
    for s, literals in triples.texts(str(SCHEMA.foundingDate), str(SCHEMA.startDate)).items():
        years = [int(lit.value[:4]) for lit in literals if lit.value[:4].isdigit()]
        if s in records and years:
            records[s].year = min(years)
            records[s].facets["year"].add(str(min(years)))

    lands = _lands(triples, organisations)
    memberships = triples.of_type(str(ORG.Membership))
    member_of, organisation_of = triples.iris(str(ORG.member)), triples.iris(str(ORG.organization))
    roles = triples.iris(str(ORG.role))
    members: dict[str, set[str]] = defaultdict(set)
    for membership in memberships:
        for member in member_of.get(membership, ()):
            for body in organisation_of.get(membership, ()):
                members[body].add(member)
                if member in records:
                    records[member].facets["role"] |= roles.get(membership, set())
    for body, its_members in members.items():
        if body in cooperations:
            records[body].size = len(its_members)
            records[body].facets["land"] = set().union(lands.get(body, set()),
                                                      *(lands.get(m, set()) for m in its_members))
        for member in its_members:
            if member in organisations:
                records[member].size += 1
                if body in cooperations:
                    records[member].facets["topic"] |= topics.get(body, set())
    for organisation in organisations:
        records[organisation].facets["land"] = set(lands.get(organisation, set()))
        records[organisation].facets["topic"] |= topics.get(organisation, set())

    post_in, held_by = triples.iris(str(ORG.postIn)), triples.iris(str(ORG.heldBy))
    for post in triples.of_type(str(ORG.Post)):
        for person in held_by.get(post, set()) & people:
            records[person].size += 1
            records[person].facets["role"] |= roles.get(post, set())
            for body in post_in.get(post, ()):
                records[person].facets["land"] |= lands.get(body, set())

    lists = {"organisations": organisations, "cooperations": cooperations, "people": people, "events": events}
    return {name: [_only_facets_of(records[iri], name) for iri in sorted(iris)]
            for name, iris in lists.items()}


def _only_facets_of(record: _Record, list_name: str) -> _Record:
    record.facets = {facet: values for facet, values in record.facets.items()
                     if facet in FACETS[list_name] and values}
    return record


def _lands(triples: _Triples, organisations: set[str]) -> dict[str, set[str]]:
    """The Länder of every organisation (or place) with an official key, or lying in one."""
    own: dict[str, set[str]] = defaultdict(set)
    for key_property in _KEYS:
        for s, o in triples.pairs(str(key_property)):
            land = land_of_key(o.value)
            if land is not None:
                own[s].add(land)
    lands = dict(own)
    for s, places in triples.iris(str(SCHEMA.containedInPlace)).items():
        if s not in own:
            found = set().union(*(own.get(place, set()) for place in places))
            if found:
                lands[s] = found
    return lands


def _write_list(connection: sqlite3.Connection, name: str, records: list[_Record], *, first_id: int) -> int:
    ranks = {order: _ranks(records, order) for order in ORDERS}
    rows = []
    for index, record in enumerate(records):
        kinds = sorted(record.facets.get("kind", ()))
        rows.append((first_id + index, name, record.iri, record.label("de"), record.label("en"),
                     kinds[0] if kinds else None,
                     ",".join(sorted(record.facets.get("land", ()))), record.year, record.size,
                     *(ranks[order][index] for order in ORDERS)))
    connection.executemany(f"INSERT INTO records VALUES ({', '.join('?' * 14)})", rows)
    connection.executemany("INSERT INTO names VALUES (?, ?)",
                           ((name, first_id + index) for index, record in enumerate(records)
                            for name in _folded_names(record)))
    connection.executemany(
        "INSERT INTO search(rowid, name, other, keys, description) VALUES (?, ?, ?, ?, ?)",
        _search_rows(records, first_id))
    for order in ORDERS:
        connection.executemany("INSERT INTO masks VALUES (?, ?, ?, ?, ?)",
                               ((name, order, facet, value, bits)
                                for (facet, value), bits in _masks(records, ranks[order]).items()))
    return first_id + len(records)


def _folded_names(record: _Record) -> set[str]:
    """The record's names and other names as a search compares their beginnings with a query:
    transliterated, and without their diacritics."""
    names = (*record.labels.values(), *record.other_names)
    return {form for name in names for form in (transliterated(name), without_marks(name))}


def _ranks(records: list[_Record], order: str) -> list[int]:
    """Each record's place in ``order``."""
    names = [(sort_key(record.label("en" if order == "name_en" else "de")), record.iri) for record in records]

    def key(index: int) -> tuple[object, ...]:
        record = records[index]
        if order == "newest":
            return (record.year is None, -(record.year or 0), *names[index])
        if order == "oldest":
            return (record.year is None, record.year or 0, *names[index])
        if order == "largest":
            return (-record.size, *names[index])
        return names[index]

    ranks = [0] * len(records)
    for place, index in enumerate(sorted(range(len(records)), key=key)):
        ranks[index] = place
    return ranks


def _masks(records: list[_Record], ranks: list[int]) -> dict[tuple[str, str], bytes]:
    size = (len(records) + 7) // 8
    masks: dict[tuple[str, str], bytearray] = defaultdict(lambda: bytearray(size))
    for record, place in zip(records, ranks, strict=True):
        for key in (ALL, *((facet, value) for facet, values in record.facets.items() for value in values)):
            masks[key][place >> 3] |= 1 << (place & 7)
    if not records:
        masks[ALL] = bytearray()
    return {key: bytes(bits) for key, bits in masks.items()}


def _search_rows(records: list[_Record], first_id: int) -> Iterable[tuple[int, str, str, str, str]]:
    for index, record in enumerate(records):
        names = dict.fromkeys(record.labels.values())
        yield (first_id + index, " ".join(map(indexed_text, names)),
               " ".join(indexed_text(n) for n in record.other_names if n not in names),
               " ".join(record.keys), " ".join(record.descriptions))


def _write_labels(connection: sqlite3.Connection, lists: dict[str, list[_Record]], triples: _Triples) -> None:
    """The names of the facets' values: concepts by their labels, Länder by theirs, years as such."""
    values = {value for records in lists.values() for record in records
              for facet, found in record.facets.items() if facet not in ("land", "year") for value in found}
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for s, literals in triples.texts(str(SKOS.prefLabel), str(RDFS.label)).items():
        if s in values:
            for literal in literals:
                labels[s].setdefault(literal.language or "", literal.value)
    rows = [(code, names["de"], names["en"]) for code, names in LAENDER.items()]
    for value in sorted(values):
        record = _Record(value, labels.get(value, {}))
        rows.append((value, record.label("de"), record.label("en")))
    connection.executemany("INSERT INTO labels VALUES (?, ?, ?)", rows)
