"""The planner on the benchmark's query mix at scale 0.1: the first queries of every class run
with and without the planner on the generated data (records mapped as `lod build` maps them, plus
the vocabulary), and the answers must be the same - as multisets, in order where ORDER BY fixes
it. DESCRIBE is left out (its answer is up to the engine, and the planner passes it by)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from lod.query.literals import LiteralIndex
from lod.query.planner import Engine
from lod.query.prepare import QueryPreparer
from lod.query.ranks import ObjectRanks
from lod.query.top import choose
from lod.rdf.statistics import count as count_statistics
from lod.vocab import QUERY_PREFIXES

from ..generated import generated_data, store_of
from ..sparql import w3c
from .expected import same_answer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from benchmarks import queries  # noqa: E402

PER_CLASS = 4
COMPARED = tuple(c for c in queries.CLASSES if c.form != "describe")


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> tuple[ox.Store, dict[str, list[str]]]:
    data = generated_data(tmp_path_factory.mktemp("mix") / "data", scale=0.1)
    return store_of(data), queries.sequences(data, length=PER_CLASS, classes=COMPARED)


@pytest.mark.parametrize("query_class", COMPARED, ids=lambda c: c.name)
def test_the_planned_query_gives_the_same_answer(mix: tuple[ox.Store, dict[str, list[str]]],
                                                  query_class: queries.QueryClass) -> None:
    store, texts = mix
    planned = QueryPreparer(base_iri=queries.BASE, prefixes=QUERY_PREFIXES)
    planned.use_release(count_statistics(store), LiteralIndex(store, min_literals=0),
                        ObjectRanks(store, min_objects=0))
    unplanned = QueryPreparer(base_iri=queries.BASE, prefixes=QUERY_PREFIXES, engine=Engine.STANDARD)
    answered = 0
    for text in texts[query_class.name]:
        unplanned_answer = w3c.answer(store, unplanned.prepare(text).text, None)
        prepared = planned.prepare(text)
        planned_answer = w3c.answer(store, choose(store, prepared.attempts, prepared.text), None)
        assert same_answer(unplanned_answer, planned_answer, ordered="ORDER BY" in text), text
        answered += unplanned_answer not in (False, frozenset()) and not (
            isinstance(unplanned_answer, tuple) and not unplanned_answer[1])
    assert answered, f"no query of {query_class.name} had an answer: the comparison says nothing"


def test_the_mix_exercises_the_planner(mix: tuple[ox.Store, dict[str, list[str]]]) -> None:
    """Not a vacuous comparison: the planner rewrites the queries of many classes."""
    store, texts = mix
    planned = QueryPreparer(base_iri=queries.BASE, prefixes=QUERY_PREFIXES)
    planned.use_release(count_statistics(store), LiteralIndex(store, min_literals=0),
                        ObjectRanks(store, min_objects=0))
    rewritten = {name for name, group in texts.items()
                 if any(planned.prepare(t).text != planned.prepare(t).original for t in group)}
    assert len(rewritten) >= 8, sorted(rewritten)
    from_first = {name for name, group in texts.items() for prepared in map(planned.prepare, group)
                  if choose(store, prepared.attempts, prepared.text) != prepared.text}
    assert {"date_window", "subselect_limit"} <= from_first, sorted(from_first)
