"""The compiled SHACL validator (`lod.validation.compiler`) against pySHACL
(`lod.validation.pyshacl`), the reference.

Both must give the same results (focus node, source shape, severity, value, path, and message and
column too) and the same verdict on: every example of tests/shapes/, the bundled data, the minimal
fixture and mutations of it, and small shapes graphs that use the SHACL features the project's
shapes do not (default messages, sh:in, sh:xone, sh:equals, $PATH, ...).

The examples are validated in batches, once for the whole run (tests/shape_examples.py).
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import FOAF, RDF, SKOS, XSD
from rdflib.term import Node

import lod
from lod.rdf.store import ONTOLOGY_GRAPH, quads, to_oxigraph
from lod.schemes import ontology_graph
from lod.validation.compiler import UnsupportedShape, compile_shapes, validate_graph_fast, validate_store
from lod.validation.pyshacl import ValidationReport, ValidationResult, shapes_graph, validate_graph
from lod.vocab import SCHEMA, SH

from .shape_examples import EXAMPLES, example, names, validated

ROOT = Path(__file__).parent.parent

Key = tuple[Node, Node, str, Node | None, Node | None, tuple[str, ...], str | None]


def _canonical(term: Node | None) -> Node | None:
    """A literal as Oxigraph keeps it (``"1.50"`` is ``"1.5"``, ``@DE`` is ``@de``)."""
    if not isinstance(term, Literal):
        return term
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), to_oxigraph(term)))
    kept = next(iter(store)).object
    assert isinstance(kept, ox.Literal)
    if kept.language:
        return Literal(kept.value, lang=kept.language)
    if kept.datatype.value == str(XSD.string):
        return Literal(kept.value)
    return Literal(kept.value, datatype=URIRef(kept.datatype.value))


def _key(result: ValidationResult) -> Key:
    # The texts of the messages in every language: pySHACL drops a message's language tag where
    # it puts a SPARQL constraint's bindings in; the compiled validator keeps it.
    return (result.focus_node, result.source_shape, result.severity, _canonical(result.value),
            result.path, tuple(sorted(str(m) for m in result.messages)), result.column)


def _keys(report: ValidationReport) -> Counter[Key]:
    return Counter(_key(r) for r in report.results)


def _differences(reference: Counter[Key], compiled: Counter[Key]) -> str:
    lines = [f"  pySHACL only: {k}" for k in (reference - compiled).elements()]
    lines += [f"  compiled only: {k}" for k in (compiled - reference).elements()]
    return "\n".join(lines)


def _assert_agree(graph: Graph, **options: Graph) -> ValidationReport:
    reference, compiled = validate_graph(graph, **options), validate_graph_fast(graph, **options)
    assert _keys(reference) == _keys(compiled), _differences(_keys(reference), _keys(compiled))
    assert reference.conforms == compiled.conforms
    return compiled


# --- the examples of tests/shapes/, validated in batches (tests/shape_examples.py) ---------------


def _results(name: str) -> tuple[Counter[Key], Counter[Key]]:
    reference, compiled = validated(name)
    return Counter(map(_key, reference)), Counter(map(_key, compiled))


@pytest.mark.parametrize("name", names())
def test_compiled_agrees_with_pyshacl_on_example(name: str) -> None:
    reference, compiled = _results(name)
    assert reference == compiled, f"{name}.ttl:\n{_differences(reference, compiled)}"
    violations = [k for k in reference if k[2] == "Violation"]
    assert bool([k for k in compiled if k[2] == "Violation"]) == bool(violations)  # the same verdict
    if name.endswith(".violating"):
        assert reference, f"{name}.ttl gives no result at all"
    else:
        assert not reference, f"{name}.ttl should conform entirely"


def test_batching_changes_nothing() -> None:
    for name in names()[::25]:
        alone = validate_graph(example(name))
        assert _keys(alone) == _keys(validate_graph_fast(example(name)))
        assert _keys(alone) == _results(name)[0], name


# --- real data ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", [ROOT / "data", ROOT / "tests" / "fixtures" / "minimal"])
def test_compiled_agrees_with_pyshacl_on_data(folder: Path) -> None:
    _assert_agree(lod.to_graph(lod.read_records(folder)))


@cache
def _minimal() -> tuple[tuple[Node, Node, Node], ...]:
    graph = lod.to_graph(lod.read_records(ROOT / "tests" / "fixtures" / "minimal"))
    return tuple(sorted(graph, key=lambda t: tuple(map(str, t))))


DATATYPES = (XSD.string, XSD.date, XSD.gYear, XSD.gYearMonth, XSD.decimal, XSD.integer, XSD.boolean,
             XSD.anyURI, RDF.langString)
LANGUAGES = ("de", "en", "fr", "DE", "de-AT", "en-GB", None)
LABELS = (SKOS.prefLabel, SKOS.altLabel, SCHEMA.name, FOAF.name)


@st.composite
def _mutated(draw: st.DrawFn) -> Graph:
    """The minimal fixture with one to three triples dropped, retyped, relabelled or doubled."""
    triples = list(_minimal())
    literals = [i for i, t in enumerate(triples) if isinstance(t[2], Literal)]
    labels = [i for i in literals if triples[i][1] in LABELS]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["drop", "datatype", "language", "double"]))
        if kind == "drop":
            triples.pop(draw(st.integers(0, len(triples) - 1)))
            literals = [i for i, t in enumerate(triples) if isinstance(t[2], Literal)]
            labels = [i for i in literals if triples[i][1] in LABELS]
            continue
        index = draw(st.sampled_from(labels if kind == "double" else literals))
        s, p, o = triples[index]
        if kind == "datatype":
            datatype = draw(st.sampled_from(DATATYPES))
            retyped = (Literal(str(o), lang="de") if datatype == RDF.langString
                       else Literal(str(o), datatype=datatype))
            triples[index] = (s, p, retyped)
        elif kind == "language":
            triples[index] = (s, p, Literal(str(o), lang=draw(st.sampled_from(LANGUAGES))))
        else:
            language = o.language if isinstance(o, Literal) else None
            triples.append((s, p, Literal(f"{o} (2)", lang=language)))
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_compiled_agrees_with_pyshacl_on_mutations(graph: Graph) -> None:
    _assert_agree(graph)


# --- SHACL features the project's shapes do not use ----------------------------------------------

PREFIXES = """
@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

