"""VoID, DCAT-AP.de catalog and SPARQL service description of a release (lod.release.metadata).

The catalog is also checked against GovData's official ``v30_de_spec`` shapes when the reference
copies in ``../shared/reference`` are there; without them that test is skipped.
"""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef

import lod.release.metadata
from lod.errors import UsageError
from lod.formats import RdfFormat
from lod.release.changes import Changes
from lod.release.manifest import DumpFile, Manifest
from lod.release.metadata import FORMAT_TERMS, Publisher, catalog_graph, service_description, void_graph
from lod.vocab import DCAT, DCATDE, DCTERMS, FOAF, ORG, RDF, RDFS, SD, SKOS, SPDX, VCARD, VOID, XSD

URL = "http://127.0.0.1:8000/"
BASE = "https://w3id.org/lod-ikz/"
CATALOG = f"{URL}catalog#"
VOID_DOC = f"{URL}.well-known/void"
CC_BY = URIRef("http://dcat-ap.de/def/licenses/cc-by/4.0")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
FORMATS = "http://www.w3.org/ns/formats/"
SCHEMA_EVENT = "https://schema.org/Event"


def _dump(name: str, fmt: RdfFormat, *, gzipped: bool, size: int) -> DumpFile:
    return DumpFile(name=name, format=fmt, gzipped=gzipped, size=size,
                    sha256=hashlib.sha256(name.encode()).hexdigest())


RELEASE = Manifest(
    release_id="20261125T161000Z",
    created=datetime(2026, 11, 25, 16, 10, tzinfo=UTC).isoformat(),
    base_iri=BASE,
    warnings=0,
    triples=28453,
    dumps=(
        _dump("lod-ikz.ttl", RdfFormat.TURTLE, gzipped=False, size=1_482_113),
        _dump("lod-ikz.nt.gz", RdfFormat.NTRIPLES, gzipped=True, size=211_904),
        _dump("lod-ikz.nq.gz", RdfFormat.NQUADS, gzipped=True, size=219_377),
        _dump("lod-ikz.jsonld", RdfFormat.JSONLD, gzipped=False, size=2_904_551),
        _dump("lod-ikz.rdf", RdfFormat.RDFXML, gzipped=False, size=3_100_020),
    ),
    class_counts={str(ORG.Organization): 812, str(ORG.OrganizationalCollaboration): 143,
                  str(ORG.Membership): 2210, str(FOAF.Person): 57, SCHEMA_EVENT: 35},
    property_counts={str(RDF.type): 4102, str(SKOS.prefLabel): 1911, str(ORG.member): 2210,
                     "http://www.w3.org/ns/prov#wasDerivedFrom": 3090},
    vocabularies=(str(ORG), str(SKOS), str(DCTERMS), "http://www.w3.org/ns/prov#",
                  "https://w3id.org/lod-ikz/def/"),
    example_resources=(f"{BASE}id/organisation/kgst", f"{BASE}id/cooperation/govdigital"),
    entities=3307,
)
PUBLISHER = Publisher(name="Beispielstadt Open Data", homepage="https://opendata.example.de/",
                      email="opendata@example.de")


def _void() -> Graph:
    return void_graph(RELEASE, public_url=URL, base_iri=BASE, license_iri=str(CC_BY))


def _catalog(publisher: Publisher = PUBLISHER) -> Graph:
    return catalog_graph(RELEASE, public_url=URL, base_iri=BASE, license_iri=str(CC_BY),
                         publisher=publisher)


def _service(*, federated: bool = False, triples: int | None = RELEASE.triples) -> Graph:
    return service_description(public_url=URL, federated_query=federated,
                               default_graph_triples=triples)


BUILDERS: dict[str, Callable[[], Graph]] = {"void": _void, "catalog": _catalog, "service": _service}


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    return {name: build() for name, build in BUILDERS.items()}


def _u(iri: str) -> URIRef:
    return URIRef(iri)


def _n(value: int, datatype: URIRef = XSD.integer) -> Literal:
    return Literal(value, datatype=datatype)


