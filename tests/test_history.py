"""The history of releases in-process: the page and JSON of /changes, the releases kept on disk,
their dumps and changes at URLs that name them, and nothing else reachable through those URLs.

Three releases are built one after another (see ``history`` in conftest): the minimal fixture,
then Dresden renamed in German, then the VKA added and eb-it removed.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient
from rdflib.namespace import DCAT

from lod.messages import number, speaking
from lod.release.changes import read_changes
from lod.release.layout import BUILDS, kept_release, kept_releases
from lod.release.publish import build_release
from lod.settings import Settings
from lod.web import create_app
from lod.web.pages import readable_time

from .conftest import RENAMED, History
from .test_pages import Element, parse_html

ORGANISATION = "https://w3id.org/lod-ikz/id/organisation/"
PUBLIC = "https://lod.example.org/"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def client(history: History) -> Iterator[FlaskClient]:
    yield create_app(Settings(release_dir=history.release_dir, public_url=PUBLIC)).test_client()


def page(client: FlaskClient, path: str, **headers: str) -> Element:
    response = client.get(path, headers={"Accept": BROWSER, **headers})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    return parse_html(response.get_data(as_text=True))


def fetch(client: FlaskClient, path: str) -> bytes:
    """The body of a 200 response; the file it streams closed, as a WSGI server closes it."""
    with client.get(path) as response:
        assert response.status_code == 200, path
        body: bytes = response.data
        return body


def entry(document: Element, release_id: str) -> Element:
    return document.find("section", id=release_id)


def summary(document: Element, release_id: str) -> str:
    return entry(document, release_id).find("dd", class_="summary").text()


def build_path(history: History, release_id: str) -> Path:
    return history.release_dir / BUILDS / release_id


# --- the releases kept on disk ----------------------------------------------------------------


def test_kept_releases_are_the_finished_builds_newest_first(history: History, tmp_path: Path) -> None:
    first, second, third = history.ids
    assert [r.manifest.release_id for r in kept_releases(history.release_dir)] == [third, second, first]
    # A build being written, one without a manifest and stray files are not releases.
    copy = tmp_path / "release"
    shutil.copytree(build_path(history, first), copy / BUILDS / first)
    (copy / BUILDS / ".partial-20991231T000000000Z-abcdef").mkdir()
    (copy / BUILDS / "20991231T000000000Z-broken").mkdir()
    (copy / BUILDS / "notes.txt").write_text("not a build")
    assert [r.manifest.release_id for r in kept_releases(copy)] == [first]
    assert kept_releases(tmp_path / "nothing") == []
    assert kept_release(copy, "20991231T000000000Z-broken") is None


@pytest.mark.parametrize("release_id", ["", ".", "..", "current", BUILDS, ".partial-x", "/etc",
                                        # each of these would reach the first release if it were joined
                                        "../builds/{id}", "./{id}", "{id}/", "{id}/.", "x/../{id}",
                                        "{builds}/{id}"])
def test_a_kept_release_is_found_only_by_its_id(history: History, release_id: str) -> None:
    tricked = release_id.format(id=history.ids[0], builds=history.release_dir / BUILDS)
    assert kept_release(history.release_dir, tricked) is None
    found = kept_release(history.release_dir, history.ids[0])
    assert found is not None and found.path == build_path(history, history.ids[0])


# --- /changes for people ----------------------------------------------------------------------


def test_changes_lists_the_releases_newest_first_in_german(client: FlaskClient, history: History) -> None:
    first, second, third = history.ids
    document = page(client, "/changes", **{"Accept-Language": "de"})
    assert document.find("html").attrs["lang"] == "de"
    assert document.find("h1").text() == "Änderungen"
    sections = document.find_all("section")
    assert [s.attrs["id"] for s in sections] == [third, second, first]
    assert [s.attrs["id"] for s in sections if "current" in s.attrs["class"].split()] == [third]
    assert entry(document, third).find("span", class_="badge").text() == "wird ausgeliefert"
    assert summary(document, first) == "Erste Veröffentlichung"
    assert summary(document, second) == (f"seit {first}: Datensätze: 0 hinzugefügt, 0 entfernt, 1 geändert; "
                                         "Tripel: 1 hinzugefügt, 1 entfernt")
    assert summary(document, third).startswith(f"seit {second}: Datensätze: 1 hinzugefügt, 1 entfernt, "
                                               "1 geändert; Tripel: ")
    for release_id in history.ids:  # the summaries say what each release recorded
        changes = read_changes(build_path(history, release_id))
        if changes is not None:
            with speaking("de"):
                assert summary(document, release_id).endswith(changes.summary())
    manifest = kept_release(history.release_dir, second)
    assert manifest is not None
    heading = entry(document, second).find("h2")
    assert heading.find("time").text() == readable_time(manifest.manifest.created_at, "de")
    assert heading.find("time").attrs["datetime"] == manifest.manifest.created
    sizes = entry(document, second).definitions()["Umfang"]
    assert sizes[0].text() == f"{number(manifest.manifest.triples, 'de')} Tripel"


def test_each_release_lists_its_records_with_links(client: FlaskClient, history: History) -> None:
    first, second, third = history.ids
    document = page(client, "/changes?lang=de")
    renamed = entry(document, second).find("ul", class_="records changed")
    assert [li.text() for li in renamed.find_all("li")] == [f"{RENAMED} organisation/dresden: skos:prefLabel"]
    assert renamed.find("a").attrs["href"] == "/id/organisation/dresden"
    assert not entry(document, second).find_all("ul", class_="records added")
    newest = entry(document, third)
    added = newest.find("ul", class_="records added")
    assert added.find("a").attrs["href"] == "/id/organisation/vka"
    assert added.find("a").text() == "Vereinigung der kommunalen Arbeitgeberverbände"
    removed = newest.find("ul", class_="records removed")
    assert removed.text() == "organisation/eb-it" and not removed.find_all("a")  # it has no page any more
    changed = newest.find("ul", class_="records changed")  # Dresden lost its sub-organisation
    assert changed.find("a").attrs["href"] == "/id/organisation/dresden"
    assert "org:hasSubOrganization" in changed.text()
    headings = [h3.text() for h3 in newest.find_all("h3")]
    assert headings == ["Hinzugefügt (1)", "Entfernt (1)", "Geändert (1)"]
    assert not entry(document, first).find_all("h3")
    # The record links answer: the page of the record as the served release has it.
    assert client.get("/id/organisation/vka").status_code == 303
    assert client.get("/id/organisation/eb-it").status_code == 404


def test_each_release_links_its_files_at_urls_that_name_it(client: FlaskClient, history: History) -> None:
    first, _second, third = history.ids
    document = page(client, "/changes")
    files = entry(document, third).find("dl", class_="properties files")
    links = [a.attrs["href"] for a in files.find_all("a")]
    assert f"/releases/{third}/dumps/lod-ikz.nt.gz" in links
    names = ("added.nt.gz", "removed.nt.gz", "changes.json")
    assert {f"/releases/{third}/changes/{name}" for name in names} <= set(links)
    assert f"/releases/{third}?format=turtle" in links
    # The release's own lasting address, which brings a browser back here.
    named = entry(document, third).definitions()["Veröffentlichung"][0]
    assert named.find("a").attrs["href"] == f"/releases/{third}" and named.text() == third
    first_links = [a.attrs["href"] for a in entry(document, first).find_all("a")]
    assert not [link for link in first_links if "/changes/" in link]  # the first release has none
    for link in links:
        with client.get(link) as response:
            assert response.status_code == 200, link


def test_changes_in_english(client: FlaskClient, history: History) -> None:
    first, second, third = history.ids
    for document in (page(client, "/changes?lang=en"),
                     page(client, "/changes", **{"Accept-Language": "en-GB,en;q=0.8"})):
        assert document.find("html").attrs["lang"] == "en"
        assert document.find("h1").text() == "Changes"
        assert summary(document, first) == "First release"
        assert summary(document, second) == (f"since {first}: records: 0 added, 0 removed, 1 changed; "
                                             "triples: 1 added, 1 removed")
        assert entry(document, third).find("span", class_="badge").text() == "served now"
        assert [h3.text() for h3 in entry(document, third).find_all("h3")] == [
            "Added (1)", "Removed (1)", "Changed (1)"]
        # Names in the page's language where the data has them.
        assert entry(document, third).find("ul", class_="records added").find("a").text() == \
            "Association of Municipal Employers"


@pytest.mark.parametrize(("path", "language", "label"), [
    ("/", None, "Änderungen"), ("/catalog", "de", "Änderungen"), ("/catalog", "en", "Changes"),
    ("/doc/organisation/kgst", "de", "Änderungen"), ("/doc/organisation/kgst", "en", "Changes"),
    ("/api?lang=en", None, "Changes"), ("/changes?lang=en", None, "Changes"), ("/sparql", None, "Änderungen"),
])
def test_every_page_links_the_changes(client: FlaskClient, path: str, language: str | None,
                                      label: str) -> None:
    headers = {"Accept-Language": language} if language else {}
    navigation = page(client, path, **headers).find("header", class_="site").find("nav")
    assert {a.text(): a.attrs["href"] for a in navigation.find_all("a")}[label] == "/changes"


def test_long_lists_are_cut_and_releases_without_changes_say_so(history: History, tmp_path: Path) -> None:
    """A copy of the history with many records added in the newest release, and the changes of
    the one before deleted, as for a release built before lod kept them."""
    _first, second, third = history.ids
    directory = tmp_path / "release"
    shutil.copytree(history.release_dir, directory, symlinks=True)
    summary_file = directory / BUILDS / third / "changes" / "changes.json"
    recorded = json.loads(summary_file.read_text())
    recorded["records"]["added"] = [f"{ORGANISATION}many-{n:02d}" for n in range(25)]
    summary_file.write_text(json.dumps(recorded))
    shutil.rmtree(directory / BUILDS / second / "changes")
    client = create_app(Settings(release_dir=directory)).test_client()
    document = page(client, "/changes?lang=de")
    added = entry(document, third).find("ul", class_="records added")
    items = [li.text() for li in added.find_all("li")]
    # The data served has none of them (any more): named by their path, not linked.
    assert items[:20] == [f"organisation/many-{n:02d} (nicht mehr veröffentlicht)" for n in range(20)]
    assert items[20] == "… und 5 weitere (siehe changes.json)" and not added.find_all("a")
    assert entry(document, third).find("h3").text() == "Hinzugefügt (25)"
    assert summary(document, second) == "Änderungen nicht verzeichnet"
    assert summary(page(client, "/changes?lang=en"), second) == "Changes not recorded"
    assert "not recorded" in not_found(client, f"/releases/{second}/changes/added.nt.gz")
    with client.get("/changes?format=json") as response:
        listed = {item["release"]: item for item in response.get_json()}
    assert listed[second]["changes"] is None and listed[second]["links"]["added"] is None
    assert len(listed[third]["changes"]["records"]["added"]) == 25


# --- /changes for machines --------------------------------------------------------------------


@pytest.mark.parametrize(("query", "accept"), [("", "application/json"), ("?format=json", BROWSER)])
def test_changes_as_json(client: FlaskClient, history: History, query: str, accept: str) -> None:
    first, second, third = history.ids
    response = client.get(f"/changes{query}", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "Accept" in response.headers["Vary"]
    releases = json.loads(response.data)
    assert [r["release"] for r in releases] == [third, second, first]
    assert [r["previous"] for r in releases] == [second, first, None]
    assert [r["current"] for r in releases] == [True, False, False]
    for item in releases:
        path = build_path(history, item["release"])
        manifest = json.loads((path / "manifest.json").read_text())
        assert item["created"] == manifest["created"] and item["triples"] == manifest["triples"]
        assert set(item["links"]["dumps"]) == {d["name"] for d in manifest["dumps"]}
        for name, url in item["links"]["dumps"].items():
            assert url == f"{PUBLIC}releases/{item['release']}/dumps/{name}"
    assert releases[2]["changes"] is None
    assert {key: releases[2]["links"][key] for key in ("added", "removed", "summary")} == dict.fromkeys(
        ("added", "removed", "summary"))
    for item in releases[:2]:
        folder = build_path(history, item["release"]) / "changes"
        assert item["changes"] == json.loads((folder / "changes.json").read_text())
        for key, name in (("added", "added.nt.gz"), ("removed", "removed.nt.gz"),
                          ("summary", "changes.json")):
            assert item["links"][key] == f"{PUBLIC}releases/{item['release']}/changes/{name}"
    assert releases[1]["changes"]["records"]["changed"] == {
        f"{ORGANISATION}dresden": ["http://www.w3.org/2004/02/skos/core#prefLabel"]}
    newest = releases[0]["changes"]
    assert newest["records"]["added"] == [f"{ORGANISATION}vka"]
    assert newest["records"]["removed"] == [f"{ORGANISATION}eb-it"]
    # What changed adds up: each release's triples are the one before's, plus and minus.
    for newer, older in itertools.pairwise(releases):
        counted = newer["changes"]["triples"]
        assert newer["triples"] == older["triples"] + counted["added"] - counted["removed"]


@pytest.mark.parametrize(("query", "accept", "status"), [
    ("?format=xml", None, 400), ("", "text/csv", 406), ("?format=html", "application/json", 200)])
def test_changes_formats_that_are_not_offered(client: FlaskClient, query: str, accept: str | None,
                                              status: int) -> None:
    response = client.get(f"/changes{query}", headers={"Accept": accept} if accept else {})
    assert response.status_code == status


# --- a kept release's files at URLs that name it ----------------------------------------------


@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("name", ["lod-ikz.nt.gz", "lod-ikz.ttl"])
def test_a_kept_releases_dump_answers_at_its_stable_url(client: FlaskClient, history: History, which: int,
                                                       name: str) -> None:
    release_id = history.ids[which]
    on_disk = (build_path(history, release_id) / "dumps" / name).read_bytes()
    manifest = kept_release(history.release_dir, release_id)
    assert manifest is not None
    sha256 = next(d.sha256 for d in manifest.manifest.dumps if d.name == name)
    url = f"/releases/{release_id}/dumps/{name}"
    with client.get(url) as full:
        assert full.status_code == 200 and full.data == on_disk
        assert full.mimetype == ("application/gzip" if name.endswith(".gz") else "text/turtle")
        assert full.headers["ETag"] == f'"{sha256}"'
        assert full.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"
        assert "max-age=31536000" in full.headers["Cache-Control"]  # a kept release never changes
    with client.get(url, headers={"If-None-Match": f'"{sha256}"'}) as cached:
        assert cached.status_code == 304
    with client.get(url, headers={"Range": "bytes=5-14"}) as part:
        assert part.status_code == 206 and part.data == on_disk[5:15]
    with client.head(url) as head:
        assert head.status_code == 200 and head.headers["ETag"] == f'"{sha256}"'


def test_the_dumps_differ_between_releases(client: FlaskClient, history: History) -> None:
    """The point of stable URLs: an old release's dump is its own, not the current one's."""
    first, _second, third = history.ids
    old = fetch(client, f"/releases/{first}/dumps/lod-ikz.ttl")
    current = fetch(client, "/download/lod-ikz.ttl")
    assert old != current and current == fetch(client, f"/releases/{third}/dumps/lod-ikz.ttl")
    assert RENAMED.encode() not in old and RENAMED.encode() in current


def test_the_changes_files(client: FlaskClient, history: History) -> None:
    _first, second, third = history.ids
    folder = build_path(history, third) / "changes"
    for name in ("added.nt.gz", "removed.nt.gz"):
        with client.get(f"/releases/{third}/changes/{name}") as response:
            assert response.status_code == 200 and response.mimetype == "application/gzip"
            assert response.data == (folder / name).read_bytes()
            assert response.headers["ETag"]
    added = gzip.decompress(fetch(client, f"/releases/{third}/changes/added.nt.gz")).decode()
    removed = gzip.decompress(fetch(client, f"/releases/{third}/changes/removed.nt.gz")).decode()
    assert f"<{ORGANISATION}vka>" in added and f"<{ORGANISATION}vka>" not in removed
    assert f"<{ORGANISATION}eb-it>" in removed and f"<{ORGANISATION}eb-it>" not in added
    on_disk = build_path(history, second) / "changes" / "changes.json"
    with client.get(f"/releases/{second}/changes/changes.json") as summary:
        assert summary.mimetype == "application/json"
        assert summary.get_json() == json.loads(on_disk.read_text())
    renamed = gzip.decompress(fetch(client, f"/releases/{second}/changes/added.nt.gz")).decode()
    assert renamed.strip().endswith(f'"{RENAMED}"@de .')


# --- what does not answer ---------------------------------------------------------------------


def not_found(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 404, path
    body = response.get_json()
    assert set(body) == {"status", "error", "message"} and body["status"] == 404
    message: str = body["message"]
    return message


def test_an_unknown_release_is_404_naming_those_kept(client: FlaskClient, history: History) -> None:
    unknown = "20200101T000000000Z-000000"
    for path in (f"/releases/{unknown}", f"/releases/{unknown}/dumps/lod-ikz.ttl",
                 f"/releases/{unknown}/changes/changes.json"):
        message = not_found(client, path)
        assert "20200101T000000000Z-000000" in message
        assert all(release_id in message for release_id in history.ids)


def test_files_a_release_does_not_have_are_404(client: FlaskClient, history: History) -> None:
    first, _second, third = history.ids
    assert "its dumps: lod-ikz" in not_found(client, f"/releases/{third}/dumps/manifest.json")
    assert "first release" in not_found(client, f"/releases/{first}/changes/changes.json")
    for name in ("manifest.json", "catalog.ttl", "changes", "added.nt"):
        not_found(client, f"/releases/{third}/changes/{name}")


@pytest.mark.parametrize("path", [
    "/releases/../dumps/lod-ikz.ttl", "/releases/%2E%2E/dumps/lod-ikz.ttl",
    "/releases/{id}%2F..%2F{id}/dumps/lod-ikz.ttl", "/releases/{id}/dumps/..%2Fmanifest.json",
    "/releases/{id}/dumps/%2E%2E%2F%2E%2E%2F%2E%2E%2Fcurrent%2Fmanifest.json",
    "/releases/{id}/changes/..%2Fmanifest.json", "/releases/{id}/changes/%2E%2E",
    "/releases/current/dumps/lod-ikz.ttl", "/releases/.build.lock", "/releases/%2Fetc%2Fpasswd",
    "/releases/{id}/store/CURRENT", "/releases/{id}/manifest.json",
])
def test_path_tricks_reach_nothing(client: FlaskClient, history: History, path: str) -> None:
    response = client.get(path.format(id=history.ids[0]), headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_a_pruned_release_is_gone(history: History, tmp_path: Path) -> None:
    first, second, third = history.ids
    directory = tmp_path / "release"
    shutil.copytree(history.release_dir, directory, symlinks=True)
    fourth = build_release(history.data, settings=Settings(release_dir=directory, keep_releases=2),
                           allow_warnings=True).manifest.release_id
    kept = sorted(p.name for p in (directory / BUILDS).iterdir() if not p.name.startswith("."))
    assert kept == [third, fourth]
    client = create_app(Settings(release_dir=directory)).test_client()
    for release_id in (first, second):
        message = not_found(client, f"/releases/{release_id}/dumps/lod-ikz.ttl")
        assert third in message and fourth in message and first not in message.partition("kept are")[2]
        not_found(client, f"/releases/{release_id}")
    assert fetch(client, f"/releases/{third}/dumps/lod-ikz.ttl")
    document = page(client, "/changes?lang=en")
    assert [s.attrs["id"] for s in document.find_all("section")] == [fourth, third]
    assert summary(document, fourth) == f"since {third}: no change"
    # The release before the oldest one kept is named, but not linked: it is not on the page.
    before = entry(document, third).find("dd", class_="summary")
    assert before.text().startswith(f"since {second}: ") and not before.find_all("a")
    assert [r["release"] for r in client.get("/changes?format=json").get_json()] == [fourth, third]


# --- a release as a version of the dataset ----------------------------------------------------


@pytest.mark.parametrize(("accept", "query", "rdf_format"), [
    ("text/turtle", "", ox.RdfFormat.TURTLE), ("*/*", "", ox.RdfFormat.TURTLE),
    (None, "", ox.RdfFormat.TURTLE),
    ("application/ld+json", "", ox.RdfFormat.JSON_LD), ("application/rdf+xml", "", ox.RdfFormat.RDF_XML),
    (BROWSER, "?format=ntriples", ox.RdfFormat.N_TRIPLES),
])
def test_a_release_is_its_catalog_for_rdf_clients(client: FlaskClient, history: History, accept: str | None,
                                                  query: str, rdf_format: ox.RdfFormat) -> None:
    release_id = history.ids[1]
    response = client.get(f"/releases/{release_id}{query}", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200 and response.mimetype == rdf_format.media_type
    assert response.headers["Vary"] == "Accept"
    served = list(ox.parse(response.data, format=rdf_format))
    catalog = build_path(history, release_id) / "catalog.ttl"
    on_disk = ox.parse(catalog.read_bytes(), format=ox.RdfFormat.TURTLE)
    assert {str(q) for q in served} == {str(q) for q in on_disk}  # the catalog has no blank nodes
    assert ox.NamedNode(str(DCAT.Dataset)) in {q.object for q in served}


@pytest.mark.parametrize(("query", "location"), [("", "/changes#{id}"),
                                                 ("?lang=en", "/changes?lang=en#{id}")])
def test_a_browser_is_sent_to_the_releases_entry(client: FlaskClient, history: History, query: str,
                                                 location: str) -> None:
    release_id = history.ids[0]
    response = client.get(f"/releases/{release_id}{query}", headers={"Accept": BROWSER})
    assert response.status_code == 303 and response.headers["Location"] == location.format(id=release_id)
    assert response.headers["Vary"] == "Accept"
    assert entry(page(client, "/changes"), release_id)  # the anchor is there


def test_a_release_in_a_format_not_offered(client: FlaskClient, history: History) -> None:
    assert client.get(f"/releases/{history.ids[0]}", headers={"Accept": "text/plain"}).status_code == 406
    assert client.get(f"/releases/{history.ids[0]}?format=csv").status_code == 400
