"""A remote SPARQL 1.1 store: publishing to it, switching it, and answering queries from it.

The store is a real Oxigraph server (``oxigraph serve`` from PyPI) on 127.0.0.1. Failures are
played by small scripted servers on 127.0.0.1: one that never answers, one that breaks off an
upload, one that checks credentials before passing everything on to the real store.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient
from SPARQLWrapper import JSON, N3, SPARQLWrapper
from werkzeug.test import TestResponse

from lod.errors import UsageError
from lod.query.evaluate import QueryRequest
from lod.query.executor import Overloaded
from lod.query.planner import Engine
from lod.query.prepare import QueryPreparer
from lod.rdf.store import ONTOLOGY_GRAPH, open_store
from lod.release.layout import CURRENT, Release, ReleaseError, open_release
from lod.release.publish import build_release
from lod.remote.publish import _Upload, build_release_remote
from lod.remote.queries import RemoteQueries
from lod.remote.store import ReleaseGraphs, RemoteStore, control_graph
from lod.settings import Settings
from lod.web import create_app

from .conftest import FIXTURES, ServerFactory, free_port

_bases = itertools.count()


# --- the store and the scripted servers ---------------------------------------------------------


def _oxigraph() -> str:
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if not found:
        pytest.skip("the `oxigraph` server (pip install oxigraph) is neither beside the Python "
                    "interpreter nor on PATH")
    return found


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph server on a free port of 127.0.0.1; its base URL."""
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    process = subprocess.Popen([_oxigraph(), "serve", "--location", str(location / "db"),
                                "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("oxigraph serve did not start") from None
            time.sleep(0.05)  # starting; ask again shortly
    yield url
    process.terminate()
    process.wait(timeout=10)


VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx
Striping           = 0

[Parameters]
ServerPort         = 127.0.0.1:{isql_port}
DisableUnixSocket  = 1
ServerThreads      = 10
CheckpointInterval = 0
NumberOfBuffers    = 10000
MaxDirtyBuffers    = 6000
DirsAllowed        = .

[HTTPServer]
ServerPort           = 127.0.0.1:{http_port}
ServerRoot           = {dir}
ServerThreads        = 10
MaxClientConnections = 10
Charset              = UTF-8

[SPARQL]
ResultSetMaxRows      = 1000000
MaxQueryExecutionTime = 30
"""


@dataclass(frozen=True)
class StoreServer:
    """A SPARQL store the tests publish to: its endpoints and the credentials its updates need."""

    name: str
    query_url: str
    update_url: str
    gsp_url: str
    graph_parameter: str = "graph"
    user: str = ""
    password: str = ""

    def settings(self, release_dir: Path, **changes: object) -> Settings:
        return remote_settings(self.query_url.removesuffix("query"), release_dir, **{
            "remote_query_url": self.query_url, "remote_update_url": self.update_url,
            "remote_gsp_url": self.gsp_url, "remote_graph_parameter": self.graph_parameter,
            "remote_user": self.user, "remote_password": self.password, **changes})


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    """A real Virtuoso 7 (Debian's virtuoso-opensource) with a database of its own on free ports
    of 127.0.0.1; updates and the Graph Store go through its -auth endpoints, with Digest."""
    if not shutil.which("virtuoso-t"):
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource)")
    directory = tmp_path_factory.mktemp("virtuoso")
    http_port = free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=directory, isql_port=free_port(), http_port=http_port))
    with (directory / "server.out").open("wb") as log:
        process = subprocess.Popen(["virtuoso-t", "+foreground", "+configfile", str(ini)], cwd=directory,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}sparql?query=ASK%7B%7D", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log_text = (directory / "server.out").read_text()[-2000:]
                raise RuntimeError(f"virtuoso-t did not start: {log_text}") from None
            time.sleep(0.1)  # creating its database; ask again shortly
    yield StoreServer("virtuoso", f"{url}sparql", f"{url}sparql-auth", f"{url}sparql-graph-crud-auth",
                      graph_parameter="graph-uri", user="dba", password="dba")
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def store(request: pytest.FixtureRequest) -> StoreServer:
    """Each real store the remote mode is tested against."""
    if request.param == "virtuoso":
        server: StoreServer = request.getfixturevalue("virtuoso")
        return server
    url = request.getfixturevalue("oxigraph")
    return StoreServer("oxigraph", f"{url}query", f"{url}update", f"{url}store")


def remote_settings(store_url: str, release_dir: Path, **changes: object) -> Settings:
    """Settings publishing to ``store_url`` under a base IRI of their own (tests share the store)."""
    values: dict[str, object] = {
        "release_dir": release_dir, "base_iri": f"https://example.org/t{next(_bases)}/",
        "remote_query_url": f"{store_url}query", "remote_update_url": f"{store_url}update",
        "remote_gsp_url": f"{store_url}store", "query_timeout": 5.0, "remote_timeout": 5.0,
        **changes}
    return Settings(**values)  # type: ignore[arg-type]


def build(settings: Settings, data: Path = FIXTURES / "minimal") -> Release:
    return build_release_remote(data, settings=settings, allow_warnings=True)


Script = Callable[[socket.socket], None]


@contextmanager
def scripted(script: Script) -> Iterator[str]:
    """A server on 127.0.0.1 that runs ``script`` on every connection; its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    connections: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(connection)
            threading.Thread(target=script, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join()
        listener.close()
        for connection in connections:
            connection.close()


def read_head(connection: socket.socket) -> tuple[bytes, bytes]:
    """The request head and whatever of the body came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def never_answers(connection: socket.socket) -> None:
    """Takes the request and says nothing until the client hangs up."""
    read_head(connection)
    with suppress(OSError):
        while connection.recv(65536):
            pass


def respond(connection: socket.socket, status: str, body: bytes = b"", headers: str = "") -> None:
    connection.sendall(f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(body)}\r\n"
                       f"Connection: close\r\n\r\n".encode() + body)
    connection.close()


def answer(status: str, body: bytes = b"", headers: str = "") -> Script:
    def script(connection: socket.socket) -> None:
        read_head(connection)
        respond(connection, status, body, headers)
    return script


def fails_mid_upload(connection: socket.socket) -> None:
    """Reads a little of the body, then answers 500 and hangs up."""
    _head, rest = read_head(connection)
    while len(rest) < 1000 and (chunk := connection.recv(1000)):
        rest += chunk
    respond(connection, "500 Internal Server Error", b"disk full")


def drops_mid_upload(connection: socket.socket) -> None:
    """Reads a little of the body, then hangs up without a word."""
    _head, rest = read_head(connection)
    while len(rest) < 1000 and (chunk := connection.recv(1000)):
        rest += chunk
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    connection.close()  # a reset, as when a server process dies


def swallows_upload(connection: socket.socket) -> None:
    """Reads the whole upload (sent with its length: some stores cannot read a chunked one) and
    says it stored it, storing nothing."""
    head, body = read_head(connection)
    length = int(header(head, "Content-Length") or "-1")
    while len(body) < length and (chunk := connection.recv(65536)):
        body += chunk
    respond(connection, "204 No Content")


@dataclass
class Guard:
    """A proxy in front of the store that passes on only requests with the right Authorization."""

    upstream: str
    expected: str
    seen: list[tuple[str, str | None]]

    def __call__(self, client: socket.socket) -> None:
        head, rest = read_head(client)
        request_line = head.split(b"\r\n", 1)[0].decode()
        authorization = header(head, "Authorization")
        self.seen.append((request_line, authorization))
        if authorization != self.expected:
            respond(client, "401 Unauthorized", b"who are you?", 'WWW-Authenticate: Basic realm="store"\r\n')
            return
        parts = urllib.parse.urlsplit(self.upstream)
        upstream = socket.create_connection((parts.hostname, parts.port))
        upstream.sendall(head + b"\r\n\r\n" + rest)

        def pipe(source: socket.socket, target: socket.socket) -> None:
            try:
                while chunk := source.recv(65536):
                    target.sendall(chunk)
            except OSError:
                pass
            for side in (source, target):
                with suppress(OSError):
                    side.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
        back.start()
        pipe(client, upstream)
        back.join(5)
        upstream.close()


# --- reading the store directly -----------------------------------------------------------------


def remote_triples(store: StoreServer, graph: str) -> set[str]:
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    request = urllib.request.Request(store.query_url, headers={"Accept": "application/n-triples"},
                                     data=urllib.parse.urlencode({"query": query}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return {str(q.triple) for q in ox.parse(response.read(), ox.RdfFormat.N_TRIPLES)}


def local_triples(release: Release, graph: ox.NamedNode | ox.DefaultGraph) -> set[str]:
    store = open_store(release.store_path)
    return {str(q.triple) for q in store.quads_for_pattern(None, None, None, graph)}


def pointer(store: RemoteStore, settings: Settings) -> str | None:
    current = store.current(settings.base_iri)
    return current.release_id if current else None


def versions(store: RemoteStore, settings: Settings) -> list[str]:
    return [graphs.release_id for graphs in store.versions(settings.base_iri)]


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "message"), [
    ({"remote_query_url": "ftp://store/query"}, "must be an http(s) URL"),
    ({"remote_query_url": "http://user:pw@store/query"}, "credentials do not belong in the URL"),
    ({"remote_gsp_url": "http://store/store"}, "need remote_query_url"),
    ({"remote_query_url": "http://store/q", "remote_user": "u"}, "go together"),
    ({"remote_query_url": "http://store/q", "remote_user": "u", "remote_password": "p",
      "remote_token": "t"}, "not both"),
    ({"remote_query_url": "http://store/q", "remote_graph_parameter": "graph uri"}, "plain URL parameter"),
    ({"remote_query_url": "http://store/q", "federation": True}, "exclude each other"),
    ({"remote_query_url": "http://store/q", "remote_timeout": 0}, "must be positive"),
])
def test_settings_refuse_what_cannot_work(changes: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        Settings(**changes)  # type: ignore[arg-type]


def test_credentials_come_from_the_environment_only(tmp_path: Path) -> None:
    environ = {"LOD_REMOTE_QUERY_URL": "http://store/q", "LOD_REMOTE_USER": "lod",
               "LOD_REMOTE_PASSWORD": "s3cret-pw"}
    settings = Settings.load(environ=environ)
    assert (settings.remote_user, settings.remote_password) == ("lod", "s3cret-pw")
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in repr(RemoteStore.from_settings(settings))
    config = tmp_path / "lod.toml"
    config.write_text('remote_query_url = "http://store/q"\nremote_password = "s3cret-pw"\n')
    with pytest.raises(UsageError, match="LOD_REMOTE_PASSWORD") as refused:
        Settings.load(config=config, environ={})
    assert "s3cret-pw" not in str(refused.value)


def test_publishing_needs_the_update_and_graph_store_endpoints(tmp_path: Path) -> None:
    settings = Settings(release_dir=tmp_path, remote_query_url="http://127.0.0.1:9/query")
    with pytest.raises(UsageError, match="remote_update_url and remote_gsp_url"):
        build(settings)
    assert not (tmp_path / CURRENT).exists()


# --- publishing ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(store: StoreServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Release]:
    """One release built with each real store, shared by the tests that only read it."""
    settings = store.settings(tmp_path_factory.mktemp("published"))
    return settings, build(settings)


def test_the_store_holds_exactly_the_release(store: StoreServer, published: tuple[Settings, Release]) -> None:
    settings, release = published
    graphs = ReleaseGraphs.of(settings.base_iri, release.manifest.release_id)
    assert graphs.data == f"{settings.base_iri}release/{release.manifest.release_id}"
    data = remote_triples(store, graphs.data)
    assert len(data) == release.manifest.served_triples > release.manifest.triples > 100
    # as the local default graph, it holds the vocabulary too (lod.release.publish merges it)
    assert data == local_triples(release, ox.DefaultGraph())
    assert remote_triples(store, graphs.vocabulary) == local_triples(release, ONTOLOGY_GRAPH)
    remote = RemoteStore.from_settings(settings)
    assert remote is not None
    assert pointer(remote, settings) == release.manifest.release_id
    assert versions(remote, settings) == [release.manifest.release_id]
    assert remote_triples(store, control_graph(settings.base_iri)) == {
        f"<{control_graph(settings.base_iri)}> <http://www.w3.org/ns/dcat#{p}> <{graphs.data}>"
        for p in ("hasCurrentVersion", "hasVersion")}


def test_a_new_build_is_switched_in_and_old_ones_pruned(store: StoreServer, tmp_path: Path,
                                                        minimal: Path) -> None:
    settings = store.settings(tmp_path / "release", keep_releases=2)
    remote = RemoteStore.from_settings(settings)
    assert remote is not None
    first = build(settings, minimal)
    client = create_app(settings).test_client()
    query = {"query": 'ASK { ?s ?p "Vitako renamed"@de }', "format": "json"}
    assert client.get("/sparql", query_string=query).json == {"head": {}, "boolean": False}
    organisations = minimal / "organisations.csv"
    organisations.write_text(organisations.read_text(encoding="utf-8").replace(
        "Vitako \N{EN DASH} Bundes-Arbeitsgemeinschaft der Kommunalen IT-Dienstleister e.V.",
        "Vitako renamed"),
        encoding="utf-8")
    second = build(settings, minimal)
    assert pointer(remote, settings) == second.manifest.release_id
    # The serving app follows `current` and asks the new release's graphs.
    assert client.get("/sparql", query_string=query).json == {"head": {}, "boolean": True}
    third = build(settings, minimal)
    ids = [r.manifest.release_id for r in (first, second, third)]
    assert versions(remote, settings) == ids[1:]
    old = ReleaseGraphs.of(settings.base_iri, ids[0])
    assert remote.count([old.data, old.vocabulary]) == {old.data: 0, old.vocabulary: 0}
    kept = ReleaseGraphs.of(settings.base_iri, ids[1])
    assert remote.count([kept.data])[kept.data] == second.manifest.served_triples


FAILING_UPLOADS = {"500": fails_mid_upload, "reset": drops_mid_upload, "swallowed": swallows_upload}


@pytest.mark.parametrize(("kind", "message"), [
    ("500", "answered 500 Internal Server Error while uploading"),
    ("reset", "cannot be reached"),
    ("swallowed", "holds 0 triples"),
])
def test_a_failed_upload_switches_nothing(oxigraph: str, tmp_path: Path, kind: str, message: str) -> None:
    settings = remote_settings(oxigraph, tmp_path)
    store = RemoteStore.from_settings(settings)
    assert store is not None
    before = build(settings)
    link = os.readlink(tmp_path / CURRENT)
    with scripted(FAILING_UPLOADS[kind]) as gsp, pytest.raises(ReleaseError, match=message) as failed:
        build(settings.with_(remote_gsp_url=f"{gsp}store"))
    assert "nothing was switched" in str(failed.value)
    assert os.readlink(tmp_path / CURRENT) == link
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == [before.manifest.release_id]
    assert pointer(store, settings) == before.manifest.release_id
    assert versions(store, settings) == [before.manifest.release_id]  # the failed one is dropped
    assert open_release(tmp_path).manifest.release_id == before.manifest.release_id


def test_inputs_with_named_graphs_of_their_own_are_refused(oxigraph: str, tmp_path: Path) -> None:
    quads = tmp_path / "extra.nq"
    quads.write_text("<http://example.org/s> <http://example.org/p> \"o\" <http://example.org/g> .\n")
    settings = remote_settings(oxigraph, tmp_path / "release")
    with pytest.raises(ReleaseError, match=re.escape("named graphs of its own (<http://example.org/g>)")):
        build_release_remote([FIXTURES / "minimal", quads], settings=settings, allow_warnings=True)
    store = RemoteStore.from_settings(settings)
    assert store is not None and versions(store, settings) == [] and pointer(store, settings) is None
    assert not (tmp_path / "release" / CURRENT).exists()


def test_a_failed_local_switch_switches_the_store_back(oxigraph: str, tmp_path: Path) -> None:
    settings = remote_settings(oxigraph, tmp_path / "release")
    store = RemoteStore.from_settings(settings)
    assert store is not None
    before = build(settings)
    # A complete build that `current` will not point to, as when the local switch fails.
    other = build_release(FIXTURES / "minimal", allow_warnings=True, settings=settings.with_(
        release_dir=tmp_path / "other", remote_query_url="", remote_update_url="", remote_gsp_url=""))
    upload = _Upload(store, settings.base_iri, lambda _message: None)
    upload(other.path, other.manifest)
    assert pointer(store, settings) == other.manifest.release_id
    upload.undo(settings.release_dir)
    assert pointer(store, settings) == before.manifest.release_id
    assert versions(store, settings) == [before.manifest.release_id]
    dropped = ReleaseGraphs.of(settings.base_iri, other.manifest.release_id)
    assert store.count([dropped.data])[dropped.data] == 0


def test_lod_build_reports_a_failed_upload_without_a_traceback(oxigraph: str, tmp_path: Path) -> None:
    settings = remote_settings(oxigraph, tmp_path)
    with scripted(fails_mid_upload) as gsp:
        done = subprocess.run(
            [sys.executable, "-m", "lod", "build", str(FIXTURES / "minimal"), "--release-dir", str(tmp_path),
             "--base-iri", settings.base_iri, "--allow-warnings"],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "LOD_REMOTE_QUERY_URL": settings.remote_query_url,
                 "LOD_REMOTE_UPDATE_URL": settings.remote_update_url, "LOD_REMOTE_GSP_URL": f"{gsp}store"})
    assert done.returncode == 2
    assert "error: release" in done.stderr and "was not published" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / CURRENT).exists()


# --- queries ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clients(published: tuple[Settings, Release]) -> tuple[FlaskClient, FlaskClient]:
    """The same release served from the remote store and from its local store."""
    settings, _ = published
    local = settings.with_(remote_query_url="", remote_update_url="", remote_gsp_url="")
    return create_app(settings).test_client(), create_app(local).test_client()


def document(response: TestResponse) -> Any:
    """A SPARQL JSON response's document."""
    return json.loads(response.data)


def answers(data: bytes, media_type: str) -> object:
    """A result as something comparable: rows or triples as sets, a boolean as itself."""
    results = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
               "application/sparql-results+xml": ox.QueryResultsFormat.XML,
               "text/tab-separated-values": ox.QueryResultsFormat.TSV}
    if media_type in results:
        parsed = ox.parse_query_results(data, results[media_type])
        if isinstance(parsed, ox.QueryBoolean):
            return bool(parsed)
        return sorted(str(list(row)) for row in parsed)
    if media_type == "text/csv":
        return sorted(data.decode().splitlines())
    graph_formats = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
                     "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}
    return {str(q.triple) for q in ox.parse(data, graph_formats[media_type])}


KGST = "<{base}id/organisation/kgst>"
QUERIES = [
    ("SELECT ?s ?label WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }", "json"),
    ("SELECT ?s ?label WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }", "xml"),
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "csv"),
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "tsv"),
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "json"),
    ("SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class", "xml"),
    (f"ASK {{ {KGST} ?p ?o }}", "json"),
    ("ASK { ?s ?p <http://example.org/nothing> }", "xml"),
    (f"CONSTRUCT {{ {KGST} ?p ?o }} WHERE {{ {KGST} ?p ?o }}", "turtle"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "nt"),
    (f"CONSTRUCT {{ ?s ?p {KGST} }} WHERE {{ ?s ?p {KGST} }}", "jsonld"),
    (f"DESCRIBE {KGST}", "turtle"),
    ("DESCRIBE <https://w3id.org/lod-ikz/def/organisation-kind/state-authority>", "rdfxml"),
]


