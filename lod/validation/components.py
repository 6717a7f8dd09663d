"""The parts of SHACL that `lod.validation.compiler` turns into SPARQL: reading a shapes graph as
pySHACL reads it, SHACL paths as SPARQL property paths, and "does this node conform to that
shape" as a SPARQL expression over a variable.

pySHACL (through `lod.validation.pyshacl`) is the reference: where SHACL leaves room, or pySHACL reads it in
its own way (ill-typed literals, sh:languageIn, sh:pattern flags, what counts as conforming inside
sh:or and sh:not when warnings are allowed), the expressions here do what pySHACL does.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import lru_cache, partial

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD, NamespaceManager
from rdflib.term import Node, XSDToPython

from lod.errors import LodError
from lod.rdf.store import to_oxigraph
from lod.vocab import SH

DATATYPE_OK = ox.NamedNode("urn:x-lod:shacl:datatype-ok")
"""A custom SPARQL function (see `datatype_ok`) for the lexical forms a fast regex cannot vouch for."""

# Predicates of a shape that do not constrain anything (or are read with the one that does).
_ANNOTATIONS = {RDF.type, SH.name, SH.description, SH.message, SH.severity, SH.deactivated,
                SH.order, SH.group, SH.defaultValue, SH.path, SH.targetClass, SH.targetNode,
                SH.targetSubjectsOf, SH.targetObjectsOf, SH.target, SH.flags, SH.qualifiedMinCount,
                SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.declare, SH.prefixes}
# Constraint parameters that apply to every value node one by one (a property shape's values,
# or a node shape's focus node).
VALUE_PARAMETERS = (SH["class"], SH.datatype, SH.nodeKind, SH.minLength, SH.maxLength, SH.pattern,
                    SH.languageIn, SH["in"], SH.node, SH["not"], SH["and"], SH["or"], SH.xone)
# Parameters on a property shape that look at all of a focus node's values at once.
FOCUS_PARAMETERS = (SH.minCount, SH.maxCount, SH.hasValue, SH.uniqueLang, SH.qualifiedValueShape,
                    SH.disjoint, SH.equals, SH.property, SH.sparql)
_NODE_KINDS = {SH.IRI: "isIRI({0})", SH.BlankNode: "isBlank({0})", SH.Literal: "isLiteral({0})",
               SH.BlankNodeOrIRI: "!isLiteral({0})", SH.BlankNodeOrLiteral: "!isIRI({0})",
               SH.IRIOrLiteral: "!isBlank({0})"}
# Lexical forms rdflib surely parses; anything else of these datatypes goes to `datatype_ok`.
_SURELY_WELL_TYPED = {
    XSD.date: r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
    XSD.decimal: r"^-?[0-9]+(\.[0-9]+)?$",
    XSD.integer: r"^-?[0-9]+$",
    XSD.boolean: r"^(true|false)$",
    XSD.double: r"^-?[0-9]+(\.[0-9]+)?(E-?[0-9]+)?$",
    XSD.float: r"^-?[0-9]+(\.[0-9]+)?(E-?[0-9]+)?$",
}
_PLAIN_DATATYPES = {XSD.normalizedString, XSD.token, XSD.language, XSD.anyURI}
MAX_COUNTED = 6  # counts inside a nested shape are spelled out as that many distinct values


class UnsupportedShape(LodError):
    """A shape uses a SHACL feature that `lod.validation.compiler` cannot turn into SPARQL (yet).

    The shape can still be checked with `lod.validation.pyshacl.validate_graph` (pySHACL)."""

    def __init__(self, shape: Node, feature: str) -> None:
        self.shape = shape
        self.feature = feature
        super().__init__(f"the SHACL compiler cannot compile shape {shape.n3()}: {feature}; "
                         "validate with lod.validation.pyshacl.validate_graph (pySHACL) instead, or "
                         "simplify the shape")


class Mode(Enum):
    """How a nested shape is asked: does it conform (sh:or, sh:not, ...), or does it report
    nothing at all (sh:node)? pySHACL, with warnings allowed as `lod.validation.pyshacl` runs it, lets a
    shape of severity sh:Warning or sh:Info conform whatever it finds, but sh:node fails on any
    result of the nested shape."""

    CONFORMS = "conforms"
    SILENT = "silent"


class Fresh:
    """Fresh SPARQL variable names for one query."""

    def __init__(self) -> None:
        self._count = 0

    def __call__(self) -> str:
        self._count += 1
        return f"?_v{self._count}"


def sparql_term(shape: Node, node: Node) -> str:
    """A constant of the shapes graph as SPARQL text (a blank node cannot be one)."""
    if isinstance(node, BNode):
        raise UnsupportedShape(shape, f"a blank node {node.n3()} as a value to compare with")
    return str(to_oxigraph(node))


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def sparql_string(text: str) -> str:
    return f'"{text.translate(_ESCAPES)}"'


class ShapesView:
    """A shapes graph read the way pySHACL reads it: which nodes are shapes, which are property
    shapes, their severity, messages, and parameters."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        for kind in (SH.SPARQLRule, SH.TripleRule, SH.SPARQLFunction, SH.JSRule, SH.JSFunction):
            for node in graph.subjects(RDF.type, kind):
                raise UnsupportedShape(node, f"SHACL-AF {kind.n3(graph.namespace_manager)}")
        for node in graph.subjects(RDF.type, SH.ConstraintComponent):
            raise UnsupportedShape(node, "a custom constraint component (sh:ConstraintComponent)")
        typed_nodes = set(graph.subjects(RDF.type, SH.NodeShape))
        typed_properties = set(graph.subjects(RDF.type, SH.PropertyShape))
        implied: set[Node] = set()
        for predicate in (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf,
                          SH.property, SH.node):
            implied.update(graph.subjects(predicate, None))
        for predicate in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
            implied.update(graph.objects(None, predicate))
        for predicate in (SH["and"], SH["or"], SH.xone):
            for members in graph.objects(None, predicate):
                implied.update(self.items(members, members))
        self.properties = typed_properties | {s for s in implied - typed_nodes
                                              if (s, SH.path, None) in graph}
        self.shapes = typed_nodes | self.properties | implied

    def items(self, shape: Node, members: Node) -> list[Node]:
        """The members of an RDF list that is the value of a parameter of ``shape``."""
        if members == RDF.nil:
            return []
        if (members, RDF.first, None) not in self.graph:
            raise UnsupportedShape(shape, f"{members.n3()} is not an RDF list")
        return list(Collection(self.graph, members))

    def values(self, shape: Node, predicate: URIRef) -> list[Node]:
        """The values of a parameter in the order the graph gives them, which pySHACL's messages
        follow (or the order of a set of them, for the parameters pySHACL keeps in a set)."""
        return list(self.graph.objects(shape, predicate))

    def one(self, shape: Node, predicate: URIRef) -> Node | None:
        found = self.values(shape, predicate)
        if len(found) > 1:
            raise UnsupportedShape(shape, f"more than one {self.name(predicate)}")
        return found[0] if found else None

    def integer(self, shape: Node, predicate: URIRef) -> int | None:
        value = self.one(shape, predicate)
        if value is None:
            return None
        if not (isinstance(value, Literal) and isinstance(value.value, int)
                and not isinstance(value.value, bool) and value.value >= 0):
            raise UnsupportedShape(shape, f"{self.name(predicate)} {value.n3()} is not an integer >= 0")
        return value.value

    def is_property(self, shape: Node) -> bool:
        return shape in self.properties

    def path(self, shape: Node) -> Node:
        path = self.one(shape, SH.path)
        if path is None:
            raise UnsupportedShape(shape, "a property shape without sh:path")
        return path

    def severity(self, shape: Node) -> URIRef:
        severity = self.one(shape, SH.severity)
        if severity is None:
            return SH.Violation
        if not isinstance(severity, URIRef):
            raise UnsupportedShape(shape, f"sh:severity {severity.n3()} is not an IRI")
        return severity

    def deactivated(self, shape: Node) -> bool:
        value = self.one(shape, SH.deactivated)
        return isinstance(value, Literal) and bool(value.value)

    def messages(self, shape: Node) -> tuple[Literal, ...]:
        return tuple(m for m in self.values(shape, SH.message) if isinstance(m, Literal))

    def name(self, node: Node) -> str:
        """``node`` as pySHACL writes a node of the shapes graph into a message."""
        return stringify(self.graph, node, self.graph.namespace_manager)

    def check_parameters(self, shape: Node) -> None:
        """Refuse any SHACL parameter of ``shape`` that the compiler does not know."""
        known = set(_ANNOTATIONS) | set(VALUE_PARAMETERS) | set(FOCUS_PARAMETERS)
        for predicate in set(self.graph.predicates(shape, None)):
            if str(predicate).startswith(str(SH)) and predicate not in known:
                raise UnsupportedShape(shape, f"the parameter {self.name(predicate)}")
        if not self.is_property(shape):
            for predicate in set(FOCUS_PARAMETERS) - {SH.property, SH.sparql, SH.hasValue}:
                if (shape, predicate, None) in self.graph:
                    raise UnsupportedShape(shape, f"{self.name(predicate)} on a node shape")


