"""What a pattern binds, as the planner needs to know it (SPARQL 1.1 §18.2.1 and §18.5).

Three questions about a pattern of the syntax tree, each answered cautiously: where an answer
cannot be sure, it is the one that keeps the planner from rewriting.

- :func:`possibly_bound`: the variables a solution may bind (the scope of §18.2.1).
- :func:`certainly_bound`: the variables every solution binds. Smaller than the truth where unsure
  (a BIND of anything but a constant, a sub-SELECT that groups), never larger.
- :func:`substitution_obstacle`: why evaluating a pattern once per row of its left side, with
  that row's bindings in place (Oxigraph's ``LATERAL``, as its evaluator passes them down), could
  give other solutions than evaluating it alone and joining (None when it cannot).
  The reasoning for each kind of element is in the module docstring of :mod:`.planner`.

>>> from lod.sparql import parse_query
>>> where = parse_query("SELECT * { ?s ?p ?o OPTIONAL { ?o ?q ?r } }").where
>>> sorted(v.name for v in certainly_bound(where))
['o', 'p', 's']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import reduce

from lod.sparql import (
    IRI,
    Aggregate,
    AlternativePath,
    And,
    Binary,
    Bind,
    Call,
    Element,
    Filter,
    FunctionCall,
    Graph,
    Group,
    InversePath,
    Lateral,
    Literal,
    Minus,
    ModifiedPath,
    Node,
    Optional,
    Or,
    Path,
    Pattern,
    Projection,
    SelectQuery,
    SequencePath,
    Service,
    TriplesBlock,
    Unary,
    Union,
    Values,
    Var,
    in_scope,
    walk,
)

NOTHING: frozenset[Var] = frozenset()


def possibly_bound(node: Node) -> frozenset[Var]:
    """The variables a solution of ``node`` may bind (its scope, §18.2.1)."""
    return in_scope(node)


def mentioned(node: Node) -> frozenset[Var]:
    """Every variable written anywhere under ``node``: in expressions, in the patterns of EXISTS,
    inside sub-SELECTs. More than an expression can see, which is the cautious side for a
    condition of the form "the variables it refers to are bound"."""
    found: set[Var] = set()
    _mention(node, found)
    return frozenset(found)


def _mention(node: Node, found: set[Var]) -> None:
    # The common expressions by hand (a FILTER is planned on every light request), the rest by walk.
    if isinstance(node, Var):
        found.add(node)
    elif isinstance(node, IRI | Literal):
        return
    elif isinstance(node, And | Or):
        for operand in node.operands:
            _mention(operand, found)
    elif isinstance(node, Binary):
        _mention(node.left, found)
        _mention(node.right, found)
    elif isinstance(node, Unary):
        _mention(node.operand, found)
    elif isinstance(node, Call | FunctionCall):
        for argument in node.arguments:
            _mention(argument, found)
    else:
        found.update(variable for variable in walk(node) if isinstance(variable, Var))


def certainly_bound(node: Node) -> frozenset[Var]:
    """The variables every solution of ``node`` (a pattern or a group element) binds."""
    if isinstance(node, Group):
        return frozenset().union(*(certainly_bound(element) for element in node.elements))
    if isinstance(node, TriplesBlock):
        terms = (term for t in node.triples for term in (t.subject, t.predicate, t.object))
        return frozenset(term for term in terms if isinstance(term, Var))
    if isinstance(node, Union):
        return reduce(frozenset.intersection, (certainly_bound(branch) for branch in node.branches))
    if isinstance(node, Graph):
        named = frozenset((node.name,)) if isinstance(node.name, Var) else NOTHING
        return certainly_bound(node.pattern) | named
    if isinstance(node, Lateral):
        return certainly_bound(node.pattern)
    if isinstance(node, Bind):
        # A constant never fails; any other expression may raise an error and leave it unbound.
        return frozenset((node.variable,)) if isinstance(node.expression, IRI | Literal) else NOTHING
    if isinstance(node, Values):
        return frozenset(variable for column, variable in enumerate(node.variables)
                         if all(row[column] is not None for row in node.rows))
    if isinstance(node, SelectQuery):
        return _selected_certainly(node)
    # OPTIONAL, MINUS and FILTER add nothing every solution has; SERVICE SILENT may answer nothing.
    return NOTHING


def _selected_certainly(query: SelectQuery) -> frozenset[Var]:
    inner = certainly_bound(query.where)
    if query.values is not None:
        inner |= certainly_bound(query.values)
    if query.group_by or _aggregates(query):
        # Groups: only a key that every row of the group binds; an aggregate may fail (AVG of an IRI).
        keys = frozenset(condition.expression for condition in query.group_by
                         if condition.variable is None and isinstance(condition.expression, Var))
        inner &= keys
    if query.projection is None:
        return inner
    return inner & frozenset(item for item in query.projection if isinstance(item, Var))


def _aggregates(query: SelectQuery) -> bool:
    parts: list[Node] = [*(query.projection or ()), *query.having, *query.order_by]
    return any(isinstance(found, Aggregate) for part in parts for found in walk(part))


def projected(query: SelectQuery) -> frozenset[Var]:
    """The variables a sub-SELECT lets its surroundings see."""
    return in_scope(query)


def nullable(path: Path | Var) -> bool:
    """Whether ``path`` may match a path of length zero (``p*``, ``p?``, and what is built of them)."""
    if isinstance(path, ModifiedPath):
        return path.modifier in "*?" or nullable(path.path)
    if isinstance(path, SequencePath):
        return all(nullable(step) for step in path.steps)
    if isinstance(path, AlternativePath):
        return any(nullable(option) for option in path.options)
    if isinstance(path, InversePath):
        return nullable(path.path)
    return False


def body_and_condition(pattern: Pattern) -> tuple[tuple[Element, ...], tuple[Filter, ...]]:
    """An OPTIONAL's pattern split as §18.2.2.6 does: the elements, and the FILTERs of its group,
    which become the LeftJoin's condition."""
    if isinstance(pattern, SelectQuery):
        return (pattern,), ()
    body = tuple(element for element in pattern.elements if not isinstance(element, Filter))
    return body, tuple(element for element in pattern.elements if isinstance(element, Filter))


