"""SHACL validation: pySHACL (`lod.validation.pyshacl`) against the shapes compiled to SPARQL
(`lod.validation.compiler`), on the same generated data in the same run.

    python benchmarks/validation.py                                  # scales 0.01, 0.1 and 1
    python benchmarks/validation.py --scale 0.1 --scale 2.5 --pyshacl-up-to 0.1

For each scale: generate the CSV files (benchmarks/generate.py), map them to an rdflib graph, then
time pySHACL (only up to --pyshacl-up-to: it needs about 15 s per 10,000 records) and the compiled
validator, as a whole (`validate_graph_fast`: load the graph into an in-memory Oxigraph store, then
validate) and its two steps; check that both give the same results; print a table of the times,
their ratio and the triples validated per second. The compiled validator is timed --repeat times
and its best time reported; pySHACL once.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
from rdflib import Graph

import lod
from lod.rdf.store import quads
from lod.schemes import ontology_graph
from lod.validation.compiler import compile_shapes, validate_graph_fast, validate_store
from lod.validation.pyshacl import ValidationResult, shapes_graph, validate_graph

HERE = Path(__file__).resolve().parent
T = TypeVar("T")


@dataclass
class Row:
    scale: float
    records: int
    triples: int
    results: int
    fast: float  # load + validate
    load: float
    check: float  # validate_store alone
    pyshacl: float | None = None
    agree: bool | None = None


def timed(function: Callable[[], T], repeat: int = 1) -> tuple[T, float]:
    """The result of ``function`` and its best time in seconds over ``repeat`` calls."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best  # type: ignore[return-value]


def key(result: ValidationResult) -> tuple[object, ...]:
    return (result.focus_node, result.source_shape, result.severity, result.value, result.path,
            result.message)


def measure(scale: float, work: Path, *, pyshacl: bool, repeat: int) -> Row:
    folder = work / f"data-{scale}"
    if not folder.exists():
        command = [sys.executable, str(HERE / "generate.py"), "--scale", str(scale), "--out", str(folder)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    dataset = lod.read_records(folder)
    graph = lod.to_graph(dataset)
    triples = len(graph) + len(ontology_graph())
    print(f"scale {scale}: {len(dataset)} records, {triples} triples with the ontology", file=sys.stderr)

    report, fast = timed(lambda: validate_graph_fast(graph), repeat)
    compiled = compile_shapes(shapes_graph())

    def load() -> ox.Store:
        store = ox.Store()
        store.bulk_extend(quads(graph, ox.DefaultGraph()))
        store.bulk_extend(quads(ontology_graph(), ox.DefaultGraph()))
        return store

    store, loading = timed(load, repeat)
    _results, checking = timed(lambda: validate_store(store, compiled), repeat)
    row = Row(scale, len(dataset), triples, len(report.results), fast, loading, checking)
    if pyshacl:
        reference, row.pyshacl = timed(lambda: validate_graph(graph))
        row.agree = Counter(map(key, reference.results)) == Counter(map(key, report.results))
    return row


NONE = "-"


def table(rows: list[Row]) -> str:
    def seconds(value: float | None) -> str:
        return NONE if value is None else f"{value:.2f}"

    def rate(value: float | None, triples: int) -> str:
        return NONE if value is None else f"{triples / value:,.0f}"

    lines = ["| scale | records | triples | results | pySHACL s | compiled s | load s | validate s "
             "| speed-up | speed-up (validate) | pySHACL triples/s | compiled triples/s | same results |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        ratio = NONE if r.pyshacl is None else f"{r.pyshacl / r.fast:.0f}x"
        ratio_check = NONE if r.pyshacl is None else f"{r.pyshacl / r.check:.0f}x"
        agree = NONE if r.agree is None else ("yes" if r.agree else "NO")
        lines.append(f"| {r.scale:g} | {r.records:,} | {r.triples:,} | {r.results:,} | {seconds(r.pyshacl)} "
                     f"| {r.fast:.2f} | {r.load:.2f} | {r.check:.2f} | {ratio} | {ratio_check} "
                     f"| {rate(r.pyshacl, r.triples)} | {rate(r.fast, r.triples)} | {agree} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, action="append", dest="scales",
                        help="a scale of benchmarks/generate.py (repeatable; default 0.01, 0.1, 1)")
    parser.add_argument("--pyshacl-up-to", type=float, default=0.1,
                        help="the largest scale pySHACL is run on (default 0.1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the compiled validator (default 3)")
    parser.add_argument("--work", type=Path,
                        help="where to keep the generated data (default: a temporary folder)")
    options = parser.parse_args(argv)
    scales = options.scales or [0.01, 0.1, 1.0]
    shapes: Graph = shapes_graph()
    _compiled, compiling = timed(lambda: compile_shapes(shapes))
    print(f"compiled the shapes in {compiling:.2f} s", file=sys.stderr)
    with tempfile.TemporaryDirectory() as temporary:
        work = options.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        rows = [measure(scale, work, pyshacl=scale <= options.pyshacl_up_to, repeat=options.repeat)
                for scale in scales]
    print(table(rows))
    return 0 if all(r.agree is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
