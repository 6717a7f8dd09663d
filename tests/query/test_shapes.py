"""Query shapes: a query prepared from its shape's template gets exactly what preparing it the
whole way gives (the text, what it is, or the refusal), whatever IRIs and strings it holds.

The reference is a preparer that keeps nothing (``cache_size=0``), so it prepares every query the
whole way; the other has learnt the shape from two queries of it before it meets the variants.
Variants put other terms in each place: escapes, relative IRIs, long strings, terms the parser
refuses, and texts that look like the placeholders' marks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lod.query.prepare
import lod.sparql.shapes
from lod.errors import LodError
from lod.query.prepare import PreparedQuery, QueryPreparer
from lod.sparql import serialize
from lod.sparql.shapes import MAX_TOKENS, Shape, shape_of
from tests.query import generate
from tests.sparql import w3c

BASE = "http://example.org/sparql"

QUERIES = [
    # the planner's rewrites: OPTIONAL and MINUS made lateral, EXISTS as lookups, BIND inlined
    """PREFIX org: <http://www.w3.org/ns/org#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    SELECT ?m ?name ?key WHERE { ?m org:organization <https://w3id.org/lod-ikz/cooperation/1> .
      OPTIONAL { ?m org:member ?o . ?o org:identifier ?key } ?m skos:prefLabel ?name
      OPTIONAL { ?o skos:altLabel ?alt FILTER(LANG(?alt) = "de") } MINUS { ?m a org:Role } }""",
    """PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:p ?o
      FILTER NOT EXISTS { ?o ex:q/ex:r "x" ; ex:s <y> } BIND(CONCAT(?o, "suffix") AS ?c)
      FILTER(?c != 'other') }""",
    """SELECT (GROUP_CONCAT(?n ; SEPARATOR = ", ") AS ?names) (COUNT(*) AS ?k) WHERE {
      VALUES (?x ?label) { (<a> "eins"@de) (<http://example.org/b> 'two'@en-GB) (UNDEF "3") }
      ?x <http://example.org/n> ?n FILTER(REGEX(?n, "^Gü", "i") || ?n IN ("a", "b")) }
      GROUP BY ?x HAVING (COUNT(?n) > 1) ORDER BY DESC(?k) LIMIT 10 OFFSET 5""",
    """PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> PREFIX : <http://example.org/ns#>
    CONSTRUCT { ?s :label ?l ; :kind :Thing ; :n "7"^^xsd:integer } FROM <http://example.org/g>
    WHERE { GRAPH ?g { ?s :label ?l } FILTER(IRI(?l) != <rel> && STRSTARTS(STR(?s), "http")) }""",
    "DESCRIBE <http://example.org/a> ?x WHERE { ?x <http://example.org/knows> <b> }",
    "ASK { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> \"Gütersloh\"@de }",
    """PREFIX ex: <http://example.org/> SELECT ?s WHERE { ?s ex:a\\.b ?o ; ex:%41 ?p ; ex:1 ex:x.y
      FILTER(?o = '''long
      string''' && LANG(?p) = "de") }""",
]

STRINGS = ['"x"', "''", '"\\u00e9\\t\\"quoted\\""', "'''two\nlines'''", '"\\uD800"', '"\\U00110000"',
           '"_:b1 <x> ?y SERVICE"', '"Gütersloh"', '"lod0123456789abcdef0z"']
IRIS = ["<http://example.org/other#x>", "<relative/path?q=1>", "<>", "<#fragment>",
        "<http://example.org/\\u0041>", "<\\u003E>", "<http://example.org/%zz>", "<x-lod-slot:lodx0z>",
        "<http://[::1]:8890/>", "<urn:x:ü>"]
LOCALS = ["other", "a\\.b", "%41x", "1", "a.b", "x-y", "ü", ""]


def variants(text: str, shape: Shape, rng: random.Random, count: int) -> Iterator[str]:
    """``count`` texts of ``shape`` with other terms in its places (each term's replacement drawn
    by ``rng``); a replacement that makes another shape is left out."""
    for _ in range(count):
        pieces, end = [], len(text)
        for kind, term, start in reversed(shape.terms):
            if kind == "string":
                other = rng.choice(STRINGS)
            elif kind == "iri":
                other = rng.choice(IRIS)
            else:
                other = term[:term.index(":") + 1] + (rng.choice(LOCALS) or "x")
            pieces.append(text[start + len(term):end])
            pieces.append(other)
            end = start
        pieces.append(text[:end])
        variant = "".join(reversed(pieces))
        found = shape_of(variant)
        if found is None or found.key == shape.key:  # with no shape, it is prepared the whole way
            yield variant


def outcome(preparer: QueryPreparer, text: str) -> PreparedQuery | tuple[type, str]:
    try:
        return preparer.prepare(text)
    except LodError as refusal:
        return type(refusal), str(refusal)


def check_shape(text: str, *, seed: int, count: int = 6, prefixes: dict[str, str] | None = None) -> int:
    """Prepare variants of ``text`` from its shape's template and the whole way (with ``prefixes``
    declared for every query); returns how many were compared."""
    shape = shape_of(text)
    if shape is None or not shape.terms:
        return 0
    whole = QueryPreparer(base_iri=BASE, cache_size=0, prefixes=prefixes)
    if isinstance(outcome(whole, text), tuple):
        return 0  # a refused query teaches no shape
    learning = QueryPreparer(base_iri=BASE, prefixes=prefixes)
    learning.prepare(text)
    learning.prepare(text + " ")  # the same shape, another text: learnt now
    compared = 0
    for variant in variants(text, shape, random.Random(seed), count):
        assert outcome(learning, variant) == outcome(whole, variant), variant
        compared += 1
    return compared


@pytest.mark.parametrize("text", QUERIES)
def test_a_shapes_queries_are_prepared_as_the_whole_way(text: str) -> None:
    assert check_shape(text, seed=1, count=40) >= 20


PREDECLARED = {"foaf": "http://xmlns.com/foaf/0.1/", "ex": "http://example.org/ns#", "": "http://example.org/"}


@pytest.mark.parametrize("text", [
    'SELECT ?name WHERE { ?who foaf:name ?name ; ex:kind ex:city . FILTER(?name != "x") }',
    "PREFIX ex: <http://example.org/other#> SELECT * WHERE { ?s ex:p :o ; foaf:knows ?k }",
    'ASK { :a foaf:name "Düren"@de }',
])
def test_predeclared_prefixes_are_filled_in_as_the_whole_way(text: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_shape(text, seed=3, count=40, prefixes=PREDECLARED) >= 20
    # ... from the template: once learnt, no query of the shape is parsed.
    shape = shape_of(text)
    assert shape is not None
    whole = QueryPreparer(base_iri=BASE, cache_size=0, prefixes=PREDECLARED)
    expected = {v: outcome(whole, v) for v in variants(text, shape, random.Random(4), 40)
                if shape_of(v) is not None}
    valid = [v for v, prepared in expected.items() if not isinstance(prepared, tuple)]
    preparer = QueryPreparer(base_iri=BASE, prefixes=PREDECLARED)
    preparer.prepare(text + " ")
    preparer.prepare(text + "  ")
    parsed: list[str] = []
    parse = lod.query.prepare.parse_query
    monkeypatch.setattr(lod.query.prepare, "parse_query",
                        lambda text, **options: parsed.append(text) or parse(text, **options))
    for variant in valid:
        assert preparer.prepare(variant) == expected[variant]
    assert len(valid) > 5 and parsed == []


@pytest.mark.parametrize("text", QUERIES)
def test_the_template_is_used(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the shape is learnt, its queries are not parsed; once a query written like another was
    seen, the next is known by its outline, without being read into tokens."""
    shape = shape_of(text)
    assert shape is not None
    whole = QueryPreparer(base_iri=BASE, cache_size=0)
    expected = {variant: outcome(whole, variant) for variant in variants(text, shape, random.Random(2), 80)
                if shape_of(variant) is not None}
    valid = [variant for variant, prepared in expected.items() if not isinstance(prepared, tuple)]
    preparer = QueryPreparer(base_iri=BASE)
    preparer.prepare(text + " ")
    preparer.prepare(text + "  ")
    parsed: list[str] = []
    read: list[str] = []
    parse, shape_of_ = lod.query.prepare.parse_query, lod.query.prepare.shape_of
    monkeypatch.setattr(lod.query.prepare, "parse_query",
                        lambda text, **options: parsed.append(text) or parse(text, **options))
    monkeypatch.setattr(lod.query.prepare, "shape_of", lambda text: read.append(text) or shape_of_(text))
    for variant in valid:
        assert preparer.prepare(variant) == expected[variant]
    assert len(valid) > 1 and parsed == [] and read == valid[:1]


def _w3c_texts() -> list[object]:
    cases = w3c.cases(w3c.POSITIVE | w3c.EVALUATION)
    if not cases:
        absent = pytest.mark.skip(reason=f"W3C test suites not found at {w3c.SUITES}")
        return [pytest.param(None, marks=absent)]
    return [pytest.param(case, id=case.id) for case in cases]


@pytest.mark.parametrize("case", _w3c_texts())
def test_w3c_queries_are_prepared_from_their_shapes_as_the_whole_way(case: w3c.Case) -> None:
    check_shape(case.text(), seed=hash(case.id) & 0xFFFF)


@given(tree=generate.queries(), seed=st.integers(0, 1 << 16))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_queries_are_prepared_from_their_shapes_as_the_whole_way(tree: object, seed: int) -> None:
    check_shape(serialize(tree), seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "why"), [
    ("BASE <http://example.org/> SELECT * { ?s ?p <x> }", "its IRIs resolve against its own base"),
    ("SELECT * { SERVICE <http://example.org/s> { ?s ?p 'x' } }", "a SERVICE endpoint is decided on"),
    ("SELECT * { _:a ?p 'x' }", "fresh blank node labels avoid the text's"),
    ("SELECT * { ?s ?p 'x' } x.x.x.x", "a cut name: the lexer reads to the end of the run"),
    ("ASK { " + "?s ?p 'x' . " * (MAX_TOKENS // 4) + "}", "too long"),
    ("ASK { ?s ?p 'unclosed }", "no query"),
])
def test_queries_without_a_shape(text: str, why: str) -> None:
    assert shape_of(text) is None, why


def test_what_stays_in_the_shape() -> None:
    shape = shape_of("""PREFIX ex: <http://example.org/>
        SELECT ?s WHERE { ?s ex:p "1"^^ex:t , 'a'@de , -1 , true , "b" ; <q> ?o } LIMIT 5""")
    assert shape is not None
    assert [term for _, term, _ in shape.terms] == ["ex:p", "'a'", '"b"', "<q>"]
    assert {"<http://example.org/>", '"1"', "ex:t", "@de", "-1", "true", "5"} <= set(shape.key)
    assert shape.key == shape_of(shape.placeholder(lod.sparql.shapes.Marker())).key  # type: ignore[union-attr]
