"""The HTML page of a resource, in-process: what a person reading it finds there.

Labels instead of IRIs, memberships both ways, hash parts folded under their property, sources
with dates, the RDF alternatives, German and English, and no markup smuggled in through data.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Literal
from rdflib.namespace import RDFS

from lod.query.describe import iri_ref
from lod.release.publish import build_release
from lod.settings import Settings
from lod.vocab import IKZ
from lod.web import create_app
from lod.web.pages import readable_date, readable_number

FIXTURES = Path(__file__).parent / "fixtures"
XSD = "http://www.w3.org/2001/XMLSchema#"
KGST_DE = "Kommunale Gemeinschaftsstelle für Verwaltungsmanagement"
DASH = "\N{EN DASH}"
VITAKO_DE = f"Vitako {DASH} Bundes-Arbeitsgemeinschaft der Kommunalen IT-Dienstleister e.V."
OSS_DE = "Zusammenarbeit zu Open Source Software"
OSS_EN = "Cooperation on open source software"
EVIL = '<script>alert("x")</script> & Co'


# --- a small HTML tree, enough to ask a page what a reader sees ------------------------------


class Element:
    """An element of a parsed page: its tag, attributes and children."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    def text(self) -> str:
        """The text a reader sees, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with the tag and these attribute values (``class_`` for ``class``)."""
        wanted = {name.rstrip("_"): value for name, value in attrs.items()}
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if (tag is None or child.tag == tag) and all(
                        child.attrs.get(name) == value for name, value in wanted.items()):
                    found.append(child)
                found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def section(self, heading: str) -> Element:
        """The <section> whose <h2> reads ``heading`` (ignoring a count after it)."""
        for section in self.find_all("section"):
            h2 = section.find_all("h2")
            if h2 and re.sub(r" \(\d+\)$", "", h2[0].text()) == heading:
                return section
        raise AssertionError(f"no section {heading!r}")

    def definitions(self) -> dict[str, list[Element]]:
        """The <dd>s of a <dl>, by the text of their <dt>."""
        result: dict[str, list[Element]] = {}
        current = None
        for child in self.find("dl").children:
            if isinstance(child, Element) and child.tag == "dt":
                current = result.setdefault(child.text(), [])
            elif isinstance(child, Element) and child.tag == "dd" and current is not None:
                current.append(child)
        return result

    def rows(self) -> list[list[str]]:
        """The body rows of a <table>, as the text of their cells."""
        return [[cell.text() for cell in row.children if isinstance(cell, Element)]
                for row in self.find("tbody").find_all("tr")]


