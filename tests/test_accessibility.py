"""Accessibility in a real browser: axe-core run inside each page type, keyboard-only navigation, and
reflow at a phone's width, in German and in English, against a real `lod serve`.

axe-core is vendored under tests/vendor/axe-core (test-only, never shipped; README.md there says
how to update it), so the tests run without a network. A failure lists each serious or critical
violation with its rule, its help text and the elements it was found on: what to fix, and where.
One Chromium per language serves every page. Set LOD_SCREENSHOTS to a folder to keep a picture of
each page type per language (1280 pixels wide, the whole page); nothing asserts on pixels.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import ServerFactory
from .test_browser import CHROMEDRIVER, CHROMIUM, browser

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
    pytest.mark.skipif(not CHROMEDRIVER.exists(), reason=f"{CHROMEDRIVER} is not installed"),
]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
BLOCKING = ("serious", "critical")
"""The impacts that fail a page; axe's minor and moderate findings are advice."""

DESKTOP = (1280, 1000)
PHONE = (320, 900)
"""WCAG 1.4.10 Reflow: content fits 320 CSS pixels without scrolling sideways (tables may scroll)."""
LAYOUT_RULES = ("scrollable-region-focusable",)
"""The rule that a narrow window turns on (a table box that begins to scroll): run again there."""

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
EDITOR_READY = "#query-editor[data-ready]"
RESULTS_QUERY = "SELECT ?resource ?label WHERE { ?resource skos:prefLabel ?label } ORDER BY ?label LIMIT 20"


@dataclass(frozen=True)
class Page:
    """A page type: ``path`` below the server's root, answering ``status``; checked once the
    element ``ready`` names is there (a page that a script completes)."""

    name: str
    path: str
    status: int = 200
    ready: str | None = None


HOME = Page("home", "")
COOPERATION = Page("cooperation", "doc/cooperation/oss")
PAGES = (
    HOME,
    Page("organisation", "doc/organisation/kgst"),
    COOPERATION,
    Page("person", "doc/person/klaus-effing"),
    Page("event", "doc/event/treffen-2020"),
    Page("membership", "doc/membership/oss--kgst"),
    Page("vocabulary", "def"),
    Page("query", "sparql", ready=EDITOR_READY),
    Page("query-results", "sparql?" + urllib.parse.urlencode({"query": RESULTS_QUERY}), ready=EDITOR_READY),
    Page("api", "api"),
    Page("catalog", "catalog"),
    Page("void", ".well-known/void"),
    Page("changes", "changes"),
    Page("not-found", "doc/organisation/no-such-organisation", status=404),
    Page("organisations", "organisations"),
    Page("cooperations", "cooperations"),
    Page("people", "people"),
    Page("events", "events"),
    Page("search", "search?" + urllib.parse.urlencode({"q": "KGSt"})),
)
LANGUAGES = ("de", "en")


@functools.cache
def axe_source() -> str:
    """The vendored axe-core, checked against the pinned checksum before it runs in a page."""
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == AXE_SHA256, (f"{AXE} has SHA-256 {digest}, not the pinned {AXE_SHA256}: "
                                  "see tests/vendor/axe-core/README.md to update it")
    return data.decode("utf-8")


