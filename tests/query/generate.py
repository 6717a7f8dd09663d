"""Hypothesis strategies: small graphs, and queries built as syntax trees from the operators the
planner reasons about (nested OPTIONAL, FILTER with EXISTS, UNION, BIND, MINUS, VALUES,
sub-SELECTs with DISTINCT, ORDER BY + LIMIT or grouping, property paths).

The queries are shaped to meet the planner's rewrites often: a group starts with triple patterns
over few variables, so that the OPTIONALs and MINUSes after them share variables with them, and
EXISTS patterns join two or three triples. Every query's answer is deterministic (no LIMIT
without an ORDER BY over all the variables it keeps, no RAND, NOW or SAMPLE).
"""

from __future__ import annotations

from typing import cast

from hypothesis import strategies as st
from pyoxigraph import Literal as OxLiteral
from pyoxigraph import NamedNode, Quad, Store

from lod.sparql import (
    IRI,
    Aggregate,
    AlternativePath,
    And,
    Binary,
    Bind,
    Call,
    Element,
    Exists,
    Expression,
    Filter,
    Group,
    GroupCondition,
    InversePath,
    Literal,
    Minus,
    ModifiedPath,
    Node,
    Optional,
    Or,
    OrderCondition,
    Path,
    Projection,
    SelectQuery,
    SequencePath,
    TriplePattern,
    TriplesBlock,
    Unary,
    Union,
    Values,
    Var,
    transform,
)
from lod.sparql.syntax import XSD_INTEGER

EX = "http://example.org/"
VARIABLES = tuple(Var(name) for name in "abcde")
NODES = tuple(IRI(f"{EX}n{i}") for i in range(4))
PREDICATES = tuple(IRI(f"{EX}{name}") for name in "pqr")
NUMBERS = tuple(Literal(str(i), XSD_INTEGER) for i in (1, 2))

Triple = tuple[int, int, int]
"""A triple of the generated graph: subject node, predicate, object (a node, or a number after them)."""


def graphs() -> st.SearchStrategy[list[Triple]]:
    triple = st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 5))
    return st.lists(triple, max_size=16, unique=True)


def store_of(triples: list[Triple]) -> Store:
    store = Store()
    for subject, predicate, object_ in triples:
        value = NamedNode(NODES[object_].value) if object_ < 4 \
            else OxLiteral(str(object_ - 3), datatype=NamedNode(XSD_INTEGER.value))
        store.add(Quad(NamedNode(NODES[subject].value), NamedNode(PREDICATES[predicate].value), value))
    return store


# ?e is rare, so that a sub-SELECT that keeps only ?e often shares nothing with its surroundings.
variables = st.sampled_from(VARIABLES[:4] * 3 + VARIABLES[4:])
subjects = st.one_of(variables, variables, variables, st.sampled_from(NODES))
objects = st.one_of(variables, variables, variables, st.sampled_from(NODES), st.sampled_from(NUMBERS))


@st.composite
def paths(draw: st.DrawFn) -> Path | Var:
    kind = draw(st.sampled_from(["iri"] * 8 + ["var", "sequence", "inverse", "alternative", "*", "+", "?"]))
    p, q = draw(st.sampled_from(PREDICATES)), draw(st.sampled_from(PREDICATES))
    if kind == "var":
        return draw(variables)
    if kind == "sequence":
        return SequencePath((p, q))
    if kind == "inverse":
        return InversePath(p)
    if kind == "alternative":
        return AlternativePath((p, q)) if p != q else p
    if kind in ("*", "+", "?"):
        return ModifiedPath(p, kind)
    return p


triples = st.builds(TriplePattern, subjects, paths(), objects)
blocks = st.lists(triples, min_size=1, max_size=3).map(lambda found: TriplesBlock(tuple(found)))


BOUND_BY_BIND = tuple(Var("x" + v.name) for v in VARIABLES)
"""What BIND assigns (a FILTER may test them, which the planner may then write on the expression)."""
filtered = st.one_of(variables, variables, st.sampled_from(BOUND_BY_BIND))


@st.composite
def expressions(draw: st.DrawFn, depth: int) -> Expression:
    kinds = ["bound", "unbound", "equal", "different", "less", "isiri"]
    if depth:
        kinds += ["and", "or"] + ["exists"] * 4
    kind = draw(st.sampled_from(kinds))
    v, w = draw(filtered), draw(filtered)
    if kind == "bound":
        return Call("BOUND", (v,))
    if kind == "unbound":
        return Unary("!", Call("BOUND", (v,)))
    if kind == "equal":
        return Binary("=", v, draw(st.sampled_from(NODES + NUMBERS)))
    if kind == "different":
        return Binary("!=", v, w)
    if kind == "less":
        return Binary("<", v, NUMBERS[1])
    if kind == "isiri":
        return Call("ISIRI", (v,))
    if kind in ("and", "or"):
        operands = (draw(expressions(depth - 1)), draw(expressions(depth - 1)))
        return And(operands) if kind == "and" else Or(operands)
    return Exists(draw(groups(depth - 1, exists=True)), draw(st.booleans()))


@st.composite
def values(draw: st.DrawFn) -> Values:
    names = tuple(dict.fromkeys(draw(st.lists(variables, min_size=1, max_size=2))))
    cells = st.one_of(st.none(), st.sampled_from(NODES[:2] + NUMBERS[:1]))
    rows = draw(st.lists(st.tuples(*(cells for _ in names)), min_size=1, max_size=3))
    return Values(names, tuple(rows))


