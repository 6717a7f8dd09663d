"""The library's main path: records to a graph, validated, with every result traced to its input."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph

from .mapping import record_iris, to_graph
from .model import Dataset
from .report import Finding, trace
from .validate import ValidationReport, validate_graph
from .vocab import DEFAULT_BASE_IRI


@dataclass(frozen=True)
class CheckedData:
    """A dataset, its graph, and the graph's validation report traced back to the records."""

    dataset: Dataset
    graph: Graph
    report: ValidationReport
    findings: list[Finding]

    def publishable(self, *, strict: bool = False) -> bool:
        """No violations (and, with ``strict``, no warnings either)."""
        return self.report.passes(strict=strict)


def check_records(dataset: Dataset, *, base_iri: str = DEFAULT_BASE_IRI) -> CheckedData:
    """Map ``dataset`` to RDF and validate it against the shapes.

    >>> checked = check_records(read_records("data/"))   # doctest: +SKIP
    >>> checked.report.conforms                          # doctest: +SKIP
    True
    """
    graph = to_graph(dataset, base_iri=base_iri)
    report = validate_graph(graph)
    return CheckedData(dataset, graph, report, trace(report, record_iris(dataset, base_iri=base_iri)))
