"""The map of where a cooperation's members lie: the query of their coordinates, the drawing, and
the map on the page of a release built from tests/fixtures/places (a cooperation of five towns
around Gütersloh with coordinates and a data centre without; two neighbouring towns; a cooperation
none of whose members has coordinates), in German and English.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from markupsafe import Markup

from lod.query.describe import Labels
from lod.query.network import Party
from lod.query.places import MemberPlaces, Place, member_places
from lod.release.publish import build_release
from lod.settings import Settings
from lod.web import create_app
from lod.web.context import lod_context
from lod.web.maps import ASPECT, MIN_EXTENT_KM, Projection, degrees, member_map, scale_length
from lod.web.svg import WIDTH

from .test_pages import EVIL, Element, parse_html

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://w3id.org/lod-ikz/id/"
MAP = {"de": "Wo die Mitglieder liegen", "en": "Where the members are"}
LOCATED = {"Bielefeld": ("52.0211", "8.5347"), "Gütersloh": ("51.9065", "8.3785"),
           "Harsewinkel": ("51.9622", "8.229"), "Rheda-Wiedenbrück": ("51.8447", "8.2997"),
           "Verl": ("51.8833", "8.5167")}
"""The members of it-kooperation with coordinates, by name, as the fixture gives them."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp("places-release")
    build_release(FIXTURES / "places", settings=Settings(release_dir=directory), allow_warnings=True)
    yield create_app(Settings(release_dir=directory))


def page(app: Flask, path: str) -> tuple[str, Element]:
    response = app.test_client().get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    return body, parse_html(body)


def the_map(app: Flask, path: str, language: str) -> Element:
    return page(app, f"{path}?lang={language}")[1].section(MAP[language]).find("figure")


def local(iri: str) -> str:
    return "/id/" + iri.rpartition("/id/")[2]


# --- the page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "caption", "note", "header", "bielefeld"), [
    ("de", "[IT-Kooperation im Kreis Gütersloh]: die Lage der Mitglieder nach den Koordinaten in den Daten "
           "(5 von 6 eingezeichnet); Norden ist oben.",
     "Ein Mitglied hat keine Koordinaten und ist nicht eingezeichnet.",
     ["Mitglied", "Breitengrad", "Längengrad"], ["52,0211", "8,5347"]),
    ("en", "[IT cooperation in the Kreis Gütersloh]: where its members lie, by the coordinates in the data "
           "(5 of 6 on the map); north is up.",
     "One member has no coordinates and is not on the map.",
     ["Member", "Latitude", "Longitude"], ["52.0211", "8.5347"]),
])
def test_the_cooperation_page_maps_its_members(app: Flask, language: str, caption: str, note: str,
                                               header: list[str], bielefeld: list[str]) -> None:
    figure = the_map(app, "/doc/cooperation/it-kooperation", language)
    assert figure.find("figcaption").text() == caption
    svg = figure.find("svg")
    links = {a.text(): a.attrs["href"] for a in svg.find_all("a")}
    assert links == {name: f"/id/organisation/{slug}" for name, slug in (
        ("Bielefeld", "bielefeld"), ("Gütersloh", "guetersloh"), ("Harsewinkel", "harsewinkel"),
        ("Rheda-Wiedenbrück", "rheda-wiedenbrueck"), ("Verl", "verl"))}, "the data centre has no place"
    assert len(svg.find_all("circle")) == 5
    assert re.fullmatch(r"\d+ km", svg.find("g", role="img").find("text").text())
    assert figure.find("p", class_="map-notes").text() == note
    table = figure.find("details").find("table")
    assert [th.text() for th in table.find("thead").find_all("th")] == header
    assert [row[0] for row in table.rows()] == list(LOCATED), "by name, as the drawing's links"
    first = table.find("tbody").find("tr")
    assert [td.text() for td in first.find_all("td")] == bielefeld
    assert [d.attrs["value"] for d in first.find_all("data")] == list(LOCATED["Bielefeld"])
    if language == "en":  # the towns have German names only: marked as German on an English page
        assert all(a.find("text").attrs.get("lang") == "de" for a in svg.find_all("a"))


def test_north_is_up_and_east_is_right(app: Flask) -> None:
    svg = the_map(app, "/doc/cooperation/it-kooperation", "de").find("svg")
    dots = {a.text(): (float(a.find("circle").attrs["cx"]), float(a.find("circle").attrs["cy"]))
            for a in svg.find_all("a")}
    by_north = sorted(dots, key=lambda name: dots[name][1])
    assert by_north == sorted(LOCATED, key=lambda name: -float(LOCATED[name][0]))
    by_east = sorted(dots, key=lambda name: dots[name][0])
    assert by_east == sorted(LOCATED, key=lambda name: float(LOCATED[name][1]))


