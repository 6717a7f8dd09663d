"""``ORDER BY … LIMIT k`` evaluated from the first objects in the sort order (:func:`top_sites`).

Oxigraph sorts every solution before it takes the first k: "the 20 newest cooperations founded
between 2015 and 2020" evaluates, tests and sorts all 4,300 of them (55 ms at scale 1), where the
20 come from the newest two dozen dates. With the release's objects ranked by sort key
(:mod:`.ranks`), the query can be evaluated on those first: 1 ms.

A *site* is a SELECT (the query or a sub-SELECT) with ``LIMIT l`` (and perhaps ``OFFSET o``), no
grouping or aggregate, no REDUCED, whose first ORDER BY key K is, for a variable ?v that a triple
pattern ``?s <p> ?v`` of its WHERE group binds (variable subject, IRI predicate):

- ``STR(?v)``, or a variable bound by ``BIND(STR(?v) AS ?k)`` after that pattern in the group,
  ranked by lexical form; or
- ``?v`` itself, where the objects of <p> have a VALUE ranking (:mod:`.ranks`).

FILTERs of the group whose ``&&``-operands compare K with a constant of its kind (``<``, ``<=``,
``>``, ``>=``, ``=``) give the range; any other test is left to the engine. C, the objects of <p>
in the range with the highest keys (lowest for an ascending key), key by key, goes into the group
as ``VALUES ?v { C }``, as :mod:`.narrowing` places its VALUES.

Why the answer is the same, when the narrowed site has at least n = o + l solutions: every
solution of the group has ?v bound (the pattern binds it before the VALUES), so the narrowed
group's solutions are exactly those of the group whose ?v is in C (the argument of
:mod:`.narrowing`). Each solution outside C has a key below every key of C (descending; above,
ascending): C holds every object in the range from its last key on, and a solution whose ?v is
outside the range fails the FILTER. So in the ordered sequence of the site (SPARQL 1.1 §18.2.5:
ORDER BY, projection, DISTINCT, then the slice), the solutions from C come first and in the same
order; the first n of the whole sequence are those of the narrowed one when it has n. Whether it
has them depends on the data, so the narrowed site is a guess, checked before it runs: its
*probe*, the site narrowed with neither ORDER BY nor OFFSET and ``LIMIT n``, must give n rows
(the engine stops reading at n). When C is every object in the range, the narrowed site is the
site (nothing outside C passes the FILTER), and needs no probe.

Each :class:`Attempt` narrows every site with more objects than the one before; the executor runs
the first whose probes all give their rows, and the query as planned when none does
(:func:`choose`). Not narrowed: a site within ``LATERAL`` or ``EXISTS`` (whose solutions depend on
the row outside) or within ``GRAPH`` or ``SERVICE`` (on a graph the probe does not see), nor any
in a query that names its dataset.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import pyoxigraph as ox

from lod.query.narrowing import binding_pattern, end_of_run
from lod.query.ranks import LEXICAL, VALUE, Key, ObjectRanks, Ranking, value_key
from lod.sparql import (
    Aggregate,
    And,
    Binary,
    Bind,
    Call,
    Exists,
    Expression,
    Filter,
    Graph,
    Group,
    Lateral,
    Literal,
    Node,
    Query,
    SelectQuery,
    Service,
    Values,
    Var,
    transform,
    walk,
)
from lod.sparql.shapes import Marker
from lod.sparql.syntax import XSD_STRING

ROW_FACTORS = (4, 16, 64)
"""The attempts: the first objects whose triples number this many times n (each key whole)."""
MAX_TERMS = 256
"""An attempt narrows a site to at most this many objects: a longer VALUES is joined slower
than the sort it spares."""
MAX_ROWS = 1000
"""Nor a site whose o + l is larger."""

_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


@dataclass(frozen=True, slots=True)
class Attempt:
    """A text to run instead of the query where its probes pass."""

    text: str
    probes: tuple[tuple[str, int], ...]
    """Each probe's text and the rows it must give."""


@dataclass(frozen=True, slots=True)
class Site:
    """A site, its VALUES still a placeholder: one row, ``mark`` as the canonical text writes it."""

    mark: str
    probe: SelectQuery
    """The site narrowed, with neither ORDER BY nor OFFSET, and LIMIT ``rows``."""
    rows: int
    chunks: tuple[tuple[str, bool] | None, ...]
    """For each attempt: the rows of the VALUES, as text, and whether they are all the range."""


