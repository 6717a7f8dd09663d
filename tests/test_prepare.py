"""The query layer's first step: parse, decide on the parsed form, hand on the canonical text."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from lod.query.gateway import FederationPolicy, gateway_url
from lod.query.prepare import READ_ONLY, SERVICE_OFF, QueryInvalid, QueryPreparer, QueryRefused

BASE = "http://127.0.0.1:8000/sparql"


@pytest.fixture
def preparer() -> QueryPreparer:
    return QueryPreparer(base_iri=BASE)


@pytest.mark.parametrize("text", [
    "INSERT DATA { <a:b> <a:c> <a:d> }",
    "PREFIX x: <urn:x#>\n# a comment\nDELETE WHERE { ?s ?p ?o }",
    "BASE <http://x/> load <http://y/>",
    "WITH <http://g/> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "drop all",
])
def test_updates_are_refused(preparer: QueryPreparer, text: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        preparer.prepare(text)
    assert str(refused.value) == READ_ONLY and refused.value.status == 403


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { ?s ?p 'INSERT' }",
    "# DROP ALL\nASK {}",
    "PREFIX insert: <urn:x#> SELECT * { ?s insert:p ?o }",
    "SELECT * WHERE { ?s <http://ex/SERVICE> ?o }",
    'SELECT * WHERE { ?s ?p "SERVICE <http://x/> {}" }',
    "# SERVICE <http://x/> {}\nSELECT * {}",
    "PREFIX ex: <http://ex/> SELECT * { ex:SERVICE ?p ?o }",
])
def test_queries_that_only_mention_keywords_run(preparer: QueryPreparer, text: str) -> None:
    prepared = preparer.prepare(text)
    assert "SERVICE {" not in prepared.text and not prepared.services
    ox.Store().query(prepared.text)  # the engine accepts the canonical text


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://x.example/sparql> { ?s ?p ?o } }",
    "SELECT * { SERVICE ?endpoint { ?s ?p ?o } }",
    "PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE :x { ?s ?p ?o } }",
    "SELECT*{FILTER(?a<?b)SERVICE<http://x/>{?s?p?o}}",
    "SELECT * { { SELECT * { OPTIONAL { SERVICE SILENT <http://x/> {} } } } }",
    "ASK { FILTER NOT EXISTS { SERVICE <http://x/> {} } }",
])
def test_service_is_refused_when_federation_is_off(preparer: QueryPreparer, text: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        preparer.prepare(text)
    assert str(refused.value) == SERVICE_OFF


def test_an_escaped_keyword_is_no_keyword(preparer: QueryPreparer) -> None:
    # Codepoint escapes count only in strings and IRIs (as the engine reads them).
    with pytest.raises(QueryInvalid, match="column 12"):
        preparer.prepare("SELECT * { \\u0053ERVICE <http://x/> {} }")


def test_allowed_endpoints_go_to_the_gateway() -> None:
    allowed = "http://allowed.example/sparql"
    preparer = QueryPreparer(base_iri=BASE, federation=FederationPolicy.of(endpoints=[allowed]))
    prepared = preparer.prepare(f"SELECT * {{ SERVICE <{allowed}> {{ ?s ?p ?o }} }}")
    assert allowed not in prepared.text and gateway_url(0) in prepared.text
    assert prepared.services == (allowed,)


@pytest.mark.parametrize(("text", "where"), [
    ("SELECT * WHERE { ?s ?p ?o", "line 1"),
    ("SELECT * WHERE {\n  ?s foaf:name ?o }", "foaf"),
    ('ASK { ?s ?p "\\U00110000" }', "line 1"),
])
def test_invalid_queries_say_where(preparer: QueryPreparer, text: str, where: str) -> None:
    with pytest.raises(QueryInvalid) as invalid:
        preparer.prepare(text)
    assert where in str(invalid.value) and invalid.value.status == 400


def test_relative_iris_resolve_against_the_endpoint(preparer: QueryPreparer) -> None:
    prepared = preparer.prepare("CONSTRUCT { <s> <p> 1 } WHERE {}")
    assert "<http://127.0.0.1:8000/s>" in prepared.text


def test_the_same_text_is_prepared_once(preparer: QueryPreparer) -> None:
    text = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
    assert preparer.prepare(text) is preparer.prepare(text)
