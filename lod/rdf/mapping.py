"""Records to RDF on standard vocabularies (W3C ORG, CPOV, SKOS, DCTERMS, PROV-O, OWL-Time,
schema.org, FOAF, vCard), as ``docs/rdf.md`` describes, and the IRIs records get.

The same records always give the same triples: parts of a record (an address, an interval) are
hash IRIs of the record rather than blank nodes, so dumps of equal data are equal byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TypeAlias

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from lod.errors import UsageError
from lod.records.model import (
    Cooperation,
    Dataset,
    Event,
    Membership,
    Organisation,
    PartialDate,
    Person,
    Post,
    Record,
    Source,
    Statement,
    Tenure,
)
from lod.vocab import (
    ADMS,
    CV,
    DCTERMS,
    DEFAULT_BASE_IRI,
    FOAF,
    GEOCODING,
    IKZ,
    LANGUAGE,
    ORG,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    SCHEMA,
    SKOS,
    TIME,
    VCARD,
    WIKIDATA,
    XSD,
    concept,
)

Triple: TypeAlias = tuple[Node, Node, Node]

_PUBLIC = (ORG.FormalOrganization, CV.PublicOrganisation)
_FORMAL = (ORG.FormalOrganization,)
ORGANISATION_CLASSES: dict[str, tuple[URIRef, ...]] = {
    "municipality": _PUBLIC,
    "district": _PUBLIC,
    "federal-authority": _PUBLIC,
    "state-authority": _PUBLIC,
    "zweckverband": _PUBLIC,
    "land": _PUBLIC,
    "government-region": _PUBLIC,
    "district-free-city": _PUBLIC,
    "municipal-association": _PUBLIC,
    "association": _FORMAL,
    "company": _FORMAL,
    "research-institute": _FORMAL,
    "university": _FORMAL,
    "it-service-provider": _FORMAL,
    "programme-consortium": (ORG.OrganizationalCollaboration,),
    "organisational-unit": (ORG.OrganizationalUnit,),
}
"""Classes an organisation has besides ``org:Organization``, by its kind."""

ARS_GEOCODING = {2: "stateKey", 3: "governmentDistrictKey", 5: "districtKey",
                 9: "municipalAssociationKey", 12: "regionalKey"}
"""The DCAT-AP.de geocoding vocabulary that names the area of an ARS of each length."""

COOPERATION_CLASSES: dict[str, tuple[URIRef, ...]] = {"zweckverband": _PUBLIC}
"""Classes a cooperation has besides ``org:OrganizationalCollaboration``, by its kind."""

ISO_639_3 = {"de": "DEU", "en": "ENG", "fr": "FRA", "nl": "NLD", "pl": "POL", "da": "DAN",
             "cs": "CES", "it": "ITA", "es": "SPA"}
"""EU language authority codes for the document languages sources are written in."""

_DATE_TYPES = {"year": XSD.gYear, "month": XSD.gYearMonth, "day": XSD.date}
_INSTANT_PROPERTIES = {"year": TIME.inXSDgYear, "month": TIME.inXSDgYearMonth,
                       "day": TIME.inXSDDate}


def date_literal(value: PartialDate) -> Literal:
    """``2014`` as ``xsd:gYear``, ``2016-09`` as ``xsd:gYearMonth``, a full date as ``xsd:date``."""
    return Literal(str(value), datatype=_DATE_TYPES[value.precision])


def number_literal(value: Decimal) -> Literal:
    """A whole number as ``xsd:integer`` (``"39"``), any other as ``xsd:decimal`` (``"2.5"``).

    A count is a whole number, so it is an integer. Each literal is in the canonical form of XSD
    1.1, which Oxigraph keeps its numbers in: rdflib (``lod export``) and Oxigraph (the release's
    store and dumps) then write the same literal. ``"39.0"^^xsd:decimal`` would come out of
    Oxigraph as ``"39"``.

    >>> number_literal(Decimal("39.0")), number_literal(Decimal("2.50"))  # doctest: +SKIP
    (Literal('39', datatype=xsd:integer), Literal('2.5', datatype=xsd:decimal))
    """
    if value == value.to_integral_value():
        return Literal(str(int(value)), datatype=XSD.integer)
    return decimal_literal(value)


def decimal_literal(value: Decimal) -> Literal:
    """``value`` as an ``xsd:decimal`` in the canonical form of XSD 1.1, as Oxigraph writes it:
    no trailing zero, no point for a whole number, no sign for zero.

    >>> decimal_literal(Decimal("51.90")), decimal_literal(Decimal("-0.0"))  # doctest: +SKIP
    (Literal('51.9', datatype=xsd:decimal), Literal('0', datatype=xsd:decimal))
    """
    return Literal("0" if value == 0 else format(value.normalize(), "f"), datatype=XSD.decimal)


class IriMinter:
    """Mints ``{base}id/{type}/{slug}``; the base is a publisher's choice, the pattern is fixed."""

    def __init__(self, base_iri: str = DEFAULT_BASE_IRI) -> None:
        if not base_iri.startswith(("http://", "https://")) or not base_iri.endswith("/"):
            raise UsageError(f"base IRI {base_iri!r} must be an http(s) IRI ending in '/'")
        self.base_iri = base_iri

    def __call__(self, kind_name: str, slug: str) -> URIRef:
        return URIRef(f"{self.base_iri}id/{kind_name}/{slug}")

    def of(self, record: Record) -> URIRef:
        return self(record.kind_name, record.slug)


