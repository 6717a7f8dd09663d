"""Property-based tests: on random small graphs, a query with text FILTERs answers the same, as a
multiset of solutions (in order where its ORDER BY fixes one), narrowed by
:func:`~lod.query.narrowing.narrow_text_filters` and as written.

The graphs' strings and the FILTERs' texts are drawn from characters whose case is tricky: ß and
ẞ, the Kelvin sign, long s, dotted and dotless i, the ligature ﬁ, title-case ǅ, a combining dot,
final sigma, and ƛ, which Unicode 16 gave an upper case (U+A7DC) that Python's database may not
know. The FILTERs test ?v, LCASE(?v), UCASE(?v) or STR(?v) with CONTAINS, STRSTARTS, STRENDS or
REGEX (anchors, metacharacters, the flags i, s, x, q), alone or under && and ||, in groups nested
in OPTIONAL, MINUS, EXISTS, UNION, LATERAL, GRAPH and sub-SELECTs, before or after the triple
pattern that binds the variable, which a pattern outside may have bound already; as written and
as the planner writes them (the server narrows the planned query). A test below checks that the
strategy makes the rewrite happen in each of these places but LATERAL, where it must not (Oxigraph
refuses a VALUES there on a variable bound before it: the first counterexample found).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st

from lod.query import literals
from lod.query.literals import LiteralIndex
from lod.query.narrowing import narrow_text_filters
from lod.query.planner import plan
from lod.rdf.statistics import count as count_statistics
from lod.sparql import (
    IRI,
    Aggregate,
    And,
    Bind,
    BlankNode,
    Call,
    Element,
    Exists,
    Expression,
    Filter,
    Graph,
    Group,
    GroupCondition,
    Lateral,
    Literal,
    Minus,
    Node,
    Optional,
    Or,
    OrderCondition,
    Projection,
    Query,
    SelectQuery,
    TriplePattern,
    TriplesBlock,
    Unary,
    Union,
    Values,
    Var,
    in_scope,
    serialize,
    walk,
)
from lod.sparql.syntax import RDF_LANGSTRING, XSD, XSD_INTEGER, XSD_STRING

from ..sparql import w3c
from .expected import same_answer
from .generate import EX, NODES, PREDICATES
from .test_plan_properties import _failed, _valid

SETTINGS = settings(max_examples=500, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# Few ASCII letters, so that short texts often contain one another; the others for their case.
TRICKY = ("äöüÄÖÜßẞ"
          "\u212a\u017f\u0130\u0131\ufb01\u01c5\u0307"  # Kelvin, long s, dotted and dotless i, fi, Dz, dot
          "\u03a3\u03c3\u03c2\u019b\ua7dc")  # sigma (capital, small, final), barred lambda, its capital
CHARACTERS = "aAsSkKiIbz09 " * 3 + TRICKY
characters = st.sampled_from(CHARACTERS)
# Literals may hold what the VALUES must write back escaped, and a character outside the BMP.
literal_characters = st.one_of(characters, characters, characters, st.sampled_from('"\\\n\t\'\U0001f600'))
texts = st.text(literal_characters, min_size=1, max_size=4)
NEEDLES = st.text(characters, min_size=1, max_size=3)

XSD_DATE = IRI(XSD + "date")
CUSTOM = IRI(EX + "datatype")
GRAPH = IRI(EX + "g")
BLANK = ox.BlankNode("b0")

Object = IRI | Literal | BlankNode
objects: st.SearchStrategy[Object] = st.one_of(
    texts.map(Literal),
    texts.map(Literal),
    st.builds(lambda text, tag: Literal(text, RDF_LANGSTRING, tag), texts, st.sampled_from(["de", "en"])),
    st.integers(0, 12).map(lambda n: Literal(str(n), XSD_INTEGER)),
    st.dates().map(lambda day: Literal(day.isoformat(), XSD_DATE)),
    texts.map(lambda text: Literal(text, CUSTOM)),
    st.sampled_from([*NODES, IRI(EX + "Straße"), BlankNode("b0"), BlankNode("b1"), Literal("")]),
)
Quad = tuple[int, int, Object, bool]
"""A quad of the generated graph: subject (a node, or the blank node after them), predicate,
object, and whether it is in the named graph rather than the default one."""
graphs = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), objects,
                            st.integers(0, 5).map(lambda n: n == 5)), min_size=6, max_size=24)


def _term(term: Object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, IRI):
        return ox.NamedNode(term.value)
    if isinstance(term, BlankNode):
        return ox.BlankNode(term.label)
    if term.language:
        return ox.Literal(term.value, language=term.language)
    return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype.value))


def _store(quads: list[Quad]) -> ox.Store:
    store = ox.Store()
    for subject, predicate, object_, named in quads:
        store.add(ox.Quad(ox.NamedNode(NODES[subject].value) if subject < 3 else BLANK,
                          ox.NamedNode(PREDICATES[predicate].value), _term(object_),
                          ox.NamedNode(GRAPH.value) if named else ox.DefaultGraph()))
    return store


@pytest.fixture(autouse=True, scope="module")
def _narrow_whatever_share_passes() -> Iterator[None]:
    """Narrow even where most of a predicate's literals pass: a graph of a few dozen triples has no
    predicate with eight times more literals than pass (literals.SHARE), and the rewrite is the
    same whichever share passes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(literals, "SHARE", 1)
        yield


