"""Text FILTERs narrowed to the literals that may pass them (lod.query.literals, lod.query.narrowing):
the fold against the engine's own case mappings and case-insensitive REGEX, for every character;
where the rewrite applies and where not; through the preparer. That the answers stay the same on
random graphs and queries is test_narrowing_properties; on the benchmark's mix, test_benchmark_plans."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from lod.query import literals
from lod.query.literals import ALPHABET, LiteralIndex, fold
from lod.query.narrowing import narrow_text_filters
from lod.query.prepare import QueryPreparer
from lod.sparql import Values, parse_query, walk

EX = "http://example.org/"
LABEL = EX + "label"
PREFIX = f"PREFIX : <{EX}> "
CHARACTERS = "".join(map(chr, range(0x20, 0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))


def _one(store: ox.Store, expression: str, value: str) -> str:
    rows = list(store.query(f"SELECT ({expression} AS ?r) WHERE {{ VALUES ?x {{ {ox.Literal(value)} }} }}"))
    term = rows[0]["r"]
    assert isinstance(term, ox.Literal)
    return term.value


@pytest.fixture(scope="module")
def mapped_apart() -> dict[str, list[str]]:
    """The characters whose LCASE or UCASE in the engine has another fold than themselves, and
    their mappings (the engine's Unicode may be newer than Python's)."""
    store = ox.Store()
    apart: dict[str, list[str]] = {}
    for start in range(0, len(CHARACTERS), 8192):
        chunk = CHARACTERS[start:start + 8192]
        for function in ("LCASE", "UCASE"):
            if fold(_one(store, f"{function}(?x)", chunk)) != fold(chunk):
                for character in chunk:
                    mapped = _one(store, f"{function}(?x)", character)
                    if fold(mapped) != fold(character):
                        apart.setdefault(character, []).append(mapped)
    return apart


def test_the_fold_keeps_the_engines_case_mappings_of_the_alphabet(mapped_apart: dict[str, list[str]]) -> None:
    # fold(LCASE(s)) == fold(s) for every s whose characters map into the alphabet: where the
    # engine maps a character otherwise than the fold knows, neither side is in the alphabet.
    for character, mappings in mapped_apart.items():
        assert character not in ALPHABET and not ALPHABET.intersection("".join(mappings)), (
            f"U+{ord(character):04X} maps to {mappings!r} in the engine, which the fold does not know")
    assert len(mapped_apart) < 500  # the fold knows all but the newest (Unicode 16: ƛ, ꟛ, ...)


def test_the_fold_is_coarser_than_case_insensitive_regex(mapped_apart: dict[str, list[str]]) -> None:
    # Each character of the alphabet matches, with flag i, only characters of its own fold. Those
    # with any case are tried: the ones Python's Unicode knows and those the engine maps apart.
    store = ox.Store()
    cased = "".join(c for c in CHARACTERS if c.lower() != c or c.upper() != c) + "".join(mapped_apart)
    cased += "".join(c for c in ALPHABET if c not in cased)
    for character in sorted(ALPHABET):
        pattern = "\\" + character if character in "\\.^$|?*+()[]{}-" else character
        rest = _one(store, f'REPLACE(?x, {ox.Literal(pattern)}, "", "i")', cased)
        matched = set(cased) - set(rest)
        assert character in matched
        assert {fold(m) for m in matched} == {fold(character)}, (character, sorted(matched))


@pytest.mark.parametrize(("text", "folded"), [
    ("Gütersloh", "GÜTERSLOH"), ("straße", "STRASSE"), ("STRASSE", "STRASSE"), ("ẞ", "SS"),
    ("\u212a", "K"), ("\u017f", "S"), ("İ", "I\u0307"), ("ﬁ", "FI"), ("ς", fold("Σ"))])
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """Labels Amt 0 ... Amt 399 and Stadt Gütersloh, in German; and a few other literals."""
    store = ox.Store()
    def add(subject: str, predicate: str, value: ox.Literal | ox.NamedNode) -> None:
        store.add(ox.Quad(ox.NamedNode(EX + subject), ox.NamedNode(predicate), value))
    for n in range(400):
        add(f"o{n}", LABEL, ox.Literal(f"Amt {n}", language="de"))
        add(f"o{n}", EX + "type", ox.NamedNode(EX + "Organisation"))
    add("g", LABEL, ox.Literal("Stadt Gütersloh", language="de"))
    add("g", LABEL, ox.Literal("GÜTERSLOH"))
    add("g", LABEL, ox.Literal("1999", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")))
    add("g", LABEL, ox.NamedNode(EX + "guetersloh"))
    return store


@pytest.fixture(scope="module")
def index(store: ox.Store) -> LiteralIndex:
    return LiteralIndex(store, min_literals=100)


def _values(query: str, index: LiteralIndex) -> list[set[str]]:
    """The VALUES the narrowing adds to ``query``: per VALUES, its literals as text@language."""
    narrowed = narrow_text_filters(parse_query(PREFIX + query), index)
    return [{f"{row[0].value}@{row[0].language}" if row[0].language else row[0].value  # type: ignore[union-attr]
             for row in node.rows} for node in walk(narrowed) if isinstance(node, Values)]


@pytest.mark.parametrize("test", [
    'REGEX(?n, "gütersloh", "i")', 'REGEX(?n, "^stadt GÜ")', 'CONTAINS(LCASE(?n), "gütersloh")',
    'CONTAINS(UCASE(?n), "ÜTERS")', 'STRSTARTS(?n, "Stadt")', 'STRENDS(?n, "loh")',
    'LANG(?n) = "de" && REGEX(?n, "ersl", "is")'])
def test_a_text_filter_is_narrowed_to_the_literals_that_may_pass(index: LiteralIndex, test: str) -> None:
    values = _values(f"SELECT * {{ ?o :type :Organisation ; :label ?n FILTER({test}) }}", index)
    assert len(values) == 1 and values[0] <= {"Stadt Gütersloh@de", "GÜTERSLOH"} and values[0]


@pytest.mark.parametrize(("query", "why"), [
    ('SELECT * { ?o :label ?n FILTER(REGEX(?n, "güt", "i") || ?n = "x") }', "an alternative"),
    ('SELECT * { ?o :label ?n FILTER(REGEX(STR(?n), "güt", "i")) }', "STR admits IRIs"),
    ('SELECT * { ?o :label ?n FILTER(REGEX(?n, "g.t", "i")) }', "a pattern, not plain characters"),
    ('SELECT * { ?o :label ?n FILTER(REGEX(?n, "güt", "x")) }', "flag x drops spaces"),
    ('SELECT * { ?o ?p ?n FILTER(CONTAINS(?n, "güt")) }', "no predicate to look in"),
    ('SELECT * { :g :label ?n FILTER(CONTAINS(?n, "güt")) }', "a constant subject: few rows anyway"),
    ('SELECT * { ?o :type ?t OPTIONAL { ?o :label ?n } FILTER(CONTAINS(?n, "güt")) }',
     "?n not bound in every row"),
    ('SELECT * { ?o :label ?n FILTER(CONTAINS(?n, "Amt")) }', "too many pass"),
    ('SELECT * { ?o :label ?n FILTER(CONTAINS(?n, "ƛ")) }', "a character outside the alphabet"),
    ('SELECT * { ?o :label ?n FILTER(CONTAINS(?n, "")) }', "everything passes"),
])
def test_what_is_not_narrowed(index: LiteralIndex, query: str, why: str) -> None:
    assert _values(query, index) == [], why


def test_groups_inside_are_narrowed_where_their_filter_stands(index: LiteralIndex) -> None:
    query = ('SELECT * { ?o :type :Organisation '
             'FILTER NOT EXISTS { ?o :label ?n FILTER(CONTAINS(?n, "Güt")) } '
             'OPTIONAL { ?o :label ?m FILTER(STRENDS(?m, "LOH")) } }')
    assert len(_values(query, index)) == 2


def test_a_small_predicate_is_left_to_the_engine(store: ox.Store) -> None:
    assert LiteralIndex(store, min_literals=1000).candidates(LABEL, "güt") is None
    assert LiteralIndex(store, min_literals=0).candidates(EX + "nothing", "güt") == []


def test_too_many_candidates_are_none(store: ox.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    index = LiteralIndex(store, min_literals=0)
    assert index.candidates(LABEL, "amt 1") is None  # 111 of 402: more than an eighth
    monkeypatch.setattr(literals, "SHARE", 1)
    assert len(index.candidates(LABEL, "amt 1") or []) == 111  # 1, 10-19, 100-199
    monkeypatch.setattr(literals, "MAX_CANDIDATES", 110)
    assert index.candidates(LABEL, "amt 1") is None


def test_the_preparer_narrows_each_query_by_its_own_text(store: ox.Store, index: LiteralIndex) -> None:
    preparer = QueryPreparer(base_iri=EX, prefixes={"": EX})
    preparer.use_release(None, index)
    runs = {}
    for text in ("Gütersloh", "Amt 7", "Amt 39", "Gütersloh", "Amt 12"):
        prepared = preparer.prepare(f'SELECT ?o WHERE {{ ?o :label ?n FILTER(CONTAINS(?n, "{text}")) }}')
        assert "VALUES" in prepared.text and "VALUES" not in prepared.original
        got = sorted(str(row["o"]) for row in store.query(prepared.text))
        runs[text] = got
        assert got == sorted(str(row["o"]) for row in store.query(prepared.original))
    assert runs["Amt 39"] == sorted(f"<{EX}o{n}>" for n in (39, *range(390, 400)))
    assert runs["Amt 7"] == sorted(f"<{EX}o{n}>" for n in (7, *range(70, 80)))


def test_a_predicate_with_too_many_literals_is_not_indexed(store: ox.Store, monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    monkeypatch.setattr(literals, "MAX_LITERALS", 401)  # 402 labels
    assert LiteralIndex(store, min_literals=0).candidates(LABEL, "Gütersloh") is None


def test_literals_that_take_too_long_to_read_are_not_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    store = ox.Store()
    store.extend(ox.Quad(ox.NamedNode(f"{EX}o{n}"), ox.NamedNode(LABEL), ox.Literal(f"Amt {n}"))
                 for n in range(5000))
    monkeypatch.setattr(literals, "READ_SECONDS", 0.0)  # checked every 4,096 triples
    assert LiteralIndex(store, min_literals=0).candidates(LABEL, "Amt 4999") is None
    monkeypatch.setattr(literals, "READ_SECONDS", 60.0)
    assert len(LiteralIndex(store, min_literals=0).candidates(LABEL, "Amt 4999") or []) == 1