def _names(variables: Iterable[Var]) -> str:
    return ", ".join("?" + variable.name for variable in sorted(variables, key=lambda v: v.name))


def substitution_obstacle(elements: Sequence[Element], outer: frozenset[Var]) -> str | None:
    """Why the group of ``elements`` could mean something else when evaluated with the bindings of
    a row that may bind ``outer`` already in place, rather than alone and then joined with that
    row; None when it means the same. FILTERs among ``elements`` are those of this group (applied
    to its solutions); the caller leaves out the FILTERs that are a LeftJoin's condition."""
    body = [element for element in elements if not isinstance(element, Filter)]
    certain: frozenset[Var] = NOTHING
    for element in body:
        problem = element_obstacle(element, outer, certain)
        if problem:
            return problem
        certain |= certainly_bound(element)
    for condition in elements:
        if isinstance(condition, Filter):
            seen = mentioned(condition.expression) & outer - certain
            if seen:
                return f"a FILTER refers to {_names(seen)}, which the left side may bind and its group not"
    return None


def element_obstacle(element: Element, outer: frozenset[Var], before: frozenset[Var]) -> str | None:
    """Why one element, after elements that certainly bind ``before``, could mean something else
    with bindings of ``outer`` in place."""
    if isinstance(element, TriplesBlock):
        for triple in element.triples:
            ends = {term for term in (triple.subject, triple.object) if isinstance(term, Var)}
            if nullable(triple.predicate) and ends & outer:
                return f"a path that may be empty ends at {_names(ends & outer)}, bound on the left"
        return None
    if isinstance(element, Group):
        return substitution_obstacle(element.elements, outer)
    if isinstance(element, Union):
        for branch in element.branches:
            problem = pattern_obstacle(branch, outer)
            if problem:
                return problem
        return None
    if isinstance(element, Graph):
        return pattern_obstacle(element.pattern, outer)
    if isinstance(element, Values):
        return None
    if isinstance(element, Bind):
        if element.variable in outer:
            return f"BIND assigns {_names([element.variable])}, which the left side may bind"
        seen = mentioned(element.expression) & outer - before
        if seen:
            return f"a BIND refers to {_names(seen)}, which the left side may bind and the pattern may not"
        return None
    if isinstance(element, Optional):
        body, condition = body_and_condition(element.pattern)
        problem = substitution_obstacle(body, outer)
        if problem:
            return problem
        loose = possibly_bound(element.pattern) & outer - before
        if loose:
            return (f"a nested OPTIONAL binds {_names(loose)}, which the left side may bind and the "
                    "pattern before it may not (not well designed)")
        seen = frozenset().union(*(mentioned(f.expression) for f in condition)) & outer \
            - before - certainly_bound(Group(body))
        if seen:
            return f"a nested OPTIONAL's FILTER refers to {_names(seen)}, which the left side may bind"
        return None
    if isinstance(element, Minus):
        problem = pattern_obstacle(element.pattern, outer)
        if problem:
            return problem
        loose = possibly_bound(element.pattern) & outer - before
        if loose:
            return f"a MINUS binds {_names(loose)}, which the left side may bind and what precedes may not"
        if not before & certainly_bound(element.pattern):
            return "a MINUS may share no variable with the pattern before it"
        return None
    if isinstance(element, SelectQuery):
        # Oxigraph's LATERAL puts the left side's values into a sub-SELECT wherever they occur,
        # projected or not, where SPARQL leaves a variable that is not projected unbound inside.
        seen = frozenset(node for node in walk(element) if isinstance(node, Var)) & outer
        if seen:
            return f"a sub-SELECT mentions {_names(seen)}, which the left side may bind"
        return None
    if isinstance(element, Service):
        return "SERVICE"
    return "a LATERAL of the query's own"


