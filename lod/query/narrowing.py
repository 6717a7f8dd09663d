"""Text FILTERs narrowed to the literals that may pass them: :func:`narrow_text_filters`.

A search by name - ``?o skos:prefLabel ?n FILTER(REGEX(?n, "lauhe", "i"))`` or
``CONTAINS(LCASE(?n), "lauhe")`` - makes Oxigraph read every label of the store and test each
(55 ms at scale 1). The release's literals, folded for case (:mod:`.literals`), give the few that
may pass; joined as ``VALUES ?n { ... }`` they let the engine start from them (0.4 ms).

The rewrite, in a group with a FILTER one of whose ``&&``-operands is a text test on ?v:
``CONTAINS``, ``STRSTARTS`` or ``STRENDS`` of ?v, ``LCASE(?v)`` or ``UCASE(?v)`` and a string,
or ``REGEX`` of one of these and a pattern of plain characters (``^`` and ``$`` at its ends
allowed) with no flags but ``i``, ``s``, ``m``. When the test is true, ?v is a string literal
(each of these raises an error on anything else) whose lexical form contains the text in some
case. If the group has a triple pattern ``?s <p> ?v`` with an IRI predicate, among its elements,
then ``VALUES ?v { C }``, C the string literals of <p> that contain the text's fold
(:meth:`~.literals.LiteralIndex.candidates`), goes into the group after the run of triple
patterns and FILTERs that holds the pattern.

Why the answer is the same: the group's solutions are Filter(F, X), X the join, left join, minus
and extension of its elements in order (§18.2.2.6). ?v is bound in every row once the triple
pattern has been joined, and each later element keeps each row's bindings and treats each row on
its own: joining the VALUES there keeps exactly the rows whose ?v is in C, together with all that
later elements make of them. Every other row has its ?v outside C, so F is false on it (or an
error): Filter(F, Join(X', VALUES)) = Filter(F, X'). The VALUES lists each literal once, so no row
is repeated. Where the group is an OPTIONAL's, F is the left join's condition, evaluated on the
merged row, which has the same ?v.

Nothing inside Oxigraph's ``LATERAL`` (the planner's per-row steps) is narrowed: its parser refuses
a VALUES there on a variable bound before it (found by test_narrowing_properties), and what it
evaluates per row starts from the row's bindings anyway.

Only where it pays: a pattern with a variable subject, a predicate with at least
``min_literals`` distinct string literals, at most :data:`~.literals.MAX_CANDIDATES` of them
passing. Of several tests on one variable, the one with the fewest candidates is taken.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lod.query.literals import LiteralIndex
from lod.sparql import (
    IRI,
    And,
    BlankNode,
    Call,
    Element,
    Expression,
    Filter,
    Group,
    Lateral,
    Literal,
    Node,
    Query,
    TriplesBlock,
    Values,
    Var,
    transform,
    walk,
)
from lod.sparql.syntax import RDF_LANGSTRING, XSD_STRING

_CONTAINING = frozenset({"CONTAINS", "STRSTARTS", "STRENDS"})
_CASED = frozenset({"LCASE", "UCASE"})
_REGEX_SYNTAX = frozenset("\\.^$|?*+()[]{}")
_HARMLESS_FLAGS = frozenset("ism")  # "x" drops spaces from the pattern, "q" quotes it
_TEXT_FUNCTIONS = ("CONTAINS", "STRSTARTS", "STRENDS", "REGEX")


def may_narrow(text: str) -> bool:
    """Whether a query's canonical text has a function :func:`narrow_text_filters` looks at (a
    shortcut for the many queries without: the decision is made on the tree)."""
    return any(name + "(" in text for name in _TEXT_FUNCTIONS)


def narrow_text_filters(query: Query, literals: LiteralIndex) -> Query:
    """``query`` with each group's text FILTERs narrowed to the literals that may pass them (see
    the module docstring); ``query`` itself where there is none."""
    per_row = {id(group) for lateral in walk(query) if isinstance(lateral, Lateral)
               for group in walk(lateral) if isinstance(group, Group)}

    def narrow(node: Node) -> Node:
        return _group(node, literals) if isinstance(node, Group) and id(node) not in per_row else node

    narrowed = transform(query, narrow)
    assert isinstance(narrowed, Query)
    return narrowed


def _group(group: Group, literals: LiteralIndex) -> Group:
    elements = group.elements
    chosen: dict[Var, tuple[int, list[Literal]]] = {}
    tests = (test for e in elements if isinstance(e, Filter) for test in _text_tests(e.expression))
    for variable, text in tests:
        found = binding_pattern(elements, variable)
        if found is None:
            continue
        index, predicate = found
        candidates = literals.candidates(predicate, text)
        if candidates is not None and (variable not in chosen or len(candidates) < len(chosen[variable][1])):
            chosen[variable] = (end_of_run(elements, index), candidates)
    if not chosen:
        return group
    result = list(elements)
    for variable, (end, candidates) in sorted(chosen.items(), key=lambda item: -item[1][0]):
        result.insert(end, Values((variable,), tuple((literal,) for literal in candidates)))
    return Group(tuple(result))


def _text_tests(expression: Expression) -> Iterator[tuple[Var, str]]:
    """The variables that ``expression``, where true, requires to be string literals containing a
    text in some case, and the texts."""
    if isinstance(expression, And):
        for operand in expression.operands:
            yield from _text_tests(operand)
        return
    if not isinstance(expression, Call):
        return
    arguments = expression.arguments
    text: str | None = None
    if expression.name in _CONTAINING and len(arguments) == 2:
        text = _string(arguments[1])
    elif expression.name == "REGEX" and len(arguments) in (2, 3):
        flags = _string(arguments[2]) if len(arguments) == 3 else ""
        pattern = _string(arguments[1])
        if flags is not None and _HARMLESS_FLAGS.issuperset(flags) and pattern is not None:
            text = _plain(pattern)
    variable = _tested_variable(arguments[0]) if arguments else None
    if variable is not None and text:
        yield variable, text


def _tested_variable(argument: Expression) -> Var | None:
    if isinstance(argument, Call) and argument.name in _CASED and len(argument.arguments) == 1:
        argument = argument.arguments[0]
    return argument if isinstance(argument, Var) else None


def _string(argument: Expression) -> str | None:
    if isinstance(argument, Literal) and argument.datatype in (XSD_STRING, RDF_LANGSTRING):
        return argument.value
    return None


def _plain(pattern: str) -> str | None:
    """The text a REGEX pattern of plain characters matches (anchors at its ends dropped)."""
    text = pattern.removeprefix("^").removesuffix("$")  # an escaped "$" leaves a "\\": refused
    return None if _REGEX_SYNTAX.intersection(text) else text


def binding_pattern(elements: Sequence[Element], variable: Var) -> tuple[int, str] | None:
    """Where a triple pattern of the group has ``variable`` as object, a variable subject and an
    IRI predicate: the element's index and the predicate."""
    for index, element in enumerate(elements):
        if isinstance(element, TriplesBlock):
            for triple in element.triples:
                if triple.object == variable and isinstance(triple.predicate, IRI) \
                        and isinstance(triple.subject, Var | BlankNode):
                    return index, triple.predicate.value
    return None


def end_of_run(elements: Sequence[Element], index: int) -> int:
    """The index after the run of triple patterns and FILTERs that holds element ``index`` (a
    VALUES there splits no basic graph pattern, whose blank nodes it would separate)."""
    end = index + 1
    while end < len(elements) and isinstance(elements[end], TriplesBlock | Filter):
        end += 1
    return end
