"""The RDF serialisations `lod` reads and writes: one table of names, media types and extensions."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from lod.errors import UsageError


class RdfFormat(Enum):
    """An RDF 1.1 serialisation. Values: (name, media type, extensions, rdflib name, has graphs)."""

    TURTLE = ("turtle", "text/turtle", (".ttl",), "turtle", False)
    NTRIPLES = ("ntriples", "application/n-triples", (".nt",), "nt11", False)
    NQUADS = ("nquads", "application/n-quads", (".nq",), "nquads", True)
    TRIG = ("trig", "application/trig", (".trig",), "trig", True)
    JSONLD = ("jsonld", "application/ld+json", (".jsonld",), "json-ld", True)
    RDFXML = ("rdfxml", "application/rdf+xml", (".rdf", ".owl"), "xml", False)

    def __init__(
        self, label: str, media_type: str, extensions: tuple[str, ...], rdflib_name: str,
        has_graphs: bool,
    ) -> None:
        self.label = label
        self.media_type = media_type
        self.extensions = extensions
        self.rdflib_name = rdflib_name
        self.has_graphs = has_graphs

    @property
    def extension(self) -> str:
        return self.extensions[0]

    @classmethod
    def from_label(cls, label: str) -> RdfFormat:
        for fmt in cls:
            if label.lower() in (fmt.label, fmt.media_type):
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
