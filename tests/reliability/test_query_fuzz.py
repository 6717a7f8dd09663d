"""A grammar-aware fuzzer of queries: whatever a query says, no connection leaves the query process.

Queries are built from pieces of the SPARQL grammar — SERVICE in every spelling next to prefixed
names, comments, IRIs, strings and escapes, nested in groups, OPTIONAL, MINUS, EXISTS and
sub-SELECTs — with every IRI a target on 127.0.0.1 in one of its spellings. They go through the
endpoint as a client sends them, so both layers are tried: the decision on the parsed query and
the query process's confinement."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lod.settings import Settings
from lod.web import create_app


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    """The internal service a query must never reach."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        server.setblocking(False)
        yield server


@pytest.fixture(scope="module")
def client(release_dir: Path) -> FlaskClient:
    return create_app(Settings(release_dir=release_dir, query_timeout=5, query_slots=1)).test_client()


def hosts(port: int) -> st.SearchStrategy[str]:
    return st.sampled_from(["127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1",
                            "0177.0.0.1", "[::1]", "[::ffff:127.0.0.1]"]).map(lambda h: f"{h}:{port}")


KEYWORD = st.sampled_from(["SERVICE", "service", "SeRvIcE", "\\u0053ERVICE", "SERV\\u0049CE",
                           "\\U00000053ERVICE"])
SILENT = st.sampled_from(["", " SILENT", " silent", "SILENT "])
GAP = st.sampled_from(["", " ", "\n", "\t", "#>\n", "# comment }\n", " #x\n "])


@st.composite
def endpoint(draw: st.DrawFn, port: int) -> tuple[str, str]:
    """A prologue and a way to name http://{host}/… in the query body."""
    target = f"http://{draw(hosts(port))}/{draw(st.sampled_from(['', 'sparql', 'x?y=1']))}"
    form = draw(st.sampled_from(["iri", "empty prefix", "named prefix", "base"]))
    if form == "empty prefix":
        return f"PREFIX : <{target}>\n", ":x"
    if form == "named prefix":
        return f"PREFIX ex: <{target}>\n", "ex:y"
    if form == "base":
        return f"BASE <{target}>\n", "<z>"
    return "", f"<{target}>"


@st.composite
def service(draw: st.DrawFn, port: int, depth: int = 0) -> tuple[str, str]:
    prologue, name = draw(endpoint(port))
    inner = "?s ?p ?o" if depth >= 2 else draw(st.one_of(st.just("?s ?p ?o"), pattern(port, depth + 1)))
    glue = draw(GAP)
    text = f"{draw(KEYWORD)}{draw(SILENT)}{glue}{name}{draw(GAP)}{{ {inner} }}"
    return prologue, text


@st.composite
def pattern(draw: st.DrawFn, port: int, depth: int = 0) -> str:
    prologue, call = draw(service(port, depth))
    wrap = draw(st.sampled_from([
        "{0}", "OPTIONAL {{ {0} }}", "MINUS {{ {0} }}", "FILTER EXISTS {{ {0} }}",
        "FILTER NOT EXISTS {{ {0} }}", "{{ SELECT * WHERE {{ {0} }} LIMIT 1 }}", "GRAPH ?g {{ {0} }}",
        "{{ {0} }} UNION {{ ?a ?b ?c }}", "BIND(1 AS ?one) {0}", "FILTER(?a<?b){0}",
        "?s <http://ex/SERVICE> 'SERVICE' . {0}",
    ]))
    return prologue + "\0" + wrap.format(call)


@st.composite
def query(draw: st.DrawFn, port: int) -> str:
    parts = draw(pattern(port)).split("\0")
    prologue, body = "".join(parts[:-1]), parts[-1]
    form = draw(st.sampled_from(["SELECT * WHERE {{ {0} }}", "ASK {{ {0} }}",
                                 "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {0} }}", "DESCRIBE ?s WHERE {{ {0} }}",
                                 "SELECT*{{{0}}}"]))
    return prologue + form.format(body)


def nobody_came(listener: socket.socket) -> bool:
    try:
        connection, _address = listener.accept()
    except BlockingIOError:
        return True
    connection.close()
    return False


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_no_query_reaches_the_network(client: FlaskClient, listener: socket.socket, data: st.DataObject,
                                      ) -> None:
    text = data.draw(query(listener.getsockname()[1]))
    response = client.get("/sparql", query_string={"query": text, "format": "json"})
    assert response.status_code in (400, 403), (text, response.get_data(as_text=True)[:300])
    assert nobody_came(listener), text
