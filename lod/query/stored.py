"""Stored queries: SPARQL queries kept as ``.rq`` files, with a header that says what each answers
and which of its variables are parameters, so that they can be run with values — the query page's
examples and the benchmark's queries are these files — without any text pasted into SPARQL.

The header is YAML in comment lines that start with ``#+`` (the decorator syntax of grlc)::

    #+ summary:
    #+   de: Kooperationen einer Kommune
    #+   en: The cooperations of one municipality
    #+ parameters:
    #+   ags:
    #+     type: key
    #+     example: "05358008"
    #+     description: {de: Amtlicher Gemeindeschlüssel, en: official municipality key}
    PREFIX ikz: <https://w3id.org/lod-ikz/def/>
    SELECT ?cooperation WHERE { ?city ikz:ags ?ags . … }

A parameter is a variable of the query. A value given for it replaces the variable wherever it
occurs, as an RDF term of the parameter's type written by the canonical serialiser, and the result
is parsed with the grammar before it runs; a parameter left out that is not required stays a
variable. Types: ``iri`` (an absolute http(s) IRI), ``key`` (letters, digits, ``.``, ``_``, ``-``),
``string``, ``integer``, ``date`` (``xsd:date``); ``values: [...]`` limits a parameter to a list.
A parameter is required unless it says ``required: false`` or has a ``default``.
"""

from __future__ import annotations

import datetime
import gc
import itertools
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from lod.errors import InputError, Problem, UsageError
from lod.messages import tr
from lod.query.evaluate import QueryLimits, QueryRequest, prepare_and_evaluate
from lod.query.prepare import QueryPreparer
from lod.query.results import Solutions
from lod.rdf.store import open_store
from lod.resources import resource_dir
from lod.sparql.errors import SparqlSyntaxError
from lod.sparql.iri import is_valid_iri
from lod.sparql.parser import parse_query
from lod.sparql.serialize import serialize, terms_text
from lod.sparql.syntax import IRI, XSD, XSD_INTEGER, Literal, OrderCondition, SelectQuery, Var, walk
from lod.sparql.tokens import VARNAME, tokens
from lod.vocab import QUERY_PREFIXES

__all__ = ["Parameter", "ParameterError", "QueriesCheck", "StoredQuery", "bundled_queries", "project_queries",
           "read_stored_queries"]

