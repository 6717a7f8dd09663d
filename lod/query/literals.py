"""A release's string literals per predicate, folded for case: those that may pass a text FILTER.

Oxigraph has no index of the text of literals: ``?o skos:prefLabel ?n FILTER(REGEX(?n, "lauhe",
"i"))`` reads every label of the store and evaluates the REGEX on each (55 ms at scale 1, most of
it reading the labels). :class:`LiteralIndex` finds, in a fraction of that, every literal object of
a predicate whose lexical form contains a text in any case, so that the planner can restrict the
pattern to them (:mod:`.narrowing`). A release never changes: each predicate's literals are read
once per process, when a query first needs them.

The fold
--------
The index must find a superset of what the engine lets through, never miss one. It compares
:func:`fold` of the literal with :func:`fold` of the text, where ``fold`` maps each character to
the key of its case class, so that

- ``fold(LCASE(s)) == fold(s)`` and ``fold(UCASE(s)) == fold(s)`` for every string (the classes
  join each character with its lower and upper case; a character whose case maps to several has
  their keys: ß and ẞ fold as ``SS``);
- a character matches another case-insensitively in a REGEX with flag ``i`` (Unicode simple case
  folding, as the engine's regex library does it) only if both have the same key.

Since ``fold`` works character by character, a text that LCASE(s), UCASE(s) or s contains, or that
a REGEX of plain characters finds in s with or without ``i``, has its fold in ``fold(s)``.

The classes come from Python's Unicode database, which may be older than the engine's (Unicode 16
gave ƛ an upper case that Python 3.11 does not know). So only texts of the characters in
:data:`ALPHABET` are looked up - ASCII and Latin-1 and Latin Extended-A, long stable, which
``tests/query/test_narrowing.py`` checks against the engine itself, for every character the engine
maps; a text of others leaves the query as it is.
"""

from __future__ import annotations

import bisect
import functools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from lod.sparql import IRI, Literal

MAX_CANDIDATES = 512
"""More literals than this are not worth restricting to: Oxigraph joins a VALUES of 1,000 rows
with a search's patterns in 7-15 ms, of 1,100 in over a second (it changes its plan), where
reading 50,000 labels takes 55 ms."""
SHARE = 8
"""Nor is a predicate more than an eighth of whose literals would pass."""
MAX_LITERALS = 1_000_000
"""A predicate with more distinct string literals is not indexed: the index stays within a few
hundred MB of a query process's memory (``query_memory_mb``)."""
READ_SECONDS = 3.0
"""Nor one whose literals take longer to read (8 µs each: about 400,000). The query that needs
them first waits for the reading, and must stay well within the query time limit (10 s by
default), which would stop the process and, with it, the reading."""

ALPHABET = frozenset(chr(c) for c in range(0x20, 0x180) if not 0x7F <= c < 0xA0)
"""The characters a text may have to be looked up (see the module docstring)."""

log = logging.getLogger(__name__)

_SEPARATOR = "\0"  # not in ALPHABET: no text looked up matches across two literals
_STRING_TYPES = frozenset({"http://www.w3.org/2001/XMLSchema#string",
                           "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"})


def fold(text: str) -> str:
    """``text`` with each character replaced by the key of its case class."""
    return text.translate(_fold_table())


@functools.cache
def _fold_table() -> dict[int, str]:
    """The characters whose key is not themselves, and their keys (built once, 0.2 s)."""
    parent: dict[int, int] = {}

    def root(code: int) -> int:
        while parent.get(code, code) != code:
            code = parent[code]
        return code

    expansions: dict[int, list[str]] = {}
    cased = list(_cased_characters())
    for code in cased:
        character = chr(code)
        for mapped in (character.lower(), character.upper()):
            if mapped == character:
                continue
            if len(mapped) == 1:  # one class: its root is its smallest character
                a, b = root(code), root(ord(mapped))
                parent[max(a, b)] = min(a, b)
            else:
                expansions.setdefault(code, []).append(mapped)
    classes: dict[int, list[int]] = {}
    for code in {*cased, *parent, *parent.values()}:
        classes.setdefault(root(code), []).append(code)

    @functools.cache
    def key(code: int) -> str:
        # A class one of whose characters maps to several has their keys (ß, ẞ: "SS"); otherwise
        # the key is its smallest character.
        members = classes.get(root(code), [code])
        several = sorted({"".join(key(ord(c)) for c in mapped)
                          for member in members for mapped in expansions.get(member, ())})
        return several[0] if several else chr(root(code))

    return {code: key(code) for members in classes.values() for code in members if key(code) != chr(code)}


