"""The W3C SPARQL test suites, read from their manifests, and what a test compares.

The suites (sparql10, sparql11 of https://github.com/w3c/rdf-tests) are looked for in
``/work/shared/reference/sparql-tests`` or where ``LOD_SPARQL_TESTS`` points; without them the
tests that use them skip. A manifest is Turtle; pyoxigraph reads it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import permutations
from math import factorial, prod
from pathlib import Path

from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    parse,
)

SUITES = Path(os.environ.get("LOD_SPARQL_TESTS", "/work/shared/reference/sparql-tests"))
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF_FIRST = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#first")
RDF_REST = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#rest")
POSITIVE = {"PositiveSyntaxTest", "PositiveSyntaxTest11"}
NEGATIVE = {"NegativeSyntaxTest", "NegativeSyntaxTest11"}
UPDATES = {"PositiveUpdateSyntaxTest11", "NegativeUpdateSyntaxTest11"}
EVALUATION = {"QueryEvaluationTest", "CSVResultFormatTest"}
_FORMATS = {".ttl": RdfFormat.TURTLE, ".nt": RdfFormat.N_TRIPLES, ".rdf": RdfFormat.RDF_XML}


@dataclass(frozen=True)
class Case:
    """One test of a manifest: its id (suite/dir/manifest#name), kind, query file, and data."""

    id: str
    kind: str
    query: Path
    data: tuple[Path, ...] = ()
    graph_data: tuple[Path, ...] = ()

    @property
    def base_iri(self) -> str:
        return self.query.as_uri()

    def text(self) -> str:
        return self.query.read_text(encoding="utf-8")


def available() -> bool:
    return (SUITES / "sparql11" / "manifest-all.ttl").is_file()


def cases(kinds: set[str]) -> list[Case]:
    """The tests of the given kinds in every manifest of both suites (none without them)."""
    if not available():
        return []
    return [case for manifest in sorted(SUITES.glob("sparql1*/**/manifest.ttl")) for case in _read(manifest)
            if case.kind in kinds]


def _objects(quads: list[Quad], subject: object, predicate: str) -> list[object]:
    wanted = NamedNode(predicate)
    return [quad.object for quad in quads if quad.subject == subject and quad.predicate == wanted]


def _read(manifest: Path) -> Iterator[Case]:
    quads = list(parse(path=manifest, format=RdfFormat.TURTLE, base_iri=manifest.as_uri()))
    for entries in (quad.object for quad in quads if quad.predicate == NamedNode(MF + "entries")):
        node = entries
        while node != NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"):
            test = _objects(quads, node, RDF_FIRST.value)[0]
            node = _objects(quads, node, RDF_REST.value)[0]
            kinds = [kind.value.removeprefix(MF) for kind in _objects(quads, test, RDF_TYPE.value)
                     if isinstance(kind, NamedNode)]
            action = _objects(quads, test, MF + "action")
            if not kinds or not action:
                continue
            name = f"{manifest.relative_to(SUITES).with_suffix('')}#{test.value.rsplit('#', 1)[-1]}" \
                if isinstance(test, NamedNode) else str(test)
            if isinstance(action[0], NamedNode):
                yield Case(name, kinds[0], _path(action[0]))
                continue
            query = _objects(quads, action[0], QT + "query")
            if not query:
                continue
            data = tuple(_path(found) for found in _objects(quads, action[0], QT + "data"))
            graphs = []
            for found in _objects(quads, action[0], QT + "graphData"):
                if isinstance(found, BlankNode):  # newer manifests: [ qt:graph <file> ; rdfs:label "name" ]
                    found = _objects(quads, found, QT + "graph")[0]
                graphs.append(_path(found))
            yield Case(name, kinds[0], _path(query[0]), data, tuple(graphs))


def _path(node: object) -> Path:
    assert isinstance(node, NamedNode) and node.value.startswith("file://"), node
    return Path(node.value.removeprefix("file://"))


def store_for(case: Case, graphs: tuple[str, ...] = ()) -> Store:
    """A store holding the test's data: ``qt:data`` in the default graph, each ``qt:graphData``
    and each file named by ``graphs`` (the query's FROM and FROM NAMED) in a graph named by its IRI."""
    store = Store()
    for path in case.data:
        store.load(path=path, format=_FORMATS[path.suffix], base_iri=path.as_uri())
    named = {path.as_uri(): path for path in case.graph_data}
    for iri in graphs:
        if iri.startswith("file://") and Path(iri.removeprefix("file://")).is_file():
            named[iri] = Path(iri.removeprefix("file://"))
    for iri, path in named.items():
        if path.suffix in _FORMATS:
            store.load(path=path, format=_FORMATS[path.suffix], base_iri=path.as_uri(),
                       to_graph=NamedNode(iri))
    return store


# ------------------------------------------------------------------------------------------ results

Row = tuple[object, ...]


def answer(store: Store, text: str, base_iri: str | None) -> object:
    """What the engine answers, in a form two answers can be compared in: a bool for ASK, a
    canonical set of triples for CONSTRUCT and DESCRIBE, (variables, rows) for SELECT; or the
    kind of error it raised."""
    try:
        result = store.query(text, base_iri=base_iri)
        if isinstance(result, QueryBoolean):
            return bool(result)
        if isinstance(result, QueryTriples):
            dataset = Dataset(Quad(triple.subject, triple.predicate, triple.object, DefaultGraph())
                              for triple in result)
            dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
            return frozenset(str(quad) for quad in dataset)
        assert isinstance(result, QuerySolutions)
        variables = tuple(variable.value for variable in result.variables)
        return variables, [tuple(_term(solution[variable]) for variable in variables) for solution in result]
    except (SyntaxError, ValueError, OSError, RuntimeError) as error:
        return ("error", type(error).__name__)


def _term(term: object) -> object:
    if term is None:
        return None
    if isinstance(term, BlankNode):
        return term  # kept as a node, matched up to renaming by same_solutions
    if isinstance(term, Literal):
        return ("literal", term.value, term.datatype.value, term.language)
    return str(term)


def same_solutions(first: list[Row], second: list[Row], *, ordered: bool) -> bool:
    """Whether two solution sequences are equal, blank nodes up to a consistent renaming; as
    multisets unless ``ordered``."""
    if len(first) != len(second):
        return False
    left = _blank_nodes(first)
    right = _blank_nodes(second)
    if len(left) != len(right):
        return False
    if not left:
        return first == second if ordered else Counter(first) == Counter(second)
    # Blank nodes with the same signature (the rows they appear in, with blank nodes masked)
    # may correspond; try the matchings class by class (the classes are small in these tests).
    left_classes = _classes(first, left)
    right_classes = _classes(second, right)
    if sorted(left_classes) != sorted(right_classes) or any(
            len(left_classes[key]) != len(right_classes[key]) for key in left_classes):
        return False
    keys = list(left_classes)
    target = second if ordered else Counter(second)
    if prod(factorial(len(found)) for found in left_classes.values()) > 50_000:
        # Too many matchings to try: compare with blank nodes masked, a weaker test.
        masked = [[tuple("_" if isinstance(term, BlankNode) else term for term in row) for row in rows]
                  for rows in (first, second)]
        return masked[0] == masked[1] if ordered else Counter(masked[0]) == Counter(masked[1])

    def attempt(index: int, mapping: dict[object, object]) -> bool:
        if index == len(keys):
            renamed = [tuple(mapping.get(term, term) for term in row) for row in first]
            return renamed == target if ordered else Counter(renamed) == target
        sources = left_classes[keys[index]]
        for chosen in permutations(right_classes[keys[index]]):
            if attempt(index + 1, {**mapping, **dict(zip(sources, chosen, strict=True))}):
                return True
        return False

    return attempt(0, {})


def _mask(term: object, node: object) -> object:
    return "*" if term == node else "_" if isinstance(term, BlankNode) else term


def _blank_nodes(rows: list[Row]) -> list[object]:
    return list(dict.fromkeys(term for row in rows for term in row if isinstance(term, BlankNode)))


def _classes(rows: list[Row], nodes: list[object]) -> dict[object, list[object]]:
    classes: dict[object, list[object]] = {}
    for node in nodes:
        signature = tuple(sorted(repr(tuple(_mask(term, node) for term in row))
                                 for row in rows if node in row))
        classes.setdefault(signature, []).append(node)
    return classes
