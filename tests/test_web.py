"""The web app in-process: SPARQL protocol, limits, Linked Data, downloads, metadata, errors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient

from lod.query.evaluate import QueryLimits, QueryOutcome, QueryRequest
from lod.query.prepare import QueryPreparer
from lod.query.runners import InProcessQueries
from lod.release.layout import Release, open_release
from lod.settings import Settings
from lod.web import create_app

from .conftest import port_nobody_may_call

BASE = "https://w3id.org/lod-ikz/"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def client(release_dir: Path) -> Iterator[FlaskClient]:
    app = create_app(Settings(release_dir=release_dir, query_timeout=2, max_rows=50,
                              max_query_bytes=100_000))
    yield app.test_client()


def rows(response: object) -> list[dict[str, dict[str, str]]]:
    document = json.loads(response.data)  # type: ignore[attr-defined]
    bindings: list[dict[str, dict[str, str]]] = document["results"]["bindings"]
    return bindings


# --- the protocol -------------------------------------------------------------------------


def test_query_by_get_post_form_and_post_body_agree(client: FlaskClient) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    by_get = client.get("/sparql", query_string={"query": COUNT}, headers=accept)
    by_form = client.post("/sparql", data={"query": COUNT}, headers=accept)
    by_body = client.post("/sparql", data=COUNT.encode(), headers={
        **accept, "Content-Type": "application/sparql-query"})
    assert by_get.status_code == by_form.status_code == by_body.status_code == 200
    counts = {rows(r)[0]["n"]["value"] for r in (by_get, by_form, by_body)}
    assert len(counts) == 1 and int(counts.pop()) > 100


@pytest.mark.parametrize(("accept", "expected"), [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("application/json", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/*;q=0.8, text/csv;q=0.9", "text/csv"),
])
def test_select_formats_by_accept(client: FlaskClient, accept: str, expected: str) -> None:
    response = client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == expected
    assert response.headers["Vary"] == "Accept"


@pytest.mark.parametrize(("label", "expected"), [
    ("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
    ("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
])
def test_format_parameter_overrides_accept(client: FlaskClient, label: str, expected: str) -> None:
    response = client.get("/sparql", query_string={"query": COUNT, "format": label},
                          headers={"Accept": "text/plain"})
    assert response.status_code == 200 and response.mimetype == expected


@pytest.mark.parametrize(("accept", "fmt"), [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_construct_and_describe_formats(client: FlaskClient, accept: str, fmt: ox.RdfFormat) -> None:
    for query in (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ BIND(<{BASE}id/organisation/kgst> AS ?s) ?s ?p ?o }}",
                  f"DESCRIBE <{BASE}id/organisation/kgst>"):
        response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200, response.data
        assert response.mimetype == accept
        triples = list(ox.parse(response.data, format=fmt))
        assert any(str(t.subject) == f"<{BASE}id/organisation/kgst>" for t in triples)


def test_ask(client: FlaskClient) -> None:
    query = f"ASK {{ <{BASE}id/organisation/kgst> ?p ?o }}"
    response = client.get("/sparql", query_string={"query": query, "format": "json"})
    assert json.loads(response.data) == {"head": {}, "boolean": True}


def test_not_acceptable(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["SELEC * WHERE { ?s ?p ?o }", "SELECT * WHERE { ?s ?p }", "}}}{{{"])
def test_malformed_query_is_400_with_the_parsers_message(client: FlaskClient, query: str) -> None:
    response = client.get("/sparql", query_string={"query": query})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "not valid SPARQL" in text and "line 1, column" in text
    assert "Traceback" not in text and "/lod/" not in text


@pytest.mark.parametrize(("method", "options"), [
    ("get", {"query_string": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}),
    ("get", {"query_string": {"query": "PREFIX x: <urn:x#>\n# c\nDELETE WHERE { ?s ?p ?o }"}}),
    ("get", {"query_string": {"update": "CLEAR ALL"}}),
    ("post", {"data": {"update": "DROP ALL"}}),
    ("post", {"data": b"LOAD <http://example.org/>", "content_type": "application/sparql-update"}),
])
def test_updates_are_refused(client: FlaskClient, method: str, options: dict[str, object]) -> None:
    response = getattr(client, method)("/sparql", **options)
    assert response.status_code == 403
    assert "read-only" in response.get_data(as_text=True)
    assert client.get("/sparql", query_string={"query": COUNT, "format": "json"}).status_code == 200


@pytest.mark.parametrize(("options", "status"), [
    ({"method": "POST", "data": b"x", "content_type": "text/plain"}, 415),
    ({"method": "GET", "query_string": [("query", COUNT), ("query", COUNT)]}, 400),
    ({"method": "POST", "data": {"query": "  "}}, 400),
    ({"method": "GET", "query_string": {"query": "SELECT * WHERE { ?s ?p ?o } #" + "x" * 200_000}}, 413),
])
def test_protocol_errors(client: FlaskClient, options: dict[str, object], status: int) -> None:
    assert client.open("/sparql", **options).status_code == status  # type: ignore[arg-type]


def test_result_size_is_bounded_and_the_cut_is_signalled(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }", "format": "json"})
    assert response.status_code == 200
    assert len(rows(response)) == 50
    assert response.headers["X-SPARQL-MaxRows"] == "50"
    small = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3",
                                                "format": "json"})
    assert "X-SPARQL-MaxRows" not in small.headers


def test_a_slow_query_is_stopped_and_the_next_one_served(client: FlaskClient) -> None:
    started = time.monotonic()
    response = client.get("/sparql", query_string={"query": SLOW, "format": "json"})
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert "longer than the limit of 2 seconds" in response.get_data(as_text=True)
    assert elapsed < 2 + 3
    after = client.get("/sparql", query_string={"query": COUNT, "format": "json"})
    assert after.status_code == 200


def test_dataset_parameters_select_graphs(client: FlaskClient) -> None:
    concepts = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <http://www.w3.org/2004/02/skos/core#Concept> }"
    organisations = "SELECT (COUNT(*) AS ?n) WHERE { ?o a <http://www.w3.org/ns/org#Organization> }"
    vocabulary = {"default-graph-uri": "https://w3id.org/lod-ikz/def/", "format": "json"}
    def count(query: str) -> int:
        return int(rows(client.get("/sparql", query_string={"query": query, **vocabulary}))[0]["n"]["value"])

    assert count(concepts) > 50
    assert count(organisations) == 0
    named = client.get("/sparql", query_string={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "format": "json",
        "named-graph-uri": "https://w3id.org/lod-ikz/def/"})
    assert [r["g"]["value"] for r in rows(named)] == ["https://w3id.org/lod-ikz/def/"]


def test_service_description_and_query_page(client: FlaskClient) -> None:
    description = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = list(ox.parse(description.data, format=ox.RdfFormat.TURTLE))
    assert any(str(t.object) == "<http://www.w3.org/ns/sparql-service-description#Service>" for t in graph)
    # Queries see the data and the vocabulary graph together; engines plan with both sizes.
    assert any(str(t.object).endswith("#UnionDefaultGraph>") for t in graph)
    assert any(str(t.object) == "<https://w3id.org/lod-ikz/def/>" for t in graph)
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.mimetype == "text/html" and b"<textarea" in page.data


def test_browser_query_shows_a_table(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": "text/html"})
    assert response.status_code == 200 and b"<table>" in response.data


# --- HTTP behaviour -----------------------------------------------------------------------


def test_cors_and_preflight(client: FlaskClient) -> None:
    preflight = client.options("/sparql", headers={
        "Origin": "https://portal.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    response = client.get("/sparql", query_string={"query": COUNT}, headers={"Origin": "https://x.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/", "/sparql", "/nothing-here", "/doc/organisation/kgst", "/changes"])
def test_security_headers_everywhere(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(("accept", "body"), [
    ("application/json", {"status": 404, "error": "Not Found"}),
    ("text/plain", "404 Not Found\n\n"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", "<h1>404 Not Found</h1>"),
])
def test_error_body_shape(client: FlaskClient, accept: str, body: object) -> None:
    response = client.get("/nowhere", headers={"Accept": accept})
    assert response.status_code == 404
    if isinstance(body, dict):
        document = response.get_json()
        assert {k: document[k] for k in body} == body and document["message"]
    elif accept == "text/plain":
        assert response.get_data(as_text=True).startswith(body)  # type: ignore[arg-type]
    else:
        assert response.mimetype == "text/html" and body in response.get_data(as_text=True)  # type: ignore[operator]


# --- Linked Data --------------------------------------------------------------------------


def test_id_answers_303_to_its_document(client: FlaskClient) -> None:
    response = client.get("/id/organisation/kgst")
    assert response.status_code == 303
    assert response.headers["Location"] == "/doc/organisation/kgst"


@pytest.mark.parametrize(("path", "accept", "media_type"), [
    ("/doc/organisation/kgst", "text/turtle", "text/turtle"),
    ("/doc/organisation/kgst", "application/ld+json", "application/ld+json"),
    ("/doc/organisation/kgst", "application/n-triples", "application/n-triples"),
    ("/doc/organisation/kgst", "application/rdf+xml", "application/rdf+xml"),
    ("/doc/organisation/kgst", "text/html", "text/html"),
    ("/doc/organisation/kgst.ttl", "text/html", "text/turtle"),
    ("/doc/organisation/kgst.jsonld", None, "application/ld+json"),
    ("/doc/organisation/kgst?format=ntriples", "text/html", "application/n-triples"),
    ("/doc/def/topic/open-source", "text/turtle", "text/turtle"),
])
def test_document_negotiation(client: FlaskClient, path: str, accept: str | None, media_type: str) -> None:
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.headers["Vary"] == "Accept, Accept-Language"
    assert 'rel="alternate"' in response.headers["Link"]


def test_document_holds_the_resource_and_its_parts(client: FlaskClient) -> None:
    response = client.get("/doc/membership/oss--kgst.nt")
    subjects = {str(t.subject) for t in ox.parse(response.data, format=ox.RdfFormat.N_TRIPLES)}
    iri = f"{BASE}id/membership/oss--kgst"
    assert {f"<{iri}>", f"<{iri}#interval>", f"<{iri}#start>"} <= subjects


@pytest.mark.parametrize("path", [
    "/id/organisation/nobody", "/doc/organisation/nobody", "/id/organisation/kgst%3E%20%3Fp",
    "/doc/organisation/..%2F..%2Fetc%2Fpasswd", "/def/nothing", "/ags/99999999", "/ags/123",
])
def test_unknown_resources_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_official_key_redirects_to_the_organisation(client: FlaskClient) -> None:
    response = client.get("/ags/14612000")
    assert response.status_code == 303
    assert response.headers["Location"] == "/id/organisation/dresden"


# --- downloads and metadata ---------------------------------------------------------------


def test_download_with_conditional_and_range_requests(client: FlaskClient, release_dir: Path) -> None:
    on_disk = next((release_dir / "current" / "dumps").glob("lod-ikz.nt.gz")).read_bytes()
    # Responses are closed as a WSGI server closes them, which closes the file they stream.
    with client.get("/download/lod-ikz.nt.gz") as full:
        assert full.status_code == 200 and full.mimetype == "application/gzip"
        assert full.data == on_disk
        assert full.headers["Repr-Digest"].startswith("sha-256=:")
        etag, modified = full.headers["ETag"], full.headers["Last-Modified"]
    with client.get("/download/lod-ikz.nt.gz", headers={"If-None-Match": etag}) as cached:
        assert cached.status_code == 304
    with client.get("/download/lod-ikz.nt.gz", headers={"If-Modified-Since": modified}) as cached:
        assert cached.status_code == 304
    with client.get("/download/lod-ikz.nt.gz", headers={"Range": "bytes=10-19"}) as part:
        assert part.status_code == 206 and part.data == on_disk[10:20]


@pytest.mark.parametrize("name", ["nothing.ttl", "..%2Fmanifest.json", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd"])
def test_download_serves_only_dumps(client: FlaskClient, name: str) -> None:
    assert client.get(f"/download/{name}").status_code == 404


@pytest.mark.parametrize("path", ["/.well-known/void", "/catalog"])
@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/rdf+xml"])
def test_metadata_is_negotiated(client: FlaskClient, path: str, accept: str) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    fmt = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD,
           "application/rdf+xml": ox.RdfFormat.RDF_XML}[accept]
    assert len(list(ox.parse(response.data, format=fmt))) > 20


def test_health(client: FlaskClient, tmp_path: Path) -> None:
    assert client.get("/healthz").get_json()["status"] == "ok"
    empty = create_app(Settings(release_dir=tmp_path)).test_client().get("/healthz")
    assert empty.status_code == 503 and "lod build" in empty.get_json()["reason"]


@pytest.mark.parametrize("clause", ["SERVICE", "SERVICE SILENT", "service"])
def test_service_is_refused_without_fetching(client: FlaskClient, clause: str) -> None:
    with port_nobody_may_call() as port:
        query = f"SELECT * WHERE {{ {clause} <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
        response = client.get("/sparql", query_string={"query": query, "format": "json"})
        assert response.status_code == 403
        assert "SERVICE" in response.get_data(as_text=True)


def test_overload_is_answered_503_with_retry_after(release_dir: Path) -> None:
    import threading

    app = create_app(Settings(release_dir=release_dir, query_timeout=2, query_slots=1, queue_wait=0.2))
    busy = threading.Thread(target=lambda: app.test_client().get(
        "/sparql", query_string={"query": SLOW, "format": "json"}))
    busy.start()
    try:
        deadline = time.monotonic() + 5
        response = None
        attempt = 0
        while time.monotonic() < deadline:  # until the slow query holds the only slot
            attempt += 1  # a new query each time: a cached answer needs no slot
            response = app.test_client().get("/sparql", query_string={
                "query": f"{COUNT} # {attempt}", "format": "json"})
            if response.status_code == 503:
                break
        assert response is not None and response.status_code == 503
        assert int(response.headers["Retry-After"]) >= 1
        assert "busy" in response.get_data(as_text=True)
    finally:
        busy.join()
    after = app.test_client().get("/sparql", query_string={"query": COUNT, "format": "json"})
    assert after.status_code == 200


def test_results_carry_an_etag_and_revalidate(client: FlaskClient) -> None:
    params = {"query": COUNT + " # etag", "format": "json"}
    first = client.get("/sparql", query_string=params)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag and first.headers["Cache-Control"] == "public, no-cache"
    again = client.get("/sparql", query_string=params, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/sparql", query_string={**params, "format": "xml"}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_a_repeated_query_is_answered_from_the_cache(release_dir: Path) -> None:
    runner = Recording(Settings(release_dir=release_dir))
    client = create_app(runner.settings, queries=runner).test_client()
    params = {"query": COUNT, "format": "json"}
    first = client.get("/sparql", query_string=params)
    second = client.get("/sparql", query_string=params)
    assert second.status_code == 200 and second.data == first.data
    assert len(runner.asked) == 1


def test_pages_survive_the_package_being_replaced(release_dir: Path, tmp_path: Path) -> None:
    """`pip install` of another version under a running server removes the files it was started
    from: its pages and stylesheet must not depend on them."""
    import shutil
    import subprocess
    import sys

    import lod

    copy = tmp_path / "site"
    shutil.copytree(Path(lod.__path__[0]), copy / "lod")
    code = f"""
