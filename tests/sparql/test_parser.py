"""parse_query: what it builds, what it refuses, and what its errors say."""

from __future__ import annotations

import pytest

from lod.errors import LodError
from lod.sparql import (
    IRI,
    AskQuery,
    Binary,
    BlankNode,
    ConstructQuery,
    DescribeQuery,
    Filter,
    Group,
    Literal,
    Optional,
    Projection,
    SelectQuery,
    SparqlSyntaxError,
    TriplePattern,
    TriplesBlock,
    Unary,
    UpdateNotAllowed,
    Var,
    parse_query,
    walk,
)
from lod.sparql.syntax import (
    RDF_FIRST,
    RDF_NIL,
    RDF_REST,
    RDF_TYPE,
    XSD_BOOLEAN,
    XSD_DECIMAL,
    XSD_DOUBLE,
    XSD_INTEGER,
)

EX = "http://example.org/"


def triples(text: str, **options: object) -> tuple[TriplePattern, ...]:
    """The triple patterns of the query's WHERE clause, in order."""
    query = parse_query(text, **options)  # type: ignore[arg-type]
    return tuple(node for node in walk(query.where) if isinstance(node, TriplePattern))


# ------------------------------------------------------------------------------------ error messages

@pytest.mark.parametrize(("text", "line", "column", "reason"), [
    ("SELECT * WHERE {\n  ?s ?p ?o .\n    FOO\n}", 3, 5, "expected '}' or a triple pattern, found 'FOO'"),
    ("PREFIX ex: <http://e/>\nSELECT * { ?s foaf:name ?o }", 2, 15,
     "the prefix 'foaf:' is not declared; add PREFIX foaf: <…>"),
    ("SELECT * { <a> ?p ?o }", 1, 12,
     "the IRI <a> is relative and there is no base IRI to resolve it against; write it in full or add "
     "BASE <…>"),
    ("SELECT * { ?s ?p ?o ", 1, 21, "expected '}' or a triple pattern, found the end of the query"),
    ("SELECT * { ?s ?p 'abc }", 1, 18, "this string is not closed before the end of the line"),
    ("SELECT * { ?s ?p 'a\\qb' }", 1, 18,
     "the escape '\\\\q' is not allowed in a string; allowed are \\t \\b \\n \\r \\f \\\" \\' \\\\ "
     "\\uXXXX \\UXXXXXXXX"),
    ("SELECT * {\n \\u0053ERVICE <http://x/> {} }", 2, 2,
     "a backslash outside a string or an IRI: codepoint escapes such as \\u0041 are only allowed inside "
     "strings and IRIs"),
    ("SELECT * { ?s ?p '\\U00110000' }", 1, 19,
     "the escape \\U00110000 does not stand for a character (U+110000 is past U+10FFFF)"),
    ("SELECT * { ?s ?p 'x\\uDC00' }", 1, 20,
     "the escape \\uDC00 does not stand for a character (U+DC00 is half of a surrogate pair)"),
    ("SELECT * { ?s ?p <http://a/\\u003E> }", 1, 19,
     "an escape in this IRI stands for '>', which an IRI may not hold"),
    ("SELECT * { ?s ?p ?o FILTER(?a<?b&&?c>?d) }", 1, 30,
     "expected ')', found '<?b&&?c>' (read as an IRI, because it runs from '<' to '>' without a space; "
     "if '<' is a comparison, put a space after it)"),
    ("ASK { ?s <http://a b> ?o }", 1, 10,
     "expected a predicate (an IRI, 'a', a variable or a property path), found '<' (if an IRI starts here: "
     "an IRI may not hold spaces or any of <>\"{}|^`\\)"),
    ("SELECT ?x { ?s ?p ?o } GROUP BY ?s", 1, 8,
     "?x is neither grouped nor aggregated: add it to GROUP BY or use an aggregate such as SAMPLE(?x)"),
    ("SELECT * { ?s ?p ?o } GROUP BY ?s", 1, 1,
     "SELECT * cannot be used with GROUP BY or aggregates; list the variables to select"),
    ("SELECT * {\n  ?s ?p ?o\n  BIND(1 AS ?o) }", 3, 3,
     "?o is already in scope here, so BIND cannot assign it (SPARQL 1.1 §18.2.1); choose a new variable"),
    ("SELECT (1 AS ?s) { ?s ?p ?o }", 1, 8,
     "?s is already bound in the WHERE clause, so '(... AS ?s)' cannot assign it; choose a new name"),
    ("SELECT ?x (2 AS ?x) {}", 1, 11, "?x is selected twice"),
    ("SELECT * { ?s ?p ?o } LIMIT -1", 1, 29, "expected a whole number after LIMIT, found '-1'"),
    ("SELECT * { ?s ?p ?o } LIMIT 99999999999999999999999", 1, 29,
     "LIMIT 99999999999999999999999 is larger than 9223372036854775807"),
    ("SELECT * { ?s ?p ?o . FILTER(COUNT(?o) > 1) }", 1, 30,
     "the aggregate COUNT may only be used in SELECT, HAVING or ORDER BY, and not inside another aggregate"),
    ("SELECT (SUM(MAX(?o)) AS ?x) { ?s ?p ?o }", 1, 13,
     "the aggregate MAX may only be used in SELECT, HAVING or ORDER BY, and not inside another aggregate"),
    ("SELECT (STR(?a, ?b) AS ?c) {}", 1, 9, "STR takes 1 argument, found 2"),
    ("SELECT (REGEX(?a) AS ?c) {}", 1, 9, "REGEX takes 2 to 3 arguments, found 1"),
    ("SELECT * { ?s A ?o }", 1, 15,
     "expected a predicate (an IRI, 'a', a variable or a property path), found 'A'"),
    ("SELECT * { VALUES (?a) { (1 2) } }", 1, 26, "this row has 2 values for 1 variable"),
    ("SELECT * { ?s ?p ?o } extra", 1, 23, "expected the end of the query, found 'extra'"),
    ("", 1, 1, "expected SELECT, CONSTRUCT, DESCRIBE or ASK, found the end of the query"),
    ("SELECT * { ?s ?p <http://[::1> }", 1, 18, "<http://[::1> is not a valid IRI (RFC 3987)"),
    ("SELECT * { ?s ?p ?o } ☃", 1, 23, "unexpected character '☃' (U+2603)"),
    ("SELECT * { ?s ?p ?o \ud800 }", 1, 21, "U+D800 is half of a UTF-16 surrogate pair, not a character"),
    ("PREFIX : <http://e/>\nSELECT * { :a :b :c\\:z }", 2, 20,
     "the escape '\\\\:' is not allowed in a prefixed name; allowed are a backslash before one of "
     "_ ~ . - ! $ & ' ( ) * + , ; = / ? # @ %"),
    ("SELECT * { _:a ?p ?o { _:a ?p ?o } }", 1, 24,
     "the blank node _:a is already used in another basic graph pattern; a blank node label stands for one "
     "node within one pattern: use a variable to join patterns"),
    ("SELECT * { ?s ?p ?o FILTER ?o }", 1, 28,
     "expected '(', a function call or EXISTS after FILTER, found '?o'"),
    ("SELECT * { ?s ?p ?o ?a ?b ?c }", 1, 21, "expected '.' or '}', found '?a'"),
    ("SELECT * { FILTER(1 < 2 < 3) }", 1, 25, "expected ')', found '<'"),
    ("SELECT * { FILTER(!!true) }", 1, 20, "expected an expression, found '!'"),
])
def test_error_says_where_and_what(text: str, line: int, column: int, reason: str) -> None:
    with pytest.raises(SparqlSyntaxError) as caught:
        parse_query(text)
    error = caught.value
    assert (error.line, error.column, error.reason) == (line, column, reason)
    assert str(error) == f"line {line}, column {column}: {reason}"
    lines = text.split("\n")
    assert error.offset == sum(len(before) + 1 for before in lines[:line - 1]) + column - 1


