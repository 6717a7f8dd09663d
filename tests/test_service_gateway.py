"""SERVICE under control: the allow-list, the address checks, and real federated queries between
two endpoints on 127.0.0.1 (nothing here reaches beyond it)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient
from SPARQLWrapper import JSON, SPARQLWrapper

from lod.query.gateway import FederationPolicy, Refused, ServiceForwarder
from lod.query.prepare import QueryPreparer, QueryRefused
from lod.settings import Settings
from lod.web import create_app

from .conftest import ServerFactory, port_nobody_may_call

KGST = "https://w3id.org/lod-ikz/id/organisation/kgst"
LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda host, _port: table[host]


@pytest.mark.parametrize("address", [
    "127.0.0.1", "::1", "10.1.2.3", "172.16.5.4", "192.168.1.1", "169.254.169.254", "fe80::1",
    "0.0.0.0", "100.64.0.1", "fc00::1",
])
def test_non_public_addresses_are_refused(address: str) -> None:
    policy = FederationPolicy.of(endpoints=["http://intranet.example/sparql"])
    with pytest.raises(Refused, match="non-public"):
        policy.checked_addresses("intranet.example", 80, resolver({"intranet.example": [address]}))


def test_any_non_public_answer_refuses_the_name() -> None:
    policy = FederationPolicy.of(endpoints=["http://mixed.example/sparql"])
    with pytest.raises(Refused):
        policy.checked_addresses("mixed.example", 80,
                                 resolver({"mixed.example": ["93.184.216.34", "10.0.0.1"]}))


def test_public_addresses_and_allowed_networks_pass() -> None:
    policy = FederationPolicy.of(endpoints=["http://x/"], networks=["127.0.0.0/8"])
    addresses = policy.checked_addresses("x", 80, resolver({"x": ["93.184.216.34", "127.0.0.2"]}))
    assert [str(a) for a in addresses] == ["93.184.216.34", "127.0.0.2"]


@pytest.mark.parametrize("query", [
    "SELECT * { SERVICE <http://other.example/sparql> {} }",
    "SELECT * { SERVICE ?endpoint {} }",
    "PREFIX e: <http://other.example/> SELECT * { SERVICE e:sparql {} }",
    "SELECT * { SERVICE <http://allowed.example/sparql> {} SERVICE <http://other.example/sparql> {} }",
])
def test_allow_list(query: str) -> None:
    preparer = QueryPreparer(base_iri="http://127.0.0.1/sparql",
                             federation=FederationPolicy.of(endpoints=["http://allowed.example/sparql"]))
    with pytest.raises(QueryRefused, match="only to these endpoints"):
        preparer.prepare(query)
    for allowed in ("SELECT * { SERVICE <http://allowed.example/sparql> {} }",
                    "PREFIX e: <http://allowed.example/> SELECT * { SERVICE e:sparql {} }"):
        assert "http://allowed.example" not in preparer.prepare(allowed).text  # sent to the gateway


def test_a_name_resolving_to_loopback_is_never_contacted() -> None:
    with port_nobody_may_call() as port:
        endpoint = f"http://sneaky.example:{port}/sparql"
        forwarder = ServiceForwarder(FederationPolicy.of(endpoints=[endpoint]),
                                     resolver=resolver({"sneaky.example": ["127.0.0.1"]}))
        status, body = forwarder.forward(0, "SELECT * {}")
        assert status == 403 and b"non-public" in body


# --- two real endpoints -------------------------------------------------------------------


@pytest.fixture(scope="module")
def peer(release_dir: Path, lod_server: ServerFactory) -> str:
    """A second endpoint: another `lod serve` process."""
    return lod_server(release_dir, workers=1)


def federating_app(release_dir: Path, endpoints: list[str], **settings: object) -> FlaskClient:
    return create_app(Settings(release_dir=release_dir, federation=True,
                               federation_endpoints=tuple(endpoints),
                               federation_networks=("127.0.0.1/32",), **settings)).test_client()  # type: ignore[arg-type]


def bindings(response: object) -> list[dict[str, dict[str, str]]]:
    result: list[dict[str, dict[str, str]]] = json.loads(response.data)["results"]["bindings"]  # type: ignore[attr-defined]
    return result


def test_federated_join_across_two_endpoints(release_dir: Path, peer: str) -> None:
    client = federating_app(release_dir, [f"{peer}sparql"])
    query = f"""SELECT ?name ?remote WHERE {{
        <{KGST}> <{LABEL}> ?name . FILTER(LANG(?name) = "de")
        SERVICE <{peer}sparql> {{ <{KGST}> <{LABEL}> ?remote }}
    }}"""
    response = client.get("/sparql", query_string={"query": query, "format": "json"})
    assert response.status_code == 200, response.data
    rows = bindings(response)
    assert rows and {r["remote"]["value"] for r in rows} >= {r["name"]["value"] for r in rows}


def test_remote_rows_are_capped(release_dir: Path, peer: str) -> None:
    client = federating_app(release_dir, [f"{peer}sparql"], federation_max_rows=3)
    query = f"SELECT * WHERE {{ SERVICE <{peer}sparql> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", query_string={"query": query, "format": "json"})
    assert response.status_code == 200, response.data
    assert len(bindings(response)) == 3


def test_an_endpoint_not_on_the_list_is_refused(release_dir: Path, peer: str) -> None:
    client = federating_app(release_dir, [f"{peer}sparql"])
    other = "http://127.0.0.1:9/sparql"
    query = f"SELECT * {{ SERVICE <{other}> {{ ?s ?p ?o }} }}"
    refused = client.get("/sparql", query_string={"query": query})
    assert refused.status_code == 403 and "only to these endpoints" in refused.get_data(as_text=True)


def test_errors_name_the_remote_endpoint_and_silent_hides_them(release_dir: Path) -> None:
    with socket.socket() as mute:  # accepts, never answers
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        endpoint = f"http://127.0.0.1:{mute.getsockname()[1]}/sparql"
        client = federating_app(release_dir, [endpoint], federation_timeout=1.0)
        started = time.monotonic()
        failed = client.get("/sparql", query_string={
            "query": f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}", "format": "json"})
        assert failed.status_code == 502
        assert endpoint in failed.get_data(as_text=True)
        assert time.monotonic() - started < 8
        silent = client.get("/sparql", query_string={
            "query": f"SELECT * {{ SERVICE SILENT <{endpoint}> {{ ?s ?p ?o }} }}", "format": "json"})
        assert silent.status_code == 200 and bindings(silent) == [{}]


@pytest.mark.parametrize(("enabled", "advertised"), [(True, True), (False, False)])
def test_service_description_advertises_federation_only_when_on(
        release_dir: Path, enabled: bool, advertised: bool) -> None:
    client = create_app(Settings(release_dir=release_dir, federation=enabled)).test_client()
    response = client.get("/sparql", headers={"Accept": "application/n-triples"})
    triples = {str(t) for t in ox.parse(response.data, format=ox.RdfFormat.N_TRIPLES)}
    feature = "<http://www.w3.org/ns/sparql-service-description#BasicFederatedQuery>"
    assert any(feature in t for t in triples) is advertised


def test_live_endpoint_federates_for_a_real_client(release_dir: Path, peer: str,
                                                   lod_server: ServerFactory) -> None:
    url = lod_server(release_dir, workers=1, env={
        "LOD_FEDERATION": "true", "LOD_FEDERATION_ENDPOINTS": f"{peer}sparql",
        "LOD_FEDERATION_NETWORKS": "127.0.0.1/32"})
    client = SPARQLWrapper(f"{url}sparql")
    client.setReturnFormat(JSON)
    client.setQuery(f"SELECT ?remote WHERE {{ SERVICE <{peer}sparql> {{ <{KGST}> <{LABEL}> ?remote }} }}")
    rows = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index]
    names = {row["remote"]["value"] for row in rows}
    assert "Kommunale Gemeinschaftsstelle für Verwaltungsmanagement" in names
