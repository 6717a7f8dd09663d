"""The lists, facets and search of the browse index, checked against SPARQL on the same data.

The index is built from generated data (the benchmark's generator, a few hundred organisations and
cooperations) exactly as a release builds it; every count the pages show is compared with a
SPARQL query over the same store, written independently of the index's code.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from lod.browse.folding import sort_key, transliterated, without_marks
from lod.browse.index import FACETS, ORDERS, build_index
from lod.browse.lists import SORTS, BrowseIndex, IndexMissing, ListRequest
from lod.browse.search import count, search
from lod.vocab import QUERY_PREFIXES

from .generated import generated_data, store_of

PREFIXES = "".join(f"PREFIX {name}: <{namespace}>\n" for name, namespace in QUERY_PREFIXES.items())
COOPERATIONS = "?c a org:OrganizationalCollaboration . FILTER NOT EXISTS { ?c a org:Organization }"
KEY = "(ikz:ags|ikz:ars|ikz:kreisschluessel)"
LAND_OF_ORGANISATION = f"""
    {{ ?o {KEY} ?key }}
    UNION {{ FILTER NOT EXISTS {{ ?o {KEY} ?own }} ?o schema:containedInPlace/{KEY} ?key }}
    BIND (SUBSTR(?key, 1, 2) AS ?land)"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[ox.Store, BrowseIndex]:
    folder = tmp_path_factory.mktemp("browse")
    store = store_of(generated_data(folder / "data", scale=0.02))
    build_index(store, folder)
    return store, BrowseIndex(folder)


def sparql_counts(store: ox.Store, pattern: str) -> dict[str, int]:
    """``?value`` → how many distinct ``?c`` the pattern finds with it."""
    query = f"{PREFIXES}SELECT ?value (COUNT(DISTINCT ?c) AS ?n) WHERE {{ {pattern} }} GROUP BY ?value"
    found = {}
    for row in store.query(query):  # type: ignore[union-attr]
        value = row["value"]
        found[value.value] = int(row["n"].value)
    return found


def facet_counts(index: BrowseIndex, request: ListRequest, facet: str) -> dict[str, int]:
    page = index.read(request, language="de")
    [found] = [f for f in page.facets if f.name == facet]
    return {v.value: v.count for v in found.values}


PATTERNS = {
    "kind": f"{COOPERATIONS} ?c org:classification ?value",
    "topic": f"{COOPERATIONS} ?c dcterms:subject ?value",
    "status": f"{COOPERATIONS} ?c adms:status ?value",
    "year": f"{COOPERATIONS} ?c schema:foundingDate ?date BIND (SUBSTR(STR(?date), 1, 4) AS ?value)",
    "land": f"{COOPERATIONS} ?m org:organization ?c ; org:member ?o . {LAND_OF_ORGANISATION} "
            "BIND (?land AS ?value)",
}


@pytest.mark.parametrize("facet", FACETS["cooperations"])
def test_the_facet_counts_of_the_cooperations_are_those_sparql_counts(
        generated: tuple[ox.Store, BrowseIndex], facet: str) -> None:
    store, index = generated
    expected = sparql_counts(store, PATTERNS[facet])
    assert len(expected) > 1, "the generated data should spread over several values"
    assert facet_counts(index, ListRequest("cooperations", {}), facet) == expected


def test_the_organisations_of_a_land_are_those_whose_keys_say_so(
        generated: tuple[ox.Store, BrowseIndex]) -> None:
    store, index = generated
    expected = sparql_counts(store, f"?c a org:Organization . BIND (?c AS ?o) {LAND_OF_ORGANISATION} "
                                    "BIND (?land AS ?value)")
    assert facet_counts(index, ListRequest("organisations", {}), "land") == expected


def test_filters_combine_or_within_a_facet_and_across_facets(generated: tuple[ox.Store, BrowseIndex]) -> None:
    store, index = generated
    lands = sorted(facet_counts(index, ListRequest("cooperations", {}), "land"))[:2]
    topics = facet_counts(index, ListRequest("cooperations", {}), "topic")
    topic = max(topics, key=topics.__getitem__)
    values = " ".join(f'"{land}"' for land in lands)
    expected = sparql_counts(store, f"{COOPERATIONS} ?c dcterms:subject <{topic}> . ?m org:organization ?c ; "
                                    f"org:member ?o . {LAND_OF_ORGANISATION} VALUES ?land {{ {values} }} "
                                    "BIND (1 AS ?value)")
    request = ListRequest("cooperations", {"land": frozenset(lands), "topic": frozenset({topic})})
    page = index.read(request, language="de")
    assert page.total == expected["1"] > 0
    # A facet's counts leave out its own choice: the Länder are counted as if none were chosen.
    alone = ListRequest("cooperations", {"topic": frozenset({topic})})
    assert facet_counts(index, request, "land") == facet_counts(index, alone, "land")
    assert [v.value for f in page.facets if f.name == "land" for v in f.values if v.chosen] == sorted(
        lands, key=lambda land: (-facet_counts(index, alone, "land")[land], land))


