"""SHACL validation compiled to SPARQL and run by Oxigraph over the whole store at once.

pySHACL (`lod.validation.pyshacl`) stays the reference for what conforms; this gives the same results, much
faster, for the SHACL features the project's shapes use, and refuses any other feature with
`UnsupportedShape` when the shapes are compiled (it never skips one).

>>> compiled = compile_shapes(shapes_graph())          # doctest: +SKIP
>>> validate_store(store, compiled)                    # doctest: +SKIP
(ValidationResult(focus_node=..., ...), ...)
>>> validate_graph_fast(graph).conforms                # doctest: +SKIP
True

Each shape with a target becomes a `Group`: a *screen*, one query for the focus nodes that break
any of its constraints (one pass over the focus nodes, every constraint a SPARQL condition on
?this), and *checks*, one query per constraint (all constraints on single values in one) that
return the violating (focus node, value) pairs. The checks run only on what the screen found, so
data that conforms costs one query per shape.

Where results can differ from pySHACL's: Oxigraph keeps numbers, dates and language tags in
canonical form (``"1.50"^^xsd:decimal`` is ``"1.5"``, ``@DE`` is ``@de``), so values come back in
that form, and ``"1.5"`` and ``"1.50"`` count as one value; a plain literal and the same
``xsd:string`` literal are one term; sh:node results carry no sh:detail; pySHACL's lexical check
of sh:pattern runs Python's `re`, this one the XPath regex of SPARQL (the same for the patterns
this project uses, and refused where Oxigraph cannot run one); the messages of a SPARQL-based
constraint keep their language tags when the bindings are put in (pySHACL drops them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, partial

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from lod.rdf.store import quads
from lod.schemes import ontology_graph
from lod.validation.components import (
    DATATYPE_OK,
    FOCUS_NODE,
    VALUE,
    Condition,
    Conditions,
    Fresh,
    Mode,
    ShapesView,
    UnsupportedShape,
    as_set,
    classes_in,
    data_name,
    datatype_ok,
    instance,
    resolve_classes,
    same_language,
    sparql_path,
    sparql_string,
    sparql_term,
)
from lod.validation.pyshacl import SEVERITIES, ValidationReport, ValidationResult, shapes_graph
from lod.vocab import SH, XSD

__all__ = ["CompiledShapes", "Found", "UnsupportedShape", "compile_shapes", "report_of",
           "validate_graph_fast", "validate_store", "validate_store_part", "validate_store_report"]

_FUNCTIONS: dict[ox.NamedNode, Callable[..., ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]] = {
    DATATYPE_OK: datatype_ok}


@dataclass(frozen=True, slots=True)
class Emit:
    """How a solution of a check's query becomes a validation result."""

    shape: Node
    component: URIRef
    severity: URIRef
    path: Node | None  # the result path, unless a SPARQL constraint binds ?path
    value: str | None  # the variable whose binding is the sh:value, if any
    messages: tuple[Literal, ...]
    message: str | None = None  # pySHACL's message when the shape has none (FOCUS_NODE, VALUE in it)
    flag: str | None = None  # in a query shared by several constraints: the one that failed
    sparql: Node | None = None  # the sh:sparql constraint: messages take the solution's bindings
    this_projected: bool = True