DATASET = _u(f"{VOID_DOC}#dataset")
KEY_TRIPLES = [
    # VoID
    ("void", _u(VOID_DOC), RDF.type, VOID.DatasetDescription),
    ("void", _u(VOID_DOC), FOAF.primaryTopic, DATASET),
    ("void", DATASET, RDF.type, VOID.Dataset),
    ("void", DATASET, DCTERMS.title, Literal("Interkommunale Zusammenarbeit in Deutschland", lang="de")),
    ("void", DATASET, DCTERMS.title, Literal("Inter-municipal cooperation in Germany", lang="en")),
    ("void", DATASET, DCTERMS.license, CC_BY),
    ("void", DATASET, VOID.sparqlEndpoint, _u(f"{URL}sparql")),
    ("void", DATASET, VOID.dataDump, _u(f"{URL}download/lod-ikz.nt.gz")),
    ("void", DATASET, VOID.triples, _n(28453)),
    ("void", DATASET, VOID.entities, _n(3307)),
    ("void", DATASET, VOID.uriSpace, Literal(f"{BASE}id/")),
    ("void", DATASET, VOID.vocabulary, _u(str(ORG))),
    ("void", DATASET, VOID.exampleResource, _u(f"{BASE}id/organisation/kgst")),
    ("void", DATASET, VOID.feature, _u(f"{FORMATS}Turtle")),
    ("void", DATASET, VOID.feature, _u(f"{FORMATS}N-Quads")),
    ("void", DATASET, VOID.feature, _u(f"{FORMATS}RDF_XML")),
    ("void", DATASET, DCTERMS.modified, Literal("2026-11-25T16:10:00+00:00", datatype=XSD.dateTime)),
    ("void", DATASET, VOID.classPartition, _u(f"{VOID_DOC}#class-org-Organization")),
    ("void", _u(f"{VOID_DOC}#class-org-Organization"), VOID["class"], ORG.Organization),
    ("void", _u(f"{VOID_DOC}#class-org-Organization"), VOID.entities, _n(812)),
    ("void", _u(f"{VOID_DOC}#class-schema-Event"), VOID["class"], _u(SCHEMA_EVENT)),
    ("void", DATASET, VOID.propertyPartition, _u(f"{VOID_DOC}#property-org-member")),
    ("void", _u(f"{VOID_DOC}#property-org-member"), VOID.property, ORG.member),
    ("void", _u(f"{VOID_DOC}#property-org-member"), VOID.triples, _n(2210)),
    # DCAT-AP.de
    ("catalog", _u(f"{CATALOG}catalog"), RDF.type, DCAT.Catalog),
    ("catalog", _u(f"{CATALOG}catalog"), DCAT.dataset, _u(f"{CATALOG}dataset")),
    ("catalog", _u(f"{CATALOG}catalog"), DCAT.service, _u(f"{CATALOG}sparql-service")),
    ("catalog", _u(f"{CATALOG}catalog"), DCTERMS.language, _u(f"{EU}language/DEU")),
    ("catalog", _u(f"{CATALOG}catalog"), FOAF.homepage, _u(URL)),
    ("catalog", _u(f"{CATALOG}publisher"), RDF.type, FOAF.Agent),
    ("catalog", _u(f"{CATALOG}publisher"), FOAF.name, Literal("Beispielstadt Open Data")),
    ("catalog", _u(f"{CATALOG}dataset"), RDF.type, DCAT.Dataset),
    ("catalog", _u(f"{CATALOG}dataset"), DCTERMS.publisher, _u(f"{CATALOG}publisher")),
    ("catalog", _u(f"{CATALOG}dataset"), DCAT.theme, _u(f"{EU}data-theme/GOVE")),
    ("catalog", _u(f"{CATALOG}dataset"), DCTERMS.spatial, _u(f"{EU}country/DEU")),
    ("catalog", _u(f"{CATALOG}dataset"), DCTERMS.accessRights, _u(f"{EU}access-right/PUBLIC")),
    ("catalog", _u(f"{CATALOG}dataset"), DCATDE.politicalGeocodingLevelURI,
     _u("http://dcat-ap.de/def/politicalGeocoding/Level/federal")),
    ("catalog", _u(f"{CATALOG}dataset"), DCAT.keyword, Literal("Zweckverband", lang="de")),
    ("catalog", _u(f"{CATALOG}dataset"), DCAT.version, Literal("20261125T161000Z")),
    ("catalog", _u(f"{CATALOG}dataset"), DCAT.contactPoint, _u(f"{CATALOG}contact-point")),
    ("catalog", _u(f"{CATALOG}dataset"), RDFS.seeAlso, _u(VOID_DOC)),
    ("catalog", _u(f"{CATALOG}dataset"), DCAT.distribution, _u(f"{CATALOG}distribution-lod-ikz.nt.gz")),
    ("catalog", _u(f"{CATALOG}dataset"), DCAT.distribution, _u(f"{CATALOG}distribution-sparql")),
    ("catalog", _u(f"{CATALOG}contact-point"), RDF.type, VCARD.Kind),
    ("catalog", _u(f"{CATALOG}contact-point"), VCARD.hasEmail, _u("mailto:opendata@example.de")),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.nt.gz"), DCAT.accessURL,
     _u(f"{URL}download/lod-ikz.nt.gz")),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.nt.gz"), DCAT.downloadURL,
     _u(f"{URL}releases/20261125T161000Z/dumps/lod-ikz.nt.gz")),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.nt.gz"), DCTERMS.format,
     _u(f"{EU}file-type/RDF_N_TRIPLES")),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.nt.gz"), DCAT.mediaType,
     _u(f"{IANA}application/n-triples")),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.nt.gz"), DCAT.compressFormat,
     _u(f"{IANA}application/gzip")),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.nt.gz"), DCAT.byteSize,
     _n(211_904, XSD.nonNegativeInteger)),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.nt.gz"), DCTERMS.license, CC_BY),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.nt.gz"), SPDX.checksum,
     _u(f"{CATALOG}checksum-lod-ikz.nt.gz")),
    ("catalog", _u(f"{CATALOG}checksum-lod-ikz.nt.gz"), SPDX.algorithm, SPDX.checksumAlgorithm_sha256),
    ("catalog", _u(f"{CATALOG}checksum-lod-ikz.nt.gz"), SPDX.checksumValue,
     Literal(hashlib.sha256(b"lod-ikz.nt.gz").hexdigest(), datatype=XSD.hexBinary)),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.jsonld"), DCTERMS.format, _u(f"{EU}file-type/JSON_LD")),
    ("catalog", _u(f"{CATALOG}distribution-lod-ikz.rdf"), DCAT.mediaType,
     _u(f"{IANA}application/rdf+xml")),
    ("catalog", _u(f"{CATALOG}distribution-sparql"), DCAT.accessService, _u(f"{CATALOG}sparql-service")),
    ("catalog", _u(f"{CATALOG}distribution-sparql"), DCAT.accessURL, _u(f"{URL}sparql")),
    ("catalog", _u(f"{CATALOG}sparql-service"), RDF.type, DCAT.DataService),
    ("catalog", _u(f"{CATALOG}sparql-service"), DCAT.endpointURL, _u(f"{URL}sparql")),
    ("catalog", _u(f"{CATALOG}sparql-service"), DCAT.endpointDescription, _u(f"{URL}sparql")),
    ("catalog", _u(f"{CATALOG}sparql-service"), DCAT.servesDataset, _u(f"{CATALOG}dataset")),
    ("catalog", _u(f"{CATALOG}sparql-service"), DCTERMS.conformsTo,
     _u("https://www.w3.org/TR/sparql11-protocol/")),
    ("catalog", _u(f"{CATALOG}sparql-service"), DCTERMS.accessRights, _u(f"{EU}access-right/PUBLIC")),
    # SPARQL service description
    ("service", _u(f"{URL}sparql#service"), RDF.type, SD.Service),
    ("service", _u(f"{URL}sparql#service"), SD.endpoint, _u(f"{URL}sparql")),
    ("service", _u(f"{URL}sparql#service"), SD.supportedLanguage, SD.SPARQL11Query),
    ("service", _u(f"{URL}sparql#service"), SD.resultFormat, _u(f"{FORMATS}SPARQL_Results_JSON")),
    ("service", _u(f"{URL}sparql#service"), SD.resultFormat, _u(f"{FORMATS}SPARQL_Results_TSV")),
    ("service", _u(f"{URL}sparql#service"), SD.resultFormat, _u(f"{FORMATS}JSON-LD")),
    ("service", _u(f"{URL}sparql#default-dataset"), SD.defaultGraph, _u(f"{URL}sparql#default-graph")),
    ("service", _u(f"{URL}sparql#default-graph"), VOID.triples, _n(28453)),
]


