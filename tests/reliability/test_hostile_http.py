"""Hostile requests: never a 500, never a traceback or an internal path, never a file outside the
release. Property-based: hypothesis makes up paths, parameters, headers and methods."""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lod.settings import Settings
from lod.web import create_app

LEAKS = ("Traceback", 'File "', "site-packages", "/work/", "/tmp/", "pytest-of", "Werkzeug Debugger")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client(release_dir: Path) -> Iterator[FlaskClient]:
    app = create_app(Settings(release_dir=release_dir, query_timeout=2, max_rows=20))
    yield app.test_client()


def assert_safe(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert status < 500 or status in (503, 504), (status, body[:300])
    for leak in LEAKS:
        assert leak not in body, (leak, body[:300])
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[attr-defined]


segment = st.text(alphabet=string.printable + "äöüß%\u202e\x00", max_size=20)
paths = st.lists(segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
prefixed = st.sampled_from(["/id/", "/doc/", "/def/", "/download/", "/ags/", "/sparql/", "/"]).flatmap(
    lambda prefix: segment.map(lambda rest: prefix + rest))


@FAST
@given(path=st.one_of(paths, prefixed), method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE",
                                                                  "OPTIONS", "PATCH", "TRACE"]))
def test_any_path_and_method(client: FlaskClient, path: str, method: str) -> None:
    # As a WSGI server hands over a raw path: its bytes, read as latin-1.
    raw = path.encode("utf-8").decode("latin-1")
    assert_safe(client.open("/", method=method, environ_overrides={"PATH_INFO": raw}))


HEADER_TEXT = st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f")


@FAST
@given(query=st.text(max_size=300), accept=st.text(HEADER_TEXT, max_size=80),
       extra=st.dictionaries(st.sampled_from(["format", "default-graph-uri", "named-graph-uri", "output",
                                              "update", "lang"]), st.text(max_size=40), max_size=3))
def test_any_query_parameters_and_accept(client: FlaskClient, query: str, accept: str,
                                         extra: dict[str, str]) -> None:
    headers = {"Accept": accept}
    assert_safe(client.get("/sparql", query_string={"query": query, **extra}, headers=headers))
    assert_safe(client.post("/sparql", data={"query": query, **extra}, headers=headers))


@FAST
@given(body=st.binary(max_size=300), content_type=st.sampled_from([
    "application/sparql-query", "application/x-www-form-urlencoded", "text/plain", "application/json",
    "multipart/form-data; boundary=x", "application/sparql-query; charset=latin-1"]))
def test_any_body(client: FlaskClient, body: bytes, content_type: str) -> None:
    assert_safe(client.post("/sparql", data=body, headers={"Content-Type": content_type}))


TRAVERSALS = [
    "/download/../../etc/passwd", "/download/..%2F..%2Fetc%2Fpasswd", "/download/%2e%2e/%2e%2e/etc/passwd",
    "/download/..%252F..%252Fetc%252Fpasswd", "/download/....//....//etc/passwd",
    "/download/%2F%2Fetc%2Fpasswd", "/download/manifest.json", "/download/../manifest.json",
    "/download/..\\..\\manifest.json", "/download/lod-ikz.ttl%00.png", "/download/.%2Fstore",
    "/doc/../../../etc/passwd", "/id/..%2F..%2Fmanifest.json", "/static/../../publish.py",
    "/static/%2e%2e/%2e%2e/settings.py",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_file_outside_the_release(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert_safe(response)
    assert response.status_code in (400, 404, 308)
    assert b"root:" not in response.data and b"release_id" not in response.data


def test_debug_mode_is_off(release_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app(Settings(release_dir=release_dir))
    assert app.debug is False and app.testing is False

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail at /work/main/lod/x.py")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)
    assert_safe_500(response.get_data(as_text=True))


def assert_safe_500(body: str) -> None:
    for leak in LEAKS:
        assert leak not in body