def test_errors_are_value_errors_with_a_status() -> None:
    with pytest.raises(ValueError) as caught:
        parse_query("SELECT")
    assert isinstance(caught.value, LodError) and caught.value.status == 400


# ------------------------------------------------------------------------------------------ updates

@pytest.mark.parametrize("keyword", ["INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE",
                                     "ADD", "WITH", "insert", "dElEtE"])
def test_an_update_is_refused_as_such(keyword: str) -> None:
    text = f"PREFIX ex: <{EX}>\nBASE <{EX}>\n{keyword} DATA {{ ex:a ex:b ex:c }}"
    with pytest.raises(UpdateNotAllowed) as caught:
        parse_query(text)
    assert caught.value.keyword == keyword.upper()
    assert caught.value.status == 403
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_update_keywords_elsewhere_are_names_or_errors() -> None:
    """Only the first keyword after the prologue decides; INSERT later is just a bad token, and
    a prefix named like an update keyword is a prefix."""
    assert isinstance(parse_query(f"PREFIX insert: <{EX}> ASK {{ insert:a insert:b insert:c }}"), AskQuery)
    with pytest.raises(SparqlSyntaxError) as caught:
        parse_query("ASK { } INSERT")
    assert not isinstance(caught.value, UpdateNotAllowed)