@pytest.mark.parametrize(("graph", "s", "p", "o"), KEY_TRIPLES,
                         ids=[f"{g}-{i}-{p.split('/')[-1].split('#')[-1]}"
                              for i, (g, _s, p, _o) in enumerate(KEY_TRIPLES)])
def test_key_triple(graphs: dict[str, Graph], graph: str, s: URIRef, p: URIRef, o: URIRef) -> None:
    assert (s, p, o) in graphs[graph], f"missing in {graph}: {s.n3()} {p.n3()} {o.n3()}"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_no_blank_nodes(graphs: dict[str, Graph], name: str) -> None:
    blank = [t for t in graphs[name] if any(isinstance(term, BNode) for term in t)]
    assert blank == []


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_same_release_gives_same_triples(graphs: dict[str, Graph], name: str) -> None:
    assert set(BUILDERS[name]()) == set(graphs[name])


@pytest.mark.parametrize("federated", [False, True])
def test_basic_federated_query_only_when_enabled(federated: bool) -> None:
    service = _u(f"{URL}sparql#service")
    features = set(_service(federated=federated).objects(service, SD.feature))
    assert features == {SD.UnionDefaultGraph} | ({SD.BasicFederatedQuery} if federated else set())


def test_named_graphs_are_listed_with_their_size() -> None:
    graph = service_description(public_url=URL, named_graphs={"https://w3id.org/lod-ikz/def/": 1147})
    entries = list(graph.objects(None, SD.namedGraph))
    assert len(entries) == 1
    assert graph.value(entries[0], SD.name) == URIRef("https://w3id.org/lod-ikz/def/")
    assert int(graph.value(graph.value(entries[0], SD.graph), VOID.triples)) == 1147


