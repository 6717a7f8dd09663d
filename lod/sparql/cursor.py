"""The parser's reading position: tokens, errors that say where, nesting limits, and RDF terms.

The grammar's rules live in :mod:`.expressions` and :mod:`.parser`, which build on this class;
what they share is here: moving over the tokens, reporting what was found where something else
was expected, counting the nesting against the limits, and turning IRIs, prefixed names and
literals into terms (expanded, resolved and checked, so every IRI in the tree is absolute and
valid for the engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from .errors import LimitExceeded, SparqlSyntaxError
from .iri import has_scheme, is_valid_iri, resolve
from .limits import LIMITS
from .syntax import (
    IRI,
    RDF_LANGSTRING,
    XSD_BOOLEAN,
    XSD_DECIMAL,
    XSD_DOUBLE,
    XSD_INTEGER,
    BlankNode,
    Literal,
)
from .tokens import EscapeError, Token, iri_value, local_name, string_value, tokens

NUMBER_TYPES = {"integer": XSD_INTEGER, "decimal": XSD_DECIMAL, "double": XSD_DOUBLE}
IRI_KEYS = frozenset({"iri", "pname", "pname_ns"})


class Cursor:
    """Tokens of one query text, the position in them, and what the prologue declared."""

    def __init__(self, text: str, *, base_iri: str | None, prefixes: Mapping[str, str],
                 max_depth: int) -> None:
        self.text = text
        self._tokens = tokens(text)
        self.token: Token = next(self._tokens)
        self.base = base_iri
        self.prefixes = dict(prefixes)
        self.max_depth = max_depth
        self.depth = 0
        self._iris: dict[str, IRI] = {}
        self._fresh_prefix: str | None = None
        self._fresh_count = 0

    # --------------------------------------------------------------------------------- moving

    def advance(self) -> Token:
        """Step past the current token; returns it."""
        token = self.token
        if token[0] != "eof":
            self.token = next(self._tokens)
        return token

    def accept(self, key: str) -> bool:
        if self.token[0] == key:
            self.advance()
            return True
        return False

    def expect(self, key: str, what: str | None = None) -> Token:
        if self.token[0] != key:
            self.fail_expected(what or repr(key))
        return self.advance()

    # --------------------------------------------------------------------------------- errors

    def fail(self, reason: str, token: Token | None = None) -> NoReturn:
        raise SparqlSyntaxError(reason, text=self.text, offset=(token or self.token)[2])

    def fail_expected(self, what: str) -> NoReturn:
        """``expected <what>, found <the current token>``, with a hint where a common slip
        explains it."""
        token = self.token
        hint = ""
        if token[0] == "iri" and any(char in token[1] for char in "?$&|=()"):
            hint = (" (read as an IRI, because it runs from '<' to '>' without a space; "
                    "if '<' is a comparison, put a space after it)")
        elif token[0] == "<" and ">" in self.text[token[2]:].partition("\n")[0]:
            hint = " (if an IRI starts here: an IRI may not hold spaces or any of <>\"{}|^`\\)"
        self.fail(f"expected {what}, found {describe(token)}{hint}")

    def enter(self, token: Token) -> None:
        """One level deeper (a group, a parenthesis, a call, a list); past ``max_depth`` the
        query is refused before it can exhaust the engine's stack or Python's."""
        self.depth += 1
        if self.depth > self.max_depth:
            raise LimitExceeded(f"the query nests deeper than {self.max_depth} levels (groups, "
                                "parentheses, function calls, lists) here", text=self.text, offset=token[2],
                                limit="max_depth")

    def leave(self) -> None:
        self.depth -= 1

    def check_limit(self, count: int, name: str, what: str, token: Token) -> None:
        """Refuses the query when ``count`` passes the limit ``name`` (a key of ``LIMITS``)."""
        maximum = LIMITS[name]
        if count > maximum:
            raise LimitExceeded(f"more than {maximum} {what}", text=self.text, offset=token[2], limit=name)

    # ---------------------------------------------------------------------------------- terms

    def iri(self) -> IRI:
        """An IRIREF or a prefixed name, as an absolute IRI."""
        token = self.token
        key = token[0]
        if key not in IRI_KEYS:
            self.fail_expected("an IRI")
        self.advance()
        return self.iri_of(token)

    def iri_of(self, token: Token) -> IRI:
        """The absolute IRI an IRIREF or prefixed name token stands for; raises
        :class:`SparqlSyntaxError` for one that is not valid."""
        known = self._iris.get(token[1])
        if known is not None:
            return known
        iri = self.iri_reference(token) if token[0] == "iri" else self._prefixed_name(token)
        self._iris[token[1]] = iri
        return iri

    def iri_reference(self, token: Token) -> IRI:
        """An IRIREF token as an absolute IRI: escapes decoded, resolved against the base."""
        try:
            reference = iri_value(token[1])
        except EscapeError as error:
            raise SparqlSyntaxError(str(error), text=self.text, offset=token[2] + error.index) from None
        return IRI(self.absolute(reference, token))

    def absolute(self, reference: str, token: Token) -> str:
        """``reference`` resolved against the base, and checked to be an IRI the engine accepts.

        An absolute IRI is taken as written, without removing dot segments, as the engine does."""
        if has_scheme(reference):
            value = reference
        elif self.base is None:
            self.fail(f"the IRI <{reference}> is relative and there is no base IRI to resolve it against; "
                      "write it in full or add BASE <…>", token)
        else:
            value = resolve(reference, self.base)
        if not is_valid_iri(value):
            self.fail(f"<{value}> is not a valid IRI (RFC 3987)", token)
        return value

    def _prefixed_name(self, token: Token) -> IRI:
        text = token[1]
        prefix = text[:text.index(":")]
        namespace = self.prefixes.get(prefix)
        if namespace is None:
            self.fail(f"the prefix '{prefix}:' is not declared; add PREFIX {prefix}: <…>", token)
        value = namespace + local_name(text)
        if not is_valid_iri(value):
            self.fail(f"{text} stands for <{value}>, which is not a valid IRI (RFC 3987)", token)
        return IRI(value)

    def literal(self) -> Literal:
        """A string with its language tag or datatype, a number or a boolean."""
        token = self.token
        key = token[0]
        if key == "string":
            self.advance()
            value = self.string_of(token)
            next_key = self.token[0]
            if next_key == "langtag":
                return Literal(value, RDF_LANGSTRING, self.advance()[1][1:])
            if next_key == "^^":
                self.advance()
                return Literal(value, self.iri())
            return Literal(value)
        datatype = NUMBER_TYPES.get(key)
        if datatype is not None:
            self.advance()
            return Literal(token[1], datatype)
        if key == "TRUE" or key == "FALSE":
            self.advance()
            return Literal(key.lower(), XSD_BOOLEAN)
        self.fail_expected("a literal")

    def string(self) -> str:
        return self.string_of(self.expect("string", "a string"))

    def string_of(self, token: Token) -> str:
        """The characters a string token stands for; raises :class:`SparqlSyntaxError` for an
        escape that stands for none."""
        try:
            return string_value(token[1])
        except EscapeError as error:
            raise SparqlSyntaxError(str(error), text=self.text, offset=token[2] + error.index) from None

    def fresh_blank_node(self) -> BlankNode:
        """A blank node for ``[]``, ``[ ... ]`` or a collection, labelled so that it cannot
        clash with a label of the query: no label in the text starts with the chosen prefix."""
        if self._fresh_prefix is None:
            prefix = "_b"
            while "_:" + prefix in self.text:
                prefix += "b"
            self._fresh_prefix = prefix
        self._fresh_count += 1
        return BlankNode(f"{self._fresh_prefix}{self._fresh_count}")


def describe(token: Token) -> str:
    """A token as an error message names it."""
    if token[0] == "eof":
        return "the end of the query"
    text = token[1]
    return repr(text if len(text) <= 40 else text[:37] + "...")
