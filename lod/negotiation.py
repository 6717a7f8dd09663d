"""HTTP content negotiation on the ``Accept`` header (RFC 9110 §12.5.1), as one pure function.

No web framework is imported here: the web layer passes the header text in and gets a media type
(or ``None``, meaning "406 Not Acceptable") back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MediaRange", "negotiate", "parse_accept"]

# RFC 9110 §5.6.2 token characters.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Lenient on the digits (".5" and "0.0001" are seen in the wild, e.g. Java's default "q=.2"),
# strict on the range: anything outside 0..1 is malformed.
_QVALUE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One media range of an ``Accept`` header, e.g. ``text/*;q=0.5``.

    ``type`` and ``subtype`` are lower-cased and may be ``*``; ``params`` are the parameters other
    than ``q`` as (lower-cased name, value) pairs in header order; ``q`` is the weight.
    """

    type: str
    subtype: str
    q: float = 1.0
    params: tuple[tuple[str, str], ...] = ()

    @property
    def specificity(self) -> int:
        """4 for ``type/subtype;param``, 3 ``type/subtype``, 2 ``type/*``, 1 ``*/*``."""
        if self.type == "*":
            return 1
        if self.subtype == "*":
            return 2
        return 4 if self.params else 3

    def matches(self, media_type: str) -> bool:
        """Whether the range covers ``media_type`` (parameters on either side are not compared)."""
        main, _, sub = media_type.partition(";")[0].strip().lower().partition("/")
        if self.type == "*":
            return True
        return self.type == main and self.subtype in ("*", sub)


def parse_accept(accept: str) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header, in header order, skipping malformed ones.

    Never raises: a range without a slash, with a wildcard type but a concrete subtype, or with a
    ``q`` that is not a number from 0 to 1 is dropped; a parameter without ``=`` is dropped.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/html, */*;q=0.8, text")]
    [('text', 'html', 1.0), ('*', '*', 0.8)]
    """
    ranges: list[MediaRange] = []
    for element in _split(accept, ","):
        media_range = _parse_range(element)
        if media_range is not None:
            ranges.append(media_range)
    return ranges


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside quoted strings (RFC 9110 §5.6.4).

    A hand-written scan rather than a regular expression: it stays linear on hostile input such
    as thousands of unbalanced quotes, which made a backtracking pattern take most of a second.
    An unterminated quoted string runs to the end of the text.
    """
    if '"' not in text:
        return text.split(separator)
    parts: list[str] = []
    start, quoted, escaped = 0, False, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == separator:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _parse_range(element: str) -> MediaRange | None:
    parts = _split(element, ";")
    main, slash, sub = parts[0].strip().lower().partition("/")
    main, sub = main.strip(), sub.strip()
    if not slash or not _TOKEN.fullmatch(main) or not _TOKEN.fullmatch(sub):
        return None
    if main == "*" and sub != "*":
        return None
    q = 1.0
    params: list[tuple[str, str]] = []
    for part in parts[1:]:
        name, equals, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not equals or not _TOKEN.fullmatch(name):
            continue
        if name == "q":
            if not _QVALUE.fullmatch(value):
                return None
            q = float(value)
            if q > 1.0:
                return None
        else:
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params.append((name, value))
    return MediaRange(main, sub, q, tuple(params))


def negotiate(accept: str | None, offered: Sequence[str], *, default: str | None = None) -> str | None:
    """The media type from ``offered`` that the client prefers, or ``None`` if it accepts none of them.

    Each offered type takes the ``q`` of the most specific range that matches it (so
    ``text/*;q=0.5, text/csv;q=0`` excludes ``text/csv``, RFC 9110 §12.5.1); if equally specific
    ranges disagree, the highest ``q`` wins. ``q=0`` means "not acceptable". Among the types with
    the highest ``q``, the one matched by the more specific range wins, then the one listed
    first in ``offered`` (``offered`` is the server's order of preference).

    Simplification: parameters other than ``q`` are not compared, on either side; they only
    make a range more specific. ``text/plain;format=flowed`` thus matches ``text/plain``.

    Without an ``Accept`` header, with an empty one, or with one in which no range parses, the
    client accepts anything (RFC 9110 §12.5.1): the result is ``default`` if given, else
    ``offered[0]``. Media types compare case-insensitively; the result is returned exactly as
    spelled in ``offered``.

    >>> negotiate("text/csv;q=0.5, application/sparql-results+json",
    ...           ["application/sparql-results+xml", "application/sparql-results+json", "text/csv"])
    'application/sparql-results+json'
    """
    return _negotiate(accept, tuple(offered), default)


# A server sees the same few Accept headers over and over, and the answer depends on nothing else.
@functools.lru_cache(maxsize=512)
def _negotiate(accept: str | None, offered: tuple[str, ...], default: str | None) -> str | None:
    if default is not None and default not in offered:
        raise ValueError(f"default {default!r} is not one of the offered media types {list(offered)!r}")
    ranges = parse_accept(accept) if accept else []
    if not ranges:
        if default is not None:
            return default
        return offered[0] if offered else None

    best: str | None = None
    best_key = (0.0, 0)
    for media_type in offered:
        q, specificity = _weight(media_type, ranges)
        # Strictly greater: on a tie the earlier offered type stays.
        if q > 0.0 and (q, specificity) > best_key:
            best, best_key = media_type, (q, specificity)
    return best


def _weight(media_type: str, ranges: Sequence[MediaRange]) -> tuple[float, int]:
    """The (q, specificity) of the most specific range that matches ``media_type``; (0, 0) if none."""
    q, specificity = 0.0, 0
    for media_range in ranges:
        if not media_range.matches(media_type):
            continue
        if media_range.specificity > specificity:
            q, specificity = media_range.q, media_range.specificity
        elif media_range.specificity == specificity:
            q = max(q, media_range.q)
    return q, specificity
