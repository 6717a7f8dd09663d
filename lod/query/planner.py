"""The query planner: rewrite a query into a form its engine evaluates well, only where the
answer is provably the same.

:func:`plan` takes the syntax tree the preparer decided on and returns the tree to run. Rewrites
belong to an engine (:class:`Engine`): any other store than Oxigraph (:attr:`Engine.STANDARD`)
gets the query unchanged. For Oxigraph, four rewrites, each where it is proven:

- ``OPTIONAL { P }`` and ``MINUS { Q }`` after a pattern that binds their join variables become
  ``LATERAL { OPTIONAL { P } }`` and ``LATERAL { MINUS { Q } }``, evaluated per row (this module);
- the pattern of ``FILTER (NOT) EXISTS`` becomes a chain of per-row lookups (:mod:`.exists`);
- a FILTER on a BIND's variable is written on the BIND's expression, so that the engine can push
  it down (:mod:`.binds`);
- the triple patterns that open a group are chained in the order the release's statistics favour
  (:mod:`.joins`).

A fifth needs the store itself and is made by the preparer after these: text FILTERs narrowed to
the literals that may pass them (:mod:`.narrowing`).

What Oxigraph 0.5 does badly (measured, issue #12)
--------------------------------------------------
Oxigraph evaluates ``OPTIONAL { P }`` as a hash left join that evaluates P over the whole store,
unless its optimiser finds P "fit for a for-loop join" (a triple pattern, a path, VALUES, or
UNION/FILTER/BIND/nested OPTIONAL of those) *and* P shares a variable that every row of the left
side binds. Anything else - P with a sub-SELECT, MINUS, DISTINCT, a join it cannot turn into a
loop, a UNION whose branches bind different variables, or a join variable that an earlier
OPTIONAL binds - makes it evaluate P store-wide: 0.14-1.3 s where the same query with
``LATERAL { OPTIONAL { P } }`` takes 0.2-0.4 ms (100,000 memberships, 50 rows on the left).
``MINUS { Q }`` is always a hash anti-join that evaluates Q store-wide (125-255 ms against
0.5 ms for ``LATERAL { MINUS { Q } }``). The pattern of ``FILTER (NOT) EXISTS`` is evaluated
per row, but is never join-ordered: a pattern of two or more triples is hash-joined with each
triple evaluated store-wide, once per row (1-4.7 s for 50 rows); :mod:`.exists` writes it as a
chain of per-row lookups starting from the row's bindings. (Oxigraph's own choice of a for-loop
join checks what cases 4 and 5 below check, for the variables its left side certainly binds.)

How LATERAL evaluates (Oxigraph's ``spareval``, read in its source and checked by the tests)
-------------------------------------------------------------------------------------------
``{ A LATERAL { R } }`` evaluates R once per solution r of A, with r's bindings passed down as
the input of every operator of R: a triple pattern looks up only triples that agree with r;
VALUES keeps the rows compatible with r; a join, a union and a hash left join pass r to both
sides; FILTER and BIND evaluate their expression on rows that carry r; BIND *overwrites* a
variable r binds; MINUS evaluates its right side with r and removes a row when a right row is
compatible with it and shares a variable - which r's variables always are; a sub-SELECT passes
on only the variables it projects and merges its rows back into r where compatible (so its LIMIT,
DISTINCT and aggregates see the restricted input). For ``LATERAL { OPTIONAL { P } FILTER }``
with nothing before the OPTIONAL it runs a for-loop left join: per r, the rows of P evaluated
with r and filtered by the OPTIONAL's condition, or r alone when there are none.

So write eval(R, r) for R evaluated with the bindings of a row r passed down, and r+s for the
merge of two compatible solutions. Then ``LATERAL { OPTIONAL { P } }``
after A gives, per r of A, Filter(F, eval(P', r)) or r alone (P' the OPTIONAL's group without its
FILTERs, F their conjunction), and SPARQL 1.1 §18.5 gives LeftJoin(A, eval(P'), F): per r,
r+s for each s of P' compatible with r with F(r+s) true, or r alone. Both evaluate F on r+s, so
the two agree exactly when, for every r the left side can produce,

    eval(P', r) = { r+s | s a solution of P' compatible with r }            (substitution-safe)

as multisets. A pattern with this property is *substitution-safe* for the variables L that A
may bind (its scope, §18.2.1). Whether L's variables are bound in every row does not matter
here: a row that leaves ?x unbound passes nothing for it, on both sides. By induction over P'
(:func:`~.bindings.substitution_obstacle` checks each case; "certainly bound" means bound in
every solution, :func:`~.bindings.certainly_bound`):

1. A triple pattern is safe: looking up triples that agree with r is joining with r. Except a
   path that may be empty (``p*``, ``p?``): with ?x unbound, ``?x p* ?y`` yields zero-length
   pairs only for the graph's nodes; given a term for ?x that is no node (a predicate, a BIND's
   value), §18.4 yields that term too (Oxigraph 0.5 does not, but the planner does not rely on
   a departure). So no nullable path may end at a variable of L.
2. Join, UNION, GRAPH, VALUES: safe when their parts are (each passes r on and is compatible).
3. A FILTER of a group inside P' sees r's variables where the standard evaluation, which
   filters the group alone, sees them unbound: every variable it refers to (including inside
   EXISTS) that is in L must be certainly bound by its group. The OPTIONAL's own FILTERs are
   exempt: they are the LeftJoin's condition, evaluated on r+s by both.
4. ``BIND(e AS ?v)``: ?v must not be in L (Oxigraph overwrites, SPARQL would find the rows
   incompatible), and e's variables in L must be certainly bound before it.
5. A nested ``OPTIONAL { Q }`` after B inside P': evaluated with r, Q's rows must agree with r
   on a variable that B leaves unbound, while alone, a row of Q that disagrees with r still keeps
   B's row from standing alone. So Q's variables in L must be certainly bound by B (P is well
   designed with respect to the left side), Q must be safe, and the nested OPTIONAL's FILTERs
   may refer to variables of L only where B or Q certainly binds them.
6. ``MINUS { Q }`` after B: Q's variables in L certainly bound by B (else a row of Q that
   disagrees with r removes B's row in SPARQL but not here), Q safe, and B and Q must certainly
   share a variable: with r passed down every row shares r's variables, so Oxigraph removes rows
   that SPARQL keeps because they share no variable with Q.
7. A sub-SELECT: safe when it mentions no variable of L. One it projects would have its LIMIT,
   DISTINCT or aggregates see only r's part of the input; and Oxigraph puts r's values into the
   sub-SELECT wherever they occur, also where it does not project them and SPARQL leaves them
   unbound (``{ SELECT * WHERE { FILTER BOUND(?a) } }`` is empty alone, one row under LATERAL).
8. SERVICE and a LATERAL of the query's own: not rewritten.
9. Oxigraph's parser refuses a LATERAL whose pattern assigns (BIND, VALUES, a sub-SELECT's
   ``AS``) a variable that the left side may bind: such a pattern is not rewritten either
   (:func:`~.bindings.assigned`). A VALUES of other variables is safe (case 2).

Blank nodes of P are local to P's basic graph patterns (§4.1.4; the parser refuses a label used
in two of them), so no left side binds them: they are like variables outside L.

``LATERAL { MINUS { Q } }`` after A removes a row r of A when eval(Q, r) has a row: each is
compatible with r and, carrying r's bindings, shares r's variables. SPARQL removes r when Q has a
row compatible with r that shares a variable with it. With Q substitution-safe, eval(Q, r) holds
r+s for each s of Q compatible with r, so the two agree when every such s shares a variable with
r: when A and Q certainly share a variable.

When to rewrite, so that it helps
---------------------------------
- P must join the left side: a variable of L in one of P's triple patterns (not only under its
  OPTIONAL, MINUS or FILTER), so every per-row evaluation is an index lookup. Without one,
  LATERAL would evaluate P store-wide once per row. Then the work per row is the rows it
  yields, which are the answer's (or rows the OPTIONAL's FILTER rejects).
- Nothing that joins may follow in the group. ``LATERAL`` fixes the order: what precedes it is
  evaluated first, whole. For ``{ ?m :member ?o OPTIONAL { P } ?m :organization <c> }``
  Oxigraph joins the selective pattern first (0.26 ms); written as a LATERAL after the first
  triple it would evaluate that triple for every membership (333 ms). So the planner first
  moves a joining element that follows an OPTIONAL in front of it, where that is equivalent:
  Join(LeftJoin(A, P, F), E) = LeftJoin(Join(A, E), P, F) when every variable E may bind that P
  or F mentions is certainly bound by A (then a row of P agrees with E wherever it agrees with
  A, and F sees the same values); E is evaluated alone either way (a triples block, group,
  UNION, GRAPH, VALUES or sub-SELECT). Only FILTERs (applied to the whole group wherever they
  stand), OPTIONAL, LATERAL, BIND and MINUS may follow a rewritten OPTIONAL.
- The group is evaluated alone, not once per row of something else: the WHERE clause of a query
  (without a trailing VALUES, which is joined afterwards), of a sub-SELECT (Oxigraph never loops
  over a sub-SELECT), or a group, UNION branch or GRAPH pattern that stands alone in such a
  group (only FILTERs before it; only FILTER, OPTIONAL, LATERAL, BIND, MINUS after it).

Everything else is left as it is; so is a query whose planned form would nest past the depth the
parser allows the engine's stack (:func:`~lod.sparql.engine_depth`): each LATERAL adds a group.

>>> from lod.sparql import parse_query, serialize
>>> query = parse_query("SELECT * { ?m <http://e/org> <http://e/c> "
...                     "OPTIONAL { ?m <http://e/during> ?i . ?i <http://e/start> ?s } }")
>>> serialize(plan(query)).replace("<http://e/", "<")
'SELECT * WHERE { ?m <org> <c> . LATERAL { OPTIONAL { ?m <during> ?i . ?i <start> ?s . } } }'
>>> plan(query, engine=Engine.STANDARD) is query
True
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import replace

from lod.query.bindings import (
    anchors,
    assigned,
    body_and_condition,
    certainly_bound,
    mentioned,
    pattern_obstacle,
    possibly_bound,
    substitution_obstacle,
)
from lod.query.binds import inline_binds
from lod.query.exists import chain_exists
from lod.query.joins import Order, join_orders, order_joins
from lod.rdf.statistics import Statistics
from lod.sparql import (
    LIMITS,
    Bind,
    Element,
    Filter,
    Graph,
    Group,
    Lateral,
    Minus,
    Optional,
    Pattern,
    Query,
    SelectQuery,
    Service,
    TriplesBlock,
    Union,
    Values,
    Var,
    engine_depth,
)


class Engine(enum.Enum):
    """The engine a planned query is for."""

    OXIGRAPH = "oxigraph"
    """Oxigraph (pyoxigraph, the embedded store): gets its extension LATERAL where it is proven
    to give the same answer, and EXISTS patterns as per-row lookups."""
    STANDARD = "standard"
    """Any SPARQL 1.1 store (a remote one): gets the query unchanged."""


def plan(query: Query, *, engine: Engine = Engine.OXIGRAPH, statistics: Statistics | None = None) -> Query:
    """The query to give ``engine``: the same answer as ``query`` on every dataset, in a form the
    engine evaluates well; ``statistics`` of the data let it choose the order of joins
    (:mod:`.joins`). Returns ``query`` itself where there is nothing to rewrite."""
    return plan_with_orders(query, engine=engine, statistics=statistics)[0]


def plan_with_orders(query: Query, *, engine: Engine = Engine.OXIGRAPH, statistics: Statistics | None = None,
                     orders: tuple[Order, ...] | None = None) -> tuple[Query, tuple[Order, ...]]:
    """:func:`plan`, and the orders of joins it chose; given ``orders`` (chosen for a query of the
    same shape), it takes those instead of choosing."""
    if engine is Engine.STANDARD:
        return query, ()
    inlined = inline_binds(query)
    if orders is None:
        orders = join_orders(inlined, statistics)
    planned = chain_exists(_query(order_joins(inlined, orders)))
    # LATERAL nests a group or two deeper: a query at the parser's limit of what the engine's
    # stack takes (lod.sparql.limits) runs as the client wrote it rather than past that limit.
    if planned is not query and engine_depth(planned) > LIMITS["max_engine_depth"]:
        return query, ()
    return planned, orders


# Elements that join the rows before them (a LATERAL fixed after them would keep the engine from
# joining them first); after a rewritten OPTIONAL only the others may stand.
_JOINING = (TriplesBlock, Group, Union, Graph, Values, SelectQuery, Service)
# Those evaluated alone wherever they stand, which may move in front of an OPTIONAL.
_MOVABLE = (TriplesBlock, Group, Union, Graph, Values, SelectQuery)
_AFTER_ALONE = (Filter, Optional, Lateral, Bind, Minus)
# A group with none of these has nothing to plan (most light queries: triples and FILTERs).
_PLANNED = (Optional, Minus, Group, Union, Graph, SelectQuery)


def _query(query: Query) -> Query:
    where = query.where
    alone = query.values is None
    planned = _pattern(where) if isinstance(where, SelectQuery) else _group(where, alone)
    return query if planned is where else replace(query, where=planned)


def _group(group: Group, alone: bool) -> Group:
    """The group with its OPTIONALs and MINUSes rewritten where that is proven and helps;
    ``alone``: whether the engine evaluates it alone (not once per row of something else)."""
    if not any(isinstance(element, _PLANNED) for element in group.elements):
        return group
    elements = list(group.elements)
    for index, element in enumerate(elements):
        elements[index] = _inside(element, alone and _stands_alone(elements, index))
    if alone:
        elements = _move_joins_forward(elements)
        for index, element in enumerate(elements):
            if isinstance(element, Optional | Minus) and rewrite_obstacle(elements, index) is None:
                elements[index] = Lateral(Group((element,)))
    if all(new is old for new, old in zip(elements, group.elements, strict=False)) \
            and len(elements) == len(group.elements):
        return group
    return Group(tuple(elements))


def _inside(element: Element, alone: bool) -> Element:
    """``element`` with the groups inside it planned (those the engine evaluates alone)."""
    if isinstance(element, SelectQuery):
        planned = _query(element)
        assert isinstance(planned, SelectQuery)
        return planned
    if not alone:
        return element
    if isinstance(element, Group):
        return _group(element, True)
    if isinstance(element, Union):
        branches = tuple(_pattern(branch) for branch in element.branches)
        changed = any(new is not old for new, old in zip(branches, element.branches, strict=True))
        return Union(branches) if changed else element
    if isinstance(element, Graph):
        pattern = _pattern(element.pattern)
        return element if pattern is element.pattern else replace(element, pattern=pattern)
    return element


def _pattern(pattern: Pattern) -> Pattern:
    if isinstance(pattern, SelectQuery):
        planned = _query(pattern)
        assert isinstance(planned, SelectQuery)
        return planned
    return _group(pattern, True)


def _stands_alone(elements: Sequence[Element], index: int) -> bool:
    """Whether the element at ``index`` is evaluated alone: nothing is joined with it."""
    return all(isinstance(element, Filter) for element in elements[:index]) \
        and all(isinstance(element, _AFTER_ALONE) for element in elements[index + 1:])


def _move_joins_forward(elements: list[Element]) -> list[Element]:
    """Each joining element that follows OPTIONALs moved in front of them, as far as that is
    equivalent (see the module docstring)."""
    result: list[Element] = []
    for element in elements:
        result.append(element)
        if not isinstance(element, _MOVABLE):
            continue
        binds: frozenset[Var] | None = None
        position = len(result) - 1
        while True:
            before = position - 1
            while before >= 0 and isinstance(result[before], Filter):
                before -= 1
            if before < 0 or not isinstance(result[before], Optional):
                break
            if binds is None:
                binds = possibly_bound(element)
            # (FILTERs bind nothing: the group of what precedes certainly binds what its other elements do.)
            if binds & mentioned(result[before]) - certainly_bound(Group(tuple(result[:before]))):
                break
            result.insert(before, result.pop(position))
            position = before
    return result


def rewrite_obstacle(elements: Sequence[Element], index: int) -> str | None:
    """Why the OPTIONAL or MINUS at ``index`` of a group that the engine evaluates alone is not
    written as ``LATERAL { ... }``; None when it is."""
    element = elements[index]
    if isinstance(element, Optional) and any(isinstance(e, _JOINING) and not (isinstance(e, TriplesBlock)
                                                                             and not e.triples)
                                             for e in elements[index + 1:]):
        return "a pattern that joins follows it in the group (the engine would join that first)"
    left = Group(tuple(elements[:index]))  # its FILTERs bind nothing
    outer = possibly_bound(left)
    overridden = assigned(element) & outer
    if overridden:
        return (f"it assigns {', '.join(sorted('?' + v.name for v in overridden))} (BIND, VALUES), which "
                "the left side may bind: Oxigraph refuses such a LATERAL")
    if isinstance(element, Optional):
        body, _condition = body_and_condition(element.pattern)
        if not anchors(body) & outer:
            return "none of its triple patterns has a variable the left side binds"
        return substitution_obstacle(body, outer)
    assert isinstance(element, Minus)
    pattern = element.pattern
    if isinstance(pattern, SelectQuery) or not anchors(pattern.elements) & outer:
        return "none of its triple patterns has a variable the left side binds"
    if not certainly_bound(left) & certainly_bound(pattern):
        return "it may share no variable with the left side"
    return pattern_obstacle(pattern, outer)
