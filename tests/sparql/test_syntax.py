"""The tree's helpers: walk, transform, services and in_scope, as a planner would use them."""

from __future__ import annotations

import pytest

from lod.sparql import (
    IRI,
    Filter,
    Group,
    Lateral,
    Literal,
    Node,
    Optional,
    Service,
    TriplePattern,
    Var,
    in_scope,
    parse_query,
    serialize,
    services,
    transform,
    walk,
)


def test_walk_visits_every_node_depth_first_in_text_order() -> None:
    query = parse_query("ASK { ?a <http://e/p> ?b OPTIONAL { ?b <http://e/q> ?c } FILTER(?c > 1) }")
    variables = [node.name for node in walk(query) if isinstance(node, Var)]
    assert variables == ["a", "b", "b", "c", "c"]
    assert next(iter(walk(query))) is query


def test_transform_returns_the_same_objects_where_nothing_changed() -> None:
    query = parse_query("SELECT * { ?s ?p ?o OPTIONAL { ?s ?q ?r } }")
    assert transform(query, lambda node: node) is query


def test_transform_rebuilds_only_the_path_to_a_change() -> None:
    """A planner's rewrite: OPTIONAL { P } becomes Oxigraph's LATERAL { OPTIONAL { P } }."""
    query = parse_query("SELECT * { ?s ?p ?o OPTIONAL { ?s ?q ?r } FILTER(?o) }")

    def lateral(node: Node) -> Node:
        return Lateral(Group((node,))) if isinstance(node, Optional) else node

    rewritten = transform(query, lateral)
    assert serialize(rewritten) == ("SELECT * WHERE { ?s ?p ?o . LATERAL { OPTIONAL { ?s ?q ?r . } } "  # type: ignore[arg-type]
                                    "FILTER (?o) }")
    assert isinstance(query.where, Group) and isinstance(rewritten.where, Group)  # type: ignore[attr-defined]
    before, after = query.where.elements, rewritten.where.elements  # type: ignore[attr-defined]
    assert after[0] is before[0] and after[2] is before[2]  # the unchanged elements are shared


def test_transform_substitutes_typed_terms_for_parameters() -> None:
    """A stored query's parameter ?name takes a typed RDF term, which is then written safely."""
    query = parse_query("SELECT ?o { ?s <http://e/name> ?name ; <http://e/p> ?o }")

    def bind(node: Node) -> Node:
        return Literal('x" } SERVICE <http://127.0.0.1:9/> { "') if node == Var("name") else node

    rewritten = transform(query, bind)
    assert services(rewritten) == ()
    text = serialize(rewritten)  # type: ignore[arg-type]
    assert parse_query(text) == rewritten and parse_query(text).services() == ()


def test_services_are_found_everywhere() -> None:
    query = parse_query("SELECT (EXISTS { SERVICE <http://a/> {} } AS ?e) "
                        "{ { SELECT * { SERVICE SILENT ?x { } } } MINUS { SERVICE <http://b/> {} } }")
    found = query.services()
    assert all(isinstance(service, Service) for service in found)
    assert {service.endpoint: service.silent for service in found} == {
        IRI("http://a/"): False, Var("x"): True, IRI("http://b/"): False}
    assert len(found) == 3


@pytest.mark.parametrize(("pattern", "expected"), [
    ("{ ?s ?p ?o }", "s p o"),
    ("{ ?s ?p ?o FILTER(?x) }", "s p o"),
    ("{ ?s ?p ?o MINUS { ?s ?q ?m } }", "s p o"),
    ("{ ?s ?p ?o OPTIONAL { ?s ?q ?r } }", "s p o q r"),
    ("{ { ?a ?b ?c } UNION { ?d ?e ?f } }", "a b c d e f"),
    ("{ GRAPH ?g { ?s ?p ?o } }", "g s p o"),
    ("{ SERVICE ?e { ?s ?p ?o } }", "e s p o"),
    ("{ BIND(1 AS ?x) }", "x"),
    ("{ VALUES (?x ?y) { (1 2) } }", "x y"),
    ("{ SELECT ?s (1 AS ?one) { ?s ?p ?o } }", "s one"),
    ("{ SELECT * { ?s ?p ?o } }", "s p o"),
    ("{ ?s <http://e/p>/<http://e/q> [ <http://e/r> ?z ] }", "s z"),
    ("{ FILTER EXISTS { ?s ?p ?o } }", ""),
])
def test_variables_in_scope(pattern: str, expected: str) -> None:
    query = parse_query(f"SELECT * WHERE {pattern}")
    assert in_scope(query.where) == frozenset(Var(name) for name in expected.split())


def test_nodes_are_values() -> None:
    first = parse_query("ASK { ?s <http://e/p> 'x' FILTER(?s) }")
    second = parse_query("ask{$s<http://e/p>\"x\"filter(?s)}")
    assert first == second and hash(first) == hash(second)
    assert TriplePattern(Var("s"), IRI("http://e/p"), Literal("x")) in set(walk(first))
    assert any(isinstance(node, Filter) for node in walk(second))
