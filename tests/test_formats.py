"""The one table of formats: every name a client may use points to one format of its kind."""

from __future__ import annotations

import io
import warnings

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.query import Result

from lod.errors import UsageError
from lod.formats import SERVED_RDF_FORMATS, RdfFormat, ResultFormat, content_type


@pytest.mark.parametrize("kind", [RdfFormat, ResultFormat])
def test_no_name_stands_for_two_formats_of_one_kind(kind: type[RdfFormat] | type[ResultFormat]) -> None:
    owners: dict[str, list[str]] = {}
    for fmt in kind:
        for name in fmt.names:
            assert name == name.lower(), f"{fmt}: names are compared in lower case, {name!r} is not"
            owners.setdefault(name, []).append(fmt.label)
    assert {n: o for n, o in owners.items() if len(o) > 1} == {}


@pytest.mark.parametrize("fmt", list(RdfFormat))
def test_each_name_finds_its_rdf_format(fmt: RdfFormat) -> None:
    for name in fmt.names:
        assert RdfFormat.from_label(name.upper()) is fmt
    assert RdfFormat.from_label(f"{fmt.media_type}; charset=utf-8") is fmt


@pytest.mark.parametrize("fmt", list(ResultFormat))
def test_each_name_finds_its_result_format(fmt: ResultFormat) -> None:
    for name in fmt.names:
        assert ResultFormat.from_label(name) is fmt


def test_an_unknown_name_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(UsageError, match="unknown RDF format 'n4'; allowed: turtle, ntriples"):
        RdfFormat.from_label("n4")


@pytest.mark.parametrize("fmt", list(RdfFormat))
def test_the_writers_names_write_what_the_readers_names_read(fmt: RdfFormat) -> None:
    triple = ox.Triple(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                       ox.Literal("ä", language="de"))
    written = ox.serialize([triple], format=fmt.oxigraph) if not fmt.has_graphs else ox.serialize(
        [ox.Quad(*triple)], format=fmt.oxigraph)
    with warnings.catch_warnings():  # rdflib's N-Quads parser calls a method rdflib deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = Graph().parse(data=written, format=fmt.rdflib_name)
    assert len(graph) == 1


@pytest.mark.parametrize("fmt", [ResultFormat.JSON, ResultFormat.XML])
def test_a_result_formats_label_is_rdflibs_parser(fmt: ResultFormat) -> None:
    store = ox.Store()
    solutions = store.query("SELECT ?x WHERE { VALUES ?x { 1 } }")
    assert isinstance(solutions, ox.QuerySolutions)
    written = solutions.serialize(format=fmt.oxigraph)
    assert written is not None and len(Result.parse(source=io.BytesIO(written), format=fmt.label)) == 1


def test_served_formats_start_with_turtle_and_are_triples_or_json_ld() -> None:
    assert SERVED_RDF_FORMATS[0] is RdfFormat.TURTLE
    assert all(not f.has_graphs or f is RdfFormat.JSONLD for f in SERVED_RDF_FORMATS)


@pytest.mark.parametrize(("media_type", "expected"), [
    ("text/turtle", "text/turtle; charset=utf-8"),
    ("application/sparql-results+json", "application/sparql-results+json; charset=utf-8"),
    ("application/n-triples", "application/n-triples"),
])
def test_content_type_names_the_charset_where_the_type_has_one(media_type: str, expected: str) -> None:
    assert content_type(media_type) == expected
