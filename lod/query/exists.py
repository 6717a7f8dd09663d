"""EXISTS patterns as per-row lookups, for Oxigraph: :func:`chain_exists`.

Oxigraph 0.5 evaluates the pattern of ``FILTER (NOT) EXISTS { ... }`` once per row with that
row's bindings, but never orders its joins: ``EXISTS { ?m :during ?i . ?i :start ?d }`` is a hash
join whose sides are each evaluated with the row's bindings, so the second triple is looked up
store-wide for every row (about 20 ms per row with 100,000 intervals). Written as
``EXISTS { ?m :during ?i LATERAL { ?i :start ?d } }`` it is one index lookup after another.

The rewrite, for an EXISTS pattern made only of triple patterns and FILTERs:

- Sequence paths are written out as SPARQL 1.1 §18.2.2.4 defines them (``?a p/q ?b`` is
  ``?a p ?v . ?v q ?b`` with a fresh ?v), inverse links turned round, and blank nodes replaced by
  fresh variables: in an EXISTS pattern neither is ever seen outside, and EXISTS asks only
  whether a solution exists, so a fresh variable is the existential a blank node is.
- The triples are put in an order that starts from what the row binds: next, always the triple
  with most variables bound already (those every row of the FILTER's group binds, then those of
  the triples before), then most constants; ties in the order written.
- Each step after the first is a ``LATERAL { t FILTER ... }``; evaluating a triple pattern with a
  row's bindings is joining it with the row (no path in the pattern may be empty, see
  :mod:`.planner`), so the chain's solutions are the join's. Each FILTER goes to the first step
  after which every variable it mentions that a triple binds is bound: there it sees the values
  it would see at the end, and a FILTER commutes with the joins after it.

The answer is the same on every dataset whatever order is chosen; the order decides only the
cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from lod.query.bindings import certainly_bound, mentioned, nullable
from lod.sparql import (
    IRI,
    And,
    Binary,
    BlankNode,
    Call,
    Element,
    Exists,
    Expression,
    Filter,
    FunctionCall,
    Graph,
    Group,
    InversePath,
    Lateral,
    Minus,
    Optional,
    Or,
    Path,
    Pattern,
    Query,
    SelectQuery,
    SequencePath,
    Service,
    TermOrVar,
    TriplePattern,
    TriplesBlock,
    Unary,
    Union,
    Var,
    walk,
)


def chain_exists(query: Query) -> Query:
    """``query`` with the pattern of every ``FILTER (NOT) EXISTS`` that is a join of two or more
    triple patterns (and FILTERs) written as a chain of per-row lookups; ``query`` itself when
    there is none. (EXISTS in BIND, SELECT, HAVING or ORDER BY is left as it is.)"""
    return _Chainer(query).query(query)


class _Chainer:
    """Walks the patterns of a query (only the patterns: expressions are looked into only where a
    FILTER holds an EXISTS), rebuilding only what changes."""

    def __init__(self, query: Query) -> None:
        self.root = query
        self.taken: set[str] | None = None  # the query's variable names, once a fresh one is needed
        self.count = 0

    def fresh(self) -> Var:
        """A variable used nowhere in the query."""
        if self.taken is None:
            self.taken = {found.name for found in walk(self.root) if isinstance(found, Var)}
        while True:
            self.count += 1
            name = f"exists{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return Var(name)

    def query(self, query: Query) -> Query:
        where = self.pattern(query.where)
        return query if where is query.where else replace(query, where=where)

    def pattern(self, pattern: Pattern) -> Pattern:
        if isinstance(pattern, SelectQuery):
            planned = self.query(pattern)
            assert isinstance(planned, SelectQuery)
            return planned
        return self.group(pattern)

    def group(self, group: Group) -> Group:
        elements = list(group.elements)
        bound: frozenset[Var] | None = None
        for index, element in enumerate(elements):
            if isinstance(element, Filter):
                if not _has_exists(element.expression):
                    continue
                if bound is None:  # what every row the FILTER sees binds (FILTERs bind nothing)
                    bound = certainly_bound(group)
                expression = self.expression(element.expression, bound)
                if expression is not element.expression:
                    elements[index] = Filter(expression)
            elif isinstance(element, Group | SelectQuery):
                elements[index] = self.pattern(element)
            elif isinstance(element, Optional | Minus | Lateral | Graph | Service):
                pattern = self.pattern(element.pattern)
                if pattern is not element.pattern:
                    elements[index] = replace(element, pattern=pattern)
            elif isinstance(element, Union):
                branches = tuple(self.pattern(branch) for branch in element.branches)
                if any(new is not old for new, old in zip(branches, element.branches, strict=True)):
                    elements[index] = Union(branches)
        if all(new is old for new, old in zip(elements, group.elements, strict=True)):
            return group
        return Group(tuple(elements))

    def expression(self, expression: Expression, bound: frozenset[Var]) -> Expression:
        """The expression with the patterns of its EXISTS written as chains (their own FILTERs'
        EXISTS first, from their own group's bindings)."""
        if isinstance(expression, Exists):
            inner = self.pattern(expression.pattern)
            chained = chain(inner, bound, self.fresh)
            if chained is not None:
                return Exists(chained, expression.negated)
            return expression if inner is expression.pattern else Exists(inner, expression.negated)
        if isinstance(expression, And | Or):
            operands = tuple(self.expression(operand, bound) for operand in expression.operands)
            if all(new is old for new, old in zip(operands, expression.operands, strict=True)):
                return expression
            return type(expression)(operands)
        if isinstance(expression, Unary):
            operand = self.expression(expression.operand, bound)
            return expression if operand is expression.operand else Unary(expression.operator, operand)
        if isinstance(expression, Binary):
            left, right = self.expression(expression.left, bound), self.expression(expression.right, bound)
            if left is expression.left and right is expression.right:
                return expression
            return Binary(expression.operator, left, right)
        if isinstance(expression, Call | FunctionCall):
            arguments = tuple(self.expression(argument, bound) for argument in expression.arguments)
            if all(new is old for new, old in zip(arguments, expression.arguments, strict=True)):
                return expression
            return replace(expression, arguments=arguments)
        return expression


def _has_exists(expression: Expression) -> bool:
    if isinstance(expression, Exists):
        return True
    if isinstance(expression, And | Or):
        return any(_has_exists(operand) for operand in expression.operands)
    if isinstance(expression, Unary):
        return _has_exists(expression.operand)
    if isinstance(expression, Binary):
        return _has_exists(expression.left) or _has_exists(expression.right)
    if isinstance(expression, Call | FunctionCall):
        return any(_has_exists(argument) for argument in expression.arguments)
    return False


def chain(pattern: Pattern, bound: frozenset[Var], fresh: Callable[[], Var]) -> Group | None:
    """The EXISTS pattern as a chain of lookups from ``bound``; None if it is not a join of two
    or more triple patterns and FILTERs, or has a path that may be empty."""
    if not isinstance(pattern, Group) or not all(isinstance(e, TriplesBlock | Filter)
                                                 for e in pattern.elements):
        return None
    written = [triple for e in pattern.elements if isinstance(e, TriplesBlock) for triple in e.triples]
    if any(nullable(triple.predicate) for triple in written):
        return None
    labels: dict[str, Var] = {}

    def term(value: TermOrVar) -> TermOrVar:
        if isinstance(value, BlankNode):
            return labels.setdefault(value.label, fresh())
        return value

    triples = [step for triple in written
               for step in _steps(term(triple.subject), triple.predicate, term(triple.object), fresh)]
    if len(triples) < 2:
        return None
    order = _order(triples, bound)
    binds = [frozenset(t for t in (s.subject, s.predicate, s.object) if isinstance(t, Var)) for s in order]
    produced = frozenset().union(*binds)
    steps: list[list[Element]] = [[TriplesBlock((triple,))] for triple in order]
    for e in pattern.elements:
        if isinstance(e, Filter):
            needed = mentioned(e.expression) & produced
            at = max((next(i for i, found in enumerate(binds) if variable in found) for variable in needed),
                     default=0)
            steps[at].append(e)
    head: list[Element] = steps[0] if len(steps[0]) == 1 else [Group(tuple(steps[0]))]
    return Group((*head, *(Lateral(Group(tuple(step))) for step in steps[1:])))


def _steps(subject: TermOrVar, predicate: Var | Path, object_: TermOrVar,
           fresh: Callable[[], Var]) -> Iterator[TriplePattern]:
    """One triple pattern with its sequence paths written out and its inverse links turned round
    (``?s ^p ?o`` is ``?o p ?s``, §9.3); other paths stay paths."""
    if isinstance(predicate, InversePath) and isinstance(predicate.path, IRI | InversePath | SequencePath):
        yield from _steps(object_, predicate.path, subject, fresh)
    elif isinstance(predicate, SequencePath):
        current = subject
        for position, step in enumerate(predicate.steps):
            target = object_ if position == len(predicate.steps) - 1 else fresh()
            yield from _steps(current, step, target, fresh)
            current = target
    else:
        yield TriplePattern(subject, predicate, object_)


def _order(triples: list[TriplePattern], bound: frozenset[Var]) -> list[TriplePattern]:
    """Greedy: next the triple with most variables known, then most constants at its ends."""
    known = set(bound)
    remaining = list(triples)
    ordered: list[TriplePattern] = []
    while remaining:
        def score(triple: TriplePattern) -> tuple[int, int]:
            ends = (triple.subject, triple.object)
            return (sum(1 for end in (*ends, triple.predicate) if isinstance(end, Var) and end in known),
                    sum(1 for end in ends if not isinstance(end, Var)))
        best = max(remaining, key=score)  # max keeps the first of equals
        remaining.remove(best)
        ordered.append(best)
        known.update(t for t in (best.subject, best.predicate, best.object) if isinstance(t, Var))
    return ordered