NEVER = "<urn:x-lod:shacl:never>"
"""A predicate no data uses: ``(a/b)|never`` means ``a/b``, but inside EXISTS Oxigraph then
evaluates the path from the bound node instead of over the whole graph (milliseconds, not seconds)."""


def sparql_path(view: ShapesView, shape: Node, path: Node, *, nested: bool = False) -> str:
    """A SHACL property path as a SPARQL property path (``nested``: for use inside EXISTS)."""
    if nested and not isinstance(path, URIRef):
        return f"({sparql_path(view, shape, path)}|{NEVER})"
    graph = view.graph
    if isinstance(path, URIRef):
        return f"<{path}>"
    if isinstance(path, BNode):
        if (path, RDF.first, None) in graph:
            steps = view.items(shape, path)
            if len(steps) < 2:
                raise UnsupportedShape(shape, "a sequence path with fewer than two steps")
            return "(" + "/".join(sparql_path(view, shape, step) for step in steps) + ")"
        for predicate, operator in ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"),
                                    (SH.oneOrMorePath, "{}+"), (SH.zeroOrOnePath, "{}?")):
            inner = graph.value(path, predicate)
            if inner is not None:
                return "(" + operator.format(sparql_path(view, shape, inner)) + ")"
        alternatives = graph.value(path, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(sparql_path(view, shape, a) for a in view.items(shape, alternatives)) + ")"
    raise UnsupportedShape(shape, f"the path {view.name(path)}")


@lru_cache(maxsize=65536)
def _well_typed(lexical: str, datatype: str) -> bool:
    # Exactly pySHACL's DatatypeConstraintComponent on a literal whose datatype is the one asked
    # for: rdflib's ill-typed flag, then its check of the parsed value's Python type.
    with warnings.catch_warnings():  # rdflib warns of a "weird boolean": it is ill-typed, no more
        warnings.simplefilter("ignore")
        literal = Literal(lexical, datatype=URIRef(datatype))
    if literal.ill_typed:
        return False
    expected = _PYTHON_TYPES.get(datatype)
    return expected is None or isinstance(literal.value, expected)


# pySHACL's `_assert_actual_datatype`: the Python type rdflib's value must have
_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    str(XSD.integer): int, str(XSD.float): float, str(XSD.decimal): Decimal, str(XSD.boolean): bool,
    str(XSD.date): date, str(XSD.time): time, str(XSD.dateTime): datetime, str(XSD.string): (str, bytes)}