def test_the_vendored_axe_is_the_pinned_release() -> None:
    assert axe_source().startswith(f"/*! axe v{AXE_VERSION}\n")
    licence = (AXE.parent / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("Mozilla Public License, version 2.0")


@pytest.fixture(scope="module")
def server(lod_server: ServerFactory, release_dir: Path) -> str:
    return lod_server(release_dir, workers=1)


@pytest.fixture(scope="module", params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    """The language the reader's browser asks for (Accept-Language); each test runs in both."""
    return str(request.param)


@pytest.fixture(scope="module")
def reader(language: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """A Chromium preferring ``language``, shared by the module's tests: one per language."""
    with browser(tmp_path_factory.mktemp(f"reader-{language}"), language) as driver:
        driver.set_script_timeout(30)
        yield driver


def status_of(url: str) -> int:
    """The HTTP status a browser gets for ``url`` (Selenium does not tell), redirects followed."""
    request = urllib.request.Request(url, headers={"Accept": BROWSER_ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


def visit(reader: WebDriver, server: str, page: Page, *, size: tuple[int, int] = DESKTOP) -> None:
    """Opens ``page`` at ``size``, and waits until it is ready."""
    url = f"{server}{page.path}"
    status = status_of(url)
    assert status == page.status, f"/{page.path} answered {status}, not {page.status}"
    reader.set_window_size(*size)
    reader.get(url)
    if page.ready:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as seen
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(reader, 20).until(seen.presence_of_element_located((By.CSS_SELECTOR, page.ready)))


RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, arguments[0]).then(
    results => done({violations: results.violations}),
    error => done({error: String(error)}));
"""


def blocking_violations(reader: WebDriver, *, rules: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """axe's violations of the page in ``reader`` whose impact is serious or critical; by axe's
    default rules, or by ``rules`` only."""
    if reader.execute_script("return typeof axe === 'undefined'"):
        reader.execute_script(axe_source())
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": list(rules)}
    outcome = reader.execute_async_script(RUN_AXE, options)
    assert "error" not in outcome, f"axe did not run: {outcome['error']}"
    return [v for v in outcome["violations"] if v["impact"] in BLOCKING]


def described(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: rule, impact, help and where; then each element and what fails."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"<{violation['helpUrl']}>")
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"  at {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def keep_screenshot(reader: WebDriver, page: Page, language: str) -> None:
    """The whole page at the window's width, into LOD_SCREENSHOTS if set."""
    folder = os.environ.get("LOD_SCREENSHOTS")
    if not folder:
        return
    target = Path(folder) / f"{page.name}-{language}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    width, height = reader.execute_script(
        "return [document.documentElement.clientWidth, document.documentElement.scrollHeight]")
    shot = reader.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    target.write_bytes(base64.b64decode(shot["data"]))


OVERFLOWING = """
const width = document.documentElement.clientWidth;
const wide = [...document.body.querySelectorAll("*")]
    .filter(e => e.getBoundingClientRect().right > width + 1);
const scrolled = e => {
    for (let up = e.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
};
const outermost = wide.filter(e => !wide.includes(e.parentElement));
const named = (outermost.some(e => !scrolled(e)) ? outermost.filter(e => !scrolled(e)) : outermost);
const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + [...e.classList].map(c => "." + c).join("") + ` (${Math.round(e.getBoundingClientRect().width)} wide)`;
return {width: width, scroll_width: document.documentElement.scrollWidth,
        culprits: named.slice(0, 8).map(name)};
"""
"""How wide the page is, and the outermost elements that stick out (those in a box that scrolls
by itself only if nothing else does)."""


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_page_passes_axe_wide_and_narrow(reader: WebDriver, language: str, server: str, page: Page) -> None:
    """axe finds nothing serious or critical at a desktop's width; at a phone's, nothing but a
    table's own box scrolls sideways (WCAG 2.1, 1.4.10) and what scrolls, a keyboard can scroll.
    One visit for both: the window is narrowed, the page not loaded again."""
    visit(reader, server, page)
    keep_screenshot(reader, page, language)
    problems = []
    if violations := blocking_violations(reader):
        problems.append(f"{DESKTOP[0]} pixels wide:\n{described(violations)}")
    reader.set_window_size(*PHONE)
    layout = reader.execute_script(OVERFLOWING)
    if layout["scroll_width"] > layout["width"]:
        problems.append(f"{layout['width']} pixels wide: the page is {layout['scroll_width']} wide; "
                        "sticking out: " + ", ".join(layout["culprits"]))
    if violations := blocking_violations(reader, rules=LAYOUT_RULES):
        problems.append(f"{layout['width']} pixels wide:\n{described(violations)}")
    assert not problems, f"/{page.path} ({language}) at " + "\nat ".join(problems)


def test_the_checks_find_what_they_should(reader: WebDriver, server: str) -> None:
    """An image without a text alternative, faint text and a box too wide, added to a page, fail
    it: the checks can fail."""
    visit(reader, server, HOME)
    reader.execute_script("""
        const main = document.querySelector("main");
        main.append(document.createElement("img"));
        const faint = document.createElement("p");
        faint.textContent = "faint";
        faint.style.color = "#c8c8c8";
        main.prepend(faint);
        const wide = document.createElement("div");
        wide.className = "too-wide";
        wide.textContent = "wide";
        wide.style.width = "2000px";
        main.append(wide);""")
    found = {violation["id"] for violation in blocking_violations(reader)}
    assert {"image-alt", "color-contrast"} <= found
    layout = reader.execute_script(OVERFLOWING)
    assert layout["scroll_width"] > layout["width"] and "div.too-wide (2000 wide)" in layout["culprits"]


FOCUSED = """
const element = document.activeElement, style = getComputedStyle(element);
const box = element.getBoundingClientRect();
return {
    tag: element.tagName.toLowerCase(), id: element.id, href: element.getAttribute("href"),
    text: (element.innerText || element.value || "").trim().slice(0, 60),
    key: element.dataset.a11yKey || null,
    in_header: element.closest("header.site") !== null, in_main: element.closest("main") !== null,
    indicator: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
               || style.boxShadow !== "none",
    on_screen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
               && box.left < innerWidth && box.top < innerHeight,
};
"""
"""What has the keyboard's focus: where it is, and whether a sighted reader can see that it has."""

HEADER_STOPS = """
const stops = [document.querySelector(".skip-link"), ...document.querySelectorAll(
    "header.site a[href], header.site input:not([type=hidden]), header.site button, header.site select")];
stops.forEach((element, index) => { element.dataset.a11yKey = String(index); });
return stops.map(element => (element.innerText || element.id || element.name).trim());
"""
"""Numbers what the header offers the keyboard, in the order of the document: the expected order."""


def press(reader: WebDriver, key: str) -> dict[str, Any]:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(reader).send_keys(key).perform()
    focused: dict[str, Any] = reader.execute_script(FOCUSED)
    return focused


def assert_visible_focus(focused: dict[str, Any]) -> None:
    assert focused["on_screen"], f"the focused {focused} is off the screen"
    assert focused["indicator"], f"the focused {focused} shows no focus indicator (outline none)"


def test_keyboard_skip_link_header_and_navigation(reader: WebDriver, server: str) -> None:
    """The first Tab reaches the skip link, and Enter on it moves the focus to <main>; from the top,
    Tab goes through the header (the site's name, the search field and its button, the main
    navigation) in the order of the document, every stop visibly."""
    from selenium.webdriver.common.keys import Keys

    visit(reader, server, COOPERATION)
    first = press(reader, Keys.TAB)
    assert first["href"] == "#main", f"the first Tab reaches {first}, not the skip link"
    assert_visible_focus(first)
    landed = press(reader, Keys.ENTER)
    assert landed["tag"] == "main" and reader.current_url.endswith("#main"), landed
    assert_visible_focus(landed)
    after = press(reader, Keys.TAB)
    assert after["in_main"], f"Tab after the skip link reaches {after}, outside <main>"

    visit(reader, server, COOPERATION)
    stops = reader.execute_script(HEADER_STOPS)
    assert "site-search-q" in stops, f"no search field #site-search-q in the header: {stops}"
    form = reader.execute_script("""const form = document.getElementById("site-search-q").form;
        return [form.method, new URL(form.action).pathname];""")
    assert form == ["get", "/search"], form
    reached = []
    for _ in stops:
        focused = press(reader, Keys.TAB)
        assert_visible_focus(focused)
        reached.append(focused["key"])
    assert reached == [str(index) for index in range(len(stops))], (
        f"Tab goes through {reached}, not through the header in order: {stops}")
    beyond = press(reader, Keys.TAB)
    assert not beyond["in_header"], f"the header offers more stops than expected: {beyond}"


def test_keyboard_search_field_submits_a_search(reader: WebDriver, server: str) -> None:
    """Tab to the header's search field, type, Enter: the browser asks /search for the words."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    visit(reader, server, HOME)
    while (focused := press(reader, Keys.TAB))["id"] != "site-search-q":
        assert focused["in_header"] or focused["href"] == "#main", f"Tab left the header at {focused}"
    reader.switch_to.active_element.send_keys("KGSt", Keys.ENTER)
    # Enter submits the form; the browser may not have left the page yet when send_keys returns.
    WebDriverWait(reader, 10).until(lambda r: urllib.parse.urlsplit(r.current_url).path != "/")
    address = urllib.parse.urlsplit(reader.current_url)
    assert address.path == "/search" and urllib.parse.parse_qs(address.query)["q"] == ["KGSt"], address


def test_keyboard_reaches_and_follows_the_members(reader: WebDriver, server: str) -> None:
    """On a cooperation's page, Tab reaches each member's link in turn, every stop visibly, and
    Enter follows the link that has the focus."""
    from selenium.webdriver.common.keys import Keys

    visit(reader, server, COOPERATION)
    members = reader.execute_script("""const links = [...document.querySelectorAll(
            "#h-members + .table-scroll tbody th a")];
        links.forEach((link, index) => { link.dataset.a11yKey = `member-${index}`; });
        return links.map(link => link.getAttribute("href"));""")
    assert {"/id/organisation/kgst", "/id/organisation/vitako"} <= set(members), members
    reached: list[str] = []
    for _ in range(200):  # a bound, so a trap or a lost focus fails instead of hanging
        focused = press(reader, Keys.TAB)
        assert_visible_focus(focused)
        if focused["key"] and focused["key"].startswith("member-"):
            reached.append(focused["href"])
        if len(reached) == len(members):
            break
    assert reached == members, f"Tab reached the members {reached}, not {members}"
    press(reader, Keys.ENTER)
    assert reader.current_url == f"{server}doc/{members[-1].removeprefix('/id/')}"
