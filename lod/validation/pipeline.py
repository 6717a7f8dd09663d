"""The library's main path: records to a graph, validated, with every result traced to its input."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph

from lod.errors import InputError, UsageError
from lod.messages import tr
from lod.rdf.mapping import record_iris, to_graph
from lod.records.model import Dataset, check_dataset
from lod.schemes import load_schemes
from lod.validation.choice import ShapesChoice
from lod.validation.pyshacl import ValidationReport, validate_graph
from lod.validation.report import Finding, trace
from lod.vocab import DEFAULT_BASE_IRI


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


ENGINES = ("compiled", "pyshacl")
"""How the shapes are checked: compiled to SPARQL over Oxigraph (fast), or by pySHACL, the
reference the compiled check is tested to agree with."""


def check_records(dataset: Dataset, *, base_iri: str = DEFAULT_BASE_IRI, engine: str = "compiled",
                  shapes: ShapesChoice | None = None) -> CheckedData:
    """Map ``dataset`` to RDF and validate it against the shapes (lod's, or those ``shapes``
    chooses: :mod:`lod.validation.choice`). Records made in code (without
    an origin) are first checked as :func:`~lod.read_records` checks those it reads; raises
    :class:`~lod.errors.InputError` with every problem.

    >>> checked = check_records(read_records("data/"))   # doctest: +SKIP
    >>> checked.report.conforms                          # doctest: +SKIP
    True
    """
    if engine not in ENGINES:
        raise UsageError(tr("unknown validation engine {engine!r}; choose {engines}", engine=engine,
                            engines=" or ".join(ENGINES)))
    if not all(record.origin for record in dataset.records()):
        # Records made in code get the checks read_records gives records read from files.
        problems = check_dataset(dataset, load_schemes())
        if problems:
            raise InputError(problems)
    graph = to_graph(dataset, base_iri=base_iri)
    choice = shapes or ShapesChoice()
    report = choice.validate(graph) if engine == "compiled" else validate_graph(graph, shapes=choice.graph())
    return CheckedData(dataset, graph, report, trace(report, record_iris(dataset, base_iri=base_iri)))
