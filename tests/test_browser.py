"""The pages in a real browser: headless Chromium against a real `lod serve` (waitress workers).

Chromium renders each page and hands back the DOM it built (``--dump-dom``), or a screenshot for
a person to look at (set LOD_SCREENSHOTS to a folder to keep them; nothing asserts on pixels).
With the selenium package, a click follows a link from a cooperation to a member and back, as a
reader would. Skipped where Debian's chromium is not installed (``apt-get install chromium
chromium-driver``); nothing is downloaded.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .conftest import RENAMED, History, ServerFactory
from .test_pages import KGST_DE, OSS_DE, OSS_EN, Element, parse_html

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--hide-scrollbars")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")


@pytest.fixture(scope="module")
def server(lod_server: ServerFactory, release_dir: Path) -> str:
    return lod_server(release_dir, workers=1)


@pytest.fixture(scope="module")
def history_server(lod_server: ServerFactory, history: History) -> str:
    """A server of three releases built one after another, for the page of changes."""
    return lod_server(history.release_dir, workers=1)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh browser profile, so no setting of the machine's user leaks in."""
    return tmp_path_factory.mktemp("chromium-profile")


def chromium(profile: Path, *arguments: str) -> str:
    done = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *arguments],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def rendered(profile: Path, url: str, *, accept_language: str = "de") -> Element:
    """The DOM Chromium built for ``url``, as a reader's browser asking for ``accept_language``."""
    return parse_html(chromium(profile, f"--accept-lang={accept_language}", "--dump-dom", url))


def test_cooperation_page_as_rendered(server: str, profile: Path) -> None:
    document = rendered(profile, f"{server}id/cooperation/oss")  # 303 to /doc/, followed
    assert document.find("html").attrs["lang"] == "de"
    assert document.find("h1").text() == OSS_DE
    assert document.find("span", lang="en").text() == OSS_EN
    members = document.section("Mitglieder")
    links = {a.text(): a.attrs["href"] for a in members.find_all("a")}
    assert links[KGST_DE] == "/id/organisation/kgst"
    assert "Partner" in links
    alternates = {link.attrs["type"] for link in document.find_all("link", rel="alternate")}
    assert "text/turtle" in alternates


def test_browser_language_chooses_the_page_language(server: str, profile: Path) -> None:
    document = rendered(profile, f"{server}doc/cooperation/oss", accept_language="en-GB,en")
    assert document.find("html").attrs["lang"] == "en"
    assert document.find("h1").text() == OSS_EN
    assert document.find("header", class_="resource").find("span", lang="de").text() == OSS_DE
    assert [h2.text() for h2 in document.find_all("h2")][:2] == ["Properties", "Members (2)"]


