"""What reading a query costs: lod.sparql's parse and canonical serialisation, per query.

The queries are those of the benchmark mix (benchmarks/queries.py, with fixed parameter values),
a typical portal query of the kind the server sees most (prefixes, five triple patterns, two
OPTIONALs, a FILTER, ORDER BY, LIMIT), and a VALUES block of 3,000 rows as federation engines
send. For scale, the last column is pyoxigraph answering the canonical text on an empty store
(its own parse, optimisation and an evaluation that finds nothing).

    python benchmarks/parse.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pyoxigraph import QueryBoolean, Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import queries  # a sibling script, imported as benchmarks/run.py does

from lod.sparql import parse_query, serialize

VALUES = {"ags": "09162000", "cooperation": "https://w3id.org/lod-ikz/cooperation/1",
          "organisation": "https://w3id.org/lod-ikz/organisation/1", "member": "https://w3id.org/lod-ikz/org/2",
          "kind": "https://w3id.org/lod-ikz/def/kind/zweckverband", "year": "2000", "land": "09",
          "text": "wasser", "first": "1990", "end": "2000", "order": "?name", "limit": "20", "offset": "40"}

PORTAL = """\
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX schema: <https://schema.org/>
SELECT ?org ?name ?kind ?site ?homepage ?founded WHERE {
  ?org a org:Organization ;
       skos:prefLabel ?name ;
       org:classification ?k .
  ?k skos:prefLabel ?kind .
  ?org org:hasSite ?site .
  OPTIONAL { ?org foaf:homepage ?homepage }
  OPTIONAL { ?org schema:foundingDate ?founded }
  FILTER(LANG(?name) = "de" && CONTAINS(LCASE(?name), "wasser"))
}
ORDER BY ?name
LIMIT 50"""

VALUES_BLOCK = ("SELECT ?s ?name WHERE {\n  VALUES (?s ?label) {\n"
                + "".join(f'    (<https://w3id.org/lod-ikz/org/{i}> "Gemeinde {i}")\n' for i in range(3000))
                + "  }\n  ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?name .\n}")


def best(function: Callable[[], object], *, repeat: int, budget: float = 0.2) -> float:
    """The best time of one call, in microseconds, over ``repeat`` rounds of about ``budget`` s."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        if time.perf_counter() - start >= budget / 10 or calls > 1_000_000:
            break
        calls *= 2
    calls = max(1, int(calls * budget / max(time.perf_counter() - start, 1e-9) / 10))
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        rounds.append((time.perf_counter() - start) / calls)
    return min(rounds) * 1e6


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--repeat", type=int, default=5)
    repeat = options.parse_args().repeat
    cases = [(query.name, query.render(VALUES)) for query in queries.CLASSES]
    cases += [("portal (brief)", PORTAL), ("VALUES 3,000 rows", VALUES_BLOCK)]
    store = Store()
    print(f"{'query':22} {'lines':>5} {'parse µs':>9} {'serialize µs':>13} {'both µs':>8} {'engine µs':>10}")
    for name, text in cases:
        tree = parse_query(text)
        canonical = serialize(tree)

        def engine(canonical: str = canonical) -> None:
            result = store.query(canonical)
            if not isinstance(result, QueryBoolean):
                for _ in result:
                    pass

        parse = best(lambda text=text: parse_query(text), repeat=repeat)  # type: ignore[misc]
        write = best(lambda tree=tree: serialize(tree), repeat=repeat)  # type: ignore[misc]
        both = best(lambda text=text: serialize(parse_query(text)), repeat=repeat)  # type: ignore[misc]
        print(f"{name:22} {text.count(chr(10)) + 1:5} {parse:9.0f} {write:13.0f} {both:8.0f} "
              f"{best(engine, repeat=repeat):10.0f}")


if __name__ == "__main__":
    main()
