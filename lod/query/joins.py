"""The order of joins, chosen from the release's statistics: :func:`order_joins`.

Oxigraph orders the triple patterns of a group by their shape alone (which positions are bound),
without knowing the data. Where a group's selectivity lies in its data or in its FILTERs, it
starts from the wrong end and hash-joins patterns evaluated store-wide: the portal mix's
cooperations per topic among one Land's members took 430 ms at scale 1 as written, 180 ms
starting from the Land's members (measured in-process on 1.5 million triples); the date window
80 against 44 ms.

So for the triple patterns that open a group (those before its first element of another kind),
with the FILTERs of the group whose variables they bind, the planner picks an order greedily: the
pattern with the fewest estimated rows first, then always the pattern connected to what is bound
that adds the fewest; :mod:`.statistics` gives the counts, each FILTER that becomes evaluable
counts as keeping :data:`FILTER_SELECTIVITY` of the rows. The order is written as a chain that
Oxigraph evaluates as written, one step per pattern, each with the FILTERs it makes evaluable::

    { ?m ikz:ags ?a FILTER(STRSTARTS(?a, "09")) } LATERAL { ?x org:member ?m } LATERAL { ... }

Why the answer is the same
--------------------------
The patterns form a join of triple patterns J = Join(t1, ..., tn), filtered by the group's
FILTERs F at the end of the group (§18.2.2.6). Join is associative and commutative on multisets
of solutions, so any order of the ti gives J. ``{ A } LATERAL { t }`` evaluates t once per row r
of A with r's bindings passed down, which for a triple pattern is looking up the triples that
agree with r: Join(A, t) (case 1 of :mod:`.planner`). A FILTER f whose variables the patterns of
steps 1..k all bind, evaluated in step k, sees the row's values of those variables, which no later
element of the group changes (bindings are only ever extended); it removes the same rows as at
the end of the group, because Filter(f, Join(A, B)) = Join(Filter(f, A), B), and so for LeftJoin,
Minus and Extend, when A binds every variable of f. Conditions, each checked:

- the group is evaluated on its own (a query's or sub-SELECT's WHERE without trailing VALUES);
- the patterns have IRI or variable predicates (a path may be empty or repeat: left to the
  engine) and no blank nodes (a blank node is scoped to its basic graph pattern, which the steps
  would split);
- a FILTER moves only if it holds no EXISTS and mentions only variables of the patterns; the
  others stay where they are.

Only groups of at least :data:`MIN_PATTERNS` patterns are ordered, and only where the chosen
first pattern has no constant subject or object: Oxigraph starts from such a pattern too (it
favours bound positions), and then its own joins are faster than a chain (the benchmark's
count_per_land, which starts from one kind of cooperation: 40 ms of CPU per request as Oxigraph
orders it, 53 ms chained; cooperations_of 1.7 -> 2.2 ms). Its blind spot is a group whose selectivity
lies in FILTERs or in the data, where every pattern is of variables only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from lod.query.bindings import mentioned
from lod.rdf.statistics import Statistics
from lod.sparql import (
    IRI,
    AskQuery,
    BlankNode,
    ConstructQuery,
    DescribeQuery,
    Element,
    Exists,
    Filter,
    Group,
    Lateral,
    Node,
    Query,
    SelectQuery,
    TriplePattern,
    TriplesBlock,
    Var,
    transform,
    walk,
)

MIN_PATTERNS = 3
FILTER_SELECTIVITY = 0.3


Order = tuple[int, ...] | None
"""The order chosen for one WHERE: its opening patterns' positions in the order of the chain, or
None where it keeps its order."""


def join_orders(query: Query, statistics: Statistics | None) -> tuple[Order, ...]:
    """The order :func:`order_joins` chooses for each WHERE of ``query`` (the query's, then its
    sub-SELECTs', in the order of :func:`~lod.sparql.transform`)."""
    if statistics is None:
        return ()
    chosen: list[Order] = []

    def choose(node: Node) -> Node:
        where = _where(node)
        if where is not None:
            chosen.append(_choose(where, statistics))
        return node

    transform(query, choose)
    return tuple(chosen)


def order_joins(query: Query, orders: tuple[Order, ...]) -> Query:
    """``query`` with the opening triple patterns of each WHERE chained in the order
    :func:`join_orders` chose for it (on this query, or on one of the same shape:
    :mod:`lod.query.prepare` keeps one order per shape); ``query`` itself where that is none."""
    if not any(orders):
        return query
    pending = iter(orders)

    def order(node: Node) -> Node:
        where = _where(node)
        if where is None:
            return node
        chosen = next(pending, None)
        if chosen is None:
            return node
        assert isinstance(node, SelectQuery | ConstructQuery | DescribeQuery | AskQuery)
        return replace(node, where=_chained(where, chosen))

    ordered = transform(query, order)
    assert isinstance(ordered, Query)
    return ordered


def _where(node: Node) -> Group | None:
    """The WHERE of a query or sub-SELECT that is evaluated on its own (no trailing VALUES)."""
    if isinstance(node, SelectQuery | ConstructQuery | DescribeQuery | AskQuery) \
            and isinstance(node.where, Group) and node.values is None:
        return node.where
    return None


def _opening(group: Group) -> tuple[int, list[TriplePattern]]:
    """Where the group's opening run of triple patterns and FILTERs ends, and its patterns."""
    elements = group.elements
    end = next((i for i, e in enumerate(elements) if not isinstance(e, TriplesBlock | Filter)), len(elements))
    return end, [t for e in elements[:end] if isinstance(e, TriplesBlock) for t in e.triples]


def _movable_filters(group: Group, triples: Sequence[TriplePattern]) -> list[Filter]:
    variables = frozenset(v for t in triples for v in _variables(t))
    return [e for e in group.elements if isinstance(e, Filter) and _movable(e, variables)]


def _choose(group: Group, statistics: Statistics) -> Order:
    """The greedy order: the pattern with the fewest estimated rows first, then always the one
    connected to what is bound that adds the fewest (ties: the one written first)."""
    _end, triples = _opening(group)
    if len(triples) < MIN_PATTERNS or not all(_simple(t) for t in triples):
        return None
    waiting = _movable_filters(group, triples)
    remaining = list(range(len(triples)))
    bound: set[Var] = set()
    chosen: list[int] = []
    while remaining:
        connected = [i for i in remaining if bound & set(_variables(triples[i]))] or remaining
        best = min(connected, key=lambda i: _rows(
            triples[i], bound, _evaluable(waiting, bound | set(_variables(triples[i]))), statistics))
        remaining.remove(best)
        chosen.append(best)
        bound |= set(_variables(triples[best]))
        waiting = [f for f in waiting if not mentioned(f) <= bound]
    first = triples[chosen[0]]
    if not (isinstance(first.subject, Var) and isinstance(first.object, Var)):
        return None  # the engine, too, starts from a pattern with a constant, and joins faster
    return tuple(chosen)


def _chained(group: Group, order: tuple[int, ...]) -> Group:
    """The group with its opening patterns as a chain in ``order``, one step per pattern, each
    with the FILTERs that become evaluable with it; the first step a group, the others LATERAL."""
    end, triples = _opening(group)
    movable = _movable_filters(group, triples)
    waiting = list(movable)
    bound: set[Var] = set()
    steps: list[Element] = []
    for index in order:
        bound |= set(_variables(triples[index]))
        here = _evaluable(waiting, bound)
        waiting = [f for f in waiting if not any(f is h for h in here)]
        step = Group((TriplesBlock((triples[index],)), *here))
        steps.append(step if not steps else Lateral(step))
    kept = tuple(e for i, e in enumerate(group.elements)
                 if not (i < end and isinstance(e, TriplesBlock)) and not any(e is f for f in movable))
    return Group((*steps, *kept))


def _simple(triple: TriplePattern) -> bool:
    return isinstance(triple.predicate, IRI | Var) and not any(
        isinstance(term, BlankNode) for term in (triple.subject, triple.object))


def _variables(triple: TriplePattern) -> tuple[Var, ...]:
    return tuple(term for term in (triple.subject, triple.predicate, triple.object) if isinstance(term, Var))


def _movable(element: Filter, variables: frozenset[Var]) -> bool:
    used = mentioned(element)
    return bool(used) and used <= variables and not any(isinstance(n, Exists) for n in walk(element))


def _evaluable(filters: Sequence[Filter], bound: set[Var]) -> list[Filter]:
    return [f for f in filters if mentioned(f) <= bound]


def _rows(triple: TriplePattern, bound: set[Var], filters: Sequence[Filter], statistics: Statistics) -> float:
    """The estimated rows ``triple`` gives per row of what is bound, after ``filters``."""
    def fixed(term: object) -> bool:
        return not isinstance(term, Var) or term in bound

    predicate = triple.predicate
    counts = statistics.predicates.get(predicate.value) if isinstance(predicate, IRI) else None
    if counts is not None:
        triples, subjects, objects = counts.triples, counts.subjects, counts.objects
    elif isinstance(predicate, IRI):  # no such triple in the release: nothing to join
        return 0.0
    else:
        triples = statistics.triples
        subjects = objects = max(1, statistics.triples // 10)
    rows = float(triples)
    if isinstance(triple.object, IRI) and counts is not None and counts.per_object:
        rows = float(counts.per_object.get(triple.object.value, 0))
    elif fixed(triple.object):
        rows /= max(1, objects)
    if fixed(triple.subject):
        rows /= max(1, subjects)
    return rows * FILTER_SELECTIVITY ** len(filters)