# ------------------------------------------------------------------------------------- IRIs and names

def test_prefixes_expand_and_the_query_wins_over_predeclared_ones() -> None:
    text = f"PREFIX ex: <{EX}> SELECT * {{ ex:a foaf:knows dc:x }}"
    found = triples(text, prefixes={"ex": "http://other/", "foaf": "http://xmlns.com/foaf/0.1/",
                                    "dc": "http://purl.org/dc/terms/"})
    assert found == (TriplePattern(IRI(EX + "a"), IRI("http://xmlns.com/foaf/0.1/knows"),
                                   IRI("http://purl.org/dc/terms/x")),)


def test_prefixed_names_take_escapes_percents_colons_and_dots() -> None:
    (triple,) = triples(f"PREFIX : <{EX}> ASK {{ :a\\,b :c%20d :e:f.g }}")
    assert triple == TriplePattern(IRI(EX + "a,b"), IRI(EX + "c%20d"), IRI(EX + "e:f.g"))


@pytest.mark.parametrize(("text", "base", "expected"), [
    ("ASK { <g> <p> <#o> }", "http://a/b/c/d;p?q", ("http://a/b/c/g", "http://a/b/c/p", "http://a/b/c/d;p?q#o")),
    ("BASE <http://x/y/> ASK { <../g> <p> <//h/o> }", "http://ignored/",
     ("http://x/g", "http://x/y/p", "http://h/o")),
    ("BASE <sub/> ASK { <g> <p> <o> }", "http://a/b", ("http://a/sub/g", "http://a/sub/p", "http://a/sub/o")),
    ("PREFIX x: <ns/> ASK { x:g x:p x:o }", "http://a/", ("http://a/ns/g", "http://a/ns/p", "http://a/ns/o")),
    # An absolute IRI is kept as written: the engine does not remove its dot segments either.
    ("ASK { <http://a/b/../g> <p> <o> }", "http://a/", ("http://a/b/../g", "http://a/p", "http://a/o")),
])
def test_relative_iris_are_resolved(text: str, base: str, expected: tuple[str, str, str]) -> None:
    (triple,) = triples(text, base_iri=base)
    assert (triple.subject, triple.predicate, triple.object) == tuple(IRI(value) for value in expected)


def test_a_base_iri_argument_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="not an absolute IRI"):
        parse_query("ASK {}", base_iri="relative/")


def test_codepoint_escapes_count_in_strings_and_iris_only() -> None:
    (triple,) = triples("ASK { <http://a/\\u0062> <http://a/p> 'it\\u0027s \\U0001F600' }")
    assert triple.subject == IRI("http://a/b")
    # An escaped apostrophe is a character of the string, not its end, as in the engine.
    assert triple.object == Literal("it's \U0001f600")


# ------------------------------------------------------------------------------------- terms and forms

def test_keywords_ignore_case_but_a_does_not() -> None:
    query = parse_query("select DiStInCt ?s where { ?s a ?o . filter(IsIrI(?s) && TRUE) } LiMiT 1")
    assert isinstance(query, SelectQuery) and query.distinct and query.limit == 1
    (triple,) = triples("ask { ?s a ?o }")
    assert triple.predicate == RDF_TYPE


def test_dollar_and_question_mark_name_the_same_variable() -> None:
    (triple,) = triples("ASK { $x ?p ?x }")
    assert triple.subject == triple.object == Var("x")


def test_numbers_keep_their_lexical_form() -> None:
    objects = [found.object for found in triples("ASK { ?s ?p 01 , 1.50 , -1e0 , +7 , TRUE }")]
    assert objects == [Literal("01", XSD_INTEGER), Literal("1.50", XSD_DECIMAL), Literal("-1e0", XSD_DOUBLE),
                       Literal("+7", XSD_INTEGER), Literal("true", XSD_BOOLEAN)]


def test_a_signed_number_after_an_operand_is_an_operator() -> None:
    """§19.8 rule [116]: ``?x -1`` subtracts, and ``* 2`` binds to the number."""
    query = parse_query("SELECT (?x -1 * 2 AS ?y) (- 1 AS ?z) (-1 AS ?w) {}")
    assert isinstance(query, SelectQuery) and query.projection is not None
    first, second, third = (item.expression for item in query.projection if isinstance(item, Projection))
    one, two = Literal("1", XSD_INTEGER), Literal("2", XSD_INTEGER)
    assert first == Binary("-", Var("x"), Binary("*", one, two))
    assert second == Unary("-", one)
    assert third == Literal("-1", XSD_INTEGER)


