"""What a SPARQL request asks for, read from its tokens without evaluating it.

Oxigraph evaluates ``SERVICE`` by fetching the named endpoint itself, and it cannot be told not
to; so a query is read token by token (strings, IRIs, comments and names are told apart, as the
SPARQL 1.1 grammar's terminals do) to find update operations and ``SERVICE`` clauses before it
reaches the engine.
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


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape(text: str) -> str:
    """SPARQL 1.1 §19.2: codepoint escapes are processed before parsing, anywhere in the text."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def tokens(text: str) -> Iterator[Token]:
    """The tokens of a SPARQL text, without white space and comments."""
    for match in _TOKENS.finditer(_unescape(text)):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield Token(kind, match.group())


def is_update(text: str) -> bool:
    """Whether the first operation keyword (after PREFIX and BASE) is an update's."""
    for token in tokens(text):
        if token.kind == "name":
            word = token.text.upper()
            if word in UPDATE_KEYWORDS:
                return True
            if word in QUERY_KEYWORDS:
                return False
    return False


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """A ``SERVICE`` clause: its endpoint IRI (None when it is a variable) and whether SILENT."""

    endpoint: str | None
    silent: bool


def service_calls(text: str) -> list[ServiceCall]:
    """Every ``SERVICE`` clause of a query, in order."""
    calls = []
    stream = list(tokens(text))
    for position, token in enumerate(stream):
        if token.kind != "name" or token.text.upper() != "SERVICE":
            continue
        following = stream[position + 1: position + 3]
        silent = bool(following) and following[0].kind == "name" and following[0].text.upper() == "SILENT"
        target = following[1] if silent and len(following) > 1 else following[0] if following else None
        endpoint = target.text[1:-1] if target is not None and target.kind == "iri" else None
        calls.append(ServiceCall(endpoint, silent))
    return calls
