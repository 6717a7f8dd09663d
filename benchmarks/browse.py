"""How fast the lists, facets and search answer (issue #15), against a light SPARQL query on the
same data in the same run.

    python benchmarks/browse.py --scales 1 10

For each scale: the generated data is mapped into a store in memory as a build maps it, the browse
index is built from it (time and the index's size printed), and then a mix of requests is timed,
each request with other parameters than the one before: a list's first page with its facet counts,
one and two facets chosen, a deep page, another order, words within a list, a typeahead search and
a whole filtered list read for a CSV download. The baseline is a light query, a lookup of one
record's name by SPARQL on the same store (pyoxigraph, in this process). Times are per request,
median and 99th percentile; the ratio is the median against the lookup's median. The facet counts
of a filtered list are kept per process (``COUNTS_KEPT``): each list request is timed with the
counts computed afresh, and the first page also as a second visitor gets it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from generate import store_of

from lod.browse.index import INDEX_FILE, build_index
from lod.browse.lists import BrowseIndex, ListRequest
from lod.browse.search import search

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 300


def timed(make: Callable[[int], Callable[[], object]], count: int = REQUESTS) -> list[float]:
    """Milliseconds of ``count`` requests, the i-th made by ``make(i)`` (outside the clock)."""
    times = []
    for number in range(count):
        request = make(number)
        start = time.perf_counter()
        request()
        times.append((time.perf_counter() - start) * 1000)
    return times


def mix(store: ox.Store, index: BrowseIndex, keeping: BrowseIndex,
        ) -> dict[str, Callable[[int], Callable[[], object]]]:
    pick = random.Random(7)
    iris = [str(r["s"].value) for r in store.query(  # type: ignore[union-attr]
        "SELECT ?s WHERE { ?s a <http://www.w3.org/ns/org#Organization> }")]
    first = index.read(ListRequest("cooperations", {}, size=0), language="de")
    values = {facet.name: [v.value for v in facet.values] for facet in first.facets}
    names = [row.label for row in index.all_rows(ListRequest("organisations", {}), language="de")]

    def lookup(_: int) -> Callable[[], object]:
        iri = pick.choice(iris)
        query = f"SELECT ?name WHERE {{ <{iri}> <http://www.w3.org/2004/02/skos/core#prefLabel> ?name }}"
        return lambda: list(store.query(query))  # type: ignore[arg-type]

    def listing(make: Callable[[], ListRequest], *, reader: BrowseIndex = index,
                ) -> Callable[[int], Callable[[], object]]:
        def request(_: int) -> Callable[[], object]:
            chosen = make()
            return lambda: reader.read(chosen, language=pick.choice(("de", "en")))
        return request

    def one() -> ListRequest:
        return ListRequest("cooperations", {"land": frozenset({pick.choice(values["land"])})},
                           sort=pick.choice(("name", "newest")))

    def two() -> ListRequest:
        return ListRequest("cooperations", {"land": frozenset(pick.sample(values["land"], 2)),
                                            "topic": frozenset({pick.choice(values["topic"])})})

    def deep() -> ListRequest:
        return ListRequest("organisations", {}, page=pick.randrange(1, max(2, len(names) // 50)))

    def words() -> ListRequest:
        return ListRequest("organisations", {}, words=pick.choice(names)[:4])

    def typeahead(_: int) -> Callable[[], object]:
        typed = pick.choice(names)[:pick.randrange(2, 7)]
        return lambda: search(index, typed, language="de", limit=8)

    def download(_: int) -> Callable[[], object]:
        chosen = one()
        return lambda: sum(1 for _ in index.all_rows(chosen, language="de"))

    def first_page() -> ListRequest:
        return ListRequest(pick.choice(("organisations", "cooperations")), {})

    return {"lookup (SPARQL, baseline)": lookup, "first page and facets": listing(first_page),
            "first page, counts kept": listing(first_page, reader=keeping),
            "one facet chosen": listing(one), "two facets chosen": listing(two), "deep page": listing(deep),
            "words in a list": listing(words), "typeahead search": typeahead,
            "whole filtered list (CSV)": download}


def measure(scale: float, folder: Path) -> None:
    data = folder / f"data-{scale}"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--scale", str(scale),
                    "--out", str(data)], check=True, capture_output=True)
    started = time.perf_counter()
    store = store_of(data)
    mapped = time.perf_counter() - started
    started = time.perf_counter()
    records = build_index(store, folder)
    built = time.perf_counter() - started
    size = (folder / INDEX_FILE).stat().st_size
    print(f"\nscale {scale}: {len(store):,} triples mapped in {mapped:.1f} s; index of {records:,} records "
          f"built in {built:.1f} s, {size / 2**20:.1f} MiB")
    index, keeping = BrowseIndex(folder, counts_kept=0), BrowseIndex(folder)
    for reader in (index, keeping):  # bitmaps are read once per process
        for name in ("cooperations", "organisations"):
            reader.read(ListRequest(name, {}), language="de")
    results = {name: timed(make, REQUESTS // 10 if "CSV" in name else REQUESTS)
               for name, make in mix(store, index, keeping).items()}
    baseline = statistics.median(results["lookup (SPARQL, baseline)"])
    print("| request | median ms | p99 ms | median / lookup |\n|---|---|---|---|")
    for name, times in results.items():
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"| {name} | {statistics.median(times):.2f} | {p99:.2f} | "
              f"{statistics.median(times) / baseline:.1f}\N{MULTIPLICATION SIGN} |")
    index.close()
    keeping.close()
    (folder / INDEX_FILE).unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for scale in arguments.scales:
            measure(scale, Path(folder))


if __name__ == "__main__":
    main()