def test_two_neighbouring_towns_are_not_drawn_across_the_map(app: Flask) -> None:
    """Gütersloh and Verl lie 10 km apart: drawn a third of the map apart, not edge to edge."""
    svg = the_map(app, "/doc/cooperation/nachbarn", "en").find("svg")
    (x1, y1), (x2, y2) = [(float(c.attrs["cx"]), float(c.attrs["cy"])) for c in svg.find_all("circle")]
    apart = math.hypot(x2 - x1, y2 - y1)
    assert 0.2 * WIDTH < apart < 0.4 * WIDTH
    assert svg.find("g", role="img").find("text").text() == "10 km"


@pytest.mark.parametrize("path", ["/doc/cooperation/rechenzentrum", "/doc/organisation/guetersloh",
                                  "/doc/organisation/krz", "/doc/source/gv-isys"])
def test_no_map_where_no_member_has_coordinates(app: Flask, path: str) -> None:
    body, document = page(app, path)
    assert MAP["de"] not in document.text()
    assert "map-drawing" not in body


def test_no_map_in_a_release_without_coordinates(release_dir: Path) -> None:
    client = create_app(Settings(release_dir=release_dir)).test_client()
    body = client.get("/doc/cooperation/oss", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Wer mit wem zusammenarbeitet" in body, "the network picture, but no map"
    assert MAP["de"] not in body and "map-drawing" not in body


def test_the_map_needs_no_script_no_inline_style_and_asks_nothing_of_others(app: Flask) -> None:
    body, document = page(app, "/doc/cooperation/it-kooperation")
    svg = document.section(MAP["de"]).find("svg")
    assert not [e for e in svg.find_all() if "style" in e.attrs or e.tag in ("style", "script")]
    assert not [e for e in svg.find_all() if any(name.startswith("on") for name in e.attrs)]
    assert not svg.find_all("image") and not svg.find_all("use") and not svg.find_all("foreignobject")
    assert not [value for element in (svg, *svg.find_all()) for name, value in element.attrs.items()
                if name != "xmlns" and "//" in value]
    ids = re.findall(r'\bid="([^"]+)"', body)
    assert len(ids) == len(set(ids))


def test_the_members_places_are_queried(app: Flask) -> None:
    with app.app_context():
        select = lod_context().select
        found = member_places(select, f"{BASE}cooperation/it-kooperation")
        first = member_places(select, f"{BASE}cooperation/it-kooperation", limit=2)
        none = member_places(select, f"{BASE}cooperation/rechenzentrum")
    assert (found.members, found.located, found.unlocated, found.more) == (6, 5, 1, 0)
    assert {p.party.labels.best("de"): (str(p.latitude), str(p.longitude)) for p in found.places} == LOCATED
    assert ({p.party.labels.best("de") for p in first.places}, first.more) == ({"Bielefeld", "Gütersloh"}, 3)
    assert (none.places, none.members, none.located) == ([], 2, 0)


# --- the pieces -------------------------------------------------------------------------------


def place(slug: str, latitude: str, longitude: str, *, name: str | None = None,
          language: str = "de") -> Place:
    labels = Labels()
    if name is not None:
        labels.add({"value": name, "xml:lang": language})
    return Place(Party(f"{BASE}organisation/{slug}", labels), Decimal(latitude), Decimal(longitude))


def test_coordinates_that_are_no_numbers_in_range_count_as_none() -> None:
    def select(query: str) -> list[dict[str, dict[str, str]]]:
        def row(slug: str, lat: str, long: str) -> dict[str, dict[str, str]]:
            return {"party": {"type": "uri", "value": f"{BASE}organisation/{slug}"},
                    "lat": {"type": "literal", "value": lat}, "long": {"type": "literal", "value": long}}

        count = {"type": "literal", "value": "4"}
        return [{"side": {"type": "literal", "value": "members"}, "total": count},
                {"side": {"type": "literal", "value": "located"}, "total": count},
                row("a", "51.9", "8.4"), row("b", "north", "8.4"), row("c", "95", "8.4"),
                row("d", "51", "1E1")]

    found = member_places(select, f"{BASE}cooperation/x")
    assert [(p.party.iri.rpartition("/")[2], p.latitude, p.longitude) for p in found.places] == [
        ("a", Decimal("51.9"), Decimal("8.4")), ("d", Decimal(51), Decimal(10))]
    assert (found.located, found.unlocated) == (2, 2)


def test_names_are_escaped_long_ones_cut_and_crowded_ones_left_to_the_table() -> None:
    long_name = "Zweckverband Kommunale Informationsverarbeitung Baden-Franken"
    crowd = [place(f"o{n}", f"51.{n:02d}", "8.4", name=f"Gemeinde Nummer {n}") for n in range(12)]
    places = MemberPlaces([place("evil", "52.0", "8.0", name=EVIL),
                           place("long", "52.5", "9.5", name=long_name), place("nameless", "51.5", "9.0"),
                           *crowd], members=16, located=15)
    shown = member_map(places, name=("de", EVIL), iri=f"{BASE}cooperation/x", language="de", link=local)
    assert "<script" not in shown and "&lt;script&gt;" in shown
    figure = parse_html(shown)
    assert figure.find("figcaption").text().startswith(f"{EVIL}: die Lage der Mitglieder")
    long = figure.find("a", href="/id/organisation/long")
    assert long.find("text").text().endswith("…") and len(long.find("text").text()) <= 28
    assert long.attrs["aria-label"] == long_name, "the link keeps the whole name"
    assert figure.find("a", href="/id/organisation/nameless").text().endswith("nameless")
    unnamed = [a for a in figure.find("svg").find_all("a") if not a.find_all("text")]
    assert unnamed, "twelve names one above the other do not all fit"
    assert all(a.attrs["aria-label"] == a.find("title").text() for a in unnamed)
    notes = figure.find("p", class_="map-notes").text()
    assert notes == (f"Ein Mitglied hat keine Koordinaten und ist nicht eingezeichnet. {len(unnamed)} Namen "
                     "stehen aus Platzgründen nur in der Tabelle.")
    assert len(figure.find("tbody").find_all("tr")) == 15, "the table has every one"


def test_a_map_of_a_few_of_many_says_so_and_an_empty_one_draws_nothing() -> None:
    places = MemberPlaces([place("a", "51.9", "8.4", name="A")], members=900, located=500)
    figure = parse_html(member_map(places, name=("en", "Big"), iri=f"{BASE}cooperation/big", language="en",
                                   link=local))
    assert "(1 of 900 on the map)" in figure.find("figcaption").text()
    assert figure.find("p", class_="map-notes").text() == (
        "400 members have no coordinates and are not on the map. "
        "499 more members with coordinates are not on the map, only the first 1 by name.")
    assert member_map(MemberPlaces([], members=3), name=("", "x"), iri=f"{BASE}cooperation/x",
                      language="de", link=local) == Markup("")


@pytest.mark.parametrize(("points", "across_km"), [
    ([(51.9065, 8.3785)], MIN_EXTENT_KM),                      # one town: the least extent
    ([(51.9065, 8.3785), (51.8833, 8.5167)], MIN_EXTENT_KM),   # neighbours 10 km apart
    # Flensburg, Füssen, Aachen, Görlitz
    ([(54.78, 9.43), (47.56, 10.22), (50.78, 6.08), (51.15, 14.97)], 626.0),
])
def test_the_projection_fits_the_points_with_true_distances(points: list[tuple[float, float]],
                                                            across_km: float) -> None:
    projection = Projection.fitted(points)
    drawn = [projection(lat, lon) for lat, lon in points]
    assert all(0 < x < WIDTH and 0 < y < projection.height for x, y in drawn)
    assert WIDTH / projection.units_per_km == pytest.approx(across_km * WIDTH / (WIDTH - 88), rel=0.05)
    assert ASPECT[0] - 1e-9 <= (projection.height - 52) / (WIDTH - 88) <= ASPECT[1] + 1e-9
    for index, (lat1, lon1) in enumerate(points):  # a distance on the ground is that by the scale
        for (lat2, lon2), (x, y) in zip(points[index + 1:], drawn[index + 1:], strict=True):
            ground = _great_circle_km(lat1, lon1, lat2, lon2)
            by_scale = math.hypot(x - drawn[index][0], y - drawn[index][1]) / projection.units_per_km
            assert by_scale == pytest.approx(ground, rel=0.04)


def _great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The haversine distance on a sphere of the earth's mean radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.mark.parametrize(("width_km", "length"), [(12.0, 2), (40.0, 10), (300.0, 100), (900.0, 200)])
def test_scale_length(width_km: float, length: int) -> None:
    assert scale_length(width_km) == length


@pytest.mark.parametrize(("value", "language", "written"), [
    ("51.9065", "de", "51,9065"), ("51.9065", "en", "51.9065"), ("-8.5", "de", "-8,5"), ("90", "de", "90"),
    ("-0.25", "en", "-0.25"),
])
def test_degrees(value: str, language: str, written: str) -> None:
    assert degrees(Decimal(value), language) == written
