"""Metadata about a release: its VoID description, its DCAT-AP.de 3.0 catalog entry and the SPARQL
1.1 service description of the endpoint that serves it.

Pure functions from typed release facts to rdflib graphs; nothing here reads files or speaks HTTP.
Every node is an IRI: the documents' own hash IRIs (``{public_url}catalog#dataset``,
``{public_url}.well-known/void#dataset``, ``{public_url}sparql#service``), so the same release gives
the same triples and every node can be looked up where it is described. ``docs/metadata.md``
lists the IRIs and vocabularies, and how the catalog is checked against GovData's shapes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TypeAlias

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from lod.errors import UsageError
from lod.formats import RdfFormat
from lod.messages import speaking, tr
from lod.rdf.mapping import IriMinter
from lod.release.changes import Changes
from lod.release.manifest import DumpFile, Manifest
from lod.vocab import (
    ACCESS_RIGHT,
    ADMS,
    COUNTRY,
    DATA_THEME,
    DCAT,
    DCATDE,
    DCTERMS,
    FILE_TYPE,
    FOAF,
    FORMATS,
    GEOCODING_LEVEL,
    LANGUAGE,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SD,
    SPDX,
    VCARD,
    VOID,
    XSD,
)

Triple: TypeAlias = tuple[Node, Node, Node]

# DCAT-AP.de's media-type list is IANA's registry under https; its shapes accept http too.
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

DEFAULT_LICENSE = "http://dcat-ap.de/def/licenses/cc-by/4.0"
"""Creative Commons Attribution 4.0, as GovData's licence list spells it (no trailing slash)."""

SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")

DEFAULT_TITLE: Mapping[str, str] = MappingProxyType({
    "de": "Interkommunale Zusammenarbeit in Deutschland",
    "en": "Inter-municipal cooperation in Germany",
})
DEFAULT_DESCRIPTION: Mapping[str, str] = MappingProxyType({
    "de": "Kommunen, Kreise und andere öffentliche Stellen in Deutschland und die Kooperationen "
          "zwischen ihnen: Mitgliedschaften, Ämter, Ereignisse und belegte Angaben, jeweils mit "
          "Quellen, als Linked Open Data.",
    "en": "Municipalities, districts and other public bodies in Germany and the cooperations "
          "between them: memberships, posts, events and sourced statements, as Linked Open Data.",
})
DEFAULT_KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "de": ("interkommunale Zusammenarbeit", "Kommunen", "Zweckverband", "Verwaltung",
           "Linked Open Data"),
    "en": ("inter-municipal cooperation", "municipalities", "public administration",
           "Linked Open Data"),
})
DEFAULT_THEMES: tuple[str, ...] = (str(DATA_THEME.GOVE),)


@dataclass(frozen=True, slots=True)
class _FormatTerms:
    label: str
    file_type: URIRef  # EU file-type authority, which DCAT-AP.de requires for dcterms:format
    w3c_format: URIRef  # W3C's format IRIs, which VoID and SPARQL Service Description use


FORMAT_TERMS: Mapping[RdfFormat, _FormatTerms] = MappingProxyType({
    RdfFormat.TURTLE: _FormatTerms("Turtle", FILE_TYPE.RDF_TURTLE, FORMATS.Turtle),
    RdfFormat.NTRIPLES: _FormatTerms("N-Triples", FILE_TYPE.RDF_N_TRIPLES, FORMATS["N-Triples"]),
    RdfFormat.NQUADS: _FormatTerms("N-Quads", FILE_TYPE.RDF_N_QUADS, FORMATS["N-Quads"]),
    RdfFormat.TRIG: _FormatTerms("TriG", FILE_TYPE.RDF_TRIG, FORMATS.TriG),
    RdfFormat.JSONLD: _FormatTerms("JSON-LD", FILE_TYPE.JSON_LD, FORMATS["JSON-LD"]),
    RdfFormat.RDFXML: _FormatTerms("RDF/XML", FILE_TYPE.RDF_XML, FORMATS.RDF_XML),
})
"""Each RDF format's names in the vocabularies metadata uses."""

RESULT_FORMATS: tuple[URIRef, ...] = (
    FORMATS.SPARQL_Results_JSON, FORMATS.SPARQL_Results_XML, FORMATS.SPARQL_Results_CSV,
    FORMATS.SPARQL_Results_TSV, FORMATS.Turtle, FORMATS["N-Triples"], FORMATS["JSON-LD"],
    FORMATS.RDF_XML,
)
"""What the endpoint answers in: SPARQL results for SELECT/ASK, RDF for CONSTRUCT/DESCRIBE."""

_LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who publishes the data, as the catalog names them.

    ``contributor_id`` is the publisher's entry in GovData's list of contributors
    (``http://dcat-ap.de/def/contributors/…``). That list names the systems that deliver to
    GovData directly and has no generic entry, so it is left out unless set; a publisher that
    delivers through a portal (e.g. ``…/contributors/openNRW``) sets that portal's entry.
    ``iri`` names the publisher by an IRI of its own (say its Wikidata entity); without it the
    publisher is the catalog's ``#publisher``.
    """

    name: str = "lod-ikz"
    homepage: str | None = None
    email: str | None = None
    contributor_id: str | None = None
    iri: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise UsageError("publisher name must not be empty")
        if self.email is not None and ("@" not in self.email or self.email.startswith("mailto:")):
            raise UsageError(f"publisher email {self.email!r} must be an address like "
                             "'info@example.org' (without 'mailto:')")


DEFAULT_PUBLISHER = Publisher()


@dataclass(frozen=True, slots=True)
class _Places:
    """Where the server publishes what, given its public URL."""

    public_url: str

    @property
    def endpoint(self) -> URIRef:
        return URIRef(f"{self.public_url}sparql")

    @property
    def void_doc(self) -> str:
        return f"{self.public_url}.well-known/void"

    @property
    def catalog_doc(self) -> str:
        return f"{self.public_url}catalog"

    def download(self, dump: DumpFile) -> URIRef:
        return URIRef(f"{self.public_url}download/{dump.name}")

    def release(self, release_id: str) -> URIRef:
        """A release as a version of the dataset (its catalog, while it is kept on disk)."""
        return URIRef(f"{self.public_url}releases/{release_id}")

    def release_dump(self, release_id: str, dump: DumpFile) -> URIRef:
        """A dump at the URL that names its release."""
        return URIRef(f"{self.release(release_id)}/dumps/{dump.name}")

    def in_catalog(self, fragment: str) -> URIRef:
        return URIRef(f"{self.catalog_doc}#{fragment}")

    def in_void(self, fragment: str) -> URIRef:
        return URIRef(f"{self.void_doc}#{fragment}")


# --- VoID ----------------------------------------------------------------------------------------


def void_graph(manifest: Manifest, *, public_url: str, base_iri: str,
               license_iri: str = DEFAULT_LICENSE, title: Mapping[str, str] = DEFAULT_TITLE,
               description: Mapping[str, str] = DEFAULT_DESCRIPTION) -> Graph:
    """The VoID description of a release, served at ``{public_url}.well-known/void``.

    >>> void_graph(manifest, public_url="http://127.0.0.1:8000/", base_iri=DEFAULT_BASE_IRI)  # doctest: +SKIP
    """
    places = _Places(_checked_url(public_url, "public URL"))
    IriMinter(base_iri)  # refuses a base that data IRIs could not be minted under
    return _graph(_void_triples(manifest, places, base_iri=base_iri, license_iri=license_iri,
                                title=title, description=description))


def _void_triples(manifest: Manifest, places: _Places, *, base_iri: str, license_iri: str,
                  title: Mapping[str, str], description: Mapping[str, str]) -> Iterator[Triple]:
    document = URIRef(places.void_doc)
    dataset = places.in_void("dataset")
    yield document, RDF.type, VOID.DatasetDescription
    yield document, DCTERMS.title, Literal("VoID-Beschreibung des Datensatzes", lang="de")
    yield document, DCTERMS.title, Literal("VoID description of the dataset", lang="en")
    yield document, FOAF.primaryTopic, dataset
    yield dataset, RDF.type, VOID.Dataset
    yield from _texts(dataset, DCTERMS.title, title)
    yield from _texts(dataset, DCTERMS.description, description)
    yield dataset, DCTERMS.license, URIRef(license_iri)
    yield from _release_dates(dataset, manifest)
    yield dataset, FOAF.homepage, URIRef(places.public_url)
    yield dataset, RDFS.seeAlso, URIRef(places.catalog_doc)  # the same dataset in DCAT terms
    if manifest.previous:
        yield dataset, PROV.wasRevisionOf, places.release(manifest.previous)
    yield dataset, VOID.sparqlEndpoint, places.endpoint
    for dump in manifest.dumps:
        yield dataset, VOID.dataDump, places.download(dump)
    for fmt in _formats(manifest.dumps):
        yield dataset, VOID.feature, FORMAT_TERMS[fmt].w3c_format
    yield dataset, VOID.triples, Literal(manifest.triples, datatype=XSD.integer)
    yield dataset, VOID.entities, Literal(manifest.entities, datatype=XSD.integer)
    yield dataset, VOID.uriSpace, Literal(f"{base_iri}id/")
    for vocabulary in sorted(manifest.vocabularies):
        yield dataset, VOID.vocabulary, URIRef(vocabulary)
    for example in sorted(manifest.example_resources):
        yield dataset, VOID.exampleResource, URIRef(example)
    for iri, count in sorted(manifest.class_counts.items()):
        partition = places.in_void(f"class-{_fragment_key(iri)}")
        yield dataset, VOID.classPartition, partition
        yield partition, VOID["class"], URIRef(iri)
        yield partition, VOID.entities, Literal(count, datatype=XSD.integer)
    for iri, count in sorted(manifest.property_counts.items()):
        partition = places.in_void(f"property-{_fragment_key(iri)}")
        yield dataset, VOID.propertyPartition, partition
        yield partition, VOID.property, URIRef(iri)
        yield partition, VOID.triples, Literal(count, datatype=XSD.integer)


# --- DCAT-AP.de 3.0 ------------------------------------------------------------------------------


def catalog_graph(manifest: Manifest, *, public_url: str, base_iri: str, changes: Changes | None = None,
                  license_iri: str = DEFAULT_LICENSE, publisher: Publisher = DEFAULT_PUBLISHER,
                  title: Mapping[str, str] = DEFAULT_TITLE,
                  description: Mapping[str, str] = DEFAULT_DESCRIPTION,
                  keywords: Mapping[str, Sequence[str]] = DEFAULT_KEYWORDS,
                  themes: Sequence[str] = DEFAULT_THEMES) -> Graph:
    """The DCAT-AP.de 3.0 catalog of a release, served at ``{public_url}catalog``: one catalog,
    one dataset, a distribution per dump and one for the SPARQL endpoint, and the endpoint as a
    data service. It conforms to GovData's ``v30_de_spec`` shapes (see ``docs/metadata.md``).

    ``base_iri`` is where the data's IRIs are minted; the dataset states ``{base_iri}id/`` as its
    ``void:uriSpace``, so a harvester can tell which resources belong to it. ``themes`` are IRIs
    of the EU data-theme authority; ``keywords`` are words by language tag. The dataset is the
    release: ``dcat:version`` names it, ``dcat:previousVersion`` the release it replaced, and
    ``adms:versionNotes`` says what ``changes`` since (in German and English).
    """
    places = _Places(_checked_url(public_url, "public URL"))
    IriMinter(base_iri)  # refuses a base that data IRIs could not be minted under
    license_ = URIRef(license_iri)
    agent = _publisher_iri(publisher, places)
    contact = places.in_catalog("contact-point") if (publisher.email or publisher.homepage) else None
    triples = [
        *_catalog_triples(manifest, places, agent, publisher),
        *_agent_triples(agent, publisher, contact),
        *_version_triples(manifest, places, changes),
        *_dataset_triples(manifest, places, agent, contact, base_iri=base_iri, title=title,
                          description=description, keywords=keywords, themes=themes,
                          contributor_id=publisher.contributor_id),
        *(t for dump in manifest.dumps for t in _dump_distribution(dump, manifest, places, license_)),
        *_endpoint_distribution(manifest, places, license_),
        *_service_triples(places, agent, contact, license_),
    ]
    return _graph(triples)


def _catalog_triples(manifest: Manifest, places: _Places, agent: URIRef,
                     publisher: Publisher) -> Iterator[Triple]:
    document = URIRef(places.catalog_doc)
    catalog = places.in_catalog("catalog")
    yield document, RDF.type, FOAF.Document
    yield document, FOAF.primaryTopic, catalog
    yield catalog, RDF.type, DCAT.Catalog
    yield catalog, DCTERMS.title, Literal(f"Datenkatalog von {publisher.name}", lang="de")
    yield catalog, DCTERMS.title, Literal(f"Data catalogue of {publisher.name}", lang="en")
    yield catalog, DCTERMS.description, Literal(
        f"Die Linked-Open-Data-Veröffentlichung von {publisher.name}: Datensatz, Downloads und "
        "SPARQL-Endpunkt.", lang="de")
    yield catalog, DCTERMS.description, Literal(
        f"The Linked Open Data publication of {publisher.name}: dataset, downloads and SPARQL "
        "endpoint.", lang="en")
    yield catalog, DCTERMS.publisher, agent
    yield catalog, FOAF.homepage, URIRef(places.public_url)
    for language in (LANGUAGE.DEU, LANGUAGE.ENG):
        yield catalog, DCTERMS.language, language
    yield catalog, DCTERMS.modified, _datetime(manifest.created_at)
    yield catalog, DCAT.dataset, places.in_catalog("dataset")
    yield catalog, DCAT.service, places.in_catalog("sparql-service")


def _publisher_iri(publisher: Publisher, places: _Places) -> URIRef:
    return URIRef(publisher.iri) if publisher.iri else places.in_catalog("publisher")


def _agent_triples(agent: URIRef, publisher: Publisher, contact: URIRef | None) -> Iterator[Triple]:
    yield agent, RDF.type, FOAF.Agent
    yield agent, FOAF.name, Literal(publisher.name)
    if publisher.homepage:
        yield agent, FOAF.homepage, URIRef(publisher.homepage)
    if contact is None:
        return
    # DCAT-AP.de's shapes find contact points by their class only, so the type is stated.
    yield contact, RDF.type, VCARD.Kind
    yield contact, VCARD.fn, Literal(publisher.name)
    if publisher.email:
        yield contact, VCARD.hasEmail, URIRef(f"mailto:{publisher.email}")
    if publisher.homepage:
        yield contact, VCARD.hasURL, URIRef(publisher.homepage)


def _dataset_triples(manifest: Manifest, places: _Places, agent: URIRef, contact: URIRef | None, *,
                     base_iri: str, title: Mapping[str, str], description: Mapping[str, str],
                     keywords: Mapping[str, Sequence[str]], themes: Sequence[str],
                     contributor_id: str | None) -> Iterator[Triple]:
    dataset = places.in_catalog("dataset")
    yield dataset, RDF.type, DCAT.Dataset
    yield from _texts(dataset, DCTERMS.title, title)
    yield from _texts(dataset, DCTERMS.description, description)
    yield dataset, DCTERMS.identifier, Literal(str(dataset))
    yield dataset, DCAT.version, Literal(manifest.release_id)
    yield dataset, DCTERMS.publisher, agent
    if contributor_id:
        yield dataset, DCATDE.contributorID, URIRef(contributor_id)
    if contact is not None:
        yield dataset, DCAT.contactPoint, contact
    for theme in themes:
        yield dataset, DCAT.theme, URIRef(theme)
    for language, words in sorted(keywords.items()):
        for word in words:
            yield dataset, DCAT.keyword, Literal(word, lang=language)
    for language in (LANGUAGE.DEU, LANGUAGE.ENG):
        yield dataset, DCTERMS.language, language
    yield dataset, DCTERMS.spatial, COUNTRY.DEU
    # dcterms:spatial's range, stated because DCAT-AP's shapes look for the class (as for the
    # geocoding IRIs of the data, docs/rdf.md).
    yield COUNTRY.DEU, RDF.type, DCTERMS.Location
    yield dataset, DCATDE.politicalGeocodingLevelURI, GEOCODING_LEVEL.federal
    yield dataset, DCTERMS.accessRights, ACCESS_RIGHT.PUBLIC
    yield from _release_dates(dataset, manifest)
    yield dataset, DCAT.landingPage, URIRef(places.public_url)
    yield dataset, RDFS.seeAlso, URIRef(places.void_doc)  # the same dataset in VoID terms
    yield dataset, VOID.uriSpace, Literal(f"{base_iri}id/")
    for dump in manifest.dumps:
        yield dataset, DCAT.distribution, places.in_catalog(f"distribution-{dump.name}")
    yield dataset, DCAT.distribution, places.in_catalog("distribution-sparql")


def _version_triples(manifest: Manifest, places: _Places, changes: Changes | None) -> Iterator[Triple]:
    dataset = places.in_catalog("dataset")
    if manifest.previous:
        yield dataset, DCAT.previousVersion, places.release(manifest.previous)
    for language in ("de", "en"):
        with speaking(language):
            notes = tr("the first release") if not manifest.previous else \
                changes.summary() if changes else tr("changes not recorded")
        yield dataset, ADMS.versionNotes, Literal(notes, lang=language)


def _dump_distribution(dump: DumpFile, manifest: Manifest, places: _Places,
                       license_: URIRef) -> Iterator[Triple]:
    distribution = places.in_catalog(f"distribution-{dump.name}")
    checksum = places.in_catalog(f"checksum-{dump.name}")
    label = FORMAT_TERMS[dump.format].label
    yield distribution, RDF.type, DCAT.Distribution
    yield distribution, DCTERMS.title, Literal(
        f"Gesamtabzug als {label}{' (gzip-komprimiert)' if dump.gzipped else ''}", lang="de")
    yield distribution, DCTERMS.title, Literal(
        f"Full dump as {label}{' (gzip-compressed)' if dump.gzipped else ''}", lang="en")
    # The download names the release, so that its bytes stay those of the size and checksum
    # stated here after newer releases are served; /download/ always gives the newest.
    yield distribution, DCAT.accessURL, places.download(dump)
    yield distribution, DCAT.downloadURL, places.release_dump(manifest.release_id, dump)
    yield distribution, DCTERMS.format, FORMAT_TERMS[dump.format].file_type
    yield distribution, DCAT.mediaType, URIRef(IANA_MEDIA_TYPES + dump.media_type)
    if dump.compress_format:
        yield distribution, DCAT.compressFormat, URIRef(IANA_MEDIA_TYPES + dump.compress_format)
    yield distribution, DCAT.byteSize, Literal(dump.size, datatype=XSD.nonNegativeInteger)
    yield distribution, SPDX.checksum, checksum
    yield checksum, RDF.type, SPDX.Checksum
    yield checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256
    yield checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)
    yield distribution, DCTERMS.license, license_
    yield from _release_dates(distribution, manifest)


def _endpoint_distribution(manifest: Manifest, places: _Places, license_: URIRef) -> Iterator[Triple]:
    # DCAT-AP 3 ties a dataset to the service that serves it through a distribution whose
    # dcat:accessService is that service.
    distribution = places.in_catalog("distribution-sparql")
    yield distribution, RDF.type, DCAT.Distribution
    yield distribution, DCTERMS.title, Literal("SPARQL-Endpunkt", lang="de")
    yield distribution, DCTERMS.title, Literal("SPARQL endpoint", lang="en")
    yield distribution, DCAT.accessURL, places.endpoint
    yield distribution, DCAT.accessService, places.in_catalog("sparql-service")
    yield distribution, DCTERMS.license, license_
    yield distribution, DCTERMS.modified, _datetime(manifest.created_at)


def _service_triples(places: _Places, agent: URIRef, contact: URIRef | None,
                     license_: URIRef) -> Iterator[Triple]:
    service = places.in_catalog("sparql-service")
    yield service, RDF.type, DCAT.DataService
    yield service, DCTERMS.title, Literal("SPARQL-1.1-Endpunkt", lang="de")
    yield service, DCTERMS.title, Literal("SPARQL 1.1 endpoint", lang="en")
    yield service, DCAT.endpointURL, places.endpoint
    # A GET on the endpoint without a query answers with its SPARQL service description.
    yield service, DCAT.endpointDescription, places.endpoint
    yield service, DCAT.servesDataset, places.in_catalog("dataset")
    yield service, DCTERMS.conformsTo, SPARQL_PROTOCOL
    yield service, DCTERMS.publisher, agent
    if contact is not None:
        yield service, DCAT.contactPoint, contact
    yield service, DCTERMS.license, license_
    yield service, DCTERMS.accessRights, ACCESS_RIGHT.PUBLIC


# --- SPARQL 1.1 Service Description --------------------------------------------------------------


def service_description(*, public_url: str, federated_query: bool = False,
                        default_graph_triples: int | None = None,
                        named_graphs: Mapping[str, int] | None = None) -> Graph:
    """The SPARQL 1.1 service description of ``{public_url}sparql``.

    Queries see the union of the store's graphs (the data and the vocabulary graph) as their
    default graph, so ``sd:UnionDefaultGraph`` is stated, and each named graph is listed with its
    size (``named_graphs``: graph IRI -> triples). ``sd:BasicFederatedQuery`` only when the server
    runs ``SERVICE`` clauses.
    """
    places = _Places(_checked_url(public_url, "public URL"))
    return _graph(_service_description_triples(places, federated_query=federated_query,
                                               default_graph_triples=default_graph_triples,
                                               named_graphs=named_graphs or {}))


def _service_description_triples(places: _Places, *, federated_query: bool,
                                 default_graph_triples: int | None,
                                 named_graphs: Mapping[str, int]) -> Iterator[Triple]:
    service = URIRef(f"{places.endpoint}#service")
    dataset = URIRef(f"{places.endpoint}#default-dataset")
    graph = URIRef(f"{places.endpoint}#default-graph")
    yield service, RDF.type, SD.Service
    yield service, SD.endpoint, places.endpoint
    yield service, SD.supportedLanguage, SD.SPARQL11Query
    for result_format in RESULT_FORMATS:
        yield service, SD.resultFormat, result_format
    yield service, SD.feature, SD.UnionDefaultGraph
    if federated_query:
        yield service, SD.feature, SD.BasicFederatedQuery
    yield service, SD.defaultDataset, dataset
    yield dataset, RDF.type, SD.Dataset
    yield dataset, SD.defaultGraph, graph
    yield graph, RDF.type, SD.Graph
    if default_graph_triples is not None:
        yield graph, VOID.triples, Literal(default_graph_triples, datatype=XSD.integer)
    for number, (name, triples) in enumerate(sorted(named_graphs.items())):
        entry, described = URIRef(f"{places.endpoint}#named-graph-{number}"), URIRef(
            f"{places.endpoint}#named-graph-{number}-graph")
        yield dataset, SD.namedGraph, entry
        yield entry, RDF.type, SD.NamedGraph
        yield entry, SD.name, URIRef(name)
        yield entry, SD.graph, described
        yield described, RDF.type, SD.Graph
        yield described, VOID.triples, Literal(triples, datatype=XSD.integer)


# --- shared pieces -------------------------------------------------------------------------------

_EXTRA_PREFIXES: dict[str, Namespace] = {
    "dcat": DCAT, "void": VOID, "spdx": SPDX, "dcatde": DCATDE,
    "sd": SD, "formats": FORMATS,
}


def _graph(triples: Iterable[Triple]) -> Graph:
    graph = Graph()
    for prefix, namespace in {**PREFIXES, **_EXTRA_PREFIXES}.items():
        graph.bind(prefix, namespace, replace=True)
    for triple in triples:
        graph.add(triple)
    return graph


def _checked_url(url: str, what: str) -> str:
    if not url.startswith(("http://", "https://")) or not url.endswith("/"):
        raise UsageError(f"{what} {url!r} must be an http(s) URL ending in '/'")
    return url


def _texts(subject: URIRef, predicate: URIRef, texts: Mapping[str, str]) -> Iterator[Triple]:
    for language, text in sorted(texts.items()):
        yield subject, predicate, Literal(text, lang=language)


def _datetime(value: datetime) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.dateTime)


def _release_dates(subject: URIRef, manifest: Manifest) -> Iterator[Triple]:
    # A release is published as a whole when it is built, so it is issued when it is created.
    yield subject, DCTERMS.issued, _datetime(manifest.created_at)
    yield subject, DCTERMS.modified, _datetime(manifest.created_at)


def _formats(dumps: Iterable[DumpFile]) -> list[RdfFormat]:
    present = {dump.format for dump in dumps}
    return [fmt for fmt in RdfFormat if fmt in present]


def _fragment_key(iri: str) -> str:
    """A readable, stable fragment for a class or property: ``org-Organization`` for a term of a
    known namespace, else a hash of the IRI (which may hold characters a fragment cannot)."""
    for prefix, namespace in {**PREFIXES, **_EXTRA_PREFIXES}.items():
        base = str(namespace)
        if iri.startswith(base) and _LOCAL_NAME.fullmatch(iri[len(base):]):
            return f"{prefix}-{iri[len(base):]}"
    return hashlib.sha256(iri.encode()).hexdigest()[:16]


__all__ = [
    "DEFAULT_LICENSE",
    "FORMAT_TERMS",
    "RESULT_FORMATS",
    "Publisher",
    "catalog_graph",
    "service_description",
    "void_graph",
]
