"""RDF files as build inputs: every format, plain and gzipped, lands in the store as rdflib reads it."""

from __future__ import annotations

import errno
import gzip
import io
import json
import tracemalloc
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from lod.errors import InputError, UsageError
from lod.formats import RdfFormat
from lod.rdf import inputs as rdf_inputs
from lod.rdf.inputs import (
    RDF_EXTENSIONS,
    BuildInputs,
    is_rdf_file,
    load_rdf,
    load_rdf_files,
    rdf_format,
    split_inputs,
)
from lod.rdf.store import ONTOLOGY_GRAPH

EX = Namespace("http://example.org/")
NAMED = URIRef("http://example.org/graph/one")
EXTENSIONS = {".ttl": RdfFormat.TURTLE, ".nt": RdfFormat.NTRIPLES, ".nq": RdfFormat.NQUADS,
              ".trig": RdfFormat.TRIG, ".rdf": RdfFormat.RDFXML, ".owl": RdfFormat.RDFXML,
              ".jsonld": RdfFormat.JSONLD}


def sample() -> Dataset:
    """Triples in the default graph (a blank node, languages, datatypes) and a named graph."""
    dataset = Dataset()
    node = BNode()
    default = dataset.graph(DATASET_DEFAULT_GRAPH_ID)
    default.add((EX.kgst, EX.name, Literal("KGSt", lang="de")))
    default.add((EX.kgst, EX.founded, Literal("1949-01-01", datatype=URIRef(
        "http://www.w3.org/2001/XMLSchema#date"))))
    default.add((EX.kgst, EX.address, node))
    default.add((node, EX.city, Literal("Köln \"am Rhein\"\nNRW")))
    dataset.graph(NAMED).add((EX.kgst, EX.member, EX.vitako))
    return dataset


def write(path: Path, payload: bytes) -> Path:
    if path.name.lower().endswith(".gz"):
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def serialise(fmt: RdfFormat) -> bytes:
    data = sample()
    default = data.graph(DATASET_DEFAULT_GRAPH_ID)
    with rdflib_quirks():
        if fmt is RdfFormat.JSONLD:
            # rdflib writes a dataset's default graph as an "@graph" without "@id", which JSON-LD
            # 1.1 reads as a graph named by a blank node; so the default graph's nodes go on top.
            nodes = json.loads(default.serialize(format="json-ld"))
            named = json.loads(data.graph(NAMED).serialize(format="json-ld"))
            return json.dumps([*nodes, {"@id": str(NAMED), "@graph": named}]).encode()
        source = data if fmt.has_graphs else default
        return source.serialize(format=fmt.rdflib_name, encoding="utf-8")


def graphs(dataset: Dataset) -> dict[str, Graph]:
    """The non-empty graphs of ``dataset`` by name; ``""`` is the default graph."""
    named = {}
    for graph in dataset.graphs():
        if len(graph):
            name = "" if graph.identifier == DATASET_DEFAULT_GRAPH_ID else str(graph.identifier)
            named[name] = Graph().__iadd__(graph)
    return named


@contextmanager
def rdflib_quirks() -> Iterator[None]:
    # rdflib 7.6's Dataset parsers and serialisers call its own deprecated Dataset methods;
    # deprecations raised from within rdflib itself are its business, any other still fails.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"rdflib\.")
        yield


def parse(payload: bytes, rdflib_name: str) -> Dataset:
    """``payload`` as rdflib reads it."""
    dataset = Dataset()
    with rdflib_quirks():
        dataset.parse(data=payload, format=rdflib_name)
    return dataset


def store_graphs(store: ox.Store) -> dict[str, Graph]:
    return graphs(parse(store.dump(format=ox.RdfFormat.N_QUADS), "nquads"))


def problem_of(store: ox.Store, path: Path, base_iri: str | None = None) -> str:
    with pytest.raises(InputError) as caught:
        load_rdf(store, path, base_iri=base_iri)
    (problem,) = caught.value.problems
    assert problem.file == str(path)
    return str(problem)


# --- recognising files ----------------------------------------------------------------------


def test_extensions_are_the_formats_table() -> None:
    assert set(RDF_EXTENSIONS) == set(EXTENSIONS)


@pytest.mark.parametrize(("name", "expected"), [
    ("a.ttl", True), ("a.TTL", True), ("a.nt.gz", True), ("A.NQ.GZ", True), ("a.trig", True),
    ("a.rdf", True), ("a.owl", True), ("a.jsonld", True), ("dump.2024.nt", True),
    ("a.gz", False), ("a.json", False), ("a.csv", False), ("a.ttl.zip", False), ("ttl", False),
    ("a.nt.gz.bak", False),
])
def test_is_rdf_file(name: str, expected: bool) -> None:
    assert is_rdf_file(Path(name)) is expected


