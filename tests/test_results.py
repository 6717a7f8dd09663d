"""SPARQL results writers, checked by reading their output back with independent parsers.

pyoxigraph's own parsers read JSON, XML and TSV back into terms; CSV, which pyoxigraph refuses
to parse (it is lossy), is read with Python's csv module and compared by lexical form.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyoxigraph import BaseDirection, BlankNode, Literal, NamedNode, Quad, QueryResultsFormat, Store, Triple

from lod.errors import UsageError
from lod.formats import ResultFormat
from lod.query.results import RowTerm, iter_solutions, write_boolean, write_solutions

XSD = "http://www.w3.org/2001/XMLSchema#"
EX = "http://example.org/"
TRICKY = 'say "hi",\n\ttab\r\nand <&> \\ ]]> \u00e9\u20ac\U0001f600'

VARIABLES = ["iri", "bnode", "plain", "lang", "int", "date", "tricky", "unbound"]
ROWS: list[list[RowTerm | None]] = [
    [
        NamedNode(EX + "org/1?a=1&b=2,3"),
        BlankNode("b0"),
        Literal("plain string"),
        Literal("Zusammenarbeit", language="de"),
        Literal("42", datatype=NamedNode(XSD + "integer")),
        Literal("2024-02-29", datatype=NamedNode(XSD + "date")),
        Literal(TRICKY),
        None,
    ],
    [
        NamedNode(EX + "org/2"),
        None,
        Literal(""),
        Literal("co-operation", language="en-gb"),
        Literal("-7", datatype=NamedNode(XSD + "integer")),
        Literal("not a date", datatype=NamedNode(XSD + "date")),
        Literal("\r"),
        None,
    ],
    [None] * len(VARIABLES),
]
PARSEABLE = [ResultFormat.JSON, ResultFormat.XML, ResultFormat.TSV]


def serialise(fmt: ResultFormat, variables: Sequence[str], rows: Sequence[Sequence[RowTerm | None]]) -> bytes:
    out = io.BytesIO()
    assert write_solutions(out, fmt, variables, rows) == len(rows)
    return out.getvalue()


def parse_back(data: bytes, fmt: ResultFormat) -> tuple[list[str], list[list[RowTerm | None]]]:
    solutions = ox.parse_query_results(data, format=getattr(QueryResultsFormat, fmt.name))
    assert isinstance(solutions, ox.QuerySolutions)
    variables = [variable.value for variable in solutions.variables]
    return variables, [[solution[name] for name in variables] for solution in solutions]


def csv_text(term: RowTerm | None) -> str:
    """What the CSV format keeps of a term."""
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return "_:" + term.value
    assert isinstance(term, NamedNode | Literal)
    return term.value


@pytest.mark.parametrize("fmt", PARSEABLE, ids=lambda fmt: fmt.label)
def test_round_trip_through_pyoxigraph(fmt: ResultFormat) -> None:
    variables, rows = parse_back(serialise(fmt, VARIABLES, ROWS), fmt)
    assert variables == VARIABLES
    assert rows == ROWS


def test_csv_is_rfc4180_with_lexical_forms() -> None:
    data = serialise(ResultFormat.CSV, VARIABLES, ROWS)
    assert data.startswith(b"iri,bnode,plain,lang,int,date,tricky,unbound\r\n")
    # Every line end outside a quoted field is CRLF.
    assert data.endswith(b"\r\n")
    table = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True))
    assert table[0] == VARIABLES
    assert table[1:] == [[csv_text(term) for term in row] for row in ROWS]


def test_csv_quotes_only_what_must_be_quoted() -> None:
    row = [Literal("a,b"), Literal('say "x"'), Literal("two\nlines"), Literal("tab\there"), Literal("1")]
    data = serialise(ResultFormat.CSV, ["a", "b", "c", "d", "e"], [row])
    assert data.decode("utf-8").split("\r\n", 1)[1] == '"a,b","say ""x""","two\nlines",tab\there,1\r\n'


def test_tsv_syntax() -> None:
    lines = serialise(ResultFormat.TSV, VARIABLES, ROWS).decode("utf-8").split("\n")
    assert lines[0] == "\t".join("?" + name for name in VARIABLES)
    assert lines[1].split("\t") == [
        f"<{EX}org/1?a=1&b=2,3>",
        "_:b0",
        '"plain string"',
        '"Zusammenarbeit"@de',
        "42",
        f'"2024-02-29"^^<{XSD}date>',
        '"say \\"hi\\",\\n\\ttab\\r\\nand <&> \\\\ ]]> \u00e9\u20ac\U0001f600"',
        "",
    ]
    assert lines[3] == "\t" * (len(VARIABLES) - 1)
    assert lines[4:] == [""]  # the last row ends with a newline


