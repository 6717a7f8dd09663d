"""The order of joins (lod.query.joins): chosen from a release's statistics, written as a chain of
LATERAL steps, each FILTER in the first step that binds its variables; never where it is not
proven; and kept per query shape. That the answers stay the same is tested on random queries
(test_plan_properties), the W3C suites (test_w3c_plans) and the benchmark's mix
(test_benchmark_plans), each planned with the statistics of its own data."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

import lod.query.prepare
from lod.query.planner import plan
from lod.query.prepare import QueryPreparer
from lod.rdf.statistics import Statistics, count, read, write
from lod.sparql import Filter, Group, Lateral, TriplesBlock, parse_query, serialize

EX = "http://example.org/"
PREFIX = f"PREFIX : <{EX}> "


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """1,000 memberships of 100 organisations in 50 cooperations; 10 organisations have a key."""
    store = ox.Store()
    def iri(name: str) -> ox.NamedNode:
        return ox.NamedNode(EX + name)
    for n in range(1000):
        m = iri(f"m{n}")
        store.add(ox.Quad(m, iri("member"), iri(f"org{n % 100}")))
        store.add(ox.Quad(m, iri("organization"), iri(f"coop{n % 50}")))
        store.add(ox.Quad(m, iri("type"), iri("Membership")))
    for n in range(10):
        store.add(ox.Quad(iri(f"org{n}"), iri("key"), ox.Literal(f"09{n}")))
    return store


@pytest.fixture(scope="module")
def statistics(store: ox.Store) -> Statistics:
    return count(store)


def test_statistics_count_the_data(statistics: Statistics) -> None:
    member = statistics.predicates[EX + "member"]
    assert (member.triples, member.subjects, member.objects) == (1000, 1000, 100)
    assert statistics.predicates[EX + "type"].per_object == {EX + "Membership": 1000}
    assert statistics.triples == 3010


def test_statistics_are_kept_beside_the_store(statistics: Statistics, tmp_path: Path) -> None:
    directory = tmp_path
    assert read(directory) is None  # a release built before: the engine orders the joins
    write(statistics, directory)
    assert read(directory) == statistics
    (directory / "plan-statistics.json").write_text("{", encoding="utf-8")
    assert read(directory) is None


def test_the_most_selective_pattern_goes_first_with_its_filter(statistics: Statistics) -> None:
    query = parse_query(PREFIX + 'SELECT * { ?m :type :Membership ; :organization ?c ; :member ?o . '
                                 '?o :key ?k FILTER(STRSTARTS(?k, "09")) FILTER(?c != :coop1) }')
    planned = plan(query, statistics=statistics)
    where = planned.where
    assert isinstance(where, Group)
    first, *rest = where.elements
    assert isinstance(first, Group) and all(isinstance(step, Lateral) for step in rest)
    steps = [first, *(step.pattern for step in rest if isinstance(step, Lateral))]
    predicates = [s.elements[0].triples[0].predicate.value for s in steps  # type: ignore[union-attr]
                  if isinstance(s, Group) and isinstance(s.elements[0], TriplesBlock)]
    # 10 keys, 10 memberships each, then the cooperation of each and its type.
    assert predicates == [EX + "key", EX + "member", EX + "organization", EX + "type"]
    filters = [[repr(e.expression) for e in s.elements if isinstance(e, Filter)]  # type: ignore[union-attr]
               for s in steps]
    assert filters[0] and "STRSTARTS" in filters[0][0]
    assert filters[2] and "coop1" in filters[2][0] and not filters[1] and not filters[3]


def test_the_chain_answers_the_same(store: ox.Store, statistics: Statistics) -> None:
    text = PREFIX + ('SELECT ?o ?c { ?m :type :Membership ; :organization ?c ; :member ?o . '
                     '?o :key ?k FILTER(STRSTARTS(?k, "09")) } ORDER BY ?o ?c')
    query = parse_query(text)
    planned = serialize(plan(query, statistics=statistics))
    assert "LATERAL" in planned
    unplanned_rows = [tuple(row) for row in store.query(serialize(query))]  # type: ignore[union-attr]
    planned_rows = [tuple(row) for row in store.query(planned)]  # type: ignore[union-attr]
    assert planned_rows == unplanned_rows and len(planned_rows) == 100


@pytest.mark.parametrize("text", [
    "SELECT * { ?m :member ?o ; :organization ?c }",                         # two patterns
    "SELECT * { ?m :member :org1 ; :organization ?c . ?c :type ?t }",       # starts from a constant
    "SELECT * { ?m :member/:key ?k ; :organization ?c . ?c :type ?t }",      # a path
    "SELECT * { _:m :member ?o ; :organization ?c . ?c :type ?t }",          # a blank node
    "SELECT * { ?m :member ?o ; :organization ?c . ?c :type ?t } VALUES ?o { :org1 }",  # joined with VALUES
])
def test_left_to_the_engine(statistics: Statistics, text: str) -> None:
    query = parse_query(PREFIX + text)
    assert plan(query, statistics=statistics) is query


def test_without_statistics_the_engine_orders_the_joins() -> None:
    query = parse_query(PREFIX + "SELECT * { ?m :member ?o ; :organization ?c . ?o :key ?k }")
    assert plan(query) is query


def test_a_filter_on_a_variable_bound_later_stays_in_the_group(statistics: Statistics) -> None:
    query = parse_query(PREFIX + "SELECT * { ?m :member ?o ; :organization ?c . ?o :key ?k "
                                 "FILTER(!BOUND(?r)) OPTIONAL { ?m :role ?r } }")
    where = plan(query, statistics=statistics).where
    assert isinstance(where, Group)
    assert any(isinstance(e, Filter) and "BOUND" in repr(e.expression) for e in where.elements)


def test_a_learnt_shape_keeps_the_order_chosen_for_it(statistics: Statistics,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A query shape (lod.sparql.shapes) is learnt with the order of the query it was learnt on,
    and its later queries are written from it without being parsed."""
    preparer = QueryPreparer(base_iri=EX)
    preparer.use_release(statistics)
    template = PREFIX + 'SELECT * {{ ?m :organization <{c}> ; :member ?o . ?o :key ?k FILTER(?k != "{k}") }}'
    first = preparer.prepare(template.format(c=EX + "coop1", k="1"))
    preparer.prepare(template.format(c=EX + "coop2", k="2"))
    assert "LATERAL" in first.text
    parsed: list[str] = []
    parse = lod.query.prepare.parse_query
    monkeypatch.setattr(lod.query.prepare, "parse_query",
                        lambda text, **options: parsed.append(text) or parse(text, **options))
    later = preparer.prepare(template.format(c=EX + "coop3", k="3"))
    assert parsed == []
    assert later.text == first.text.replace("coop1", "coop3").replace('"1"', '"3"')


def test_new_statistics_forget_what_was_prepared(statistics: Statistics) -> None:
    preparer = QueryPreparer(base_iri=EX)
    text = PREFIX + "SELECT * { ?m :member ?o ; :organization ?c . ?o :key ?k }"
    assert "LATERAL" not in preparer.prepare(text).text
    preparer.use_release(statistics)
    assert "LATERAL" in preparer.prepare(text).text