@pytest.mark.parametrize("extension", sorted(EXTENSIONS))
def test_rdf_format(extension: str) -> None:
    assert rdf_format(Path(f"x{extension}")) is EXTENSIONS[extension]
    assert rdf_format(Path(f"x{extension.upper()}.gz")) is EXTENSIONS[extension]


def test_rdf_format_refuses_other_files() -> None:
    with pytest.raises(UsageError, match=r"x\.csv.*\.ttl"):
        rdf_format(Path("x.csv"))


# --- loading --------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", ["", ".gz"], ids=["plain", "gzipped"])
@pytest.mark.parametrize("extension", sorted(EXTENSIONS))
def test_every_format_loads_as_rdflib_reads_it(tmp_path: Path, extension: str, gz: str) -> None:
    fmt = EXTENSIONS[extension]
    payload = serialise(fmt)
    path = write(tmp_path / f"sample{extension}{gz}", payload)
    store = ox.Store()

    loaded = load_rdf(store, path)

    want = graphs(parse(payload, fmt.rdflib_name))
    got = store_graphs(store)
    assert sorted(got) == sorted(want) == (["", str(NAMED)] if fmt.has_graphs else [""])
    for name, graph in want.items():
        assert isomorphic(got[name], graph), name
    assert loaded.format is fmt
    assert loaded.quads == len(store) == sum(len(graph) for graph in want.values())
    assert loaded.named_graphs == ({ox.NamedNode(str(NAMED))} if fmt.has_graphs else set())


@pytest.mark.parametrize(("name", "payload"), [
    ("quads.nq", b'<http://e/a> <http://e/p> "d" .\n<http://e/a> <http://e/p> "g" <http://e/g> .\n'),
    ("quads.trig", b'<http://e/a> <http://e/p> "d" .\n<http://e/g> { <http://e/a> <http://e/p> "g" }\n'),
])
def test_quads_keep_their_graphs(tmp_path: Path, name: str, payload: bytes) -> None:
    store = ox.Store()
    load_rdf(store, write(tmp_path / name, payload))
    where = {quad.object.value: quad.graph_name for quad in store}
    assert where == {"d": ox.DefaultGraph(), "g": ox.NamedNode("http://e/g")}


def test_a_jsonld_graph_without_id_is_named_by_a_blank_node(tmp_path: Path) -> None:
    payload = b'[{"@graph": [{"@id": "http://e/a", "http://e/p": "x"}]}]'
    store = ox.Store()
    loaded = load_rdf(store, write(tmp_path / "graph.jsonld", payload))
    (graph,) = loaded.named_graphs
    assert isinstance(graph, ox.BlankNode)
    assert [quad.graph_name for quad in store] == [graph]


@pytest.mark.parametrize(("name", "payload"), [
    ("vocab.nq", b'<http://e/a> <http://e/p> "x" <https://w3id.org/lod-ikz/def/> .\n'),
    ("vocab.trig", b'<https://w3id.org/lod-ikz/def/> { <http://e/a> <http://e/p> "x" }\n'),
    ("vocab.jsonld", b'{"@id": "https://w3id.org/lod-ikz/def/",'
                     b' "@graph": [{"@id": "http://e/a", "http://e/p": "x"}]}'),
])
def test_the_vocabulary_graph_is_reserved(tmp_path: Path, name: str, payload: bytes) -> None:
    assert ONTOLOGY_GRAPH.value == "https://w3id.org/lod-ikz/def/"
    message = problem_of(ox.Store(), write(tmp_path / name, payload))
    assert "'https://w3id.org/lod-ikz/def/'" in message
    assert "reserved" in message


@pytest.mark.parametrize("extension", [".nt", ".ttl", ".trig", ".nq"])
def test_each_file_has_its_own_blank_nodes(tmp_path: Path, extension: str) -> None:
    store = ox.Store()
    for number in ("1", "2"):
        # _:b0 twice within a file is one node; across files it is two.
        text = f'_:b0 <http://e/p> "{number}" .\n_:b0 <http://e/q> "{number}" .\n'
        load_rdf(store, write(tmp_path / f"f{number}{extension}", text.encode()))
    subjects = {quad.object.value: quad.subject for quad in store}
    by_file = {quad.object.value: {q.subject for q in store if q.object.value == quad.object.value}
               for quad in store}
    assert all(isinstance(subject, ox.BlankNode) for subject in subjects.values())
    assert subjects["1"] != subjects["2"]
    assert by_file == {"1": {subjects["1"]}, "2": {subjects["2"]}}