@pytest.mark.parametrize("sort", SORTS)
def test_the_pages_in_each_order_hold_every_record_once(generated: tuple[ox.Store, BrowseIndex],
                                                         sort: str) -> None:
    _, index = generated
    everything = list(index.all_rows(ListRequest("cooperations", {}, sort=sort), language="de"))
    paged = []
    for number in range(1, 1000):
        page = index.read(ListRequest("cooperations", {}, sort=sort, page=number, size=7), language="de")
        if not page.rows:
            break
        paged.extend(page.rows)
    assert paged == everything
    assert len({row.iri for row in everything}) == len(everything) == page.total
    if sort == "name":
        assert [sort_key(r.label) for r in everything] == sorted(sort_key(r.label) for r in everything)
    elif sort in ("newest", "oldest"):
        years = [r.year for r in everything if r.year is not None]
        assert years == sorted(years, reverse=sort == "newest")
        assert all(r.year is None for r in everything[len(years):])
    else:
        assert [r.size for r in everything] == sorted((r.size for r in everything), reverse=True)


def test_a_page_past_the_end_is_empty(generated: tuple[ox.Store, BrowseIndex]) -> None:
    _, index = generated
    page = index.read(ListRequest("organisations", {}, page=10_000), language="en")
    assert page.rows == () and page.total > 0


def test_the_words_of_a_list_filter_it(generated: tuple[ox.Store, BrowseIndex]) -> None:
    _, index = generated
    first = index.read(ListRequest("organisations", {}, size=1), language="de").rows[0]
    word = first.label.split()[0]
    found = list(index.all_rows(ListRequest("organisations", {}, words=word), language="de"))
    assert first in found
    assert all(without_marks(word) in without_marks(r.label) for r in found)


def umlaut_name(index: BrowseIndex) -> str:
    for row in index.all_rows(ListRequest("organisations", {}), language="de"):
        if any(c in row.label for c in "äöüÄÖÜß") and len(row.label.split()) == 1:
            return row.label
    pytest.fail("the generated data has no name with an umlaut")


def test_search_finds_a_name_however_its_umlauts_are_typed(generated: tuple[ox.Store, BrowseIndex]) -> None:
    _, index = generated
    name = umlaut_name(index)
    for typed in (name, name.lower(), name.upper(), transliterated(name), without_marks(name),
                  transliterated(name)[:6], name[:5]):
        hits = search(index, typed, language="de", limit=50)
        assert name in [hit.label for hit in hits], typed
    assert search(index, name, language="de", limit=1)[0].label == name  # the exact name ranks first


def test_search_finds_a_municipality_by_its_official_key(generated: tuple[ox.Store, BrowseIndex]) -> None:
    store, index = generated
    [row] = list(store.query(f"{PREFIXES}SELECT ?o ?ags WHERE {{ ?o ikz:ags ?ags }} LIMIT 1"))  # type: ignore[union-attr]
    iri, ags = row["o"].value, row["ags"].value
    assert search(index, ags, language="de", limit=1)[0].iri == iri
    assert iri in {hit.iri for hit in search(index, ags[:5], language="de", limit=500)}
    assert count(index, ags[:5]) == len(search(index, ags[:5], language="de", limit=10_000))


def test_search_tells_the_list_kind_and_land_of_each_hit(generated: tuple[ox.Store, BrowseIndex]) -> None:
    _, index = generated
    name = umlaut_name(index)
    [hit] = [h for h in search(index, name, language="en", limit=50) if h.label == name]
    assert hit.list == "organisations" and hit.kind is not None and hit.lands
    assert index.label(hit.lands[0], "en") != hit.lands[0]  # a Land's name, not its key


def test_a_query_without_words_finds_nothing(generated: tuple[ox.Store, BrowseIndex]) -> None:
    _, index = generated
    assert search(index, " \N{EN DASH} ", language="de") == [] and count(index, '"*') == 0


def test_every_order_has_a_bitmap_of_the_whole_list(generated: tuple[ox.Store, BrowseIndex]) -> None:
    _, index = generated
    for list_name in FACETS:
        totals = {index.masks(list_name, order)[("", "")].bit_count() for order in ORDERS}
        assert len(totals) == 1


def test_a_release_without_an_index_is_said_to_have_none(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match="keinen Index"):
        BrowseIndex(tmp_path)
