"""Reading SPARQL text for updates and SERVICE clauses, which must never slip past."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lod.query_text import ServiceCall, is_update, service_calls, with_endpoints

CALLS = {
    "plain": ("SELECT * WHERE { SERVICE <http://x.example/sparql> { ?s ?p ?o } }",
              [ServiceCall("http://x.example/sparql", False)]),
    "silent, lower case": ("select * where { service silent <http://x/> { } }",
                           [ServiceCall("http://x/", True)]),
    "variable endpoint": ("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", [ServiceCall(None, False)]),
    "prefixed endpoint": ("PREFIX e: <http://x/> SELECT * { SERVICE e:sparql { } }",
                          [ServiceCall(None, False)]),
    "no spaces": ("SELECT*{FILTER(?a<?b)SERVICE<http://x/>{?s?p?o}}", [ServiceCall("http://x/", False)]),
    "escaped keyword": ("SELECT * { \\u0053ERVICE <http://x/> { } }", [ServiceCall("http://x/", False)]),
    "two": ("SELECT * { SERVICE <http://a/> {} SERVICE SILENT <http://b/> {} }",
            [ServiceCall("http://a/", False), ServiceCall("http://b/", True)]),
    "in an IRI": ("SELECT * WHERE { ?s <http://ex/SERVICE> ?o }", []),
    "in a string": ('SELECT * WHERE { ?s ?p "SERVICE <http://x/> {}" }', []),
    "in a long string": ('SELECT * WHERE { ?s ?p """a "SERVICE" <http://x/> {}""" }', []),
    "in a comment": ("# SERVICE <http://x/> {}\nSELECT * {}", []),
    "a variable": ("SELECT ?service WHERE { ?service ?p ?o }", []),
    "a prefixed name": ("PREFIX ex: <http://ex/> SELECT * { ex:SERVICE ?p ?o }", []),
}


@pytest.mark.parametrize(("query", "expected"), CALLS.values(), ids=CALLS.keys())
def test_service_calls(query: str, expected: list[ServiceCall]) -> None:
    assert [(c.endpoint, c.silent) for c in service_calls(query)] == [
        (c.endpoint, c.silent) for c in expected]


def test_endpoints_are_replaced_where_they_stand() -> None:
    query = "SELECT * { SERVICE <http://a/> { ?s ?p 'SERVICE <http://a/>' } SERVICE SILENT <http://b/> {} }"
    calls = service_calls(query)
    rewritten = with_endpoints(query, calls, ["http://127.0.0.1:1/0", "http://127.0.0.1:1/1"])
    assert rewritten == ("SELECT * { SERVICE <http://127.0.0.1:1/0> { ?s ?p 'SERVICE <http://a/>' } "
                         "SERVICE SILENT <http://127.0.0.1:1/1> {} }")


@pytest.mark.parametrize(("text", "update"), [
    ("INSERT DATA { <a:b> <a:c> <a:d> }", True),
    ("PREFIX x: <urn:x#>\n# a comment\nDELETE WHERE { ?s ?p ?o }", True),
    ("BASE <http://x/> load <http://y/>", True),
    ("WITH <http://g/> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", True),
    ("SELECT * WHERE { ?s ?p 'INSERT' }", False),
    ("# DROP ALL\nASK {}", False),
    ("PREFIX insert: <urn:x#> SELECT * { ?s insert:p ?o }", False),
])
def test_is_update(text: str, update: bool) -> None:
    assert is_update(text) is update


@given(st.text())
def test_never_raises(text: str) -> None:
    service_calls(text)
    is_update(text)
