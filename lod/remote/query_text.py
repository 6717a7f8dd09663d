"""The tokens of a SPARQL text, for the federation client's conveniences (the form of a query,
whether it already orders or pages its results).

Not a security boundary: what the endpoint lets a query do is decided on the parsed query
(:mod:`lod.query.prepare`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_TOKENS = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<variable>[?$][^\s(){}\[\].,;'"<>=!&|+*/^#-]+)
  | (?P<name>[^\s(){}\[\].,;'"<>=!&|+*/^#?$@:-][^\s(){}\[\],;'"<>=!&|+*/^#?$@]*
              (?::[^\s(){}\[\],;'"<>=!&|+*/^#?$@]*)?|:[^\s(){}\[\],;'"<>=!&|+*/^#?$@]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE",
                             "ADD", "WITH"})
QUERY_KEYWORDS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    """Where the token starts in the text after codepoint escapes are decoded (see :func:`decoded`)."""


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def decoded(text: str) -> str:
    """SPARQL 1.1 §19.2: codepoint escapes are processed before parsing, anywhere in the text
    (an escape of no code point stays as it is, for the parser to report)."""
    return _ESCAPE.sub(_codepoint, text)


def _codepoint(match: re.Match[str]) -> str:
    number = int(match.group(1) or match.group(2), 16)
    return chr(number) if number <= 0x10FFFF else match.group()


def tokens(text: str) -> Iterator[Token]:
    """The tokens of a SPARQL text (decoded), without white space and comments."""
    for match in _TOKENS.finditer(decoded(text)):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield Token(kind, match.group(), match.start())
