"""The attacks of issue #10, replayed against a live `lod serve` on 127.0.0.1: each must fail on a
server that decides on query text, lets the engine reach the network, or leaves a query or a
result unbounded."""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import time
import urllib.parse
import xml.dom.minidom
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ..conftest import ServerFactory, port_nobody_may_call

KGST = "https://w3id.org/lod-ikz/id/organisation/kgst"

# Ways to write 127.0.0.1 that resolvers and URL parsers accept.
LOOPBACK_SPELLINGS = ["127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1", "0177.0.0.1"]


def smuggled(host: str, port: int) -> list[str]:
    """SERVICE spelled so that a scan of the text does not see the keyword, but the engine does."""
    target = f"http://{host}:{port}/"
    return [
        f"PREFIX : <{target}> SELECT * WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}",
        f"PREFIX ex: <{target}> SELECT * WHERE {{ SERVICEex:y {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)SERVICE#>\n<{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ sErViCe <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ FILTER EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
        f"ASK {{ {{ SELECT * WHERE {{ OPTIONAL {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }} }} }} }}",
    ]


def get(url: str, path: str, *, params: dict[str, str] | None = None, accept: str = "*/*",
        timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        connection.request("GET", target, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def sparql(url: str, query: str, *, accept: str = "application/sparql-results+json",
           timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """The query by POST (SPARQL 1.1 Protocol §2.1.2), which takes long queries."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", "/sparql", body=urllib.parse.urlencode({"query": query}), headers={
            "Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(release_dir: Path, lod_server: ServerFactory) -> str:
    """Default settings (federation off), with small limits so the attacks end quickly."""
    return lod_server(release_dir, workers=1, env={
        "LOD_QUERY_MEMORY_MB": "256", "LOD_MAX_RESULT_MB": "2", "LOD_QUERY_TIMEOUT": "8",
        "LOD_QUERY_SLOTS": "2", "LOD_QUEUE_WAIT": "1"})


# --- 1. SERVICE cannot be smuggled; the query process reaches no network ----------------------


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_smuggled_service_reaches_nothing(server: str, host: str) -> None:
    with port_nobody_may_call() as port:
        answers = [sparql(server, query) for query in smuggled(host, port)]
    for status, _headers, body in answers:
        assert status in (400, 403), body[:300]
    refused = {body for status, _headers, body in answers if status == 403}
    assert len(refused) == 1, "a refused SERVICE is one message whatever the target"


def test_refusal_is_the_same_for_an_open_and_a_closed_port(server: str) -> None:
    with port_nobody_may_call() as port:
        open_port = sparql(server, f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}")
    closed = sparql(server, "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    assert open_port[0] == closed[0] == 403
    assert open_port[2] == closed[2]


@pytest.fixture(scope="module")
def federating(release_dir: Path, lod_server: ServerFactory) -> Iterator[tuple[str, str]]:
    """Federation on, one endpoint allowed (a second `lod serve`), loopback allowed for it."""
    peer = lod_server(release_dir, workers=1)
    url = lod_server(release_dir, workers=1, env={
        "LOD_FEDERATION": "true", "LOD_FEDERATION_ENDPOINTS": f"{peer}sparql",
        "LOD_FEDERATION_NETWORKS": "127.0.0.1/32", "LOD_FEDERATION_TIMEOUT": "2"})
    yield url, peer


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433"])
def test_smuggled_service_skips_no_gateway(federating: tuple[str, str], host: str) -> None:
    url, peer = federating
    with port_nobody_may_call() as port:
        answers = [sparql(url, query) for query in smuggled(host, port)]
    assert all(status in (400, 403) for status, _h, _b in answers), [a[2][:200] for a in answers]
    allowed = sparql(url, f"SELECT ?o WHERE {{ SERVICE <{peer}sparql> {{ <{KGST}> ?p ?o }} }} LIMIT 1")
    assert allowed[0] == 200 and json.loads(allowed[2])["results"]["bindings"], allowed[2][:300]


def test_a_failing_service_is_a_502_without_the_remote_body(federating: tuple[str, str],
                                                           release_dir: Path,
                                                           lod_server: ServerFactory) -> None:
    secret = b"internal secret of the remote service"

    class Failing(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(500)
            self.send_header("Content-Length", str(len(secret)))
            self.end_headers()
            self.wfile.write(secret)

        def log_message(self, *args: object) -> None:
            pass

    remote = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=remote.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{remote.server_address[1]}/sparql"
        url = lod_server(release_dir, workers=1, env={
            "LOD_FEDERATION": "true", "LOD_FEDERATION_ENDPOINTS": endpoint,
            "LOD_FEDERATION_NETWORKS": "127.0.0.1/32"})
        status, _headers, body = sparql(url, f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}")
    finally:
        remote.shutdown()
        remote.server_close()
    assert status == 502
    assert secret not in body and b"store cannot be read" not in body
    assert endpoint.encode() in body and b"500" in body


# --- 3. memory, 4. bytes, 5. the HTML page ---------------------------------------------------


def test_a_query_past_its_memory_is_stopped_and_the_server_goes_on(server: str) -> None:
    values = " ".join(str(i) for i in range(100))
    long = "x" * 1000
    hog = (f'SELECT (STRLEN(GROUP_CONCAT(?x)) AS ?n) WHERE {{ VALUES ?a {{ {values} }} '
           f'VALUES ?b {{ {values} }} VALUES ?c {{ {values} }} '
           f'BIND(CONCAT("{long}", STR(?a), STR(?b), STR(?c)) AS ?x) }}')
    started = time.monotonic()
    status, _headers, body = sparql(server, hog)
    assert status == 507, body[:300]
    assert b"256 MB" in body and time.monotonic() - started < 8
    assert sparql(server, "ASK { ?s ?p ?o }")[0] == 200


def test_results_are_cut_at_the_byte_limit(server: str) -> None:
    ten_kb = "y" * 10_000
    rows = " ".join(str(i) for i in range(1000))
    query = f'SELECT ?i ?v WHERE {{ VALUES ?i {{ {rows} }} BIND(CONCAT("{ten_kb}", STR(?i)) AS ?v) }}'
    status, headers, body = sparql(server, query)
    assert status == 200
    kept = len(json.loads(body)["results"]["bindings"])  # whole JSON, though cut
    assert 100 < kept < 1000
    assert headers["x-sparql-maxrows"] == str(kept)
    assert len(body) < 2_000_000 + 128 * 1024


def test_the_html_page_shows_a_bounded_part_with_downloads(server: str) -> None:
    rows = " ".join(str(i) for i in range(5000))
    query = f'SELECT ?i ?v WHERE {{ VALUES ?i {{ {rows} }} BIND(CONCAT("{"z" * 2000}", STR(?i)) AS ?v) }}'
    status, headers, body = sparql(server, query, accept="text/html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert len(body) < 3_000_000  # not the 10 MB of the whole result
    page = body.decode()
    assert "truncated" in page and "format=csv" in page


# --- 6. bad input is a 4xx that says what is wrong -------------------------------------------


@pytest.mark.parametrize("query", [
    "ASK { ?s ?p \"\\U00110000\" }",
    "SELECT * WHERE " + "{" * 3000 + "}" * 3000,
    "SELECT * WHERE { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * 30_000) + " }",
])
def test_hostile_queries_are_told_what_is_wrong(server: str, query: str) -> None:
    status, _headers, body = sparql(server, query)
    assert status in (400, 413), body[:300]
    assert b"line" in body or b"longer than" in body, body[:300]
    assert sparql(server, "ASK { ?s ?p ?o }")[0] == 200


@pytest.mark.parametrize("query", [f"DESCRIBE <{KGST}>",
                                   f"CONSTRUCT {{ <{KGST}> ?p ?o }} WHERE {{ <{KGST}> ?p ?o }}"])
def test_graph_results_in_a_browser(server: str, query: str) -> None:
    status, _headers, body = sparql(server, query, accept="text/html")
    assert status == 200, body[:300]
    assert b"Kommunale Gemeinschaftsstelle" in body


# --- 7. pages keep working under SPARQL load ----------------------------------------------------


def test_pages_answer_while_every_query_slot_is_busy(server: str) -> None:
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    with ThreadPoolExecutor(4) as pool:
        busy = [pool.submit(sparql, server, slow) for _ in range(4)]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and json.loads(get(server, "/healthz")[2])["query_slots_free"]:
            pass  # until the slow queries hold every slot
        assert json.loads(get(server, "/healthz")[2])["query_slots_free"] == 0
        page = get(server, "/doc/organisation/kgst", accept="text/html", timeout=5)
        health = get(server, "/healthz", timeout=5)
        statuses = [future.result()[0] for future in busy]
    assert page[0] == 200
    assert health[0] == 200 and json.loads(health[2])["page_slots_free"] >= 0
    assert set(statuses) <= {504, 503}


# --- 8. only http(s) IRIs are links; 10. no document a client cannot parse --------------------


def test_javascript_iris_are_not_links(server: str) -> None:
    query = 'SELECT ?x WHERE { BIND(IRI("javascript:alert(1)") AS ?x) }'
    status, _headers, body = sparql(server, query, accept="text/html")
    assert status == 200 and b"javascript:alert(1)" in body
    assert b'href="javascript:' not in body


@pytest.mark.parametrize("predicate", ["http://x/1", "http://x/a/", "urn:x:1"])
def test_rdf_xml_is_well_formed_or_refused(server: str, predicate: str) -> None:
    query = f'CONSTRUCT {{ <http://x/s> <{predicate}> "o" }} WHERE {{}}'
    status, _headers, body = sparql(server, query, accept="application/rdf+xml")
    if status == 200:
        xml.dom.minidom.parseString(body)
    else:
        assert status == 406 and b"RDF/XML" in body and b"text/turtle" in body
    assert sparql(server, query, accept="text/turtle")[0] == 200


def test_rdf_xml_refuses_what_xml_cannot_carry(server: str) -> None:
    query = 'CONSTRUCT { <http://x/s> <http://x/p> "bell\\u0007" } WHERE {}'
    status, _headers, body = sparql(server, query, accept="application/rdf+xml")
    assert status == 406 and b"control character" in body
