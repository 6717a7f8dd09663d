"""The map of a cooperation's members in a real browser, as narrow as a phone (390 px).

Uses the helpers of :mod:`tests.test_browser`: Debian's Chromium against a real `lod serve` of a
release built from tests/fixtures/places, and Selenium with Debian's chromedriver; skipped where they
are not installed. The screenshots are for a person to look at (kept where LOD_SCREENSHOTS says).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import FIXTURES, ServerFactory
from .test_accessibility import blocking_violations, described
from .test_browser import (  # noqa: F401 (the fixtures are used by name)
    CHROMEDRIVER,
    CHROMIUM,
    browser,
    chromium,
    profile,
    screenshots_folder,
)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")

PHONE = (390, 1400)
"""A phone's window, as wide as many are."""
COOPERATION = "doc/cooperation/it-kooperation"


@pytest.fixture(scope="module")
def places_server(lod_server: ServerFactory, tmp_path_factory: pytest.TempPathFactory) -> str:
    from lod.release.publish import build_release
    from lod.settings import Settings

    directory = tmp_path_factory.mktemp("places-release")
    build_release(FIXTURES / "places", settings=Settings(release_dir=directory), allow_warnings=True)
    return lod_server(directory, workers=1)


def test_screenshots_of_the_map_on_a_phone(places_server: str, profile: Path, tmp_path: Path) -> None:  # noqa: F811
    """The cooperation's page down to its map, 390 px wide, in German and English."""
    folder = screenshots_folder(tmp_path)
    for name, path, language in (("map-cooperation", COOPERATION, "de"),
                                 ("map-cooperation-en", COOPERATION, "en"),
                                 ("map-neighbours", "doc/cooperation/nachbarn", "de")):
        target = folder / f"{name}.png"
        target.unlink(missing_ok=True)
        chromium(profile, f"--accept-lang={language}", f"--window-size={PHONE[0]},2400",
                 f"--screenshot={target}", f"{places_server}{path}")
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not CHROMEDRIVER.exists(), reason=f"{CHROMEDRIVER} is not installed")
def test_the_map_fits_a_phone_passes_axe_and_a_keyboard_follows_its_links(places_server: str,
                                                                          tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with browser(tmp_path, "de") as reader:
        reader.set_window_size(*PHONE)
        reader.get(f"{places_server}{COOPERATION}")
        width = reader.execute_script("return document.documentElement.clientWidth")
        assert reader.execute_script("return document.documentElement.scrollWidth") <= width, \
            "nothing is wider than the phone"
        violations = blocking_violations(reader)
        assert not violations, described(violations)
        svg = reader.find_element(By.CSS_SELECTOR, "figure.map svg")
        assert 0 < svg.size["width"] <= width
        font = reader.execute_script(
            "return arguments[0].querySelector('a text').getBoundingClientRect().height", svg)
        assert font >= 11, "the names stay readable when the map is scaled down"
        names = reader.execute_script(
            "return [...arguments[0].querySelectorAll('a text')].map(t => t.getBoundingClientRect())"
            ".map(r => [r.left, r.top, r.right, r.bottom])", svg)
        frame = svg.rect
        for index, (left, top, right, bottom) in enumerate(names):
            assert frame["x"] - 1 <= left and right <= frame["x"] + frame["width"] + 1, \
                "names stay on the map"
            for other in names[index + 1:]:
                assert right <= other[0] or other[2] <= left or bottom <= other[1] or other[3] <= top, \
                    "no name is written over another"
        wanted = next(a for a in svg.find_elements(By.TAG_NAME, "a") if a.text.strip() == "Verl")
        for _ in range(300):
            active = reader.switch_to.active_element
            if active == wanted:
                break
            active.send_keys(Keys.TAB)
        else:
            pytest.fail("the link to Verl on the map never took the focus")
        active.send_keys(Keys.ENTER)
        assert reader.current_url == f"{places_server}doc/organisation/verl"
