"""Spellings that slipped SERVICE past the old token scan: each is refused, or its SERVICE is in
the tree, and the canonical text has exactly the tree's SERVICE clauses."""

from __future__ import annotations

import pytest

from lod.sparql import IRI, SparqlSyntaxError, Var, parse_query, serialize
from lod.sparql.tokens import tokenize

INTERNAL = "http://127.0.0.1:9/"


def service_keywords(text: str) -> int:
    """How many SERVICE keywords a SPARQL text holds, as the grammar's terminals read it."""
    return sum(1 for token in tokenize(text) if token[0] == "SERVICE")


def canonical_services(text: str) -> list[tuple[object, bool]]:
    """The SERVICE clauses of a query that parses, after checking that its canonical text has
    exactly those and reads back to the same tree."""
    query = parse_query(text)
    canonical = serialize(query)
    assert parse_query(canonical) == query
    assert service_keywords(canonical) == len(query.services())
    return [(service.endpoint, service.silent) for service in query.services()]


@pytest.mark.parametrize("text", [
    # Longest match makes SERVICE:x one prefixed name (prefix 'SERVICE', undeclared) ...
    f"PREFIX : <{INTERNAL}> SELECT * {{ SERVICE:x {{ ?s ?p ?o }} }}",
    # ... and when it is declared, a subject followed by '{', which no triple pattern is.
    f"PREFIX : <{INTERNAL}> PREFIX SERVICE: <http://example.org/> SELECT * {{ SERVICE:x {{ ?s ?p ?o }} }}",
    f"PREFIX SERVICEex: <{INTERNAL}> PREFIX ex: <{INTERNAL}> SELECT * {{ SERVICEex:y {{ ?s ?p ?o }} }}",
    f"PREFIX ex: <{INTERNAL}> SELECT * {{ SERVICEex:y {{ ?s ?p ?o }} }}",
    # '<?b)SERVICE#>' is an IRI by longest match (as W3C syn-bad-26 wants), so the FILTER is unclosed.
    f"SELECT * {{ ?a ?p ?b FILTER(?a<?b)SERVICE#>\n<{INTERNAL}> {{ ?s ?p ?o }} }}",
    # Codepoint escapes count inside strings and IRIs only.
    f"SELECT * {{ \\u0053ERVICE <{INTERNAL}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ \\U00000053ERVICE <{INTERNAL}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ S\\u0045RVICE <{INTERNAL}> {{ ?s ?p ?o }} }}",
])
def test_odd_spellings_are_refused(text: str) -> None:
    with pytest.raises(SparqlSyntaxError):
        parse_query(text)


@pytest.mark.parametrize(("text", "expected"), [
    (f"SELECT * {{ SeRvIcE <{INTERNAL}> {{ ?s ?p ?o }} }}", [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ service silent <{INTERNAL}>{{?s ?p ?o}} }}", [(IRI(INTERNAL), True)]),
    (f"PREFIX : <{INTERNAL}> SELECT * {{ SERVICE :x {{ ?s ?p ?o }} }}", [(IRI(INTERNAL + "x"), False)]),
    (f"PREFIX ex: <{INTERNAL}> SELECT * {{ SERVICE ex:y{{ ?s ?p ?o }} }}", [(IRI(INTERNAL + "y"), False)]),
    # With a space, '<' is a comparison, and the SERVICE after the FILTER is read as one.
    (f"SELECT * {{ ?a ?p ?b FILTER(?a< ?b)SERVICE#>\n<{INTERNAL}> {{ ?s ?p ?o }} }}",
     [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ SERVICE ?endpoint {{ ?s ?p ?o }} VALUES ?endpoint {{ <{INTERNAL}> }} }}",
     [(Var("endpoint"), False)]),
    (f"SELECT * {{ {{ SELECT * {{ SERVICE <{INTERNAL}> {{ ?s ?p ?o }} }} }} }}", [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{INTERNAL}> {{ ?s ?p ?o }} }} }}",
     [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ ?s ?p ?o FILTER (1 + 1 = 2 || NOT EXISTS {{ SERVICE <{INTERNAL}> {{ }} }}) }}",
     [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ ?s ?p ?o OPTIONAL {{ SERVICE <{INTERNAL}> {{ ?s ?p ?o }} }} }}", [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ ?s ?p ?o MINUS {{ SERVICE <{INTERNAL}> {{ ?s ?p ?o }} }} }}", [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ GRAPH ?g {{ SERVICE <{INTERNAL}> {{ ?s ?p ?o }} }} }}", [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ {{ }} UNION {{ SERVICE <{INTERNAL}> {{ }} }} }}", [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ LATERAL {{ SERVICE <{INTERNAL}> {{ }} }} }}", [(IRI(INTERNAL), False)]),
    (f"SELECT (EXISTS {{ SERVICE <{INTERNAL}> {{ }} }} AS ?e) {{ }}", [(IRI(INTERNAL), False)]),
    (f"SELECT ?s {{ ?s ?p ?o }} GROUP BY ?s HAVING (EXISTS {{ SERVICE <{INTERNAL}> {{ }} }})",
     [(IRI(INTERNAL), False)]),
    (f"SELECT * {{ ?s ?p ?o }} ORDER BY (NOT EXISTS {{ SERVICE <{INTERNAL}> {{ }} }})",
     [(IRI(INTERNAL), False)]),
    (f"ASK {{ SERVICE <{INTERNAL}> {{ SERVICE <{INTERNAL}a> {{ }} }} }}",
     [(IRI(INTERNAL), False), (IRI(INTERNAL + "a"), False)]),
    # In comments, strings, IRIs and names, SERVICE is not a keyword.
    (f"SELECT * {{ # SERVICE <{INTERNAL}> {{ }}\n ?s ?p 'SERVICE <{INTERNAL}> {{ }}' }}", []),
    (f"SELECT ?SERVICE {{ ?SERVICE <{INTERNAL}SERVICE> \"\"\"\nSERVICE\"\"\" }}", []),
    (f"PREFIX SERVICE: <{INTERNAL}> SELECT * {{ SERVICE:x SERVICE:y SERVICE: }}", []),
    (f"SELECT * {{ ?s ?p '\\u0027 SERVICE <{INTERNAL}> {{ }} #' }}", []),
])
def test_every_service_is_found(text: str, expected: list[tuple[object, bool]]) -> None:
    assert canonical_services(text) == expected


def test_the_canonical_text_of_an_escaped_endpoint_is_plain() -> None:
    query = parse_query("SELECT * { SERVICE <http://127.0.0.1:\\u0039/> { } }")
    assert query.services()[0].endpoint == IRI(INTERNAL)
    assert serialize(query) == f"SELECT * WHERE {{ SERVICE <{INTERNAL}> {{ }} }}"
