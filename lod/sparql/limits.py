"""How large a query may be in the ways that exhaust a stack, with the thresholds they guard.

pyoxigraph 0.5.13 parses and evaluates recursively in Rust; past some nesting or chain length it
overflows its stack and the process dies with SIGSEGV, which nothing can catch. The thresholds
quoted below were measured with ``tests/sparql/engine_limits.py`` (each probe in a child process,
main thread, 8 MiB stack; a thread of glibc's default size gave the same figures) on a store of
one triple: "parser" is the first size at which parsing alone crashed, "evaluator" the first at
which running the query did.

Two kinds of limit guard them. The parser's own, checked where it reads the construct so that
the error points there: :data:`MAX_DEPTH` for nesting and one limit per kind of chain. They bound
the engine's parser and this package's recursion (parser, serialiser, ``transform``), which stays
well inside Python's default limit of 1,000 frames. But the engine's evaluator recurses along the
query's algebra, where chains nest in each other (ten nested groups that each start with a UNION
of 500 branches are ten chains of 500 deep): so the whole tree is also costed, by
:func:`engine_depth`, against :data:`MAX_ENGINE_DEPTH`.

Sizes that federation engines produce pass: VALUES blocks of thousands of rows (one flat
operator, no crash up to 1,048,576 rows) and UNIONs of a few hundred branches.

Some shapes are slow rather than deep, and the server's query deadline is what stops them: a
sequence path of 100 steps took 1 s, of 400 steps 17 s; a basic graph pattern of 64 triple
patterns all sharing one predicate variable took 0.2 s, of 128 more than 30 s; 512 OPTIONALs in
one group, more than 30 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .syntax import (
    Aggregate,
    AlternativePath,
    And,
    AskQuery,
    Binary,
    Bind,
    Call,
    ConstructQuery,
    DescribeQuery,
    Exists,
    Filter,
    FunctionCall,
    Graph,
    Group,
    In,
    InversePath,
    Lateral,
    Minus,
    ModifiedPath,
    Node,
    Optional,
    Or,
    Projection,
    Query,
    SelectQuery,
    SequencePath,
    Service,
    TriplesBlock,
    Unary,
    Union,
    Values,
)

MAX_DEPTH = 100
"""Nesting of groups ``{}``, parentheses, function-call arguments, ``[]`` and collections,
counted together, and each operator of an arithmetic chain (built left-deep).