def screenshots_folder(tmp_path: Path) -> Path:
    """LOD_SCREENSHOTS if set (to keep the pictures), else a folder of the test's."""
    keep = os.environ.get("LOD_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_screenshots(server: str, profile: Path, tmp_path: Path) -> None:
    """Pictures of the pages for a person to look at; only their being there is checked."""
    folder = screenshots_folder(tmp_path)
    for name, path in (("cooperation", "doc/cooperation/oss"), ("organisation", "doc/organisation/kgst"),
                       ("membership", "doc/membership/oss--kgst?lang=en"), ("api", "api"),
                       ("api-en", "api?lang=en"), ("query", "sparql"),
                       ("catalog", "catalog")):
        target = folder / f"{name}.png"
        target.unlink(missing_ok=True)
        chromium(profile, "--accept-lang=de", "--window-size=1200,1600", f"--screenshot={target}",
                 f"{server}{path}")
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_changes_screenshots(history_server: str, profile: Path, tmp_path: Path) -> None:
    """The page of changes in both languages, as wide as a desktop and as narrow as a phone."""
    folder = screenshots_folder(tmp_path)
    for language in ("de", "en"):
        for width, height, device in ((1200, 1800, "desktop"), (390, 2400, "phone")):
            target = folder / f"changes-{language}-{device}.png"
            target.unlink(missing_ok=True)
            chromium(profile, f"--accept-lang={language}", f"--window-size={width},{height}",
                     f"--screenshot={target}", f"{history_server}changes")
            assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_changes_page_as_rendered(history_server: str, profile: Path, history: History) -> None:
    first, second, third = history.ids
    german = rendered(profile, f"{history_server}changes")
    assert german.find("html").attrs["lang"] == "de" and german.find("h1").text() == "Änderungen"
    assert [s.attrs["id"] for s in german.find_all("section")] == [third, second, first]
    assert german.find("section", id=first).find("dd", class_="summary").text() == "Erste Veröffentlichung"
    english = rendered(profile, f"{history_server}changes", accept_language="en-GB,en")
    assert english.find("html").attrs["lang"] == "en" and english.find("h1").text() == "Changes"
    assert english.find("section", id=second).find("dd", class_="summary").text().endswith(
        "records: 0 added, 0 removed, 1 changed; triples: 1 added, 1 removed")


@contextmanager
def browser(tmp_path: Path, language: str) -> Iterator[Any]:
    """Chromium driven by Selenium, as a reader preferring ``language``."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    # The driver is given, so Selenium Manager has nothing to look up or download.
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.skipif(not CHROMEDRIVER.exists(), reason=f"{CHROMEDRIVER} is not installed")
def test_a_reader_follows_links_between_cooperation_and_member(server: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    with browser(tmp_path, "de") as reader:
        reader.get(f"{server}doc/cooperation/oss")
        members = reader.find_element(By.CSS_SELECTOR, "#h-members + .table-scroll table")
        members.find_element(By.LINK_TEXT, KGST_DE).click()
        assert reader.current_url == f"{server}doc/organisation/kgst"
        assert reader.find_element(By.TAG_NAME, "h1").text == KGST_DE
        reader.find_element(By.CSS_SELECTOR, "#h-memberships + .table-scroll table").find_element(
            By.LINK_TEXT, OSS_DE).click()
        assert reader.current_url == f"{server}doc/cooperation/oss"
        reader.find_element(By.LINK_TEXT, "English").click()
        assert reader.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert reader.find_element(By.TAG_NAME, "h1").text == OSS_EN


@pytest.mark.skipif(not CHROMEDRIVER.exists(), reason=f"{CHROMEDRIVER} is not installed")
def test_a_reader_follows_the_changes_to_the_records(history_server: str, history: History,
                                                      tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    first, second, third = history.ids
    with browser(tmp_path, "de") as reader:
        reader.get(f"{history_server}")
        navigation = reader.find_element(By.CSS_SELECTOR, "header.site nav")
        navigation.find_element(By.LINK_TEXT, "Änderungen").click()
        assert reader.current_url == f"{history_server}changes"
        sections = reader.find_elements(By.CSS_SELECTOR, "section.release")
        assert [s.get_attribute("id") for s in sections] == [third, second, first]
        assert "wird ausgeliefert" in sections[0].find_element(By.TAG_NAME, "h2").text
        # The record renamed in the second release: its link leads to its page (/id/ → /doc/).
        sections[1].find_element(By.CSS_SELECTOR, "ul.records.changed").find_element(
            By.LINK_TEXT, RENAMED).click()
        assert reader.current_url == f"{history_server}doc/organisation/dresden"
        assert reader.find_element(By.TAG_NAME, "h1").text == RENAMED
        reader.back()
        reader.find_element(By.LINK_TEXT, "English").click()
        assert reader.find_element(By.TAG_NAME, "h1").text == "Changes"
        newest = reader.find_element(By.ID, third)
        assert newest.find_element(By.CSS_SELECTOR, "ul.records.removed").text == "organisation/eb-it"
        newest.find_element(By.CSS_SELECTOR, "ul.records.added").find_element(
            By.LINK_TEXT, "Association of Municipal Employers").click()
        assert reader.current_url == f"{history_server}doc/organisation/vka"
        # ?lang chose English for the page of changes only; the record's page follows the browser.
        assert reader.find_element(By.TAG_NAME, "h1").text == "Vereinigung der kommunalen Arbeitgeberverbände"
        # A release's address sends a reader to its entry on the page of changes.
        reader.get(f"{history_server}releases/{first}")
        assert reader.current_url == f"{history_server}changes#{first}"
