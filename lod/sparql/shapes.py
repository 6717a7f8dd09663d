"""Query shapes: a query with the IRIs and strings that vary between its uses taken out, so that
what was prepared for one query of a shape serves them all.

Portals, pages and stored queries send the same few queries again and again, each time with
another IRI or string; reading, deciding on and planning each anew costs more than the engine's
answer to a light query. :func:`shape_of` reads a query into a :class:`Shape`: its key (every
token but the varying terms, verbatim, without white space and comments) and those terms. What
was prepared for the shape's placeholder query (:meth:`Shape.placeholder`), written with each
varying term replaced by a marker, becomes a :class:`Template`, which writes the prepared text of
any query of the shape by putting its terms where the markers are.

Why that text is the one the whole path writes: for one key, the parser builds the same tree
whatever the terms, because it looks at an IRI, a prefixed name or a string only through the
functions that make it a term (decoding escapes, expanding the prefix, resolving against the
base, the RFC 3987 check), which :meth:`Template.fill` runs again - the same functions, refusing
what they refuse; what is decided on the tree (limits, scope rules, the planner's rewrites)
depends on the kind of each term, never on its value; and the serialiser writes each such term
as a unit from its value alone (:func:`~.serialize.terms_text`). One decision depends on values:
the order of joins, which the planner chooses from the data's statistics
(:mod:`lod.query.joins`). A shape keeps the order chosen for the query it was learnt on, as a
prepared statement keeps its plan; every order gives the same answer. What would break the rest
stays in the key or has no shape:

- numbers, booleans and language tags stay in the key (LIMIT's value; the sign that makes
  ``?x -1`` a subtraction), and so do both parts of a typed literal, whose canonical form
  depends on both (``"1"^^xsd:integer`` is written ``1``);
- a query with ``BASE`` (against which its IRIs resolve), with ``_:`` anywhere (blank node
  labels; and the parser picks fresh labels that the text does not hold, strings included), with
  ``SERVICE`` (whose endpoint is decided on) or with more than :data:`MAX_TOKENS` tokens has no
  shape.

A query written like one seen before, but for its terms, is known by its :class:`Outline`
without reading its other tokens at all.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from .cursor import Cursor
from .errors import SparqlSyntaxError
from .limits import MAX_DEPTH
from .serialize import terms_text
from .syntax import Literal
from .tokens import SURROGATE, Token, is_cut_name, term_at, tokens

MAX_TOKENS = 2000
"""Longer queries are prepared whole each time: their terms are few against their work."""

_UNSHAPED = frozenset({"BASE", "SERVICE"})
_LEAD_END = re.compile("[<\"':]")
_TERMS = frozenset({"iri", "pname", "string"})
_MAY_GO_ON = frozenset(".:-")
"""What may follow a keyword where it is a cut name (:func:`~.tokens.is_cut_name`), besides any
character from U+0080 on (ASCII letters, digits and ``_`` would have been part of it)."""
_SLOT = "\0"  # starts a key entry that stands for a term; no token's text starts with it
_STRING_SLOT = _SLOT + "string"


@dataclass(frozen=True, slots=True)
class Shape:
    """A query's tokens without its varying terms (``key``), and those terms (``terms``), in
    the order of the text."""

    key: tuple[str, ...]
    terms: tuple[Token, ...]

    def placeholder(self, marker: Marker) -> str:
        """A query of this shape with the ``i``-th term replaced by ``marker``'s ``i``-th mark."""
        words = []
        index = 0
        for entry in self.key:
            if entry[:1] != _SLOT:
                words.append(entry)
                continue
            kind = self.terms[index][0]
            mark = marker.mark(index)
            if kind == "iri":
                words.append(f"<{marker.scheme}:{mark}>")
            elif kind == "pname":
                words.append(entry[1:] + mark)  # the prefix and its colon
            else:
                words.append(f'"{mark}"')
            index += 1
        return " ".join(words)

    def outline(self, text: str) -> Outline:
        """How ``text``, a query of this shape, is written around its terms."""
        pieces, end = [], 0
        for _, term, start in self.terms:
            pieces.append(text[end:start])
            end = start + len(term)
        pieces.append(text[end:])
        kinds = tuple(term[:term.index(":") + 1] if kind == "pname" else kind for kind, term, _ in self.terms)
        return Outline(lead(text), tuple(pieces), kinds, tuple(term for _, term, _ in self.terms))


