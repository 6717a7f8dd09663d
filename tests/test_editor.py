"""The query editor of /sparql: YASGUI, vendored under lod/web/static/yasgui/, configured by
lod/web/static/query-editor.js from /sparql/editor.json.

In-process: the vendored files are the pinned ones and are served with their media types, the
static folder lets no path out, the configuration holds our prefixes, terms and examples, and the
inline styles the page's Content-Security-Policy allows are exactly those the bundle writes. In a
real browser (headless Chromium driven by Selenium, skipped where Debian's chromium is missing):
the editor takes the form's place, the examples are its tabs, a typed query runs and shows its
result, completions come from our vocabulary, the page passes the site's accessibility checks,
asks no origin but ours and breaks no rule of its Content-Security-Policy; without JavaScript the
form stays.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

import lod.web
from lod.query.stored import bundled_queries
from lod.settings import Settings
from lod.vocab import QUERY_PREFIXES
from lod.web import create_app
from lod.web.app import SECURITY_HEADERS, content_security_policy
from lod.web.sparql import EDITOR_STYLE_ATTRIBUTES, EDITOR_STYLE_ELEMENTS

from .conftest import ServerFactory
from .test_browser import CHROMEDRIVER, CHROMIUM, browser
from .test_pages import parse_html

STATIC = Path(lod.web.__file__).parent / "static"
VENDORED = STATIC / "yasgui"
ANY_TRIPLES = "SELECT * WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def client(release_dir: Path) -> Iterator[FlaskClient]:
    yield create_app(Settings(release_dir=release_dir)).test_client()


def pinned() -> dict[str, str]:
    """SHA256SUMS: file name -> hex digest."""
    lines = (VENDORED / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines)}


# --- the vendored files ----------------------------------------------------------------------


def test_the_vendored_files_are_the_pinned_ones() -> None:
    sums = pinned()
    assert set(sums) == {"LICENSE", "THIRD-PARTY-LICENSES.txt", "yasgui.min.css", "yasgui.min.js"}
    assert {p.name for p in VENDORED.iterdir()} == {*sums, "SHA256SUMS", "README.md"}
    for name, digest in sums.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    assert "MIT License" in (VENDORED / "LICENSE").read_text(encoding="utf-8")
    assert "4.6.2" in (VENDORED / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("path", "media_type"), [
    ("yasgui/yasgui.min.js", "text/javascript"),
    ("yasgui/yasgui.min.css", "text/css"),
    ("yasgui/THIRD-PARTY-LICENSES.txt", "text/plain"),
    ("query-editor.js", "text/javascript"),
    ("query-editor.css", "text/css"),
    ("lod.css", "text/css"),
])
def test_static_files_are_served_with_their_media_types(client: FlaskClient, path: str,
                                                        media_type: str) -> None:
    response = client.get(f"/static/{path}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == (STATIC / path).read_bytes()
    again = client.get(f"/static/{path}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", [
    "/static/yasgui/../../app.py", "/static/yasgui/%2e%2e/%2e%2e/sparql.py", "/static/../sparql.py",
    "/static/yasgui/..%2f..%2fapp.py", "/static//etc/passwd", "/static/yasgui", "/static/yasgui/",
    "/static/templates/query.html", "/static/yasgui/yasgui.min.js.map",
])
def test_no_static_path_leaves_the_folder(client: FlaskClient, path: str) -> None:
    assert client.get(path, follow_redirects=True).status_code == 404


def test_the_inline_styles_allowed_are_those_yasgui_writes() -> None:
    """The hashes in the query page's policy are of what the bundle writes inline; a YASGUI that
    writes other inline styles fails here (and its page fails in the browser tests below)."""
    bundle = (VENDORED / "yasgui.min.js").read_text(encoding="utf-8")
    # column-resizer's createStyle: the rules of its grips, and the cursor while dragging
    # (`*{cursor:` + dragCursor + `!important}`, dragCursor `col-resize` unless configured).
    sheets = [text.replace("\\t", "\t") for text in re.findall(r"createStyle\(a,`([^`]*)`\)", bundle)]
    assert "`*{cursor:`+n.opt.dragCursor+`!important}`" in bundle and "dragCursor:`col-resize`" in bundle
    sheets.append("*{cursor:col-resize!important}")
    # YASQE's syntax error tooltip, written with innerHTML.
    attributes = re.findall(r"style='([^']*)'", bundle)
    assert len(sheets) == 2 and attributes == ["text-decoration:underline"]
    assert tuple(map(csp_hash, sheets)) == EDITOR_STYLE_ELEMENTS
    assert tuple(map(csp_hash, attributes)) == EDITOR_STYLE_ATTRIBUTES


def csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


# --- the page and its configuration ------------------------------------------------------------


def test_the_page_offers_the_editor_and_keeps_the_form(client: FlaskClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/html"})
    page = parse_html(response.get_data(as_text=True))
    editor = page.find("div", id="query-editor")
    assert "hidden" in editor.attrs and editor.attrs["data-config"] == "/sparql/editor.json"
    form = page.find("div", id="query-form").find("form")
    assert form.attrs == {"method": "get", "action": "/sparql"}
    assert form.find("textarea").attrs["name"] == "query"
    scripts = [s.attrs["src"].partition("?")[0] for s in page.find_all("script")]  # ?v=: the content
    assert scripts[:2] == ["/static/yasgui/yasgui.min.js", "/static/query-editor.js"]
    assert all("defer" in s.attrs and not s.text() for s in page.find_all("script"))  # nothing inline
    styles = [link.attrs["href"].partition("?")[0] for link in page.find_all("link", rel="stylesheet")]
    assert styles == ["/static/lod.css", "/static/yasgui/yasgui.min.css", "/static/query-editor.css"]


def test_only_the_query_page_allows_the_editors_inline_styles(client: FlaskClient) -> None:
    strict = SECURITY_HEADERS["Content-Security-Policy"]
    assert "'unsafe-inline'" not in strict and "sha256" not in strict and "'unsafe-eval'" not in strict
    page = client.get("/sparql", headers={"Accept": "text/html"})
    policy = page.headers["Content-Security-Policy"]
    assert policy == content_security_policy(style_elements=EDITOR_STYLE_ELEMENTS,
                                             style_attributes=EDITOR_STYLE_ATTRIBUTES)
    assert "'unsafe-inline'" not in policy and "script-src" not in policy  # scripts: default-src 'self'
    assert page.headers["X-Frame-Options"] == "DENY"  # the other security headers are still added
    for path in ("/", "/sparql?format=turtle", "/sparql/editor.json", "/static/query-editor.js"):
        assert client.get(path).headers["Content-Security-Policy"] == strict, path


def test_the_editor_configuration(client: FlaskClient) -> None:
    response = client.get("/sparql/editor.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    config = response.get_json()
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == QUERY_PREFIXES
    # Classes and properties from the release's VoID (the data) and from the ontology.
    assert {"http://www.w3.org/ns/org#Organization", "http://www.w3.org/ns/org#Membership",
            "http://www.w3.org/2004/02/skos/core#Concept"} <= set(config["classes"])
    assert {"http://www.w3.org/ns/org#member", "https://w3id.org/lod-ikz/def/ags",
            "http://www.w3.org/2004/02/skos/core#prefLabel"} <= set(config["properties"])
    assert config["classes"] == sorted(set(config["classes"]))
    assert config["properties"] == sorted(set(config["properties"]))
    assert [e["name"] for e in config["examples"]] == [q.name for q in bundled_queries()]
    assert all(set(e["title"]) == {"de", "en"} and e["query"].strip() for e in config["examples"])
    assert response.headers["Cache-Control"] == "public, no-cache"
    again = client.get("/sparql/editor.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


# --- in a browser ----------------------------------------------------------------------------

needs_a_browser = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                     reason="Debian's chromium and chromium-driver are not installed")

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => window.__violations.push(
    event.violatedDirective + " " + event.blockedURI + " " + event.sourceFile + ":" + event.lineNumber));
"""
"""Runs in every page before its own scripts: records what the Content-Security-Policy refused."""


