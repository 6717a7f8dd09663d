"""The concept schemes of ``ontology/``: which notations each scheme allows, and their labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from lod.resources import turtle_graph
from lod.vocab import IKZ


@dataclass(frozen=True, slots=True)
class Concept:
    """One concept: its IRI, its scheme's name, its notation and its labels by language."""

    iri: URIRef
    scheme: str
    notation: str
    labels: dict[str, str]


def ontology_graph() -> Graph:
    """The project's vocabulary and concept schemes as one graph (a fresh copy each call)."""
    return turtle_graph("ontology")


@cache
def load_schemes() -> dict[str, dict[str, Concept]]:
    """Every concept of the bundled ontology, as ``{scheme name: {notation: Concept}}``."""
    return schemes_of(ontology_graph())


def schemes_of(graph: Graph) -> dict[str, dict[str, Concept]]:
    """The concept schemes defined in ``graph`` under the ``ikz:`` namespace."""
    schemes: dict[str, dict[str, Concept]] = {}
    for scheme_iri in graph.subjects(RDF.type, SKOS.ConceptScheme):
        if not isinstance(scheme_iri, URIRef) or not scheme_iri.startswith(IKZ):
            continue
        name = scheme_iri[len(IKZ):]
        concepts = schemes.setdefault(name, {})
        for concept_iri in graph.subjects(SKOS.inScheme, scheme_iri):
            notation = graph.value(concept_iri, SKOS.notation)
            if not isinstance(concept_iri, URIRef) or notation is None:
                continue
            labels = {
                label.language or "": str(label)
                for label in graph.objects(concept_iri, SKOS.prefLabel)
                if isinstance(label, Literal)
            }
            concepts[str(notation)] = Concept(concept_iri, name, str(notation), labels)
    return schemes
