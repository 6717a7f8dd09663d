"""The syntax tree of a SPARQL 1.1 query: frozen dataclasses, and the helpers to read and rewrite it.

The tree keeps the query's syntactic structure, not its algebra: a group is the sequence of its
elements as written (triples blocks, FILTER, OPTIONAL, ...), braces stay where the query had
them, because scoping depends on them and the serialiser must give the engine a query that means
exactly what was checked. What the tree does not keep is spelling: prefixes are expanded and
relative IRIs resolved (every :class:`IRI` is absolute), ``$x`` is ``?x``, keywords have no case,
``a`` is ``rdf:type``, and the abbreviations of triples (``;``, ``,``, ``[]``, ``[ ... ]``,
collections) are expanded into plain triple patterns with labelled blank nodes.

Every node is hashable and compares by value, so a planner can use nodes as dictionary keys and
tell with ``==`` whether a rewrite changed anything; :func:`transform` rebuilds only what changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeAlias


class Node:
    """The root of every tree node (for ``isinstance``; it holds nothing)."""

    __slots__ = ()


# ----------------------------------------------------------------------------------------------- terms

@dataclass(frozen=True, slots=True)
class IRI(Node):
    """An absolute IRI (RFC 3987), as the engine will see it."""

    value: str


XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD_STRING = IRI(XSD + "string")
XSD_INTEGER = IRI(XSD + "integer")
XSD_DECIMAL = IRI(XSD + "decimal")
XSD_DOUBLE = IRI(XSD + "double")
XSD_BOOLEAN = IRI(XSD + "boolean")
RDF_LANGSTRING = IRI(RDF + "langString")
RDF_TYPE = IRI(RDF + "type")
RDF_FIRST = IRI(RDF + "first")
RDF_REST = IRI(RDF + "rest")
RDF_NIL = IRI(RDF + "nil")


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """An RDF literal. A number keeps its lexical form as written (``01``, ``1.50``, ``1e0``); a
    language-tagged string has the datatype ``rdf:langString``."""

    value: str
    datatype: IRI = XSD_STRING
    language: str | None = None


@dataclass(frozen=True, slots=True)
class BlankNode(Node):
    """A blank node of a pattern or a template. Labels that the parser made up for ``[]``, blank
    node property lists and collections cannot clash with the query's own."""

    label: str


@dataclass(frozen=True, slots=True)
class Var(Node):
    """A variable, named without its ``?`` or ``$``."""

    name: str


Term: TypeAlias = IRI | Literal | BlankNode
TermOrVar: TypeAlias = IRI | Literal | BlankNode | Var


# ----------------------------------------------------------------------------------------------- paths

@dataclass(frozen=True, slots=True)
class InversePath(Node):
    """``^path``."""

    path: Path


@dataclass(frozen=True, slots=True)
class SequencePath(Node):
    """``a / b / ...``: two or more steps."""

    steps: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class AlternativePath(Node):
    """``a | b | ...``: two or more options."""

    options: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class ModifiedPath(Node):
    """``path*``, ``path+`` or ``path?`` (``modifier`` is that character)."""

    path: Path
    modifier: str


@dataclass(frozen=True, slots=True)
class NegatedPropertySet(Node):
    """``!(a | ^b | ...)``: any link but the ``forward`` ones, or backwards any but the
    ``inverse`` ones."""

    forward: tuple[IRI, ...]
    inverse: tuple[IRI, ...] = ()


Path: TypeAlias = IRI | InversePath | SequencePath | AlternativePath | ModifiedPath | NegatedPropertySet


@dataclass(frozen=True, slots=True)
class TriplePattern(Node):
    """One triple pattern; the predicate is a variable, an IRI or a property path."""

    subject: TermOrVar
    predicate: Var | Path
    object: TermOrVar


# ----------------------------------------------------------------------------------------- expressions

@dataclass(frozen=True, slots=True)
class Or(Node):
    """``a || b || ...``: two or more operands, kept flat so a long chain is not a deep tree."""

    operands: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class And(Node):
    """``a && b && ...``: two or more operands, kept flat."""

    operands: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """A comparison (``= != < > <= >=``) or arithmetic (``+ - * /``)."""

    operator: str
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """``!x``, ``+x`` or ``-x``."""

    operator: str
    operand: Expression


