"""Narrowing on a real `lod serve` (its query processes read the text index and the ranks from
their store): searches by name in any case, and the newest of a window (ORDER BY … LIMIT), answer
as the store answers them unnarrowed, and the log of plans shows that the engine ran them narrowed."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from lod.release.publish import build_release
from lod.remote.client import Endpoint
from lod.settings import Settings

from .conftest import serving_with_plans_logged
from .generated import generated_data

SEARCH = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?o ?name WHERE {{ ?o skos:prefLabel ?name . FILTER({test}) }}"""


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("narrowed")
    data = generated_data(folder / "data", scale=0.05)  # 2,500 labels: enough to narrow
    build_release(data, settings=Settings(release_dir=folder / "release"), allow_warnings=True)
    return folder / "release"


def _texts(store: ox.Store) -> list[str]:
    """Parts of some labels of the store, in other cases: a search a reader might type."""
    labels = [row["n"].value for row in store.query(  # type: ignore[union-attr]
        "SELECT ?n WHERE { ?o <http://www.w3.org/2004/02/skos/core#prefLabel> ?n } ORDER BY ?n LIMIT 400")]
    parts = [part for label in labels[::40] if len(part := label.split()[-1][1:5]) == 4][:5]
    return ["".join(c.upper() if c.isascii() else c for c in part) for part in parts]  # ß stays ß


def test_a_served_search_by_name_is_narrowed_and_answers_the_same(release: Path, tmp_path: Path) -> None:
    store = ox.Store.read_only(str(release / "current" / "store"))
    tests = [f'REGEX(?name, "{text}", "i")' for text in _texts(store)]
    tests += [f'CONTAINS(LCASE(?name), "{text.lower()}")' for text in _texts(store)]
    assert len(tests) == 10
    log = tmp_path / "serve.log"
    with serving_with_plans_logged(release, log) as url:
        endpoint = Endpoint(f"{url}sparql", timeout=60)
        for test in tests:
            query = SEARCH.format(test=test)
            served = [(str(row["o"]), str(row["name"]), getattr(row["name"], "language", None))
                      for row in endpoint.select(query)]
            expected = [(row["o"].value, row["name"].value, row["name"].language)  # type: ignore[union-attr]
                        for row in store.query(query)]
            assert sorted(served) == sorted(expected), test
            assert expected, f"{test} finds nothing: the test would prove little"
    runs = [line for line in log.read_text().splitlines() if "the engine runs:" in line]
    assert len([line for line in runs if "VALUES" in line]) == len(tests), log.read_text()[-2000:]


NEWEST = """PREFIX schema: <https://schema.org/>
SELECT ?c ?founded WHERE {{ ?c schema:foundingDate ?date . BIND(STR(?date) AS ?founded)
  FILTER(?founded >= "{first}" && ?founded < "{end}") }} ORDER BY DESC(?founded) ?c LIMIT 10"""


def test_a_served_top_k_runs_narrowed_and_answers_the_same(release: Path, tmp_path: Path) -> None:
    store = ox.Store.read_only(str(release / "current" / "store"))
    windows = [("2000", "2005"), ("2010-03", "2012"), ("1900", "2100")]
    log = tmp_path / "serve.log"
    with serving_with_plans_logged(release, log) as url:
        endpoint = Endpoint(f"{url}sparql", timeout=60)
        for first, end in windows:
            query = NEWEST.format(first=first, end=end)
            served = [(str(row["c"]), str(row["founded"])) for row in endpoint.select(query)]
            expected = [(row["c"].value, row["founded"].value)  # type: ignore[union-attr]
                        for row in store.query(query)]
            assert served == expected and len(expected) == 10, (first, end)
    runs = [line for line in log.read_text().splitlines() if "the engine runs:" in line]
    assert len([line for line in runs if "VALUES" in line]) == len(windows), log.read_text()[-2000:]