@dataclass(frozen=True, slots=True)
class _Found:
    select: SelectQuery
    variable: Var
    end: int
    """Where in the WHERE group the VALUES goes."""
    ranking: Ranking
    descending: bool
    low: tuple[Key, bool] | None
    high: tuple[Key, bool] | None
    rows: int


def may_have_top(text: str) -> bool:
    """Whether a query's canonical text may have a site (a shortcut for most queries)."""
    return "ORDER BY" in text and "LIMIT" in text


def top_sites(query: Query, ranks: ObjectRanks, marker: Marker) -> tuple[Query, tuple[Site, ...]] | None:
    """``query`` with a placeholder VALUES in each site whose predicate is ranked, and the sites;
    None where there is none. The VALUES are filled in after planning (:func:`attempts`): a
    long one would cost the planner more than its plan spares."""
    found: list[_Found] = []
    within: set[int] = set()  # the nodes inside a site: a site within a site is left as it is
    for select in _selects(query):
        if id(select) not in within and (site := _site(select, ranks)) is not None:
            found.append(site)
            within.update(id(node) for node in walk(select))
    if not found:
        return None
    narrowed: dict[int, SelectQuery] = {}
    sites: list[Site] = []
    for number, site in enumerate(found):
        mark = f"{marker.nonce}top{number}z"  # the nonce: no client's text has it; "top": no shape's slot
        select = narrowed[id(site.select)] = _narrowed(site, Literal(mark))
        chunks = tuple(site.ranking.first(descending=site.descending, low=site.low, high=site.high,
                                          rows=factor * site.rows, max_terms=MAX_TERMS)
                       for factor in ROW_FACTORS)
        probe = replace(select, order_by=(), offset=None, limit=site.rows, base_iri=query.base_iri)
        sites.append(Site(f'("{mark}")', probe, site.rows, chunks))
    return _replaced(query, narrowed), tuple(sites)


def attempts(text: str, probes: Sequence[str], sites: Sequence[Site]) -> tuple[Attempt, ...]:
    """The attempts for a query planned and written as ``text`` from :func:`top_sites`, each
    site's probe planned and written in ``probes``: the first narrows each site to the fewest
    objects, each next one to more, the last to all in the range where that is few enough (then
    without probes); none where the planner moved a placeholder out of its place."""
    if any(text.count(site.mark) != 1 or probe.count(site.mark) != 1
           for site, probe in zip(sites, probes, strict=True)):
        return ()
    found: list[Attempt] = []
    for level in range(len(ROW_FACTORS)):
        chunks = [site.chunks[level] for site in sites]
        if any(chunk is None for chunk in chunks):
            continue
        narrowed, checks = text, []
        for site, probe, chunk in zip(sites, probes, chunks, strict=True):
            assert chunk is not None
            rows, complete = chunk
            narrowed = narrowed.replace(site.mark, rows)
            if not complete:
                checks.append((probe.replace(site.mark, rows), site.rows))
        if found and found[-1].text == narrowed:
            continue
        found.append(Attempt(narrowed, tuple(checks)))
        if not checks:  # exact: nothing more to try
            break
    return tuple(found)


def choose(store: ox.Store, attempts: Sequence[Attempt], fallback: str) -> str:
    """The text of the first attempt whose probes all give their rows on ``store``; ``fallback``
    where none does."""
    for attempt in attempts:
        if all(_enough(store, probe, rows) for probe, rows in attempt.probes):
            return attempt.text
    return fallback


def _enough(store: ox.Store, probe: str, rows: int) -> bool:
    solutions = store.query(probe)
    assert isinstance(solutions, ox.QuerySolutions)  # a probe is a SELECT
    return sum(1 for _ in itertools.islice(solutions, rows)) == rows


def _selects(query: Query) -> Iterator[SelectQuery]:
    """The SELECTs of ``query`` that may be sites."""
    if query.default_graphs or query.named_graphs:
        return
    excluded = {id(inner) for node in walk(query) if isinstance(node, Lateral | Exists | Graph | Service)
                for inner in walk(node)}
    for node in walk(query):
        if isinstance(node, SelectQuery) and id(node) not in excluded and node.limit and node.order_by:
            yield node