@pytest.mark.parametrize(("query", "fmt"), QUERIES)
def test_answers_equal_the_local_endpoints(clients: tuple[FlaskClient, FlaskClient], published: tuple[
        Settings, Release], store: StoreServer, query: str, fmt: str) -> None:
    remote, local = clients
    params = {"query": query.replace("{base}", published[0].base_iri), "format": fmt}
    by_remote, by_local = (client.get("/sparql", query_string=params) for client in (remote, local))
    assert by_remote.status_code == by_local.status_code == 200, by_remote.data
    assert by_remote.mimetype == by_local.mimetype
    expected = answers(by_local.data, by_local.mimetype or "")
    assert expected not in (set(), [])  # every case has an answer to compare
    answered = answers(by_remote.data, by_remote.mimetype or "")
    if query.startswith("DESCRIBE") and store.name != "oxigraph":
        # What DESCRIBE holds is the service's to define (SPARQL 1.1 §16.4): Virtuoso adds the
        # triples that point at the resource to those Oxigraph gives.
        assert isinstance(answered, set) and isinstance(expected, set) and answered > expected
    else:
        assert answered == expected


def test_linked_data_pages_come_from_the_store(clients: tuple[FlaskClient, FlaskClient]) -> None:
    remote, local = clients
    for client in clients:
        assert client.get("/id/organisation/kgst").status_code == 303
    page = {"Accept": "application/n-triples"}
    by_remote, by_local = (c.get("/doc/organisation/kgst", headers=page) for c in (remote, local))
    assert by_remote.status_code == 200 and answers(by_remote.data, "application/n-triples") == answers(
        by_local.data, "application/n-triples")
    # The pages' own queries (the network of cooperations, the members' places) run there too.
    for path in ("/doc/organisation/kgst", "/doc/cooperation/oss"):
        html = remote.get(path, headers={"Accept": "text/html"})
        assert html.status_code == 200, html.get_data(as_text=True)[-3000:]


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"update": "DROP ALL"}, 403, "read-only"),
    ({"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}, 403,
     "SERVICE (federated query) is switched off"),
    ({"query": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"}, 403, "FROM and FROM NAMED"),
    ({"query": "SELECT * FROM\n NAMED#\n<http://example.org/g> WHERE { ?s ?p ?o }"}, 403,
     "FROM and FROM NAMED"),
    ({"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "http://example.org/g"}, 400,
     "is not a graph of this dataset"),
    ({"query": "SELECT * WHERE { ?s ?p ?o", "format": "json"}, 400, "not valid SPARQL"),
    ({"query": "SELECT * WHERE { ?s ?p ?o }", "format": "turtle"}, 406, "available"),
])
def test_refusals(clients: tuple[FlaskClient, FlaskClient], params: dict[str, str], status: int,
                  message: str) -> None:
    response = clients[0].get("/sparql", query_string=params, headers={"Accept": "text/plain"})
    assert response.status_code == status
    assert message in response.text and "Traceback" not in response.text


def test_updates_never_reach_the_store(clients: tuple[FlaskClient, FlaskClient], store: StoreServer,
                                       published: tuple[Settings, Release]) -> None:
    settings, release = published
    graph = ReleaseGraphs.of(settings.base_iri, release.manifest.release_id).data
    update = f"DROP GRAPH <{graph}>"
    for response in (
            clients[0].post("/sparql", data={"update": update}),
            clients[0].post("/sparql", data=update, headers={"Content-Type": "application/sparql-update"}),
            clients[0].post("/sparql", data={"query": update})):
        assert response.status_code == 403
    assert len(remote_triples(store, graph)) == release.manifest.served_triples


def test_queries_see_the_release_only(clients: tuple[FlaskClient, FlaskClient], published: tuple[
        Settings, Release]) -> None:
    settings, release = published
    control = control_graph(settings.base_iri)
    data = ReleaseGraphs.of(settings.base_iri, release.manifest.release_id).data
    for query in (f"ASK {{ <{control}> ?p ?o }}", f"ASK {{ ?s ?p <{data}> }}"):  # the control graph's
        response = clients[0].get("/sparql", query_string={"query": query, "format": "json"})
        assert document(response)["boolean"] is False, query
    # GRAPH is refused: Virtuoso reads a graph a query names, whatever named-graph-uri says.
    for query in (f"ASK {{ GRAPH <{control}> {{ ?s ?p ?o }} }}",
                  f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g = <{control}>) }}",
                  "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
        refused = clients[0].get("/sparql", query_string={"query": query, "format": "json"})
        assert refused.status_code == 403 and "GRAPH is not accepted" in refused.text, query
    vocabulary_only = clients[0].get("/sparql", query_string={
        "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "format": "json",
        "default-graph-uri": ONTOLOGY_GRAPH.value})
    count = document(vocabulary_only)["results"]["bindings"][0]["n"]["value"]
    assert int(count) == release.manifest.vocabulary_triples


