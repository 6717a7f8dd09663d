"""The lists and the search over HTTP, in-process: pages in German and English, the same URL as
JSON and CSV, the German paths, and clear answers to wrong parameters."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from lod.settings import Settings
from lod.web import create_app

from .test_pages import KGST_DE, VITAKO_DE, parse_html

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def client(release_dir: Path) -> FlaskClient:
    return create_app(Settings(release_dir=release_dir)).test_client()


def test_the_list_of_organisations_as_a_page(client: FlaskClient) -> None:
    response = client.get("/organisations", headers={**HTML, "Accept-Language": "de"})
    assert response.status_code == 200
    page = parse_html(response.get_data(as_text=True))
    assert page.find("h1").text() == "Organisationen"
    names = [th.text() for th in page.find("table", class_="list").find_all("th", scope="row")]
    assert names == sorted(names, key=str.casefold) and KGST_DE in names
    links = {a.text(): a.attrs["href"] for a in page.find("table", class_="list").find_all("a")}
    assert links["Dresden"] == "/id/organisation/dresden"
    kinds = page.find("details", class_="facet")
    assert kinds.find("summary").text() == "Art"
    labels = [label.text() for label in kinds.find_all("label")]
    assert "Verband/Verein 2" in labels
    assert "Gemeinde/Stadt 1" in labels


def test_a_facet_filters_the_page_and_keeps_its_choice(client: FlaskClient) -> None:
    response = client.get("/organisations?land=14&lang=en", headers=HTML)
    page = parse_html(response.get_data(as_text=True))
    assert page.find("html").attrs["lang"] == "en"
    assert [th.text() for th in page.find("table", class_="list").find_all("th", scope="row")] == ["Dresden"]
    chosen = [i for i in page.find_all("input", type="checkbox") if "checked" in i.attrs]
    assert [(i.attrs["name"], i.attrs["value"]) for i in chosen] == [("land", "14")]
    assert "Saxony 1" in [label.text() for label in page.find_all("label")]
    downloads = {a.text(): a.attrs["href"] for a in page.find("p", class_="downloads").find_all("a")}
    assert downloads["CSV"] == "/organisations?land=14&lang=en&format=csv"


def test_the_same_url_answers_json(client: FlaskClient) -> None:
    document = client.get("/organisations?land=14&format=json").get_json()
    assert document["total"] == 1 and document["filters"] == {"land": ["14"]}
    [row] = document["rows"]
    assert row["label"] == "Dresden" and row["lands"] == [{"key": "14", "label": "Sachsen"}]
    assert row["kind"]["label"] == "Gemeinde/Stadt"
    assert document["facets"]["land"] == [{"value": "14", "label": "Sachsen", "count": 1, "chosen": True}]
    assert client.get("/organisations?land=14", headers={"Accept": "application/json"}).get_json() == document


def test_the_same_url_answers_csv_with_every_row(client: FlaskClient) -> None:
    response = client.get("/organisations?size=1", headers={"Accept": "text/csv"})
    assert response.content_type == "text/csv; charset=utf-8; header=present"
    assert response.headers["Content-Disposition"] == 'attachment; filename="organisations.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    listed = client.get("/organisations?format=json").get_json()["rows"]
    assert [r["iri"] for r in rows] == [r["iri"] for r in listed] and len(rows) == 4
    assert {r["name"] for r in rows} >= {KGST_DE, VITAKO_DE}


def test_pages_link_to_each_other(client: FlaskClient) -> None:
    first = client.get("/organisations?size=3&format=json").get_json()
    assert first["pages"] == 2 and first["links"]["previous"] is None
    second = client.get(first["links"]["next"]).get_json()
    assert second["page"] == 2 and len(second["rows"]) == 1 and second["links"]["next"] is None
    html = parse_html(client.get("/organisations?size=3", headers=HTML).get_data(as_text=True))
    assert html.find("a", rel="next").attrs["href"] == "/organisations?page=2&size=3"


@pytest.mark.parametrize(("german", "english"), [
    ("/organisationen?land=14", "/organisations?land=14"), ("/kooperationen", "/cooperations"),
    ("/personen", "/people"), ("/ereignisse", "/events"), ("/suche?q=dresden", "/search?q=dresden")])
def test_the_german_paths_lead_to_the_lists(client: FlaskClient, german: str, english: str) -> None:
    response = client.get(german)
    assert response.status_code == 301 and response.headers["Location"] == english


@pytest.mark.parametrize(("url", "status", "message"), [
    ("/organisations?topc=x", 400, "unknown parameter 'topc'"),
    ("/organisations?page=0", 400, "page='0': a whole number from 1"),
    ("/organisations?size=501", 400, "size='501'"),
    ("/cooperations?sort=size", 400, "sort='size': available are name, newest, oldest, largest"),
    ("/people?format=xml", 400, "format='xml'"),
    ("/search?q=x&format=csv", 400, "format=csv"),
])
def test_wrong_parameters_are_named(client: FlaskClient, url: str, status: int, message: str) -> None:
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert message in response.get_json()["message"]


def test_an_unacceptable_format_is_406(client: FlaskClient) -> None:
    assert client.get("/events", headers={"Accept": "image/png"}).status_code == 406


@pytest.mark.parametrize(("typed", "found"), [
    ("dresd", "Dresden"), ("14612000", "Dresden"), ("1461", "Dresden"), ("VITAKO", VITAKO_DE),
    ("kgst", KGST_DE), ("fuer verwaltungs", KGST_DE), ("Für Verwaltungsmanagement", KGST_DE)])
def test_the_search_answers_typeahead_as_json(client: FlaskClient, typed: str, found: str) -> None:
    document = client.get("/search", query_string={"q": typed, "format": "json"}).get_json()
    assert document["hits"][0]["label"] == found
    assert document["hits"][0]["list"] == "organisations"


def test_the_search_page_works_without_javascript(client: FlaskClient) -> None:
    response = client.get("/search?q=Dresden&lang=en", headers=HTML)
    page = parse_html(response.get_data(as_text=True))
    [hit] = page.find("ol", class_="hits").find_all("li")
    assert hit.find("a").attrs["href"] == "/id/organisation/dresden"
    assert hit.find("span", class_="hit-detail").text() == "Organisation · Municipality · Saxony"
    assert page.find("input", id="site-search-q").attrs["value"] == "Dresden"
    assert page.find("a", string=None) is not None
    empty = parse_html(client.get("/search?q=zzzzq", headers=HTML).get_data(as_text=True))
    assert "Nichts gefunden." in empty.text()


def test_every_page_has_the_search_field_and_the_lists_in_its_navigation(client: FlaskClient) -> None:
    page = parse_html(client.get("/doc/organisation/kgst", headers=HTML).get_data(as_text=True))
    form = page.find("form", role="search")
    assert form.attrs["action"] == "/search" and form.find("input", type="search").attrs["name"] == "q"
    links = [a.attrs["href"] for a in page.find("header", class_="site").find("nav").find_all("a")]
    assert links[1:5] == ["/organisations", "/cooperations", "/people", "/events"]


def test_a_release_built_before_the_index_says_so(release_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "release"
    shutil.copytree(release_dir, copy, symlinks=True)
    (copy / "current" / "browse.sqlite").unlink()
    response = create_app(Settings(release_dir=copy)).test_client().get(
        "/cooperations", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert "no index for lists and search" in response.get_json()["message"]