class _TreeBuilder(HTMLParser):
    VOID: ClassVar[set[str]] = {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("#document", {}, None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse_html(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The minimal fixture, built once for this module."""
    directory = tmp_path_factory.mktemp("pages-release")
    build_release(FIXTURES / "minimal", settings=Settings(release_dir=directory), allow_warnings=True)
    yield create_app(Settings(release_dir=directory)).test_client()


def page(client: FlaskClient, path: str, **headers: str) -> Element:
    response = client.get(path, headers={"Accept": "text/html", **headers})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    return parse_html(response.get_data(as_text=True))


# --- memberships both ways --------------------------------------------------------------------


def test_cooperation_lists_its_members_with_roles_and_dates(client: FlaskClient) -> None:
    members = page(client, "/doc/cooperation/oss").section("Mitglieder")
    assert members.find("th", scope="col").text() == "Mitglied"
    rows = members.find("table").rows()
    assert [row[:3] for row in rows] == [
        [KGST_DE, "Partner", "seit Juli 2020"],
        [VITAKO_DE, "Partner", ""],
    ]
    links = {a.text(): a.attrs["href"] for a in members.find_all("a")}
    assert links[KGST_DE] == "/id/organisation/kgst"
    assert links["Partner"] == "/def/membership-role/partner"
    assert {th.attrs.get("scope") for th in members.find_all("th")} == {"col", "row"}


def test_organisation_lists_the_cooperations_it_takes_part_in(client: FlaskClient) -> None:
    memberships = page(client, "/doc/organisation/kgst").section("Mitgliedschaften")
    assert memberships.find("table").rows()[0][:3] == [OSS_DE, "Partner", "seit Juli 2020"]
    assert memberships.find("a").attrs["href"] == "/id/cooperation/oss"


def test_organisation_lists_people_in_its_posts(client: FlaskClient) -> None:
    people = page(client, "/doc/organisation/kgst").section("Personen")
    assert people.find("table").rows()[0][:4] == [
        "Klaus Effing", "Vorstand der KGSt", "Vorstand", "Stand 25. September 2020"]


def test_memberships_are_not_listed_twice(client: FlaskClient) -> None:
    """The membership records are in the table, not again among the references."""
    document = page(client, "/doc/cooperation/oss")
    incoming = document.section("Verweise auf diese Ressource").definitions()
    assert "über „Organisation“" not in incoming
    assert [dd.text() for dd in incoming["über „betrifft“"]] == ["Treffen von KGSt und VITAKO"]


# --- labels rather than IRIs ------------------------------------------------------------------


@pytest.mark.parametrize(("language", "expected"), [
    ("de", {"Mitglied", "Organisation", "Rolle", "Mitgliedschaftszeitraum"}),
    ("en", {"member", "organisation", "role", "member during"}),
])
def test_properties_by_label(client: FlaskClient, language: str, expected: set[str]) -> None:
    document = page(client, f"/doc/membership/oss--kgst?lang={language}")
    terms = {dt.text() for dt in document.find_all("dt")}
    assert expected <= terms
    assert not [t for t in terms if t.startswith("http")]
    visible = document.find("main").text()
    assert "http://www.w3.org/ns/org#member" not in visible
    first = document.find("dt").find("a")
    assert first.attrs["href"].startswith("http://www.w3.org/ns/org#"), "the label links to the term"


def test_title_types_and_other_language(client: FlaskClient) -> None:
    header = page(client, "/doc/cooperation/oss").find("header", class_="resource")
    assert header.find("h1").text() == OSS_DE
    assert header.find("span", lang="en").text() == OSS_EN
    assert header.find("p", class_="types").text() == "Typ: Kooperation"


def test_a_resource_without_a_name_is_named_after_what_it_relates(client: FlaskClient) -> None:
    assert page(client, "/doc/membership/oss--kgst").find("h1").text() == f"{KGST_DE} {DASH} {OSS_DE}"
    statement = page(client, "/doc/statement/kgst-members-2020").find("h1").text()
    assert statement == "Anzahl der Mitglieder: Mehr als 2200 (2020-09-25)"


def test_hash_parts_are_folded_under_their_property(client: FlaskClient) -> None:
    membership = page(client, "/doc/membership/oss--kgst")
    assert [dd.text() for dd in membership.section("Eigenschaften").definitions()[
        "Mitgliedschaftszeitraum"]] == ["seit Juli 2020"]
    assert not [h for h in membership.find_all("h3") if "interval" in h.text()]
    kgst = page(client, "/doc/organisation/kgst").section("Eigenschaften").definitions()
    address = kgst["Hauptsitz"][0].find("span", class_="address")
    assert [line.text() for line in address.find_all("span", class_="line")] == [
        "Gereonstr. 18-32", "50670 Köln", "DE"]


def test_dates_are_readable_and_machine_readable(client: FlaskClient) -> None:
    document = page(client, "/doc/cooperation/oss")
    founded = document.section("Eigenschaften").definitions()["gegründet"][0]
    assert founded.text() == "Juli 2020"
    assert founded.find("time").attrs["datetime"] == "2020-07"


@pytest.mark.parametrize(("language", "shown"), [("de", "2.200"), ("en", "2,200")])
def test_numbers_are_written_as_the_page_language_writes_them(client: FlaskClient, language: str,
                                                              shown: str) -> None:
    value = page(client, f"/doc/statement/kgst-members-2020?lang={language}").find("data")
    assert value.text() == shown and value.attrs["value"] == "2200"


def test_sources_with_title_and_date(client: FlaskClient) -> None:
    sources = page(client, "/doc/organisation/dresden").section("Quellen").find_all("li")
    assert [li.text() for li in sources] == [
        "Austausch mit neuem KGSt-Vorstand (25. September 2020)", "Gemeindeverzeichnis (2024)"]
    assert sources[0].find("a").attrs["href"] == "/id/source/press-2020"
    assert sources[0].find("time").attrs["datetime"] == "2020-09-25"


def test_external_links_and_local_links(client: FlaskClient) -> None:
    properties = page(client, "/doc/organisation/dresden").section("Eigenschaften").definitions()
    assert properties["identisch mit"][0].find("a").attrs["href"] == "http://www.wikidata.org/entity/Q1731"
    assert properties["Art"][0].find("a").attrs["href"] == "/def/organisation-kind/municipality"
    assert properties["untergeordnete Organisation"][0].find("a").attrs["href"] == "/id/organisation/eb-it"


def test_vocabulary_pages(client: FlaskClient) -> None:
    topic = page(client, "/doc/def/topic/open-source")
    assert topic.find("h1").text() == "Open Source"
    incoming = topic.section("Verweise auf diese Ressource").definitions()
    assert [dd.text() for dd in incoming["über „Thema“"]] == [OSS_DE]
    assert page(client, "/doc/def").find("h1").text() == "Vokabular für interkommunale Kooperationen"


# --- languages --------------------------------------------------------------------------------


def test_german_by_default_with_other_languages_marked(client: FlaskClient) -> None:
    document = page(client, "/doc/organisation/kgst")
    assert document.find("html").attrs["lang"] == "de"
    assert document.find("h2").text() == "Eigenschaften"
    other = page(client, "/doc/cooperation/oss").find("p", class_="other-label")
    assert other.text() == f"Englisch: {OSS_EN}"
    assert other.find("span").attrs["lang"] == "en"


def test_lang_parameter_switches_to_english(client: FlaskClient) -> None:
    document = page(client, "/doc/cooperation/oss?lang=en")
    assert document.find("html").attrs["lang"] == "en"
    assert document.find("h1").text() == OSS_EN
    headings = [h2.text() for h2 in document.find_all("h2")]
    assert headings[:2] == ["Properties", "Members (2)"]
    assert document.find("header", class_="resource").find("span", lang="de").text() == OSS_DE
    assert document.find("a", hreflang="en").attrs.get("aria-current") == "page"
    # The German-only title of a source keeps its language on an English page.
    source = document.section("Sources").find("a")
    assert source.attrs["lang"] == "de"


def test_accept_language_chooses_and_the_parameter_wins(client: FlaskClient) -> None:
    english = page(client, "/doc/cooperation/oss", **{"Accept-Language": "en-GB,en;q=0.9"})
    assert english.find("html").attrs["lang"] == "en"
    german = page(client, "/doc/cooperation/oss?lang=de", **{"Accept-Language": "en"})
    assert german.find("html").attrs["lang"] == "de"


# --- alternatives, errors, safety -------------------------------------------------------------


def test_alternates_are_linked_and_answer(client: FlaskClient) -> None:
    document = page(client, "/doc/organisation/kgst")
    alternates = {link.attrs["type"]: link.attrs["href"]
                  for link in document.find_all("link", rel="alternate")}
    assert alternates == {
        "text/turtle": "/doc/organisation/kgst.ttl",
        "application/ld+json": "/doc/organisation/kgst.jsonld",
        "application/n-triples": "/doc/organisation/kgst.nt",
        "application/rdf+xml": "/doc/organisation/kgst.rdf",
    }
    listed = {a.attrs["href"] for a in document.section("Maschinenlesbar").find_all("a")}
    assert listed == set(alternates.values())
    for media_type, href in alternates.items():
        response = client.get(href)
        assert response.status_code == 200 and response.mimetype == media_type


@pytest.mark.parametrize("path", [
    "/doc/organisation/no-such-thing", "/id/organisation/no-such-thing", "/doc/def/topic/no-such-topic",
])
def test_unknown_resources_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path, headers={"Accept": "text/html"}).status_code == 404


def scripts_are_only_our_own_files(document: Element) -> bool:
    """A page may load our scripts (search suggestions), never run one written into it."""
    return all(s.attrs.get("src", "").startswith("/static/") and not s.text()
               for s in document.find_all("script"))


def test_pages_run_no_inline_script_and_have_no_inline_style(client: FlaskClient) -> None:
    for path in ("/doc/organisation/kgst", "/doc/cooperation/oss", "/doc/membership/oss--kgst", "/changes"):
        document = page(client, path)
        assert scripts_are_only_our_own_files(document)
        assert not [e for e in document.find_all() if "style" in e.attrs or e.tag == "style"]
        assert document.find("main").attrs["id"] == "main"
        assert len(document.find_all("h1")) == 1


@pytest.fixture(scope="module")
def evil_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The minimal fixture with markup in an organisation's name."""
    data = tmp_path_factory.mktemp("evil") / "data"
    shutil.copytree(FIXTURES / "minimal", data)
    organisations = data / "organisations.csv"
    text = organisations.read_text(encoding="utf-8")
    organisations.write_text(text.replace(f"kgst,association,{KGST_DE},",
                                          f'kgst,association,"{EVIL.replace(chr(34), chr(34) * 2)}",'),
                             encoding="utf-8")
    directory = tmp_path_factory.mktemp("evil-release")
    build_release(data, settings=Settings(release_dir=directory), allow_warnings=True)
    yield create_app(Settings(release_dir=directory)).test_client()


@pytest.mark.parametrize("path", ["/doc/organisation/kgst", "/doc/cooperation/oss",
                                  "/doc/membership/oss--kgst"])
def test_labels_are_escaped(evil_client: FlaskClient, path: str) -> None:
    body = evil_client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<script>" not in body
    assert "&lt;script&gt;alert(" in body
    document = parse_html(body)
    assert scripts_are_only_our_own_files(document)
    assert EVIL in document.find("main").text()


# --- the pieces -------------------------------------------------------------------------------


def test_display_labels_only_label_other_vocabularies_terms() -> None:
    """ontology/labels.ttl names external terms in German and English and says nothing else."""
    graph = Graph().parse(Path(__file__).parent.parent / "ontology" / "labels.ttl")
    assert set(graph.predicates()) == {RDFS.label}
    for term in set(graph.subjects()):
        assert not str(term).startswith(str(IKZ)), f"{term} is ours; label it in ikz.ttl"
        labels = list(graph.objects(term, RDFS.label))
        languages = sorted(label.language for label in labels if isinstance(label, Literal))
        assert languages == ["de", "en"] and len(labels) == 2, term


@pytest.mark.parametrize(("value", "datatype", "language", "expected"), [
    ("2014", f"{XSD}gYear", "de", "2014"),
    ("2016-09", f"{XSD}gYearMonth", "de", "September 2016"),
    ("2016-03", f"{XSD}gYearMonth", "en", "March 2016"),
    ("2014-01-24", f"{XSD}date", "de", "24. Januar 2014"),
    ("2014-01-24", f"{XSD}date", "en", "24 January 2014"),
    ("2014-13-01", f"{XSD}date", "de", "2014-13-01"),
    ("2014-00-01", f"{XSD}date", "en", "2014-00-01"),
    ("-0044", f"{XSD}gYear", "de", "-0044"),
    ("soon", None, "de", "soon"),
])
def test_readable_date(value: str, datatype: str | None, language: str, expected: str) -> None:
    assert readable_date(value, datatype, language) == expected


@pytest.mark.parametrize(("value", "datatype", "language", "expected"), [
    ("80000000", f"{XSD}integer", "de", "80.000.000"),
    ("80000000", f"{XSD}nonNegativeInteger", "en", "80,000,000"),
    ("-1234.50", f"{XSD}decimal", "de", "-1.234,50"),
    ("+7", f"{XSD}int", "en", "7"),
    ("1.0E3", f"{XSD}double", "de", "1.0E3"),
    ("05358008", f"{XSD}string", "de", "05358008"),
    ("12 Äpfel", f"{XSD}integer", "de", "12 Äpfel"),
])
def test_readable_number(value: str, datatype: str, language: str, expected: str) -> None:
    assert readable_number(value, datatype, language) == expected


@pytest.mark.parametrize("iri", [
    "https://w3id.org/lod-ikz/id/x> } ; DROP ALL ; #",
    'https://w3id.org/lod-ikz/id/x"', "https://w3id.org/lod-ikz/id/a b", "",
])
def test_iri_ref_refuses_what_could_change_a_query(iri: str) -> None:
    with pytest.raises(ValueError, match="not an IRI"):
        iri_ref(iri)