DATA = PREFIXES + """
ex:Special rdfs:subClassOf ex:Thing .
ex:a a ex:Thing ; ex:code "AB-1", "x" ; ex:colour ex:red ; ex:size 3 ; ex:same ex:b ; ex:other ex:b ;
    ex:label "A"@en, "B"@EN, "C"@de-AT ; ex:parent ex:b ;
    ex:date "2014-02-30"^^xsd:date, "2014-01-24"^^xsd:date .
ex:b a ex:Special ; ex:code "CD-2" ; ex:colour ex:blue ; ex:size 4.5 ; ex:parent ex:c ; ex:same ex:c ;
    ex:label "D" ; ex:date "2014-01-24Z"^^xsd:date, "2014"^^xsd:date .
ex:c a ex:Thing ; ex:colour "red" ; ex:size "big" ; ex:parent ex:a ;
    ex:flag "1"^^xsd:boolean, "yes"^^xsd:boolean ;
    ex:number "1_000"^^xsd:integer, " 7 "^^xsd:integer, "1e3"^^xsd:decimal, "NaN"^^xsd:decimal .
_:d a ex:Thing ; ex:code _:e ; ex:parent ex:a .
ex:lonely ex:points ex:a, "text" .
"""

SHAPES = PREFIXES + """
ex:ThingShape a sh:NodeShape ;
    sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:code ; sh:pattern "^[A-Z]{2}-[0-9]$" ; sh:minLength 2 ; sh:maxLength 4 ;
                  sh:nodeKind sh:Literal ] ,
        [ sh:path ex:colour ; sh:in ( ex:red ex:blue ) ; sh:class ex:Colour ] ,
        [ sh:path ex:size ; sh:xone ( [ sh:datatype xsd:integer ] [ sh:datatype xsd:decimal ] ) ] ,
        [ sh:path ex:same ; sh:equals ex:other ] ,
        [ sh:path ex:label ; sh:uniqueLang true ; sh:languageIn ( "en" "de" ) ; sh:maxCount 2 ] ,
        [ sh:path ( ex:parent ex:parent ) ; sh:minCount 1 ; sh:maxCount 1 ; sh:class ex:Thing ] ,
        [ sh:path [ sh:oneOrMorePath ex:parent ] ; sh:minCount 4 ] ,
        [ sh:path [ sh:zeroOrMorePath ex:parent ] ; sh:qualifiedValueShape [ sh:class ex:Special ] ;
          sh:qualifiedMaxCount 0 ] ,
        [ sh:path ex:parent ; sh:node ex:CodedShape ; sh:property [ sh:path ex:code ; sh:minCount 1 ] ] ,
        [ sh:path ex:date ; sh:datatype xsd:date ] ,
        [ sh:path ex:flag ; sh:datatype xsd:boolean ] ,
        [ sh:path ex:number ; sh:or ( [ sh:datatype xsd:integer ] [ sh:datatype xsd:decimal ] ) ] ,
        [ sh:path ex:code ; sh:and ( [ sh:minLength 1 ] [ sh:not [ sh:hasValue "x" ] ] ) ;
          sh:severity sh:Info ] ,
        [ sh:path ex:code ;
          sh:sparql [ sh:select "SELECT ?value WHERE { $this $PATH ?value FILTER(isBlank(?value)) }" ;
                      sh:message "{$this} has a blank {?value}" ] ] .
ex:CodedShape a sh:NodeShape ; sh:property [ sh:path ex:code ; sh:minCount 1 ; sh:severity sh:Warning ] .
ex:PointedShape a sh:NodeShape ; sh:targetObjectsOf ex:points ; sh:nodeKind sh:IRI ; sh:severity sh:Warning .
ex:NodeShape a sh:NodeShape ; sh:targetNode ex:a, ex:nothing ; sh:hasValue ex:a ;
    sh:property [ sh:path [ sh:inversePath ex:parent ] ; sh:minCount 2 ; sh:hasValue ex:c ] .
ex:SubjectsShape a sh:NodeShape ; sh:targetSubjectsOf ex:points ;
    sh:property [ sh:path [ sh:alternativePath ( ex:points ex:missing ) ] ; sh:maxCount 1 ;
                  sh:message "at most one"@en, "höchstens einer"@de ] .
ex:Colour a rdfs:Class, sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .
ex:Off a sh:NodeShape ; sh:targetClass ex:Thing ; sh:deactivated true ;
    sh:property [ sh:path ex:x ; sh:minCount 1 ] .
"""


