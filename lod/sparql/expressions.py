"""Parsing expressions (SPARQL 1.1 §19.8 rules [110]-[128]): operators, calls, aggregates, EXISTS.

The five precedence levels of the grammar (``||``, ``&&``, comparisons, ``+ -``, ``* /``) are
read by loops in three functions rather than by one function each, so that every level of
parentheses costs few Python frames: the depth limit then keeps the parser well inside Python's
recursion limit. ``||`` and ``&&`` chains are built flat; arithmetic is built left-deep as the
grammar associates it, each operator counting as one level of depth, because the serialiser and
:func:`~lod.sparql.syntax.transform` recurse through it.
"""

from __future__ import annotations

from .cursor import IRI_KEYS, NUMBER_TYPES, Cursor, describe
from .syntax import (
    Aggregate,
    And,
    Binary,
    Call,
    Exists,
    Expression,
    FunctionCall,
    In,
    Literal,
    Or,
    Pattern,
    Unary,
    Var,
)

# Built-in calls (§19.8 [121]) and how many arguments each takes (None: any number).
BUILTINS: dict[str, tuple[int, int | None]] = {
    "STR": (1, 1), "LANG": (1, 1), "LANGMATCHES": (2, 2), "DATATYPE": (1, 1), "BOUND": (1, 1),
    "IRI": (1, 1), "URI": (1, 1), "BNODE": (0, 1), "RAND": (0, 0), "ABS": (1, 1), "CEIL": (1, 1),
    "FLOOR": (1, 1), "ROUND": (1, 1), "CONCAT": (0, None), "SUBSTR": (2, 3), "STRLEN": (1, 1),
    "REPLACE": (3, 4), "UCASE": (1, 1), "LCASE": (1, 1), "ENCODE_FOR_URI": (1, 1), "CONTAINS": (2, 2),
    "STRSTARTS": (2, 2), "STRENDS": (2, 2), "STRBEFORE": (2, 2), "STRAFTER": (2, 2), "YEAR": (1, 1),
    "MONTH": (1, 1), "DAY": (1, 1), "HOURS": (1, 1), "MINUTES": (1, 1), "SECONDS": (1, 1),
    "TIMEZONE": (1, 1), "TZ": (1, 1), "NOW": (0, 0), "UUID": (0, 0), "STRUUID": (0, 0), "MD5": (1, 1),
    "SHA1": (1, 1), "SHA256": (1, 1), "SHA384": (1, 1), "SHA512": (1, 1), "COALESCE": (0, None),
    "IF": (3, 3), "STRLANG": (2, 2), "STRDT": (2, 2), "SAMETERM": (2, 2), "ISIRI": (1, 1),
    "ISURI": (1, 1), "ISBLANK": (1, 1), "ISLITERAL": (1, 1), "ISNUMERIC": (1, 1), "REGEX": (2, 3),
}
AGGREGATES = frozenset({"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"})
_RELATIONAL = frozenset({"=", "!=", "<", ">", "<=", ">="})
_LITERAL_KEYS = frozenset({"string", "integer", "decimal", "double", "TRUE", "FALSE"})


