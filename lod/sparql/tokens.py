"""The lexer: SPARQL 1.1 text to tokens, following the grammar's terminals (§19.8).

One compiled regular expression with a named group per terminal. Python tries alternatives in
order, not by length, so they are ordered such that the first to match is the longest, as the
grammar requires: an IRIREF before ``<``, ``PNAME_LN`` before ``PNAME_NS`` before a bare word,
signed numbers before ``+`` and ``-``. Longest match is what makes ``SERVICE:x`` one prefixed
name rather than ``SERVICE`` and ``:x``, and ``<?a&&?b>`` an IRI (W3C test syn-bad-26).

Codepoint escapes (``\\uXXXX``, ``\\UXXXXXXXX``) are decoded inside IRIs and strings only, as
pyoxigraph 0.5.13 does and as the W3C tests' community note says ("\\u escapes in URIs and
strings only"), not in a pass over the whole text as §19.2 describes: elsewhere a backslash is a
syntax error, so ``\\u0053ERVICE`` is never a keyword. An escape inside a string stands for its
character and ends nothing (``'\\u0027'`` is a string holding an apostrophe), as in Oxigraph. An
escape of a surrogate or of a number past U+10FFFF is a syntax error.

A token is a tuple ``(key, text, start)``. ``key`` is what the parser dispatches on: for a
keyword its upper-case spelling (``a`` stays ``a``, the only case-sensitive keyword), for
punctuation its text, otherwise the lower-case name of its terminal (``iri``, ``pname``,
``pname_ns``, ``bnode``, ``var``, ``langtag``, ``integer``, ``decimal``, ``double``, ``string``,
``nil``, ``anon``, ``error``, ``eof``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import cast

from .errors import SparqlSyntaxError

Token = tuple[str, str, int]

# §19.8 [164]-[166]: the characters of names.
_BASE = ("A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
         "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
_U = _BASE + "_"
_CHARS = _U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
# PN_PREFIX and PN_LOCAL may hold dots but not end with one. The grammar says so with
# ((X|'.')* X)?; a run of dots followed by a character that may go on says the same, without
# the backtracking that made the first form the lexer's largest cost. The quantifiers are
# possessive: a name is always taken whole (what could follow a shorter part, a colon, is a
# name character itself), and a nested repetition that could backtrack would take exponential
# time on a long name that fails to match.
_PN_PREFIX = f"[{_BASE}](?:[{_CHARS}]++|\\.++(?=[{_CHARS}]))*+"
_PN_LOCAL = f"(?:[{_U}:0-9]|{_PLX})(?:[{_CHARS}:]++|{_PLX}|\\.++(?=[{_CHARS}:]|{_PLX}))*+"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_ESCAPE = rf"\\[tbnrf\"'\\]|{_UCHAR}"
_EXPONENT = r"[eE][+-]?[0-9]+"
_IRI_CHAR = r'[^<>"{}|^`\\\x00-\x20]'

# White space and comments are skipped at the start of every match rather than matched on their
# own, and the commonest tokens come first, so most positions try few alternatives (each failed
# one costs about 0.1 µs). Where two terminals can start alike, the longer comes first: an IRI
# before '<', NIL before '(', ANON before '[', a number before '+', '-' and '.', a variable
# before '?', a prefixed name before a bare word; a keyword is taken early only when no name
# character or colon follows it.
_TOKEN = re.compile(
    rf"""
    (?:[ \t\r\n]++|\#[^\r\n]*+)*+
    (?:
      (?P<punct>[{{}});,]|\((?![ \t\r\n]*\))|\.(?![0-9]))
    | (?P<word>[A-Za-z][A-Za-z0-9_]*)(?![{_CHARS}:]|\.+[{_CHARS}])
    | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
    | (?P<var>[?$][{_U}0-9][{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)
    | (?P<iri><{_IRI_CHAR}*(?:(?:{_UCHAR}){_IRI_CHAR}*)*>)
    | (?P<operator>\^\^|&&|\|\||!=|<=|>=|[*/|^=!<>?])
    | (?P<string>\"\"\"(?:(?:"|"")?(?:[^"\\]|{_ESCAPE}))*\"\"\"
              |'''(?:(?:'|'')?(?:[^'\\]|{_ESCAPE}))*'''
              |"[^"\\\n\r]*(?:(?:{_ESCAPE})[^"\\\n\r]*)*"
              |'[^'\\\n\r]*(?:(?:{_ESCAPE})[^'\\\n\r]*)*')
    | (?P<number>[+-]?(?:[0-9]+\.[0-9]*{_EXPONENT}|[0-9]*\.?[0-9]+(?:{_EXPONENT})?))
    | (?P<nil>\([ \t\r\n]*\))
    | (?P<anon>\[[ \t\r\n]*\])
    | (?P<bnode>_:[{_U}0-9](?:[{_CHARS}]++|\.++(?=[{_CHARS}]))*+)
    | (?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
    | (?P<other>[(\[\].+\-])
    | (?P<name>[A-Za-z][A-Za-z0-9_]*)
    | (?P<eof>$)
    | (?P<error>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)

# Each alternative is one group and holds no other: a match's last group is its terminal.
_KINDS = {index: name for name, index in _TOKEN.groupindex.items()}
assert len(_KINDS) == _TOKEN.groups
_AS_IS = frozenset(index for index, name in _KINDS.items() if name in ("punct", "operator", "other"))
_WORDS = frozenset(index for index, name in _KINDS.items() if name in ("word", "name"))
_TERMS = frozenset(index for index, name in _KINDS.items() if name in ("iri", "pname", "string"))
SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 surrogate pair, which no text may hold: it stands for no character."""
_CODEPOINT = re.compile(_UCHAR)
_STRING_ESCAPE = re.compile(_ESCAPE)
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_NOT_IN_IRIREF = re.compile('[<>"{}|^`\\\\\x00-\x20]')


def tokens(text: str) -> Iterator[Token]:
    """The tokens of ``text`` without white space and comments, ending with an ``eof`` token,
    each read when asked for.

    Reading on demand matters: the parser stops at the first misplaced token, so the lexer never
    spends more on a malformed text than the part read so far (a text such as ``x.x.x.x...``,
    where each name makes the lexer look ahead for a colon to the end of the run, would otherwise
    take time quadratic in its length).

    Raises :class:`SparqlSyntaxError` for a character the grammar has no place for; the parser
    reports any other misplaced token, where it knows what it expected instead."""
    surrogate = SURROGATE.search(text)
    if surrogate:
        raise SparqlSyntaxError(f"U+{ord(surrogate.group()):04X} is half of a UTF-16 surrogate pair, "
                                "not a character", text=text, offset=surrogate.start())
    for match in _TOKEN.finditer(text):
        index = cast(int, match.lastindex)  # by number, not by name: the most frequent lookups
        token = match.group(index)
        start = match.start(index)
        if index in _AS_IS:
            yield token, token, start
        elif index in _WORDS:
            yield ("a" if token == "a" else token.upper()), token, start
        else:
            kind = _KINDS[index]
            if kind == "number":
                exact = "decimal" if "." in token else "integer"
                yield ("double" if "e" in token or "E" in token else exact), token, start
            elif kind == "pname":
                # PNAME_NS when nothing follows the first colon, PNAME_LN otherwise.
                yield ("pname_ns" if token.index(":") == len(token) - 1 else "pname"), token, start
            elif kind == "eof":
                break
            elif kind == "error":
                reason, start = _lexical_problem(text, start)
                raise SparqlSyntaxError(reason, text=text, offset=start)
            else:
                yield kind, token, start
    yield "eof", "", len(text)


def term_at(text: str, offset: int) -> Token | None:
    """The IRI, prefixed name (not a bare prefix) or string that :func:`tokens` reads at
    ``offset`` when a token starts there; None for anything else."""
    match = _TOKEN.match(text, offset)
    index = cast(int, match.lastindex) if match else 0
    if index not in _TERMS or match is None or match.start(index) != offset:
        return None
    token = match.group(index)
    if _KINDS[index] == "pname":
        return None if token.index(":") == len(token) - 1 else ("pname", token, offset)
    return _KINDS[index], token, offset


def is_cut_name(text: str, token: Token) -> bool:
    """Whether ``token``, a keyword or bare word, is followed by what could go on in a prefixed
    name: to find that it is none, the lexer read the whole run of name characters after it. A
    query holds no such word (it is always a syntax error there), but a text of many, such as
    ``x.x.x.x...``, costs time quadratic in its length to read to its end."""
    return _NAME_GOES_ON.match(text, token[2] + len(token[1])) is not None


_NAME_GOES_ON = re.compile(rf"[{_CHARS}:]|\.+[{_CHARS}]")


def tokenize(text: str) -> list[Token]:
    """All the tokens of ``text`` at once (see :func:`tokens`)."""
    return list(tokens(text))


def _lexical_problem(text: str, offset: int) -> tuple[str, int]:
    """Why no token starts at ``offset``, in words for the person who wrote the query, and
    where the problem starts."""
    char = text[offset]
    if char in "'\"" and text[max(0, offset - 2):offset] == char * 2:
        # The first two quotes of an unclosed long string were read as an empty string.
        return f"this string, opened with {char * 3}, is not closed", offset - 2
    if char in "'\"":
        line_end = len(text) if (end := text.find("\n", offset)) < 0 else end
        backslash = text.find("\\", offset + 1, line_end)
        while backslash >= 0 and _STRING_ESCAPE.match(text, backslash):
            backslash = text.find("\\", backslash + 2, line_end)
        if backslash >= 0:
            return (f"the escape {text[backslash:backslash + 2]!r} is not allowed in a string; allowed are "
                    "\\t \\b \\n \\r \\f \\\" \\' \\\\ \\uXXXX \\UXXXXXXXX"), offset
        return "this string is not closed before the end of the line", offset
    if char == "\\":
        if offset and re.match(f"[{_CHARS}.:%]", text[offset - 1]):
            return (f"the escape {text[offset:offset + 2]!r} is not allowed in a prefixed name; allowed "
                    "are a backslash before one of _ ~ . - ! $ & ' ( ) * + , ; = / ? # @ %"), offset
        return ("a backslash outside a string or an IRI: codepoint escapes such as \\u0041 are only "
                "allowed inside strings and IRIs"), offset
    return f"unexpected character {char!r} (U+{ord(char):04X})", offset


class EscapeError(ValueError):
    """A codepoint escape that stands for no character; ``index`` is where it starts in the token."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def _codepoint(escape: str, index: int) -> str:
    number = int(escape[2:], 16)
    if number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
        raise EscapeError(f"the escape {escape} does not stand for a character (U+{number:04X} is "
                          + ("past U+10FFFF)" if number > 0x10FFFF else "half of a surrogate pair)"), index)
    return chr(number)


def string_value(token: str) -> str:
    """The characters a string token stands for: quotes removed, escapes decoded."""
    quote = 3 if token[:3] in ("'''", '"""') else 1
    body = token[quote:-quote]
    if "\\" not in body:
        return body

    def decode(match: re.Match[str]) -> str:
        escape = match.group()
        if len(escape) == 2:
            return _ECHAR[escape[1]]
        return _codepoint(escape, quote + match.start())

    return _STRING_ESCAPE.sub(decode, body)


def iri_value(token: str) -> str:
    """The IRI reference an IRIREF token stands for, codepoint escapes decoded.

    Raises :class:`EscapeError` when an escape stands for no character or for one that an
    IRIREF may not hold (``\\u003E`` is ``>``): such an IRI could not be written back."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    value = _CODEPOINT.sub(lambda match: _codepoint(match.group(), 1 + match.start()), body)
    bad = _NOT_IN_IRIREF.search(value)
    if bad:
        raise EscapeError(f"an escape in this IRI stands for {bad.group()!r}, which an IRI may not hold", 1)
    return value


def local_name(token: str) -> str:
    """The local part of a prefixed name, its backslash escapes (``\\,`` and the like) removed."""
    local = token[token.index(":") + 1:]
    return _LOCAL_ESCAPE.sub(r"\1", local) if "\\" in local else local


def is_pn_local(local: str) -> bool:
    """Whether ``local`` can be written as the local part of a prefixed name without escapes."""
    return _PN_LOCAL_PLAIN.fullmatch(local) is not None


_PN_LOCAL_PLAIN = re.compile(f"(?:[{_U}:0-9]|%[0-9A-Fa-f]{{2}})(?:[{_CHARS}:]++|%[0-9A-Fa-f]{{2}}"
                             f"|\\.++(?=[{_CHARS}:%]))*+")
PN_PREFIX = re.compile(_PN_PREFIX)
VARNAME = re.compile(f"[{_U}0-9][{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*")
BLANK_NODE_LABEL = re.compile(f"[{_U}0-9](?:[{_CHARS}]++|\\.++(?=[{_CHARS}]))*+")
LANGTAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*")
