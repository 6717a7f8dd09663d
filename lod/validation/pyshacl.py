"""SHACL validation of a data graph against ``shapes/``. The only module that imports pyshacl.

pySHACL is the reference for what conforms; this module turns its report into typed results.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal
from rdflib.term import Node

from lod.messages import language
from lod.resources import turtle_graph
from lod.schemes import ontology_graph
from lod.vocab import RDF, SH

SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One SHACL validation result. ``column`` is the ``sh:name`` of the shape that produced it,
    which names the input column the checked value comes from; ``messages`` are its
    ``sh:resultMessage`` values, in every language the shapes have."""

    focus_node: Node
    path: Node | None
    value: Node | None
    severity: str
    messages: tuple[Literal, ...]
    source_shape: Node
    column: str | None

    @property
    def message(self) -> str:
        """The messages in the current language (`lod.messages`): those tagged with it, else
        those tagged English, else those without a tag, else all; several joined by "; "."""
        return in_language(self.messages)


def in_language(messages: tuple[Literal, ...]) -> str:
    """``messages`` as one text in the current language (see `ValidationResult.message`)."""
    for chosen in (language(), "en", None):
        texts = sorted(str(m) for m in messages if m.language == chosen)
        if texts:
            return "; ".join(texts)
    return "; ".join(sorted(str(m) for m in messages))


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating a graph: the typed results and pySHACL's report graph."""

    results: tuple[ValidationResult, ...]
    graph: Graph

    @property
    def violations(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    @property
    def warnings(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "Warning")

    @property
    def conforms(self) -> bool:
        """No violations; warnings and infos do not count."""
        return not self.violations

    def passes(self, *, strict: bool = False) -> bool:
        """Whether the data may be published: no violations, and with ``strict`` no warnings
        either. Infos (hints such as a missing English name) never hold publication back."""
        return self.conforms and not (strict and self.warnings)


@cache
def _bundled_shapes() -> Graph:
    return turtle_graph("shapes")


@cache
def _bundled_ontology() -> Graph:
    return ontology_graph()


def shapes_graph() -> Graph:
    """The bundled SHACL shapes (shared; do not modify)."""
    return _bundled_shapes()


def validate_graph(data: Graph, *, shapes: Graph | None = None, ontology: Graph | None = None,
                   ) -> ValidationReport:
    """Validate ``data`` against the bundled shapes (or ``shapes``).

    The ontology's concept schemes (or ``ontology``) are added to a copy of the data first,
    because the shapes check that a concept value belongs to its scheme. ``data`` is not changed.
    """
    shapes = _bundled_shapes() if shapes is None else shapes
    ontology = _bundled_ontology() if ontology is None else ontology
    # pySHACL's ont_graph only copies class and property axioms into the data graph, not the
    # concept schemes the shapes look up; so the union is made here and validated in place.
    merged = Graph()
    merged += data
    merged += ontology
    _conforms, report_graph, _text = pyshacl_validate(
        merged,
        shacl_graph=shapes,
        inference="none",
        advanced=True,  # SPARQL-based targets
        allow_warnings=True,
        inplace=True,
    )
    return ValidationReport(_results(report_graph, shapes), report_graph)


def _results(report: Graph, shapes: Graph) -> tuple[ValidationResult, ...]:
    results = []
    nested = set(report.objects(None, SH.detail))  # details repeat their parent result
    for node in report.subjects(RDF.type, SH.ValidationResult):
        if node in nested:
            continue
        shape = report.value(node, SH.sourceShape)
        severity = report.value(node, SH.resultSeverity)
        messages = tuple(sorted((m for m in report.objects(node, SH.resultMessage) if isinstance(m, Literal)),
                                key=lambda m: (m.language or "", str(m))))
        name = shapes.value(shape, SH.name) if shape is not None else None
        results.append(ValidationResult(
            focus_node=report.value(node, SH.focusNode),  # type: ignore[arg-type]
            path=report.value(node, SH.resultPath),
            value=report.value(node, SH.value),
            severity=str(severity).rpartition("#")[2] if severity else "Violation",
            messages=messages,
            source_shape=shape,  # type: ignore[arg-type]
            column=str(name) if name is not None else None,
        ))
    results.sort(key=lambda r: (SEVERITIES.index(r.severity) if r.severity in SEVERITIES else 9,
                                str(r.focus_node), r.column or "", r.message))
    return tuple(results)
