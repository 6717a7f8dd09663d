"""The pictures of the pages: who cooperates with whom around an organisation or cooperation, and
bar charts; drawn on the server, linked, bounded, with a text alternative, in German and English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from markupsafe import Markup

from lod.query.describe import Labels, Period, ShownTerm
from lod.query.network import Group, Members, Network, Party, Tie, network
from lod.release.publish import build_release
from lod.settings import Settings
from lod.web import create_app
from lod.web.context import lod_context
from lod.web.pictures import Bar, bar_chart, network_picture, years
from lod.web.svg import WIDTH

from .test_pages import EVIL, KGST_DE, OSS_DE, OSS_EN, VITAKO_DE, Element, parse_html

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://w3id.org/lod-ikz/id/"
KGST_EN = "Municipal Association for Administrative Management"
VITAKO_EN = "Federal Working Group of Municipal IT Service Providers"
NETWORK = {"de": "Wer mit wem zusammenarbeitet", "en": "Who cooperates with whom"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The minimal fixture, built once for this module: the cooperation oss of kgst and vitako."""
    directory = tmp_path_factory.mktemp("pictures-release")
    build_release(FIXTURES / "minimal", settings=Settings(release_dir=directory), allow_warnings=True)
    yield create_app(Settings(release_dir=directory))


def page(app: Flask, path: str) -> Element:
    response = app.test_client().get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_html(response.get_data(as_text=True))


def picture(app: Flask, path: str, language: str) -> Element:
    """The figure of the section "who cooperates with whom" of a page."""
    document = page(app, f"{path}?lang={language}")
    return document.section(NETWORK[language]).find("figure")


def drawn_links(figure: Element) -> dict[str, str]:
    """The links of the drawing, by the text they show."""
    return {a.text(): a.attrs["href"] for a in figure.find("svg").find_all("a")}


def drawn_texts(figure: Element) -> list[str]:
    return [text.text() for text in figure.find("svg").find_all("text")]


def listed(figure: Element) -> str:
    """The text alternative: the network as a list under <details>."""
    return figure.find("details").find("ul", class_="network-list").text()


# --- on the pages -----------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "kgst", "vitako", "since", "caption"), [
    ("de", KGST_DE, VITAKO_DE, "Partner · seit 2020",
     f"{OSS_DE}: die Mitglieder, mit ihren Rollen und Jahren."),
    ("en", KGST_EN, VITAKO_EN, "Partner · since 2020", f"{OSS_EN}: its members, with their roles and years."),
])
def test_cooperation_page_draws_its_members_with_roles_and_years(
        app: Flask, language: str, kgst: str, vitako: str, since: str, caption: str) -> None:
    figure = picture(app, "/doc/cooperation/oss", language)
    assert figure.find("figcaption").text() == caption
    svg = figure.find("svg")
    assert svg.attrs["aria-labelledby"] == figure.find("figcaption").attrs["id"]
    assert svg.attrs["role"] == "group" and svg.attrs["viewbox"].startswith(f"0 0 {WIDTH} ")
    assert drawn_links(figure) == {kgst: "/id/organisation/kgst", vitako: "/id/organisation/vitako"}
    texts = drawn_texts(figure)
    assert texts[0] == (OSS_DE if language == "de" else OSS_EN), "the cooperation comes first, unlinked"
    assert since in texts and "Partner" in texts
    # Each line's label stands right above the member it leads to.
    assert texts[texts.index(since) + 1] == kgst
    text = listed(figure)
    assert f"{kgst} ({'Organisation' if language == 'de' else 'organisation'}): {since}" in text
    assert {a.attrs["href"] for a in figure.find("details").find_all("a")} == {
        "/id/organisation/kgst", "/id/organisation/vitako"}


@pytest.mark.parametrize(("language", "member_of", "others", "cooperation"), [
    ("de", "Mitglied in (1)", "Weitere Mitglieder (1)", OSS_DE),
    ("en", "Member of (1)", "Other members (1)", OSS_EN),
])
def test_organisation_page_draws_its_cooperations_and_their_members(
        app: Flask, language: str, member_of: str, others: str, cooperation: str) -> None:
    figure = picture(app, "/doc/organisation/kgst", language)
    links = drawn_links(figure)
    assert links[cooperation] == "/id/cooperation/oss"
    vitako = VITAKO_DE if language == "de" else VITAKO_EN
    assert links[vitako] == "/id/organisation/vitako"
    assert "/id/organisation/kgst" not in links.values(), "the page's own resource is not a link"
    texts = drawn_texts(figure)
    assert member_of in texts
    assert texts[texts.index(cooperation) - 1].startswith("Partner · ")
    assert texts[texts.index(vitako) - 1] == "Partner"
    # The cooperation is drawn as one (its shape and colour), the other member as an organisation.
    assert figure.find("g", class_="node cooperation").find("a").attrs["href"] == "/id/cooperation/oss"
    assert figure.find("g", class_="node organisation").find("a").attrs["href"] == "/id/organisation/vitako"
    text = listed(figure)
    assert member_of in text and others in text and vitako in text
    # People in posts are listed in their own table, not drawn.
    assert "Klaus Effing" not in figure.text()


