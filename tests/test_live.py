"""A real `lod serve` process (waitress workers) queried by a real SPARQL client, SPARQLWrapper."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from xml.dom.minidom import Document

import pyoxigraph as ox
import pytest
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from lod.rdf.store import ONTOLOGY_GRAPH, open_store
from lod.release.layout import open_release

from .conftest import ServerFactory, free_port, wait_until_healthy

KGST = "https://w3id.org/lod-ikz/id/organisation/kgst"
SELECT = f"SELECT ?p ?o WHERE {{ <{KGST}> ?p ?o }} ORDER BY ?p ?o"


@pytest.fixture(scope="module")
def server(release_dir: Path, lod_server: ServerFactory) -> str:
    return lod_server(release_dir, env={"LOD_QUERY_TIMEOUT": "5"})


def client(url: str, fmt: str, *, method: str = "GET") -> SPARQLWrapper:
    wrapper = SPARQLWrapper(f"{url}sparql")
    wrapper.setReturnFormat(fmt)
    wrapper.setMethod(method)
    return wrapper


@pytest.mark.parametrize("method", ["GET", POST])
def test_select_json(server: str, method: str) -> None:
    wrapper = client(server, JSON, method=method)
    wrapper.setQuery(SELECT)
    result = wrapper.queryAndConvert()
    assert isinstance(result, dict)
    values = {b["o"]["value"] for b in result["results"]["bindings"]}
    assert "Kommunale Gemeinschaftsstelle für Verwaltungsmanagement" in values


def test_select_xml(server: str) -> None:
    wrapper = client(server, XML)
    wrapper.setQuery(SELECT)
    document = wrapper.queryAndConvert()
    assert isinstance(document, Document)
    literals = [n.firstChild.data for n in document.getElementsByTagName("literal") if n.firstChild]
    assert "KGSt" in literals


@pytest.mark.parametrize(("fmt", "separator"), [(CSV, ","), (TSV, "\t")])
def test_select_csv_tsv(server: str, fmt: str, separator: str) -> None:
    wrapper = client(server, fmt)
    wrapper.setQuery(SELECT)
    text = wrapper.queryAndConvert().decode("utf-8")  # type: ignore[union-attr]
    header, *lines = text.splitlines()
    assert header.replace("?", "") == f"p{separator}o"
    assert any("KGSt" in line for line in lines)


@pytest.mark.parametrize("fmt", [JSON, XML])
def test_ask(server: str, fmt: str) -> None:
    wrapper = client(server, fmt)
    wrapper.setQuery(f"ASK {{ <{KGST}> ?p ?o }}")
    result = wrapper.queryAndConvert()
    if fmt == JSON:
        assert result == {"head": {}, "boolean": True}
    else:
        assert result.getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[union-attr]


@pytest.mark.parametrize(("fmt", "parse_as"), [
    (TURTLE, ox.RdfFormat.TURTLE), (N3, ox.RdfFormat.TURTLE), (JSONLD, ox.RdfFormat.JSON_LD),
    (RDFXML, ox.RdfFormat.RDF_XML),
])
def test_construct(server: str, fmt: str, parse_as: ox.RdfFormat) -> None:
    wrapper = client(server, fmt)
    wrapper.setQuery(f"CONSTRUCT {{ <{KGST}> ?p ?o }} WHERE {{ <{KGST}> ?p ?o }}")
    response = wrapper.query().response
    body = response.read()
    triples = list(ox.parse(body, format=parse_as))
    assert len(triples) > 5
    assert all(str(t.subject) == f"<{KGST}>" for t in triples)


def test_long_query_by_post(server: str) -> None:
    values = " ".join(f"<{KGST}-{n}>" for n in range(2000)) + f" <{KGST}>"
    wrapper = client(server, JSON, method=POST)
    wrapper.setQuery(f"SELECT ?s (COUNT(*) AS ?n) WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }} GROUP BY ?s")
    result = wrapper.queryAndConvert()
    assert [b["s"]["value"] for b in result["results"]["bindings"]] == [KGST]  # type: ignore[index]


def test_dump_download_equals_the_store(server: str, release_dir: Path) -> None:
    release = open_release(release_dir)
    with urllib.request.urlopen(f"{server}download/lod-ikz.nt.gz", timeout=10) as response:
        body = response.read()
        assert response.headers["Content-Type"] == "application/gzip"
    dump = next(d for d in release.manifest.dumps if d.name == "lod-ikz.nt.gz")
    assert hashlib.sha256(body).hexdigest() == dump.sha256
    downloaded = {str(t) for t in ox.parse(gzip.decompress(body), format=ox.RdfFormat.N_TRIPLES)}
    store = open_store(release.store_path)
    vocabulary = {q.triple for q in store.quads_for_pattern(None, None, None, ONTOLOGY_GRAPH)}
    stored = {str(q.triple) for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())
              if q.triple not in vocabulary}  # queries see the vocabulary beside the data
    assert downloaded == stored


def test_linked_data_over_http(server: str) -> None:
    request = urllib.request.Request(f"{server}id/organisation/kgst", headers={"Accept": "text/turtle"})
    with urllib.request.urlopen(request, timeout=10) as response:  # follows the 303
        assert response.url.endswith("/doc/organisation/kgst")
        assert response.headers["Content-Type"].startswith("text/turtle")
        assert f"<{KGST}>".encode() in response.read()


def test_void_over_http(server: str) -> None:
    request = urllib.request.Request(f"{server}.well-known/void", headers={"Accept": "application/ld+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        document = json.loads(response.read())
    graph = ox.Store()
    graph.load(json.dumps(document).encode(), format=ox.RdfFormat.JSON_LD)
    void = "http://rdfs.org/ns/void#"
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    datasets = [s.subject for s in graph.quads_for_pattern(None, rdf_type,
                                                             ox.NamedNode(f"{void}Dataset"))]
    assert datasets
    triples = [q.object for q in graph.quads_for_pattern(None, ox.NamedNode(f"{void}triples"), None)]
    assert triples and all(int(t.value) > 0 for t in triples)


def test_no_process_outlives_the_server(release_dir: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lod", "serve", "--release-dir", str(release_dir), "--port", str(port),
         "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    wait_until_healthy(url, process, time.monotonic() + 60)
    wrapper = client(url, JSON)
    wrapper.setQuery("ASK { ?s ?p ?o }")
    assert wrapper.queryAndConvert()["boolean"] is True  # type: ignore[index]
    process.terminate()
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _serving(port):
        time.sleep(0.2)  # children notice their parent is gone within a second
    assert not _serving(port)


def _serving(port: int) -> bool:
    """Whether any process still runs `lod serve` on this port (read from /proc)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in arguments and str(port).encode() in arguments:
            return True
    return False
