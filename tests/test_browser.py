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
from pathlib import Path

import pytest

from .conftest import ServerFactory
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


def test_screenshots(server: str, profile: Path, tmp_path: Path) -> None:
    """Pictures of the pages for a person to look at; only their being there is checked."""
    keep = os.environ.get("LOD_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in (("cooperation", "doc/cooperation/oss"), ("organisation", "doc/organisation/kgst"),
                       ("membership", "doc/membership/oss--kgst?lang=en"), ("api", "api"),
                       ("api-en", "api?lang=en"), ("query", "sparql"),
                       ("catalog", "catalog")):
        target = folder / f"{name}.png"
        target.unlink(missing_ok=True)
        chromium(profile, "--accept-lang=de", "--window-size=1200,1600", f"--screenshot={target}",
                 f"{server}{path}")
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not CHROMEDRIVER.exists(), reason=f"{CHROMEDRIVER} is not installed")
def test_a_reader_follows_links_between_cooperation_and_member(server: str, tmp_path: Path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "de"})
    # The driver is given, so Selenium Manager has nothing to look up or download.
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        browser.get(f"{server}doc/cooperation/oss")
        members = browser.find_element(By.CSS_SELECTOR, "#h-members + .table-scroll table")
        members.find_element(By.LINK_TEXT, KGST_DE).click()
        assert browser.current_url == f"{server}doc/organisation/kgst"
        assert browser.find_element(By.TAG_NAME, "h1").text == KGST_DE
        browser.find_element(By.CSS_SELECTOR, "#h-memberships + .table-scroll table").find_element(
            By.LINK_TEXT, OSS_DE).click()
        assert browser.current_url == f"{server}doc/cooperation/oss"
        browser.find_element(By.LINK_TEXT, "English").click()
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert browser.find_element(By.TAG_NAME, "h1").text == OSS_EN
    finally:
        browser.quit()

