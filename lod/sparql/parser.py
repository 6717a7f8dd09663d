"""Parsing a SPARQL 1.1 query into its syntax tree: :func:`parse_query`.

Recursive descent over the tokens of :mod:`.tokens`, one method per rule of the grammar (§19.8)
or per few rules; the grammar is LL(1), so one token of lookahead decides every branch. Besides
the grammar, the parser enforces the cheap static rules the W3C negative syntax tests expect:
the scope of BIND (§18.2.1), blank node labels used in one basic graph pattern only, the arity of
VALUES rows, where aggregates may stand, and the rules of :mod:`.rules` for SELECT clauses. And
it refuses, with the limit named, a query nested or chained deeper than the engine survives
(:mod:`.limits`).

Two readings go beyond SPARQL 1.1, both as pyoxigraph reads them: ``LATERAL { ... }``, Oxigraph's
extension, which a planner writes and so must read back; and a codepoint escape inside a string
or an IRI only (see :mod:`.tokens`). Where the grammar and pyoxigraph part ways otherwise, the
grammar is followed: longest-match tokens (``SERVICE:x`` is one prefixed name), keywords of any
case (``TRUE``), ``!`` before a primary expression only (not ``!!x``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import ClassVar

from .cursor import IRI_KEYS
from .errors import LimitExceeded, UpdateNotAllowed
from .expressions import AGGREGATES, BUILTINS, ExpressionParser
from .iri import has_scheme, is_valid_iri
from .limits import MAX_DEPTH, MAX_ENGINE_DEPTH, engine_depth
from .rules import select_problem
from .syntax import (
    IRI,
    RDF_FIRST,
    RDF_NIL,
    RDF_REST,
    RDF_TYPE,
    AlternativePath,
    AskQuery,
    Bind,
    BlankNode,
    ConstructQuery,
    DescribeQuery,
    Element,
    Expression,
    Filter,
    Graph,
    Group,
    GroupCondition,
    InversePath,
    Lateral,
    Literal,
    Minus,
    ModifiedPath,
    NegatedPropertySet,
    Optional,
    OrderCondition,
    Path,
    Pattern,
    Projection,
    Query,
    SelectQuery,
    SequencePath,
    Service,
    TermOrVar,
    TriplePattern,
    TriplesBlock,
    Union,
    Values,
    Var,
    in_scope,
)
from .tokens import Token

UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD",
                             "WITH"})
_NO_PREFIXES: Mapping[str, str] = MappingProxyType({})
_TRIPLE_START = frozenset({"var", "iri", "pname", "pname_ns", "bnode", "anon", "nil", "string", "integer",
                           "decimal", "double", "TRUE", "FALSE", "(", "["})
_VERB_START = frozenset({"var", "iri", "pname", "pname_ns", "a"})
_PATH_VERB_START = _VERB_START | {"^", "!", "("}
_CONSTRAINT_START = frozenset({*IRI_KEYS, *BUILTINS, *AGGREGATES, "(", "EXISTS", "NOT"})
_VALUE_KEYS = frozenset({"iri", "pname", "pname_ns", "string", "integer", "decimal", "double", "TRUE",
                         "FALSE"})
_LARGEST_LIMIT = 2 ** 63 - 1  # the engine reads LIMIT and OFFSET as 64-bit numbers
# GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET
_Modifiers = tuple[tuple[GroupCondition, ...], tuple[Expression, ...], tuple[OrderCondition, ...], int | None,
                   int | None]


def parse_query(text: str, *, base_iri: str | None = None, prefixes: Mapping[str, str] = _NO_PREFIXES,
                max_depth: int = MAX_DEPTH) -> Query:
    """The syntax tree of the SPARQL 1.1 query ``text``.

    ``base_iri`` resolves relative IRIs (the query's own BASE wins); ``prefixes`` are declared
    before the query's own PREFIX declarations, which win (names without the colon, ``""`` for
    the empty prefix). ``max_depth`` bounds nesting (see :mod:`.limits`).

    Raises :class:`~lod.sparql.errors.SparqlSyntaxError` (a subclass of ``ValueError``) for a
    text that is not a query it accepts, :class:`~lod.sparql.errors.UpdateNotAllowed` for an
    update, :class:`~lod.sparql.errors.LimitExceeded` past a limit.

    >>> parse_query("ASK { ?s a <http://example.org/C> }").where
    Group(elements=(TriplesBlock(triples=(TriplePattern(subject=Var(name='s'), ...
    """
    if base_iri is not None and not (has_scheme(base_iri) and is_valid_iri(base_iri)):
        raise ValueError(f"the base IRI {base_iri!r} is not an absolute IRI")
    return _Parser(text, base_iri=base_iri, prefixes=prefixes, max_depth=max_depth).query()


class _Parser(ExpressionParser):
    def __init__(self, text: str, *, base_iri: str | None, prefixes: Mapping[str, str],
                 max_depth: int) -> None:
        super().__init__(text, base_iri=base_iri, prefixes=prefixes, max_depth=max_depth)
        self._bgp = 0  # the basic graph pattern being read, for the rule on blank node labels
        self._bgps = 0
        self._labels: dict[str, int] = {}
        self._in_template = False

    # ----------------------------------------------------------------------------- query forms

    def query(self) -> Query:
        self._prologue()
        token = self.token
        key = token[0]
        if key in UPDATE_KEYWORDS:
            raise UpdateNotAllowed(key, text=self.text, offset=token[2])
        form = self._FORMS.get(key)
        if form is None:
            self.fail_expected("SELECT, CONSTRUCT, DESCRIBE or ASK")
        query = form(self)
        if self.token[0] != "eof":
            self.fail_expected("the end of the query")
        if self.uses_base and self.base is not None:
            query = dataclasses.replace(query, base_iri=self.base)
        depth = engine_depth(query)
        if depth > MAX_ENGINE_DEPTH:
            raise LimitExceeded(f"this query would make the engine recurse about {depth} units deep, more "
                                f"than the {MAX_ENGINE_DEPTH} it allows: nest less, or split long chains of "
                                "UNION, FILTER, BIND, MINUS or operators", text=self.text, offset=token[2],
                                limit="max_engine_depth")
        return query

    def _prologue(self) -> None:
        while True:
            key = self.token[0]
            if key == "BASE":
                self.advance()
                token = self.expect("iri", "an IRI in angle brackets after BASE")
                self.base = self.iri_reference(token).value
            elif key == "PREFIX":
                self.advance()
                name = self.expect("pname_ns", "a prefix name ending in ':' after PREFIX")
                token = self.expect("iri", "an IRI in angle brackets")
                self.prefixes[name[1][:-1]] = self.iri_reference(token).value
            else:
                return

    def _select(self, *, sub: bool = False) -> SelectQuery:
        start = self.advance()
        distinct = self.accept("DISTINCT")
        reduced = not distinct and self.accept("REDUCED")
        positions: list[Token] = []
        projection: tuple[Var | Projection, ...] | None = None
        if not self.accept("*"):
            projection = self._projection(positions)
        default, named = ((), ()) if sub else self._dataset()
        if self.token[0] not in ("WHERE", "{"):
            self.fail_expected("WHERE or '{'" if sub else "FROM, WHERE or '{'")
        where = self._where()
        group_by, having, order_by, limit, offset = self._modifiers()
        query = SelectQuery(projection=projection, distinct=distinct, reduced=reduced, default_graphs=default,
                            named_graphs=named, where=where, group_by=group_by, having=having,
                            order_by=order_by, limit=limit, offset=offset, values=self._values_clause())
        problem = select_problem(query)
        if problem is not None:
            index, reason = problem
            self.fail(reason, start if index is None else positions[index])
        return query

    def _projection(self, positions: list[Token]) -> tuple[Var | Projection, ...]:
        items: list[Var | Projection] = []
        saved, self.aggregates_allowed = self.aggregates_allowed, True
        while True:
            token = self.token
            if token[0] == "var":
                items.append(Var(self.advance()[1][1:]))
            elif token[0] == "(":
                self.advance()
                expression = self.expression()
                self.expect("AS", "AS")
                items.append(Projection(expression, self._variable()))
                self.expect(")", "')'")
            else:
                break
            positions.append(token)
        self.aggregates_allowed = saved
        if not items:
            self.fail_expected("'*', a variable or '(' expression AS ?name ')'")
        return tuple(items)

    def _construct(self) -> ConstructQuery:
        self.advance()
        template: tuple[TriplePattern, ...] | None = None
        if self.token[0] == "{":
            opening = self.advance()
            self.enter(opening)
            self._in_template = True
            triples: list[TriplePattern] = []
            while self.token[0] in _TRIPLE_START:
                self._triples_same_subject(triples, path=False)
                if not self.accept("."):
                    break
            self._in_template = False
            self.expect("}", "'}' or a triple pattern")
            self.leave()
            template = tuple(triples)
            default, named = self._dataset()
            where = self._where()
        else:
            default, named = self._dataset()
            self.expect("WHERE", "'{' (the template) or WHERE")
            opening = self.expect("{", "'{'")
            self.enter(opening)
            self._new_bgp()
            triples = []
            while self.token[0] in _TRIPLE_START:
                self._triples_same_subject(triples, path=False)
                if not self.accept("."):
                    break
            self.expect("}", "'}' or a triple pattern (CONSTRUCT WHERE takes triple patterns only)")
            self.leave()
            where = Group((TriplesBlock(tuple(triples)),) if triples else ())
        group_by, having, order_by, limit, offset = self._modifiers()
        return ConstructQuery(template=template, default_graphs=default, named_graphs=named, where=where,
                              group_by=group_by, having=having, order_by=order_by, limit=limit, offset=offset,
                              values=self._values_clause())

    def _describe(self) -> DescribeQuery:
        self.advance()
        terms: tuple[IRI | Var, ...] | None = None
        if not self.accept("*"):
            found = []
            while self.token[0] == "var" or self.token[0] in IRI_KEYS:
                found.append(self._var_or_iri())
            if not found:
                self.fail_expected("'*', a variable or an IRI")
            terms = tuple(found)
        default, named = self._dataset()
        where: Pattern = self._where() if self.token[0] in ("WHERE", "{") else Group()
        group_by, having, order_by, limit, offset = self._modifiers()
        return DescribeQuery(terms=terms, default_graphs=default, named_graphs=named, where=where,
                             group_by=group_by, having=having, order_by=order_by, limit=limit, offset=offset,
                             values=self._values_clause())

    def _ask(self) -> AskQuery:
        self.advance()
        default, named = self._dataset()
        if self.token[0] not in ("WHERE", "{"):
            self.fail_expected("FROM, WHERE or '{'")
        where = self._where()
        group_by, having, order_by, limit, offset = self._modifiers()
        return AskQuery(default_graphs=default, named_graphs=named, where=where, group_by=group_by,
                        having=having, order_by=order_by, limit=limit, offset=offset,
                        values=self._values_clause())

    _FORMS: ClassVar[dict[str, Callable[[_Parser], Query]]] = {
        "SELECT": _select, "CONSTRUCT": _construct, "DESCRIBE": _describe, "ASK": _ask}

    def _dataset(self) -> tuple[tuple[IRI, ...], tuple[IRI, ...]]:
        default: list[IRI] = []
        named: list[IRI] = []
        while self.accept("FROM"):
            if self.accept("NAMED"):
                named.append(self.iri())
            else:
                default.append(self.iri())
        return tuple(default), tuple(named)

    def _where(self) -> Pattern:
        self.accept("WHERE")
        return self.group_graph_pattern()

    def _modifiers(self) -> _Modifiers:
        """SolutionModifier ::= GroupClause? HavingClause? OrderClause? LimitOffsetClauses?"""
        group_by: list[GroupCondition] = []
        having: list[Expression] = []
        order_by: list[OrderCondition] = []
        if self.accept("GROUP"):
            self.expect("BY", "BY after GROUP")
            while True:
                key = self.token[0]
                if key == "var":
                    group_by.append(GroupCondition(Var(self.advance()[1][1:])))
                elif key == "(":
                    self.advance()
                    expression = self.expression()
                    variable = self._variable() if self.accept("AS") else None
                    self.expect(")", "')' or AS")
                    group_by.append(GroupCondition(expression, variable))
                elif key in _CONSTRAINT_START:
                    group_by.append(GroupCondition(self.constraint("a GROUP BY condition")))
                else:
                    break
            if not group_by:
                self.fail_expected("a variable, a call or '(' expression ')' after GROUP BY")
        saved, self.aggregates_allowed = self.aggregates_allowed, True
        if self.accept("HAVING"):
            while self.token[0] in _CONSTRAINT_START:
                having.append(self.constraint("a HAVING condition"))
            if not having:
                self.fail_expected("'(' expression ')' or a call after HAVING")
        if self.accept("ORDER"):
            self.expect("BY", "BY after ORDER")
            while True:
                key = self.token[0]
                if key == "ASC" or key == "DESC":
                    self.advance()
                    if self.token[0] != "(":
                        self.fail_expected(f"'(' after {key}")
                    order_by.append(OrderCondition(self.constraint("'('"), key == "DESC"))
                elif key == "var":
                    order_by.append(OrderCondition(Var(self.advance()[1][1:])))
                elif key in _CONSTRAINT_START:
                    order_by.append(OrderCondition(self.constraint("an ORDER BY condition")))
                else:
                    break
            if not order_by:
                self.fail_expected("a variable, ASC(...), DESC(...) or '(' expression ')' after ORDER BY")
        self.aggregates_allowed = saved
        limit = offset = None
        for _ in range(2):
            if limit is None and self.accept("LIMIT"):
                limit = self._count("LIMIT")
            elif offset is None and self.accept("OFFSET"):
                offset = self._count("OFFSET")
        return tuple(group_by), tuple(having), tuple(order_by), limit, offset

    def _count(self, clause: str) -> int:
        token = self.token
        if token[0] != "integer" or token[1][0] in "+-":
            self.fail_expected(f"a whole number after {clause}")
        self.advance()
        value = int(token[1])
        if value > _LARGEST_LIMIT:
            self.fail(f"{clause} {token[1]} is larger than {_LARGEST_LIMIT}", token)
        return value

    def _values_clause(self) -> Values | None:
        return self._data_block() if self.token[0] == "VALUES" else None

    def _data_block(self) -> Values:
        self.advance()
        token = self.token
        single = token[0] == "var"
        variables: list[Var] = []
        if single:
            variables.append(Var(self.advance()[1][1:]))
        elif self.accept("nil"):
            pass
        elif self.accept("("):
            while self.token[0] == "var":
                variables.append(Var(self.advance()[1][1:]))
            self.expect(")", "a variable or ')'")
        else:
            self.fail_expected("a variable or '(' after VALUES")
        self.expect("{", "'{'")
        rows: list[tuple[IRI | Literal | None, ...]] = []
        if single:
            while self.token[0] != "}":
                rows.append((self._data_value(),))
        else:
            while True:
                row_start = self.token
                if row_start[0] == "nil":
                    self.advance()
                    row: tuple[IRI | Literal | None, ...] = ()
                elif row_start[0] == "(":
                    self.advance()
                    values = []
                    while self.token[0] != ")":
                        values.append(self._data_value())
                    self.advance()
                    row = tuple(values)
                else:
                    break
                if len(row) != len(variables):
                    self.fail(f"this row has {len(row)} value{'s' if len(row) != 1 else ''} for "
                              f"{len(variables)} variable{'s' if len(variables) != 1 else ''}", row_start)
                rows.append(row)
        self.expect("}", "'}' or a row in parentheses" if not single else "'}' or a value")
        return Values(tuple(variables), tuple(rows))

    def _data_value(self) -> IRI | Literal | None:
        key = self.token[0]
        if key in IRI_KEYS:
            return self.iri()
        if key == "UNDEF":
            self.advance()
            return None
        if key in _VALUE_KEYS:
            return self.literal()
        self.fail_expected("a value (an IRI, a literal or UNDEF)")

    # -------------------------------------------------------------------------- graph patterns

    def group_graph_pattern(self) -> Pattern:
        """GroupGraphPattern ::= '{' ( SubSelect | GroupGraphPatternSub ) '}'"""
        opening = self.token
        if opening[0] != "{":
            self.fail_expected("'{'")
        self.advance()
        self.enter(opening)
        saved_aggregates, self.aggregates_allowed = self.aggregates_allowed, False
        saved_bgp = self._bgp
        pattern: Pattern
        if self.token[0] == "SELECT":
            pattern = self._select(sub=True)
            self.expect("}", "'}' after the sub-SELECT")
        else:
            pattern = self._group_body()
            self.advance()  # the body ends at its '}'
        self._bgp = saved_bgp
        self.aggregates_allowed = saved_aggregates
        self.leave()
        return pattern

    def _group_body(self) -> Group:
        """GroupGraphPatternSub, up to (not past) the closing '}'."""
        elements: list[Element] = []
        self._new_bgp()
        scope: set[Var] | None = None  # in scope of elements[:counted], computed at the first BIND
        counted = 0
        needs_separator = False  # a triples block ended without '.': no triple may follow directly
        while True:
            token = self.token
            key = token[0]
            element_parser = self._ELEMENTS.get(key)
            if element_parser is not None:
                element = element_parser(self)
                if isinstance(element, Bind):
                    if scope is None:
                        scope = set()
                    for earlier in elements[counted:]:
                        scope |= in_scope(earlier)
                    counted = len(elements)
                    if element.variable in scope:
                        self.fail(f"?{element.variable.name} is already in scope here, so BIND cannot "
                                  "assign it (SPARQL 1.1 §18.2.1); choose a new variable", token)
                elif not isinstance(element, Filter):
                    self._new_bgp()  # only FILTER leaves a basic graph pattern open
                elements.append(element)
                self.check_limit(len(elements), "max_group_elements", "elements in one group", token)
                self.accept(".")
                needs_separator = False
            elif key in _TRIPLE_START:
                if needs_separator:
                    self.fail_expected("'.' or '}'")
                triples: list[TriplePattern] = []
                while True:
                    self._triples_same_subject(triples, path=True)
                    if not self.accept("."):
                        needs_separator = True
                        break
                    if self.token[0] not in _TRIPLE_START:
                        break
                elements.append(TriplesBlock(tuple(triples)))
            elif key == "}":
                return Group(tuple(elements))
            else:
                self.fail_expected("'}' or a triple pattern")

    def _new_bgp(self) -> None:
        self._bgps += 1
        self._bgp = self._bgps

    def _group_or_union(self) -> Element:
        first = self.group_graph_pattern()
        if self.token[0] != "UNION":
            return first
        start = self.token
        branches = [first]
        while self.accept("UNION"):
            branches.append(self.group_graph_pattern())
            self.check_limit(len(branches), "max_union_branches", "branches in one UNION", start)
        return Union(tuple(branches))

    def _optional(self) -> Element:
        self.advance()
        return Optional(self.group_graph_pattern())

    def _minus(self) -> Element:
        self.advance()
        return Minus(self.group_graph_pattern())

    def _lateral(self) -> Element:
        self.advance()
        return Lateral(self.group_graph_pattern())

    def _graph(self) -> Element:
        self.advance()
        name = self._var_or_iri()
        return Graph(name, self.group_graph_pattern())

    def _service(self) -> Element:
        self.advance()
        silent = self.accept("SILENT")
        endpoint = self._var_or_iri()
        return Service(endpoint, self.group_graph_pattern(), silent)

    def _filter(self) -> Element:
        self.advance()
        return Filter(self.constraint("'(', a function call or EXISTS after FILTER"))

    def _bind(self) -> Element:
        self.advance()
        self.expect("(", "'(' after BIND")
        expression = self.expression()
        self.expect("AS", "AS")
        variable = self._variable()
        self.expect(")", "')'")
        return Bind(expression, variable)

    _ELEMENTS: ClassVar[dict[str, Callable[[_Parser], Element]]] = {
        "{": _group_or_union, "OPTIONAL": _optional, "MINUS": _minus, "GRAPH": _graph, "SERVICE": _service,
        "FILTER": _filter, "BIND": _bind, "VALUES": _data_block, "LATERAL": _lateral}

    # --------------------------------------------------------------------------------- triples

    def _triples_same_subject(self, out: list[TriplePattern], *, path: bool) -> None:
        """TriplesSameSubject(Path): the triples go to ``out``, those of ``[...]`` and of
        collections before the triple that uses their node."""
        key = self.token[0]
        subject: TermOrVar
        if key == "(" or key == "[":
            subject = self._triples_node(out, path=path)
            if self.token[0] in (_PATH_VERB_START if path else _VERB_START):
                self._property_list(subject, out, path=path)
        else:
            subject = self._var_or_term()
            self._property_list(subject, out, path=path)

    def _property_list(self, subject: TermOrVar, out: list[TriplePattern], *, path: bool) -> None:
        starts = _PATH_VERB_START if path else _VERB_START
        while True:
            verb = self._verb(path=path)
            while True:
                out.append(TriplePattern(subject, verb, self._graph_node(out, path=path)))
                if not self.accept(","):
                    break
            if self.token[0] != ";":
                return
            while self.accept(";"):
                pass
            if self.token[0] not in starts:
                return

    def _verb(self, *, path: bool) -> Var | Path:
        key = self.token[0]
        if key == "var":
            return Var(self.advance()[1][1:])
        if path and key in _PATH_VERB_START:
            return self._path()
        if key == "a":
            self.advance()
            return RDF_TYPE
        if key in IRI_KEYS:
            return self.iri()
        self.fail_expected("a predicate (an IRI, 'a', a variable or a property path)" if path
                           else "a predicate (an IRI, 'a' or a variable)")

    def _graph_node(self, out: list[TriplePattern], *, path: bool) -> TermOrVar:
        key = self.token[0]
        if key == "(" or key == "[":
            return self._triples_node(out, path=path)
        return self._var_or_term()

    def _triples_node(self, out: list[TriplePattern], *, path: bool) -> BlankNode:
        """A blank node property list ``[ ... ]`` or a collection ``( ... )``, expanded."""
        opening = self.advance()
        self.enter(opening)
        node = self.fresh_blank_node()
        if opening[0] == "[":
            self._property_list(node, out, path=path)
            self.expect("]", "']' or ';'")
        else:
            items: list[TermOrVar] = []
            while self.token[0] != ")":
                items.append(self._graph_node(out, path=path))
            self.advance()
            current = node
            for position, item in enumerate(items):
                following: TermOrVar = RDF_NIL if position == len(items) - 1 else self.fresh_blank_node()
                out.append(TriplePattern(current, RDF_FIRST, item))
                out.append(TriplePattern(current, RDF_REST, following))
                current = following  # type: ignore[assignment]  # a blank node until the last item
        self.leave()
        return node

    def _var_or_term(self) -> TermOrVar:
        token = self.token
        key = token[0]
        if key == "var":
            self.advance()
            return Var(token[1][1:])
        if key in IRI_KEYS:
            return self.iri()
        if key == "bnode":
            self.advance()
            label = token[1][2:]
            if not self._in_template and self._labels.setdefault(label, self._bgp) != self._bgp:
                self.fail(f"the blank node {token[1]} is already used in another basic graph pattern; "
                          "a blank node label stands for one node within one pattern: use a variable "
                          "to join patterns", token)
            return BlankNode(label)
        if key == "anon":
            self.advance()
            return self.fresh_blank_node()
        if key == "nil":
            self.advance()
            return RDF_NIL
        if key in ("string", "integer", "decimal", "double", "TRUE", "FALSE"):
            return self.literal()
        self.fail_expected("a variable, an IRI, a literal or a blank node")

    def _var_or_iri(self) -> IRI | Var:
        key = self.token[0]
        if key == "var":
            return Var(self.advance()[1][1:])
        if key in IRI_KEYS:
            return self.iri()
        self.fail_expected("a variable or an IRI")

    def _variable(self) -> Var:
        if self.token[0] != "var":
            self.fail_expected("a variable")
        return Var(self.advance()[1][1:])

    # ----------------------------------------------------------------------------------- paths

    def _path(self) -> Path:
        """PathAlternative ::= PathSequence ( '|' PathSequence )*"""
        start = self.token
        options = [self._path_sequence()]
        while self.accept("|"):
            options.append(self._path_sequence())
        self.check_limit(len(options), "max_path_operands", "options in one alternative path", start)
        return options[0] if len(options) == 1 else AlternativePath(tuple(options))

    def _path_sequence(self) -> Path:
        start = self.token
        steps = [self._path_step()]
        while self.accept("/"):
            steps.append(self._path_step())
        self.check_limit(len(steps), "max_path_operands", "steps in one sequence path", start)
        return steps[0] if len(steps) == 1 else SequencePath(tuple(steps))

    def _path_step(self) -> Path:
        """PathEltOrInverse ::= PathElt | '^' PathElt, with PathElt ::= PathPrimary PathMod?"""
        inverse = self.accept("^")
        token = self.token
        key = token[0]
        primary: Path
        if key in IRI_KEYS:
            primary = self.iri()
        elif key == "a":
            self.advance()
            primary = RDF_TYPE
        elif key == "!":
            self.advance()
            primary = self._negated_property_set()
        elif key == "(":
            self.advance()
            self.enter(token)
            primary = self._path()
            self.expect(")", "')' or '|' or '/'")
            self.leave()
        else:
            self.fail_expected("a property path (an IRI, 'a', '^', '!' or '(')")
        modifier = self.token[0]
        if modifier == "*" or modifier == "+" or modifier == "?":
            self.advance()
            primary = ModifiedPath(primary, modifier)
        return InversePath(primary) if inverse else primary

    def _negated_property_set(self) -> NegatedPropertySet:
        forward: list[IRI] = []
        inverse: list[IRI] = []
        if self.accept("nil"):
            return NegatedPropertySet((), ())
        if self.accept("("):
            while True:
                self._one_in_property_set(forward, inverse)
                if not self.accept("|"):
                    break
            self.expect(")", "')' or '|'")
        else:
            self._one_in_property_set(forward, inverse)
        return NegatedPropertySet(tuple(forward), tuple(inverse))

    def _one_in_property_set(self, forward: list[IRI], inverse: list[IRI]) -> None:
        into = inverse if self.accept("^") else forward
        if self.accept("a"):
            into.append(RDF_TYPE)
        elif self.token[0] in IRI_KEYS:
            into.append(self.iri())
        else:
            self.fail_expected("an IRI or 'a' in a negated property set")