@dataclass(frozen=True, slots=True)
class Check:
    """One SPARQL SELECT query over the whole data, and what its solutions mean."""

    query: str
    emits: tuple[Emit, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """The checks of one shape with targets. Its ``checks`` name the focus nodes by `FOCUS`, which
    stands for ``focus`` (a group binding ?this to the focus nodes), or, after the ``screen``
    query has found the few focus nodes that may fail any of them, for just those."""

    shape: Node
    focus: str
    screen: str | None
    checks: tuple[Check, ...]


FOCUS = "\ue000focus\ue000"


@dataclass(frozen=True)
class CompiledShapes:
    """A shapes graph compiled to queries; see `compile_shapes`."""

    groups: tuple[Group, ...]  # for data that has subclasses of the classes the shapes name
    direct: tuple[Group, ...]  # for data that has none: rdf:type alone says what is an instance
    classes: frozenset[str]
    shapes: Graph = field(repr=False)

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(check for group in self.groups for check in group.checks)


@dataclass(frozen=True, slots=True)
class _Focus:
    """A SPARQL group that binds ?this to the focus nodes (its other variables start ?_t)."""

    pattern: str
    prefixes: dict[str, str]


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """Compile every shape of ``shapes`` that has a target to SPARQL queries.

    Raises `UnsupportedShape`, naming the shape and the feature, for anything it cannot compile.
    """
    view = ShapesView(shapes)
    probe = ox.Store()

    def regex_ok(pattern: str, flags: str) -> bool:
        query = f"SELECT (REGEX(\"\", {sparql_string(pattern)}, {sparql_string(flags)}) AS ?ok) {{}}"
        solutions = probe.query(query)
        return isinstance(solutions, ox.QuerySolutions) and any(s["ok"] is not None for s in solutions)

    conditions = Conditions(view, regex_ok)
    groups = []
    for shape in sorted(view.shapes, key=str):
        view.check_parameters(shape)
        focus = _Compiler(view, conditions).focus(shape)
        if focus is None or view.deactivated(shape):
            continue
        core, sparql = _Compiler(view, conditions), _Compiler(view, conditions)
        marked = _Focus(FOCUS, focus.prefixes)
        core.shape(shape, marked)
        for constraint in view.values(shape, SH.sparql):
            sparql._sparql(shape, constraint, marked)
        if core.checks:
            groups.append(Group(shape, focus.pattern, _screen(conditions, shape, focus), tuple(core.checks)))
        if sparql.checks:  # screened by the target alone: often the rule itself, and rarely met
            targets = _query(focus.prefixes, f"SELECT DISTINCT ?this WHERE {{ {focus.pattern} }}")
            groups.append(Group(shape, focus.pattern, targets, tuple(sparql.checks)))
    texts = [t for g in groups for t in (g.focus, g.screen or "", *(c.query for c in g.checks))]
    return CompiledShapes(_resolved(groups, subclasses=True), _resolved(groups, subclasses=False),
                          frozenset(c for t in texts for c in classes_in(t)), shapes)


def _resolved(groups: list[Group], *, subclasses: bool) -> tuple[Group, ...]:
    def text(t: str) -> str:
        return resolve_classes(t, subclasses=subclasses)
    return tuple(Group(g.shape, text(g.focus), None if g.screen is None else text(g.screen),
                       tuple(Check(text(c.query), c.emits) for c in g.checks)) for g in groups)


def _screen(conditions: Conditions, shape: Node, focus: _Focus) -> str | None:
    """A query for the focus nodes that do not pass every check of ``shape`` (but its SPARQL
    constraints): one pass over the focus nodes instead of one per constraint."""
    try:
        passes = conditions.conforms(shape, "?this", Mode.SILENT, Fresh(), own_sparql=True)
    except UnsupportedShape:
        return None  # a nested shape it cannot ask about: the checks run on every focus node
    return _query(focus.prefixes, f"SELECT DISTINCT ?this WHERE {{ {focus.pattern} FILTER(!({passes})) }}")


class _Compiler:
    def __init__(self, view: ShapesView, conditions: Conditions) -> None:
        self.view = view
        self.conditions = conditions
        self.checks: list[Check] = []

    # --- targets ---------------------------------------------------------------------------------

    def focus(self, shape: Node) -> _Focus | None:
        """The focus nodes of ``shape``'s own targets, or None if it has none."""
        view, graph = self.view, self.view.graph
        patterns: list[str] = []
        prefixes: dict[str, str] = {}
        classes = list(view.values(shape, SH.targetClass))
        types = set(graph.objects(shape, RDF.type))
        if types & ({RDFS.Class} | set(graph.subjects(RDFS.subClassOf, RDFS.Class))):
            classes.append(shape)  # an implicit class target, as pySHACL has it
        for cls in classes:
            patterns.append(f"{instance('?this', sparql_term(shape, cls))} .")
        nodes = [sparql_term(shape, n) for n in view.values(shape, SH.targetNode)]
        if nodes:
            patterns.append(f"VALUES ?this {{ {' '.join(nodes)} }}")
        for predicate in view.values(shape, SH.targetSubjectsOf):
            patterns.append(f"?this {sparql_term(shape, predicate)} ?_t .")
        for predicate in view.values(shape, SH.targetObjectsOf):
            patterns.append(f"?_t {sparql_term(shape, predicate)} ?this .")
        for target in view.values(shape, SH.target):
            select = view.one(target, SH.select)
            if select is None or not isinstance(select, Literal):
                raise UnsupportedShape(shape, "an sh:target that is not a SPARQL target with sh:select")
            text, declared = _hoist_prefixes(shape, str(select), self._prefixes(target))
            _merge(shape, prefixes, declared)
            patterns.append(f"{{ SELECT DISTINCT ?this WHERE {{ {{ {text} }} }} }}")
        if not patterns:
            return None
        if len(patterns) == 1:
            return _Focus(patterns[0], prefixes)
        union = " UNION ".join(f"{{ {p} }}" for p in patterns)
        return _Focus(f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}", prefixes)

    def _prefixes(self, node: Node) -> dict[str, str]:
        """The prefixes sh:prefixes declares for a SPARQL target or constraint, as pySHACL reads them."""
        graph = self.view.graph
        ontologies = set(graph.subjects(RDF.type, OWL.Ontology))
        found: dict[str, str] = {}
        for holder in self.view.values(node, SH.prefixes):
            declares = set(graph.objects(holder, SH.declare))
            if not (declares and holder in ontologies):
                declares |= {d for o in ontologies for d in graph.objects(o, SH.declare)}
            for declare in sorted(declares, key=str):
                prefix, namespace = graph.value(declare, SH.prefix), graph.value(declare, SH.namespace)
                if prefix is None or namespace is None:
                    raise UnsupportedShape(node, "an sh:declare without sh:prefix and sh:namespace")
                _merge(node, found, {str(prefix): str(namespace)})
        return found

    # --- shapes ------------------------------------------------------------------------------------

    def shape(self, shape: Node, focus: _Focus) -> None:
        view = self.view
        view.check_parameters(shape)
        if view.deactivated(shape):
            return
        if view.is_property(shape):
            self._property_shape(shape, focus)
            return
        self._value_checks(shape, focus, "?this", "", value="this")
        values = view.values(shape, SH.hasValue)
        listed = [view.name(v) for v in as_set(values)]
        for value in values:
            self._add(shape, focus, f"FILTER(!sameTerm(?this, {sparql_term(shape, value)}))",
                      SH.HasValueConstraintComponent,
                      f"Node {FOCUS_NODE} value is not a in the set of values: {listed}")
        self._children(shape, focus)

    def _children(self, shape: Node, focus: _Focus) -> None:
        for child in self.view.values(shape, SH.property):
            self.conditions._known(shape, child, ())
            self.shape(child, focus)
            if not self.view.deactivated(child):
                for constraint in self.view.values(child, SH.sparql):
                    self._sparql(child, constraint, focus)

    def _property_shape(self, shape: Node, focus: _Focus) -> None:
        view, conditions = self.view, self.conditions
        path_node = view.path(shape)
        path = sparql_path(view, shape, path_node)
        inner = sparql_path(view, shape, path_node, nested=True)  # for (NOT) EXISTS
        on = f"{FOCUS_NODE}->{view.name(path_node)}"
        self._value_checks(shape, focus, "?value", f"?this {path} ?value .", value="value")
        least, most = view.integer(shape, SH.minCount), view.integer(shape, SH.maxCount)
        if least:
            self._add(shape, focus, self._fewer(path, inner, least, None), SH.MinCountConstraintComponent,
                      f"Less than {least} values on {on}")
        if most is not None:
            self._add(shape, focus, self._more(path, most, None), SH.MaxCountConstraintComponent,
                      f"More than {most} values on {on}")
        values = view.values(shape, SH.hasValue)
        listed = [view.name(v) for v in as_set(values)]
        for value in values:
            self._add(shape, focus, f"FILTER NOT EXISTS {{ ?this {inner} {sparql_term(shape, value)} }}",
                      SH.HasValueConstraintComponent,
                      f"Node {on} does not contain a value in the set: {listed}")
        if conditions.unique_lang(shape):
            self._add(shape, focus, f"?this {path} ?_a, ?_b FILTER({same_language('?_a', '?_b')})",
                      SH.UniqueLangConstraintComponent, "More than one String shares the same Language",
                      extra="(LCASE(LANG(?_a)) AS ?_lang)")
        qualified = as_set(view.values(shape, SH.qualifiedValueShape))
        for low, high, keep in conditions.qualified(shape, ()):
            shown = ",".join(view.name(s) for s in qualified)
            counts = "".join(f" {word} {n}" for word, n in (("MinCount", low), ("MaxCount", high))
                             if n is not None)
            message = (f"Focus node does not conform to shapes{counts}: ({shown})" if len(qualified) > 1
                       else f"Focus node does not conform to shape{counts}: {shown}")
            if low:
                self._add(shape, focus, self._fewer(path, inner, low, keep),
                          SH.QualifiedMinCountConstraintComponent, message)
            if high is not None:
                self._add(shape, focus, self._more(path, high, keep), SH.QualifiedMaxCountConstraintComponent,
                          message)
        for predicate, component, join, sign in (
                (SH.disjoint, SH.DisjointConstraintComponent, "?this {p} ?value . ?this {o} ?value .", "=="),
                (SH.equals, SH.EqualsConstraintComponent,
                 "{{ ?this {p} ?value FILTER NOT EXISTS {{ ?this {o} ?value }} }} UNION "
                 "{{ ?this {o} ?value FILTER NOT EXISTS {{ ?this {i} ?value }} }}", "!=")):
            others = view.values(shape, predicate)
            compared = ", ".join(view.name(o) for o in as_set(others))
            message = f"Value of {FOCUS_NODE}->{compared} {sign} {VALUE}"
            for other in others:
                self._add(shape, focus, join.format(p=path, i=inner, o=sparql_term(shape, other)), component,
                          message, value="value")
        if view.values(shape, SH.property):  # their focus nodes are this shape's value nodes
            self._children(shape, _Focus(f"{{ SELECT DISTINCT ?this WHERE {{ {{ SELECT (?this AS ?_f) WHERE "
                                         f"{{ {focus.pattern} }} }} ?_f {path} ?this }} }}", focus.prefixes))

    def _fewer(self, path: str, inner: str, count: int, keep: Condition | None) -> tuple[str, str]:
        """A WHERE body and solution modifiers: ?this has fewer than ``count`` values on ``path``
        (``inner`` inside NOT EXISTS) that ``keep``."""
        condition = f" FILTER({keep('?_y', Fresh())})" if keep else ""
        if count == 1:
            return f"FILTER NOT EXISTS {{ ?this {inner} ?_y{condition} }}", ""
        return (f"OPTIONAL {{ ?this {path} ?_y{condition} }}",
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?_y) < {count})")

    def _more(self, path: str, count: int, keep: Condition | None) -> tuple[str, str]:
        """A WHERE body and solution modifiers: ?this has more than ``count`` values on ``path``
        (that ``keep``)."""
        # Joins, not FILTER EXISTS: Oxigraph evaluates a join of two paths inside EXISTS for
        # every focus node over the whole graph (seconds, where the join takes milliseconds).
        fresh = Fresh()
        condition = f" FILTER({keep('?_y', fresh)})" if keep else ""
        if count == 0:
            return f"?this {path} ?_y{condition}", ""
        if count == 1:
            other = f" && ({keep('?_z', fresh)})" if keep else ""
            return f"?this {path} ?_y . ?this {path} ?_z FILTER(!sameTerm(?_y, ?_z){other})", ""
        return f"?this {path} ?_y{condition}", f"GROUP BY ?this HAVING (COUNT(DISTINCT ?_y) > {count})"

    def _value_checks(self, shape: Node, focus: _Focus, var: str, values: str, *, value: str) -> None:
        """One query for all constraints on each value node, which flags the ones a value breaks."""
        constraints = self.conditions.value_constraints(shape)
        if not constraints:
            return
        fresh, view = Fresh(), self.view
        flags: list[str | None] = [None]
        if len(constraints) == 1:
            body = f"{values} FILTER(!({constraints[0].condition(var, fresh)}))"
        else:
            flags = [f"_c{i}" for i in range(len(constraints))]
            binds = " ".join(f"BIND(!({c.condition(var, fresh)}) AS ?{f})" for c, f in zip(constraints, flags,
                                                                                            strict=True))
            body = f"{values} {binds} FILTER({' || '.join(f'?{f}' for f in flags)})"
        projected = " ".join(["?this", *([var] if var != "?this" else []), *(f"?{f}" for f in flags if f)])
        query = _query(focus.prefixes, f"SELECT DISTINCT {projected} WHERE {{ {focus.pattern} {body} }}")
        self.checks.append(Check(query, tuple(
            Emit(shape, c.component, view.severity(shape), self._path(shape), value, view.messages(shape),
                 c.message, flag) for c, flag in zip(constraints, flags, strict=True))))

    def _add(self, shape: Node, focus: _Focus, body: str | tuple[str, str], component: URIRef, message: str,
             *, value: str | None = None, extra: str = "") -> None:
        """A check of one constraint whose WHERE body finds the failing ?this (and ?value); a
        tuple is a body and its solution modifiers (GROUP BY)."""
        view = self.view
        where, modifiers = (body, "") if isinstance(body, str) else body
        projected = " ".join(["?this", *(["?value"] if value else []), *([extra] if extra else [])])
        select = "SELECT" if modifiers else "SELECT DISTINCT"
        query = _query(focus.prefixes,
                       f"{select} {projected} WHERE {{ {focus.pattern} {where} }} {modifiers}")
        self.checks.append(Check(query, (Emit(shape, component, view.severity(shape), self._path(shape),
                                              value, view.messages(shape), message),)))

    def _path(self, shape: Node) -> Node | None:
        return self.view.path(shape) if self.view.is_property(shape) else None

    # --- SPARQL-based constraints ----------------------------------------------------------------

    def _sparql(self, shape: Node, constraint: Node, focus: _Focus) -> None:
        view = self.view
        if view.deactivated(constraint):
            return
        select = view.one(constraint, SH.select)
        if not (isinstance(select, Literal) and isinstance(select.value, str)):
            raise UnsupportedShape(shape, "an sh:sparql constraint without an sh:select string")
        text, prefixes = _hoist_prefixes(shape, str(select), self._prefixes(constraint))
        for variable in ("shapesGraph", "currentShape", "failure"):
            if re.search(rf"[?$]{variable}\b", text):
                raise UnsupportedShape(shape, f"${variable} in a SPARQL constraint")
        if re.search(r"\b(MINUS|SERVICE|VALUES)\b", text, re.IGNORECASE):
            raise UnsupportedShape(shape, "MINUS, VALUES or SERVICE in a SPARQL constraint "
                                          "(pySHACL refuses it)")
        if view.is_property(shape):
            path = sparql_path(view, shape, view.path(shape))
            text = re.sub(r"([\s{}()])[$?]PATH\b", lambda m: m.group(1) + path, text)
        elif re.search(r"[$?]PATH\b", text):
            raise UnsupportedShape(shape, "$PATH in a SPARQL constraint of a node shape")
        _merge(shape, prefixes, focus.prefixes)
        text, projected = _inject_focus(shape, text, f"{{ SELECT ?this WHERE {{ {focus.pattern} }} }}")
        messages = view.messages(shape) + tuple(m for m in view.messages(constraint)
                                                if m not in view.messages(shape))
        emit = Emit(shape, SH.SPARQLConstraintComponent, view.severity(shape), self._path(shape),
                    None if view.is_property(shape) else "this", messages, None, None, constraint, projected)
        self.checks.append(Check(_query(prefixes, text), (emit,)))


