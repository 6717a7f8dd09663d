r"""Writing a syntax tree back as SPARQL 1.1 text: :func:`serialize`.

The canonical form is what the engine is given. It is chosen so that no two parsers can read it
differently: every IRI written in full in angle brackets (no prefixes, and no BASE but for a
query that calls IRI() or URI(), which resolve against it when they run), strings in double
quotes with only the escapes ``\\ \" \n \r`` (never ``\u``), keywords spelled out in upper
case, every token separated by a space, triple patterns written out one by one, and the braces
of the query where it had them (scoping depends on them). Parsing it again gives an equal tree,
so ``serialize(parse_query(serialize(q))) == serialize(q)``.

Operands are put in parentheses where the grammar's precedence needs them, not around every
compound expression: fully parenthesised text nests one level deeper per precedence level than
the query it came from (``?a = 1 || ?b < 2 + 3`` would become three levels deep), so a query
near the nesting limit would come out past it and could not be read back. Written this way, the
canonical text never nests deeper than any text that has the same tree.

With ``prefixes``, the same tree is written for people instead: PREFIX declarations, prefixed
names, ``a``, and one element per line, indented.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .expressions import AGGREGATES, BUILTINS
from .iri import is_valid_iri
from .syntax import (
    IRI,
    RDF_LANGSTRING,
    RDF_TYPE,
    XSD_BOOLEAN,
    XSD_DECIMAL,
    XSD_DOUBLE,
    XSD_INTEGER,
    XSD_STRING,
    Aggregate,
    AlternativePath,
    And,
    AskQuery,
    Binary,
    Bind,
    BlankNode,
    Call,
    ConstructQuery,
    DescribeQuery,
    Element,
    Exists,
    Expression,
    Filter,
    FunctionCall,
    Graph,
    Group,
    In,
    InversePath,
    Lateral,
    Literal,
    Minus,
    ModifiedPath,
    NegatedPropertySet,
    Optional,
    Or,
    OrderCondition,
    Path,
    Pattern,
    Query,
    SelectQuery,
    SequencePath,
    Service,
    TermOrVar,
    TriplePattern,
    TriplesBlock,
    Unary,
    Union,
    Values,
    Var,
)
from .tokens import BLANK_NODE_LABEL, LANGTAG, PN_PREFIX, SURROGATE, VARNAME, is_pn_local

# How tightly each operator binds (SPARQL 1.1 §19.8 [111]-[121]): an operand is put in parentheses
# only where the grammar needs them. Parentheses around every compound expression would nest the
# text deeper than the query it came from (each precedence level one more), so a query near the
# depth limit could not be read back; as it is, the canonical text never nests deeper.
_OR, _AND, _RELATIONAL, _ADDITIVE, _MULTIPLICATIVE, _UNARY, _PRIMARY = range(1, 8)
_BINARY = {"=": _RELATIONAL, "!=": _RELATIONAL, "<": _RELATIONAL, ">": _RELATIONAL, "<=": _RELATIONAL,
           ">=": _RELATIONAL, "+": _ADDITIVE, "-": _ADDITIVE, "*": _MULTIPLICATIVE, "/": _MULTIPLICATIVE}
_ALTERNATIVE, _SEQUENCE, _INVERSE, _MODIFIED, _PATH_PRIMARY = range(1, 6)
_PATH_PRECEDENCE: dict[type, int] = {
    AlternativePath: _ALTERNATIVE, SequencePath: _SEQUENCE, InversePath: _INVERSE, ModifiedPath: _MODIFIED}


def _precedence(expression: Expression) -> int:
    if isinstance(expression, Or):
        return _OR
    if isinstance(expression, And):
        return _AND
    if isinstance(expression, Binary):
        return _BINARY[expression.operator]
    if isinstance(expression, In):
        return _RELATIONAL
    if isinstance(expression, Unary):
        return _UNARY
    return _PRIMARY


# A number is written bare only when the bare token reads back as the same literal.
_BARE_NUMBER = {
    XSD_INTEGER: re.compile(r"[+-]?[0-9]+"),
    XSD_DECIMAL: re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD_DOUBLE: re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
}
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _require(condition: bool, problem: str) -> None:
    """Refuse to write a tree the grammar cannot express. A tree built or rewritten by code (a
    planner, a parameter substituted) never reaches the engine as text that reads otherwise."""
    if not condition:
        raise ValueError(f"cannot write this query: {problem}")


def _quoted(value: str) -> str:
    _require(SURROGATE.search(value) is None, "a string holds half of a surrogate pair (no character)")
    return '"' + value.translate(_STRING_ESCAPES) + '"'


def serialize(query: Query, *, prefixes: Mapping[str, str] | None = None) -> str:
    """``query`` as SPARQL 1.1 text: canonical (one line, full IRIs) without ``prefixes``; for
    people (PREFIX declarations, prefixed names, indentation) with them.

    >>> from lod.sparql import parse_query
    >>> serialize(parse_query("PREFIX ex: <http://example.org/> ASK { ?s ex:p 'x' }"))
    'ASK WHERE { ?s <http://example.org/p> "x" . }'
    """
    writer = _Writer(prefixes)
    for name, namespace in (prefixes or {}).items():
        _require(name == "" or PN_PREFIX.fullmatch(name) is not None, f"{name!r} is not a prefix name")
        _require(is_valid_iri(namespace), f"<{namespace}> is not an absolute IRI (RFC 3987)")
    _require(query.base_iri is None or is_valid_iri(query.base_iri), f"<{query.base_iri}> is no base IRI")
    body = writer.query(query, 0)
    # BASE only for IRI() and URI(), which resolve against it when the query runs: every IRI
    # written is absolute, so it changes nothing else.
    base = "" if query.base_iri is None else f"BASE <{query.base_iri}>" + writer.separator(0)
    if prefixes is None:
        return base + body
    declarations = [f"PREFIX {name}: <{prefixes[name]}>\n" for name in prefixes if name in writer.used]
    return base + "".join(declarations) + body


def terms_text(terms: Iterable[TermOrVar]) -> list[str]:
    """Each term as the canonical text writes it.

    >>> terms_text([IRI("http://example.org/a"), Literal('say "hi"', RDF_LANGSTRING, "en")])
    ['<http://example.org/a>', '"say \\\\"hi\\\\""@en']
    """
    writer = _Writer(None)
    return [writer.term(term) for term in terms]


class _Writer:
    def __init__(self, prefixes: Mapping[str, str] | None) -> None:
        self.pretty = prefixes is not None
        # Longest namespace first, so that the most specific prefix is used.
        self.namespaces = sorted((prefixes or {}).items(), key=lambda item: -len(item[1]))
        self.used: set[str] = set()
        self._checked: set[str] = set()  # variable names and IRIs found writable already

    def separator(self, level: int) -> str:
        return "\n" + "  " * level if self.pretty else " "

    # ----------------------------------------------------------------------------------- terms

    def var(self, variable: Var) -> str:
        name = variable.name
        if name not in self._checked:
            _require(VARNAME.fullmatch(name) is not None, f"{name!r} is not a variable name")
            self._checked.add(name)
        return "?" + name

    def iri(self, iri: IRI) -> str:
        if iri.value not in self._checked:
            _require(is_valid_iri(iri.value), f"<{iri.value}> is not an absolute IRI (RFC 3987)")
            self._checked.add(iri.value)
        if self.pretty:
            for name, namespace in self.namespaces:
                local = iri.value[len(namespace):]
                if iri.value.startswith(namespace) and (local == "" or is_pn_local(local)):
                    self.used.add(name)
                    return f"{name}:{local}"
        return f"<{iri.value}>"

    def term(self, term: TermOrVar) -> str:
        if isinstance(term, Var):
            return self.var(term)
        if isinstance(term, IRI):
            return self.iri(term)
        if isinstance(term, BlankNode):
            _require(BLANK_NODE_LABEL.fullmatch(term.label) is not None,
                     f"{term.label!r} is not a blank node label")
            return f"_:{term.label}"
        return self.literal(term)

    def literal(self, literal: Literal) -> str:
        datatype = literal.datatype
        quoted = _quoted(literal.value)
        if literal.language is not None:
            _require(LANGTAG.fullmatch(literal.language) is not None and datatype == RDF_LANGSTRING,
                     f"{literal.language!r} is not a language tag of an rdf:langString literal")
            return f"{quoted}@{literal.language}"
        if datatype == XSD_STRING:
            return quoted
        bare = _BARE_NUMBER.get(datatype)
        if bare is not None and bare.fullmatch(literal.value):
            return literal.value
        if datatype == XSD_BOOLEAN and literal.value in ("true", "false"):
            return literal.value
        return f"{quoted}^^{self.iri(datatype)}"

    def path(self, path: Path, minimum: int = _ALTERNATIVE) -> str:
        """A property path, in parentheses if its operator binds less than ``minimum`` needs."""
        if isinstance(path, IRI):
            return self.iri(path)
        if isinstance(path, NegatedPropertySet):
            items = [self.iri(iri) for iri in path.forward] + [f"^{self.iri(iri)}" for iri in path.inverse]
            return "!(" + " | ".join(items) + ")"
        if isinstance(path, AlternativePath):
            text = " | ".join(self.path(option, _SEQUENCE) for option in path.options)
        elif isinstance(path, SequencePath):
            text = " / ".join(self.path(step, _INVERSE) for step in path.steps)
        elif isinstance(path, InversePath):
            text = "^" + self.path(path.path, _MODIFIED)
        else:
            _require(path.modifier in ("*", "+", "?"), f"{path.modifier!r} is not a path modifier")
            text = self.path(path.path, _PATH_PRIMARY) + path.modifier
        return text if _PATH_PRECEDENCE[type(path)] >= minimum else f"({text})"

    def triple(self, triple: TriplePattern) -> str:
        predicate = triple.predicate
        if isinstance(predicate, Var):
            verb = self.var(predicate)
        elif self.pretty and predicate == RDF_TYPE:
            verb = "a"
        else:
            verb = self.path(predicate)
        return f"{self.term(triple.subject)} {verb} {self.term(triple.object)} ."

    # ----------------------------------------------------------------------------- expressions

    def expression(self, expression: Expression, minimum: int = _OR) -> str:
        """An expression, in parentheses if its operator binds less than ``minimum`` needs."""
        text = self._expression(expression)
        return text if _precedence(expression) >= minimum else f"({text})"

    def _expression(self, expression: Expression) -> str:
        if isinstance(expression, Var | IRI | Literal):
            return self.term(expression)
        if isinstance(expression, Or):
            return " || ".join(self.expression(operand, _AND) for operand in expression.operands)
        if isinstance(expression, And):
            return " && ".join(self.expression(operand, _RELATIONAL) for operand in expression.operands)
        if isinstance(expression, Binary):
            level = _BINARY.get(expression.operator, 0)
            _require(level > 0, f"{expression.operator!r} is not a binary operator")
            # Left-associative: the left operand may be of the same level, the right one not.
            left = self.expression(expression.left, level if level != _RELATIONAL else _ADDITIVE)
            right = self.expression(expression.right, level + 1)
            return f"{left} {expression.operator} {right}"
        if isinstance(expression, Unary):
            _require(expression.operator in ("!", "+", "-"), f"{expression.operator!r} is no unary operator")
            return f"{expression.operator} {self.expression(expression.operand, _PRIMARY)}"
        if isinstance(expression, In):
            keyword = "NOT IN" if expression.negated else "IN"
            tested = self.expression(expression.expression, _ADDITIVE)
            return f"{tested} {keyword} {self._arguments(expression.items)}"
        if isinstance(expression, Call):
            _require(expression.name in BUILTINS, f"{expression.name!r} is not a built-in function")
            return expression.name + self._arguments(expression.arguments)
        if isinstance(expression, FunctionCall):
            arguments = self._arguments(expression.arguments)
            if expression.distinct:
                arguments = "(DISTINCT " + arguments[1:]
            return self.iri(expression.iri) + arguments
        if isinstance(expression, Exists):
            keyword = "NOT EXISTS" if expression.negated else "EXISTS"
            return f"{keyword} {self.pattern(expression.pattern, self._level)}"
        _require(isinstance(expression, Aggregate), f"a {type(expression).__name__} is not an expression")
        return self._aggregate(expression)

    def constraint(self, expression: Expression) -> str:
        """What FILTER and HAVING take: a call as it is, anything else in parentheses."""
        if isinstance(expression, Call | FunctionCall | Exists | Aggregate):
            return self.expression(expression)
        return f"({self.expression(expression)})"

    _level = 0  # the indentation of the pattern an EXISTS stands in (readable form only)

    def _arguments(self, arguments: tuple[Expression, ...]) -> str:
        if not arguments:
            return "()"
        return "(" + ", ".join(self.expression(argument) for argument in arguments) + ")"

    def _aggregate(self, aggregate: Aggregate) -> str:
        _require(aggregate.name in AGGREGATES, f"{aggregate.name!r} is not an aggregate")
        _require(aggregate.argument is not None or aggregate.name == "COUNT", "only COUNT takes '*'")
        inner = "*" if aggregate.argument is None else self.expression(aggregate.argument)
        if aggregate.distinct:
            inner = "DISTINCT " + inner
        if aggregate.separator is not None:
            inner += f" ; SEPARATOR = {_quoted(aggregate.separator)}"
        return f"{aggregate.name}({inner})"

    # -------------------------------------------------------------------------------- patterns

    def pattern(self, pattern: Pattern, level: int) -> str:
        """A group graph pattern in its braces, or a sub-SELECT in braces."""
        inside = self.separator(level + 1)
        if isinstance(pattern, SelectQuery):
            _require(not (pattern.default_graphs or pattern.named_graphs or pattern.base_iri),
                     "a sub-SELECT has no FROM, FROM NAMED or base IRI")
            return "{" + inside + self.query(pattern, level + 1) + self.separator(level) + "}"
        # An empty triples block (a rewrite may leave one) means nothing: it joins with anything.
        elements = [element for element in pattern.elements
                    if not (isinstance(element, TriplesBlock) and not element.triples)]
        if not elements:
            return "{ }"
        inner = inside.join(self.element(element, level + 1) for element in elements)
        return "{" + inside + inner + self.separator(level) + "}"

    def element(self, element: Element, level: int) -> str:
        if isinstance(element, TriplesBlock):
            return self.separator(level).join(self.triple(triple) for triple in element.triples)
        if isinstance(element, Group | SelectQuery):
            return self.pattern(element, level)
        if isinstance(element, Filter):
            saved, self._level = self._level, level
            text = "FILTER " + self.constraint(element.expression)
            self._level = saved
            return text
        if isinstance(element, Optional):
            return "OPTIONAL " + self.pattern(element.pattern, level)
        if isinstance(element, Minus):
            return "MINUS " + self.pattern(element.pattern, level)
        if isinstance(element, Lateral):
            return "LATERAL " + self.pattern(element.pattern, level)
        if isinstance(element, Union):
            return " UNION ".join(self.pattern(branch, level) for branch in element.branches)
        if isinstance(element, Graph):
            return f"GRAPH {self.term(element.name)} {self.pattern(element.pattern, level)}"
        if isinstance(element, Service):
            silent = "SILENT " if element.silent else ""
            return f"SERVICE {silent}{self.term(element.endpoint)} {self.pattern(element.pattern, level)}"
        if isinstance(element, Bind):
            saved, self._level = self._level, level
            text = f"BIND ({self.expression(element.expression)} AS {self.var(element.variable)})"
            self._level = saved
            return text
        return self.values(element, level)

    def values(self, values: Values, level: int) -> str:
        _require(all(len(row) == len(values.variables) for row in values.rows),
                 "a VALUES row has not one value per variable")
        variables = "(" + " ".join(self.var(variable) for variable in values.variables) + ")"
        rows = [("(" + " ".join("UNDEF" if value is None else self.term(value) for value in row) + ")")
                for row in values.rows]
        if not rows:
            return f"VALUES {variables} {{ }}"
        return f"VALUES {variables} {{" + self.separator(level + 1) + self.separator(level + 1).join(rows) \
            + self.separator(level) + "}"

    # ----------------------------------------------------------------------------------- queries

    def query(self, query: Query, level: int) -> str:
        parts = [self._form(query, level)]
        parts.extend(f"FROM {self.iri(graph)}" for graph in query.default_graphs)
        parts.extend(f"FROM NAMED {self.iri(graph)}" for graph in query.named_graphs)
        if isinstance(query, ConstructQuery) and query.template is None:
            parts.append("WHERE " + self._construct_where(query.where, level))
        else:
            parts.append("WHERE " + self.pattern(query.where, level))
        saved, self._level = self._level, level
        if query.group_by:
            conditions = []
            for condition in query.group_by:
                if condition.variable is not None:
                    expression = self.expression(condition.expression)
                    conditions.append(f"({expression} AS {self.var(condition.variable)})")
                elif isinstance(condition.expression, Var):
                    conditions.append(self.var(condition.expression))
                else:
                    conditions.append(self.constraint(condition.expression))
            parts.append("GROUP BY " + " ".join(conditions))
        if query.having:
            parts.append("HAVING " + " ".join(self.constraint(having) for having in query.having))
        if query.order_by:
            parts.append("ORDER BY " + " ".join(self._order(condition) for condition in query.order_by))
        self._level = saved
        for clause, count in (("LIMIT", query.limit), ("OFFSET", query.offset)):
            if count is not None:
                _require(isinstance(count, int) and 0 <= count < 2 ** 63, f"{clause} {count!r} is no count")
                parts.append(f"{clause} {count}")
        if query.values is not None:
            parts.append(self.values(query.values, level))
        return self.separator(level).join(parts)

    def _order(self, condition: OrderCondition) -> str:
        """An ORDER BY condition, with ASC only where the expression needs brackets anyway."""
        expression = condition.expression
        if condition.descending:
            return f"DESC({self.expression(expression)})"
        if isinstance(expression, Var):
            return self.var(expression)
        text = self.constraint(expression)
        return text if text[0] != "(" else f"ASC{text}"

    def _form(self, query: Query, level: int) -> str:
        if isinstance(query, SelectQuery):
            head = "SELECT DISTINCT" if query.distinct else "SELECT REDUCED" if query.reduced else "SELECT"
            if query.projection is None:
                return head + " *"
            saved, self._level = self._level, level
            items = [self.var(item) if isinstance(item, Var)
                     else f"({self.expression(item.expression)} AS {self.var(item.variable)})"
                     for item in query.projection]
            self._level = saved
            return head + " " + " ".join(items)
        if isinstance(query, ConstructQuery):
            if query.template is None:
                return "CONSTRUCT"
            if not query.template:
                return "CONSTRUCT { }"
            inner = self.separator(level + 1).join(self.triple(triple) for triple in query.template)
            return "CONSTRUCT {" + self.separator(level + 1) + inner + self.separator(level) + "}"
        if isinstance(query, DescribeQuery):
            if query.terms is None:
                return "DESCRIBE *"
            return "DESCRIBE " + " ".join(self.term(term) for term in query.terms)
        assert isinstance(query, AskQuery)
        return "ASK"

    def _construct_where(self, where: Pattern, level: int) -> str:
        """The short form's pattern: triple patterns only, as that form allows."""
        if isinstance(where, Group) and all(isinstance(element, TriplesBlock) for element in where.elements) \
                and len(where.elements) <= 1:
            return self.pattern(where, level)
        raise ValueError("CONSTRUCT WHERE (without a template) needs a WHERE clause of triple patterns only")
