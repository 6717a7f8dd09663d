"""lod: publish organisations and the cooperations between them as validated Linked Open Data.

>>> import lod                                                     # doctest: +SKIP
>>> graph = lod.to_graph(lod.read_records("data/"))                # doctest: +SKIP
>>> lod.validate_graph(graph).conforms                             # doctest: +SKIP
True
"""

from .errors import InputError, LodError, Problem, UsageError
from .formats import RdfFormat
from .mapping import IriMinter, record_iris, to_graph, triples
from .model import (
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
from .pipeline import CheckedData, check_records
from .publish import Release, build_release, open_release
from .schemes import load_schemes
from .settings import Settings
from .sources import read_records
from .validate import ValidationReport, ValidationResult, validate_graph

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
