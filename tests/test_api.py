"""The stored queries' API against a real `lod serve`, asked with a real HTTP client (urllib):
every bundled query in every format, typed values, paging, errors, injection attempts, ETags, and
the OpenAPI document validated by openapi-spec-validator."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from lod.query.stored import StoredQuery, bundled_queries
from lod.web.api import example_url

from .conftest import ServerFactory


@pytest.fixture(scope="module")
def server(lod_server: ServerFactory, release_dir: Path) -> str:
    return lod_server(release_dir, workers=1)


def get(url: str, *, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers (names in any case) and body."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


@pytest.mark.parametrize("stored", bundled_queries(), ids=lambda q: q.name)
def test_each_stored_query_answers_in_each_format(server: str, stored: StoredQuery) -> None:
    url = server.rstrip("/") + example_url(stored)
    status, headers, body = get(url)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    rows = json.loads(body)
    assert isinstance(rows, list) and all(isinstance(row, dict) for row in rows)
    status, headers, body = get(url, headers={"Accept": "text/csv"})
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(body.decode())))
    assert len(table) == len(rows) + 1 and all(set(row) == set(table[0]) for row in rows)
    status, _, body = get(url + ("&" if "?" in url else "?") + "format=sparql-json")
    assert status == 200 and json.loads(body)["head"]["vars"] == table[0]


def test_values_are_typed(server: str) -> None:
    status, _, body = get(f"{server}api/cooperations-with-members")
    rows = json.loads(body)
    assert status == 200 and rows
    assert all(isinstance(row["members"], int) and isinstance(row["name"], str) for row in rows)
    assert all(row["cooperation"].startswith("https://") for row in rows)


def test_pages_are_stable_disjoint_and_linked(server: str) -> None:
    query = f"{server}api/members-of-cooperation?cooperation=https://w3id.org/lod-ikz/id/cooperation/oss"
    _, _, whole = get(query)
    everything = json.loads(whole)
    assert len(everything) >= 2
    pages, url = [], f"{query}&limit=1"
    while url:
        status, headers, body = get(url)
        assert status == 200
        pages.append(json.loads(body))
        link = headers.get("Link")
        url = server.rstrip("/") + link.split(">")[0].lstrip("<") if link else ""
    assert [row for page in pages for row in page] == everything
    assert all(len(page) == 1 for page in pages[:-1])


@pytest.mark.parametrize(("path", "status", "message"), [
    ("api/nothing", 404, "there is no stored query 'nothing'; the API has cooperations-of-municipality"),
    ("api/organisation-by-key", 400, "organisation-by-key needs the parameter ags"),
    ("api/organisation-by-key?ags=14612000&colour=red", 400, "has no parameter colour"),
    ("api/organisation-by-key?ags=1&ags=2", 400, "parameter ags is given more than once"),
    ("api/municipalities?limit=0", 400, "parameter limit: '0' is not a whole number from 1 to"),
    ("api/municipalities?offset=-1", 400, "parameter offset: '-1' is not a whole number 0 or more"),
    ("api/municipalities?format=xml", 400, "parameter format: 'xml' is not one of json, csv, sparql-json"),
    # Injection attempts: each is not a value of its parameter's type, so nothing runs.
    ("api/organisation-by-key?" + urllib.parse.urlencode({"ags": '14612000" } UNION { ?org ?p ?o } #'}),
     400, "parameter ags: "),
    ("api/members-of-cooperation?" + urllib.parse.urlencode(
        {"cooperation": "http://x.org/c> } UNION { ?membership ?p ?o } #"}),
     400, "is not an absolute http(s) IRI"),
])
def test_errors_name_what_is_wrong(server: str, path: str, status: int, message: str) -> None:
    got, headers, body = get(f"{server}{path}")
    assert got == status and headers["Content-Type"].startswith("application/json")
    document = json.loads(body)
    assert document["status"] == status and message in document["message"], document


def test_an_unchanged_answer_is_not_sent_again(server: str) -> None:
    _, headers, _ = get(f"{server}api/municipalities?limit=2")
    status, again, body = get(f"{server}api/municipalities?limit=2",
                              headers={"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b"" and again["ETag"] == headers["ETag"]
    # The CSV of the same query is another representation, with a tag of its own.
    status, _, _ = get(f"{server}api/municipalities?limit=2&format=csv",
                       headers={"If-None-Match": headers["ETag"]})
    assert status == 200


def test_the_openapi_document_is_valid_and_complete(server: str) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    status, _, body = get(f"{server}api/openapi.json")
    document: dict[str, Any] = json.loads(body)
    assert status == 200
    validator.validate(document)
    for stored in bundled_queries():
        operation = document["paths"][f"/api/{stored.name}"]["get"]
        declared = {p["name"]: p for p in operation["parameters"]}
        for parameter in stored.parameters:
            assert declared[parameter.name]["required"] is parameter.required
            assert declared[parameter.name]["example"] == parameter.example
        assert {"limit", "offset", "format"} <= set(declared)


@pytest.mark.parametrize(("language", "heading"), [("de", "API: gespeicherte Abfragen"),
                                                   ("en", "API: stored queries")])
def test_the_api_page_lists_every_query_with_a_working_example(server: str, language: str,
                                                               heading: str) -> None:
    status, _, body = get(f"{server}api?lang={language}", headers={"Accept": "text/html"})
    page = body.decode()
    assert status == 200 and f"<h1>{heading}</h1>" in page
    for stored in bundled_queries():
        assert stored.summary[language] in page
        assert f'href="{example_url(stored)}"'.replace("&", "&amp;") in page