import shutil, sys
sys.path.insert(0, {str(copy)!r})
from lod.settings import Settings
from lod.web import create_app
client = create_app(Settings(release_dir=__import__('pathlib').Path({str(release_dir)!r}))).test_client()
shutil.rmtree({str(copy / "lod" / "web" / "templates")!r})
shutil.rmtree({str(copy / "lod" / "web" / "static")!r})
page = client.get("/", headers={{"Accept": "text/html"}})
css = client.get("/static/lod.css")
missing = client.get("/nowhere", headers={{"Accept": "text/html"}})
print(page.status_code, css.status_code, css.mimetype, missing.status_code, b"<html" in missing.data)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["200", "200", "text/css", "404", "True"], done.stderr[-2000:]


# --- one query interface -------------------------------------------------------------------


class Recording:
    """Answers in this process, and records what it was asked."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.asked: list[tuple[str, bool]] = []
        self.runner = InProcessQueries(preparer=QueryPreparer(base_iri=f"{settings.public_url}sparql"),
                                       limits=QueryLimits.from_settings(settings))

    def execute(self, release: Release, request: QueryRequest, *, for_page: bool = False) -> QueryOutcome:
        self.asked.append((request.query, for_page))
        return self.runner.execute(release, request, for_page=for_page)


def test_the_endpoint_and_the_pages_ask_the_runner_the_app_is_given(release_dir: Path) -> None:
    runner = Recording(Settings(release_dir=release_dir))
    client = create_app(runner.settings, queries=runner).test_client()
    answer = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"},
                         headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200 and json.loads(answer.data) == {"head": {}, "boolean": True}
    assert runner.asked == [("ASK { ?s ?p ?o }", False)]
    page = client.get("/doc/organisation/kgst", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "KGSt" in page.get_data(as_text=True)
    assert len(runner.asked) > 1 and all(for_page for _, for_page in runner.asked[1:])


def test_the_vocabularies_prefixes_are_predeclared(client: FlaskClient) -> None:
    # No PREFIX line: skos: and ikz: are declared for every query; a query's own declaration wins.
    answer = client.get("/sparql", query_string={
        "query": "ASK { ?s skos:prefLabel ?l ; ikz:ags ?ags }", "format": "json"})
    assert answer.status_code == 200 and json.loads(answer.data)["boolean"] is True
    own = client.get("/sparql", query_string={
        "query": "PREFIX skos: <http://example.org/not-skos#> ASK { ?s skos:prefLabel ?l }",
        "format": "json"})
    assert own.status_code == 200 and json.loads(own.data)["boolean"] is False
    unknown = client.get("/sparql", query_string={"query": "ASK { ?s xyz:p ?o }", "format": "json"})
    assert unknown.status_code == 400 and "the prefix 'xyz:' is not declared" in unknown.text


def test_a_missing_page_is_explained_in_the_readers_language(client: FlaskClient) -> None:
    german = client.get("/nowhere", headers={"Accept": "text/html", "Accept-Language": "de"})
    german = german.get_data(as_text=True)
    assert "Unter dieser Adresse gibt es nichts." in german and "Nothing is published" not in german
    assert '<html lang="de">' in german and ">Startseite</a>" in german
    english = client.get("/nowhere?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Nothing is published at this address." in english and "Unter dieser" not in english
    assert '<html lang="en">' in english and ">Home page</a>" in english
    assert "The requested URL was not found on the server" not in german + english
    plain = client.get("/nowhere", headers={"Accept": "text/plain"}).get_data(as_text=True)
    assert "Unter dieser Adresse gibt es nichts. / Nothing is published at this address." in plain


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(("path", "heading"), [("/catalog", "Katalogeintrag"),
                                               ("/.well-known/void", "Beschreibung des Datensatzes (VoID)")])
def test_a_browser_gets_the_dataset_as_a_page_and_rdf_clients_get_rdf(client: FlaskClient, path: str,
                                                                       heading: str) -> None:
    page = client.get(path, headers={"Accept": BROWSER, "Accept-Language": "de"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html" and f"<h1>{heading}</h1>" in text
    manifest = open_release(client.application.extensions["lod"].settings.release_dir).manifest
    for dump in manifest.dumps:  # every download, with its checksum and its size as Germans write it
        assert dump.sha256 in text and f"{dump.size:,}".replace(",", ".") in text
    assert client.get(path, headers={"Accept": "*/*"}).mimetype == "text/turtle"
    assert client.get(path).mimetype == "text/turtle"
    linked = client.get(f"{path}?format=jsonld", headers={"Accept": BROWSER})
    assert linked.mimetype == "application/ld+json" and json.loads(linked.data)


def test_head_of_a_query_answers_as_its_get_without_a_body(client: FlaskClient) -> None:
    headers = {"Accept": "application/sparql-results+json"}
    got = client.get("/sparql", query_string={"query": COUNT}, headers=headers)
    head = client.head("/sparql", query_string={"query": COUNT}, headers=headers)
    assert head.status_code == got.status_code == 200 and head.data == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["ETag"] == got.headers["ETag"]
