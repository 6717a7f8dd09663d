"""The formats `lod` reads and writes, in one table each: RDF serialisations and SPARQL results.

Every other module asks these tables for media types, file extensions, the names clients use for a
format (in ``format=``, SPARQLWrapper's return formats, a remote answer's ``Content-Type``) and the
parsers' and writers' names; none keeps a list of its own.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import pyoxigraph as ox

from lod.errors import UsageError

__all__ = ["SERVED_RDF_FORMATS", "RdfFormat", "ResultFormat", "content_type"]

_UTF8_ONLY = ("application/n-triples", "application/n-quads")


def content_type(media_type: str) -> str:
    """The ``Content-Type`` for a document of ``media_type``, which `lod` always writes in UTF-8.

    ``text/*`` defaults to US-ASCII (RFC 6838 §4.2.1), so the charset is named; N-Triples and
    N-Quads are UTF-8 by definition and register no charset parameter."""
    return media_type if media_type in _UTF8_ONLY else f"{media_type}; charset=utf-8"


class RdfFormat(Enum):
    """An RDF 1.1 serialisation.

    Values: (label, media type, extensions, rdflib's name, has graphs, other names, generic media
    type). *Other names* are what clients also call it; the *generic media type* is what a client
    may put in ``Accept`` meaning this format (``application/json`` for JSON-LD)."""

    TURTLE = ("turtle", "text/turtle", (".ttl",), "turtle", False,
              ("n3", "text/n3", "text/rdf+n3", "application/turtle", "application/x-turtle"), None)
    NTRIPLES = ("ntriples", "application/n-triples", (".nt",), "nt11", False,
                ("n-triples", "text/plain"), None)  # text/plain: as older stores (Virtuoso) label it
    NQUADS = ("nquads", "application/n-quads", (".nq",), "nquads", True, ("n-quads",), None)
    TRIG = ("trig", "application/trig", (".trig",), "trig", True, (), None)
    JSONLD = ("jsonld", "application/ld+json", (".jsonld",), "json-ld", True,
              ("json-ld", "json", "application/json"), "application/json")
    RDFXML = ("rdfxml", "application/rdf+xml", (".rdf", ".owl"), "xml", False,
              ("rdf+xml", "xml", "application/xml"), None)

    def __init__(
        self, label: str, media_type: str, extensions: tuple[str, ...], rdflib_name: str,
        has_graphs: bool, other_names: tuple[str, ...], generic_media_type: str | None,
    ) -> None:
        self.label = label
        self.media_type = media_type
        self.extensions = extensions
        self.rdflib_name = rdflib_name
        self.has_graphs = has_graphs
        self.generic_media_type = generic_media_type
        self.names = tuple(dict.fromkeys((label, media_type, *(e.lstrip(".") for e in extensions),
                                          *other_names)))
        """Every name a client may use for the format, lower case: label, media type, extensions."""

    @property
    def extension(self) -> str:
        return self.extensions[0]

    @property
    def content_type(self) -> str:
        return content_type(self.media_type)

    @property
    def oxigraph(self) -> ox.RdfFormat:
        return _OXIGRAPH[self]

    @classmethod
    def from_label(cls, label: str) -> RdfFormat:
        """The format of one of its names (``turtle``, ``text/turtle``, ``ttl``, ``n3`` …)."""
        wanted = label.partition(";")[0].strip().lower()
        for fmt in cls:
            if wanted in fmt.names:
                return fmt
        allowed = ", ".join(fmt.label for fmt in cls)
        raise UsageError(f"unknown RDF format {label!r}; allowed: {allowed}")

    @classmethod
    def from_path(cls, path: str | Path) -> tuple[RdfFormat, bool]:
        """The format of a file by its extension, and whether it is gzip-compressed."""
        name = Path(path).name.lower()
        gzipped = name.endswith(".gz")
        if gzipped:
            name = name[: -len(".gz")]
        for fmt in cls:
            if name.endswith(fmt.extensions):
                return fmt, gzipped
        allowed = ", ".join(ext for fmt in cls for ext in fmt.extensions)
        raise UsageError(f"{path}: cannot tell the RDF format from the extension; use one of {allowed}")


_OXIGRAPH = {
    RdfFormat.TURTLE: ox.RdfFormat.TURTLE,
    RdfFormat.NTRIPLES: ox.RdfFormat.N_TRIPLES,
    RdfFormat.NQUADS: ox.RdfFormat.N_QUADS,
    RdfFormat.TRIG: ox.RdfFormat.TRIG,
    RdfFormat.JSONLD: ox.RdfFormat.JSON_LD,
    RdfFormat.RDFXML: ox.RdfFormat.RDF_XML,
}

SERVED_RDF_FORMATS = (RdfFormat.TURTLE, RdfFormat.JSONLD, RdfFormat.NTRIPLES, RdfFormat.RDFXML)
"""What a graph is served as over HTTP (a CONSTRUCT or DESCRIBE result, a resource's document, VoID,
the catalogue), in the server's order of preference: the first is the default."""


class ResultFormat(Enum):
    """A SPARQL 1.1 query results format, in the server's order of preference.

    Values: (label, media type, file extension, other names, generic media type), as for
    ``RdfFormat``; the label is also rdflib's name for the format's result parser."""

    JSON = ("json", "application/sparql-results+json", ".srj", ("application/json",), "application/json")
    XML = ("xml", "application/sparql-results+xml", ".srx", ("application/xml", "text/xml"),
           "application/xml")
    CSV = ("csv", "text/csv", ".csv", (), None)
    TSV = ("tsv", "text/tab-separated-values", ".tsv", (), None)

    def __init__(self, label: str, media_type: str, extension: str, other_names: tuple[str, ...],
                 generic_media_type: str | None) -> None:
        self.label = label
        self.media_type = media_type
        self.extension = extension
        self.generic_media_type = generic_media_type
        self.names = (label, media_type, *other_names)

    @property
    def content_type(self) -> str:
        return content_type(self.media_type)

    @property
    def oxigraph(self) -> ox.QueryResultsFormat:
        return getattr(ox.QueryResultsFormat, self.name)  # type: ignore[no-any-return]

    @classmethod
    def from_label(cls, label_or_media_type: str) -> ResultFormat:
        """The format named by its label (``json``) or media type (``text/csv; charset=utf-8``)."""
        wanted = label_or_media_type.partition(";")[0].strip().lower()
        for fmt in cls:
            if wanted in fmt.names:
                return fmt
        allowed = ", ".join(f"{fmt.label} ({fmt.media_type})" for fmt in cls)
        raise UsageError(f"unknown SPARQL results format {label_or_media_type!r}; allowed: {allowed}")