def pattern_obstacle(pattern: Pattern, outer: frozenset[Var]) -> str | None:
    """:func:`substitution_obstacle` for a group (its FILTERs included) or a sub-SELECT."""
    if isinstance(pattern, SelectQuery):
        return element_obstacle(pattern, outer, NOTHING)
    return substitution_obstacle(pattern.elements, outer)


def assigned(node: Node) -> frozenset[Var]:
    """The variables that BIND, VALUES or a sub-SELECT's ``(... AS ?v)`` assign under ``node``,
    where its solutions can show them (not inside FILTER or a sub-SELECT that hides them):
    Oxigraph refuses a LATERAL whose pattern assigns a variable of the left side."""
    if isinstance(node, Bind):
        return frozenset((node.variable,))
    if isinstance(node, Values):
        return frozenset(node.variables)
    if isinstance(node, SelectQuery):
        inner = assigned(node.where) | (assigned(node.values) if node.values is not None else NOTHING)
        named = frozenset(item.variable for item in node.projection or () if isinstance(item, Projection))
        keys = frozenset(c.variable for c in node.group_by if c.variable is not None)
        return (inner | named | keys) & projected(node)
    if isinstance(node, Group):
        return frozenset().union(*(assigned(element) for element in node.elements))
    if isinstance(node, Optional | Minus | Lateral | Graph | Service):
        return assigned(node.pattern)
    if isinstance(node, Union):
        return frozenset().union(*(assigned(branch) for branch in node.branches))
    return NOTHING


def anchors(elements: Sequence[Element]) -> frozenset[Var]:
    """The variables of the triple patterns that every evaluation of the group joins (not those
    under OPTIONAL, MINUS, FILTER or a sub-SELECT): bound, they restrict the index lookups."""
    found: set[Var] = set()
    for element in elements:
        if isinstance(element, TriplesBlock):
            found.update(certainly_bound(element))
        elif isinstance(element, Group):
            found.update(anchors(element.elements))
        elif isinstance(element, Union):
            for branch in element.branches:
                if isinstance(branch, Group):
                    found.update(anchors(branch.elements))
        elif isinstance(element, Graph) and isinstance(element.pattern, Group):
            found.update(anchors(element.pattern.elements))
    return frozenset(found)
