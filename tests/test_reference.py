"""The data against published standards in ../shared/reference (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import ORG

from lod import read_records, to_graph
from lod.schemes import ontology_graph

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ontologies"
DATA = Path(__file__).resolve().parents[1] / "data"

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference is not here")


@pytest.fixture(scope="module")
def graph() -> Graph:
    return to_graph(read_records(DATA)) + ontology_graph()


def test_every_org_term_is_defined_by_w3c_org(graph: Graph) -> None:
    org = Graph().parse(REFERENCE / "org.ttl")
    used = {term for triple in graph for term in triple
            if isinstance(term, URIRef) and term.startswith(str(ORG))}
    assert used
    assert sorted(t for t in used if (t, None, None) not in org) == []


def test_bundled_data_conforms_to_cpov(graph: Graph) -> None:
    shapes = Graph().parse(REFERENCE / "cpov-2.1.2-SHACL.ttl")
    conforms, _report, text = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text


def test_cpov_check_can_fail(graph: Graph) -> None:
    broken = Graph()
    broken += graph
    dresden = URIRef("https://w3id.org/lod-ikz/id/organisation/dresden")
    broken.add((dresden, ORG.classification, URIRef("https://example.org/not-a-concept")))
    shapes = Graph().parse(REFERENCE / "cpov-2.1.2-SHACL.ttl")
    conforms, _report, _text = validate(broken, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert not conforms
