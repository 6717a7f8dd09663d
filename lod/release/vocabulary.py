"""The classes and properties a query of a release may name: those of its VoID partitions and of
the bundled ontology. The query editor completes them (``/sparql/editor.json``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from lod.schemes import ontology_graph
from lod.vocab import VOID


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The classes and properties a query of the release may name, as sorted IRIs."""

    classes: tuple[str, ...]
    properties: tuple[str, ...]

    def __or__(self, other: Vocabulary) -> Vocabulary:
        return Vocabulary(classes=tuple(sorted({*self.classes, *other.classes})),
                          properties=tuple(sorted({*self.properties, *other.properties})))


def void_vocabulary(void: Graph) -> Vocabulary:
    """The classes and properties of a VoID description's class and property partitions."""
    return Vocabulary(classes=_iris(void.objects(None, VOID["class"])),
                      properties=_iris(void.objects(None, VOID.property)))


_CLASS_KINDS = (OWL.Class, RDFS.Class)
_PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)


@functools.cache
def ontology_vocabulary() -> Vocabulary:
    """The classes and properties the bundled ontology (``ontology/``) defines or uses (its concept
    schemes are served with the data: ``skos:Concept``, ``skos:prefLabel``…)."""
    graph = ontology_graph()
    return Vocabulary(
        classes=_iris([*graph.objects(None, RDF.type),
                       *(s for kind in _CLASS_KINDS for s in graph.subjects(RDF.type, kind))]),
        properties=_iris([*graph.predicates(None, None),
                          *(s for kind in _PROPERTY_KINDS for s in graph.subjects(RDF.type, kind))]))


def _iris(nodes: Any) -> tuple[str, ...]:
    return tuple(sorted({str(node) for node in nodes if isinstance(node, URIRef)}))