# ------------------------------------------------------------------------------------- queries

V, W, S, T = Var("v"), Var("w"), Var("s"), Var("t")
tested = st.sampled_from([V, V, V, W])
Texts = st.SearchStrategy[str]
"""The texts the FILTERs look for (some of them taken from the graph's literals)."""


@st.composite
def patterns(draw: st.DrawFn, needles: Texts) -> str:
    """A REGEX pattern: a plain text (narrowed), anchored (narrowed), or with a metacharacter."""
    text = draw(needles)
    anchored = ["^" + text, text + "$", "^" + text + "$", "^", "$"]
    other = [text[:1] + "." + text[1:], text + "\\$", text + "*", "(" + text + ")"]
    return draw(st.sampled_from([text] * 4 + anchored + other))


@st.composite
def text_tests(draw: st.DrawFn, needles: Texts, variable: Var | None = None) -> Expression:
    """CONTAINS, STRSTARTS, STRENDS or REGEX of a variable, or of its LCASE, UCASE or STR."""
    tested_variable = variable or draw(tested)
    function = draw(st.sampled_from(["CONTAINS", "STRSTARTS", "STRENDS", "REGEX"]))
    wrap = draw(st.sampled_from(["", "", "LCASE", "UCASE", "STR"]))
    argument: Expression = Call(wrap, (tested_variable,)) if wrap else tested_variable
    if function == "REGEX":
        pattern = Literal(draw(patterns(needles)))
        flags = draw(st.sampled_from([None, "", "i", "i", "is", "x", "q"]))
        return Call("REGEX", (argument, pattern) if flags is None else (argument, pattern, Literal(flags)))
    needle = draw(needles)
    language = draw(st.sampled_from([None, None, None, "de", "en"]))
    text = Literal(needle, RDF_LANGSTRING, language) if language else Literal(needle)
    return Call(function, (argument, text))


