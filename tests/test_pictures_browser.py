"""The picture of who cooperates with whom in a real browser, as narrow as a phone (390 px).

Uses the helpers of :mod:`tests.test_browser`: Debian's Chromium against a real `lod serve`, and
Selenium with Debian's chromedriver; skipped where they are not installed. The screenshots are for a
person to look at (kept where LOD_SCREENSHOTS says).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_browser import (  # noqa: F401 (the fixtures are used by name)
    CHROMEDRIVER,
    CHROMIUM,
    browser,
    chromium,
    profile,
    screenshots_folder,
    server,
)
from .test_pages import KGST_DE, OSS_DE

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")

PHONE = (390, 1400)
"""A phone's window, as wide as many are."""


def test_screenshots_on_a_phone(server: str, profile: Path, tmp_path: Path) -> None:  # noqa: F811
    """The pages with their picture, 390 px wide; tall enough to show the whole page down to it."""
    folder = screenshots_folder(tmp_path)
    for name, path, language in (("picture-cooperation", "doc/cooperation/oss", "de"),
                                 ("picture-organisation", "doc/organisation/kgst", "de"),
                                 ("picture-organisation-en", "doc/organisation/kgst", "en")):
        target = folder / f"{name}.png"
        target.unlink(missing_ok=True)
        chromium(profile, f"--accept-lang={language}", f"--window-size={PHONE[0]},3000",
                 f"--screenshot={target}", f"{server}{path}")
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not CHROMEDRIVER.exists(), reason=f"{CHROMEDRIVER} is not installed")
@pytest.mark.parametrize(("path", "first", "target"), [
    ("doc/organisation/kgst", OSS_DE, "doc/cooperation/oss"),
    ("doc/cooperation/oss", KGST_DE, "doc/organisation/kgst"),
])
def test_the_picture_fits_a_phone_and_a_keyboard_follows_its_links(
        server: str, tmp_path: Path, path: str, first: str, target: str) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with browser(tmp_path, "de") as reader:
        reader.set_window_size(*PHONE)
        reader.get(f"{server}{path}")
        width = reader.execute_script("return document.documentElement.clientWidth")
        assert reader.execute_script("return document.documentElement.scrollWidth") <= width, \
            "nothing is wider than the phone"
        svg = reader.find_element(By.CSS_SELECTOR, "figure.network svg")
        assert 0 < svg.size["width"] <= width
        font = reader.execute_script(
            "return arguments[0].querySelector('a text').getBoundingClientRect().height", svg)
        assert font >= 11, "the names stay readable when the drawing is scaled down"
        links = svg.find_elements(By.TAG_NAME, "a")
        wanted = next(a for a in links if " ".join(a.text.split()) == first)
        for _ in range(300):
            active = reader.switch_to.active_element
            if active == wanted:
                break
            active.send_keys(Keys.TAB)
        else:
            pytest.fail(f"the link to {first} in the picture never took the focus")
        active.send_keys(Keys.ENTER)
        assert reader.current_url == f"{server}{target}"
