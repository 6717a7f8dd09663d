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
from lod.sparql import ConstructQuery, DescribeQuery, Query, SelectQuery, parse_query, serialize

from ..sparql import w3c
from .expected import expected


def _cases() -> list[object]:
    found = w3c.cases(w3c.EVALUATION)
    if not found:
        absent = pytest.mark.skip(reason=f"W3C test suites not found at {w3c.SUITES}")
        return [pytest.param(None, marks=absent)]
    return [pytest.param(case, id=case.id) for case in found]


def _same(first: object, second: object, *, ordered: bool) -> bool:
    """Whether two answers of :func:`w3c.answer` (or :func:`expected`) are the same; solutions
    are matched by variable name."""
    if isinstance(first, tuple) and len(first) == 2 and isinstance(first[1], list):
        if not (isinstance(second, tuple) and len(second) == 2 and isinstance(second[1], list)):
            return False
        (names, rows), (other_names, other_rows) = first, second
        if sorted(names) != sorted(other_names):
            return False
        position = [other_names.index(name) for name in names]
        aligned = [tuple(row[i] for i in position) for row in other_rows]
        return w3c.same_solutions(rows, aligned, ordered=ordered)
    return first == second


def _planned(case: w3c.Case) -> tuple[Query, Query]:
    query = parse_query(case.text(), base_iri=case.base_iri)
    if query.services():
        pytest.skip("SERVICE: the engine would fetch the endpoint")
    return query, plan(query)


@pytest.mark.parametrize("case", _cases())
def test_the_planned_query_gives_the_same_answer(case: w3c.Case) -> None:
    query, planned = _planned(case)
    store = w3c.store_for(case, tuple(graph.value for graph in (*query.default_graphs, *query.named_graphs)))
    unplanned_answer = w3c.answer(store, serialize(query), None)
    planned_answer = w3c.answer(store, serialize(planned), None)
    ordered = isinstance(query, SelectQuery) and bool(query.order_by)
    assert _same(unplanned_answer, planned_answer, ordered=ordered), serialize(planned)
    wanted = expected(case, graph=isinstance(query, ConstructQuery | DescribeQuery))
    if wanted is not None and _same(wanted, unplanned_answer, ordered=ordered):
        assert _same(wanted, planned_answer, ordered=ordered)


def test_the_suites_exercise_the_planner() -> None:
    """Not a vacuous comparison: the planner rewrites dozens of the suites' queries, and the
    engine gives the expected result for most of them without it."""
    cases = w3c.cases(w3c.EVALUATION)
    if not cases:
        pytest.skip(f"W3C test suites not found at {w3c.SUITES}")
    rewritten = passing = 0
    for case in cases:
        query = parse_query(case.text(), base_iri=case.base_iri)
        if query.services() or plan(query) is query:
            continue
        rewritten += 1
        store = w3c.store_for(case, tuple(g.value for g in (*query.default_graphs, *query.named_graphs)))
        wanted = expected(case, graph=isinstance(query, ConstructQuery | DescribeQuery))
        ordered = isinstance(query, SelectQuery) and bool(query.order_by)
        unplanned_answer = w3c.answer(store, serialize(query), None)
        passing += wanted is not None and _same(wanted, unplanned_answer, ordered=ordered)
    assert rewritten >= 30 and passing >= 25, (rewritten, passing)