def test_results_are_cut_at_max_rows(published: tuple[Settings, Release]) -> None:
    client = create_app(published[0].with_(max_rows=5)).test_client()
    rows = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }", "format": "json"})
    assert rows.headers["X-SPARQL-MaxRows"] == "5" and len(document(rows)["results"]["bindings"]) == 5
    graph = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "nt"})
    assert graph.headers["X-SPARQL-MaxRows"] == "5" and len(graph.data.splitlines()) == 5
    whole = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5",
                                                "format": "json"})
    assert "X-SPARQL-MaxRows" not in whole.headers


def test_a_large_result_is_spooled_to_a_file_and_cleaned_up(published: tuple[Settings, Release],
                                                             tmp_path: Path) -> None:
    spool = str(tmp_path)
    settings = published[0].with_(max_rows=5000)
    preparer = QueryPreparer(base_iri="http://127.0.0.1/sparql", engine=Engine.STANDARD)
    queries = RemoteQueries(RemoteStore(query_url=settings.remote_query_url), preparer=preparer, slots=1,
                            wait=1, timeout=5, max_rows=settings.max_rows, max_bytes=10**8, spool_dir=spool)
    outcome = queries.execute(published[1], QueryRequest(  # a LIMIT: Virtuoso makes the whole result first
        "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 6000", formats=("json",)))
    assert outcome.status == 200 and outcome.truncated and outcome.path is not None
    assert [p.name for p in tmp_path.iterdir()] == [Path(outcome.path).name]  # no per-query folder left
    assert len(json.loads(outcome.read())["results"]["bindings"]) == 5000
    assert list(tmp_path.iterdir()) == []