@pytest.mark.parametrize("path", ["/doc/organisation/dresden", "/doc/person/klaus-effing",
                                  "/doc/def/topic/open-source", "/doc/membership/oss--kgst"])
def test_no_empty_picture_where_nobody_cooperates(app: Flask, path: str) -> None:
    document = page(app, path)
    assert not document.find_all("figure")
    assert not document.find_all("svg")
    assert NETWORK["de"] not in document.text()


@pytest.mark.parametrize("path", ["/doc/cooperation/oss", "/doc/organisation/kgst"])
def test_the_picture_needs_no_script_no_inline_style_and_ids_are_unique(app: Flask, path: str) -> None:
    body = app.test_client().get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    document = parse_html(body)
    svg = document.find("svg")
    assert not [e for e in svg.find_all() if "style" in e.attrs or e.tag in ("style", "script")]
    assert not [e for e in svg.find_all() if any(name.startswith("on") for name in e.attrs)]
    # Nothing is fetched from elsewhere: no images, fonts or uses of other documents.
    assert not svg.find_all("image") and not svg.find_all("use") and not svg.find_all("foreignobject")
    assert not [value for element in (svg, *svg.find_all()) for name, value in element.attrs.items()
                if name != "xmlns" and "//" in value]
    ids = re.findall(r'\bid="([^"]+)"', body)
    assert len(ids) == len(set(ids))


def test_the_network_is_bounded_and_says_how_many_more(app: Flask) -> None:
    with app.app_context():
        select = lod_context().select
        oss = network(select, f"{BASE}cooperation/oss", max_members=1)
        kgst = network(select, f"{BASE}organisation/kgst", max_groups=0)
        whole = network(select, f"{BASE}organisation/kgst")
        alone = network(select, f"{BASE}organisation/kgst", max_members=0)
    assert (oss.members.total, len(oss.members.shown), oss.members.more) == (2, 1, 1)
    assert oss.centre.cooperation and oss.centre.labels.best("en") == OSS_EN
    assert (kgst.groups_total, kgst.groups, kgst.more_groups) == (1, [], 1)
    [group] = whole.groups
    assert group.tie.party.iri == f"{BASE}cooperation/oss" and group.tie.party.cooperation
    assert [role.value.rpartition("/")[2] for role in group.tie.roles] == ["partner"]
    assert group.tie.period.start is not None and group.tie.period.start.value == "2020-07"
    assert [tie.party.iri for tie in group.others.shown] == [f"{BASE}organisation/vitako"]
    assert whole.members.total == 0, "Klaus Effing holds a post; he is not a member drawn"
    # "and N more" leads to where they are all listed: the page's table, or the group's page.
    shown = parse_html(network_picture(oss, language="de", link=local, all_members="#h-members"))
    assert drawn_links(shown)["und 1 weitere"] == "#h-members"
    assert "und 1 weitere" in shown.find("details").text()
    shown = parse_html(network_picture(kgst, language="en", link=local, all_groups="#h-memberships"))
    assert drawn_links(shown) == {"and 1 more": "#h-memberships"}
    assert shown.find("details").find("a").attrs["href"] == "#h-memberships"
    shown = parse_html(network_picture(alone, language="en", link=local))
    assert drawn_links(shown) == {OSS_EN: "/id/cooperation/oss", "and 1 more": "/id/cooperation/oss"}


def test_a_blank_node_is_drawn_but_not_queried() -> None:
    asked: list[str] = []

    def select(query: str) -> list[dict[str, dict[str, str]]]:
        asked.append(query)
        side = {"type": "literal", "value": "groups"}
        return [{"side": side, "total": {"type": "literal", "value": "1"}},
                {"side": side, "m": {"type": "uri", "value": f"{BASE}m/1"},
                 "party": {"type": "bnode", "value": "b0"}}]

    found = network(select, f"{BASE}organisation/x")
    assert len(asked) == 1, "no query about the blank node's members"
    [group] = found.groups
    assert group.tie.party.blank and group.others.total == 0


def local(iri: str) -> str:
    return "/id/" + iri.rpartition("/id/")[2]


# --- the pieces -------------------------------------------------------------------------------


def party(slug: str, *, name: str | None = None, cooperation: bool = False) -> Party:
    labels = Labels()
    if name is not None:
        labels.add({"value": name, "xml:lang": "de"})
    return Party(f"{BASE}{slug}", labels, cooperation)


def literal(value: str) -> ShownTerm:
    return ShownTerm(value, "literal", datatype="http://www.w3.org/2001/XMLSchema#gYearMonth")


