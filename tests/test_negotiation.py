"""Content negotiation: one table of Accept headers, and a property that it never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lod.formats import RdfFormat
from lod.negotiation import MediaRange, negotiate, parse_accept

JSON = "application/sparql-results+json"
XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
RESULTS = [JSON, XML, CSV, TSV]  # the server's order of preference for SELECT results
HTML = "text/html"
PAGE = [HTML, *(fmt.media_type for fmt in RdfFormat)]  # a resource page: HTML first, then RDF

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
# What SPARQLWrapper 2.0 sends (Wrapper._getAcceptHeader) for SELECT/ASK per return format,
# and for CONSTRUCT/DESCRIBE with TURTLE.
SPARQLWRAPPER_JSON = "application/sparql-results+json,application/json,text/javascript,application/javascript"
SPARQLWRAPPER_XML = "application/sparql-results+xml"
SPARQLWRAPPER_CSV = "text/csv"
SPARQLWRAPPER_TSV = "text/tab-separated-values"
SPARQLWRAPPER_TURTLE = "application/turtle,text/turtle"
# java.net.HttpURLConnection's default, with its malformed "*" range and a q without leading 0.
JAVA = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"


@pytest.mark.parametrize(
    ("accept", "offered", "expected"),
    [
        # No preference: the server's first choice.
        pytest.param(None, RESULTS, JSON, id="no-header"),
        pytest.param("", RESULTS, JSON, id="empty-header"),
        pytest.param("  ", RESULTS, JSON, id="blank-header"),
        pytest.param("*/*", RESULTS, JSON, id="curl"),
        # Exact types, case-insensitively, answered in the server's spelling.
        pytest.param("text/csv", RESULTS, CSV, id="exact"),
        pytest.param("Text/CSV", RESULTS, CSV, id="case-insensitive"),
        pytest.param(CSV, ["Text/CSV; charset=utf-8"], "Text/CSV; charset=utf-8", id="offered-as-spelt"),
        # q-values.
        pytest.param(f"{CSV};q=0.5, {XML}", RESULTS, XML, id="higher-q-wins"),
        pytest.param(f"{CSV};q=0.5, {XML};Q=0.4", RESULTS, CSV, id="q-name-case"),
        pytest.param(f"{TSV};q=0.001, {CSV};q=0.002", RESULTS, CSV, id="small-q"),
        # Wildcards and specificity.
        pytest.param("text/*", RESULTS, CSV, id="type-wildcard-server-order"),
        pytest.param(f"text/*, {TSV}", RESULTS, TSV, id="specific-beats-wildcard-on-tie"),
        pytest.param(f"*/*, {XML}", RESULTS, XML, id="specific-beats-any-on-tie"),
        pytest.param(f"text/*;q=0.5, {CSV};q=0", RESULTS, TSV, id="specific-q0-overrides-wildcard"),
        pytest.param(f"*/*;q=0.1, {JSON};q=0", RESULTS, XML, id="q0-excludes-from-any"),
        pytest.param(f"{CSV};charset=utf-8;q=0.9, {TSV};q=0.9", RESULTS, CSV, id="params-add-specificity"),
        pytest.param(f"{CSV};charset=utf-8", RESULTS, CSV, id="params-not-compared"),
        # Ties go to the server's order.
        pytest.param(f"{CSV}, {JSON}", RESULTS, JSON, id="tie-server-order"),
        pytest.param(f"{TSV};q=0.7, {CSV};q=0.7", RESULTS, CSV, id="tie-server-order-q"),
        # Nothing acceptable: the caller answers 406.
        pytest.param(f"{JSON};q=0", RESULTS, None, id="only-q0"),
        pytest.param("image/png", RESULTS, None, id="unoffered"),
        pytest.param("text/*", [JSON, XML], None, id="wildcard-matches-nothing"),
        # Malformed parts are skipped, not fatal.
        pytest.param(f"{CSV};q=abc, {TSV}", RESULTS, TSV, id="bad-q-dropped"),
        pytest.param(f"{CSV};q=1.5, {TSV};q=0.5", RESULTS, TSV, id="q-above-1-dropped"),
        pytest.param(f"textcsv, {XML}", RESULTS, XML, id="missing-slash-dropped"),
        pytest.param(f"*/csv, {XML};q=0.1", RESULTS, XML, id="wildcard-type-concrete-subtype-dropped"),
        pytest.param(f'{CSV};x="a,b";q=0.2, {XML};q=0.5', RESULTS, XML, id="comma-in-quoted-param"),
        pytest.param(f"{CSV};;q=0.2,, ,{XML};q=0.5", RESULTS, XML, id="empty-elements"),
        pytest.param(f"{CSV};level, {XML};q=0.5", RESULTS, CSV, id="param-without-value-ignored"),
        pytest.param("garbage", RESULTS, JSON, id="nothing-parses-means-no-header"),
        # Parsing is linear: a backtracking pattern took seconds on this (40 kB, unbalanced quotes).
        pytest.param('"\\' * 20_000, RESULTS, JSON, id="hostile-quotes"),
        pytest.param(f'{XML};x="' * 5_000, RESULTS, XML, id="hostile-unterminated-params"),
        pytest.param(f"{CSV};q=abc", RESULTS, JSON, id="only-range-malformed"),
        # Real clients.
        pytest.param(FIREFOX, PAGE, HTML, id="firefox-page"),
        pytest.param(CHROME, list(reversed(PAGE)), HTML, id="chrome-page-html-last"),
        pytest.param(FIREFOX, RESULTS, JSON, id="firefox-results-any"),
        pytest.param(FIREFOX, [XML, "application/rdf+xml"], XML, id="firefox-no-html"),
        pytest.param(SPARQLWRAPPER_JSON, RESULTS, JSON, id="sparqlwrapper-json"),
        pytest.param(SPARQLWRAPPER_JSON, list(reversed(RESULTS)), JSON, id="sparqlwrapper-json-rev"),
        pytest.param(SPARQLWRAPPER_XML, RESULTS, XML, id="sparqlwrapper-xml"),
        pytest.param(SPARQLWRAPPER_CSV, RESULTS, CSV, id="sparqlwrapper-csv"),
        pytest.param(SPARQLWRAPPER_TSV, RESULTS, TSV, id="sparqlwrapper-tsv"),
        pytest.param(SPARQLWRAPPER_TURTLE, PAGE, "text/turtle", id="sparqlwrapper-turtle"),
        pytest.param(JAVA, RESULTS, JSON, id="java-urlconnection"),
        pytest.param(JAVA, PAGE, HTML, id="java-urlconnection-page"),
    ],
)
def test_negotiate(accept: str | None, offered: list[str], expected: str | None) -> None:
    assert negotiate(accept, offered) == expected


@pytest.mark.parametrize("accept", [None, "", "*/*;q=0.8, garbage"])
def test_default_applies_only_without_a_usable_header(accept: str | None) -> None:
    expected = CSV if not accept else JSON
    assert negotiate(accept, RESULTS, default=CSV) == expected


def test_default_must_be_offered() -> None:
    with pytest.raises(ValueError, match="not one of the offered"):
        negotiate(None, RESULTS, default=HTML)


def test_nothing_offered() -> None:
    assert negotiate(None, []) is None
    assert negotiate("*/*", []) is None


def test_parse_accept() -> None:
    assert parse_accept(' Text/HTML ;Level=1; q=0.5 , */*;q=.2, bad, a/b;q=x, c/d;name="x\\"y"') == [
        MediaRange("text", "html", 0.5, (("level", "1"),)),
        MediaRange("*", "*", 0.2),
        MediaRange("c", "d", 1.0, (("name", 'x"y'),)),
    ]


def test_specificity_and_matching() -> None:
    ranges = parse_accept("*/*, text/*, text/csv, text/csv;charset=utf-8")
    assert [r.specificity for r in ranges] == [1, 2, 3, 4]
    assert [r.matches("TEXT/CSV; charset=utf-8") for r in ranges] == [True, True, True, True]
    assert [r.matches("application/json") for r in ranges] == [True, False, False, False]


_PIECES = st.sampled_from(
    ["text", "/", "*", "csv", "html", "application", "sparql-results+json", ";", "q", "=", "0", "1", ".",
     "5", ",", " ", '"', "\\", "abc", "level=1", "\t", "é", "-1", "1e3", "nan"]
)
_HEADERS = st.one_of(st.text(), st.lists(_PIECES, max_size=30).map("".join))
_MEDIA_TYPES = st.sampled_from([*RESULTS, *PAGE, "TEXT/Csv", "application/json"])


@given(accept=st.one_of(st.none(), _HEADERS), offered=st.lists(_MEDIA_TYPES, max_size=6))
def test_negotiate_never_raises_and_picks_an_offered_type(accept: str | None, offered: list[str]) -> None:
    result = negotiate(accept, offered)
    assert result is None or result in offered
    for media_range in parse_accept(accept or ""):
        assert 0.0 <= media_range.q <= 1.0