def test_an_answer_larger_than_remote_max_mb_is_refused(published: tuple[Settings, Release]) -> None:
    client = create_app(published[0].with_(remote_max_mb=1, max_rows=10_000_000)).test_client()
    response = client.get("/sparql", query_string={  # a LIMIT: Virtuoso makes the whole result first
        "query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 8000", "format": "json"})
    assert response.status_code == 502 and "larger than 1 MB (remote_max_mb)" in response.text


# --- an unreliable remote store -----------------------------------------------------------------


def remote_app(release: Release, store_url: str, **changes: object) -> FlaskClient:
    settings = Settings(release_dir=release.path.parent.parent, base_iri=release.manifest.base_iri,
                        remote_query_url=f"{store_url}query", **changes)  # type: ignore[arg-type]
    return create_app(settings).test_client()


def test_a_remote_store_that_is_down_gives_502(published: tuple[Settings, Release]) -> None:
    port = free_port()  # nobody listens there
    client = remote_app(published[1], f"http://127.0.0.1:{port}/")
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                          headers={"Accept": "text/plain"})
    assert response.status_code == 502
    assert f"the remote store at http://127.0.0.1:{port}/query cannot be reached" in response.text
    assert "Traceback" not in response.text


def test_a_remote_store_that_hangs_gives_504_in_time(published: tuple[Settings, Release]) -> None:
    with scripted(never_answers) as hanging:
        client = remote_app(published[1], hanging, query_timeout=1.0)
        started = time.monotonic()
        response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
        took = time.monotonic() - started
    assert response.status_code == 504 and "limit of 1 seconds" in response.text
    assert 0.9 < took < 3


