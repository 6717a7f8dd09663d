"""The errors of reading a SPARQL query: where in the text, what was found, what was expected.

Each is a :class:`~lod.errors.LodError` carrying its HTTP status (a bad query is the client's
400; an update sent to a query endpoint is refused with 403) and a ``ValueError``, which is what
a caller that knows nothing of ``lod`` expects from a parser.
"""

from __future__ import annotations

from ..errors import LodError


class SparqlSyntaxError(LodError, ValueError):
    """The text is not a SPARQL 1.1 query this server will run.

    ``line`` and ``column`` are 1-based and count characters (code points); ``offset`` is the
    0-based character offset into the text; ``reason`` is the message without the position.
    ``str(error)`` reads ``line 3, column 5: expected '}' or a triple pattern, found 'FOO'``.
    """

    status = 400

    def __init__(self, reason: str, *, text: str, offset: int) -> None:
        offset = max(0, min(offset, len(text)))
        self.reason = reason
        self.offset = offset
        self.line = text.count("\n", 0, offset) + 1
        self.column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        super().__init__(f"line {self.line}, column {self.column}: {reason}")


class LimitExceeded(SparqlSyntaxError):
    """The query is nested deeper, or chains more operands, than the engine survives.

    ``limit`` names the limit (a key of :data:`lod.sparql.limits.LIMITS`)."""

    def __init__(self, reason: str, *, text: str, offset: int, limit: str) -> None:
        self.limit = limit
        super().__init__(reason, text=text, offset=offset)


class UpdateNotAllowed(SparqlSyntaxError):
    """The text is a SPARQL Update request (``keyword`` is its first operation's keyword, upper
    case); a query endpoint refuses it (403) rather than calling it malformed."""

    status = 403

    def __init__(self, keyword: str, *, text: str, offset: int) -> None:
        self.keyword = keyword
        super().__init__(f"{keyword} is a SPARQL Update operation; this endpoint only answers queries",
                         text=text, offset=offset)