@st.composite
def conditions(draw: st.DrawFn, needles: Texts, depth: int = 1) -> Expression:
    """A FILTER's expression: mostly text tests, under && (narrowed), || and ! (not), and other
    tests of the same variables."""
    kinds = ["text", "text", "other"] + (["and", "and", "or", "not"] if depth else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "text":
        return draw(text_tests(needles))
    if kind == "other":
        v = draw(tested)
        return draw(st.sampled_from([Call("ISLITERAL", (v,)), Call("BOUND", (W,)),
                                     Call("LANGMATCHES", (Call("LANG", (v,)), Literal("de")))]))
    if kind == "not":
        return Unary("!", draw(text_tests(needles)))
    operands = (draw(conditions(needles, depth - 1)), draw(conditions(needles, depth - 1)))
    return And(operands) if kind == "and" else Or(operands)


SUBJECTS: list[Var | IRI | BlankNode] = [S, S, S, T, NODES[0], BlankNode("x")]
subjects = st.sampled_from(SUBJECTS)
GRAPH_NAMES: list[IRI | Var] = [GRAPH, Var("g")]
predicates = st.sampled_from([*PREDICATES, *PREDICATES, Var("p")])
triples = st.builds(TriplePattern, subjects, predicates, st.sampled_from([V, V, W, W, S]))
blocks = st.lists(triples, min_size=1, max_size=2).map(lambda found: TriplesBlock(tuple(found)))


@st.composite
def values(draw: st.DrawFn) -> Values:
    """A VALUES of the query's own, on a tested variable, with UNDEF."""
    cell: st.SearchStrategy[IRI | Literal | None] = st.one_of(st.none(), texts.map(Literal),
                                                             st.sampled_from(NODES))
    return Values((draw(tested),), tuple((row,) for row in draw(st.lists(cell, min_size=1, max_size=3))))


@st.composite
def sub_selects(draw: st.DrawFn, needles: Texts, depth: int) -> SelectQuery:
    where = draw(groups(needles, depth - 1))
    kind = draw(st.sampled_from(["star", "project", "distinct", "limit", "count"]))
    visible = sorted(in_scope(where), key=lambda v: v.name)
    chosen = tuple(draw(st.lists(st.sampled_from(visible), min_size=1, max_size=2, unique=True))) \
        if visible else (V,)
    if kind == "star":
        return SelectQuery(where=where)
    if kind in ("project", "distinct"):
        return SelectQuery(where=where, projection=chosen, distinct=kind == "distinct")
    if kind == "limit":  # the same rows whichever way they come: ordered by all that is kept
        return SelectQuery(where=where, projection=chosen, distinct=True, limit=draw(st.integers(1, 2)),
                           order_by=tuple(OrderCondition(v) for v in chosen))
    return SelectQuery(where=where, projection=(chosen[0], Projection(Aggregate("COUNT", None), Var("n"))),
                       group_by=(GroupCondition(chosen[0]),))


@st.composite
def elements(draw: st.DrawFn, needles: Texts, depth: int) -> Element:
    kinds = ["triples", "filter", "bind", "values"]
    if depth:
        kinds += ["optional"] * 3 + ["minus", "exists", "union", "select", "lateral", "graph"] * 2 + ["group"]
    kind = draw(st.sampled_from(kinds))
    if kind == "triples":
        return draw(blocks)
    if kind == "filter":
        return Filter(draw(conditions(needles)))
    if kind == "bind":
        return Bind(Call(draw(st.sampled_from(["STR", "LCASE"])), (draw(tested),)), Var("b"))
    if kind == "values":
        return draw(values())
    if kind == "select":
        return draw(sub_selects(needles, depth))
    if kind == "union":
        return Union((draw(groups(needles, depth - 1)), draw(groups(needles, depth - 1))))
    inner = draw(groups(needles, depth - 1))
    if kind == "exists":
        return Filter(Exists(inner, draw(st.booleans())))
    if kind == "graph":
        return Graph(draw(st.sampled_from(GRAPH_NAMES)), inner)
    wrappers: dict[str, type[Optional | Minus | Lateral]] = {
        "optional": Optional, "minus": Minus, "lateral": Lateral}
    return wrappers[kind](inner) if kind in wrappers else inner


@st.composite
def groups(draw: st.DrawFn, needles: Texts, depth: int) -> Group:
    """A group: mostly a triple pattern binding a tested variable and a text test of it (the
    rewrite's case), and up to two more elements, in any order (a FILTER before its pattern)."""
    found: list[Element] = draw(st.lists(elements(needles, depth), max_size=2))
    if draw(st.integers(0, 5)) < 5:
        variable = draw(tested)
        binding = TriplePattern(draw(subjects), draw(st.sampled_from(PREDICATES)), variable)
        test = draw(text_tests(needles, variable))
        if draw(st.integers(0, 3)) == 0:
            test = And((test, draw(conditions(needles, 0))))
        found += [TriplesBlock((binding, *draw(st.lists(triples, max_size=1)))), Filter(test)]
    return Group(tuple(draw(st.permutations(found)))) if found else Group((draw(blocks),))


@st.composite
def optional_shapes(draw: st.DrawFn, needles: Texts) -> Group:
    """A pattern binding ?v, then an OPTIONAL (or MINUS, LATERAL, EXISTS) whose group binds ?v
    again and tests it: for an OPTIONAL, the test is the left join's condition, on rows whose ?v
    the left side bound."""
    left = TriplesBlock((TriplePattern(S, draw(st.sampled_from(PREDICATES)), V),))
    binding = TriplePattern(draw(st.sampled_from([S, T])), draw(st.sampled_from(PREDICATES)), V)
    inner = Group((TriplesBlock((binding,)), Filter(draw(text_tests(needles, V))),
                   *draw(st.lists(elements(needles, 1), max_size=1))))
    wrappers: list[type[Optional | Minus | Lateral]] = [Optional, Optional, Minus, Lateral]
    wrapper = draw(st.sampled_from(wrappers))
    right = wrapper(inner) if draw(st.integers(0, 3)) else Filter(Exists(inner, draw(st.booleans())))
    return Group((left, right, *draw(st.lists(elements(needles, 1), max_size=1))))


@st.composite
def examples(draw: st.DrawFn) -> tuple[list[Quad], SelectQuery]:
    """A graph, and a query whose texts are half the time pieces of the graph's literals, in
    Python's upper or lower case (so that the FILTERs often pass)."""
    quads = draw(graphs)
    strings = [term.value for _, _, term, _ in quads
               if isinstance(term, Literal) and term.datatype in (XSD_STRING, RDF_LANGSTRING)]
    pieces = sorted({case(text[start:start + size]) for text in strings for start in range(len(text))
                     for size in (1, 2, 3) for case in (str, str.upper, str.lower)})
    needles = st.one_of(st.sampled_from(pieces), NEEDLES) if pieces else NEEDLES
    where = draw(st.one_of(groups(needles, 2), optional_shapes(needles)))
    order: tuple[OrderCondition, ...] = ()
    if draw(st.integers(0, 3)) == 0:  # an order that fixes one: by every variable
        order = tuple(OrderCondition(v) for v in sorted(in_scope(where), key=lambda v: v.name))
    return quads, SelectQuery(where=where, distinct=draw(st.integers(0, 4)) == 0, order_by=order)


# ---------------------------------------------------------------------------------------- tests

def _narrowed(store: ox.Store, query: Query, *, planned: bool) -> tuple[Query, Query]:
    """The query before and after narrowing; ``planned``: planned first, as the server does."""
    if planned:
        query = plan(query, statistics=count_statistics(store))
    return query, narrow_text_filters(query, LiteralIndex(store, min_literals=0))


# A LATERAL whose group tests a variable bound before it. The planner writes
# ``?s <q> ?v OPTIONAL { ?t <p> ?v FILTER(...) }`` as ``... LATERAL { OPTIONAL { ... } }``, and
# Oxigraph refuses, in a LATERAL, a VALUES of a variable bound before it.
_LATERAL = SelectQuery(where=Group((
    TriplesBlock((TriplePattern(S, PREDICATES[0], V),)),
    Lateral(Group((TriplesBlock((TriplePattern(S, PREDICATES[0], V),)),
                   Filter(Call("CONTAINS", (V, Literal("a")))))))
)))


@SETTINGS
@given(examples(), st.booleans())
@example(example=([(0, 0, Literal("a"), False)], _LATERAL), planned=False)
def test_narrowed_and_unnarrowed_queries_answer_the_same(example: tuple[list[Quad], SelectQuery],
                                                          planned: bool) -> None:
    quads, tree = example
    store = _store(quads)
    query, narrowed = _narrowed(store, _valid(tree), planned=planned)
    unnarrowed = w3c.answer(store, serialize(query), None)
    if _failed(unnarrowed):
        event("the engine refused the query")
        return
    event("narrowed" if narrowed is not query else "left as it was")
    note(serialize(query))
    note(serialize(narrowed))
    assert same_answer(unnarrowed, w3c.answer(store, serialize(narrowed), None), ordered=bool(query.order_by))


# --------------------------------------------------------------------------- the strategy's reach

PLACES: dict[str, type[Node]] = {"OPTIONAL": Optional, "MINUS": Minus, "EXISTS": Exists, "UNION": Union,
                                 "sub-SELECT": SelectQuery, "LATERAL": Lateral, "GRAPH": Graph}
TEXT_TESTS = ("CONTAINS", "STRSTARTS", "STRENDS", "REGEX")


def _reach(query: Query, narrowed: Query) -> Iterator[str]:
    """What the rewrite did: where it put a VALUES, and on which tests of the variable."""
    before = {id(node) for node in walk(query)}
    added = {id(node) for node in walk(narrowed) if isinstance(node, Values) and id(node) not in before}
    if not added:
        return
    yield "narrowed"
    assert isinstance(narrowed.where, Group)
    if any(id(element) in added for element in narrowed.where.elements):
        yield "the WHERE clause"
    for node in walk(narrowed):
        name = next((name for name, kind in PLACES.items() if isinstance(node, kind)), None)
        if name and node is not narrowed and any(id(inner) in added for inner in walk(node)):
            yield name
        if isinstance(node, Group):
            narrowed_variables = {e.variables[0] for e in node.elements
                                  if isinstance(e, Values) and id(e) in added}
            for test in (c for e in node.elements if isinstance(e, Filter) for c in walk(e.expression)):
                if isinstance(test, Call) and test.name in TEXT_TESTS:
                    argument = test.arguments[0]
                    if argument in narrowed_variables:
                        yield test.name
                    elif isinstance(argument, Call) and argument.arguments[0] in narrowed_variables \
                            and argument.name in ("LCASE", "UCASE"):
                        yield argument.name


def test_the_strategy_narrows_most_queries_everywhere() -> None:
    """Most generated queries are narrowed, in every place and on every test (so the test above
    compares narrowed queries), and a good share of the narrowed ones have rows to compare."""
    reached: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(examples(), st.booleans())
    def count(example: tuple[list[Quad], SelectQuery], planned: bool) -> None:
        quads, tree = example
        store = _store(quads)
        query, narrowed = _narrowed(store, _valid(tree), planned=planned)
        reached["examples"] += 1
        reached.update(set(_reach(query, narrowed)))
        answer = w3c.answer(store, serialize(query), None)
        if narrowed is not query and not _failed(answer) and isinstance(answer, tuple) and answer[1]:
            reached["narrowed, with rows"] += 1

    count()
    places = ["the WHERE clause", *(p for p in PLACES if p != "LATERAL"), *TEXT_TESTS, "LCASE", "UCASE"]
    assert reached["LATERAL"] == 0, "narrowed inside a LATERAL, which Oxigraph may refuse"
    # 40-55% narrowed, a third of them with rows (the rest compare empty answers).
    assert reached["narrowed"] > 0.3 * reached["examples"], reached
    assert reached["narrowed, with rows"] > 0.2 * reached["narrowed"], reached
    assert all(reached[name] for name in places), reached
