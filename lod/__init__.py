"""lod: publish organisations and the cooperations between them as validated Linked Open Data.

>>> import lod                                                     # doctest: +SKIP
>>> graph = lod.to_graph(lod.read_records("data/"))                # doctest: +SKIP
>>> lod.validate_graph(graph).conforms                             # doctest: +SKIP
True
"""

from lod.errors import InputError, LodError, Problem, UsageError
from lod.formats import RdfFormat
from lod.rdf.mapping import IriMinter, record_iris, to_graph, triples
from lod.records.model import (
    Cooperation,
    Dataset,
    Event,
    Membership,
    Organisation,
    Origin,
    PartialDate,
    Person,
    Post,
    Source,
    Statement,
    Tenure,
    check_dataset,
)
from lod.records.sources import read_records
from lod.release.layout import Release, open_release
from lod.release.publish import build_release
from lod.schemes import load_schemes
from lod.settings import Settings
from lod.validation.pipeline import CheckedData, check_records
from lod.validation.pyshacl import ValidationReport, ValidationResult, validate_graph

__version__ = "0.1.0"

__all__ = [
    "CheckedData",
    "Cooperation",
    "Dataset",
    "Event",
    "InputError",
    "IriMinter",
    "LodError",
    "Membership",
    "Organisation",
    "Origin",
    "PartialDate",
    "Person",
    "Post",
    "Problem",
    "RdfFormat",
    "Release",
    "Settings",
    "Source",
    "Statement",
    "Tenure",
    "UsageError",
    "ValidationReport",
    "ValidationResult",
    "__version__",
    "build_release",
    "check_dataset",
    "check_records",
    "load_schemes",
    "open_release",
    "read_records",
    "record_iris",
    "to_graph",
    "triples",
    "validate_graph",
]