def to_graph(dataset: Dataset, *, base_iri: str = DEFAULT_BASE_IRI) -> Graph:
    """The dataset as an rdflib graph, with the usual prefixes bound.

    >>> graph = to_graph(read_records("data/"))    # doctest: +SKIP
    """
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, replace=True)
    graph.addN((s, p, o, graph) for s, p, o in triples(dataset, base_iri=base_iri))
    return graph


def record_iris(dataset: Dataset, *, base_iri: str = DEFAULT_BASE_IRI) -> dict[URIRef, Record]:
    """Every record by the IRI it is published under."""
    mint = IriMinter(base_iri)
    return {mint.of(record): record for record in dataset.records()}


def triples(dataset: Dataset, *, base_iri: str = DEFAULT_BASE_IRI) -> Iterator[Triple]:
    """Every triple of the dataset, record by record."""
    return _Mapper(dataset, IriMinter(base_iri)).triples()


class _Mapper:
    def __init__(self, dataset: Dataset, mint: IriMinter) -> None:
        self.dataset = dataset
        self.mint = mint
        # Organisations and cooperations share one slug space; a reference may name either.
        self.party_kind = {o.slug: "organisation" for o in dataset.organisations}
        self.party_kind.update((c.slug, "cooperation") for c in dataset.cooperations)
        self.organisation_kind = {o.slug: o.kind for o in dataset.organisations}
        self.posts = {p.slug: p for p in dataset.posts}
        self.source_language = {s.slug: s.language for s in dataset.sources}

    def party(self, slug: str) -> URIRef:
        return self.mint(self.party_kind[slug], slug)

    def triples(self) -> Iterator[Triple]:
        d = self.dataset
        for source in d.sources:
            yield from self.source(source)
        for organisation in d.organisations:
            yield from self.organisation(organisation)
        for cooperation in d.cooperations:
            yield from self.cooperation(cooperation)
        for membership in d.memberships:
            yield from self.membership(membership)
        for person in d.people:
            yield from self.person(person)
        for post in d.posts:
            yield from self.post(post)
        for tenure in d.tenures:
            yield from self.tenure(tenure)
        for event in d.events:
            yield from self.event(event)
        for statement in d.statements:
            yield from self.statement(statement)

    # --- shared pieces ---------------------------------------------------------------------

    def provenance(self, subject: URIRef, sources: Iterable[str]) -> Iterator[Triple]:
        for slug in sources:
            yield subject, PROV.wasDerivedFrom, self.mint("source", slug)

    @staticmethod
    def texts(subject: Node, predicate: URIRef, *pairs: tuple[str | None, str]) -> Iterator[Triple]:
        for text, language in pairs:
            if text:
                yield subject, predicate, Literal(text, lang=language)

    @staticmethod
    def homepage(subject: URIRef, url: str | None) -> Iterator[Triple]:
        if url:
            page = URIRef(url)
            yield subject, FOAF.homepage, page
            yield page, RDF.type, FOAF.Document  # CPOV expects the homepage typed as a document

    def interval(self, subject: URIRef, *, start: PartialDate | None, end: PartialDate | None,
                 inside: PartialDate | None = None) -> Iterator[Triple]:
        if not (start or end or inside):
            return
        interval = URIRef(f"{subject}#interval")
        yield subject, ORG.memberDuring, interval
        yield interval, RDF.type, TIME.Interval
        for predicate, name, value in ((TIME.hasBeginning, "start", start),
                                       (TIME.hasEnd, "end", end), (TIME.inside, "as-of", inside)):
            if value:
                instant = URIRef(f"{subject}#{name}")
                yield interval, predicate, instant
                yield instant, RDF.type, TIME.Instant
                yield instant, _INSTANT_PROPERTIES[value.precision], date_literal(value)

    # --- records ---------------------------------------------------------------------------

    def source(self, s: Source) -> Iterator[Triple]:
        iri = self.mint.of(s)
        yield iri, RDF.type, SCHEMA.Article
        yield iri, RDF.type, PROV.Entity
        yield iri, DCTERMS.type, concept("source-kind", s.kind)
        yield iri, DCTERMS.title, Literal(s.title, lang=s.language)
        code = ISO_639_3.get(s.language)
        if code:
            yield iri, DCTERMS.language, LANGUAGE[code]
        if s.date:
            yield iri, DCTERMS.issued, date_literal(s.date)
        if s.as_of:
            yield iri, SCHEMA.temporalCoverage, date_literal(s.as_of)
        for slug in s.publisher:
            yield iri, DCTERMS.publisher, self.party(slug)
        if s.publisher_name:
            publisher = URIRef(f"{iri}#publisher")
            yield iri, DCTERMS.publisher, publisher
            yield publisher, RDF.type, FOAF.Agent
            yield publisher, FOAF.name, Literal(s.publisher_name)
        if s.author:
            author = URIRef(f"{iri}#author")
            yield iri, SCHEMA.author, author
            yield author, RDF.type, SCHEMA.Person
            yield author, SCHEMA.name, Literal(s.author)
        if s.url:
            yield iri, SCHEMA.url, URIRef(s.url)
        if s.document:
            yield iri, DCTERMS.identifier, Literal(s.document)

    def organisation(self, o: Organisation) -> Iterator[Triple]:
        iri = self.mint.of(o)
        yield iri, RDF.type, ORG.Organization
        for cls in ORGANISATION_CLASSES.get(o.kind, ()):
            yield iri, RDF.type, cls
        yield iri, ORG.classification, concept("organisation-kind", o.kind)
        yield from self.names(iri, o.name_de, o.name_en, o.alt_names, o.description_de,
                              o.description_en)
        for key, prop, kind in ((o.ags, IKZ.ags, "municipalityKey"),
                                (o.kreisschluessel, IKZ.kreisschluessel, "districtKey"),
                                (o.ars, IKZ.ars, ARS_GEOCODING[len(o.ars or "12")])):
            if key:
                place = GEOCODING[f"{kind}/{key}"]
                yield iri, prop, Literal(key)
                yield iri, DCTERMS.spatial, place
                yield place, RDF.type, DCTERMS.Location
        # The area of a territorial body lies in theirs (docs/rdf.md says why not org:subOrganizationOf).
        for slug in o.located_in:
            yield iri, SCHEMA.containedInPlace, self.mint("organisation", slug)
        if o.status:
            yield iri, ADMS.status, concept("organisation-status", o.status)
        if o.wikidata:
            yield iri, OWL.sameAs, WIKIDATA[o.wikidata]
        yield from self.homepage(iri, o.homepage)
        if o.street or o.postal_code or o.locality:
            site, address = URIRef(f"{iri}#site"), URIRef(f"{iri}#address")
            yield iri, ORG.hasPrimarySite, site
            yield site, RDF.type, ORG.Site
            yield site, ORG.siteAddress, address
            yield address, RDF.type, VCARD.Address
            for predicate, value in ((VCARD["street-address"], o.street),
                                     (VCARD["postal-code"], o.postal_code),
                                     (VCARD.locality, o.locality),
                                     (VCARD["country-name"], o.country or "DE")):
                if value:
                    yield address, predicate, Literal(value)
        if o.latitude is not None and o.longitude is not None:
            geo = URIRef(f"{iri}#geo")
            yield iri, SCHEMA.geo, geo
            yield geo, RDF.type, SCHEMA.GeoCoordinates
            yield geo, SCHEMA.latitude, decimal_literal(o.latitude)
            yield geo, SCHEMA.longitude, decimal_literal(o.longitude)
        if o.parent:
            parent = self.mint("organisation", o.parent)
            yield iri, ORG.subOrganizationOf, parent
            yield parent, ORG.hasSubOrganization, iri
            # CPOV makes org:unitOf a relation to a public organisation; a unit of a company or an
            # institute is only its sub-organisation.
            parent_kind = self.organisation_kind.get(o.parent, "")
            if o.kind == "organisational-unit" and CV.PublicOrganisation in ORGANISATION_CLASSES.get(
                    parent_kind, ()):
                yield iri, ORG.unitOf, parent
                yield parent, ORG.hasUnit, iri
        yield from self.provenance(iri, o.sources)

    def names(self, iri: URIRef, name_de: str, name_en: str | None, alt_names: Iterable[str],
              description_de: str | None, description_en: str | None) -> Iterator[Triple]:
        yield from self.texts(iri, SKOS.prefLabel, (name_de, "de"), (name_en, "en"))
        yield from self.texts(iri, SKOS.altLabel, *((name, "de") for name in alt_names))
        yield from self.texts(iri, DCTERMS.description, (description_de, "de"),
                              (description_en, "en"))

    def cooperation(self, c: Cooperation) -> Iterator[Triple]:
        iri = self.mint.of(c)
        yield iri, RDF.type, ORG.OrganizationalCollaboration
        for cls in COOPERATION_CLASSES.get(c.kind, ()):
            yield iri, RDF.type, cls
        yield iri, ORG.classification, concept("cooperation-kind", c.kind)
        yield from self.names(iri, c.name_de, c.name_en, c.alt_names, c.description_de,
                              c.description_en)
        for topic in c.topics:
            yield iri, DCTERMS.subject, concept("topic", topic)
        if c.start:
            yield iri, SCHEMA.foundingDate, date_literal(c.start)
        if c.end:
            yield iri, SCHEMA.dissolutionDate, date_literal(c.end)
        if c.status:
            yield iri, ADMS.status, concept("cooperation-status", c.status)
        if c.part_of:
            yield iri, DCTERMS.isPartOf, self.mint("cooperation", c.part_of)
        if c.continues:
            yield iri, IKZ.continues, self.mint("cooperation", c.continues)
        yield from self.homepage(iri, c.homepage)
        yield from self.provenance(iri, c.sources)

    def membership(self, m: Membership) -> Iterator[Triple]:
        iri = self.mint.of(m)
        yield iri, RDF.type, ORG.Membership
        yield iri, ORG.member, self.party(m.member)
        yield iri, ORG.organization, self.party(m.organisation)
        for role in m.roles:
            yield iri, ORG.role, concept("membership-role", role)
        yield from self.interval(iri, start=m.start, end=m.end)
        yield from self.provenance(iri, m.sources)

    def person(self, p: Person) -> Iterator[Triple]:
        iri = self.mint.of(p)
        yield iri, RDF.type, FOAF.Person
        yield iri, FOAF.name, Literal(p.name)
        if p.honorific_prefix:
            yield iri, SCHEMA.honorificPrefix, Literal(p.honorific_prefix)
        yield from self.provenance(iri, p.sources)

    def post(self, p: Post) -> Iterator[Triple]:
        iri, organisation = self.mint.of(p), self.party(p.organisation)
        yield iri, RDF.type, ORG.Post
        yield iri, ORG.postIn, organisation
        yield organisation, ORG.hasPost, iri
        yield iri, ORG.role, concept("post-role", p.role)
        yield from self.texts(iri, SKOS.prefLabel, (p.label_de, "de"), (p.label_en, "en"))
        yield from self.provenance(iri, p.sources)

    def tenure(self, t: Tenure) -> Iterator[Triple]:
        iri, post = self.mint.of(t), self.posts[t.post]
        post_iri, person = self.mint.of(post), self.mint("person", t.person)
        yield post_iri, ORG.heldBy, person
        yield person, ORG.holds, post_iri
        yield iri, RDF.type, ORG.Membership
        yield iri, ORG.member, person
        yield iri, ORG.organization, self.party(post.organisation)
        yield iri, ORG.role, concept("post-role", post.role)
        yield iri, IKZ.post, post_iri
        yield from self.interval(iri, start=t.start, end=t.end, inside=t.as_of)
        yield from self.provenance(iri, t.sources)

    def event(self, e: Event) -> Iterator[Triple]:
        iri = self.mint.of(e)
        yield iri, RDF.type, SCHEMA.Event
        yield iri, DCTERMS.type, concept("event-kind", e.kind)
        yield from self.texts(iri, SCHEMA.name, (e.name_de, "de"), (e.name_en, "en"))
        yield iri, SCHEMA.startDate, date_literal(e.date)
        if e.end_date:
            yield iri, SCHEMA.endDate, date_literal(e.end_date)
        if e.place or e.locality:
            place = URIRef(f"{iri}#place")
            yield iri, SCHEMA.location, place
            yield place, RDF.type, SCHEMA.Place
            if e.place:
                yield place, SCHEMA.name, Literal(e.place, lang="de")
            if e.locality:
                address = URIRef(f"{iri}#address")
                yield place, SCHEMA.address, address
                yield address, RDF.type, SCHEMA.PostalAddress
                yield address, SCHEMA.addressLocality, Literal(e.locality)
        for predicate, slugs in ((SCHEMA.organizer, e.organisers), (SCHEMA.attendee, e.participants),
                                 (SCHEMA.about, e.about)):
            for slug in slugs:
                yield iri, predicate, self.party(slug)
        for slug in e.people:
            yield iri, SCHEMA.attendee, self.mint("person", slug)
        yield from self.texts(iri, SCHEMA.description, (e.description_de, "de"))
        yield from self.provenance(iri, e.sources)

    def statement(self, s: Statement) -> Iterator[Triple]:
        iri = self.mint.of(s)
        yield iri, RDF.type, SCHEMA.Observation
        yield iri, SCHEMA.observationAbout, self.party(s.subject)
        yield iri, SCHEMA.variableMeasured, concept("indicator", s.indicator)
        yield iri, SCHEMA.value, number_literal(s.value)
        yield iri, IKZ.valueQualifier, concept("value-qualifier", s.qualifier or "exactly")
        yield iri, SCHEMA.observationDate, date_literal(s.as_of)
        if s.quote:
            yield iri, SCHEMA.description, Literal(s.quote, lang=self.source_language[s.sources[0]])
        yield from self.provenance(iri, s.sources)