def test_default_graph_size_only_when_given() -> None:
    assert (None, VOID.triples, None) not in _service(triples=None)


def test_void_lists_a_feature_per_dump_format(graphs: dict[str, Graph]) -> None:
    features = set(graphs["void"].objects(DATASET, VOID.feature))
    assert features == {FORMAT_TERMS[dump.format].w3c_format for dump in RELEASE.dumps}


def test_catalog_has_a_distribution_per_dump_and_one_for_the_endpoint(graphs: dict[str, Graph]) -> None:
    distributions = set(graphs["catalog"].subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) == len(RELEASE.dumps) + 1


def test_uncompressed_dump_has_no_compress_format(graphs: dict[str, Graph]) -> None:
    distribution = _u(f"{CATALOG}distribution-lod-ikz.ttl")
    assert (distribution, DCAT.compressFormat, None) not in graphs["catalog"]
    assert (distribution, DCAT.mediaType, _u(f"{IANA}text/turtle")) in graphs["catalog"]


def test_publisher_without_email_or_homepage_gets_no_contact_point() -> None:
    graph = _catalog(Publisher())
    assert (None, RDF.type, VCARD.Kind) not in graph
    assert (None, DCAT.contactPoint, None) not in graph
    assert (None, DCATDE.contributorID, None) not in graph


def test_publisher_own_iri_and_contributor_id() -> None:
    publisher = Publisher(name="Stadt Beispiel", email="a@example.de",
                          iri="http://www.wikidata.org/entity/Q1729",
                          contributor_id="http://dcat-ap.de/def/contributors/openNRW")
    graph = _catalog(publisher)
    agent = _u("http://www.wikidata.org/entity/Q1729")
    assert (_u(f"{CATALOG}dataset"), DCTERMS.publisher, agent) in graph
    assert (_u(f"{CATALOG}sparql-service"), DCTERMS.publisher, agent) in graph
    assert (_u(f"{CATALOG}dataset"), DCATDE.contributorID,
            _u("http://dcat-ap.de/def/contributors/openNRW")) in graph


def test_partition_of_an_iri_outside_known_namespaces_gets_a_hash_fragment() -> None:
    odd = "http://example.org/terms/has space?"
    info = replace(RELEASE, class_counts={odd: 1})
    graph = void_graph(info, public_url=URL, base_iri=BASE, license_iri=str(CC_BY))
    [partition] = graph.subjects(VOID["class"], _u(odd))
    assert str(partition).startswith(f"{VOID_DOC}#class-")
    assert " " not in str(partition) and "?" not in str(partition)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: DumpFile("lod-ikz.ttl", RdfFormat.TURTLE, False, 1, "ABC"), "64 lower-case hex"),
    (lambda: DumpFile("../etc/passwd", RdfFormat.TURTLE, False, 1, "a" * 64), "plain file name"),
    (lambda: DumpFile("x.ttl", RdfFormat.TURTLE, False, -1, "a" * 64), "must not be negative"),
    (lambda: Publisher(email="mailto:a@example.de"), "without 'mailto:'"),
    (lambda: replace(RELEASE, created=datetime(2026, 11, 25).isoformat()), "timezone-aware"),
    (lambda: replace(RELEASE, dumps=RELEASE.dumps[:1] * 2), "unique"),
    (lambda: void_graph(RELEASE, public_url="http://127.0.0.1:8000", base_iri=BASE), "ending in '/'"),
    (lambda: catalog_graph(RELEASE, public_url=URL, base_iri="w3id.org/x/"), "http(s) IRI"),
    (lambda: service_description(public_url="ftp://example.org/"), "http(s) URL"),
    (lambda: replace(RELEASE, created="yesterday"), "is not an ISO 8601 date and time"),
], ids=["sha256", "name", "size", "email", "naive-created", "duplicate-dump", "void-url",
        "catalog-base", "sd-url", "created-not-a-date"])
