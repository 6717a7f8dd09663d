"""The results the W3C test suites expect (``mf:result``), in the form :func:`w3c.answer` gives.

SELECT and ASK results come as SPARQL XML, JSON or TSV (read by pyoxigraph) or as RDF in the
DAWG result-set vocabulary; CONSTRUCT and DESCRIBE results as RDF graphs. CSV results lose the
terms' kinds and datatypes, so they are not compared.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pyoxigraph import (
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    parse,
    parse_query_results,
)

from ..sparql import w3c

RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
_RESULTS = {".srx": QueryResultsFormat.XML, ".srj": QueryResultsFormat.JSON, ".tsv": QueryResultsFormat.TSV}
_GRAPHS = {".ttl", ".rdf"}


@functools.cache
def result_files() -> dict[str, Path]:
    """The expected result file of each evaluation test, by the id :mod:`w3c` gives the test."""
    found: dict[str, Path] = {}
    if not w3c.available():
        return found
    for manifest in sorted(w3c.SUITES.glob("sparql1*/**/manifest.ttl")):
        quads = list(parse(path=manifest, format=RdfFormat.TURTLE, base_iri=manifest.as_uri()))
        for quad in quads:
            if quad.predicate == NamedNode(w3c.MF + "result") and isinstance(quad.subject, NamedNode) \
                    and isinstance(quad.object, NamedNode) and quad.object.value.startswith("file://"):
                local = quad.subject.value.rsplit("#", 1)[-1]
                name = f"{manifest.relative_to(w3c.SUITES).with_suffix('')}#{local}"
                found[name] = Path(quad.object.value.removeprefix("file://"))
    return found


def expected(case: w3c.Case, *, graph: bool) -> object | None:
    """What the test expects, as :func:`w3c.answer` would give it (``graph``: the query is a
    CONSTRUCT or DESCRIBE); None when there is no result file this reads."""
    path = result_files().get(case.id)
    if path is None or not path.is_file():
        return None
    if path.suffix in _RESULTS:
        return _solutions(parse_query_results(path=path, format=_RESULTS[path.suffix]))
    if path.suffix not in _GRAPHS:
        return None
    quads = list(parse(path=path, format=w3c._FORMATS[path.suffix], base_iri=path.as_uri()))
    if graph:
        dataset = Dataset(Quad(q.subject, q.predicate, q.object, DefaultGraph()) for q in quads)
        dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
        return frozenset(str(quad) for quad in dataset)
    return _result_set(quads)


def _solutions(result: QuerySolutions | QueryBoolean) -> object:
    if isinstance(result, QueryBoolean):
        return bool(result)
    variables = tuple(variable.value for variable in result.variables)
    return variables, [tuple(w3c._term(solution[variable]) for variable in variables) for solution in result]


def _result_set(quads: list[Quad]) -> object | None:
    """A result set written in the DAWG vocabulary: rs:ResultSet, rs:solution, rs:binding."""
    def objects(subject: object, name: str) -> list[object]:
        return [q.object for q in quads if q.subject == subject and q.predicate == NamedNode(RS + name)]

    sets = [q.subject for q in quads if q.object == NamedNode(RS + "ResultSet")]
    if len(sets) != 1:
        return None
    boolean = objects(sets[0], "boolean")
    if boolean:
        assert isinstance(boolean[0], Literal)
        return boolean[0].value == "true"
    variables = tuple(v.value for v in objects(sets[0], "resultVariable") if isinstance(v, Literal))
    rows: list[tuple[int, tuple[object, ...]]] = []
    for solution in objects(sets[0], "solution"):
        values: dict[str, object] = {}
        for binding in objects(solution, "binding"):
            variable = objects(binding, "variable")[0]
            assert isinstance(variable, Literal)
            values[variable.value] = w3c._term(objects(binding, "value")[0])
        index = objects(solution, "index")
        order = int(index[0].value) if index and isinstance(index[0], Literal) else len(rows)
        rows.append((order, tuple(values.get(variable) for variable in variables)))
    return variables, [row for _, row in sorted(rows, key=lambda item: item[0])]


def same_answer(first: object, second: object, *, ordered: bool) -> bool:
    """Whether two answers of :func:`w3c.answer` (or :func:`expected`) are the same; solutions
    are matched by variable name."""
    if isinstance(first, tuple) and len(first) == 2 and isinstance(first[1], list):
        if not (isinstance(second, tuple) and len(second) == 2 and isinstance(second[1], list)):
            return False
        (names, rows), (other_names, other_rows) = first, second
        if sorted(names) != sorted(other_names):
            return False
        position = [other_names.index(name) for name in names]
        aligned = [tuple(row[i] for i in position) for row in other_rows]
        return w3c.same_solutions(rows, aligned, ordered=ordered)
    return first == second
