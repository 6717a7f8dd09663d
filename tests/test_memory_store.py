"""Releases small enough are queried from memory, with the same answers as from disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lod.release.layout import open_release
from lod.settings import Settings
from lod.web import create_app

QUERIES = (
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://www.w3.org/ns/org#Organization> ; "
    "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }",
    "ASK { ?s <http://www.w3.org/2004/02/skos/core#inScheme> ?scheme }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <http://www.w3.org/ns/org#Membership> ; ?p ?o }",
)


def answers(release_dir: Path, *, memory_store_triples: int) -> list[object]:
    app = create_app(Settings(release_dir=release_dir, memory_store_triples=memory_store_triples))
    client = app.test_client()
    found = []
    for query in QUERIES:
        response = client.post("/sparql", data={"query": query},
                               headers={"Accept": "application/n-triples, application/sparql-results+json"})
        assert response.status_code == 200, response.data
        if response.mimetype == "application/n-triples":
            found.append(sorted(response.data.splitlines()))  # a graph: no order
        else:
            document = response.get_json()
            if "results" in document and "ORDER BY" not in query:
                document["results"]["bindings"].sort(key=repr)
            found.append(document)
    return found


def test_memory_and_disk_give_the_same_answers(release_dir: Path) -> None:
    assert answers(release_dir, memory_store_triples=10**9) == answers(release_dir, memory_store_triples=0)


@pytest.mark.parametrize(("limit", "served_from_memory"), [(10**9, True), (0, False)])
def test_queries_come_from_memory_only_below_the_limit(tmp_path: Path, release_dir: Path, limit: int,
                                                       served_from_memory: bool) -> None:
    releases = tmp_path / "releases"
    shutil.copytree(release_dir, releases, symlinks=True)
    app = create_app(Settings(release_dir=releases, memory_store_triples=limit))
    client = app.test_client()
    assert client.get("/sparql", query_string={"query": QUERIES[1]}).status_code == 200
    # Without the store on disk, only a copy in memory can answer.
    store = open_release(releases).store_path
    store.rename(store.with_name("elsewhere"))
    answer = client.get("/sparql", query_string={"query": QUERIES[2]})
    assert (answer.status_code == 200) is served_from_memory
