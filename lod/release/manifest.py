"""What a build contains: its manifest (``manifest.json``, written last, so a build without one is
incomplete) and the dumps it lists. The release's metadata (VoID, the catalog) is made from it."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from lod.errors import UsageError
from lod.formats import RdfFormat
from lod.messages import tr

__all__ = ["GZIP_MEDIA_TYPE", "MANIFEST_VERSION", "DumpFile", "Manifest"]

MANIFEST_VERSION = 2
GZIP_MEDIA_TYPE = "application/gzip"

_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class DumpFile:
    """One downloadable dump of a release, served at ``{public_url}download/{name}``."""

    name: str
    format: RdfFormat
    gzipped: bool
    size: int
    sha256: str

    def __post_init__(self) -> None:
        if not _FILE_NAME.fullmatch(self.name):
            raise UsageError(tr("dump name {name!r} must be a plain file name (letters, digits, '.', '_', "
                                "'-')", name=self.name))
        if self.size < 0:
            raise UsageError(tr("dump {name}: size {size} must not be negative", name=self.name,
                                size=self.size))
        if not _SHA256.fullmatch(self.sha256):
            raise UsageError(tr("dump {name}: sha256 {sha256!r} must be 64 lower-case hex digits, as "
                                "hashlib's hexdigest() gives", name=self.name, sha256=self.sha256))

    @property
    def media_type(self) -> str:
        """The media type of the RDF inside, also when the file is gzip-compressed (DCAT 3 says
        so: the compression goes into ``dcat:compressFormat``)."""
        return self.format.media_type

    @property
    def compress_format(self) -> str | None:
        """``application/gzip`` for a gzipped dump, else None."""
        return GZIP_MEDIA_TYPE if self.gzipped else None



@dataclass(frozen=True)
class Manifest:
    """What a build contains; written last, so a build without one is incomplete."""

    release_id: str
    created: str
    base_iri: str
    triples: int
    entities: int
    dumps: tuple[DumpFile, ...]
    class_counts: dict[str, int]
    property_counts: dict[str, int]
    vocabularies: tuple[str, ...]
    example_resources: tuple[str, ...]
    warnings: int
    version: int = MANIFEST_VERSION
    vocabulary_triples: int = 0
    """Triples of the vocabulary graph (``ikz:``), which queries see beside the data."""
    served_triples: int = 0
    """Triples of the default graph that queries see: the data and every named graph."""
    named_graphs: dict[str, int] = field(default_factory=dict)
    """The triples of each named graph: the vocabulary's, and those of RDF inputs with graphs."""
    inputs: tuple[str, ...] = field(default=())
    shapes: tuple[str, ...] = field(default=())
    """The SHACL shapes the data was validated against (lod's, and files by name and SHA-256)."""
    previous: str | None = None
    """The release this one replaced; what changed since is in ``changes/`` (`lod.release.changes`)."""

    def __post_init__(self) -> None:
        try:
            created = datetime.fromisoformat(self.created)
        except ValueError:
            raise UsageError(tr("release {release_id}: created {created!r} is not an ISO 8601 date and time",
                                release_id=self.release_id, created=self.created)) from None
        if created.utcoffset() is None:
            raise UsageError(tr("release {release_id}: created {created} must be timezone-aware (UTC)",
                                release_id=self.release_id, created=self.created))
        names = [dump.name for dump in self.dumps]
        if len(set(names)) != len(names):
            raise UsageError(tr("release {release_id}: dump names must be unique, got {names}",
                                release_id=self.release_id, names=names))

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.created)

    def to_json(self) -> str:
        document = asdict(self)
        document["dumps"] = [
            {"name": d.name, "format": d.format.label, "gzipped": d.gzipped, "size": d.size,
             "sha256": d.sha256} for d in self.dumps
        ]
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        document: dict[str, Any] = json.loads(text)
        if document.get("version") != MANIFEST_VERSION:
            raise ValueError(tr("it has version {version!r}, this lod reads version {supported}: build the "
                                "release again with `lod build`", version=document.get("version"),
                                supported=MANIFEST_VERSION))
        document["dumps"] = tuple(
            DumpFile(name=d["name"], format=RdfFormat.from_label(d["format"]), gzipped=d["gzipped"],
                     size=d["size"], sha256=d["sha256"]) for d in document["dumps"])
        for name in ("vocabularies", "example_resources", "inputs", "shapes"):
            document[name] = tuple(document.get(name, ()))
        return cls(**document)
