"""Our endpoint as a SERVICE target: the requests federation engines (FedX, Comunica, Jena,
Virtuoso) send, over HTTP to a live server, checked against the store evaluated directly."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from lod.rdf.store import open_store, select
from lod.release.layout import open_release

from .conftest import ServerFactory

ORG = "http://www.w3.org/ns/org#"
LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
BASE = "https://w3id.org/lod-ikz/id/"
# FedX and Comunica list several formats with q-values; Jena's default is similar.
FEDX_ACCEPT = ("application/sparql-results+json;q=1.0, application/sparql-results+xml;q=0.9, "
               "text/csv;q=0.5, */*;q=0.1")


@pytest.fixture(scope="module")
def endpoint(release_dir: Path, lod_server: ServerFactory) -> str:
    return f"{lod_server(release_dir, workers=2)}sparql"


def post(endpoint: str, query: str, accept: str = FEDX_ACCEPT) -> tuple[str, bytes]:
    request = urllib.request.Request(endpoint, data=urllib.parse.urlencode({"query": query}).encode(),
                                     headers={"Accept": accept,
                                              "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["Content-Type"], response.read()


def expected(release_dir: Path, query: str) -> set[tuple[str, ...]]:
    store = open_store(open_release(release_dir).store_path)
    return {tuple(str(term) if term is not None else "" for term in row) for row in select(store, query)}


def served(body: bytes) -> set[tuple[str, ...]]:
    document = json.loads(body)
    variables = document["head"]["vars"]
    terms = []
    for binding in document["results"]["bindings"]:
        row = []
        for name in variables:
            value = binding.get(name)
            if value is None:
                row.append("")
            elif value["type"] == "uri":
                row.append(f"<{value['value']}>")
            elif value["type"] == "bnode":
                row.append(f"_:{value['value']}")
            else:
                row.append(str(ox.Literal(value["value"], language=value.get("xml:lang"),
                                          datatype=ox.NamedNode(value["datatype"]) if "datatype" in value
                                          else None)))
        terms.append(tuple(row))
    return set(terms)


def test_source_selection_by_ask(endpoint: str) -> None:
    for pattern, answer in ((f"?s <{ORG}member> ?o", True), ("?s <http://example.org/none> ?o", False)):
        media_type, body = post(endpoint, f"ASK {{ {pattern} }}")
        assert media_type.startswith("application/sparql-results+json")
        assert json.loads(body)["boolean"] is answer


def test_cardinality_estimate_by_count(endpoint: str, release_dir: Path) -> None:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?m <{ORG}member> ?o }}"
    _, body = post(endpoint, query)
    assert served(body) == expected(release_dir, query)


def test_bound_join_as_a_large_values_block(endpoint: str, release_dir: Path) -> None:
    subjects = [f"<{BASE}organisation/{slug}>" for slug in ("kgst", "vitako", "dresden", "eb-it")]
    subjects += [f"<{BASE}organisation/unknown-{n}>" for n in range(3000)]
    query = (f"SELECT ?s ?label WHERE {{ VALUES ?s {{ {' '.join(subjects)} }} ?s <{LABEL}> ?label }}")
    assert len(query) > 100_000
    _, body = post(endpoint, query)
    rows = served(body)
    assert rows == expected(release_dir, query) and len(rows) >= 4


def test_bound_join_as_a_union_of_many_branches(endpoint: str, release_dir: Path) -> None:
    # FedX's bound join: one branch per binding, the binding's number in a renamed variable.
    branches = " UNION ".join(
        f'{{ <{BASE}organisation/{slug}> <{LABEL}> ?label_{n} . BIND("{n}" AS ?index) }}'
        for n, slug in enumerate(["kgst", "vitako", "dresden", "eb-it", "nobody"] * 40))
    query = f"SELECT * WHERE {{ {branches} }}"
    _, body = post(endpoint, query)
    assert served(body) == expected(release_dir, query)


@pytest.mark.parametrize(("accept", "media_type"), [
    (FEDX_ACCEPT, "application/sparql-results+json"),
    ("application/sparql-results+xml, application/sparql-results+json;q=0.8",
     "application/sparql-results+xml"),
    ("text/tab-separated-values;q=0.9, text/csv;q=0.8", "text/tab-separated-values"),
])
def test_several_formats_with_q_values(endpoint: str, accept: str, media_type: str) -> None:
    content_type, _ = post(endpoint, f"SELECT ?s WHERE {{ ?s <{ORG}member> ?o }} LIMIT 3", accept)
    assert content_type.startswith(media_type)
