"""Before/after timings of the planner's rewrites, and what planning costs a light request.

    python -m tests.query.measure            # about a minute; not a test (nothing is asserted)

The store is generated: 100,000 memberships of 2,000 cooperations, each with an interval whose
beginning has a date (the shapes of issue #12), 20,000 organisations with keys and labels. Each
query's left side binds 50 memberships of one cooperation (or 5 of one organisation). Times are
the best of a few runs, in µs, of pyoxigraph evaluating the query without and with the planner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import pyoxigraph as ox

from lod.query.planner import Engine, plan
from lod.query.prepare import QueryPreparer
from lod.sparql import parse_query, serialize

EX = "http://example.org/"
PREFIX = f"PREFIX : <{EX}> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
MEMBERS = "?m :organization <http://example.org/coop/7> ; :member ?org "
CASES = {
    "OPTIONAL, join variable from an earlier OPTIONAL":
        f"SELECT * {{ {MEMBERS} OPTIONAL {{ ?m :memberDuring ?iv }} "
        "OPTIONAL { ?iv :hasBeginning/:inXSDDate ?start } }",
    "OPTIONAL of a UNION": f"SELECT * {{ {MEMBERS} OPTIONAL {{ {{ ?m :memberDuring ?iv }} UNION "
                           "{ ?org :identifier ?iv } } }",
    "OPTIONAL with MINUS inside": f"SELECT * {{ {MEMBERS} OPTIONAL {{ ?m :memberDuring ?iv "
                                  "MINUS { ?iv :hasBeginning <http://example.org/b/3> } } }",
    "OPTIONAL with VALUES inside": f"SELECT * {{ {MEMBERS} OPTIONAL {{ ?m :memberDuring ?iv "
                                   "VALUES ?x { 1 2 } } }",
    "OPTIONAL with a sub-SELECT inside": f"SELECT * {{ {MEMBERS} OPTIONAL {{ ?m :memberDuring ?iv "
                                         "{ SELECT (COUNT(*) AS ?n) { ?x :identifier \"00000001\" } } } }",
    "two OPTIONALs on the interval (per municipality)":
        "SELECT * { ?m :member <http://example.org/org/7> ; :organization ?c "
        "OPTIONAL { ?m :memberDuring/:hasBeginning/:inXSDDate ?start } OPTIONAL { ?c :date ?d } }",
    "MINUS": f"SELECT * {{ {MEMBERS} MINUS {{ ?m :memberDuring ?x }} }}",
    "MINUS with a path and FILTER": f"SELECT * {{ {MEMBERS} MINUS {{ "
                                    "?m :memberDuring/:hasBeginning/:inXSDDate ?d "
                                    'FILTER(?d > "2010-01-01"^^xsd:date) } }',
    "FILTER NOT EXISTS of a join": f"SELECT * {{ {MEMBERS} FILTER NOT EXISTS {{ ?m :memberDuring ?x . "
                                   "?x :hasBeginning ?b } }",
    "FILTER EXISTS of a path and FILTER": f"SELECT * {{ {MEMBERS} FILTER EXISTS {{ "
                                          "?m :memberDuring/:hasBeginning/:inXSDDate ?d "
                                          'FILTER(?d > "2010-01-01"^^xsd:date) } }',
}


def store(memberships: int = 100_000, cooperations: int = 2_000, organisations: int = 20_000) -> ox.Store:
    n, lit = ox.NamedNode, ox.Literal
    date = n("http://www.w3.org/2001/XMLSchema#date")
    quads = []
    for i in range(memberships):
        m, interval, start = n(f"{EX}m/{i}"), n(f"{EX}iv/{i}"), n(f"{EX}b/{i}")
        quads += [ox.Quad(m, n(EX + "organization"), n(f"{EX}coop/{i % cooperations}")),
                  ox.Quad(m, n(EX + "member"), n(f"{EX}org/{i % organisations}")),
                  ox.Quad(m, n(EX + "memberDuring"), interval),
                  ox.Quad(interval, n(EX + "hasBeginning"), start),
                  ox.Quad(start, n(EX + "inXSDDate"),
                          lit(f"{2000 + i % 25}-0{1 + i % 9}-1{i % 9}", datatype=date))]
    for j in range(organisations):
        quads.append(ox.Quad(n(f"{EX}org/{j}"), n(EX + "identifier"), lit(f"{j:08d}")))
    for c in range(cooperations):
        founded = lit(f"{1990 + c % 35}-01-01", datatype=date)
        quads.append(ox.Quad(n(f"{EX}coop/{c}"), n(EX + "date"), founded))
    result = ox.Store()
    result.bulk_extend(quads)
    return result


def best(run: Callable[[], object], repeat: int, limit: float = 5.0) -> float:
    """The best of ``repeat`` runs in µs (fewer when one run takes more than ``limit`` s)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        if times[-1] > limit:
            break
    return min(times) * 1e6


def _rows(data: ox.Store, text: str) -> list[str]:
    result = data.query(text)
    assert isinstance(result, ox.QuerySolutions)
    return [str(row) for row in result]


def main() -> None:
    data = store()
    print(f"{'case':52s} {'before µs':>12s} {'after µs':>10s}")
    for name, text in CASES.items():
        query = parse_query(PREFIX + text)
        before, after = serialize(query), serialize(plan(query))
        assert sorted(_rows(data, before)) == sorted(_rows(data, after)), name
        print(f"{name:52s} {best(partial(_rows, data, before), 3):12.0f} "
              f"{best(partial(_rows, data, after), 20):10.0f}")
    print("\nplanning a light request (µs, median; prepare: a text not seen before)")
    light = {
        "ASK by key": "ASK { ?m :member <http://example.org/org/1> ; "
                      ":organization <http://example.org/coop/1> }",
        "SELECT by key + OPTIONAL": 'SELECT ?org ?key WHERE { ?org :identifier "00000001" '
                                    "OPTIONAL { ?m :member ?org ; :memberDuring/:hasBeginning ?b } }",
    }
    for name, text in light.items():
        query = parse_query(PREFIX + text)
        preparers = {e: QueryPreparer(base_iri="http://127.0.0.1/sparql", engine=e) for e in Engine}
        times: dict[Engine, list[float]] = {engine: [] for engine in Engine}
        for count in range(3000):  # interleaved, each a text not seen before
            for engine, preparer in preparers.items():
                fresh = f"{PREFIX}{text} # {count}"
                times[engine].append(best(partial(preparer.prepare, fresh), 1))
        for engine, found in times.items():
            print(f"  {name:28s} prepare for {engine.value:9s} {sorted(found)[len(found) // 2]:7.1f}")
        planning = sorted(best(partial(plan, query), 1) for _ in range(3000))
        print(f"  {name:28s} plan() alone {planning[len(planning) // 2]:21.1f}")


if __name__ == "__main__":
    main()
