"""lod.remote.client and `lod query` against real endpoints on 127.0.0.1: `lod serve`, and tiny HTTP
servers that answer as scripted (busy, then ready; never)."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic

from lod.cli import cli
from lod.errors import UsageError
from lod.remote.client import (
    AnswerCache,
    Endpoint,
    EndpointError,
    EndpointTimeout,
    FederationError,
    LocalRelease,
    QuerySource,
    SelectResult,
    paged_query,
    query_form,
    retry_after,
)

from .conftest import ServerFactory, free_port, serving_with_plans_logged

DRESDEN = URIRef("https://w3id.org/lod-ikz/id/organisation/dresden")
PREFIXES = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX ikz: <https://w3id.org/lod-ikz/def/>
"""
TYPED = PREFIXES + """SELECT ?org ?name ?ags ?same ?count ?share ?day ?yes ?missing WHERE {
  ?org ikz:ags ?ags ; skos:prefLabel ?name ; owl:sameAs ?same .
  FILTER(LANG(?name) = "de")
  OPTIONAL { ?org ikz:nothing ?missing }
  BIND(3 AS ?count) BIND(0.5 AS ?share) BIND("2020-09-25"^^xsd:date AS ?day) BIND(true AS ?yes)
}"""
ALL_TRIPLES = 'SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), "https://w3id.org/lod-ikz/id/")) }'
"""The data's triples (not the vocabulary's): more than the server gives at once, a few pages."""
SERVER_MAX_ROWS = 100


# --- servers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint_url(lod_server: ServerFactory, release_dir: Path) -> str:
    """`lod serve` on the minimal release, cutting results at SERVER_MAX_ROWS rows."""
    url = lod_server(release_dir, workers=1, env={"LOD_MAX_ROWS": str(SERVER_MAX_ROWS)})
    return f"{url}sparql"


@pytest.fixture(scope="module")
def release(release_dir: Path) -> LocalRelease:
    return LocalRelease(release_dir, max_rows=1_000_000)


Answer = tuple[int, dict[str, str], bytes]
RESULT = (200, {"Content-Type": "application/sparql-results+json"},
          b'{"head":{"vars":["n"]},"results":{"bindings":[{"n":{"type":"literal","value":"7",'
          b'"datatype":"http://www.w3.org/2001/XMLSchema#integer"}}]}}')


class Scripted(ThreadingHTTPServer):
    """Answers the n-th request with the n-th answer (the last one again when they run out)."""

    def __init__(self, answers: Sequence[Answer]) -> None:
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.answers = list(answers)
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sparql"


