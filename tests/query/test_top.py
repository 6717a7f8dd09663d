"""ORDER BY … LIMIT evaluated from the first objects in the sort order (:mod:`lod.query.top`,
:mod:`lod.query.ranks`): the rankings against the engine's own ORDER BY, where a site is and is
not, and - on random graphs and random range queries, drawn by hypothesis - the same answer, in
the same order, as the query written."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from lod.query.literals import LiteralIndex
from lod.query.planner import Engine
from lod.query.prepare import QueryPreparer
from lod.query.ranks import LEXICAL, VALUE, ObjectRanks, value_key
from lod.query.top import choose
from lod.sparql import IRI, Literal

from ..sparql import w3c
from .expected import same_answer

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
P, Q = EX + "p", EX + "q"


def _lexical(kind: str, rng: random.Random) -> str:
    year = rng.choice(("0999", "9999", str(rng.randint(1995, 2022))))
    month, day = f"{rng.randint(1, 12):02d}", f"{rng.randint(1, 28):02d}"
    strings = ("", "a", "A", "b", "ä", "é", "2020", "2020-01", "z", "Z", "aa", "ab")
    hour = f"{rng.randint(0, 23):02d}"
    return {"date": f"{year}-{month}-{day}", "dateTime": f"{year}-{month}-{day}T{hour}:00:05",
            "gYear": year, "gYearMonth": f"{year}-{month}", "integer": str(rng.randint(-300, 300)),
            "string": rng.choice(strings)}[kind]


def _term(kind: str, rng: random.Random) -> str:
    """An object of the kind: a literal of that datatype, or for "mixed" anything STR takes."""
    if kind == "mixed":
        kind = rng.choice(("date", "gYear", "gYearMonth", "string", "integer", "iri", "lang"))
        if kind == "iri":
            return f"<{EX}{rng.choice('abc')}{rng.randint(0, 9)}>"
        if kind == "lang":
            return f'"{_lexical("string", rng)}"@{rng.choice(("de", "en"))}'
    return f'"{_lexical(kind, rng)}"^^<{XSD}{kind}>'


def _store(kind: str, seed: int, size: int) -> ox.Store:
    rng = random.Random(seed)
    store = ox.Store()
    triples = [f"<{EX}s{rng.randint(0, size)}> <{P}> {_term(kind, rng)} ." for _ in range(size)]
    triples += [f"<{EX}s{i}> <{Q}> <{EX}{rng.choice('xy')}> ." for i in range(size) if rng.random() < 0.6]
    store.load("\n".join(triples).encode(), ox.RdfFormat.N_TRIPLES)
    return store


@pytest.mark.parametrize("kind", ["date", "dateTime", "gYear", "gYearMonth", "integer", "string", "mixed"])
def test_a_ranking_orders_as_the_engine_orders(kind: str) -> None:
    store = _store(kind, 7, 300)
    for key, by in ((VALUE, "?v"), (LEXICAL, "STR(?v)")):
        ranking = ObjectRanks(store, min_objects=0).ranking(P, key)
        if key == VALUE and kind == "mixed":
            assert ranking is None  # the engine's order between datatypes is its own
            continue
        assert ranking is not None and len(ranking.keys) > 10
        engine = [s["v"] for s in store.query(f"SELECT DISTINCT ?v WHERE {{ ?s <{P}> ?v }} ORDER BY {by}")]
        keys = [_key(term, key, ranking.datatype) for term in engine]
        assert keys == sorted(keys), kind  # the engine's order is the ranking's
        assert sorted(set(keys)) == ranking.keys


def _key(term: ox.NamedNode | ox.Literal, key: str, datatype: str | None) -> str | int | None:
    if key == LEXICAL:
        return term.value
    assert isinstance(term, ox.Literal) and datatype
    return value_key(Literal(term.value, IRI(term.datatype.value), term.language), datatype)


def test_an_invalid_or_zoned_value_has_no_value_ranking() -> None:
    for lexical, datatype in (("2020-02-30", "date"), ("2020-01-01Z", "date"), ("02020", "gYear"),
                              ("007", "integer"), ("+7", "integer"), ("2020-13", "gYearMonth")):
        assert value_key(Literal(lexical, IRI(XSD + datatype)), XSD + datatype) is None, lexical
    store = ox.Store()
    data = f'<{EX}a> <{P}> "2020-01-01"^^<{XSD}date> . <{EX}b> <{P}> "2020-01-01Z"^^<{XSD}date> .'
    store.load(data.encode(), ox.RdfFormat.TURTLE)
    assert ObjectRanks(store, min_objects=0).ranking(P, VALUE) is None
    assert ObjectRanks(store, min_objects=0).ranking(P, LEXICAL) is not None
    assert ObjectRanks(store, min_objects=3).ranking(P, LEXICAL) is None  # too few to be worth it


@pytest.fixture(scope="module")
def dates() -> ox.Store:
    return _store("date", 3, 400)


def _preparer(store: ox.Store) -> QueryPreparer:
    preparer = QueryPreparer(base_iri=EX)
    preparer.use_release(None, None, ObjectRanks(store, min_objects=0))
    return preparer


SITE = (f"SELECT ?s ?v WHERE {{ ?s <{P}> ?v FILTER(?v < \"2019-06-01\"^^<{XSD}date>) }} "
        "ORDER BY DESC(?v) ?s LIMIT 3")


@pytest.mark.parametrize("query", [
    SITE,
    f"SELECT ?s ?k WHERE {{ ?s <{P}> ?v BIND(STR(?v) AS ?k) FILTER(?k >= \"2000\") }} "
    "ORDER BY ?k LIMIT 2 OFFSET 1",
    f"SELECT * WHERE {{ ?x <{Q}> ?o {{ {SITE} }} }}",
    f"SELECT ?s WHERE {{ ?s <{P}> ?v }} ORDER BY STR(?v) LIMIT 5",
], ids=["value", "bound STR", "sub-SELECT", "STR"])
def test_a_site_is_narrowed(dates: ox.Store, query: str) -> None:
    prepared = _preparer(dates).prepare(query)
    assert prepared.attempts and "VALUES" in prepared.attempts[0].text and "VALUES" not in prepared.text
    assert prepared.narrowable  # its plan depends on its constants: no shape is learnt from it
    unplanned = QueryPreparer(base_iri=EX, engine=Engine.STANDARD).prepare(query).text
    assert same_answer(w3c.answer(dates, unplanned, None),
                       w3c.answer(dates, choose(dates, prepared.attempts, prepared.text), None), ordered=True)


@pytest.mark.parametrize("query", [
    f"SELECT ?s WHERE {{ ?s <{P}> ?v }} ORDER BY ?v",  # no LIMIT
    f"SELECT ?s (COUNT(*) AS ?n) WHERE {{ ?s <{P}> ?v }} GROUP BY ?s ORDER BY ?s LIMIT 3",
    f"SELECT (MAX(?v) AS ?m) WHERE {{ ?s <{P}> ?v }} ORDER BY ?m LIMIT 3",
    f"SELECT REDUCED ?s WHERE {{ ?s <{P}> ?v }} ORDER BY ?v LIMIT 3",
    f"SELECT ?s WHERE {{ ?s <{P}> ?v }} ORDER BY ?s LIMIT 3",  # ?s is no object
    f"SELECT ?s WHERE {{ <{EX}s1> <{P}> ?v }} ORDER BY ?v LIMIT 3",  # nor from a variable subject
    f"SELECT ?s WHERE {{ ?s <{P}> ?v }} ORDER BY (?v + 1) LIMIT 3",
    f"SELECT ?s WHERE {{ ?s <{P}> ?v }} ORDER BY STRLEN(STR(?v)) LIMIT 3",
    f"SELECT ?s WHERE {{ BIND(STR(?v) AS ?k) ?s <{P}> ?v }} ORDER BY ?k LIMIT 3",  # ?k unbound
    f"SELECT ?s WHERE {{ OPTIONAL {{ ?s <{P}> ?v }} }} ORDER BY ?v LIMIT 3",
    f"SELECT * WHERE {{ ?x <{Q}> ?o LATERAL {{ {SITE} }} }}",
    f"SELECT * WHERE {{ ?x <{Q}> ?o FILTER EXISTS {{ {SITE} }} }}",
    f"SELECT * WHERE {{ GRAPH ?g {{ {SITE} }} }}",
    f"SELECT ?s ?v FROM <{EX}g> WHERE {{ ?s <{P}> ?v }} ORDER BY ?v LIMIT 3",
    f"SELECT ?s ?v WHERE {{ ?s <{P}> ?v }} ORDER BY ?v LIMIT 1001",
])
def test_what_is_not_a_site(dates: ox.Store, query: str) -> None:
    assert not _preparer(dates).prepare(query).attempts


def test_the_probe_decides(dates: ox.Store) -> None:
    """Where the first objects give too few rows (few subjects pass), the next attempt is tried,
    and the query as planned runs where that gives too few as well (the second takes at most
    MAX_TERMS of the 400 dates); where they give enough, the first runs."""
    rare = (f"SELECT ?s ?v WHERE {{ ?s <{P}> ?v ; <{Q}> <{EX}x> FILTER(STRENDS(STR(?s), \"7\")) }} "
            "ORDER BY DESC(?v) ?s LIMIT 20")
    prepared = _preparer(dates).prepare(rare)
    assert len(prepared.attempts) >= 2 and all(attempt.probes for attempt in prepared.attempts)
    assert choose(dates, prepared.attempts, prepared.text) == prepared.text
    common = _preparer(dates).prepare(f"SELECT ?s ?v WHERE {{ ?s <{P}> ?v }} ORDER BY DESC(?v) ?s LIMIT 20")
    assert common.attempts[0].probes
    assert choose(dates, common.attempts, common.text) == common.attempts[0].text


def test_a_range_of_few_objects_needs_no_probe(dates: ox.Store) -> None:
    text = (f"SELECT ?s ?v WHERE {{ ?s <{P}> ?v FILTER(?v >= \"2001-03-01\"^^<{XSD}date> && "
            f"?v < \"2001-03-05\"^^<{XSD}date>) }} ORDER BY ?v ?s LIMIT 3")
    prepared = _preparer(dates).prepare(text)
    assert len(prepared.attempts) == 1 and not prepared.attempts[0].probes
    empty = _preparer(dates).prepare(text.replace("2001-03-05", "2001-02-05"))  # an empty range
    assert len(empty.attempts) == 1 and not empty.attempts[0].probes
    assert not _rows(dates, empty.attempts[0].text)


# --- the same answer, on random graphs and queries ------------------------------------------------

_OPERATORS = ("<", "<=", ">", ">=", "=")


@st.composite
def _cases(draw: st.DrawFn) -> tuple[str, int, str]:
    kind = draw(st.sampled_from(["date", "gYear", "integer", "string", "mixed"]))
    seed = draw(st.integers(0, 10_000))
    rng = random.Random(seed)
    key = draw(st.sampled_from(["?v", "STR(?v)", "?k"] if kind != "mixed" else ["STR(?v)", "?k"]))
    tests = []
    for _ in range(draw(st.integers(0, 2))):
        operator = draw(st.sampled_from(_OPERATORS))
        if key == "?v":
            constant = _term(kind, rng)
        else:
            simple = f'"{_lexical("date" if kind == "mixed" else kind, rng)}"'
            constant = simple if draw(st.booleans()) else _term("mixed", rng)
        flipped = draw(st.booleans())
        tests.append(f"{constant} {operator} {key}" if flipped else f"{key} {operator} {constant}")
    other = draw(st.sampled_from(["", f" ?s <{Q}> <{EX}x> .", f" OPTIONAL {{ ?s <{Q}> ?o }}"]))
    bind = " BIND(STR(?v) AS ?k)" if key == "?k" else ""
    where = f"?s <{P}> ?v .{other}{bind}" + (f" FILTER({' && '.join(tests)})" if tests else "")
    order = f"{'DESC' if draw(st.booleans()) else 'ASC'}({key}) ?s ?v"
    offset = f" OFFSET {draw(st.integers(1, 5))}" if draw(st.booleans()) else ""
    slice_ = f"LIMIT {draw(st.integers(1, 12))}{offset}"
    distinct = "DISTINCT " if draw(st.booleans()) else ""
    query = f"SELECT {distinct}?s ?v WHERE {{ {where} }} ORDER BY {order} {slice_}"
    if draw(st.booleans()):  # as a sub-SELECT, joined with what is outside it
        query = f"SELECT * WHERE {{ {{ {query} }} OPTIONAL {{ ?s <{Q}> ?z }} }} ORDER BY ?s ?v ?z"
    return kind, seed, query


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_the_narrowed_query_gives_the_same_answer(case: tuple[str, int, str]) -> None:
    kind, seed, query = case
    note(query)
    store = _store(kind, seed, 40)
    prepared = _preparer(store).prepare(query)
    unplanned = QueryPreparer(base_iri=EX, engine=Engine.STANDARD).prepare(query).text
    expected = w3c.answer(store, unplanned, None)
    compared = 0
    for attempt in prepared.attempts:  # each attempt whose probes pass gives the answer
        if all(len(_rows(store, probe)) == rows for probe, rows in attempt.probes):
            assert same_answer(expected, w3c.answer(store, attempt.text, None), ordered=True), attempt.text
            compared += 1
    event(f"attempts compared: {compared}")


def _rows(store: ox.Store, text: str) -> list[ox.QuerySolution]:
    result = store.query(text)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def test_the_random_queries_are_narrowed_often() -> None:
    """Not a vacuous comparison: most random queries have a site, many an attempt that runs."""
    sites = ran = 0
    for example in range(200):
        kind, seed, query = _example(example)
        store = _store(kind, seed, 40)
        prepared = _preparer(store).prepare(query)
        sites += bool(prepared.attempts)
        ran += choose(store, prepared.attempts, prepared.text) != prepared.text
    assert sites >= 100 and ran >= 50, (sites, ran)


def _example(number: int) -> tuple[str, int, str]:
    rng = random.Random(number)
    kind = rng.choice(["date", "gYear", "integer", "string"])
    limit = rng.randint(1, 6)
    direction = rng.choice(["ASC", "DESC"])
    return kind, number, f"SELECT ?s ?v WHERE {{ ?s <{P}> ?v }} ORDER BY {direction}(?v) ?s LIMIT {limit}"


def test_made_up_predicates_are_not_kept(dates: ox.Store) -> None:
    """What a query process keeps of the release is bounded by the release: a client sending
    ORDER BY … LIMIT or text searches on predicates that do not exist leaves nothing behind."""
    ranks = ObjectRanks(dates, min_objects=0)
    texts = LiteralIndex(dates, min_literals=0)
    preparer = QueryPreparer(base_iri=EX)
    preparer.use_release(None, texts, ranks)
    for number in range(50):
        preparer.prepare(f"SELECT ?s WHERE {{ ?s <{EX}made-up-{number}> ?v FILTER(CONTAINS(?v, \"a\")) }} "
                         "ORDER BY ?v LIMIT 3")
    assert ranks.ranking(P, VALUE) is not None
    assert len(ranks._read) == 1 and len(texts._columns) == 0  # only <p>, which exists