class ExpressionParser(Cursor):
    """Expressions; the patterns inside EXISTS come from :meth:`group_graph_pattern`, which the
    query parser provides."""

    aggregates_allowed = False
    """True while reading a SELECT clause, HAVING or ORDER BY, where aggregates may stand."""

    uses_base = False
    """Whether the query calls IRI() or URI(), which resolve against the base when it runs."""

    def group_graph_pattern(self) -> Pattern:
        raise NotImplementedError

    def expression(self) -> Expression:
        """Expression ::= ConditionalOrExpression (and the levels down to comparisons)."""
        start = self.token
        self.enter(start)
        alternatives: list[Expression] = []
        while True:
            conjuncts = [self._relational()]
            while self.token[0] == "&&":
                self.advance()
                conjuncts.append(self._relational())
            self.check_limit(len(conjuncts), "max_chain_operands", "operands of '&&' in one chain", start)
            alternatives.append(conjuncts[0] if len(conjuncts) == 1 else And(tuple(conjuncts)))
            if self.token[0] != "||":
                break
            self.advance()
        self.check_limit(len(alternatives), "max_chain_operands", "operands of '||' in one chain", start)
        self.leave()
        return alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))

    def _relational(self) -> Expression:
        left = self._numeric()
        key = self.token[0]
        if key in _RELATIONAL:
            self.advance()
            return Binary(key, left, self._numeric())
        if key == "IN":
            self.advance()
            return In(left, self.expression_list())
        if key == "NOT":
            self.advance()
            self.expect("IN", "IN after NOT")
            return In(left, self.expression_list(), negated=True)
        return left

    def _numeric(self) -> Expression:
        """AdditiveExpression and MultiplicativeExpression. A signed number after an operand
        (``?x -1``) is the operator and an unsigned number, as the grammar's rule [116] reads it."""
        extra = 0
        left = self._unary()
        while self.token[0] in ("*", "/"):
            extra = self._deeper(extra)
            left = Binary(self.advance()[0], left, self._unary())
        while True:
            token = self.token
            key = token[0]
            right: Expression
            if key == "+" or key == "-":
                extra = self._deeper(extra)
                self.advance()
                right = self._unary()
            elif key in NUMBER_TYPES and token[1][0] in "+-":
                extra = self._deeper(extra)
                self.advance()
                key = token[1][0]
                right = Literal(token[1][1:], NUMBER_TYPES[token[0]])
            else:
                break
            while self.token[0] in ("*", "/"):
                extra = self._deeper(extra)
                right = Binary(self.advance()[0], right, self._unary())
            left = Binary(key, left, right)
        self.depth -= extra
        return left

    def _deeper(self, extra: int) -> int:
        self.enter(self.token)
        return extra + 1

    def _unary(self) -> Expression:
        """UnaryExpression and PrimaryExpression in one, to save a frame per level."""
        key = self.token[0]
        operator = None
        if key == "!" or key == "+" or key == "-":
            operator = key
            self.advance()
            key = self.token[0]
        result: Expression
        if key == "var":
            result = Var(self.advance()[1][1:])
        elif key == "(":
            self.advance()
            result = self.expression()
            self.expect(")", "')'")
        elif key in IRI_KEYS:
            result = self._iri_or_function()
        elif key in _LITERAL_KEYS:
            result = self.literal()
        elif key in BUILTINS:
            result = self._builtin()
        elif key in AGGREGATES:
            result = self._aggregate()
        elif key == "EXISTS":
            self.advance()
            result = Exists(self.group_graph_pattern())
        elif key == "NOT":
            self.advance()
            self.expect("EXISTS", "EXISTS after NOT")
            result = Exists(self.group_graph_pattern(), negated=True)
        else:
            self.fail_expected("an expression")
        return result if operator is None else Unary(operator, result)

    def _iri_or_function(self) -> Expression:
        iri = self.iri()
        if self.token[0] not in ("(", "nil"):
            return iri
        if self.token[0] == "nil":
            self.advance()
            return FunctionCall(iri)
        self.advance()
        distinct = self.accept("DISTINCT")
        arguments = [self.expression()]
        while self.accept(","):
            arguments.append(self.expression())
        self.expect(")", "')' or ','")
        return FunctionCall(iri, tuple(arguments), distinct)

    def constraint(self, what: str) -> Expression:
        """Constraint ::= BrackettedExpression | BuiltInCall | FunctionCall: what FILTER, HAVING,
        ORDER BY and GROUP BY take without parentheses of their own; ``what`` names it in errors."""
        start = self.token
        key = start[0]
        if key in IRI_KEYS:
            call = self._iri_or_function()
            if not isinstance(call, FunctionCall):
                self.fail(f"expected {what}, found the IRI {describe(start)} without arguments", start)
            return call
        if key == "(" or key in BUILTINS or key in AGGREGATES or key == "EXISTS" or key == "NOT":
            return self._unary()
        self.fail_expected(what)

    def _builtin(self) -> Call:
        token = self.advance()
        name = token[0]
        if name == "BOUND":
            self.expect("(", "'(' after BOUND")
            variable = self.token
            if variable[0] != "var":
                self.fail_expected("a variable (BOUND takes a variable)")
            self.advance()
            self.expect(")", "')'")
            return Call(name, (Var(variable[1][1:]),))
        if self.token[0] not in ("(", "nil"):
            self.fail_expected(f"'(' after {token[1]}")
        arguments = self.expression_list()
        if name == "IRI" or name == "URI":
            self.uses_base = True
        low, high = BUILTINS[name]
        if not low <= len(arguments) <= (len(arguments) if high is None else high):
            takes = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
            self.fail(f"{token[1]} takes {takes} argument{'s' if takes != '1' else ''}, "
                      f"found {len(arguments)}", token)
        return Call(name, arguments)

    def _aggregate(self) -> Aggregate:
        token = self.advance()
        name = token[0]
        if not self.aggregates_allowed:
            self.fail(f"the aggregate {token[1]} may only be used in SELECT, HAVING or ORDER BY, and not "
                      "inside another aggregate", token)
        self.expect("(", f"'(' after {token[1]}")
        self.enter(token)
        distinct = self.accept("DISTINCT")
        argument: Expression | None = None
        if not (name == "COUNT" and self.accept("*")):
            self.aggregates_allowed = False
            argument = self.expression()
            self.aggregates_allowed = True
        separator = None
        if name == "GROUP_CONCAT" and self.accept(";"):
            self.expect("SEPARATOR", "SEPARATOR")
            self.expect("=", "'='")
            separator = self.string()
        self.expect(")", "')'")
        self.leave()
        return Aggregate(name, argument, distinct, separator)

    def expression_list(self) -> tuple[Expression, ...]:
        """ExpressionList ::= NIL | '(' Expression ( ',' Expression )* ')'."""
        if self.accept("nil"):
            return ()
        self.expect("(", "'('")
        items = [self.expression()]
        while self.accept(","):
            items.append(self.expression())
        self.expect(")", "')' or ','")
        return tuple(items)