@dataclass(frozen=True, slots=True)
class Outline:
    """A query's text as written around its terms (``pieces``), and the kind of each term
    (``iri``, ``string``, or the prefix and colon of a prefixed name).

    A text made of the same pieces with a term of the same kind between each two, as the lexer
    reads it there, has the same shape, so that comparing text and reading only the terms
    (:meth:`match`) stands for reading it whole: the lexer reads from left to right, never looking
    back, and where it looks ahead past a token (a keyword not followed by a name character, '('
    not followed by ')', '.' not followed by a digit), the first character of a term of the kind
    decides it the same way as in the text the outline was taken from (a ``<`` or a quote; a
    prefixed name starts with the same prefix)."""

    lead: str
    """Where the text starts (:func:`lead`), the same for every text that matches."""
    pieces: tuple[str, ...]
    kinds: tuple[str, ...]
    terms: tuple[str, ...]
    """The terms of the text the outline was taken from: where a text has the same term, with the
    piece after it, the lexer reads the same token there, and it need not be read."""

    def match(self, text: str) -> tuple[Token, ...] | None:
        """The terms of ``text`` when it is written with this outline, else None."""
        pieces = self.pieces
        if not (text.startswith(pieces[0]) and text.endswith(pieces[-1])):
            return None
        position = len(pieces[0])
        terms = []
        for kind, seen, piece in zip(self.kinds, self.terms, pieces[1:], strict=True):
            if text.startswith(seen, position) and text.startswith(piece, position + len(seen)):
                token = ("pname" if kind[-1] == ":" else kind, seen, position)
            else:
                read = term_at(text, position)
                if read is None:
                    return None
                if (read[1][:read[1].index(":") + 1] if read[0] == "pname" else read[0]) != kind:
                    return None
                if not text.startswith(piece, position + len(read[1])):
                    return None
                token = read
            position += len(token[1]) + len(piece)
            terms.append(token)
        if position != len(text) or "_:" in text or SURROGATE.search(text) is not None:
            return None  # (the last two as in shape_of and in the lexer)
        return tuple(terms)


def lead(text: str) -> str:
    """``text`` up to its first ``<``, quote or colon: every text of one outline starts so,
    whatever its terms (each starts with such a character, or with its prefix and a colon)."""
    found = _LEAD_END.search(text)
    return text if found is None else text[:found.start()]


def shape_of(text: str) -> Shape | None:
    """The shape of ``text``, or None when it has none (see the module's documentation; a text
    that is no query has none either: preparing it whole reports why)."""
    key: list[str] = []
    terms: list[Token] = []
    previous = ""
    if "_:" in text:
        return None  # blank node labels; and a string that holds one changes the fresh labels
    try:
        for token in tokens(text):
            kind = token[0]
            if kind in _TERMS:
                # A PREFIX declaration's IRI is shape, and so are both parts of a typed literal
                # (the first is put back below when '^^' follows it).
                if previous == "^^" or previous == "pname_ns":
                    key.append(token[1])
                else:
                    # a prefixed name keeps its prefix: which namespace it expands in is shape
                    key.append(_SLOT + (token[1][:token[1].index(":") + 1] if kind == "pname" else kind))
                    terms.append(token)
            elif kind == "^^" and key and key[-1] == _STRING_SLOT:
                key[-1] = terms.pop()[1]
                key.append(kind)
            elif kind in _UNSHAPED or len(key) > MAX_TOKENS:
                return None
            elif kind.isupper() or kind == "a":
                after = token[2] + len(token[1])
                if (text[after:after + 1] in _MAY_GO_ON or text[after:after + 1] >= "\x80") \
                        and is_cut_name(text, token):
                    return None  # a syntax error, found by the parser before it reads on
                key.append(token[1])
            else:
                key.append(token[1])
            previous = kind
    except SparqlSyntaxError:
        return None
    return Shape(tuple(key), tuple(terms))