def test_json_shape() -> None:
    document = json.loads(serialise(ResultFormat.JSON, VARIABLES, ROWS))
    assert document["head"] == {"vars": VARIABLES}
    first, second, third = document["results"]["bindings"]
    assert first["plain"] == {"type": "literal", "value": "plain string"}  # no xsd:string datatype
    # No rdf:langString datatype either.
    assert first["lang"] == {"type": "literal", "value": "Zusammenarbeit", "xml:lang": "de"}
    assert first["int"] == {"type": "literal", "value": "42", "datatype": XSD + "integer"}
    assert first["bnode"] == {"type": "bnode", "value": "b0"}
    assert first["iri"] == {"type": "uri", "value": EX + "org/1?a=1&b=2,3"}
    assert "unbound" not in first and "bnode" not in second
    assert third == {}


def test_xml_reads_back_with_a_conforming_xml_parser() -> None:
    # ElementTree normalises raw CR LF to LF, as XML requires: CR must travel as &#13;.
    root = ET.fromstring(serialise(ResultFormat.XML, VARIABLES, ROWS))
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert [v.get("name") for v in root.findall("r:head/r:variable", ns)] == VARIABLES
    first = root.findall("r:results/r:result", ns)[0]
    literals = {b.get("name"): b.find("r:literal", ns) for b in first.findall("r:binding", ns)}
    assert literals["tricky"] is not None and literals["tricky"].text == TRICKY
    assert literals["lang"] is not None
    assert literals["lang"].get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    assert literals["plain"] is not None and literals["plain"].attrib == {}


def test_xml_replaces_characters_xml_cannot_carry() -> None:
    data = serialise(ResultFormat.XML, ["x"], [[Literal("a\x00b\x1fc\ufffe")]])
    ET.fromstring(data)  # well-formed
    _, rows = parse_back(data, ResultFormat.XML)
    assert rows == [[Literal("a\ufffdb\ufffdc\ufffd")]]
    # The other formats keep them.
    _, rows = parse_back(serialise(ResultFormat.JSON, ["x"], [[Literal("a\x00b")]]), ResultFormat.JSON)
    assert rows == [[Literal("a\x00b")]]


# Characters XML 1.0 cannot carry at all; the XML writer replaces them.
_NOT_XML = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]))


@given(text=st.text(), lang=st.sampled_from([None, "en", "de-ch"]))
def test_any_text_round_trips(text: str, lang: str | None) -> None:
    rows: list[list[RowTerm | None]] = [[Literal(text, language=lang), Literal(text)]]
    for fmt in (ResultFormat.JSON, ResultFormat.TSV):
        assert parse_back(serialise(fmt, ["a", "b"], rows), fmt) == (["a", "b"], rows)
    xml = serialise(ResultFormat.XML, ["a", "b"], rows)
    clean = "".join("\ufffd" if char in _NOT_XML else char for char in text)
    cleaned: list[list[RowTerm | None]] = [[Literal(clean, language=lang), Literal(clean)]]
    assert parse_back(xml, ResultFormat.XML) == (["a", "b"], cleaned)
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert [e.text or "" for e in ET.fromstring(xml).iter(ns + "literal")] == [clean, clean]
    table = list(csv.reader(io.StringIO(serialise(ResultFormat.CSV, ["a", "b"], rows).decode(), newline="")))
    assert table == [["a", "b"], [text, text]]


RDF12_ROWS: list[list[RowTerm | None]] = [
    [
        Triple(NamedNode(EX + "a"), NamedNode(EX + "says"), Literal('he said "hi"\tthen left')),
        Literal("\u0645\u0631\u062d\u0628\u0627", language="ar", direction=BaseDirection.RTL),
    ],
    [
        Triple(
            BlankNode("t"),
            NamedNode(EX + "p"),
            Triple(NamedNode(EX + "s"), NamedNode(EX + "p"), BlankNode("o")),
        ),
        None,
    ],
]


@pytest.mark.parametrize("fmt", PARSEABLE, ids=lambda fmt: fmt.label)
def test_triple_terms_and_base_direction_round_trip(fmt: ResultFormat) -> None:
    assert parse_back(serialise(fmt, ["t", "d"], RDF12_ROWS), fmt) == (["t", "d"], RDF12_ROWS)


