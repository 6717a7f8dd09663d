"""The planner on the W3C SPARQL 1.0 and 1.1 query-evaluation suites: every query runs with and
without the planner, on the test's data, and the answers must be the same (as multisets, in order
where ORDER BY fixes it, blank nodes up to renaming, graphs up to isomorphism). Where the engine
already gives the suite's expected result for the unplanned query, the planned one must too.
Without the suites (``/work/shared/reference/sparql-tests``, or ``LOD_SPARQL_TESTS``) these tests
skip.
"""

from __future__ import annotations

import pytest

from lod.query.planner import plan
from lod.query.prepare import QueryPreparer
from lod.query.ranks import ObjectRanks
from lod.rdf.statistics import count as count_statistics
from lod.sparql import ConstructQuery, DescribeQuery, SelectQuery, parse_query, serialize

from ..sparql import w3c
from .expected import expected, same_answer


def _cases() -> list[object]:
    found = w3c.cases(w3c.EVALUATION)
    if not found:
        absent = pytest.mark.skip(reason=f"W3C test suites not found at {w3c.SUITES}")
        return [pytest.param(None, marks=absent)]
    return [pytest.param(case, id=case.id) for case in found]


@pytest.mark.parametrize("case", _cases())
def test_the_planned_query_gives_the_same_answer(case: w3c.Case) -> None:
    query = parse_query(case.text(), base_iri=case.base_iri)
    if query.services():
        pytest.skip("SERVICE: the engine would fetch the endpoint")
    store = w3c.store_for(case, tuple(graph.value for graph in (*query.default_graphs, *query.named_graphs)))
    planned = plan(query, statistics=count_statistics(store))
    unplanned_answer = w3c.answer(store, serialize(query), None)
    planned_answer = w3c.answer(store, serialize(planned), None)
    ordered = isinstance(query, SelectQuery) and bool(query.order_by)
    assert same_answer(unplanned_answer, planned_answer, ordered=ordered), serialize(planned)
    wanted = expected(case, graph=isinstance(query, ConstructQuery | DescribeQuery))
    if wanted is not None and same_answer(wanted, unplanned_answer, ordered=ordered):
        assert same_answer(wanted, planned_answer, ordered=ordered)
    # ORDER BY … LIMIT from the first objects (lod.query.top): each attempt whose probes pass
    preparer = QueryPreparer(base_iri=case.base_iri or "http://example.org/")
    preparer.use_release(None, None, ObjectRanks(store, min_objects=0))
    for attempt in preparer.prepare(case.text()).attempts:
        if all(len(list(store.query(probe))) == rows for probe, rows in attempt.probes):
            assert same_answer(unplanned_answer, w3c.answer(store, attempt.text, None), ordered=ordered)


def test_the_suites_exercise_the_planner() -> None:
    """Not a vacuous comparison: the planner rewrites dozens of the suites' queries, and the
    engine gives the expected result for most of them without it."""
    cases = w3c.cases(w3c.EVALUATION)
    if not cases:
        pytest.skip(f"W3C test suites not found at {w3c.SUITES}")
    rewritten = passing = 0
    for case in cases:
        query = parse_query(case.text(), base_iri=case.base_iri)
        store = w3c.store_for(case, tuple(g.value for g in (*query.default_graphs, *query.named_graphs)))
        if query.services() or plan(query, statistics=count_statistics(store)) is query:
            continue
        rewritten += 1
        wanted = expected(case, graph=isinstance(query, ConstructQuery | DescribeQuery))
        ordered = isinstance(query, SelectQuery) and bool(query.order_by)
        unplanned_answer = w3c.answer(store, serialize(query), None)
        passing += wanted is not None and same_answer(wanted, unplanned_answer, ordered=ordered)
    assert rewritten >= 30 and passing >= 25, (rewritten, passing)