Measured crashes: nested EXISTS at 864 (parser), nested function calls ``STR(STR(...))`` at 960
(parser), nested groups at 2,240 (parser), nested sub-SELECTs at 2,560, nested OPTIONALs at
2,944, nested ``[ ]`` at 3,456 (parser), nested parentheses at 4,736 (parser). The Python parser
spends at most five frames per level, so 100 levels stay under 600 frames."""

MAX_UNION_BRANCHES = 500
"""Branches of one ``UNION`` chain (Oxigraph builds it left-deep). Measured crash: 6,656
branches (evaluator), 90,112 (parser)."""

MAX_CHAIN_OPERANDS = 1_000
"""Operands of one ``||`` or ``&&`` chain. Measured crash: 9,472 (evaluator), 180,224 (parser)."""

MAX_PATH_OPERANDS = 100
"""Steps of one sequence path or options of one alternative path. Measured crash: alternative
paths of 11,264 options (evaluator), sequences of 20,480 steps (parser); but a sequence of 100
steps already takes a second to evaluate (see above)."""

MAX_GROUP_ELEMENTS = 250
"""Elements (FILTER, OPTIONAL, MINUS, BIND, nested groups, ...) of one group, which Oxigraph joins
left-deep. Measured crash: 2,688 MINUS or BIND elements (evaluator), 9,472 FILTERs (evaluator)."""

MAX_ENGINE_DEPTH = 1_024
"""The budget of :func:`engine_depth`: an eighth of the stack the evaluator crashed on."""

LIMITS = {
    "max_depth": MAX_DEPTH,
    "max_union_branches": MAX_UNION_BRANCHES,
    "max_chain_operands": MAX_CHAIN_OPERANDS,
    "max_path_operands": MAX_PATH_OPERANDS,
    "max_group_elements": MAX_GROUP_ELEMENTS,
    "max_engine_depth": MAX_ENGINE_DEPTH,
}
"""Every limit by the name a :class:`~lod.sparql.errors.LimitExceeded` reports."""

# What one level of each construct costs the evaluator, in units of about 1 KiB of stack, so
# that 8,192 units fill the 8 MiB it crashed on; from the thresholds above, rounded up:
# 8 MiB / 9,472 operands of '&&' = 0.9 KiB each, / 6,912 links of '+' = 1.2, / 6,656 UNION
# branches = 1.3, / 2,688 BIND or MINUS elements = 3.1, / 2,240 nested groups = 3.7, / 960 nested
# calls = 8.7, / 864 nested EXISTS (a group, a FILTER and the EXISTS) = 9.7, / 2,560 nested
# sub-SELECTs = 3.3.
_OPERAND = 1
_OPERATOR = 2
_UNION_BRANCH = 2
_ELEMENT = 4
_GROUP = 4
_CALL = 9
_EXISTS = 5


def engine_depth(node: Node) -> int:
    """An upper estimate of how deep the engine's evaluator recurses for ``node``, in units of
    about 1 KiB of stack: along the deepest path of the tree, each chain counts all its links
    (the engine builds chains left-deep) and each nesting its own weight."""
    measure = _DEPTH.get(type(node))
    return 0 if measure is None else measure(node)  # terms, negated property sets and VALUES: 0


def _deepest(nodes: Iterable[Node]) -> int:
    return max((engine_depth(node) for node in nodes), default=0)


def _group(group: Group) -> int:
    weights = 0
    for element in group.elements:
        if isinstance(element, TriplesBlock):
            weights += len(element.triples)
        else:
            weights += _OPERAND if isinstance(element, Filter | Values) else _ELEMENT
    return _GROUP + weights + _deepest(group.elements)


def _triples(block: TriplesBlock) -> int:
    paths = [triple.predicate for triple in block.triples if type(triple.predicate) in _PATHS]
    return _deepest(paths) if paths else 0


def _query(query: Query) -> int:
    """A projection over a group, nested as deep as a group, with the clauses' expressions."""
    expressions: list[Node] = [item.expression for item in getattr(query, "projection", None) or ()
                               if isinstance(item, Projection)]
    expressions += [condition.expression for condition in query.group_by]
    expressions += query.having
    expressions += [condition.expression for condition in query.order_by]
    return _GROUP + max(engine_depth(query.where), _deepest(expressions))


_DEPTH: dict[type, Callable[[Any], int]] = {
    Group: _group,
    TriplesBlock: _triples,
    Filter: lambda node: engine_depth(node.expression),
    Bind: lambda node: engine_depth(node.expression),
    Optional: lambda node: _OPERAND + engine_depth(node.pattern),
    Minus: lambda node: _OPERAND + engine_depth(node.pattern),
    Lateral: lambda node: _OPERAND + engine_depth(node.pattern),
    Graph: lambda node: _OPERAND + engine_depth(node.pattern),
    Service: lambda node: _OPERAND + engine_depth(node.pattern),
    Union: lambda node: _UNION_BRANCH * len(node.branches) + _deepest(node.branches),
    SelectQuery: _query,
    ConstructQuery: _query,
    DescribeQuery: _query,
    AskQuery: _query,
    Or: lambda node: _OPERAND * len(node.operands) + _deepest(node.operands),
    And: lambda node: _OPERAND * len(node.operands) + _deepest(node.operands),
    Binary: lambda node: _OPERATOR + max(engine_depth(node.left), engine_depth(node.right)),
    Unary: lambda node: _OPERATOR + engine_depth(node.operand),
    In: lambda node: _OPERATOR + max(engine_depth(node.expression), _deepest(node.items)),
    Call: lambda node: _CALL + _deepest(node.arguments),
    FunctionCall: lambda node: _CALL + _deepest(node.arguments),
    Aggregate: lambda node: _CALL + (0 if node.argument is None else engine_depth(node.argument)),
    Exists: lambda node: _EXISTS + engine_depth(node.pattern),
    SequencePath: lambda node: _OPERAND * len(node.steps) + _deepest(node.steps),
    AlternativePath: lambda node: _OPERAND * len(node.options) + _deepest(node.options),
    ModifiedPath: lambda node: _OPERAND + engine_depth(node.path),
    InversePath: lambda node: _OPERAND + engine_depth(node.path),
}
_PATHS = frozenset({SequencePath, AlternativePath, ModifiedPath, InversePath})