def test_triple_terms_in_csv_and_tsv() -> None:
    csv_lines = serialise(ResultFormat.CSV, ["t", "d"], RDF12_ROWS).decode("utf-8").split("\r\n")
    # The literal object is quoted, its quotes doubled, then the whole field quoted (doubling again).
    triple = f'"<<( {EX}a {EX}says ""he said """"hi""""\tthen left"" )>>"'
    assert csv_lines[1] == triple + ",\u0645\u0631\u062d\u0628\u0627"
    assert csv_lines[2] == f"<<( _:t {EX}p <<( {EX}s {EX}p _:o )>> )>>,"
    tsv_lines = serialise(ResultFormat.TSV, ["t", "d"], RDF12_ROWS).decode("utf-8").split("\n")
    assert tsv_lines[1].endswith('"@ar--rtl')
    assert tsv_lines[2] == f"<<( _:t <{EX}p> <<( <{EX}s> <{EX}p> _:o )>> )>>\t"


@pytest.mark.parametrize(
    ("lexical", "datatype", "written"),
    [
        ("42", "integer", "42"),
        ("-042", "integer", "-042"),
        ("4 2", "integer", f'"4 2"^^<{XSD}integer>'),
        ("1.50", "decimal", "1.50"),
        ("1.", "decimal", f'"1."^^<{XSD}decimal>'),
        ("1.5e3", "double", "1.5e3"),
        ("1.5", "double", f'"1.5"^^<{XSD}double>'),
        ("INF", "double", f'"INF"^^<{XSD}double>'),
        ("true", "boolean", "true"),
        ("1", "boolean", f'"1"^^<{XSD}boolean>'),
    ],
)
def test_tsv_abbreviates_only_what_reads_back_the_same(lexical: str, datatype: str, written: str) -> None:
    literal = Literal(lexical, datatype=NamedNode(XSD + datatype))
    data = serialise(ResultFormat.TSV, ["x"], [[literal]])
    assert data.decode("utf-8") == f"?x\n{written}\n"
    assert parse_back(data, ResultFormat.TSV) == (["x"], [[literal]])


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("fmt", [ResultFormat.JSON, ResultFormat.XML], ids=lambda fmt: fmt.label)
def test_ask_round_trip(fmt: ResultFormat, value: bool) -> None:
    out = io.BytesIO()
    write_boolean(out, fmt, value)
    parsed = ox.parse_query_results(out.getvalue(), format=getattr(QueryResultsFormat, fmt.name))
    assert isinstance(parsed, ox.QueryBoolean)
    assert bool(parsed) is value


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [(ResultFormat.CSV, b"_askResult\r\ntrue\r\n"), (ResultFormat.TSV, b"?_askResult\ntrue\n")],
    ids=["csv", "tsv"],
)
def test_ask_in_csv_and_tsv_is_jenas_one_cell_table(fmt: ResultFormat, expected: bytes) -> None:
    out = io.BytesIO()
    write_boolean(out, fmt, True)
    assert out.getvalue() == expected
    if fmt is ResultFormat.TSV:  # and it is a valid TSV table
        assert parse_back(expected, fmt) == (["_askResult"], [[Literal(True)]])


@pytest.fixture
def store() -> Store:
    store = Store()
    name = NamedNode("http://xmlns.com/foaf/0.1/name")
    founded = NamedNode(EX + "founded")
    members = NamedNode(EX + "members")
    store.extend(
        [
            Quad(NamedNode(EX + "org/1"), name, Literal("Acme, \"Ltd\"\n<&>", language="en")),
            Quad(NamedNode(EX + "org/1"), founded, Literal("1999-12-31", datatype=NamedNode(XSD + "date"))),
            Quad(NamedNode(EX + "org/1"), members, Literal(12)),
            Quad(NamedNode(EX + "org/2"), name, Literal("Zweite\tGmbH")),
            Quad(BlankNode("anon"), name, Literal("Anonymous")),
        ]
    )
    return store


QUERY = """
SELECT ?org ?name ?founded ?members WHERE {
  ?org <http://xmlns.com/foaf/0.1/name> ?name .
  OPTIONAL { ?org <http://example.org/founded> ?founded }
  OPTIONAL { ?org <http://example.org/members> ?members }
} ORDER BY ?name
"""