def test_names_are_escaped_and_long_names_wrap_within_their_box() -> None:
    long_name = "Zweckverband " + " ".join(["Kommunale Informationsverarbeitung"] * 8)
    centre = party("cooperation/evil", name=EVIL, cooperation=True)
    ties = [Tie(f"{BASE}m/{n}", party(f"organisation/{n}", name=name))
            for n, name in (("a", EVIL), ("b", long_name), ("c", None))]
    shown = network_picture(Network(centre, Members(ties, 3), [], 0), language="de",
                            link=local)
    assert "<script" not in shown and "&lt;script&gt;" in shown
    figure = parse_html(shown)
    assert EVIL in drawn_texts(figure)
    assert figure.find("figcaption").text() == f"{EVIL}: die Mitglieder, mit ihren Rollen und Jahren."
    long = figure.find("a", href="/id/organisation/b")
    spans = long.find("text").find_all("tspan")
    assert len(spans) == 4 and spans[-1].text().endswith("…"), "cut short after four lines"
    assert long.attrs["aria-label"] == long_name, "the link still has the whole name"
    width = WIDTH - float(long.find("rect").attrs["x"])
    assert all(len(span.text()) * 14 * 0.6 <= width for span in spans)
    assert "c" in drawn_links(figure), "a party without a name is named by its IRI"


def test_a_name_in_another_language_is_marked() -> None:
    centre = party("organisation/x", name="Zentrum")
    group = Group(Tie(f"{BASE}m/1", party("cooperation/y", name="Nur Deutsch", cooperation=True)), Members())
    figure = parse_html(network_picture(Network(centre, Members(), [group], 1), language="en",
                                        link=lambda iri: "/y"))
    assert figure.find("a", href="/y").find("text").attrs["lang"] == "de"
    assert figure.find("svg").find("text").attrs["lang"] == "de", "the centre too"
    assert figure.find("details").find("a").attrs["lang"] == "de"
    assert figure.find("figcaption").text() == (
        "Zentrum: what it is a member of, with roles and years, and who else is a member there.")


def test_an_empty_network_draws_nothing() -> None:
    assert network_picture(Network(party("organisation/x"), Members(), [], 0), language="de",
                           link=lambda iri: None) == Markup("")


@pytest.mark.parametrize(("start", "end", "as_of", "language", "expected"), [
    ("2014", "2016-09", None, "de", "2014\N{EN DASH}2016"),
    ("2020-07", None, None, "de", "seit 2020"),
    ("2020-07", None, None, "en", "since 2020"),
    (None, "2016-09-30", None, "de", "bis 2016"),
    (None, None, "2020-09-25", "en", "as of 2020"),
    ("2016-01", "2016-09", None, "en", "2016"),
    (None, None, None, "de", ""),
])
def test_years(start: str | None, end: str | None, as_of: str | None, language: str, expected: str) -> None:
    period = Period(*(literal(value) if value else None for value in (start, end, as_of)))
    assert years(period, language) == expected


# --- bar charts -------------------------------------------------------------------------------


BARS = [Bar("Nordrhein-Westfalen", 1234, "/cooperations?land=nw"), Bar("Sachsen", 617),
        Bar(EVIL, 0, "/cooperations?land=x&y=1")]


@pytest.mark.parametrize(("language", "shown", "summary", "header"), [
    ("de", "1.234", "Die Zahlen als Tabelle", ["Kategorie", "Anzahl"]),
    ("en", "1,234", "The figures as a table", ["Category", "Count"]),
])
def test_bar_chart(language: str, shown: str, summary: str, header: list[str]) -> None:
    markup = bar_chart(title="Kooperationen je Land", bars=BARS, language=language)
    assert "<script" not in markup and "&amp;y=1" in markup
    figure = parse_html(markup).find("figure")
    caption = figure.find("figcaption")
    assert caption.text() == "Kooperationen je Land"
    svg = figure.find("svg")
    assert svg.attrs["aria-labelledby"] == caption.attrs["id"]
    links = {a.text(): a.attrs["href"] for a in svg.find_all("a")}
    assert links == {"Nordrhein-Westfalen": "/cooperations?land=nw", EVIL: "/cooperations?land=x&y=1"}
    texts = [text.text() for text in svg.find_all("text")]
    assert texts == ["Nordrhein-Westfalen", shown, "Sachsen", "617", EVIL, "0"]
    widths = [float(rect.attrs["width"]) for rect in svg.find_all("rect")]
    assert widths[0] > 0 and widths[1] == pytest.approx(widths[0] / 2, abs=0.1) and widths[2] == 0
    assert widths[0] + 6 + len(shown) * 14 * 0.6 <= WIDTH, "the longest bar leaves room for its number"
    assert svg.find("title").text() == f"Nordrhein-Westfalen: {shown}"
    details = figure.find("details")
    assert details.find("summary").text() == summary
    table = details.find("table")
    assert [th.text() for th in table.find("thead").find_all("th")] == header
    assert table.rows() == [["Nordrhein-Westfalen", shown], ["Sachsen", "617"], [EVIL, "0"]]
    assert not [e for e in figure.find_all() if "style" in e.attrs]


def test_bar_charts_on_one_page_have_their_own_ids_and_no_bars_draw_nothing() -> None:
    first = parse_html(bar_chart(title="Je Thema", bars=BARS[:1], language="de")).find("figcaption")
    second = parse_html(bar_chart(title="Je Startjahr", bars=BARS[:1], language="de")).find("figcaption")
    assert first.attrs["id"] != second.attrs["id"]
    assert bar_chart(title="Je Thema", bars=[], language="de") == Markup("")
