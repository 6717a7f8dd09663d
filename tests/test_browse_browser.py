"""The lists and the search in a real browser (headless Chromium driven by Selenium) against a real
`lod serve` of a release of generated data: search as you type, by mouse and by keyboard alone;
choosing facets and paging; and screenshots of the home page, a list and the search, in German and
English, as wide as a desktop and as narrow as a phone, for a person to look at."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from lod.release.publish import build_release
from lod.settings import Settings

from .conftest import ServerFactory
from .generated import generated_data
from .test_browser import CHROMEDRIVER, browser, chromium, screenshots_folder

MUNICIPALITY = "https://w3id.org/lod-ikz/def/organisation-kind/municipality"

pytestmark = pytest.mark.skipif(not CHROMEDRIVER.exists(), reason=f"{CHROMEDRIVER} is not installed")


@pytest.fixture(scope="module")
def server(lod_server: ServerFactory, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("generated")
    data = generated_data(folder / "data", scale=0.02)
    build_release(data, settings=Settings(release_dir=folder / "release"), allow_warnings=True)
    return lod_server(folder / "release", workers=1)


def wait_for(reader: object, condition: object, timeout: float = 10) -> object:
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(reader, timeout).until(condition)  # type: ignore[arg-type]


def first_municipality(reader: object, server: str) -> str:
    """The name of the first municipality in the list (read from the page, not assumed)."""
    from selenium.webdriver.common.by import By
    reader.get(f"{server}organisations?kind={MUNICIPALITY}")  # type: ignore[attr-defined]
    return str(reader.find_element(By.CSS_SELECTOR, "table.list tbody th a").text)  # type: ignore[attr-defined]


def test_suggestions_appear_as_one_types_and_lead_to_the_page(server: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen

    with browser(tmp_path, "de") as reader:
        name = first_municipality(reader, server)
        reader.get(server)
        field = reader.find_element(By.ID, "site-search-q")
        field.send_keys(name[:5])
        wait_for(reader, seen.visibility_of_element_located((By.ID, "site-search-option-0")))
        assert field.get_attribute("aria-expanded") == "true"
        options = reader.find_elements(By.CSS_SELECTOR, "#site-search-suggestions [role=option]")
        # Names beginning with what was typed come first, then names with a word beginning so.
        beginning = [o.find_element(By.CLASS_NAME, "name").text.casefold().startswith(name[:5].casefold())
                     for o in options]
        assert beginning[0] and beginning == sorted(beginning, reverse=True)
        [chosen] = [o for o in options if o.find_element(By.CLASS_NAME, "name").text == name]
        assert "Organisation" in chosen.text
        chosen.click()
        wait_for(reader, seen.url_contains("/doc/organisation/"))
        assert reader.find_element(By.TAG_NAME, "h1").text == name


def test_the_search_works_by_keyboard_alone(server: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as seen

    with browser(tmp_path, "en") as reader:
        name = first_municipality(reader, server)
        reader.get(server)
        reader.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        reached = [reader.switch_to.active_element]
        for _ in range(2):
            reached[-1].send_keys(Keys.TAB)
            reached.append(reader.switch_to.active_element)
        skip, home, field = reached  # the skip link, the site's name, then the search field
        assert skip.get_attribute("class") == "skip-link" and home.text == "lod-ikz"
        assert field.get_attribute("id") == "site-search-q"
        field.send_keys(name)
        wait_for(reader, seen.visibility_of_element_located((By.ID, "site-search-option-0")))
        field.send_keys(Keys.ARROW_DOWN)
        assert field.get_attribute("aria-activedescendant") == "site-search-option-0"
        assert reader.find_element(By.ID, "site-search-option-0").get_attribute("aria-selected") == "true"
        field.send_keys(Keys.ENTER)
        wait_for(reader, seen.url_contains("/doc/organisation/"))
        assert reader.find_element(By.TAG_NAME, "h1").text == name
        # Without choosing a suggestion, Enter sends the form: the page of hits, which needs no script.
        reader.get(server)
        field = reader.find_element(By.ID, "site-search-q")
        field.send_keys(name)
        wait_for(reader, seen.visibility_of_element_located((By.ID, "site-search-option-0")))
        field.send_keys(Keys.ESCAPE)  # closes the suggestions (and leaves the field as typed)
        assert field.get_attribute("aria-expanded") == "false" and field.get_attribute("value") == name
        field.send_keys(Keys.ENTER)
        wait_for(reader, seen.presence_of_element_located((By.CSS_SELECTOR, "ol.hits a")))
        assert urlparse(reader.current_url).path == "/search"
        assert name in [a.text for a in reader.find_elements(By.CSS_SELECTOR, "ol.hits a")]


def test_facets_narrow_the_list_and_pages_follow(server: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen

    with browser(tmp_path, "de") as reader:
        reader.get(f"{server}kooperationen")
        assert urlparse(reader.current_url).path == "/cooperations"
        total = reader.find_element(By.ID, "h-results").text
        land = reader.find_element(By.CSS_SELECTOR, "input[name=land]")
        label = reader.find_element(By.CSS_SELECTOR, f"label[for='{land.get_attribute('id')}']")
        count = int(label.find_element(By.CLASS_NAME, "count").text.replace(".", ""))
        value = land.get_attribute("value")
        land.click()
        reader.find_element(By.CSS_SELECTOR, "form.facets button[type=submit]").click()
        wait_for(reader, seen.url_contains("land="))
        assert parse_qs(urlparse(reader.current_url).query)["land"] == [value]
        heading = reader.find_element(By.ID, "h-results").text
        assert heading != total and f"{count:,}".replace(",", ".") in heading
        assert reader.find_element(By.CSS_SELECTOR, "input[name=land][checked]").is_selected()
        first_page = [a.text for a in reader.find_elements(By.CSS_SELECTOR, "table.list tbody th a")]
        if count > 50:
            reader.find_element(By.CSS_SELECTOR, "nav.pages a[rel=next]").click()
            wait_for(reader, seen.url_contains("page=2"))
            second_page = [a.text for a in reader.find_elements(By.CSS_SELECTOR, "table.list tbody th a")]
            assert second_page and not set(second_page) & set(first_page)


def test_screenshots_of_the_lists_and_the_search(server: str, tmp_path: Path) -> None:
    """Pictures for a person to look at; only their being there is checked."""
    folder = screenshots_folder(tmp_path)
    profile = tmp_path / "profile"
    for language in ("de", "en"):
        for name, path in (("home", ""), ("cooperations", "cooperations?sort=newest"),
                           ("organisations", f"organisations?kind={MUNICIPALITY}"),
                           ("search", "search?q=kooperation")):
            for width, height, device in ((1280, 1800, "desktop"), (390, 2400, "phone")):
                target = folder / f"{name}-{language}-{device}.png"
                target.unlink(missing_ok=True)
                chromium(profile, f"--accept-lang={language}", f"--window-size={width},{height}",
                         f"--screenshot={target}", f"{server}{path}")
                assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