def datatype_ok(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple,
                datatype: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> ox.Literal:
    """The custom function `DATATYPE_OK`: is ``term`` a well-typed literal of ``datatype``, as
    rdflib and pySHACL see it? Called only for lexical forms the fast regex does not vouch for."""
    ok = (isinstance(term, ox.Literal) and isinstance(datatype, ox.NamedNode)
          and term.datatype == datatype and _well_typed(term.value, datatype.value))
    return ox.Literal("true" if ok else "false", datatype=ox.NamedNode(str(XSD.boolean)))


def datatype_condition(shape: Node, datatype: Node, var: str) -> str:
    """SPARQL: ``var`` matches sh:datatype ``datatype`` as in pySHACL."""
    if datatype == RDF.langString:
        return f'(isLiteral({var}) && LANG({var}) != "")'
    if datatype == RDFS.Literal:
        return f"isLiteral({var})"
    if datatype == XSD.string:
        return f'(isLiteral({var}) && DATATYPE({var}) = <{XSD.string}>)'
    if not isinstance(datatype, URIRef):
        raise UnsupportedShape(shape, f"sh:datatype {datatype.n3()} is not an IRI")
    same = f"(isLiteral({var}) && DATATYPE({var}) = <{datatype}>"
    if datatype not in XSDToPython or datatype in _PLAIN_DATATYPES:
        return same + ")"  # rdflib does not parse it, so pySHACL compares the IRI only
    fast = _SURELY_WELL_TYPED.get(datatype)
    check = f"<{DATATYPE_OK.value}>({var}, <{datatype}>)"
    if fast is not None:
        check = f"(REGEX(STR({var}), {sparql_string(fast)}) || {check})"
    return f"{same} && {check})"


def portable_regex(shape: Node, pattern: str) -> str:
    """A Python `re` pattern as the XPath/Rust regex SPARQL's REGEX evaluates alike: only
    Python's ``$`` (end, or before a final newline) needs spelling out."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise UnsupportedShape(shape, f"sh:pattern {pattern!r} is not a Python regex: {error}") from None
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append("\\n?$")
            continue
        out.append(char)
    return "".join(out)


Condition = Callable[[str, Fresh], str]
"""A SPARQL condition on a variable; fresh variables for its patterns come from the `Fresh`."""

VAR = "\ue020"  # the variable in a condition template
VALUE = "\ue021"  # the value node in a message template
FOCUS_NODE = "\ue022"  # the focus node in a message template


def template(text: str, var: str, _fresh: Fresh) -> str:
    """A condition written as a template, `VAR` standing for the variable."""
    return text.replace(VAR, var)


@dataclass(frozen=True, slots=True)
class ValueConstraint:
    """One constraint that each value node must meet: a SPARQL condition, and the message pySHACL
    makes up for it when the shape has none (`VALUE` standing for the value node)."""

    component: URIRef
    condition: Condition
    message: str


class Conditions:
    """Turns shapes into SPARQL conditions. ``regex_ok`` tells whether Oxigraph accepts a regex."""

    def __init__(self, view: ShapesView, regex_ok: Callable[[str, str], bool]) -> None:
        self.view = view
        self.regex_ok = regex_ok

    def value_constraints(self, shape: Node, stack: tuple[Node, ...] = ()) -> list[ValueConstraint]:
        """The constraints of ``shape`` on each of its value nodes, one per parameter value."""
        view, name = self.view, self.view.name
        found = []
        classes = view.values(shape, SH["class"])
        for cls in classes:
            exists = f"EXISTS {{ {instance(VAR, sparql_term(shape, cls), VAR + '_k')} }}"
            message = (f"Value does not have class {name(cls)}" if len(classes) < 2 else
                       f"Value class is not in classes ({', '.join(name(c) for c in classes)})")
            found.append(ValueConstraint(SH.ClassConstraintComponent, partial(template, exists), message))
        datatype = view.one(shape, SH.datatype)
        if datatype is not None:
            found.append(ValueConstraint(SH.DatatypeConstraintComponent,
                                         partial(template, datatype_condition(shape, datatype, VAR)),
                                         f"Value is not Literal with datatype {name(datatype)}"))
        kind = view.one(shape, SH.nodeKind)
        if kind is not None:
            if not isinstance(kind, URIRef) or kind not in _NODE_KINDS:
                raise UnsupportedShape(shape, f"sh:nodeKind {kind.n3()}")
            found.append(ValueConstraint(SH.NodeKindConstraintComponent,
                                         partial(template, _NODE_KINDS[kind].format(VAR)),
                                         f"Value is not of Node Kind {name(kind)}"))
        for predicate, component, operator in ((SH.minLength, SH.MinLengthConstraintComponent, ">="),
                                               (SH.maxLength, SH.MaxLengthConstraintComponent, "<=")):
            length = view.integer(shape, predicate)
            if length is not None:
                text = ("true" if predicate == SH.minLength and length == 0  # even a blank node
                        else f"(!isBlank({VAR}) && STRLEN(STR({VAR})) {operator} {length})")
                limit = data_name(view.one(shape, predicate))
                found.append(ValueConstraint(component, partial(template, text),
                                             f"String length not {operator} {limit}"))
        found.extend(self._patterns(shape))
        languages = view.one(shape, SH.languageIn)
        if languages is not None:
            found.append(self._language_in(shape, languages))
        members = view.one(shape, SH["in"])
        if members is not None:
            allowed = list(as_set(view.items(shape, members)))
            same = " || ".join(f"sameTerm({VAR}, {sparql_term(shape, a)})" for a in allowed) or "false"
            found.append(ValueConstraint(SH.InConstraintComponent, partial(template, f"({same})"),
                                         f"Value {VALUE} not in list {[name(a) for a in allowed]}"))
        found.extend(self._shape_based(shape, stack))
        return found

    def _patterns(self, shape: Node) -> Iterator[ValueConstraint]:
        view = self.view
        patterns = view.values(shape, SH.pattern)
        given = " ".join(str(f) for f in view.values(shape, SH.flags)[:1]).lower()
        flags = "".join(f for f in "im" if f in given)  # the only flags pySHACL honours
        message = (f"Value does not match pattern '{patterns[0]}'" if len(patterns) == 1 else
                   "Value does not match every pattern in ('{}')".format("', '".join(map(str, patterns))))
        for pattern in patterns:
            if not isinstance(pattern, Literal):
                raise UnsupportedShape(shape, f"sh:pattern {pattern.n3()} is not a literal")
            regex = portable_regex(shape, str(pattern))
            if not self.regex_ok(regex, flags):
                raise UnsupportedShape(shape, f"sh:pattern {str(pattern)!r}: Oxigraph's regex engine "
                                              "does not accept it (look-around or back-references?)")
            text = f"(!isBlank({VAR}) && REGEX(STR({VAR}), {sparql_string(regex)}, {sparql_string(flags)}))"
            yield ValueConstraint(SH.PatternConstraintComponent, partial(template, text), message)

    def _language_in(self, shape: Node, languages: Node) -> ValueConstraint:
        wanted = []
        for language in self.view.items(shape, languages):
            if not (isinstance(language, Literal) and isinstance(language.value, str)):
                raise UnsupportedShape(shape, "sh:languageIn with a member that is not a string")
            wanted.append(str(language).lower())
        listed = ", ".join(sparql_string(w) for w in wanted)
        text = f'(isLiteral({VAR}) && LANG({VAR}) != ""'
        if "*" not in wanted:
            # as pySHACL: the tag, or its part before the first '-', is one of them (in any case)
            text += (f" && (LCASE(LANG({VAR})) IN ({listed})"
                     f' || LCASE(STRBEFORE(CONCAT(LANG({VAR}), "-"), "-")) IN ({listed}))')
        return ValueConstraint(SH.LanguageInConstraintComponent, partial(template, text + ")"),
                               f"String language is not in {self.view.name(languages)}")

    def _shape_based(self, shape: Node, stack: tuple[Node, ...]) -> Iterator[ValueConstraint]:
        view, name = self.view, self.view.name
        inner = (*stack, shape)
        nodes = view.values(shape, SH.node)
        described = (f"Value does not conform to Shape {name(nodes[0])}." if len(nodes) == 1 else
                     "Value must conform to every Shape in ('{}').".format("', '".join(map(name, nodes))))
        for node in nodes:
            self._known(shape, node, stack)
            yield ValueConstraint(
                SH.NodeConstraintComponent, partial(self._members, [node], "&&", Mode.SILENT, inner),
                f"{described} See details for more information.")
        negated = view.values(shape, SH["not"])
        described = (f"must not conform to shape {name(negated[0])}" if len(negated) == 1 else
                     f"must not conform to any shapes in {' , '.join(map(name, negated))}")
        for other in negated:
            self._known(shape, other, stack)
            yield ValueConstraint(
                SH.NotConstraintComponent, partial(self._members, [other], "!", Mode.CONFORMS, inner),
                f"Node {VALUE} {described}")
        for predicate, component, combine, word in (
                (SH["and"], SH.AndConstraintComponent, "&&", "must conform to all shapes in"),
                (SH["or"], SH.OrConstraintComponent, "||", "must conform to one or more shapes in"),
                (SH.xone, SH.XoneConstraintComponent, "xone", "must conform to exactly one shape in")):
            lists = [view.items(shape, members) for members in view.values(shape, predicate)]
            listed = [" , ".join(name(m) for m in members) for members in lists]
            described = " and ".join(f"({text})" for text in listed) if len(lists) > 1 else "".join(listed)
            for members in lists:
                for member in members:
                    self._known(shape, member, stack)
                condition = partial(self._members, members, combine, Mode.CONFORMS, inner)
                yield ValueConstraint(component, condition, f"Node {VALUE} {word} {described}")

    def _members(self, members: list[Node], combine: str, mode: Mode, stack: tuple[Node, ...],
                 var: str, fresh: Fresh) -> str:
        parts = [f"({self.conforms(m, var, mode, fresh, stack)})" for m in members]
        if combine == "!":
            return f"!{parts[0]}"
        if combine == "xone":
            return "(" + " + ".join(f"IF({p}, 1, 0)" for p in parts) + " = 1)" if parts else "false"
        return f" {combine} ".join(parts) or ("true" if combine == "&&" else "false")

    def _known(self, shape: Node, other: Node, stack: tuple[Node, ...]) -> None:
        if other not in self.view.shapes and not isinstance(other, BNode):
            raise UnsupportedShape(shape, f"{other.n3()} is used as a shape but is not one")
        if other in stack or other == shape:
            raise UnsupportedShape(shape, f"a recursive shape (through {other.n3()})")

    def conforms(self, shape: Node, var: str, mode: Mode, fresh: Fresh, stack: tuple[Node, ...] = (),
                 *, own_sparql: bool = False) -> str:
        """SPARQL: the node bound to ``var`` conforms to ``shape`` (asked in ``mode``);
        ``own_sparql``: leave out the shape's own sh:sparql constraints (checked by themselves)."""
        view = self.view
        view.check_parameters(shape)
        if view.deactivated(shape):
            return "true"
        if mode is Mode.CONFORMS and view.severity(shape) != SH.Violation:
            return "true"
        if view.values(shape, SH.sparql) and not own_sparql:
            raise UnsupportedShape(shape, "sh:sparql in a shape that another shape refers to")
        stack = (*stack, shape)
        checks = [c.condition for c in self.value_constraints(shape, stack[:-1])]
        parts: list[str] = []
        if not view.is_property(shape):
            parts.extend(check(var, fresh) for check in checks)
            parts.extend(f"sameTerm({var}, {sparql_term(shape, v)})" for v in view.values(shape, SH.hasValue))
            for child in view.values(shape, SH.property):
                self._known(shape, child, stack[:-1])
                parts.append(self.conforms(child, var, mode, fresh, stack))
            return " && ".join(f"({p})" for p in parts) or "true"
        path = sparql_path(view, shape, view.path(shape), nested=True)
        if checks:
            y = fresh()
            bad = " && ".join(f"({check(y, fresh)})" for check in checks)
            parts.append(f"NOT EXISTS {{ {var} {path} {y} FILTER(!({bad})) }}")
        for child in view.values(shape, SH.property):
            self._known(shape, child, stack[:-1])
            y = fresh()
            child_passes = self.conforms(child, y, mode, fresh, stack)
            parts.append(f"NOT EXISTS {{ {var} {path} {y} FILTER(!({child_passes})) }}")
        least, most = view.integer(shape, SH.minCount), view.integer(shape, SH.maxCount)
        if least:
            parts.append(self.at_least(shape, var, path, least, fresh, None))
        if most is not None:
            parts.append("!" + self.at_least(shape, var, path, most + 1, fresh, None))
        for value in view.values(shape, SH.hasValue):
            parts.append(f"EXISTS {{ {var} {path} {sparql_term(shape, value)} }}")
        if self.unique_lang(shape):
            a, b = fresh(), fresh()
            parts.append(f"NOT EXISTS {{ {var} {path} {a}, {b} FILTER({same_language(a, b)}) }}")
        for qualified in self.qualified(shape, stack[:-1]):
            low, high, keep = qualified
            if low:
                parts.append(self.at_least(shape, var, path, low, fresh, keep))
            if high is not None:
                parts.append("!" + self.at_least(shape, var, path, high + 1, fresh, keep))
        for other in view.values(shape, SH.disjoint):
            y = fresh()
            parts.append(f"NOT EXISTS {{ {var} {path} {y} . {var} {sparql_term(shape, other)} {y} }}")
        for other in view.values(shape, SH.equals):
            y, term = fresh(), sparql_term(shape, other)
            parts.append(f"NOT EXISTS {{ {var} {path} {y} FILTER NOT EXISTS {{ {var} {term} {y} }} }}")
            parts.append(f"NOT EXISTS {{ {var} {term} {y} FILTER NOT EXISTS {{ {var} {path} {y} }} }}")
        return " && ".join(f"({p})" for p in parts) or "true"

    def at_least(self, shape: Node, var: str, path: str, count: int, fresh: Fresh,
                 keep: Condition | None) -> str:
        """SPARQL: ``var`` has at least ``count`` distinct values on ``path`` (that ``keep``)."""
        if count <= 0:
            return "true"
        if count > MAX_COUNTED:
            raise UnsupportedShape(shape, f"counting to {count} in a shape that another refers to "
                                          f"(at most {MAX_COUNTED})")
        ys = [fresh() for _ in range(count)]
        conditions = [keep(y, fresh) for y in ys] if keep else []
        conditions += [f"!sameTerm({a}, {b})" for i, a in enumerate(ys) for b in ys[i + 1:]]
        patterns = " . ".join(f"{var} {path} {y}" for y in ys)
        where = " && ".join(f"({c})" for c in conditions)
        return f"EXISTS {{ {patterns} {f'FILTER({where})' if where else ''} }}"

    def unique_lang(self, shape: Node) -> bool:
        value = self.view.one(shape, SH.uniqueLang)
        return isinstance(value, Literal) and value.value is True

    def qualified(self, shape: Node, stack: tuple[Node, ...]
                  ) -> list[tuple[int | None, int | None, Condition]]:
        """Per sh:qualifiedValueShape: the counts, and the condition a value must meet to count."""
        view = self.view
        found: list[tuple[int | None, int | None, Condition]] = []
        value_shapes = view.values(shape, SH.qualifiedValueShape)
        if not value_shapes:
            return found
        low = view.integer(shape, SH.qualifiedMinCount)
        high = view.integer(shape, SH.qualifiedMaxCount)
        if low is None and high is None:
            raise UnsupportedShape(shape, "sh:qualifiedValueShape without sh:qualifiedMinCount or MaxCount")
        disjoint = any(isinstance(d, Literal) and d.value is True
                       for d in view.values(shape, SH.qualifiedValueShapesDisjoint))
        for value_shape in value_shapes:
            self._known(shape, value_shape, stack)
            siblings = sorted({s for parent in view.graph.subjects(SH.property, shape)
                               for p in view.graph.objects(parent, SH.property)
                               for s in view.graph.objects(p, SH.qualifiedValueShape)
                               if s != value_shape}, key=str) if disjoint else []

            found.append((low, high, partial(self._qualifies, value_shape, siblings, (*stack, shape))))
        return found

    def _qualifies(self, value_shape: Node, siblings: list[Node], stack: tuple[Node, ...], var: str,
                   fresh: Fresh) -> str:
        parts = [self.conforms(value_shape, var, Mode.CONFORMS, fresh, stack)]
        parts += [f"!({self.conforms(s, var, Mode.CONFORMS, fresh, stack)})" for s in siblings]
        return " && ".join(f"({p})" for p in parts)


def as_set(nodes: list[Node]) -> set[Node]:
    """The nodes as a set that iterates in the order pySHACL's set of them does."""
    found: set[Node] = set()
    for node in nodes:
        found.add(node)
    return found


_INSTANCE = re.compile("\ue001(\\S+) (<[^>]*>) (\\S+)\ue002")


def instance(var: str, cls: str, kind: str = "-") -> str:
    """A pattern: ``var`` is a SHACL instance of ``cls`` (``kind`` a fresh variable for its type).
    A placeholder, which `resolve_classes` fills in once it is known whether the data has
    subclasses of the classes at all."""
    return f"\ue001{var} {cls} {kind}\ue002"


def classes_in(text: str) -> set[str]:
    return {m.group(2) for m in _INSTANCE.finditer(text)}


def resolve_classes(text: str, *, subclasses: bool) -> str:
    """``text`` with its `instance` placeholders as patterns: rdf:type alone when no class has
    subclasses (a fifth faster), else rdf:type and rdfs:subClassOf* (the type first: twice as
    fast in Oxigraph as the path rdf:type/rdfs:subClassOf*)."""
    def pattern(match: re.Match[str]) -> str:
        var, cls, kind = match.groups()
        if not subclasses:
            return f"{var} <{RDF.type}> {cls}"
        if kind == "-":
            return f"{var} <{RDF.type}>/<{RDFS.subClassOf}>* {cls}"
        return f"{var} <{RDF.type}> {kind} . {kind} <{RDFS.subClassOf}>* {cls}"
    return _INSTANCE.sub(pattern, text)


def same_language(a: str, b: str) -> str:
    """SPARQL: two different values with the same (non-empty) language tag, as sh:uniqueLang."""
    return (f'isLiteral({a}) && isLiteral({b}) && LANG({a}) != "" && !sameTerm({a}, {b})'
            f" && LCASE(LANG({a})) = LCASE(LANG({b}))")


_DATA_NAMESPACES = Graph().namespace_manager  # what pySHACL's data graph (a fresh Graph) binds


def data_name(node: Node | None, graph: Graph | None = None) -> str:
    """A data node as pySHACL writes it into a message; a blank node by what ``graph`` says of it."""
    return "None" if node is None else stringify(graph, node, _DATA_NAMESPACES)


def stringify(graph: Graph | None, node: Node, namespaces: NamespaceManager) -> str:
    """pySHACL's `stringify_node`: IRIs as prefixed names, literals as ``Literal("x", ...)``,
    blank nodes as Turtle-like ``[ p o ]`` when their graph is known."""
    if isinstance(node, Literal):
        value = None if node.value is None else str(node.value)
        if value is not None and " object at 0x" in value[1:]:
            value = value[:value.find(" object at 0x")]
        text = f'"{node}" = {value}' if value is not None and value != str(node) else f'"{node}"'
        if node.language:
            text += f", lang={node.language}"
        if node.datatype:
            text += f", datatype={stringify(graph, node.datatype, namespaces)}"
        return f"Literal({text})"
    if isinstance(node, BNode) and graph is not None:
        return _stringify_blank(graph, node, namespaces, 1)
    if isinstance(node, URIRef):
        try:
            return node.n3(namespace_manager=namespaces)
        except Exception:  # as pySHACL: an IRI that cannot be prefixed is written whole
            return str(node)
    return str(node)


def _stringify_blank(graph: Graph, node: BNode, namespaces: NamespaceManager, depth: int) -> str:
    if depth >= 12:
        return "<http://recursion.too.deep>"
    predicates = list(graph.predicates(node, None))
    if not predicates:
        return "[ ]"
    if RDF.first in predicates:
        items = (_stringify_in(graph, i, namespaces, depth) for i in Collection(graph, node))
        return "( {} )".format(" ".join(items))
    texts = {}
    for predicate in predicates:
        objects = sorted("<self>" if predicate is OWL.sameAs and o is node else
                         _stringify_in(graph, o, namespaces, depth) for o in graph.objects(node, predicate))
        texts[predicate.n3(namespace_manager=namespaces)] = ", ".join(objects)
    return "[ {} ]".format(" ; ".join(f"{p} {o}" for p, o in sorted(texts.items())))


def _stringify_in(graph: Graph, node: Node, namespaces: NamespaceManager, depth: int) -> str:
    if isinstance(node, BNode):
        return _stringify_blank(graph, node, namespaces, depth + 1)
    return stringify(graph, node, namespaces)