def test_counts_are_statements_read(tmp_path: Path) -> None:
    line = b'<http://e/a> <http://e/p> "x" .\n'
    store = ox.Store()
    loaded = load_rdf(store, write(tmp_path / "twice.nt", line + line))
    assert (loaded.quads, len(store)) == (2, 1)


@pytest.mark.parametrize("gz", ["", ".gz"], ids=["plain", "gzipped"])
@pytest.mark.parametrize("extension", sorted(EXTENSIONS))
def test_a_file_with_no_content_has_no_triples(tmp_path: Path, extension: str, gz: str) -> None:
    store = ox.Store()
    loaded = load_rdf(store, write(tmp_path / f"empty{extension}{gz}", b""))
    assert (loaded.quads, len(store)) == (0, 0)


def test_a_large_file_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "large.nt"
    with path.open("wb") as file:
        for number in range(50_000):
            file.write(b'<http://example.org/s%d> <http://example.org/p> "v %d" .\n' % (number, number))
    store = ox.Store()
    tracemalloc.start()
    try:
        loaded = load_rdf(store, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.quads == len(store) == 50_000
    # Reading the file whole would hold all its bytes in Python at once.
    assert peak < path.stat().st_size / 10


# --- base IRI -------------------------------------------------------------------------------


RELATIVE = b'<a> <http://e/p> "1" .\n'


def test_relative_iris_need_a_base(tmp_path: Path) -> None:
    message = problem_of(ox.Store(), write(tmp_path / "relative.ttl", RELATIVE))
    assert message.startswith(f"{tmp_path / 'relative.ttl'}:1: column 1: invalid Turtle")
    assert "needs a base" in message


def test_relative_iris_resolve_against_the_base(tmp_path: Path) -> None:
    store = ox.Store()
    load_rdf(store, write(tmp_path / "relative.ttl", RELATIVE), base_iri="http://base.example/x/")
    assert [quad.subject for quad in store] == [ox.NamedNode("http://base.example/x/a")]


def test_ntriples_never_take_relative_iris(tmp_path: Path) -> None:
    path = write(tmp_path / "relative.nt", RELATIVE)
    message = problem_of(ox.Store(), path, base_iri="http://base.example/")
    assert "absolute IRIs only" in message


@pytest.mark.parametrize("base", ["relative/", "http://a b/"])
def test_a_bad_base_is_a_usage_error(tmp_path: Path, base: str) -> None:
    with pytest.raises(UsageError, match="base IRI"):
        load_rdf(ox.Store(), write(tmp_path / "x.ttl", RELATIVE), base_iri=base)


# --- errors ---------------------------------------------------------------------------------


# (file, content, expected start of the problem after the file name)
SYNTAX = {
    "turtle dot": ("bad.ttl", b'@prefix e: <http://e/> .\ne:a e:p "1" .\ne:a e:p e:b e:c .\n',
                   ":3: column 13: invalid Turtle: A dot is expected"),
    "ntriples quote": ("bad.nt.gz", b'<http://e/a> <http://e/p> "1" .\n<http://e/a> <http://e/p> "x .\n',
                       ":2: column 27: invalid N-Triples: "),
    "nquads utf-8": ("bad.nq", b'<http://e/a> <http://e/p> "\xff" .\n',
                     ":1: column 28: invalid N-Quads: Invalid UTF-8"),
    "trig brace": ("bad.trig", b'<http://e/g> {\n<http://e/a> <http://e/p> "1" .\n',
                   ":3: column 1: invalid TriG: "),
    "json-ld": ("bad.jsonld", b'{"@id": "http://e/a",\n "http://e/p": [1,\n}',
                ":3: column 1: invalid JSON-LD: Unexpected closing curly bracket"),
    "rdf/xml": ("bad.rdf", b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
                           b'<rdf:Description rdf:about="http://e/a"><rdf:value>1</rdf:valu>'
                           b'</rdf:Description></rdf:RDF>',
                ": invalid RDF/XML: ill-formed document"),
    "json-ld remote context": ("remote.jsonld", b'{"@context": "https://schema.org/", "name": "x"}',
                               ": invalid JSON-LD: refers to a remote JSON-LD @context"),
}


@pytest.mark.parametrize(("name", "payload", "expected"), SYNTAX.values(), ids=SYNTAX.keys())
def test_syntax_errors_name_file_and_line(tmp_path: Path, name: str, payload: bytes,
                                          expected: str) -> None:
    path = write(tmp_path / name, payload)
    assert problem_of(ox.Store(), path).startswith(f"{path}{expected}")


@pytest.mark.parametrize(("payload", "reason"), [
    (b'<http://e/a> <http://e/p> "1" .\n', "Not a gzipped file"),
    (gzip.compress(b'<http://e/a> <http://e/p> "1" .\n' * 2000)[:200], "ended before"),
], ids=["not gzip", "truncated"])
def test_a_broken_gzip_file_is_an_input_error(tmp_path: Path, payload: bytes, reason: str) -> None:
    path = tmp_path / "broken.nt.gz"
    path.write_bytes(payload)
    message = problem_of(ox.Store(), path)
    assert message.startswith(f"{path}: cannot be decompressed as gzip: ")
    assert reason in message


def test_an_unreadable_file_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Permissions cannot make a file unreadable to root, so the opening fails as it would.
    def refuse(path: Path, gzipped: bool) -> io.BufferedReader:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(rdf_inputs, "_open", refuse)
    path = write(tmp_path / "secret.ttl", RELATIVE)
    assert problem_of(ox.Store(), path) == f"{path}: cannot be read: Permission denied"


def test_an_error_of_the_store_is_not_an_input_error(tmp_path: Path) -> None:
    class FullDisk:
        def bulk_extend(self, quads: Iterator[ox.Quad]) -> None:
            next(quads)
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left") as caught:
        load_rdf(FullDisk(), write(tmp_path / "x.nt", b'<http://e/a> <http://e/p> "1" .\n'))  # type: ignore[arg-type]
    assert not isinstance(caught.value, InputError)


@pytest.mark.parametrize(("name", "match"), [
    ("data.csv", "cannot tell the RDF format"), ("data.gz", "cannot tell the RDF format"),
    ("missing.ttl", "no such file"), ("folder.ttl", "not a file"),
])
def test_paths_that_are_not_rdf_files_are_usage_errors(tmp_path: Path, name: str, match: str) -> None:
    (tmp_path / "data.csv").write_text("a,b\n")
    (tmp_path / "data.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "folder.ttl").mkdir()
    with pytest.raises(UsageError, match=match):
        load_rdf(ox.Store(), tmp_path / name)


def test_load_rdf_files_reports_every_broken_file(tmp_path: Path) -> None:
    good = write(tmp_path / "good.nt", b'<http://e/a> <http://e/p> "1" .\n')
    first = write(tmp_path / "first.ttl", RELATIVE)
    second = write(tmp_path / "second.nt.gz", b"not rdf\n")
    with pytest.raises(InputError) as caught:
        load_rdf_files(ox.Store(), [first, good, second])
    assert [problem.file for problem in caught.value.problems] == [str(first), str(second)]

    other = write(tmp_path / "other.ttl", b'<http://e/b> <http://e/p> "2", "3" .\n')
    loaded = load_rdf_files(ox.Store(), [good, other])
    assert [(item.path, item.quads) for item in loaded] == [(good, 1), (other, 2)]


# --- sorting build arguments ----------------------------------------------------------------


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    for name in ("records.json", "a.ttl", "b.NT.gz", "notes.txt", "c.jsonld"):
        (tmp_path / name).write_bytes(b"")
    return tmp_path


def test_split_inputs(inputs: Path) -> None:
    paths = [inputs / "a.ttl", inputs / "data", inputs / "b.NT.gz", inputs / "c.jsonld"]
    assert split_inputs(paths) == BuildInputs(
        inputs / "data", (inputs / "a.ttl", inputs / "b.NT.gz", inputs / "c.jsonld"))
    assert split_inputs([inputs / "records.json"]) == BuildInputs(inputs / "records.json", ())
    assert split_inputs([inputs / "a.ttl"]) == BuildInputs(None, (inputs / "a.ttl",))


@pytest.mark.parametrize(("names", "match"), [
    (["data", "records.json"], r"records\.json: only one data directory, \.json file or workbook"),
    (["notes.txt"], r"notes\.txt: not a build input; .*\.ttl, .*\.jsonld.*\.gz"),
    (["missing.ttl"], r"missing\.ttl: no such file or directory"),
    (["a.ttl", "data/../a.ttl"], r"a\.ttl: given twice"),
    ([], "nothing to build"),
])
def test_split_inputs_refuses(inputs: Path, names: list[str], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        split_inputs([inputs / name for name in names])