TYPES = ("iri", "key", "string", "integer", "date")
_KEY = re.compile(r"[A-Za-z0-9._-]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_HEADER = "#+"
_LANGUAGES = ("de", "en")
RESERVED = ("limit", "offset", "format")
"""Names the API (:mod:`lod.web.api`) takes for paging and formats: no parameter may have them."""
_PARAMETER_FIELDS = {"type", "required", "default", "example", "values", "description"}


class ParameterError(UsageError):
    """A value that a parameter does not take; says which parameter and what it takes."""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: str
    required: bool
    default: str | None
    example: str | None
    values: tuple[str, ...]
    """The values allowed, if the parameter is an enumeration."""
    description: Mapping[str, str]
    """By language (``de``, ``en``)."""

    def term(self, value: str) -> IRI | Literal:
        """``value`` as the RDF term it stands for; raises ParameterError when it is not one."""
        if self.values and value not in self.values:
            raise ParameterError(tr("parameter {name}: {value!r} is not one of {allowed}", name=self.name,
                                    value=value, allowed=", ".join(self.values)))
        if self.type == "iri":
            if not (value.startswith(("http://", "https://")) and is_valid_iri(value)):
                raise ParameterError(tr("parameter {name}: {value!r} is not an absolute http(s) IRI",
                                        name=self.name, value=value))
            return IRI(value)
        if self.type == "key" and not _KEY.fullmatch(value):
            raise ParameterError(tr("parameter {name}: {value!r} is not a key (letters, digits, '.', '_', "
                                    "'-')", name=self.name, value=value))
        if self.type == "integer":
            if not _INTEGER.fullmatch(value):
                raise ParameterError(tr("parameter {name}: {value!r} is not an integer", name=self.name,
                                        value=value))
            return Literal(str(int(value)), XSD_INTEGER)
        if self.type == "date":
            try:
                day = datetime.date.fromisoformat(value)
            except ValueError:
                raise ParameterError(tr("parameter {name}: {value!r} is not a date (YYYY-MM-DD)",
                                        name=self.name, value=value)) from None
            return Literal(day.isoformat(), IRI(XSD + "date"))
        return Literal(value)


@dataclass(frozen=True, slots=True)
class StoredQuery:
    name: str
    """The file's name without ``.rq``."""
    path: Path
    summary: Mapping[str, str]
    description: Mapping[str, str]
    parameters: tuple[Parameter, ...]
    body: str
    """The query: the file's text after the header."""
    body_line: int
    """The line of the file the body starts on."""

    def text(self, values: Mapping[str, str] | None = None) -> str:
        """The query with ``values`` (by parameter name) put in, defaults for those not given;
        raises ParameterError for an unknown parameter, a missing required one or a bad value."""
        given = dict(values or {})
        unknown = sorted(set(given) - {p.name for p in self.parameters})
        if unknown:
            raise ParameterError(f"{self.name} has no parameter {', '.join(unknown)}; its parameters: "
                                 f"{', '.join(p.name for p in self.parameters) or 'none'}")
        terms: dict[str, str] = {}
        for parameter in self.parameters:
            value = given.get(parameter.name, parameter.default)
            if value is None:
                if parameter.required:
                    raise ParameterError(f"{self.name} needs the parameter {parameter.name}")
                continue
            [terms[parameter.name]] = terms_text([parameter.term(value)])
        pieces, done = [], 0
        for key, token, start in tokens(self.body):
            if key == "var" and token[1:] in terms:
                pieces += [self.body[done:start], terms[token[1:]]]
                done = start + len(token)
        return "".join(pieces) + self.body[done:]

    def example(self) -> str:
        """The query with each parameter's example (or else its default) put in."""
        return self.text({p.name: p.example for p in self.parameters if p.example is not None})

    def page(self, values: Mapping[str, str] | None, *, limit: int, offset: int) -> str:
        """:meth:`text`, cut to ``limit`` rows from ``offset`` on in a stable order, so that pages
        neither overlap nor leave rows out: the query's own ``ORDER BY``, its ties broken by each
        column in turn (the projected variables; all of them for ``SELECT *``). Its own ``LIMIT``
        and ``OFFSET`` still bound the pages."""
        query = parse_query(self.text(values), prefixes=QUERY_PREFIXES)
        if not isinstance(query, SelectQuery):
            raise ParameterError(f"{self.name} is not a SELECT query; only SELECT queries are paged")
        columns = (dict.fromkeys(node for node in walk(query.where) if isinstance(node, Var))
                   if query.projection is None else
                   [c if isinstance(c, Var) else c.variable for c in query.projection])
        order = query.order_by + tuple(OrderCondition(v) for v in columns
                                       if OrderCondition(v) not in query.order_by)
        start = (query.offset or 0) + offset
        rows = limit if query.limit is None else max(0, min(limit, query.limit - offset))
        return serialize(replace(query, order_by=order, offset=start or None, limit=rows))


def read_stored_query(path: Path) -> StoredQuery:
    """The stored query in ``path``; raises InputError naming the file and line of each problem."""
    source = path.read_text(encoding="utf-8-sig")
    header = [line[len(_HEADER):] for line in
              itertools.takewhile(lambda line: line.startswith(_HEADER), source.splitlines())]
    problems: list[Problem] = []

    def problem(message: str, about: str | None = None) -> None:
        # The line of the header that names ``about`` (a field or parameter), else the first.
        line = next((n for n, text in enumerate(header, 1) if about and f"{about}:" in text), 1)
        problems.append(Problem(str(path), line, None, None, message))

    try:
        fields = yaml.safe_load("\n".join(header)) or {}
    except yaml.YAMLError as failure:
        mark = getattr(failure, "problem_mark", None)
        problems.append(Problem(str(path), None if mark is None else mark.line + 1, None, None,
                                tr("the #+ header is not valid YAML: {reason}",
                                   reason=getattr(failure, "problem", failure))))
        raise InputError(problems) from None
    if not isinstance(fields, dict):
        problem(tr("the #+ header must be a mapping of fields (summary:, parameters: …)"))
        raise InputError(problems)
    for field in sorted(set(fields) - {"summary", "description", "parameters"}, key=str):
        problem(tr("unknown header field {field}; known: summary, description, parameters", field=field),
                str(field))
    summary = _texts(fields.get("summary"), "summary", problem)
    if not summary:
        problem(tr("the header needs a summary ({example})", example="summary: {de: …, en: …}"))
    specs = fields.get("parameters") or {}
    if not isinstance(specs, dict):
        problem(tr("parameters must map each parameter's name to its fields"), "parameters")
        specs = {}
    parameters = tuple(_parameter(name, spec, problem) for name, spec in specs.items())
    body = "".join(source.splitlines(keepends=True)[len(header):])
    stored = StoredQuery(path.name.removesuffix(".rq"), path, summary,
                         _texts(fields.get("description"), "description", problem), parameters, body,
                         len(header) + 1)
    variables = {token[1:] for key, token, _ in tokens(body) if key == "var"}
    for parameter in parameters:
        if parameter.name not in variables:
            problem(tr("parameter {name} is not a variable of the query", name=parameter.name),
                    parameter.name)
        if parameter.required and parameter.example is None:
            problem(tr("parameter {name} is required and needs an example", name=parameter.name),
                    parameter.name)
    if not problems:
        try:
            if not isinstance(parse_query(stored.example(), prefixes=QUERY_PREFIXES), SelectQuery):
                problem(tr("a stored query is a SELECT query: the API answers with rows"))
        except SparqlSyntaxError as failure:
            problems.append(Problem(str(path), stored.body_line + failure.line - 1, None, None,
                                    tr("with the examples put in, the query is not SPARQL 1.1: {reason}",
                                       reason=failure.reason)))
    if problems:
        raise InputError(problems)
    return stored


def _texts(value: Any, field: str, problem: Callable[[str, str | None], None]) -> Mapping[str, str]:
    if value is None:
        return MappingProxyType({})
    if isinstance(value, str):
        return MappingProxyType(dict.fromkeys(_LANGUAGES, value))
    if isinstance(value, dict) and all(k in _LANGUAGES and isinstance(v, str) for k, v in value.items()):
        return MappingProxyType(dict(value))
    problem(tr("{field} must be a text, or texts by language ({languages})", field=field,
               languages=", ".join(_LANGUAGES)), field)
    return MappingProxyType({})


def _parameter(name: Any, spec: Any, problem: Callable[[str, str | None], None]) -> Parameter:
    name = str(name)
    if not VARNAME.fullmatch(name):
        problem(tr("parameter {name!r} must be named like a SPARQL variable", name=name), name)
    if name in RESERVED:
        problem(tr("parameter {name}: the API takes this name for itself ({reserved}); call the variable "
                   "otherwise", name=name, reserved=", ".join(RESERVED)), name)
    if not isinstance(spec, dict):
        problem(tr("parameter {name}: its fields (type:, example: …) are missing", name=name), name)
        spec = {}
    kind = str(spec.get("type", "string"))
    if kind not in TYPES:
        problem(tr("parameter {name}: type {type!r} is not one of {types}", name=name, type=kind,
                   types=", ".join(TYPES)), name)
    for field in sorted(set(spec) - _PARAMETER_FIELDS, key=str):
        problem(tr("parameter {name}: unknown field {field}; known: {known}", name=name, field=field,
                   known=", ".join(sorted(_PARAMETER_FIELDS))), name)
    default = None if spec.get("default") is None else str(spec["default"])
    parameter = Parameter(
        name=name, type=kind, required=bool(spec.get("required", default is None)), default=default,
        example=None if spec.get("example") is None else str(spec["example"]),
        values=tuple(str(v) for v in spec.get("values") or ()),
        description=_texts(spec.get("description"), tr("parameter {name}: description", name=name), problem))
    for field, value in (("default", parameter.default), ("example", parameter.example)):
        if value is not None and kind in TYPES:
            try:
                parameter.term(value)
            except ParameterError as failure:
                problem(tr("its {field}: {reason}", field=field, reason=failure), name)
    return parameter


def read_stored_queries(directory: Path) -> list[StoredQuery]:
    """Every ``*.rq`` file in ``directory``, by name; raises InputError listing every problem."""
    queries: list[StoredQuery] = []
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.rq")):
        try:
            queries.append(read_stored_query(path))
        except InputError as failure:
            problems += failure.problems
    if problems:
        raise InputError(problems)
    return queries


def bundled_queries() -> list[StoredQuery]:
    """The stored queries that come with `lod` (the folder ``queries``)."""
    return read_stored_queries(resource_dir("queries"))


def project_queries(inputs: Sequence[Path]) -> Path | None:
    """A project's own stored queries: the folder ``queries`` beside its inputs (beside ``data/``)."""
    for candidate in dict.fromkeys(path.resolve().parent / "queries" for path in inputs):
        if candidate.is_dir() and any(candidate.glob("*.rq")):
            return candidate
    return None


class QueriesCheck:
    """A build's check of a project's stored queries, as its ``before_switch``: each example must
    answer with at least one row on the finished store; then the files go into the release
    (``queries/``), where the API finds them. The files are read (and refused with file and line)
    when the check is made, before the build starts."""

    def __init__(self, directory: Path, *, base_iri: str, limits: QueryLimits) -> None:
        self.queries = read_stored_queries(directory)
        self.preparer = QueryPreparer(base_iri=base_iri, prefixes=QUERY_PREFIXES)
        self.limits = limits

    def __call__(self, build: Path, _manifest: object) -> None:
        problems: list[Problem] = []
        store = open_store(build / "store")
        try:
            with tempfile.TemporaryDirectory(prefix="lod-queries-") as spool:
                for stored in self.queries:
                    request = QueryRequest(stored.example(), formats=("json",))
                    outcome = prepare_and_evaluate(store, request, self.preparer, limits=self.limits,
                                                   spool_dir=spool)
                    if outcome.status != 200:
                        problems.append(Problem(str(stored.path), stored.body_line, None, None,
                                                tr("its example cannot run: {reason}",
                                                   reason=outcome.message)))
                    elif not Solutions.from_json(outcome.read()).rows:
                        problems.append(Problem(str(stored.path), None, None, None,
                                                tr("its example finds nothing in this release: give an "
                                                   "example that does, so that people see what it answers")))
        finally:
            del store
            gc.collect()  # the store is closed before the build is renamed
        if problems:
            raise InputError(problems)
        target = build / "queries"
        target.mkdir()
        for stored in self.queries:
            shutil.copyfile(stored.path, target / stored.path.name)
