"""Records to RDF: the vocabulary terms docs/rdf.md promises, stable IRIs, typed dates."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, SKOS, TIME, XSD

from lod import UsageError, read_records, to_graph
from lod.vocab import CV, IKZ, SCHEMA, concept

BASE = "https://example.org/ikz/"


def iri(path: str) -> URIRef:
    return URIRef(BASE + "id/" + path)


@pytest.fixture
def graph(minimal: Path) -> Graph:
    return to_graph(read_records(minimal), base_iri=BASE)


EXPECTED = [
    (iri("organisation/dresden"), RDF.type, CV.PublicOrganisation),
    (iri("organisation/dresden"), RDF.type, ORG.FormalOrganization),
    (iri("organisation/dresden"), ORG.classification, concept("organisation-kind", "municipality")),
    (iri("organisation/dresden"), IKZ.ags, Literal("14612000")),
    (iri("organisation/dresden"), DCTERMS.spatial,
     URIRef("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/14612000")),
    (iri("organisation/dresden"), OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q1731")),
    (iri("organisation/kgst"), SKOS.prefLabel,
     Literal("Kommunale Gemeinschaftsstelle für Verwaltungsmanagement", lang="de")),
    (iri("organisation/kgst"), SKOS.altLabel, Literal("KGSt", lang="de")),
    (iri("organisation/eb-it"), ORG.subOrganizationOf, iri("organisation/dresden")),
    (iri("cooperation/oss"), RDF.type, ORG.OrganizationalCollaboration),
    (iri("cooperation/oss"), DCTERMS.subject, concept("topic", "open-source")),
    (iri("cooperation/oss"), SCHEMA.foundingDate, Literal("2020-07", datatype=XSD.gYearMonth)),
    (iri("membership/oss--kgst"), RDF.type, ORG.Membership),
    (iri("membership/oss--kgst"), ORG.member, iri("organisation/kgst")),
    (iri("membership/oss--kgst"), ORG.organization, iri("cooperation/oss")),
    (iri("membership/oss--kgst"), ORG.role, concept("membership-role", "partner")),
    (iri("membership/oss--kgst"), ORG.memberDuring, URIRef(iri("membership/oss--kgst") + "#interval")),
    (URIRef(iri("membership/oss--kgst") + "#start"), TIME.inXSDgYearMonth,
     Literal("2020-07", datatype=XSD.gYearMonth)),
    (iri("membership/oss--kgst"), PROV.wasDerivedFrom, iri("source/press-2020")),
    (iri("post/kgst-vorstand"), ORG.heldBy, iri("person/klaus-effing")),
    (iri("tenure/kgst-vorstand--klaus-effing"), IKZ.post, iri("post/kgst-vorstand")),
    (URIRef(iri("tenure/kgst-vorstand--klaus-effing") + "#interval"), TIME.inside,
     URIRef(iri("tenure/kgst-vorstand--klaus-effing") + "#as-of")),
    (iri("statement/kgst-members-2020"), SCHEMA.observationAbout, iri("organisation/kgst")),
    (iri("statement/kgst-members-2020"), IKZ.valueQualifier, concept("value-qualifier", "more-than")),
    (iri("source/press-2020"), DCTERMS.title, Literal("Austausch mit neuem KGSt-Vorstand", lang="de")),
    (iri("source/press-2020"), DCTERMS.publisher, iri("organisation/vitako")),
    (iri("event/treffen-2020"), SCHEMA.about, iri("cooperation/oss")),
    (iri("event/treffen-2020"), SCHEMA.attendee, iri("person/klaus-effing")),
]


@pytest.mark.parametrize("triple", EXPECTED, ids=lambda t: f"{t[0].rsplit('/', 1)[-1]} {t[1].n3()}")
def test_expected_triple(graph: Graph, triple: tuple[URIRef, URIRef, URIRef]) -> None:
    assert triple in graph


def test_no_blank_nodes_and_every_iri_under_the_base_or_a_vocabulary(graph: Graph) -> None:
    subjects = set(graph.subjects())
    assert all(isinstance(s, URIRef) for s in subjects)
    minted = {s for s in subjects if s.startswith(BASE)}
    assert {s.partition("#")[0].rsplit("/", 2)[-2] for s in minted} == {
        "organisation", "cooperation", "membership", "person", "post", "tenure", "event",
        "statement", "source"}


def test_same_data_same_triples(minimal: Path) -> None:
    first = to_graph(read_records(minimal), base_iri=BASE).serialize(format="nt")
    second = to_graph(read_records(minimal), base_iri=BASE).serialize(format="nt")
    assert sorted(first.splitlines()) == sorted(second.splitlines())


def test_every_claim_cites_a_source(graph: Graph) -> None:
    claims = {s for s in graph.subjects(RDF.type, None)
              if s.startswith(BASE) and "#" not in s and "/source/" not in s}
    assert claims
    assert all((c, PROV.wasDerivedFrom, None) in graph for c in claims)


@pytest.mark.parametrize("base", ["ftp://example.org/", "https://example.org", "example.org/"])
def test_bad_base_iri(minimal: Path, base: str) -> None:
    with pytest.raises(UsageError, match="base IRI"):
        to_graph(read_records(minimal), base_iri=base)


@pytest.mark.parametrize(("latitude", "longitude", "written"), [
    ("51.0493", "13.7381", ("51.0493", "13.7381")),
    ("51.90", "-8.0", ("51.9", "-8")),       # canonical xsd:decimal, as Oxigraph writes it
    ("-0.0", "0", ("0", "0")),
])
def test_coordinates_are_a_geo_part(minimal: Path, latitude: str, longitude: str,
                                    written: tuple[str, str]) -> None:
    dataset = read_records(minimal)
    located = tuple(replace(o, latitude=Decimal(latitude), longitude=Decimal(longitude))
                    if o.slug == "dresden" else o for o in dataset.organisations)
    graph = to_graph(replace(dataset, organisations=located), base_iri=BASE)
    dresden, geo = iri("organisation/dresden"), iri("organisation/dresden#geo")
    assert list(graph.objects(dresden, SCHEMA.geo)) == [geo]
    assert set(graph.predicate_objects(geo)) == {
        (RDF.type, SCHEMA.GeoCoordinates),
        (SCHEMA.latitude, Literal(written[0], datatype=XSD.decimal)),
        (SCHEMA.longitude, Literal(written[1], datatype=XSD.decimal)),
    }
    stored = ox.Store()
    stored.load(graph.serialize(format="nt").encode(), ox.RdfFormat.N_TRIPLES)
    assert {str(q.object.value) for q in stored.quads_for_pattern(ox.NamedNode(str(geo)), None, None)
            if isinstance(q.object, ox.Literal)} == set(written)
    # Without coordinates, nothing: the other organisations have no #geo part.
    assert (iri("organisation/kgst"), SCHEMA.geo, None) not in graph