def _cased_characters() -> Iterator[int]:
    """The characters that LCASE or UCASE change, found block by block (most blocks have none)."""
    everything = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))
    for start in range(0, len(everything), 512):
        block = everything[start:start + 512]
        if block.lower() != block or block.upper() != block:
            yield from (ord(c) for c in block if c.lower() != c or c.upper() != c)


@dataclass(frozen=True, slots=True)
class _Column:
    """One predicate's distinct string literals, and their folds, each ended by the separator,
    in one string (so that one ``str.find`` searches them all)."""

    folded: str
    starts: list[int]
    """Where each literal's fold begins in ``folded``, and its length at the end."""
    literals: list[Literal]


class LiteralIndex:
    """The string literals of one store, per predicate, read when first asked for."""

    def __init__(self, store: ox.Store, *, min_literals: int = 1000) -> None:
        self._store = store
        self.min_literals = min_literals
        """Fewer literals of a predicate are read fast enough by the engine: not worth narrowing."""
        self._columns: dict[str, _Column | None] = {}
        self._lock = threading.Lock()

    def candidates(self, predicate: str, text: str) -> list[Literal] | None:
        """Every distinct string literal (``xsd:string`` or language-tagged) that is an object of
        ``predicate`` and whose lexical form contains ``text`` in some case, and perhaps others;
        None when ``text`` has a character outside :data:`ALPHABET`, is empty, or when the
        predicate has fewer than ``min_literals`` or more than :data:`MAX_LITERALS` (or they
        took longer than :data:`READ_SECONDS` to read), or too many pass
        (:data:`MAX_CANDIDATES`, :data:`SHARE`)."""
        if not text or not ALPHABET.issuperset(text):
            return None
        column = self._column(predicate)
        if column is None or len(column.literals) < self.min_literals:
            return None
        limit = min(MAX_CANDIDATES, len(column.literals) // SHARE)
        needle = fold(text)
        found: list[Literal] = []
        position = column.folded.find(needle)
        while position >= 0:
            index = bisect.bisect_right(column.starts, position) - 1
            found.append(column.literals[index])
            if len(found) > limit:
                return None
            position = column.folded.find(needle, column.starts[index + 1])
        return found

    def _column(self, predicate: str) -> _Column | None:
        with self._lock:
            if predicate in self._columns:
                return self._columns[predicate]
            if next(self._store.quads_for_pattern(None, ox.NamedNode(predicate), None, None), None) is None:
                return _Column("", [0], [])  # not kept: the predicates a client makes up would pile up
            column = self._columns[predicate] = self._read(predicate)
            return column

    def _read(self, predicate: str) -> _Column | None:
        literals: dict[ox.Literal, None] = {}
        deadline = time.monotonic() + READ_SECONDS
        quads = self._store.quads_for_pattern(None, ox.NamedNode(predicate), None, None)
        for read, quad in enumerate(quads):
            term = quad.object
            if isinstance(term, ox.Literal) and term.datatype.value in _STRING_TYPES:
                literals[term] = None
                if len(literals) > MAX_LITERALS:
                    return None
            if read % 4096 == 4095 and time.monotonic() > deadline:
                log.info("the literals of %s are not indexed: more than %g s to read", predicate,
                         READ_SECONDS)
                return None
        starts: list[int] = []
        parts: list[str] = []
        end = 0
        for term in literals:
            starts.append(end)
            part = fold(term.value) + _SEPARATOR
            parts.append(part)
            end += len(part)
        starts.append(end)
        return _Column("".join(parts), starts, [Literal(t.value, IRI(t.datatype.value), t.language)
                                                for t in literals])