def test_anonymous_nodes_and_collections_are_expanded_with_labels_of_their_own() -> None:
    found = triples("ASK { [ <http://a/p> ( 1 ?x ) ] <http://a/q> _:_b1 }")
    fresh = {term for triple in found for term in (triple.subject, triple.object)
             if isinstance(term, BlankNode)}
    assert BlankNode("_b1") in fresh and len(fresh) == 4  # the query's own and three made up
    made_up = fresh - {BlankNode("_b1")}
    assert all(not node.label.startswith("_b") or node.label.startswith("_bb") for node in made_up)
    predicates = [triple.predicate for triple in found]
    assert predicates.count(RDF_FIRST) == 2 and predicates.count(RDF_REST) == 2
    assert any(triple.object == RDF_NIL for triple in found)


def test_a_filter_does_not_end_a_basic_graph_pattern() -> None:
    query = parse_query("ASK { _:a ?p ?o . FILTER(?o) _:a ?q ?r }")
    assert isinstance(query.where, Group)
    assert [type(element) for element in query.where.elements] == [TriplesBlock, Filter, TriplesBlock]


def test_query_forms() -> None:
    construct = parse_query("CONSTRUCT { ?s ?p [] } WHERE { ?s ?p ?o }")
    assert isinstance(construct, ConstructQuery) and construct.template is not None
    short = parse_query("CONSTRUCT WHERE { ?s ?p ?o }")
    assert isinstance(short, ConstructQuery) and short.template is None
    describe = parse_query("DESCRIBE ?s <http://a/> FROM <http://g/> FROM NAMED <http://n/>")
    assert isinstance(describe, DescribeQuery)
    assert describe.terms == (Var("s"), IRI("http://a/")) and describe.where == Group()
    assert describe.default_graphs == (IRI("http://g/"),) and describe.named_graphs == (IRI("http://n/"),)
    everything = parse_query("DESCRIBE * WHERE { ?s ?p ?o } ORDER BY ?s OFFSET 2 LIMIT 3")
    assert isinstance(everything, DescribeQuery) and everything.terms is None
    assert (everything.limit, everything.offset) == (3, 2)


def test_sub_select_optional_and_values() -> None:
    query = parse_query("SELECT ?s { OPTIONAL { SELECT ?s { ?s ?p ?o } LIMIT 1 } } "
                        "VALUES ?s { <http://a/> UNDEF }")
    assert isinstance(query, SelectQuery) and query.values is not None
    assert query.values.rows == ((IRI("http://a/"),), (None,))
    assert isinstance(query.where, Group)
    (optional,) = query.where.elements
    assert isinstance(optional, Optional) and isinstance(optional.pattern, SelectQuery)


@pytest.mark.parametrize("text", [
    "SELECT ?x (COUNT(*) AS ?n) { ?x ?p ?o } GROUP BY ?x HAVING (COUNT(*) > 1) ORDER BY DESC(COUNT(*))",
    "SELECT (?k + 1 AS ?j) (SUM(?o) AS ?s) { ?x ?p ?o } GROUP BY (?x AS ?k)",
    "SELECT (COUNT(*) AS ?n) (?n + 1 AS ?m) { ?x ?p ?o }",
    "SELECT (GROUP_CONCAT(DISTINCT ?o ; SEPARATOR = ', ') AS ?all) { ?x ?p ?o }",
    "SELECT * { ?s ?p ?o BIND(?o AS ?p2) FILTER NOT EXISTS { BIND(1 AS ?o) } }",
    "SELECT * { { ?s ?p ?o } UNION { BIND(1 AS ?o) } }",
    "SELECT * { ?s ?p ?o MINUS { ?s ?q ?r } BIND(1 AS ?r) }",
    "SELECT (1 AS ?x) { SELECT ?y { ?x ?p ?y } }",
    "SELECT * { ?s !(a|^<http://a/p>)/<http://a/q>* ?o . ?s ^a|!() ?x }",
    "SELECT * { ?s <http://a/p> ?o } VALUES () { () () }",
    "SELECT * { LATERAL { SELECT * { ?s ?p ?o } LIMIT 1 } }",
])
def test_valid_queries_parse(text: str) -> None:
    parse_query(text)
