"""The SHACL shapes of shapes/, each checked against a conforming and a violating example.

Every named shape ``ikzsh:{Name}`` has two small data graphs in tests/shapes/:
``{Name}.conforming.ttl``, from which no shape reports anything, and ``{Name}.violating.ttl``, from
which it reports at least one result. A result is the shape's when its ``sh:sourceShape`` is the
shape, or a property shape of it (for a node shape), or a property shape that applies it with
``sh:node`` (for the concept shapes of common.ttl, which have no target of their own).

The examples carry the ``skos:inScheme`` triples of the concepts they use, so they do not depend on
how the validator merges ontology/ into the data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from lod.validation.pyshacl import ValidationResult

from .shape_examples import validated

ROOT = Path(__file__).parent.parent
EXAMPLES = Path(__file__).parent / "shapes"
IKZSH = Namespace("https://w3id.org/lod-ikz/shapes/")
KINDS = ("conforming", "violating")


def _shapes() -> Graph:
    graph = Graph()
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


SHAPES = _shapes()


def _named_shapes() -> set[URIRef]:
    """Every shape with an IRI: typed a shape, or used as one."""
    candidates: set[Node] = set()
    for shape_type in (SH.NodeShape, SH.PropertyShape):
        candidates.update(SHAPES.subjects(RDF.type, shape_type))
    for link in (SH.property, SH.node):
        candidates.update(SHAPES.objects(None, link))
    return {c for c in candidates if isinstance(c, URIRef) and c.startswith(str(IKZSH))}


def _example_names() -> list[str]:
    return sorted({p.name.split(".")[0] for p in EXAMPLES.glob("*.ttl")})


def _produced_by(result: ValidationResult, shape: URIRef) -> bool:
    source = result.source_shape
    return (source == shape
            or (shape, SH.property, source) in SHAPES
            or (source, SH.node, shape) in SHAPES)


def _validate(name: str, kind: str) -> list[ValidationResult]:
    """pySHACL's results for the example (validated with others in a batch: shape_examples.py)."""
    return validated(f"{name}.{kind}")[0]


def _describe(results: list[ValidationResult]) -> str:
    return "\n".join(f"  {r.severity} {r.focus_node} <{r.source_shape}>: {r.message}"
                     for r in results) or "  (no results)"


@pytest.mark.parametrize("name", _example_names())
def test_conforming_example_gives_no_result_from_its_shape(name: str) -> None:
    shape = IKZSH[name]
    results = _validate(name, "conforming")
    own = [r for r in results if _produced_by(r, shape)]
    assert not own, f"{name}.conforming.ttl should not trip ikzsh:{name}:\n{_describe(own)}"
    # Nor any other shape: the conforming examples double as examples of valid data.
    assert not results, f"{name}.conforming.ttl should conform entirely:\n{_describe(results)}"


@pytest.mark.parametrize("name", _example_names())
def test_violating_example_gives_a_result_from_its_shape(name: str) -> None:
    shape = IKZSH[name]
    results = _validate(name, "violating")
    own = [r for r in results if _produced_by(r, shape)]
    assert own, f"{name}.violating.ttl should trip ikzsh:{name}; it gave:\n{_describe(results)}"
    for result in own:
        declared = SHAPES.value(result.source_shape, SH.severity, default=SH.Violation)
        assert result.severity == str(declared).rpartition("#")[2], result
        assert result.message, result
        if (shape, SH.sparql, None) in SHAPES:
            # Date-order results name the record, never a part of it such as its #interval.
            assert "#" not in str(result.focus_node), result


def test_every_shape_has_a_pair_of_examples() -> None:
    shapes = {s.removeprefix(str(IKZSH)) for s in _named_shapes()}
    files = {p.name for p in EXAMPLES.glob("*.ttl")}
    missing = sorted(f"{name}.{kind}.ttl" for name in shapes for kind in KINDS
                     if f"{name}.{kind}.ttl" not in files)
    assert not missing, f"shapes without examples in tests/shapes/: {missing}"
    stale = sorted(name for name in _example_names() if name not in shapes)
    assert not stale, f"examples of shapes that shapes/ does not have: {stale}"
    odd = sorted(f for f in files if f.split(".", 1)[1] not in {f"{k}.ttl" for k in KINDS})
    assert not odd, f"examples must be named {{Shape}}.conforming.ttl or .violating.ttl: {odd}"


def test_every_property_shape_names_its_column_and_explains_itself() -> None:
    problems = []
    for shape in set(SHAPES.subjects(SH.path, None)):
        for predicate in (SH.name, SH.message):
            if not isinstance(SHAPES.value(shape, predicate), Literal):
                problems.append(f"{shape} has no {predicate.rpartition('#')[2]}")
    assert not problems, "\n".join(sorted(problems))


def test_every_sparql_constraint_explains_itself_and_its_shape_names_the_columns() -> None:
    problems = []
    for shape, constraint in SHAPES.subject_objects(SH.sparql):
        if not isinstance(SHAPES.value(constraint, SH.message), Literal):
            problems.append(f"a SPARQL constraint of {shape} has no message")
        if not isinstance(SHAPES.value(shape, SH.name), Literal):
            problems.append(f"{shape} has no sh:name naming the columns it checks")
    assert not problems, "\n".join(sorted(problems))