def test_compiled_agrees_with_pyshacl_on_other_features() -> None:
    data, shapes = Graph().parse(data=DATA, format="turtle"), Graph().parse(data=SHAPES, format="turtle")
    report = _assert_agree(data, shapes=shapes, ontology=Graph())
    components = set(report.graph.objects(None, SH.sourceConstraintComponent))
    assert len(components) >= 15, components  # the example exercises what it is meant to


def test_validate_store_sees_the_ontology_in_its_named_graph() -> None:
    graph = lod.to_graph(lod.read_records(ROOT / "data"))
    store = ox.Store()
    store.bulk_extend(quads(graph, ox.DefaultGraph()))
    store.bulk_extend(quads(ontology_graph(), ONTOLOGY_GRAPH))
    results = validate_store(store, compile_shapes(shapes_graph()))
    assert Counter(map(_key, results)) == _keys(validate_graph(graph))


def test_report_graph_is_a_shacl_report() -> None:
    graph = Graph().parse(EXAMPLES / "InstantShape-value.violating.ttl", format="turtle")
    report = validate_graph_fast(graph)
    assert (None, SH.conforms, Literal(False)) in report.graph
    assert len(set(report.graph.subjects(RDF.type, SH.ValidationResult))) == len(report.results)
    path = report.results[0].path
    assert isinstance(path, BNode) and (path, SH.alternativePath, None) in report.graph


SHAPE = "ex:S a sh:NodeShape ; sh:targetClass ex:T ; "
UNSUPPORTED = {  # a feature, and a shape that uses it
    "sh:closed": SHAPE + "sh:closed true .",
    "sh:lessThan": SHAPE + "sh:property [ sh:path ex:p ; sh:lessThan ex:q ] .",
    "sh:minInclusive": SHAPE + "sh:property [ sh:path ex:p ; sh:minInclusive 1 ] .",
    "look-around": SHAPE + 'sh:property [ sh:path ex:p ; sh:pattern "a(?=b)" ] .',
    "recursive": SHAPE + "sh:property [ sh:path ex:p ; sh:node ex:S ] .",
    "$shapesGraph": SHAPE + 'sh:sparql [ sh:select "SELECT $this { GRAPH $shapesGraph { $this ?p ?o } }" ] .',
    "sh:rule": SHAPE + "sh:rule [ a sh:TripleRule ] .",
    "a blank node in sh:in": SHAPE + "sh:property [ sh:path ex:p ; sh:in ( [ ex:q 1 ] ) ] .",
}


@pytest.mark.parametrize("feature", sorted(UNSUPPORTED))
def test_unsupported_feature_is_refused_when_compiling(feature: str) -> None:
    shapes = Graph().parse(data=PREFIXES + UNSUPPORTED[feature], format="turtle")
    with pytest.raises(UnsupportedShape, match="cannot compile shape") as raised:
        compile_shapes(shapes)
    assert raised.value.shape is not None
    assert str(raised.value.shape) in str(raised.value)
