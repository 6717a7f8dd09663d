"""The examples of tests/shapes/ validated by pySHACL and by the compiled validator, once for
the whole test run: pySHACL takes a quarter of a second per graph however small, so the examples
are validated in batches. Each example's record IRIs get a prefix of their own, and examples that
state facts about the same shared IRI (a homepage typed foaf:Document, say) go into different
batches, so no example sees another's facts (`test_shacl_compiler.test_batching_changes_nothing`
checks that on a sample). `test_shapes` and `test_shacl_compiler` both read the results here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.term import Node

from lod.schemes import ontology_graph
from lod.validation.compiler import validate_graph_fast
from lod.validation.pyshacl import ValidationResult, validate_graph

EXAMPLES = Path(__file__).parent / "shapes"
RECORDS = "https://w3id.org/lod-ikz/id/"
BATCH = 40

Results = tuple[list[ValidationResult], list[ValidationResult]]
"""pySHACL's results and the compiled validator's."""


def names() -> list[str]:
    """The examples, ``{Shape}.conforming`` and ``{Shape}.violating``."""
    return sorted(p.name.removesuffix(".ttl") for p in EXAMPLES.glob("*.ttl"))


def validated(name: str) -> Results:
    """The results of one example, found when its batch was validated."""
    return _batch_results(next(i for i, members in enumerate(_batches()) if name in members))[name]


@cache
def example(name: str) -> Graph:
    """An example with its record IRIs moved under a prefix of its own."""
    prefix = f"{RECORDS}{names().index(name)}/"
    graph = Graph()
    for triple in Graph().parse(EXAMPLES / f"{name}.ttl", format="turtle"):
        graph.add(tuple(URIRef(prefix + t[len(RECORDS):]) if isinstance(t, URIRef) and t.startswith(RECORDS)
                        else t for t in triple))  # type: ignore[arg-type]
    return graph


def _shared(graph: Graph) -> tuple[set[Node], set[Node]]:
    """The shared IRIs an example states new facts about, and all shared IRIs it mentions."""
    ontology = _ontology()
    mentioned: set[Node] = {t for s, _p, o in graph for t in (s, o)
                            if isinstance(t, URIRef) and not t.startswith(RECORDS)}
    stated: set[Node] = {t for s, p, o in graph if (s, p, o) not in ontology and s in mentioned
                         for t in (s, o) if isinstance(t, URIRef)}
    return stated, mentioned


@cache
def _ontology() -> Graph:
    return ontology_graph()


@cache
def _batches() -> tuple[tuple[str, ...], ...]:
    batches: list[tuple[list[str], set[Node], set[Node]]] = []
    for name in names():
        stated, mentioned = _shared(example(name))
        for members, batch_stated, batch_mentioned in batches:
            if len(members) < BATCH and not (stated & batch_mentioned) and not (batch_stated & mentioned):
                members.append(name)
                batch_stated |= stated
                batch_mentioned |= mentioned
                break
        else:
            batches.append(([name], stated, mentioned))
    return tuple(tuple(members) for members, _s, _m in batches)


@cache
def _batch_results(index: int) -> dict[str, Results]:
    members = _batches()[index]
    graph = Graph()
    for name in members:
        graph += example(name)
    found: dict[str, Results] = {name: ([], []) for name in members}
    for side, report in enumerate((validate_graph(graph), validate_graph_fast(graph))):
        for result in report.results:
            focus = str(result.focus_node)
            assert focus.startswith(RECORDS), f"a result outside the examples: {result}"
            found[names()[int(focus[len(RECORDS):].split("/", 1)[0])]][side].append(result)
    return found
