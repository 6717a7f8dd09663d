"""SPARQL query results (SELECT solutions and ASK booleans) written in the four standard formats.

The writers stream: text is gathered into chunks of about 64 KiB and each chunk is encoded and
written once, so a result of millions of rows never sits in memory and the per-row cost stays a
few string operations. Terms are pyoxigraph's (``NamedNode``, ``BlankNode``, ``Literal``,
``Triple``); ``None`` stands for an unbound variable.

Formats, by specification:

* JSON, https://www.w3.org/TR/sparql11-results-json/
* XML, https://www.w3.org/TR/rdf-sparql-XMLres/
* CSV and TSV, https://www.w3.org/TR/sparql11-results-csv-tsv/

RDF 1.2 terms, which SPARQL 1.1 does not know, follow the SPARQL 1.2 drafts and pyoxigraph 0.5,
so that pyoxigraph reads them back: a triple term is
``{"type": "triple", "value": {"subject": …, "predicate": …, "object": …}}`` in JSON (Jena's form
too), ``<triple><subject>…</subject><predicate>…</predicate><object>…</object></triple>`` in XML,
and ``<<( s p o )>>`` in TSV (RDF 1.2 Turtle's triple-term syntax; the older RDF-star ``<< s p o >>``
now means a reifier in Turtle, and pyoxigraph rejects it). CSV has the same brackets around the
terms in CSV's plain form, a literal object in double quotes, as the CSV draft describes. A base
direction is ``"its:dir"`` in JSON, an ``its:dir`` attribute in XML and ``"text"@ar--rtl`` in TSV;
CSV drops it with the language tag.
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, TypeAlias

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from lod.formats import ResultFormat

__all__ = [
    "JsonTerm",
    "Row",
    "RowTerm",
    "Solutions",
    "iter_solutions",
    "write_boolean",
    "write_solutions",
]

RowTerm: TypeAlias = NamedNode | BlankNode | Literal | Triple


class Row(Protocol):
    """One solution: a term or ``None`` per variable, in the order of the variables.

    Any sequence will do, and so does a pyoxigraph ``QuerySolution``.
    """

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[RowTerm | None]: ...


_XSD = "http://www.w3.org/2001/XMLSchema#"

JsonTerm: TypeAlias = dict[str, str]
"""A term as SPARQL 1.1 results JSON writes it: ``type``, ``value``, and ``xml:lang`` or ``datatype``."""


@dataclass(frozen=True, slots=True)
class Solutions:
    """A SELECT or ASK result read back from SPARQL 1.1 results JSON, by everything in ``lod`` that
    reads one (the pages, the query page's table, ``lod query``'s table): no one parses it twice."""

    variables: list[str]
    rows: list[dict[str, JsonTerm]]
    """One dict per solution; an unbound variable has no entry."""
    boolean: bool | None = None
    """The answer of an ASK query (which has no variables and no rows), else None."""

    @classmethod
    def from_json(cls, body: bytes) -> Solutions:
        document = json.loads(body)
        if "boolean" in document:
            return cls([], [], boolean=bool(document["boolean"]))
        return cls(list(document["head"]["vars"]), document["results"]["bindings"])

    def plain(self) -> list[dict[str, object]]:
        """The rows as plain objects for people who do not read SPARQL JSON: each variable's value
        as JSON has it (an integer, a number, true or false for those XSD types; the text of
        every other literal and of an IRI), ``null`` where it is unbound."""
        return [{v: None if v not in row else _plain(row[v]) for v in self.variables} for row in self.rows]


_XSD_INTEGERS = {f"{_XSD}{name}" for name in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "negativeInteger",
    "nonPositiveInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}
_XSD_NUMBERS = {f"{_XSD}{name}" for name in ("decimal", "double", "float")}


def _plain(term: JsonTerm) -> object:
    datatype, value = term.get("datatype"), term["value"]
    try:
        if datatype in _XSD_INTEGERS:
            return int(value)
        if datatype in _XSD_NUMBERS and value.strip().lower() not in ("nan", "inf", "+inf", "-inf"):
            return float(value)
    except ValueError:  # an ill-typed literal stays the text it is
        return value
    if datatype == f"{_XSD}boolean" and value in ("true", "false", "1", "0"):
        return value in ("true", "1")
    return value


_CHUNK_CHARS = 64 * 1024

_XSD_STRING = NamedNode(_XSD + "string")
_ITS = "http://www.w3.org/2005/11/its"
_SPARQL_RESULTS = "http://www.w3.org/2005/sparql-results#"

# SPARQL 1.1 VARNAME (grammar rule 166): the names become JSON keys, XML attributes and CSV/TSV
# headers, so anything else could break the document.
_PN_CHARS_U = (
    "A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_VARNAME = re.compile(f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*")


def write_solutions(out: BinaryIO, fmt: ResultFormat, variables: Sequence[str], rows: Iterable[Row]) -> int:
    """Write the solutions of a SELECT query to ``out`` in ``fmt``; return the number of rows.

    ``variables`` are the names without ``?``; each row holds a term or ``None`` (unbound) per
    variable, in the same order. A pyoxigraph result can be passed as it is::

        solutions = store.query("SELECT ...")
        write_solutions(out, ResultFormat.JSON, [v.value for v in solutions.variables], solutions)

    Output is UTF-8, written in chunks of about 64 KiB; ``out`` is not flushed or closed.

    CSV is lossy by specification: IRIs bare, literals as their lexical form only, blank nodes as
    ``_:label``; unbound and the empty string look the same. XML 1.0 cannot carry the control
    characters U+0000-U+0008, U+000B, U+000C, U+000E-U+001F nor U+FFFE/U+FFFF, not even as
    character references; in XML output they are replaced by U+FFFD (the other formats keep them).

    Raises ``ValueError`` for an invalid variable name or a row of the wrong length, and
    ``TypeError`` for a value that is not a pyoxigraph term or ``None``.
    """
    chunks = _chunks(_layout(fmt, variables), rows)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration as done:
            count: int = done.value
            return count
        out.write(chunk)


def iter_solutions(fmt: ResultFormat, variables: Sequence[str], rows: Iterable[Row]) -> Iterator[bytes]:
    """The same bytes as :func:`write_solutions`, as an iterator of ~64 KiB chunks.

    This is the shape a streamed HTTP response body takes (``Response(iter_solutions(...))``).
    Variable names are checked at the call; the rows as the iterator is consumed.
    """
    return _chunks(_layout(fmt, variables), rows)


def write_boolean(out: BinaryIO, fmt: ResultFormat, value: bool) -> None:
    """Write the result of an ASK query to ``out`` in ``fmt``.

    The CSV/TSV recommendation defines no form for booleans. Here, as in Jena (and Virtuoso), the
    answer is a table of one variable ``_askResult`` and one row ``true`` or ``false``: CSV
    ``_askResult\\r\\ntrue\\r\\n``, TSV ``?_askResult\\ntrue\\n``. A client that reads CSV/TSV
    as a table then gets a sensible table; Jena's parsers read it back as a boolean.
    """
    word = "true" if value else "false"
    if fmt is ResultFormat.JSON:
        text = f'{{"head":{{}},"boolean":{word}}}\n'
    elif fmt is ResultFormat.XML:
        text = f'{_XML_PROLOGUE}<head/><boolean>{word}</boolean></sparql>\n'
    elif fmt is ResultFormat.CSV:
        text = f"_askResult\r\n{word}\r\n"
    else:
        text = f"?_askResult\n{word}\n"
    out.write(text.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class _Layout:
    """How one format frames a result: its fixed text, and the function that renders one row."""

    header: str
    render_row: Callable[[Row], str]
    separator: str  # between two rows
    footer: str
    width: int  # number of variables


def _layout(fmt: ResultFormat, variables: Sequence[str]) -> _Layout:
    for name in variables:
        if not isinstance(name, str) or not _VARNAME.fullmatch(name):
            raise ValueError(f"invalid SPARQL variable name {name!r} (give names without '?')")
    return _LAYOUTS[fmt](variables)


def _chunks(layout: _Layout, rows: Iterable[Row]) -> Generator[bytes, None, int]:
    render_row, separator, width = layout.render_row, layout.separator, layout.width
    parts = [layout.header]
    size = len(layout.header)
    count = 0
    sep = ""
    for row in rows:
        if len(row) != width:
            raise ValueError(f"row {count + 1} has {len(row)} values for {width} variables")
        text = sep + render_row(row)
        sep = separator
        parts.append(text)
        size += len(text)
        count += 1
        if size >= _CHUNK_CHARS:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    parts.append(layout.footer)
    yield "".join(parts).encode("utf-8")
    return count


# Per format, a renderer per term class: one dict lookup on type(term) replaces an if-chain.
_Renderers = dict[type, Callable[[Any], str]]


def _not_a_term(row: Row) -> TypeError:
    for term in row:
        if term is not None and type(term) not in (NamedNode, BlankNode, Literal, Triple):
            return TypeError(f"not an RDF term: {term!r} of type {type(term).__name__}")
    return TypeError(f"not a row of RDF terms: {row!r}")


# --- JSON ---------------------------------------------------------------------------------------

# The C-accelerated JSON string encoder; it keeps non-ASCII characters, which UTF-8 output allows.
_json_str = json.encoder.encode_basestring


def _json_literal(term: Literal) -> str:
    lang = term.language
    if lang is not None:
        # rdf:langString (and rdf:dirLangString) must not appear as "datatype" (§3.2.2).
        direction = term.direction
        tail = "}" if direction is None else ',"its:dir":' + _json_str(direction.value) + "}"
        return '{"type":"literal","value":' + _json_str(term.value) + ',"xml:lang":' + _json_str(lang) + tail
    datatype = term.datatype
    if datatype == _XSD_STRING:
        return '{"type":"literal","value":' + _json_str(term.value) + "}"
    value = _json_str(term.value)
    return '{"type":"literal","value":' + value + ',"datatype":' + _json_str(datatype.value) + "}"


def _json_triple(term: Triple) -> str:
    return (
        '{"type":"triple","value":{"subject":' + _JSON[type(term.subject)](term.subject)
        + ',"predicate":' + _json_iri(term.predicate)
        + ',"object":' + _JSON[type(term.object)](term.object) + "}}"
    )


def _json_iri(term: NamedNode) -> str:
    return '{"type":"uri","value":' + _json_str(term.value) + "}"


def _json_bnode(term: BlankNode) -> str:
    return '{"type":"bnode","value":' + _json_str(term.value) + "}"


_JSON: _Renderers = {
    NamedNode: _json_iri, Literal: _json_literal, BlankNode: _json_bnode, Triple: _json_triple,
}


def _json_layout(variables: Sequence[str]) -> _Layout:
    keys = [_json_str(name) + ":" for name in variables]
    terms = _JSON

    def render(row: Row) -> str:
        # The caller has checked the row's length, so zip() need not.
        try:
            pairs = [key + terms[type(t)](t) for key, t in zip(keys, row, strict=False) if t is not None]
        except KeyError:
            raise _not_a_term(row) from None
        return "{" + ",".join(pairs) + "}"

    names = ",".join(_json_str(name) for name in variables)
    header = '{"head":{"vars":[' + names + ']},"results":{"bindings":[\n'
    return _Layout(header, render, ",\n", "\n]}}\n", len(variables))


# --- XML ----------------------------------------------------------------------------------------

_XML_PROLOGUE = f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="{_SPARQL_RESULTS}">'
# What cannot appear literally: markup characters, CR (an XML parser would turn CR LF into LF),
# and the characters XML 1.0 forbids outright.
_XML_SPECIAL = re.compile("[&<>\"\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_XML_REPLACEMENTS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"}
# White space at either end of a value is lost to parsers that trim text (pyoxigraph's, for one);
# as character references it survives. (A separate check: folded into _XML_SPECIAL, it made the
# common search four times slower.)
_XML_SPACE = " \t\n"
_XML_EDGE_SPACE = re.compile("\\A[ \t\n]+|[ \t\n]+\\Z")


def _xml_replace(match: re.Match[str]) -> str:
    return _XML_REPLACEMENTS.get(match.group(), "\ufffd")


def _xml_space_refs(match: re.Match[str]) -> str:
    return "".join(f"&#{ord(char)};" for char in match.group())


def _xml_escape(text: str) -> str:
    # Most values need no escaping; one search is much cheaper than a chain of replace() calls.
    if _XML_SPECIAL.search(text) is None:
        if not text or (text[0] not in _XML_SPACE and text[-1] not in _XML_SPACE):
            return text
    else:
        text = _XML_SPECIAL.sub(_xml_replace, text)
    return _XML_EDGE_SPACE.sub(_xml_space_refs, text)


def _xml_literal(term: Literal) -> str:
    lang = term.language
    if lang is not None:
        direction = term.direction
        if direction is None:
            return '<literal xml:lang="' + _xml_escape(lang) + '">' + _xml_escape(term.value) + "</literal>"
        return (
            f'<literal xml:lang="{_xml_escape(lang)}" its:dir="{direction.value}" xmlns:its="{_ITS}" '
            f'its:version="2.0">{_xml_escape(term.value)}</literal>'
        )
    datatype = term.datatype
    if datatype == _XSD_STRING:
        return "<literal>" + _xml_escape(term.value) + "</literal>"
    return '<literal datatype="' + _xml_escape(datatype.value) + '">' + _xml_escape(term.value) + "</literal>"


def _xml_iri(term: NamedNode) -> str:
    return "<uri>" + _xml_escape(term.value) + "</uri>"


def _xml_bnode(term: BlankNode) -> str:
    return "<bnode>" + _xml_escape(term.value) + "</bnode>"


def _xml_triple(term: Triple) -> str:
    return (
        "<triple><subject>" + _XML[type(term.subject)](term.subject)
        + "</subject><predicate>" + _xml_iri(term.predicate)
        + "</predicate><object>" + _XML[type(term.object)](term.object) + "</object></triple>"
    )


_XML: _Renderers = {NamedNode: _xml_iri, Literal: _xml_literal, BlankNode: _xml_bnode, Triple: _xml_triple}


def _xml_layout(variables: Sequence[str]) -> _Layout:
    opens = ['<binding name="' + name + '">' for name in variables]  # a VARNAME needs no escaping
    terms = _XML

    def render(row: Row) -> str:
        try:
            bindings = [
                start + terms[type(t)](t) + "</binding>"
                for start, t in zip(opens, row, strict=False)
                if t is not None
            ]
        except KeyError:
            raise _not_a_term(row) from None
        return "<result>" + "".join(bindings) + "</result>\n"

    head = "".join(f'<variable name="{name}"/>' for name in variables)
    header = f"{_XML_PROLOGUE}\n<head>{head}</head>\n<results>\n"
    return _Layout(header, render, "", "</results>\n</sparql>\n", len(variables))


# --- CSV ----------------------------------------------------------------------------------------

_CSV_SPECIAL = re.compile('[",\r\n]')


def _csv_value(term: NamedNode | Literal) -> str:
    return term.value


def _csv_bnode(term: BlankNode) -> str:
    return "_:" + term.value


def _csv_triple(term: Triple) -> str:
    obj = term.object
    # A literal object is quoted, and CSV quoting applies inside as well (the CSV draft's rule).
    obj_text = '"' + obj.value.replace('"', '""') + '"' if isinstance(obj, Literal) else _CSV[type(obj)](obj)
    subject = _CSV[type(term.subject)](term.subject)
    return "<<( " + subject + " " + term.predicate.value + " " + obj_text + " )>>"


# The term as CSV shows it, before CSV quoting (cf. SPARQL's STR()).
_CSV: _Renderers = {NamedNode: _csv_value, Literal: _csv_value, BlankNode: _csv_bnode, Triple: _csv_triple}


def _csv_layout(variables: Sequence[str]) -> _Layout:
    terms = _CSV
    special = _CSV_SPECIAL.search

    def render(row: Row) -> str:
        try:
            fields = ["" if t is None else terms[type(t)](t) for t in row]
        except KeyError:
            raise _not_a_term(row) from None
        # One search over all fields at once; quoting (RFC 4180 §2.6-2.7) is the rare case.
        if special("".join(fields)) is None:
            return ",".join(fields) + "\r\n"
        return ",".join(['"' + f.replace('"', '""') + '"' if special(f) else f for f in fields]) + "\r\n"

    # No VARNAME character needs CSV quoting.
    return _Layout(",".join(variables) + "\r\n", render, "", "", len(variables))


# --- TSV ----------------------------------------------------------------------------------------

# Turtle's abbreviated numeric and boolean forms (grammar rules INTEGER, DECIMAL, DOUBLE and
# BooleanLiteral): the recommendation says numbers should use them. Only a lexical form that
# reads back as exactly the same literal is abbreviated; "01" is, "1." or "abc" are not.
_ABBREVIATIONS = {
    _XSD + "integer": re.compile(r"[+-]?[0-9]+"),
    _XSD + "decimal": re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    _XSD + "double": re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    _XSD + "boolean": re.compile(r"true|false"),
}


def _tsv_literal(term: Literal) -> str:
    # str() is pyoxigraph's N-Triples form, which already escapes \t \n \r " and \ as TSV needs.
    text = str(term)
    if text[-1] == ">":
        # The datatype IRI, read off the text: an IRI cannot contain "^" or "<", so the last "^^<"
        # is the one before the datatype (and this spares building a NamedNode).
        pattern = _ABBREVIATIONS.get(text[text.rfind("^^<") + 3 : -1])
        if pattern is not None:
            lexical = term.value
            if pattern.fullmatch(lexical):
                return lexical
    return text


def _tsv_triple(term: Triple) -> str:
    subject, obj = term.subject, term.object
    parts = (_TSV[type(subject)](subject), str(term.predicate), _TSV[type(obj)](obj))
    return "<<( " + " ".join(parts) + " )>>"


_TSV: _Renderers = {NamedNode: str, Literal: _tsv_literal, BlankNode: str, Triple: _tsv_triple}


def _tsv_layout(variables: Sequence[str]) -> _Layout:
    terms = _TSV

    def render(row: Row) -> str:
        try:
            return "\t".join(["" if t is None else terms[type(t)](t) for t in row]) + "\n"
        except KeyError:
            raise _not_a_term(row) from None

    return _Layout("\t".join("?" + name for name in variables) + "\n", render, "", "", len(variables))


_LAYOUTS: dict[ResultFormat, Callable[[Sequence[str]], _Layout]] = {
    ResultFormat.JSON: _json_layout,
    ResultFormat.XML: _xml_layout,
    ResultFormat.CSV: _csv_layout,
    ResultFormat.TSV: _tsv_layout,
}