def test_a_busy_remote_store_gives_503_with_its_retry_after(published: tuple[Settings, Release]) -> None:
    with scripted(answer("503 Service Unavailable", b"busy", "Retry-After: 7\r\n")) as busy:
        response = remote_app(published[1], busy).get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"


def test_slots_bound_concurrent_queries(published: tuple[Settings, Release]) -> None:
    arrived = threading.Event()

    def hold(connection: socket.socket) -> None:
        arrived.set()
        never_answers(connection)

    with scripted(hold) as hanging:
        store = RemoteStore(query_url=f"{hanging}query")
        queries = RemoteQueries(store, preparer=QueryPreparer(base_iri="http://127.0.0.1/sparql"), slots=1,
                                wait=0.2, timeout=1.0, max_rows=10, max_bytes=10**6)
        request = QueryRequest("ASK { ?s ?p ?o }", formats=("json",))
        outcomes = []
        first = threading.Thread(target=lambda: outcomes.append(queries.execute(published[1], request)))
        first.start()
        assert arrived.wait(5)  # the first query holds the one slot
        with pytest.raises(Overloaded) as refused:
            queries.execute(published[1], request)
        first.join()
    assert refused.value.retry_after == 1
    assert outcomes[0].status == 504  # and the slot was given back


# --- credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_credentials_are_sent_and_never_shown(oxigraph: str, tmp_path: Path, scheme: str) -> None:
    secret = "pa55-w0rd-xyz"
    if scheme == "basic":
        expected = "Basic " + base64.b64encode(f"lod:{secret}".encode()).decode()
        good, bad = {"remote_user": "lod", "remote_password": secret}, {"remote_user": "lod",
                                                                          "remote_password": "wrong-pw"}
    else:
        expected = f"Bearer {secret}"
        good, bad = {"remote_token": secret}, {"remote_token": "wrong-token"}
    seen: list[tuple[str, str | None]] = []
    with scripted(Guard(oxigraph, expected, seen)) as guarded:
        settings = remote_settings(guarded, tmp_path, **good)
        release = build(settings)
        assert {line.split()[0] for line, _ in seen} == {"POST", "PUT"}
        assert all(authorization == expected for _, authorization in seen)
        client = create_app(settings).test_client()
        assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }", "format": "json"}).json == {
            "head": {}, "boolean": True}
        with pytest.raises(ReleaseError, match="refused access \\(401") as refused:
            build(settings.with_(**bad))
        denied = create_app(settings.with_(**bad)).test_client().get(
            "/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert open_release(tmp_path).manifest.release_id == release.manifest.release_id
    assert denied.status_code == 502 and "refused access (401" in denied.text
    for text in (str(refused.value), denied.text):
        assert secret not in text and "wrong-" not in text and expected not in text


# --- lod serve ----------------------------------------------------------------------------------


def remote_environment(settings: Settings) -> dict[str, str]:
    return {"LOD_REMOTE_QUERY_URL": settings.remote_query_url, "LOD_BASE_IRI": settings.base_iri,
            "LOD_MAX_ROWS": str(settings.max_rows)}


def test_lod_serve_answers_from_the_remote_store(lod_server: ServerFactory, store: StoreServer,
                                                 published: tuple[Settings, Release]) -> None:
    settings, release = published
    url = lod_server(settings.release_dir, workers=1, env=remote_environment(settings))
    client = SPARQLWrapper(f"{url}sparql")
    client.setQuery("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    client.setReturnFormat(JSON)
    document = client.queryAndConvert()
    assert isinstance(document, dict)
    count = int(document["results"]["bindings"][0]["n"]["value"])
    assert count == release.manifest.triples + release.manifest.vocabulary_triples
    client.setQuery(f"CONSTRUCT {{ <{settings.base_iri}id/organisation/kgst> ?p ?o }} "
                    f"WHERE {{ <{settings.base_iri}id/organisation/kgst> ?p ?o }}")
    client.setReturnFormat(N3)
    graph = client.queryAndConvert()
    assert len(graph) > 5  # type: ignore[arg-type]
    update = urllib.request.Request(f"{url}sparql", data=b"DROP ALL",
                                    headers={"Content-Type": "application/sparql-update"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(update, timeout=10)
    with refused.value:  # its response is open
        assert refused.value.code == 403
    graphs = ReleaseGraphs.of(settings.base_iri, release.manifest.release_id)
    assert len(remote_triples(store, graphs.data)) == release.manifest.served_triples


def test_lod_serve_refuses_a_release_the_store_lacks(oxigraph: str, release_dir: Path) -> None:
    # `release_dir` was built without the remote store: serving it from there would answer nothing.
    done = subprocess.run(
        [sys.executable, "-m", "lod", "serve", "--release-dir", str(release_dir), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "LOD_REMOTE_QUERY_URL": f"{oxigraph}query"})
    assert done.returncode == 2
    assert "holds no graph" in done.stderr and "Traceback" not in done.stderr


def test_a_remote_store_is_sent_standard_sparql(published: tuple[Settings, Release]) -> None:
    from lod.web.context import lod_context

    app = create_app(published[0])
    # The local engine would get this MINUS as Oxigraph's LATERAL (lod.query.planner).
    query = ("SELECT * WHERE { ?m <http://www.w3.org/ns/org#member> ?o . "
             "MINUS { ?o <http://example.org/p> ?m } }")
    prepared = lod_context(app).queries.preparer.prepare(query)  # type: ignore[attr-defined]
    assert "LATERAL" not in prepared.text and prepared.text == prepared.original


# --- lod query ----------------------------------------------------------------------------------


def test_lod_query_answers_from_the_remote_store(published: tuple[Settings, Release]) -> None:
    settings, release = published
    env = {**os.environ, **remote_environment(settings)}

    def lod_query(query: str) -> subprocess.CompletedProcess[str]:
        command = ["query", "--release-dir", str(settings.release_dir), "--format", "json", query]
        return subprocess.run([sys.executable, "-m", "lod", *command], capture_output=True, text=True,
                              timeout=60, env=env)

    done = lod_query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert done.returncode == 0, done.stderr
    count = int(json.loads(done.stdout)["results"]["bindings"][0]["n"]["value"])
    assert count == release.manifest.triples + release.manifest.vocabulary_triples
    # Only the remote store's runner refuses FROM (the local engine's dataset is the release).
    refused = lod_query("SELECT * FROM <urn:x> WHERE { ?s ?p ?o }")
    assert refused.returncode != 0 and "answered by a remote store" in refused.stderr
    assert "Traceback" not in refused.stderr
    # A remote store gets standard SPARQL: no Oxigraph LATERAL for an OPTIONAL.
    explained = subprocess.run(
        [sys.executable, "-m", "lod", "query", "--release-dir", str(settings.release_dir), "--explain",
         "SELECT * WHERE { ?m ?p ?x OPTIONAL { ?m ?q ?r } }"],
        capture_output=True, text=True, timeout=60, env=env)
    assert explained.returncode == 0 and "OPTIONAL" in explained.stdout and "LATERAL" not in explained.stdout


def test_a_wrong_password_is_reported_after_one_digest_exchange(virtuoso: StoreServer,
                                                               tmp_path: Path) -> None:
    settings = virtuoso.settings(tmp_path, remote_password="wr0ng-pw-123")
    with pytest.raises(ReleaseError, match=r"refused access \(401 Unauthorized\)") as refused:
        build(settings)
    assert "wr0ng-pw-123" not in str(refused.value)
    assert not (tmp_path / CURRENT).exists()
