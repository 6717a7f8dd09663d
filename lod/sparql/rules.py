"""The static rules of SPARQL 1.1 that the grammar alone does not enforce, for a SELECT clause.

§18.2.1 (a variable named by ``(expression AS ?v)`` must be new) and §18.2.4.1 with §11.4 (in
a query that groups, the SELECT clause may only use grouped variables outside aggregates); also
Oxigraph's rule that a variable is projected once. The parser applies them and turns a problem
into an error at the projection item it concerns. (BIND's scope rule and blank node labels are
checked while parsing, where the group's order is at hand.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .syntax import (
    Aggregate,
    And,
    Binary,
    Call,
    Expression,
    FunctionCall,
    In,
    Or,
    Projection,
    SelectQuery,
    Unary,
    Var,
    in_scope,
)


def _subexpressions(expression: Expression) -> Iterator[Expression]:
    """``expression`` and the expressions in it, without entering aggregates or EXISTS."""
    stack = [expression]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Or | And):
            stack.extend(current.operands)
        elif isinstance(current, Binary):
            stack.extend((current.left, current.right))
        elif isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, In):
            stack.append(current.expression)
            stack.extend(current.items)
        elif isinstance(current, Call | FunctionCall):
            stack.extend(current.arguments)


def has_aggregate(expressions: Iterable[Expression]) -> bool:
    return any(isinstance(found, Aggregate)
               for expression in expressions for found in _subexpressions(expression))


def free_variables(expression: Expression) -> list[Var]:
    """The variables ``expression`` uses outside aggregates (and outside EXISTS), in order."""
    return [found for found in _subexpressions(expression) if isinstance(found, Var)]


def select_problem(query: SelectQuery) -> tuple[int | None, str] | None:
    """The first problem of the SELECT clause of ``query``: the index of the projection item at
    fault (None: the clause as a whole) and what is wrong, or None when it obeys the rules."""
    projection = query.projection
    expressions = [item.expression for item in projection or () if isinstance(item, Projection)]
    aggregated = bool(query.group_by) or has_aggregate(
        [*expressions, *query.having, *(condition.expression for condition in query.order_by)])
    if projection is None:
        if aggregated:
            return None, "SELECT * cannot be used with GROUP BY or aggregates; list the variables to select"
        return None
    bound = in_scope(query.where) if expressions else frozenset()  # only '(... AS ?v)' needs it
    grouped = {condition.variable if condition.variable is not None else condition.expression
               for condition in query.group_by}
    projected: set[Var] = set()
    for index, item in enumerate(projection):
        variable = item if isinstance(item, Var) else item.variable
        if variable in projected:
            return index, f"?{variable.name} is selected twice"
        if isinstance(item, Projection):
            if variable in bound:
                return index, (f"?{variable.name} is already bound in the WHERE clause, so "
                               f"'(... AS ?{variable.name})' cannot assign it; choose a new name")
            if aggregated:
                for used in free_variables(item.expression):
                    if used not in grouped and used not in projected:
                        return index, _ungrouped(used)
        elif aggregated and variable not in grouped:
            return index, _ungrouped(variable)
        projected.add(variable)
    return None


def _ungrouped(variable: Var) -> str:
    return (f"?{variable.name} is neither grouped nor aggregated: add it to GROUP BY or use an aggregate "
            f"such as SAMPLE(?{variable.name})")