class Marker:
    """The marks that stand for a placeholder query's terms: letters and digits with a random
    part that no client can know, so that a mark in a prepared text is always a placeholder."""

    def __init__(self) -> None:
        self.nonce = "lod" + secrets.token_hex(8)
        self.scheme = "x-lod-slot"
        self._found = re.compile(f'<([^<>"]*?){self.nonce}([0-9]+)z>|"{self.nonce}([0-9]+)z"')

    def mark(self, index: int) -> str:
        return f"{self.nonce}{index}z"

    def places(self, written: str) -> Iterator[tuple[int, int, int, str | None]]:
        """Where marks stand in ``written``: start, end, the term's index, and the namespace
        before the mark (``scheme:`` for an IRI, a prefix's namespace) or None for a string."""
        for found in self._found.finditer(written):
            if found.group(3) is not None:
                yield found.start(), found.end(), int(found.group(3)), None
            else:
                yield found.start(), found.end(), int(found.group(2)), found.group(1)


@dataclass(frozen=True, slots=True)
class Template:
    """A text prepared for a shape, with the places of its terms: ``pieces`` around them, and
    for each place the index of the term (``slots``)."""

    pieces: tuple[str, ...]
    slots: tuple[int, ...]
    namespaces: Mapping[str, str]
    """The namespace each prefix of the shape's prefixed names expands to, as far as they show."""

    @classmethod
    def build(cls, written: str, shape: Shape, marker: Marker) -> Template | None:
        """The template of ``written``, prepared from ``shape``'s placeholder query; None when a
        mark stands where no term of its kind can (then the text cannot be filled safely)."""
        pieces: list[str] = []
        slots: list[int] = []
        namespaces: dict[str, str] = {}
        position = 0
        for start, end, index, namespace in marker.places(written):
            if index >= len(shape.terms):
                return None
            kind, text, _ = shape.terms[index]
            if kind == "pname" and namespace is not None:
                prefix = text[:text.index(":")]
                if namespaces.setdefault(prefix, namespace) != namespace:
                    return None
            elif not ((kind == "iri" and namespace == marker.scheme + ":")
                      or (kind == "string" and namespace is None)):
                return None
            pieces.append(written[position:start])
            slots.append(index)
            position = end
        pieces.append(written[position:])
        if any(marker.nonce in piece for piece in pieces):
            return None  # a mark outside any term's place: the text holds it some other way
        return cls(tuple(pieces), tuple(slots), namespaces)

    def fill(self, written: Sequence[str]) -> str:
        """The text with the terms, as :func:`write_terms` wrote them, in their places."""
        parts = [self.pieces[0]]
        for index, piece in zip(self.slots, self.pieces[1:], strict=True):
            parts.append(written[index])
            parts.append(piece)
        return "".join(parts)


def write_terms(terms: tuple[Token, ...], *, namespaces: Mapping[str, str],
                base_iri: str | None) -> list[str]:
    """Each term as the canonical text writes it; raises :class:`SparqlSyntaxError` for one the
    parser refuses (escapes that stand for nothing, an IRI that is not valid, a prefix whose
    namespace is not known)."""
    cursor = Cursor("", base_iri=base_iri, prefixes=namespaces, max_depth=MAX_DEPTH)
    return terms_text([Literal(cursor.string_of(token)) if token[0] == "string" else cursor.iri_of(token)
                       for token in terms])