@dataclass(frozen=True, slots=True)
class In(Node):
    """``x IN (a, b, ...)`` or, when ``negated``, ``x NOT IN (...)``."""

    expression: Expression
    items: tuple[Expression, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A built-in function call; ``name`` is the keyword in upper case (``STR``, ``REGEX``,
    ``ISIRI``, ``BOUND``, ...)."""

    name: str
    arguments: tuple[Expression, ...] = ()


@dataclass(frozen=True, slots=True)
class FunctionCall(Node):
    """A call of a function named by an IRI (an XSD cast, an extension function)."""

    iri: IRI
    arguments: tuple[Expression, ...] = ()
    distinct: bool = False


@dataclass(frozen=True, slots=True)
class Exists(Node):
    """``EXISTS { ... }`` or, when ``negated``, ``NOT EXISTS { ... }``."""

    pattern: Pattern
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Aggregate(Node):
    """``COUNT``, ``SUM``, ``MIN``, ``MAX``, ``AVG``, ``SAMPLE`` or ``GROUP_CONCAT``; ``argument``
    is None for ``COUNT(*)``; ``separator`` only for ``GROUP_CONCAT``."""

    name: str
    argument: Expression | None
    distinct: bool = False
    separator: str | None = None


Expression: TypeAlias = (Var | IRI | Literal | Or | And | Binary | Unary | In | Call | FunctionCall | Exists
                         | Aggregate)


# ---------------------------------------------------------------------------------------- graph patterns

@dataclass(frozen=True, slots=True)
class TriplesBlock(Node):
    """Triple patterns written one after another (a basic graph pattern, or part of one when a
    FILTER stands in between)."""

    triples: tuple[TriplePattern, ...]


@dataclass(frozen=True, slots=True)
class Filter(Node):
    expression: Expression


@dataclass(frozen=True, slots=True)
class Optional(Node):
    pattern: Pattern


@dataclass(frozen=True, slots=True)
class Minus(Node):
    pattern: Pattern


@dataclass(frozen=True, slots=True)
class Union(Node):
    """``{ ... } UNION { ... } UNION ...``: two or more branches, kept flat."""

    branches: tuple[Pattern, ...]


@dataclass(frozen=True, slots=True)
class Graph(Node):
    name: IRI | Var
    pattern: Pattern


@dataclass(frozen=True, slots=True)
class Service(Node):
    """``SERVICE [SILENT] endpoint { ... }``: the engine would fetch ``endpoint`` itself."""

    endpoint: IRI | Var
    pattern: Pattern
    silent: bool = False


@dataclass(frozen=True, slots=True)
class Bind(Node):
    expression: Expression
    variable: Var


@dataclass(frozen=True, slots=True)
class Values(Node):
    """Inline data; None in a row is ``UNDEF``."""

    variables: tuple[Var, ...]
    rows: tuple[tuple[IRI | Literal | None, ...], ...]


@dataclass(frozen=True, slots=True)
class Lateral(Node):
    """``LATERAL { ... }``, Oxigraph's extension: the pattern is evaluated once per solution of
    what precedes it, with that solution's bindings (for a planner's rewrites)."""

    pattern: Pattern


@dataclass(frozen=True, slots=True)
class Group(Node):
    """``{ ... }``: the elements of a group graph pattern, in order."""

    elements: tuple[Element, ...] = ()


# ------------------------------------------------------------------------------------------ query forms

@dataclass(frozen=True, slots=True)
class Projection(Node):
    """``(expression AS ?variable)`` in a SELECT clause."""

    expression: Expression
    variable: Var


@dataclass(frozen=True, slots=True)
class GroupCondition(Node):
    """One condition of GROUP BY: an expression, with ``(... AS ?variable)`` when named."""

    expression: Expression
    variable: Var | None = None


@dataclass(frozen=True, slots=True)
class OrderCondition(Node):
    expression: Expression
    descending: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Query(Node):
    """What every query form has. ``default_graphs`` and ``named_graphs`` are the FROM and FROM
    NAMED clauses (both empty: no dataset clause); ``where`` is the WHERE clause (``{}`` for a
    DESCRIBE without one); ``values`` the trailing VALUES clause.

    ``base_iri`` is the base against which the functions IRI() and URI() resolve a relative
    IRI when the query runs; every IRI of the tree is already absolute, so the parser sets it
    only on a query that calls them (and only on the outermost query)."""

    base_iri: str | None = None
    default_graphs: tuple[IRI, ...] = ()
    named_graphs: tuple[IRI, ...] = ()
    where: Pattern = Group()
    group_by: tuple[GroupCondition, ...] = ()
    having: tuple[Expression, ...] = ()
    order_by: tuple[OrderCondition, ...] = ()
    limit: int | None = None
    offset: int | None = None
    values: Values | None = None

    def services(self) -> tuple[Service, ...]:
        """Every SERVICE clause of the query (see :func:`services`)."""
        return services(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectQuery(Query):
    """A SELECT query, or a sub-SELECT where it stands as a pattern (then without dataset).
    ``projection`` None is ``SELECT *``."""

    projection: tuple[Var | Projection, ...] | None = None
    distinct: bool = False
    reduced: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstructQuery(Query):
    """``template`` None is the short form ``CONSTRUCT WHERE { triples }``."""

    template: tuple[TriplePattern, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DescribeQuery(Query):
    """``terms`` None is ``DESCRIBE *``."""

    terms: tuple[IRI | Var, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AskQuery(Query):
    pass


Pattern: TypeAlias = Group | SelectQuery
Element: TypeAlias = (TriplesBlock | Filter | Optional | Minus | Union | Graph | Service | Bind | Values
                      | Lateral | Group | SelectQuery)


# ---------------------------------------------------------------------------------------------- helpers

_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(kind))
    return names


def _children(value: object, into: list[Node]) -> None:
    """Append the nodes ``value`` holds (a node, or tuples of nodes, rows and None) to ``into``."""
    if isinstance(value, Node):
        into.append(value)
    elif isinstance(value, tuple):
        for item in value:
            _children(item, into)


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree under ``node``, ``node`` first, depth first in field order (for a
    group, the order of the text)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children: list[Node] = []
        for name in _field_names(type(current)):
            _children(getattr(current, name), children)
        stack.extend(reversed(children))


def transform(node: Node, function: Callable[[Node], Node]) -> Node:
    """The tree rebuilt bottom-up: each node's children are transformed first, then ``function``
    is applied to the node (rebuilt if a child changed) and its result replaces it. Where
    nothing changed, the same objects are returned, so ``transform(q, f) is q`` tells a planner
    that ``f`` found nothing to do.

    >>> transform(Var("x"), lambda n: Var("y") if n == Var("x") else n)
    Var(name='y')
    """
    changes: dict[str, object] = {}
    for name in _field_names(type(node)):
        value = getattr(node, name)
        new = _transform_value(value, function)
        if new is not value:
            changes[name] = new
    if changes:
        node = dataclasses.replace(node, **changes)  # type: ignore[type-var]  # every Node is a dataclass
    return function(node)


def _transform_value(value: object, function: Callable[[Node], Node]) -> object:
    if isinstance(value, Node):
        return transform(value, function)
    if isinstance(value, tuple):
        items = [_transform_value(item, function) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return tuple(items)
    return value


def services(node: Node) -> tuple[Service, ...]:
    """Every SERVICE clause under ``node``, wherever it stands (a sub-SELECT, EXISTS in a
    FILTER or in the SELECT clause, OPTIONAL, MINUS, GRAPH, another SERVICE), in the order
    :func:`walk` meets them."""
    return tuple(found for found in walk(node) if isinstance(found, Service))


def in_scope(node: Node) -> frozenset[Var]:
    """The variables in scope of a pattern or group element, as SPARQL 1.1 §18.2.1 defines them:
    those a solution of the pattern may bind and the pattern's surroundings can see (so not those
    only inside FILTER, MINUS's right side, or a sub-SELECT that does not project them)."""
    found: set[Var] = set()
    _collect_scope(node, found)
    return frozenset(found)


def _collect_scope(node: Node, found: set[Var]) -> None:
    if isinstance(node, Group):
        for element in node.elements:
            _collect_scope(element, found)
    elif isinstance(node, TriplesBlock):
        for triple in node.triples:
            for term in (triple.subject, triple.predicate, triple.object):
                if isinstance(term, Var):
                    found.add(term)
    elif isinstance(node, Optional | Lateral):
        _collect_scope(node.pattern, found)
    elif isinstance(node, Union):
        for branch in node.branches:
            _collect_scope(branch, found)
    elif isinstance(node, Graph | Service):
        target = node.name if isinstance(node, Graph) else node.endpoint
        if isinstance(target, Var):
            found.add(target)
        _collect_scope(node.pattern, found)
    elif isinstance(node, Bind):
        found.add(node.variable)
    elif isinstance(node, Values):
        found.update(node.variables)
    elif isinstance(node, SelectQuery):
        if node.projection is None:
            _collect_scope(node.where, found)
        else:
            found.update(item if isinstance(item, Var) else item.variable for item in node.projection)
    # FILTER and MINUS bind nothing the group can see.