@pytest.mark.parametrize("fmt", list(ResultFormat), ids=lambda fmt: fmt.label)
def test_real_query_output(store: Store, fmt: ResultFormat) -> None:
    solutions = store.query(QUERY)
    assert isinstance(solutions, ox.QuerySolutions)
    variables = [variable.value for variable in solutions.variables]
    expected = [[solution[name] for name in variables] for solution in solutions]
    assert len(expected) == 3 and expected[2][2] is None  # "Zweite GmbH" has no founding date

    # QuerySolution objects are rows as they are.
    again = store.query(QUERY)
    assert isinstance(again, ox.QuerySolutions)
    out = io.BytesIO()
    assert write_solutions(out, fmt, variables, again) == 3
    data = out.getvalue()

    if fmt is ResultFormat.CSV:
        table = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        assert table == [variables, *[[csv_text(term) for term in row] for row in expected]]
    else:
        assert parse_back(data, fmt) == (variables, expected)
    if fmt in (ResultFormat.CSV, ResultFormat.TSV):
        # No layout freedom is used here, so pyoxigraph's own writer must agree byte for byte.
        native = store.query(QUERY)
        assert isinstance(native, ox.QuerySolutions)
        assert data == native.serialize(format=getattr(QueryResultsFormat, fmt.name))


def test_large_results_are_written_in_chunks() -> None:
    rows: list[list[RowTerm | None]] = [
        [NamedNode(f"{EX}org/{i}"), Literal(f"Organisation {i}", language="en")] for i in range(20_000)
    ]
    chunks = list(iter_solutions(ResultFormat.JSON, ["s", "o"], rows))
    assert len(chunks) > 10
    assert all(len(chunk) < 70 * 1024 for chunk in chunks)
    data = b"".join(chunks)
    assert data == serialise(ResultFormat.JSON, ["s", "o"], rows)
    assert parse_back(data, ResultFormat.JSON) == (["s", "o"], rows)


def test_rows_are_consumed_lazily() -> None:
    def rows() -> Iterator[list[RowTerm | None]]:
        yield [Literal("first")]
        raise RuntimeError("the second row was never asked for")

    chunks = iter_solutions(ResultFormat.TSV, ["x"], rows())
    with pytest.raises(RuntimeError, match="never asked"):
        next(chunks)


def test_no_variables_and_no_rows() -> None:
    for fmt in PARSEABLE:
        assert parse_back(serialise(fmt, [], []), fmt) == ([], [])
        assert parse_back(serialise(fmt, [], [[]]), fmt) == ([], [[]])
    assert serialise(ResultFormat.CSV, ["a", "b"], []) == b"a,b\r\n"


@pytest.mark.parametrize("name", ["?x", "", "a b", 'x"', "a-b"])
def test_invalid_variable_names_are_refused_at_once(name: str) -> None:
    with pytest.raises(ValueError, match="invalid SPARQL variable name"):
        iter_solutions(ResultFormat.XML, [name], [])


def test_rows_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="row 2 has 1 values for 2 variables"):
        serialise(ResultFormat.CSV, ["a", "b"], [[None, None], [None]])


@pytest.mark.parametrize("fmt", list(ResultFormat), ids=lambda fmt: fmt.label)
def test_values_that_are_not_terms_are_refused(fmt: ResultFormat) -> None:
    with pytest.raises(TypeError, match="not an RDF term: 'plain python string'"):
        serialise(fmt, ["a", "b"], [[Literal("x"), "plain python string"]])  # type: ignore[list-item]


@pytest.mark.parametrize("fmt", list(ResultFormat), ids=lambda fmt: fmt.label)
def test_format_table_agrees_with_pyoxigraph(fmt: ResultFormat) -> None:
    native = getattr(QueryResultsFormat, fmt.name)
    assert fmt.media_type == native.media_type.partition(";")[0]
    assert fmt.content_type == f"{fmt.media_type}; charset=utf-8"  # what lod writes is UTF-8
    assert fmt.extension == "." + native.file_extension


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("json", ResultFormat.JSON),
        ("XML", ResultFormat.XML),
        ("text/csv", ResultFormat.CSV),
        ("text/tab-separated-values; charset=utf-8", ResultFormat.TSV),
        ("application/sparql-results+json", ResultFormat.JSON),
    ],
)
def test_from_label(given: str, expected: ResultFormat) -> None:
    assert ResultFormat.from_label(given) is expected


def test_from_label_names_the_allowed_values() -> None:
    with pytest.raises(UsageError, match=r"unknown SPARQL results format 'turtle'; allowed: json \(appl"):
        ResultFormat.from_label("turtle")