@pytest.fixture(scope="module")
def server(lod_server: ServerFactory, release_dir: Path) -> str:
    return lod_server(release_dir, workers=1)


@pytest.fixture
def reader(tmp_path: Path, server: str) -> Iterator[Any]:
    """A browser that, when the test is done, has kept to the server's origin and broken no rule
    of the pages' Content-Security-Policy."""
    with browser(tmp_path, "de") as driver:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
        yield driver
        kept_to_itself(driver, server)


def kept_to_itself(driver: Any, server: str) -> None:
    assert driver.execute_script("return window.__violations") == []
    fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and [url for url in fetched if not url.startswith(server)] == []
    assert driver.execute_script("return window.localStorage.length") == 0  # nothing kept


def editor_ready(driver: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.getElementById('query-editor').dataset.ready === 'true'"))


def active(driver: Any, script: str) -> Any:
    """``script`` run with ``tab`` the editor's active tab; its value."""
    return driver.execute_script(f"const tab = window.lodQueryEditor.getTab(); {script}")


def wait_for_result(driver: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: active(d, "return !!tab.getYasr().results"))


@needs_a_browser
def test_the_editor_replaces_the_form_and_opens_the_examples_as_tabs(reader: Any, server: str) -> None:
    from selenium.webdriver.common.by import By

    reader.get(f"{server}sparql")
    editor_ready(reader)
    assert not reader.find_element(By.ID, "query-form").is_displayed()
    assert reader.find_element(By.CSS_SELECTOR, "#query-editor .CodeMirror").is_displayed()
    tabs = [tab.text.replace("✖", "").strip()
            for tab in reader.find_elements(By.CSS_SELECTOR, "#query-editor .tabsList .tab")]
    assert tabs == [q.summary["de"] for q in bundled_queries()]
    assert active(reader, "return tab.getQuery()") == bundled_queries()[0].example()
    # Each editor completes with ours only: YASQE's own ask prefix.cc and LOV.
    for index in range(len(tabs)):
        reader.find_elements(By.CSS_SELECTOR, "#query-editor .tabsList .tab a")[index].click()
        assert active(reader, "return tab.getYasqe().config.autocompleters") == [
            "variables", "lod-prefixes", "lod-properties", "lod-classes"]


@needs_a_browser
def test_a_typed_query_runs_and_shows_its_result(reader: Any, server: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    reader.get(f"{server}sparql")
    editor_ready(reader)
    reader.find_element(By.XPATH, "//div[@id='query-editor']//button[.='Neue Abfrage']").click()
    reader.find_element(By.CSS_SELECTOR, ".tabPanel.active .CodeMirror").click()
    typing = reader.find_element(By.CSS_SELECTOR, ".tabPanel.active .CodeMirror textarea")
    typing.send_keys(Keys.CONTROL, "a")
    typing.send_keys(Keys.DELETE)
    typing.send_keys("SELECT ?c WHERE { ?c a org:OrganizationalCollaboration } ")
    assert active(reader, "return tab.getQuery()").startswith("PREFIX org: <http://www.w3.org/ns/org#>")
    reader.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton").click()
    wait_for_result(reader)
    cells = [td.text for td in reader.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr tbody td")]
    assert any("cooperation/oss" in text for text in cells), cells
    # A column widened by its grip: the table's style sheets apply (allowed by their hashes).
    styles = "return [...document.head.querySelectorAll('style')].map(s => s.sheet.cssRules.length)"
    assert reader.execute_script(styles) == [10]
    grip = reader.find_element(By.CSS_SELECTOR, ".tabPanel.active .grip-handle .grip-resizable")
    ActionChains(reader).click_and_hold(grip).move_by_offset(40, 0).perform()
    assert reader.execute_script(styles) == [10, 1]
    ActionChains(reader).release().perform()


@needs_a_browser
def test_a_syntax_error_is_pointed_out(reader: Any, server: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    reader.get(f"{server}sparql")
    editor_ready(reader)
    active(reader, "tab.getYasqe().setValue('SELECT * WHERE { ?s ?p }')")
    ActionChains(reader).move_to_element(
        reader.find_element(By.CSS_SELECTOR, ".tabPanel.active .parseErrorIcon")).perform()
    tooltip = reader.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_tooltip")
    assert tooltip.text.startswith("This line is invalid. Expected:")
    underlined = tooltip.find_element(By.TAG_NAME, "strong")  # by its style attribute, allowed by its hash
    assert underlined.value_of_css_property("text-decoration-line") == "underline"


@needs_a_browser
def test_a_query_in_the_address_opens_in_a_tab_and_runs_here(reader: Any, server: str) -> None:
    from selenium.webdriver.common.by import By

    # The plain form's address, as its links and a bookmark have it.
    reader.get(f"{server}sparql?query=ASK%20%7B%20%3Fs%20a%20org%3AMembership%20%7D")
    editor_ready(reader)
    wait_for_result(reader)
    # The prefix the endpoint predeclares is written out, for the editor's syntax check.
    assert active(reader, "return tab.getQuery()") == (
        "PREFIX org: <http://www.w3.org/ns/org#>\nASK { ?s a org:Membership }")
    assert active(reader, "return tab.getYasqe().queryValid") is True
    assert reader.find_element(By.CSS_SELECTOR, ".tabPanel.active .booleanResult").text == "True"
    # A shared link names an endpoint; the query runs on this one all the same.
    reader.get(f"{server}sparql#query=SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20LIMIT%203"
               "&endpoint=https%3A%2F%2Fdbpedia.org%2Fsparql")
    editor_ready(reader)
    wait_for_result(reader)
    assert active(reader, "return tab.getEndpoint()") == f"{server}sparql"
    assert len(reader.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr tbody tr")) == 3


@needs_a_browser
@pytest.mark.parametrize(("text", "expected"), [
    ("PREFIX sko", "skos: <http://www.w3.org/2004/02/skos/core#>"),
    ("SELECT * WHERE { ?s a org:Organiz", "org:Organization"),
    ("SELECT * WHERE { ?s ikz:a", "ikz:ags"),
    ("PREFIX o: <http://www.w3.org/ns/org#> SELECT * WHERE { ?s o:mem", "o:member"),
    ("SELECT * WHERE { ?s <http://www.w3.org/ns/org#memberD", "<http://www.w3.org/ns/org#memberDuring>"),
])
def test_completions_come_from_our_vocabulary(reader: Any, server: str, text: str, expected: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    reader.get(f"{server}sparql")
    editor_ready(reader)
    active(reader, f"const yasqe = tab.getYasqe(); yasqe.setValue({json.dumps(text)}); yasqe.focus();"
                   "yasqe.setCursor(yasqe.getDoc().lastLine(), 1e6)")
    ActionChains(reader).key_down(Keys.CONTROL).send_keys(" ").key_up(Keys.CONTROL).perform()
    WebDriverWait(reader, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints li"))
    hints = [li.text for li in reader.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints li")]
    assert expected in hints


@needs_a_browser
@pytest.mark.parametrize("path", ["sparql", "sparql?" + urllib.parse.urlencode({"query": ANY_TRIPLES})],
                         ids=["query", "query-results"])
def test_the_editor_passes_axe_wide_and_narrow(reader: Any, server: str, path: str) -> None:
    """The site's accessibility checks (tests/test_accessibility.py: axe-core, nothing serious or
    critical; at a phone's width, no sideways scrolling), run once the editor is drawn."""
    accessibility = pytest.importorskip("tests.test_accessibility")
    reader.set_window_size(*accessibility.DESKTOP)
    reader.get(f"{server}{path}")
    editor_ready(reader)
    if "query=" in path:
        wait_for_result(reader)
    assert not (found := accessibility.blocking_violations(reader)), accessibility.described(found)
    reader.set_window_size(*accessibility.PHONE)
    layout = reader.execute_script(accessibility.OVERFLOWING)
    assert layout["scroll_width"] <= layout["width"], layout
    found = accessibility.blocking_violations(reader, rules=accessibility.LAYOUT_RULES)
    assert not found, accessibility.described(found)


@needs_a_browser
def test_without_javascript_the_form_stays(tmp_path: Path, server: str) -> None:
    from selenium.webdriver.common.by import By

    with browser(tmp_path, "de") as reader:
        reader.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        reader.get(f"{server}sparql")
        assert not reader.find_element(By.ID, "query-editor").is_displayed()
        query = reader.find_element(By.ID, "query")
        query.clear()
        query.send_keys("SELECT ?c WHERE { ?c a org:OrganizationalCollaboration }")
        reader.find_element(By.CSS_SELECTOR, "#query-form button[type=submit]").click()
        from selenium.webdriver.support import expected_conditions as seen
        from selenium.webdriver.support.ui import WebDriverWait
        # The click starts loading the page of results: wait for its table, not for the old page.
        WebDriverWait(reader, 20).until(seen.presence_of_element_located(
            (By.CSS_SELECTOR, "#query-form table tbody td")))
        cells = [td.text for td in reader.find_elements(By.CSS_SELECTOR, "#query-form table tbody td")]
        assert any("cooperation/oss" in text for text in cells), cells