def _apart(node: Node) -> Node:
    return Var(f"{node.name}in") if isinstance(node, Var) else node


@st.composite
def sub_selects(draw: st.DrawFn, depth: int) -> SelectQuery:
    where = draw(groups(depth - 1))
    kind = draw(st.sampled_from(["star", "project", "distinct", "limit", "count"]))
    chosen = tuple(dict.fromkeys(draw(st.lists(variables, min_size=1, max_size=3))))
    if draw(st.booleans()):
        chosen = (VARIABLES[4],)
    if draw(st.booleans()):
        # Half of them of their own: variables no surrounding pattern has, so that a LATERAL may
        # hold it (one that mentions a variable of the left side is never rewritten).
        where = cast(Group, transform(where, _apart))
        chosen = tuple(cast(Var, _apart(v)) for v in chosen)
    if kind == "star":
        return SelectQuery(where=where)
    if kind in ("project", "distinct"):
        return SelectQuery(where=where, projection=chosen, distinct=kind == "distinct")
    if kind == "limit":
        return SelectQuery(where=where, projection=chosen, distinct=True, limit=draw(st.integers(1, 2)),
                           order_by=tuple(OrderCondition(v) for v in chosen))
    key = chosen[0]
    total = Var("n" + key.name)
    return SelectQuery(where=where, projection=(key, Projection(Aggregate("COUNT", None), total)),
                       group_by=(GroupCondition(key),))


@st.composite
def elements(draw: st.DrawFn, depth: int, kinds: tuple[str, ...] = ()) -> Element:
    if not kinds:
        kinds = ("triples", "triples", "filter", "bind", "values")
        if depth:
            kinds += ("filter",) * 2 + ("optional",) * 4 + ("minus",) * 3
            kinds += ("union", "group", "select", "select")
    kind = draw(st.sampled_from(kinds))
    if kind == "triples":
        return draw(blocks)
    if kind == "filter":
        return Filter(draw(expressions(depth)))
    if kind == "bind":
        source = draw(st.sampled_from(["variable", "constant", "if", "str", "sum"]))
        v = draw(variables)
        expression: Expression = v
        if source == "constant":
            expression = draw(st.sampled_from(NODES + NUMBERS))
        elif source == "if":
            expression = Call("IF", (Call("BOUND", (v,)), v, NUMBERS[0]))
        elif source == "str":
            expression = Call("STR", (v,))
        elif source == "sum":  # an error for an IRI: the FILTER must see the same error
            expression = Binary("+", v, NUMBERS[0])
        return Bind(expression, draw(st.sampled_from(BOUND_BY_BIND)))
    if kind == "values":
        return draw(values())
    if kind == "optional":
        return Optional(draw(groups(depth - 1)))
    if kind == "minus":  # one triple: MINUS then often shares with what precedes it only
        return Minus(Group((TriplesBlock((draw(triples),)), *draw(st.lists(elements(0), max_size=1)))))
    if kind == "union":
        return Union((draw(groups(depth - 1)), draw(groups(depth - 1))))
    if kind == "group":
        return draw(groups(depth - 1))
    return draw(sub_selects(depth))


@st.composite
def groups(draw: st.DrawFn, depth: int, *, exists: bool = False) -> Group:
    """A group: mostly triple patterns first, then up to three more elements."""
    if exists:
        found: list[Element] = [draw(blocks), draw(blocks)]
        if draw(st.booleans()):
            found.append(Filter(draw(expressions(0))))
        return Group(tuple(found))
    found = [draw(blocks)] if draw(st.integers(0, 4)) else []
    found += draw(st.lists(elements(depth), max_size=3))
    return Group(tuple(found))


@st.composite
def optional_shapes(draw: st.DrawFn) -> Group:
    """Triples, then an OPTIONAL or MINUS of triples and one or two more elements (a nested
    OPTIONAL, MINUS, sub-SELECT, BIND, VALUES, FILTER, ...), then maybe more: the planner's
    cases and near-misses."""
    nested = elements(1, ("optional", "minus", "select", "bind", "values", "filter", "union", "triples"))
    inner = Group((draw(blocks), *draw(st.lists(nested, min_size=1, max_size=2))))
    rewritten = Optional(inner) if draw(st.integers(0, 3)) else Minus(inner)
    return Group((draw(blocks), rewritten, *draw(st.lists(elements(1), max_size=2))))


@st.composite
def bind_shapes(draw: st.DrawFn) -> Group:
    """Triples, a BIND of an expression over them, a FILTER on its variable, and maybe more:
    the cases of the BIND rewrite and its near misses (BOUND, a later pattern binding it)."""
    first = draw(blocks)
    bind = draw(elements(0, ("bind",)))
    assert isinstance(bind, Bind)
    test = draw(st.sampled_from(["equal", "less", "bound", "or"]))
    v = bind.variable
    conditions: dict[str, Expression] = {
        "equal": Binary("=", v, draw(st.sampled_from(NUMBERS))),
        "less": Binary("<", v, NUMBERS[1]),
        "bound": Call("BOUND", (v,)),
        "or": Or((Binary("=", v, NODES[0]), Call("ISIRI", (v,)))),
    }
    rest = draw(st.lists(elements(1), max_size=2))
    return Group((first, bind, *rest, Filter(conditions[test])))


def queries(depth: int = 2) -> st.SearchStrategy[SelectQuery]:
    return st.builds(lambda where: SelectQuery(where=where),
                     st.one_of(groups(depth), optional_shapes(), bind_shapes()))
