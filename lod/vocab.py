"""Namespaces and IRI constants. Imports nothing but rdflib."""

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, TIME, XSD, DefinedNamespace

IKZ = Namespace("https://w3id.org/lod-ikz/def/")
"""The project's own vocabulary and concept schemes; fixed, whatever server publishes the data."""

IKZSH = Namespace("https://w3id.org/lod-ikz/shapes/")
CV = Namespace("http://data.europa.eu/m8g/")
SCHEMA = Namespace("https://schema.org/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SH = Namespace("http://www.w3.org/ns/shacl#")
WIKIDATA = Namespace("http://www.wikidata.org/entity/")
LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
GEOCODING = Namespace("http://dcat-ap.de/def/politicalGeocoding/")

# The catalogue's and the service's vocabularies. Plain namespaces rather than rdflib's DCAT,
# which predates DCAT 3 (no dcat:version) and warns.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VOID = Namespace("http://rdfs.org/ns/void#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
DATA_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
COUNTRY = Namespace("http://publications.europa.eu/resource/authority/country/")
GEOCODING_LEVEL = Namespace("http://dcat-ap.de/def/politicalGeocoding/Level/")

DEFAULT_BASE_IRI = "https://w3id.org/lod-ikz/"
"""Where data IRIs are minted unless a publisher configures its own base."""

PREFIXES: dict[str, Namespace | type[DefinedNamespace]] = {
    "ikz": IKZ,
    "org": ORG,
    "cv": CV,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "time": TIME,
    "foaf": FOAF,
    "vcard": VCARD,
    "schema": SCHEMA,
    "adms": ADMS,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
}


QUERY_PREFIXES: dict[str, str] = {name: str(namespace) for name, namespace in PREFIXES.items()}
"""Declared for every query, as Virtuoso and the Wikidata service do: the prefixes of the
vocabularies the data uses (a query's own PREFIX wins)."""


def concept(scheme: str, notation: str) -> URIRef:
    """The IRI of a concept: ``concept("topic", "open-source")`` is ``ikz:topic/open-source``."""
    return IKZ[f"{scheme}/{notation}"]


def scheme(name: str) -> URIRef:
    """The IRI of a concept scheme, e.g. ``ikz:organisation-kind``."""
    return IKZ[name]


__all__ = [
    "ADMS",
    "CV",
    "DCTERMS",
    "DEFAULT_BASE_IRI",
    "FOAF",
    "GEOCODING",
    "IKZ",
    "IKZSH",
    "LANGUAGE",
    "ORG",
    "OWL",
    "PREFIXES",
    "PROV",
    "QUERY_PREFIXES",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SH",
    "SKOS",
    "TIME",
    "VCARD",
    "WIKIDATA",
    "XSD",
    "concept",
    "scheme",
]
