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
    start: int
    """Where the token starts in the text after codepoint escapes are decoded (see :func:`decoded`)."""


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def decoded(text: str) -> str:
    """SPARQL 1.1 §19.2: codepoint escapes are processed before parsing, anywhere in the text."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def tokens(text: str) -> Iterator[Token]:
    """The tokens of a SPARQL text (decoded), without white space and comments."""
    for match in _TOKENS.finditer(decoded(text)):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield Token(kind, match.group(), match.start())


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
    """A ``SERVICE`` clause: its endpoint IRI (None when it is a variable or a prefixed name),
    whether it is SILENT, and where the endpoint's token lies in the decoded text."""

    endpoint: str | None
    silent: bool
    span: tuple[int, int] | None = None


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
        if target is not None and target.kind == "iri":
            span = (target.start, target.start + len(target.text))
            calls.append(ServiceCall(target.text[1:-1], silent, span))
        else:
            calls.append(ServiceCall(None, silent))
    return calls


def with_endpoints(text: str, calls: list[ServiceCall], endpoints: list[str]) -> str:
    """The decoded query with each call's endpoint IRI replaced by the one given for it."""
    result = decoded(text)
    for call, endpoint in sorted(zip(calls, endpoints, strict=True),
                                 key=lambda pair: pair[0].span or (0, 0), reverse=True):
        if call.span is None:
            raise ValueError("only SERVICE calls with an IRI can be redirected")
        start, end = call.span
        result = f"{result[:start]}<{endpoint}>{result[end:]}"
    return result