# --- SPARQL text -----------------------------------------------------------------------------------

_PREFIX = re.compile(r"\s*(?:#[^\n]*\n\s*)*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)


def _hoist_prefixes(shape: Node, text: str, prefixes: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The query without its own PREFIX declarations, and all prefixes it needs."""
    found = dict(prefixes)
    while match := _PREFIX.match(text):
        _merge(shape, found, {match.group(1) or "": match.group(2)})
        text = text[match.end():]
    if re.match(r"\s*BASE\b", text, re.IGNORECASE):
        raise UnsupportedShape(shape, "BASE in a SPARQL query")
    return text, found


def _merge(shape: Node, into: dict[str, str], more: dict[str, str]) -> None:
    for prefix, namespace in more.items():
        if into.setdefault(prefix, namespace) != namespace:
            raise UnsupportedShape(shape, f"the prefix {prefix}: stands for both <{into[prefix]}> "
                                          f"and <{namespace}>")


def _query(prefixes: dict[str, str], text: str) -> str:
    declared = "".join(f"PREFIX {p}: <{n}>\n" for p, n in sorted(prefixes.items()))
    return declared + text


_TOKENS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
                     r'|<[^\s<>"{}|^`\\]*>|#[^\n]*|\{')


def _inject_focus(shape: Node, text: str, focus: str) -> tuple[str, bool]:
    """``text`` with ``focus`` first in its WHERE clause, and ?this projected; and whether the
    query projected ?this itself (pySHACL only puts it into messages then)."""
    brace = next((m.start() for m in _TOKENS.finditer(text) if m.group() == "{"), None)
    select = re.search(r"\bSELECT\b\s*((?:DISTINCT|REDUCED)\s+)?", text, re.IGNORECASE)
    if brace is None or select is None or select.start() > brace:
        raise UnsupportedShape(shape, "a SPARQL constraint that is not a SELECT query")
    projection = text[select.end():brace]
    star = projection.lstrip().startswith("*")
    projected = star or re.search(r"[?$]this\b", projection) is not None
    text = text[:brace + 1] + f" {focus} " + text[brace + 1:]
    if not projected:
        text = text[:select.end()] + "?this " + text[select.end():]
    return text, projected


# --- running ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """A validation result with what its report entry needs beyond it."""

    result: ValidationResult
    severity: URIRef
    component: URIRef
    messages: tuple[Literal, ...]
    source_constraint: Node | None


def validate_store(store: ox.Store, compiled: CompiledShapes, *, union: bool = True
                   ) -> tuple[ValidationResult, ...]:
    """Run ``compiled`` against ``store`` (all its graphs as one, unless ``union`` is false) and
    return the results as `lod.validation.pyshacl.validate_graph` would, in the same order."""
    return tuple(found.result for found in _sorted(_run(store, compiled, union=union)))


def validate_store_report(store: ox.Store, compiled: CompiledShapes, *, union: bool = True
                          ) -> ValidationReport:
    """`validate_store`, with the SHACL report graph: for a build that has its store already."""
    return report_of([_run(store, compiled, union=union)], compiled)


def validate_store_part(store: ox.Store, compiled: CompiledShapes, part: int, *, union: bool = True
                        ) -> list[Found]:
    """The results of one of the ``len(compiled.groups)`` independent parts of the validation
    (one shape with targets each), so that processes can share the work; see `report_of`."""
    return _run(store, compiled, union=union, only=part)


def report_of(parts: Iterable[list[Found]], compiled: CompiledShapes) -> ValidationReport:
    """The report of the parts `validate_store_part` returned, as `validate_store_report` gives it."""
    found = _sorted(f for part in parts for f in part)
    return ValidationReport(tuple(f.result for f in found), _report_graph(found, compiled.shapes))


def _sorted(found: Iterable[Found]) -> list[Found]:
    return sorted(found, key=lambda f: _order(f.result))


def _run(store: ox.Store, compiled: CompiledShapes, *, union: bool, only: int | None = None) -> list[Found]:
    def select(query: str) -> ox.QuerySolutions:
        solutions = store.query(query, use_default_graph_as_union=union, custom_functions=_FUNCTIONS)
        if not isinstance(solutions, ox.QuerySolutions):
            raise TypeError("a compiled check is not a SELECT query")
        return solutions

    names = {}
    for shape in {e.shape for check in compiled.checks for e in check.emits}:
        name = compiled.shapes.value(shape, SH.name)
        names[shape] = str(name) if name is not None else None
    groups = compiled.groups
    if compiled.classes:
        classes = " ".join(sorted(compiled.classes))
        ask = f"ASK {{ VALUES ?c {{ {classes} }} ?k <{RDFS.subClassOf}> ?c FILTER(!sameTerm(?k, ?c)) }}"
        has = store.query(ask, use_default_graph_as_union=union)
        groups = compiled.groups if bool(has) else compiled.direct
    if only is not None:
        groups = groups[only:only + 1]
    found: list[Found] = []
    for group in groups:
        focus = group.focus
        if group.screen is not None:
            flagged = [solution["this"] for solution in select(group.screen)]
            if not flagged:
                continue
            if not any(isinstance(node, ox.BlankNode) for node in flagged):  # VALUES cannot name one
                focus = "VALUES ?this { " + " ".join(map(str, flagged)) + " }"
        for check in group.checks:
            solutions = select(check.query.replace(FOCUS, focus))
            variables = [v.value for v in solutions.variables]
            seen = set()  # pySHACL drops a SPARQL solution that repeats another
            for solution in solutions:
                values = tuple(solution[v] for v in variables)
                if values in seen:
                    continue
                seen.add(values)
                row = {v: _to_rdflib(term) for v, term in zip(variables, values, strict=True)}
                for emit in check.emits:
                    if emit.flag is None or row.get(emit.flag) == Literal(True):
                        item = _result(emit, row, names[emit.shape], store, union)
                        if item is not None:
                            found.append(item)
    return found


def _result(emit: Emit, row: dict[str, Node | None], column: str | None, store: ox.Store, union: bool
            ) -> Found | None:
    focus = row.get("this")
    if focus is None:
        return None
    value = row.get(emit.value) if emit.value else None
    path = emit.path
    messages = emit.messages
    if emit.sparql is not None:
        bound_value, bound_path = row.get("value"), row.get("path")
        if not emit.this_projected and bound_value is None and bound_path is None:
            return None  # pySHACL skips a solution that binds none of this, path and value
        value = bound_value if bound_value is not None else value
        path = bound_path if bound_path is not None else path
        # pySHACL's message variables: the other bindings, then this (if the query selects
        # it), the bound ?path, and the value
        bindings = {k: v for k, v in row.items() if k not in ("this", "path", "value")}
        bindings.update(this=focus if emit.this_projected else None, path=bound_path, value=value)
        messages = tuple(Literal(_substitute(str(m), bindings), lang=m.language) for m in messages)
    elif not messages and emit.message is not None:
        text = emit.message.replace(FOCUS_NODE, data_name(focus, _around(store, focus, union=union)))
        text = text.replace(VALUE, data_name(value, _around(store, value, union=union)))
        messages = (Literal(text),)
    severity = str(emit.severity).rpartition("#")[2]
    messages = tuple(sorted(messages, key=lambda m: (m.language or "", str(m))))
    result = ValidationResult(focus, path, value, severity, messages, emit.shape, column)
    return Found(result, emit.severity, emit.component, messages, emit.sparql)


def _around(store: ox.Store, node: Node | None, *, union: bool) -> Graph | None:
    """What ``store`` says about a blank node, and the blank nodes it leads to (for messages)."""
    if not isinstance(node, BNode):
        return None
    graph, todo = Graph(), [node]
    graphs = None if union else ox.DefaultGraph()
    while todo:
        subject = todo.pop()
        for quad in store.quads_for_pattern(ox.BlankNode(str(subject)), None, None, graphs):
            triple = (subject, _to_rdflib(quad.predicate), _to_rdflib(quad.object))
            if triple not in graph:
                graph.add(triple)  # type: ignore[arg-type]
                if isinstance(triple[2], BNode):
                    todo.append(triple[2])
    return graph


def _text(term: Node, _match: re.Match[str]) -> str:
    return str(term)  # as the replacement itself, not as a template with backslash escapes


def _substitute(message: str, bindings: dict[str, Node | None]) -> str:
    for name, term in bindings.items():
        if term is not None:
            message = re.sub(r"{[?$]" + re.escape(name) + "}", partial(_text, term), message)
    return message


def _order(result: ValidationResult) -> tuple[int, str, str, str]:
    rank = SEVERITIES.index(result.severity) if result.severity in SEVERITIES else 9
    return rank, str(result.focus_node), result.column or "", result.message


def _to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> Node | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"an RDF-star triple cannot be a SHACL focus node or value: {term}")


# --- the report ---------------------------------------------------------------------------------------


def validate_graph_fast(data: Graph, *, shapes: Graph | CompiledShapes | None = None,
                        ontology: Graph | None = None) -> ValidationReport:
    """What `lod.validation.pyshacl.validate_graph` does, with compiled shapes on an in-memory Oxigraph store:
    ``data`` and the ontology (or ``ontology``) are loaded into it, then validated."""
    compiled = bundled_shapes() if shapes is None else \
        shapes if isinstance(shapes, CompiledShapes) else compile_shapes(shapes)
    store = ox.Store()
    store.bulk_extend(quads(data, ox.DefaultGraph()))
    store.bulk_extend(_ontology_quads() if ontology is None else list(quads(ontology, ox.DefaultGraph())))
    return validate_store_report(store, compiled, union=False)


@cache
def bundled_shapes() -> CompiledShapes:
    return compile_shapes(shapes_graph())


@cache
def _ontology_quads() -> list[ox.Quad]:
    return list(quads(ontology_graph(), ox.DefaultGraph()))


def _report_graph(found: Iterable[Found], shapes: Graph) -> Graph:
    """A SHACL validation report, as pySHACL writes one (without sh:detail)."""
    graph = Graph()
    graph.bind("sh", SH)
    report = BNode()
    items = list(found)
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, Literal(not any(f.result.severity == "Violation" for f in items))))
    for item in items:
        result, node = item.result, BNode()
        graph.add((report, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, result.focus_node))
        graph.add((node, SH.resultSeverity, item.severity))
        graph.add((node, SH.sourceShape, result.source_shape))
        graph.add((node, SH.sourceConstraintComponent, item.component))
        for message in item.messages:
            graph.add((node, SH.resultMessage, message))
        for predicate, term in ((SH.value, result.value), (SH.resultPath, result.path),
                                (SH.sourceConstraint, item.source_constraint)):
            if term is not None:
                graph.add((node, predicate, term))
        for term in (result.path, result.source_shape, item.source_constraint):
            _copy_blank(shapes, graph, term)
    return graph


def _copy_blank(source: Graph, target: Graph, term: Node | None) -> None:
    """Copy what ``source`` says about a blank node (and the blank nodes it leads to)."""
    todo = [term] if isinstance(term, BNode) else []
    while todo:
        node = todo.pop()
        for p, o in source.predicate_objects(node):
            if (node, p, o) not in target:
                target.add((node, p, o))
                if isinstance(o, BNode):
                    todo.append(o)