def test_bad_input_is_refused(build: Callable[[], object], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_created_in_another_timezone_is_accepted() -> None:
    created = datetime(2026, 11, 25, 17, 10, tzinfo=timezone(timedelta(hours=1)))
    catalog = catalog_graph(replace(RELEASE, created=created.isoformat()), public_url=URL, base_iri=BASE)
    stamps = {str(o) for o in catalog.objects(None, DCTERMS.modified)}
    assert stamps == {"2026-11-25T17:10:00+01:00"}


def test_dump_media_type_is_the_rdf_inside() -> None:
    dump = _dump("lod-ikz.nq.gz", RdfFormat.NQUADS, gzipped=True, size=1)
    assert (dump.media_type, dump.compress_format) == ("application/n-quads", "application/gzip")


def test_metadata_imports_neither_web_nor_cli() -> None:
    code = ("import sys, lod.release.metadata; "
            "print(','.join(m for m in ('flask', 'click', 'werkzeug') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_metadata_does_not_import_pyshacl() -> None:
    # The package imports pyshacl for lod.validation.pyshacl, so only the module's own imports can tell.
    tree = ast.parse(Path(lod.release.metadata.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in {"pyshacl", "flask", "click"}}


# --- GovData's official DCAT-AP.de 3.0 shapes -----------------------------------------------------

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
SHAPES = REFERENCE / "shapes"
# config.properties.txt, profile v30_de_spec: the DCAT-AP 3.0.0 shapes first, then GovData's files.
V30_DE_SPEC = (
    "semic-dcat-ap-3.0.0/dcat-ap-SHACL.ttl",
    "dcat-ap-de-3.0/dcat-ap-de-imports.ttl",
    "dcat-ap-de-3.0/dcat-ap-SHACL-DE.ttl",
    "dcat-ap-de-3.0/dcat-ap-de-deprecated.ttl",
    "dcat-ap-de-3.0/dcat-ap-spec-german-additions.ttl",
    "dcat-ap-de-3.0/dcat-ap-de-controlledvocabularies.ttl",
)
# The vocabularies dcat-ap-de-imports.ttl imports from the web and the reference folder lacks: the
# skos:inScheme statements of the concepts the catalog uses, as the EU authority tables, the
# DCAT-AP.de geocoding-level list and the SPDX ontology publish them. The vocabulary shapes test
# skos:inScheme on the value, so these statements must be in the data graph.
AUTHORITY_EXCERPT = f"""
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix spdx: <http://spdx.org/rdf/terms#> .
<{EU}language/DEU> skos:inScheme <{EU}language> .
<{EU}language/ENG> skos:inScheme <{EU}language> .
<{EU}data-theme/GOVE> skos:inScheme <{EU}data-theme> .
<{EU}access-right/PUBLIC> skos:inScheme <{EU}access-right> .
<{EU}file-type/RDF_TURTLE> skos:inScheme <{EU}file-type> .
<{EU}file-type/RDF_N_TRIPLES> skos:inScheme <{EU}file-type> .
<{EU}file-type/RDF_N_QUADS> skos:inScheme <{EU}file-type> .
<{EU}file-type/RDF_TRIG> skos:inScheme <{EU}file-type> .
<{EU}file-type/JSON_LD> skos:inScheme <{EU}file-type> .
<{EU}file-type/RDF_XML> skos:inScheme <{EU}file-type> .
<http://dcat-ap.de/def/politicalGeocoding/Level/federal>
    skos:inScheme <http://dcat-ap.de/def/politicalGeocoding/Level> .
spdx:checksumAlgorithm_sha256 a spdx:ChecksumAlgorithm .
"""


@pytest.fixture(scope="module")
def v30_de_spec() -> Graph:
    if not REFERENCE.is_dir():
        pytest.skip(f"GovData's reference shapes are not at {REFERENCE}")
    shapes = Graph()
    for name in V30_DE_SPEC:
        shapes.parse(SHAPES / name, format="turtle")
    return shapes


@pytest.fixture(scope="module")
def vocabularies(v30_de_spec: Graph) -> Graph:
    graph = Graph()  # a plain Graph: rdflib warns when RDF/XML is parsed into a Dataset
    for name in ("dcat-ap-de-licenses-open.rdf", "dcat-ap-de-contributors.rdf"):
        graph.parse(SHAPES / "govdata-dashboard" / name, format="xml")
    graph.parse(data=AUTHORITY_EXCERPT, format="turtle")
    return graph


def _without(subject: str, predicate: URIRef) -> Callable[[Graph], None]:
    def edit(graph: Graph) -> None:
        assert (_u(subject), predicate, None) in graph  # the case must remove something
        graph.remove((_u(subject), predicate, None))
    return edit


def _retyped_byte_size(graph: Graph) -> None:
    distribution = _u(f"{CATALOG}distribution-lod-ikz.ttl")
    size = graph.value(distribution, DCAT.byteSize)
    graph.set((distribution, DCAT.byteSize, Literal(int(str(size)), datatype=XSD.integer)))


def _unlisted_file_type(graph: Graph) -> None:
    graph.set((_u(f"{CATALOG}distribution-lod-ikz.ttl"), DCTERMS.format, _u(f"{EU}file-type/TTL")))


def _later_release(graph: Graph) -> None:
    """The catalog of a release that replaced another: dcat:previousVersion and version notes."""
    later = replace(RELEASE, previous="20260101T000000000Z-abcdef")
    changes = Changes(later.previous, triples_added=12, triples_removed=3, records_added=(f"{BASE}id/x",))
    graph.remove((None, None, None))
    graph += catalog_graph(later, public_url=URL, base_iri=BASE, license_iri=str(CC_BY), publisher=PUBLISHER,
                           changes=changes)
    assert (None, DCAT.previousVersion, None) in graph


SHAPE_CASES = [
    ("later-release", PUBLISHER, _later_release, True),
    ("complete", PUBLISHER, None, True),
    ("publisher-without-contact", Publisher(), None, True),
    ("publisher-with-contributor-id",
     Publisher(email="a@example.de", contributor_id="http://dcat-ap.de/def/contributors/openNRW"),
     None, True),
    ("dataset-without-title", PUBLISHER, _without(f"{CATALOG}dataset", DCTERMS.title), False),
    ("distribution-without-access-url", PUBLISHER,
     _without(f"{CATALOG}distribution-lod-ikz.nt.gz", DCAT.accessURL), False),
    ("distribution-without-license", PUBLISHER,
     _without(f"{CATALOG}distribution-lod-ikz.rdf", DCTERMS.license), False),
    ("contact-point-untyped", PUBLISHER, _without(f"{CATALOG}contact-point", RDF.type), False),
    ("service-without-endpoint", PUBLISHER,
     _without(f"{CATALOG}sparql-service", DCAT.endpointURL), False),
    ("byte-size-as-integer", PUBLISHER, _retyped_byte_size, False),
    ("file-type-outside-eu-list", PUBLISHER, _unlisted_file_type, False),
]


@pytest.mark.parametrize(("publisher", "edit", "conforms"), [case[1:] for case in SHAPE_CASES],
                         ids=[case[0] for case in SHAPE_CASES])
def test_catalog_against_govdata_v30_de_spec(
    v30_de_spec: Graph, vocabularies: Graph, publisher: Publisher,
    edit: Callable[[Graph], None] | None, conforms: bool,
) -> None:
    from pyshacl import validate  # only here: lod.release.metadata itself must not need pyshacl

    data = _catalog(publisher)
    if edit is not None:
        edit(data)
    data += vocabularies
    ok, report, text = validate(data, shacl_graph=v30_de_spec, inference="none",
                                allow_warnings=True)
    assert ok is conforms, text
    if conforms:  # and no warnings left either
        assert (None, RDF.type, _u("http://www.w3.org/ns/shacl#ValidationResult")) not in report, text