class _ScriptedHandler(BaseHTTPRequestHandler):
    server: Scripted

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        answers = self.server.answers
        status, headers, body = answers[min(len(self.server.requests), len(answers)) - 1]
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    servers: list[tuple[Scripted, threading.Thread]] = []

    def start(*answers: Answer) -> Scripted:
        server = Scripted(answers)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Sleeps(list[float]):
    """Records the pauses the client asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# --- typed rows ---------------------------------------------------------------------------------


@pytest.fixture(params=["endpoint", "release"])
def source(request: pytest.FixtureRequest) -> QuerySource:
    if request.param == "endpoint":
        return Endpoint(request.getfixturevalue("endpoint_url"), timeout=10)
    result: QuerySource = request.getfixturevalue("release")
    return result


def test_select_gives_rdflib_terms_and_python_values(source: QuerySource) -> None:
    result = source.select(TYPED)
    assert result.variables == ("org", "name", "ags", "same", "count", "share", "day", "yes", "missing")
    [row] = result.rows
    assert row["org"] == DRESDEN
    assert row["name"] == Literal("Dresden", lang="de")
    assert row["same"] == URIRef("http://www.wikidata.org/entity/Q1731")
    assert "missing" not in row and row.get("missing") is None
    assert row.python() == {
        "org": str(DRESDEN), "name": "Dresden", "ags": "14612000",
        "same": "http://www.wikidata.org/entity/Q1731", "count": 3, "share": Decimal("0.5"),
        "day": date(2020, 9, 25), "yes": True,
    }
    assert result.python() == [row.python()]
    assert not result.truncated


def test_ask_and_construct(source: QuerySource) -> None:
    assert source.ask(PREFIXES + 'ASK { ?org ikz:ags "14612000" }') is True
    assert source.ask(PREFIXES + 'ASK { ?org ikz:ags "00000000" }') is False
    graph = source.construct(PREFIXES + "CONSTRUCT WHERE { ?org ikz:ags ?ags }")
    assert set(graph) == {(DRESDEN, URIRef("https://w3id.org/lod-ikz/def/ags"), Literal("14612000"))}


def test_endpoint_and_release_agree(endpoint_url: str, release: LocalRelease) -> None:
    query = "DESCRIBE <https://w3id.org/lod-ikz/id/organisation/kgst>"
    assert isomorphic(Endpoint(endpoint_url).construct(query), release.construct(query))


@pytest.mark.parametrize(("query", "form"), [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("PREFIX select: <http://example.org/>\n# ASK\nconstruct { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ("BASE <http://ask.example/> DESCRIBE <x>", "DESCRIBE"),
    ('ASK { ?s ?p "SELECT" }', "ASK"),
])
def test_query_form(query: str, form: str) -> None:
    assert query_form(query) == form


@pytest.mark.parametrize(("query", "message"), [
    ("INSERT DATA { <a> <b> <c> }", "SPARQL Update"),
    ("PREFIX a: <http://a/>", "not a SPARQL query"),
])
def test_not_a_query(query: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        query_form(query)


def test_wrong_form_for_the_method(release: LocalRelease) -> None:
    with pytest.raises(UsageError, match="expected a SELECT query, not ASK"):
        release.select("ASK { ?s ?p ?o }")


# --- errors -------------------------------------------------------------------------------------


def test_malformed_query_names_the_endpoint_and_its_message(endpoint_url: str) -> None:
    with pytest.raises(EndpointError) as caught:
        Endpoint(endpoint_url).select("SELECT * WHERE { ?s ?p }")
    assert caught.value.http_status == 400
    assert endpoint_url in str(caught.value) and "SPARQL" in str(caught.value)


@pytest.mark.parametrize("kind", ["endpoint", "release"])
def test_service_is_refused_by_our_endpoint(kind: str, request: pytest.FixtureRequest) -> None:
    source = (Endpoint(request.getfixturevalue("endpoint_url")) if kind == "endpoint"
              else request.getfixturevalue("release"))
    with pytest.raises(EndpointError) as caught:
        source.select("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert caught.value.http_status == 403
    assert "SERVICE" in caught.value.detail


def test_unreachable_endpoint() -> None:
    with pytest.raises(FederationError, match=r"cannot reach http://127\.0\.0\.1:.*refused"):
        Endpoint(f"http://127.0.0.1:{free_port()}/sparql", timeout=5).select("SELECT * WHERE { ?s ?p ?o }")


@pytest.mark.parametrize("url", ["ftp://example.org/sparql", "query.wikidata.org/sparql", "http:///x"])
def test_endpoint_url_must_be_http(url: str) -> None:
    with pytest.raises(UsageError, match="must be an http"):
        Endpoint(url)


def test_timeout_when_the_server_never_answers() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        endpoint = Endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}/sparql", timeout=1, retries=3)
        started = time.monotonic()
        with pytest.raises(EndpointTimeout, match="did not answer within 1 s"):
            endpoint.select("SELECT * WHERE { ?s ?p ?o }")
        assert time.monotonic() - started < 10  # not retried: a timeout is no "busy"


# --- retries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429])
def test_busy_then_ready_honours_retry_after(scripted: Callable[..., Scripted], status: int) -> None:
    server = scripted((status, {"Retry-After": "2"}, b"busy"), RESULT)
    sleeps = Sleeps()
    result = Endpoint(server.url, sleep=sleeps).select("SELECT ?n WHERE {}")
    assert result.python() == [{"n": 7}]
    assert len(server.requests) == 2
    assert sleeps == [2.0]


def test_without_retry_after_the_pause_doubles(scripted: Callable[..., Scripted]) -> None:
    server = scripted((503, {}, b""), (503, {}, b""), RESULT)
    sleeps = Sleeps()
    Endpoint(server.url, backoff=0.25, sleep=sleeps).select("SELECT ?n WHERE {}")
    assert sleeps == [0.25, 0.5]
    assert len(server.requests) == 3


def test_gives_up_after_the_retries(scripted: Callable[..., Scripted]) -> None:
    server = scripted((503, {"Retry-After": "1"}, b"overloaded"))
    sleeps = Sleeps()
    with pytest.raises(EndpointError, match="still busy after 3 attempts") as caught:
        Endpoint(server.url, retries=2, sleep=sleeps).select("SELECT ?n WHERE {}")
    assert caught.value.http_status == 503
    assert len(server.requests) == 3 and sleeps == [1.0, 1.0]


def test_does_not_wait_longer_than_max_wait(scripted: Callable[..., Scripted]) -> None:
    server = scripted((429, {"Retry-After": "3600"}, b""), RESULT)
    sleeps = Sleeps()
    with pytest.raises(EndpointError, match="retry after 3600 s, longer than max_wait=60 s"):
        Endpoint(server.url, max_wait=60, sleep=sleeps).select("SELECT ?n WHERE {}")
    assert sleeps == [] and len(server.requests) == 1


def test_other_errors_are_not_retried(scripted: Callable[..., Scripted]) -> None:
    server = scripted((502, {"Content-Type": "text/plain"}, b"bad gateway"), RESULT)
    with pytest.raises(EndpointError, match="HTTP 502: bad gateway"):
        Endpoint(server.url, sleep=Sleeps()).select("SELECT ?n WHERE {}")
    assert len(server.requests) == 1


def test_an_answer_that_is_not_a_result(scripted: Callable[..., Scripted]) -> None:
    server = scripted((200, {"Content-Type": "text/html"}, b"<html>Login</html>"))
    with pytest.raises(FederationError, match="answered a SELECT query with 'text/html'"):
        Endpoint(server.url).select("SELECT ?n WHERE {}")


XML_RESULT = b"""<?xml version="1.0"?>
<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="n"/><variable name="x"/></head>
<results><result><binding name="n"><literal datatype="http://www.w3.org/2001/XMLSchema#integer">7</literal>
</binding></result></results></sparql>"""


@pytest.mark.parametrize("answer", [
    RESULT, (200, {"Content-Type": "application/sparql-results+xml"}, XML_RESULT)], ids=["json", "xml"])
def test_results_in_json_or_xml(scripted: Callable[..., Scripted], answer: Answer) -> None:
    result = Endpoint(scripted(answer).url).select("SELECT ?n ?x WHERE {}")
    assert result.python() == [{"n": 7}]


def test_a_graph_in_json_ld(scripted: Callable[..., Scripted]) -> None:
    server = scripted((200, {"Content-Type": "application/ld+json"},
                       b'{"@id": "http://example.org/a", "http://example.org/p": "b"}'))
    graph = Endpoint(server.url).construct("CONSTRUCT WHERE { ?s ?p ?o }")
    assert set(graph) == {(URIRef("http://example.org/a"), URIRef("http://example.org/p"), Literal("b"))}


def test_a_json_error_body_gives_its_message(scripted: Callable[..., Scripted]) -> None:
    server = scripted((403, {"Content-Type": "application/json"},
                       b'{"status": 403, "error": "Forbidden", "message": "no SERVICE here"}'))
    with pytest.raises(EndpointError, match=r"HTTP 403: no SERVICE here$"):
        Endpoint(server.url).select("SELECT ?n WHERE {}")


@pytest.mark.parametrize(("header", "seconds"), [
    ("120", 120.0),
    (" 0 ", 0.0),
    (formatdate(1_000_030, usegmt=True), 30.0),
    (formatdate(999_000, usegmt=True), 0.0),  # a date in the past: at once
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, now=1_000_000) == seconds


# --- the cache ----------------------------------------------------------------------------------


def test_cache_answers_repeated_queries_without_asking(scripted: Callable[..., Scripted],
                                                       tmp_path: Path) -> None:
    server = scripted(RESULT)
    cache = AnswerCache(tmp_path / "cache")
    first = Endpoint(server.url, cache=cache).select("SELECT ?n WHERE {}")
    again = Endpoint(server.url, cache=AnswerCache(tmp_path / "cache")).select("SELECT ?n WHERE {}")
    assert again == first and len(server.requests) == 1
    Endpoint(server.url, cache=cache).select("SELECT ?n WHERE { }")  # another query text
    assert len(server.requests) == 2
    Endpoint(server.url, cache=AnswerCache(tmp_path / "cache", max_age=0)).select("SELECT ?n WHERE {}")
    assert len(server.requests) == 3
    assert not list((tmp_path / "cache").glob(".tmp-*"))


def test_cache_keeps_errors_out(scripted: Callable[..., Scripted], tmp_path: Path) -> None:
    server = scripted((400, {}, b"no"), RESULT)
    endpoint = Endpoint(server.url, cache=AnswerCache(tmp_path))
    with pytest.raises(EndpointError):
        endpoint.select("SELECT ?n WHERE {}")
    assert endpoint.select("SELECT ?n WHERE {}").python() == [{"n": 7}]


# --- paging -------------------------------------------------------------------------------------


def _keys(*results: SelectResult) -> list[tuple[str, ...]]:
    return [(str(row["s"]), str(row["p"]), str(row["o"])) for result in results for row in result]


def test_unpaged_result_is_cut_by_the_server(endpoint_url: str, release: LocalRelease) -> None:
    assert len(release.select(ALL_TRIPLES)) > SERVER_MAX_ROWS  # the test needs a large result
    result = Endpoint(endpoint_url).select(ALL_TRIPLES)
    assert result.truncated and len(result) == SERVER_MAX_ROWS


@pytest.mark.parametrize(("query", "order_by"), [
    (ALL_TRIPLES, "?s ?p ?o"),  # wrapped, ordered as given
    (ALL_TRIPLES + " ORDER BY ?s ?p ?o", None),  # LIMIT/OFFSET appended to the query's own order
    (ALL_TRIPLES, None),  # wrapped, ordered by every variable
    (ALL_TRIPLES + " ORDER BY ?o LIMIT 1000", None),  # has a LIMIT of its own: wrapped
])
def test_pages_fetch_a_result_larger_than_a_page(endpoint_url: str, release: LocalRelease, query: str,
                                                 order_by: str | None) -> None:
    everything = release.select(ALL_TRIPLES)
    pages = list(Endpoint(endpoint_url).pages(query, page_size=40, order_by=order_by))
    assert len(pages) == len(everything) // 40 + 1
    assert all(len(page) == 40 for page in pages[:-1])
    assert sorted(_keys(*pages)) == sorted(_keys(everything))
    combined = Endpoint(endpoint_url).select_all(query, page_size=40, order_by=order_by)
    assert _keys(combined) == _keys(*pages)
    assert not combined.truncated


def test_a_page_larger_than_the_server_allows_is_an_error(endpoint_url: str) -> None:
    with pytest.raises(FederationError, match="cut a page at 100 rows"):
        Endpoint(endpoint_url).select_all(ALL_TRIPLES, page_size=150, order_by="?s ?p ?o")


@pytest.mark.parametrize(("query", "order_by", "expected"), [
    ("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s", None,
     "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s\nLIMIT 10 OFFSET 20"),
    ("PREFIX a: <http://a/>\n# a comment\nBASE <http://b/>\nSELECT ?s WHERE { ?s a:p ?o }", "?s",
     "PREFIX a: <http://a/>\n# a comment\nBASE <http://b/>\n"
     "SELECT * WHERE {\nSELECT ?s WHERE { ?s a:p ?o }\n}\nORDER BY ?s\nLIMIT 10 OFFSET 20"),
])
def test_paged_query(query: str, order_by: str | None, expected: str) -> None:
    assert paged_query(query, limit=10, offset=20, order_by=order_by) == expected


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s ?p ?o }",
    "SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } ORDER BY ?s } }",  # the order is inside
    "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 5",
])
def test_appending_needs_the_query_s_own_order(query: str) -> None:
    with pytest.raises(UsageError, match="paging needs a stable order"):
        paged_query(query, limit=10, offset=0, order_by=None)


# --- lod query ----------------------------------------------------------------------------------

SELECT_AGS = PREFIXES + "SELECT ?org ?ags WHERE { ?org ikz:ags ?ags }"
CONSTRUCT_AGS = PREFIXES + "CONSTRUCT WHERE { ?org ikz:ags ?ags }"
AGS_GRAPH = {f'<{DRESDEN}> <https://w3id.org/lod-ikz/def/ags> "14612000"'}


def lod_query(where: list[str], *args: str, input: str | None = None) -> str:
    done = CliRunner().invoke(cli, ["query", *where, *args], input=input, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.fixture(params=["release", "endpoint"])
def where(request: pytest.FixtureRequest, release_dir: Path) -> list[str]:
    if request.param == "release":
        return ["--release-dir", str(release_dir)]
    return ["--endpoint", request.getfixturevalue("endpoint_url")]


SELECT_OUTPUTS: dict[str, Callable[[str], object]] = {
    "table": lambda text: [[cell.strip() for cell in line.split(" | ")] for line in text.splitlines()][0::2],
    "csv": lambda text: list(csv.reader(io.StringIO(text))),
    "tsv": lambda text: [line.split("\t") for line in text.splitlines()],
    "json": lambda text: [[b[v]["value"] for v in ("org", "ags")]
                          for b in json.loads(text)["results"]["bindings"]],
    "xml": lambda text: [e.text for e in ET.fromstring(text).iter("{http://www.w3.org/2005/sparql-results#}uri")],
}
SELECT_EXPECTED: dict[str, object] = {
    "table": [["org", "ags"], [str(DRESDEN), "14612000"]],
    "csv": [["org", "ags"], [str(DRESDEN), "14612000"]],
    "tsv": [["?org", "?ags"], [f"<{DRESDEN}>", '"14612000"']],
    "json": [[str(DRESDEN), "14612000"]],
    "xml": [str(DRESDEN)],
}


@pytest.mark.parametrize("fmt", SELECT_OUTPUTS)
def test_lod_query_select_in_each_format(where: list[str], fmt: str) -> None:
    output = lod_query(where, "--format", fmt, SELECT_AGS)
    assert SELECT_OUTPUTS[fmt](output) == SELECT_EXPECTED[fmt]


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "jsonld", "rdfxml"])
def test_lod_query_construct_in_each_format(where: list[str], fmt: str) -> None:
    output = lod_query(where, "--format", fmt, CONSTRUCT_AGS)
    triples = {str(quad.triple) for quad in ox.parse(output.encode(), format=ox.RdfFormat.from_extension(
        {"turtle": "ttl", "ntriples": "nt", "jsonld": "jsonld", "rdfxml": "rdf"}[fmt]))}
    assert triples == AGS_GRAPH


def test_lod_query_defaults(where: list[str]) -> None:
    assert "(1 row)" in lod_query(where, SELECT_AGS)
    assert "ikz:ags" in lod_query(where, CONSTRUCT_AGS)  # Turtle, with our prefixes
    assert lod_query(where, "ASK { ?s ?p ?o }") == "true\n"
    ask = lod_query(where, "--format", "json", "ASK { ?s ?p ?o }")
    assert json.loads(ask) == {"head": {}, "boolean": True}


def test_lod_query_reads_a_file_or_standard_input(release_dir: Path, tmp_path: Path) -> None:
    where = ["--release-dir", str(release_dir)]
    (tmp_path / "ags.rq").write_text(SELECT_AGS, encoding="utf-8")
    from_file = lod_query(where, "--format", "csv", str(tmp_path / "ags.rq"))
    assert from_file == lod_query(where, "--format", "csv", SELECT_AGS)
    assert lod_query(where, "--format", "csv", "-", input=SELECT_AGS) == from_file


def test_lod_query_release_dir_from_the_environment(release_dir: Path) -> None:
    done = CliRunner(env={"LOD_RELEASE_DIR": str(release_dir)}).invoke(cli, ["query", SELECT_AGS])
    assert done.exit_code == 0 and "14612000" in done.stdout


def run_lod(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lod", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("args", "message"), [
    (["nowhere/query.rq"], "query file nowhere/query.rq does not exist"),
    (["missing.SPARQL"], "query file missing.SPARQL does not exist"),
    (["--format", "turtle", SELECT_AGS], "--format turtle is for CONSTRUCT and DESCRIBE"),
    (["--format", "csv", CONSTRUCT_AGS], "--format csv is for SELECT and ASK"),
    (["SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"], "refused the query: SERVICE"),
    (["DROP ALL"], "read-only"),
    (["--explain", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"],
     "the query would not run (HTTP 403): SERVICE"),
    (["--explain", "--endpoint", "http://127.0.0.1:9/sparql", SELECT_AGS], "leave out --endpoint"),
])
def test_lod_query_errors(release_dir: Path, args: list[str], message: str) -> None:
    done = run_lod("query", "--release-dir", str(release_dir), *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_lod_query_without_a_release(tmp_path: Path) -> None:
    done = run_lod("query", "--release-dir", str(tmp_path), SELECT_AGS)
    assert done.returncode == 2 and "no release in" in done.stderr


def test_lod_query_notes_a_cut_result(endpoint_url: str) -> None:
    done = CliRunner().invoke(cli, ["query", "--endpoint", endpoint_url, "--format", "csv", ALL_TRIPLES])
    assert done.exit_code == 0
    assert len(done.stdout.splitlines()) == SERVER_MAX_ROWS + 1
    assert f"cut the result at {SERVER_MAX_ROWS} rows" in done.stderr


@pytest.mark.parametrize(("query", "note", "engine_runs"), [
    # An OPTIONAL after a pattern that binds its join variable runs per row (Oxigraph's LATERAL).
    ("SELECT * WHERE { ?m <http://www.w3.org/ns/org#member> ?x "
     "OPTIONAL { ?m <http://www.w3.org/ns/org#role> ?r } }",
     "# rewritten by the planner", "LATERAL { OPTIONAL {"),
    (SELECT_AGS, "# run as written", "?org <https://w3id.org/lod-ikz/def/ags> ?ags"),
    # Three patterns: chained in the order the release's statistics favour.
    ("SELECT * WHERE { ?m <http://www.w3.org/ns/org#member> ?x ; "
     "<http://www.w3.org/ns/org#organization> ?c . ?x <https://w3id.org/lod-ikz/def/ags> ?ags }",
     "# rewritten by the planner", "{ { ?x <https://w3id.org/lod-ikz/def/ags> ?ags . } LATERAL { ?m "),
])
def test_lod_query_explain_shows_what_the_engine_runs(release_dir: Path, query: str, note: str,
                                                      engine_runs: str) -> None:
    done = run_lod("query", "--release-dir", str(release_dir), "--explain", query)
    assert done.returncode == 0, done.stderr
    first, _, rest = done.stdout.partition("\n")
    assert first.startswith(note) and engine_runs in rest


def test_the_server_logs_the_plans_when_asked(release_dir: Path, tmp_path: Path) -> None:
    """With log_plans on, each query the planner rewrote is in the server's log as sent and as run;
    a query run as written is not."""
    log = tmp_path / "serve.log"
    with serving_with_plans_logged(release_dir, log) as url:
        rewritten = ("SELECT * WHERE { ?m <http://www.w3.org/ns/org#member> ?x "
                     "OPTIONAL { ?m <http://www.w3.org/ns/org#role> ?r } }")
        for query in (rewritten, SELECT_AGS):
            Endpoint(f"{url}sparql", timeout=30).select(query)
    planned = [line for line in log.read_text().splitlines() if "query planned:" in line]
    assert len(planned) == 1 and "OPTIONAL" in planned[0]
    assert "the engine runs: " in log.read_text() and "LATERAL { OPTIONAL" in log.read_text()