def _site(select: SelectQuery, ranks: ObjectRanks) -> _Found | None:
    rows = (select.offset or 0) + (select.limit or 0)
    where = select.where
    if (select.group_by or select.having or select.reduced or rows > MAX_ROWS or not isinstance(where, Group)
            or any(isinstance(node, Aggregate) for part in (*(select.projection or ()), *select.order_by)
                   for node in walk(part))):
        return None
    elements = where.elements
    first = select.order_by[0]
    keyed = _key(first.expression, elements)
    if keyed is None:
        return None
    variable, alias, kind = keyed
    found = binding_pattern(elements, variable)
    if found is None:
        return None
    index, predicate = found
    if alias is not None and not any(isinstance(e, Bind) and e.variable == alias
                                     for e in elements[index + 1:]):
        return None  # bound before ?v: unbound in every row
    ranking = ranks.ranking(predicate, kind)
    if ranking is None:
        return None
    low: tuple[Key, bool] | None = None
    high: tuple[Key, bool] | None = None
    for operator, key in _bounds(elements, variable, alias, kind, ranking):
        if operator in (">", ">=", "=") and (low is None or (key, operator == ">") > (low[0], not low[1])):
            low = (key, operator != ">")
        if operator in ("<", "<=", "=") and (high is None or (key, operator != "<") < (high[0], high[1])):
            high = (key, operator != "<")
    return _Found(select, variable, end_of_run(elements, index), ranking, first.descending, low, high, rows)


def _key(expression: Expression, elements: Sequence[Node]) -> tuple[Var, Var | None, str] | None:
    """The variable an ORDER BY key ranks, the variable that holds ``STR`` of it (if the key is
    one), and the key's kind."""
    if isinstance(expression, Call) and expression.name == "STR" and len(expression.arguments) == 1 \
            and isinstance(expression.arguments[0], Var):
        return expression.arguments[0], None, LEXICAL
    if not isinstance(expression, Var):
        return None
    for element in elements:
        if isinstance(element, Bind) and element.variable == expression:
            bound = element.expression
            if isinstance(bound, Call) and bound.name == "STR" and len(bound.arguments) == 1 \
                    and isinstance(bound.arguments[0], Var):
                return bound.arguments[0], expression, LEXICAL
            return None
    return expression, None, VALUE


def _bounds(elements: Sequence[Node], variable: Var, alias: Var | None, kind: str,
            ranking: Ranking) -> Iterator[tuple[str, Key]]:
    """The comparisons of the key with a constant among the FILTERs' ``&&``-operands, as
    (operator, key) with the key on the left."""
    for element in elements:
        if not isinstance(element, Filter):
            continue
        for test in _conjuncts(element.expression):
            if not isinstance(test, Binary) or test.operator not in _FLIPPED:
                continue
            for side, other, operator in ((test.left, test.right, test.operator),
                                          (test.right, test.left, _FLIPPED[test.operator])):
                if _is_key(side, variable, alias, kind) and isinstance(other, Literal):
                    constant = _constant(other, kind, ranking)
                    if constant is not None:
                        yield operator, constant


def _conjuncts(expression: Expression) -> Iterator[Expression]:
    if isinstance(expression, And):
        for operand in expression.operands:
            yield from _conjuncts(operand)
    else:
        yield expression


def _is_key(expression: Expression, variable: Var, alias: Var | None, kind: str) -> bool:
    if kind == VALUE:
        return expression == variable
    return (alias is not None and expression == alias) or expression == Call("STR", (variable,))


def _constant(literal: Literal, kind: str, ranking: Ranking) -> Key | None:
    """The key of a constant compared with the key, where the engine compares them as the
    ranking does: a simple literal with ``STR``'s, a literal of the ranking's one datatype with
    the objects."""
    if kind == LEXICAL:
        return literal.value if literal.datatype == XSD_STRING and literal.language is None else None
    return value_key(literal, ranking.datatype or "")


def _narrowed(site: _Found, placeholder: Literal) -> SelectQuery:
    where = site.select.where
    assert isinstance(where, Group)
    elements = list(where.elements)
    elements.insert(site.end, Values((site.variable,), ((placeholder,),)))
    return replace(site.select, where=Group(tuple(elements)))


def _replaced(query: Query, narrowed: dict[int, SelectQuery]) -> Query:
    # By identity: no site lies within another, so no site is rebuilt before it is swapped.
    def swap(node: Node) -> Node:
        return narrowed.get(id(node), node)

    if id(query) in narrowed:
        return narrowed[id(query)]
    replaced = transform(query, swap)
    assert isinstance(replaced, Query)
    return replaced
