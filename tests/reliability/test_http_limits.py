"""The request limits of `lod serve`'s HTTP server, at their exact boundaries, on its parser in
process (tests/reliability/test_load.py sends the same over a socket)."""

from __future__ import annotations

import pytest
from waitress.adjustments import Adjustments

from lod.settings import Settings
from lod.web.http_server import (
    MAX_FIELDS,
    MAX_HEADER_BYTES,
    MAX_LINE,
    LimitedParser,
    adjustments,
    combined_line,
)

BODY_LIMIT = 1000
ADJUSTMENTS = Adjustments(**adjustments(Settings(), body_limit=BODY_LIMIT))


def request_line(length: int) -> bytes:
    line = b"GET /" + b"a" * (length - len(b"GET / HTTP/1.1")) + b" HTTP/1.1"
    assert len(line) == length
    return line


def parse(request: bytes, *, split: int | None = None) -> int | None:
    """The status of the parser's refusal, or None when it took the request."""
    parser = LimitedParser(ADJUSTMENTS)
    for part in (request,) if split is None else (request[:split], request[split:]):
        while part and not parser.completed:  # as waitress' channel feeds it: header, then body
            part = part[parser.received(part):]
    assert parser.completed
    return parser.error.code if parser.error else None


@pytest.mark.parametrize("split", [None, 1, MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE + 2, 9000])
@pytest.mark.parametrize(("length", "status"), [(MAX_LINE, None), (MAX_LINE + 1, 414)])
def test_request_line(length: int, status: int | None, split: int | None) -> None:
    assert parse(request_line(length) + b"\r\nHost: x\r\n\r\n", split=split) == status


@pytest.mark.parametrize(("count", "status"), [(MAX_FIELDS, None), (MAX_FIELDS + 1, 431)])
def test_header_fields(count: int, status: int | None) -> None:
    fields = b"".join(b"X-%d: 1\r\n" % n for n in range(count))
    assert parse(b"GET / HTTP/1.1\r\n" + fields + b"\r\n") == status


@pytest.mark.parametrize(("length", "status"), [(MAX_LINE, None), (MAX_LINE + 1, 431)])
def test_header_field_length(length: int, status: int | None) -> None:
    field = b"X: " + b"y" * (length - 3)
    assert parse(b"GET / HTTP/1.1\r\n" + field + b"\r\n\r\n") == status


def test_header_section() -> None:
    fields = b"".join(b"X-%d: %s\r\n" % (n, b"y" * 8000) for n in range(MAX_HEADER_BYTES // 8000 + 1))
    assert parse(b"GET / HTTP/1.1\r\n" + fields + b"\r\n") == 431


@pytest.mark.parametrize(("body", "status"), [(b"zz\r\nabc\r\n0\r\n\r\n", 400),
                                             (b"3\r\nabc\r\n0\r\n\r\n", None)])
def test_chunk_size(body: bytes, status: int | None) -> None:
    assert parse(b"POST /sparql HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body) == status


@pytest.mark.parametrize(("length", "status"), [(BODY_LIMIT, None), (BODY_LIMIT + 1, 413)])
def test_body(length: int, status: int | None) -> None:
    request = b"POST /sparql HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % length + b"q" * length
    assert parse(request) == status


def test_access_line_is_in_the_combined_format() -> None:
    line = combined_line(remote="127.0.0.1", user="-", request_line="GET /healthz HTTP/1.1", status="200",
                         size=69, referer="-", agent="curl/8")
    assert line.startswith("127.0.0.1 - - [")
    assert line.endswith('] "GET /healthz HTTP/1.1" 200 69 "-" "curl/8"\n')
