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
from .schemes import load_schemes
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
    "Source",
    "Statement",
    "Tenure",
    "UsageError",
    "ValidationReport",
    "ValidationResult",
    "__version__",
    "check_dataset",
    "check_records",
    "load_schemes",
    "read_records",
    "record_iris",
    "to_graph",
    "triples",
    "validate_graph",
]
