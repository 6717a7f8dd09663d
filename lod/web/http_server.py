"""The HTTP server inside each ``lod serve`` worker: waitress, with the limits and deadlines of
docs/operations.md and an access log in the combined format.

waitress reads every request whole (request line, headers and body) into a buffer in one event loop
before a thread runs the app, so a client that sends slowly costs a buffer and a descriptor, never
one of the ``threads``. What waitress leaves open is closed here: it never times out a connection
whose response is being written, so a client that stops reading, or reads a byte now and then,
would keep the response's buffers (and the spooled result behind them) for ever; ``sweep`` closes
such connections after ``client_timeout`` seconds of silence or ``response_timeout`` seconds in all.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import socket
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.buffers import ReadOnlyFileBasedBuffer
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error, RequestHeaderFieldsTooLarge

from lod.settings import Settings

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

MAX_LINE = 8190
"""Longest request line, and longest header line, in bytes (gunicorn's and Apache's limit)."""
MAX_FIELDS = 100
"""Most header fields in one request."""
MAX_HEADER_BYTES = 64 * 1024
"""Longest header section (request line and all headers): what a client that never finishes its
headers can make the server hold."""
BACKLOG = 2048
"""Connections the kernel queues for the workers to accept."""
LINGER_SECONDS = 2.0
LINGER_BYTES = 1 << 20
"""After refusing a request, the server reads and drops what the client goes on sending for this
long, up to this much, before it closes the connection."""


class UriTooLong(Error):
    code = 414
    reason = "URI Too Long"


class LimitedParser(HTTPRequestParser):
    """waitress' parser, which limits only the header section as a whole, with the per-line and
    per-field limits of RFC 9112 section 3 and RFC 6585 section 5: 414 for a long request line,
    431 for a long header line or too many headers."""

    def received(self, data: bytes) -> int:
        window = MAX_LINE + 2  # the longest request line and its CRLF
        if self.body_rcv is None and not self.completed and len(self.header_plus) + len(data) >= window:
            # Checked as the header arrives (parse_header checks it again at its end): a request
            # line already too long is answered now, not once 64 KiB have come.
            head = self.header_plus
            if len(head) < window:
                head += data[:window]
            if head.find(b"\r\n", 0, window) < 0:
                return self._refuse_line(data)
        return super().received(data)

    def _refuse_line(self, data: bytes) -> int:
        self._refuse(UriTooLong(f"the request line is longer than {MAX_LINE} bytes; "
                                "send a long query with POST"))
        self.completed = True
        self.header_plus = b""
        return len(data)

    def parse_header(self, header_plus: bytes) -> None:
        request_line, _, fields = header_plus.partition(b"\r\n")
        if len(request_line) > MAX_LINE:
            self._refuse(UriTooLong(f"the request line is longer than {MAX_LINE} bytes; "
                                    "send a long query with POST"))
            return
        lines = fields.rstrip(b"\r\n").split(b"\r\n") if fields.strip() else []  # it ends in CRLF CRLF
        if len(lines) > MAX_FIELDS:
            self._refuse(RequestHeaderFieldsTooLarge(f"more than {MAX_FIELDS} header fields"))
            return
        if any(len(line) > MAX_LINE for line in lines):
            self._refuse(RequestHeaderFieldsTooLarge(f"a header field is longer than {MAX_LINE} bytes"))
            return
        super().parse_header(header_plus)

    def _refuse(self, error: Error) -> None:
        # Left without a body reader, the request counts as complete: the channel answers the
        # error and closes the connection, ignoring whatever else the client sends.
        self.error = error


class DeadlineChannel(HTTPChannel):
    """A connection whose response has deadlines: ``response_started`` is when its first byte was
    handed to the connection (None between responses), ``last_activity`` when a byte last went in
    or out."""

    task_class: type[WSGITask]
    error_task_class: type[ErrorTask]
    parser_class = LimitedParser
    response_started: float | None = None
    file_bytes = 0
    """Body bytes handed over as files (``wsgi.file_wrapper``) in the current response."""

    refused = False
    """Set when the response refuses the request: the connection is then closed by lingering."""
    linger_until: float | None = None
    lingered = 0

    def write_soon(self, data: bytes) -> int:
        if self.response_started is None:
            # Silence is counted from here: until now the client had nothing to read.
            self.response_started = self.last_activity = time.time()
        if isinstance(data, ReadOnlyFileBasedBuffer):
            self.file_bytes += len(data)
        return super().write_soon(data)

    def handle_write(self) -> None:
        super().handle_write()
        if not self.total_outbufs_len and not self.requests:
            self.response_started = None  # the event loop sent the last of it

    def handle_close(self) -> None:
        if self.refused and self.linger_until is None and self.connected and not self.total_outbufs_len:
            # A refused request may still be arriving (a body too large, a line too long); closed
            # with unread data, the socket would send a reset, which can destroy the answer before
            # the client reads it. So: stop sending, read and drop what comes for a moment, close.
            try:
                cast(socket.socket, self.socket).shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the client is gone already
            else:
                self.linger_until = time.time() + LINGER_SECONDS
                self.will_close = self.close_when_flushed = False
                return
        super().handle_close()

    def abort(self) -> None:
        """Closes the connection with a reset: what the kernel still holds for the client is
        dropped too, rather than kept (up to megabytes) for a client that does not read it."""
        with contextlib.suppress(OSError):
            cast(socket.socket, self.socket).setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                        struct.pack("ii", 1, 0))
        HTTPChannel.handle_close(self)

    def readable(self) -> bool:
        return self.linger_until is not None or super().readable()

    def handle_read(self) -> None:
        if self.linger_until is None:
            super().handle_read()
            return
        try:
            self.lingered += len(self.recv(64 * 1024))  # closes the channel at the end of the stream
        except OSError:
            super().handle_close()
            return
        if self.connected and self.lingered >= LINGER_BYTES:
            super().handle_close()

    def overdue(self, now: float, *, client_timeout: float, response_timeout: float) -> bool:
        """Whether the client has had this connection too long: a response started more than
        ``response_timeout`` seconds ago, or ``client_timeout`` seconds without a byte from a
        client that is to send a request or read a response (not while the app computes one)."""
        if self.linger_until is not None:
            return now > self.linger_until
        started = self.response_started
        if started is not None and now - started > response_timeout:
            return True
        waiting_for_client = not self.requests or self.total_outbufs_len > 0
        return waiting_for_client and now - self.last_activity > client_timeout


class AppTask(WSGITask):
    """Runs the app for one request and writes its access line."""

    channel: DeadlineChannel
    body_bytes = 0

    def write(self, data: bytes) -> None:
        if data and self.has_body:
            self.body_bytes += len(data)
        super().write(data)

    def service(self) -> None:
        self.channel.file_bytes = 0
        try:
            super().service()
        except ClientDisconnected:
            self._log()
            raise
        except Exception:
            if self.wrote_header:  # else waitress answers 500 with a RefusalTask, which logs it
                self._log()
            raise
        else:
            self._log()

    def _log(self) -> None:
        channel = self.channel
        if not channel.total_outbufs_len:
            channel.response_started = None  # all of it went out from this thread
        environ = self.environ or {}
        cast(WorkerServer, channel.server).access_log(combined_line(
            remote=channel.addr[0] if channel.addr else "-",
            user=_basic_user(environ.get("HTTP_AUTHORIZATION")),
            request_line=(f"{environ.get('REQUEST_METHOD', '-')} {environ.get('REQUEST_URI', '-')} "
                          f"{environ.get('SERVER_PROTOCOL', '-')}"),
            status=self.status.split(None, 1)[0],
            size=self.body_bytes + channel.file_bytes,
            referer=environ.get("HTTP_REFERER", "-"),
            agent=environ.get("HTTP_USER_AGENT", "-")))


class RefusalTask(ErrorTask):
    """Answers a request the parser refused (400, 413, 414, 431, 501) and logs it, without the
    request line, which may be what was wrong."""

    channel: DeadlineChannel

    def service(self) -> None:
        self.channel.refused = True
        try:
            super().service()
        finally:
            if not self.channel.total_outbufs_len:
                self.channel.response_started = None
            headers = self.request.headers if isinstance(self.request, HTTPRequestParser) else {}
            cast(WorkerServer, self.channel.server).access_log(combined_line(
                remote=self.channel.addr[0] if self.channel.addr else "-", user="-", request_line="-",
                status=self.status.split(None, 1)[0], size=self.content_length or 0,
                referer=headers.get("REFERER", "-"), agent=headers.get("USER_AGENT", "-")))


DeadlineChannel.task_class = AppTask
DeadlineChannel.error_task_class = RefusalTask


def combined_line(*, remote: str, user: str, request_line: str, status: str, size: int, referer: str,
                  agent: str) -> str:
    """One access line in the combined log format (Apache's, nginx's and gunicorn's default)."""
    when = time.strftime("[%d/%b/%Y:%H:%M:%S %z]")
    return f'{remote} - {user} {when} "{request_line}" {status} {size} "{referer}" "{agent}"\n'


def _basic_user(authorization: str | None) -> str:
    if not authorization or authorization[:6].lower() != "basic ":
        return "-"
    try:
        return base64.b64decode(authorization[6:].strip()).decode("latin-1").split(":", 1)[0] or "-"
    except (binascii.Error, ValueError):
        return "-"


def write_stdout(line: str) -> None:
    """Writes a line to standard output in one system call (short lines from several threads do
    not interleave); a closed output loses the line, never the request."""
    data = line.encode("utf-8", "replace")
    try:
        while data:
            data = data[os.write(1, data):]
    except OSError:
        pass


class _Wakeup(wasyncore.file_dispatcher):
    """The read end of the pipe a signal writes to (``signal.set_wakeup_fd``), so that the event
    loop wakes at once when the worker is asked to stop."""

    def __init__(self, read_fd: int, map: dict[int, Any]) -> None:
        super().__init__(read_fd, map=map)  # type: ignore[arg-type]  # the stubs say a file object
        os.close(read_fd)  # file_dispatcher works on a duplicate

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self.recv(512)


class WorkerServer(TcpWSGIServer):
    """waitress on a listening socket shared with the other workers, run by ``serve`` until
    ``stop`` is called (from a signal handler), then given ``grace`` seconds to finish answering."""

    channel_class = DeadlineChannel

    def __init__(self, app: WSGIApplication, listener: socket.socket, settings: Settings, *,
                 body_limit: int, access_log: Callable[[str], None] = write_stdout) -> None:
        self.access_log = access_log
        self.client_timeout = settings.client_timeout
        self.response_timeout = settings.response_timeout
        self.stopping = False
        self.map: dict[int, Any] = {}
        super().__init__(app, map=self.map, _sock=listener, bind_socket=False, adj=Adjustments(
            **adjustments(settings, body_limit=body_limit)),
            sockinfo=(listener.family, listener.type, listener.proto, listener.getsockname()))
        read_fd, self.wakeup_fd = os.pipe()
        os.set_blocking(self.wakeup_fd, False)
        _Wakeup(read_fd, self.map)
        # waitress counts every entry of its map: this one, its trigger and the wake-up pipe too.
        self.adj.connection_limit = settings.connection_limit + len(self.map)

    def maintenance(self, now: float) -> None:
        """waitress' own clean-up (idle connections only) is replaced by ``sweep``."""

    @property
    def channels(self) -> list[DeadlineChannel]:
        return list(cast(dict[int, DeadlineChannel], self.active_channels).values())

    def sweep(self, now: float) -> None:
        """Closes the connections past ``client_timeout`` or ``response_timeout``; a thread blocked
        writing to one of them is released (waitress raises ClientDisconnected in it)."""
        for channel in self.channels:
            if not channel.overdue(now, client_timeout=self.client_timeout,
                                   response_timeout=self.response_timeout):
                continue
            if channel.requests or channel.total_outbufs_len:
                channel.abort()
            else:  # an idle connection, or a request never finished: nothing to drop
                channel.handle_close()

    def stop(self) -> None:
        """Asks ``serve`` to stop; safe in a signal handler."""
        self.stopping = True

    def serve(self, *, grace: float, orphaned: Callable[[], bool]) -> None:
        """Answers requests until ``stop`` or until ``orphaned()`` (the master is gone); then stops
        accepting, and answers the requests in flight for at most ``grace`` seconds."""
        interval = min(1.0, self.client_timeout / 4, self.response_timeout / 4)
        next_sweep = 0.0
        while not self.stopping:
            wasyncore.poll2(interval, self.map)
            now = time.time()
            if now >= next_sweep:
                next_sweep = now + interval
                self.sweep(now)
                if orphaned():
                    self.stopping = True
        self.accepting = False  # the other workers, and the next server, take new connections
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            busy = False
            for channel in self.channels:
                if channel.requests or channel.total_outbufs_len:
                    busy = True
                else:  # idle, or a request still arriving: closed now
                    channel.handle_close()
            if not busy:
                break
            wasyncore.poll2(0.1, self.map)
            self.sweep(time.time())


def adjustments(settings: Settings, *, body_limit: int) -> dict[str, Any]:
    """waitress' settings for ``settings``; ``body_limit`` is the largest request body the app takes."""
    return {
        "threads": settings.threads,
        "connection_limit": settings.connection_limit,
        "backlog": BACKLOG,
        "max_request_header_size": MAX_HEADER_BYTES,
        "max_request_body_size": body_limit + 1,  # waitress refuses a body of this size or more
        # What a slow client may make a worker hold in memory; more goes to a temporary file.
        "inbuf_overflow": 64 * 1024,
        "outbuf_overflow": 256 * 1024,
        # A thread writes a whole result (at most max_result_mb, or remote_max_mb from a remote
        # store) into the connection's buffer and goes on to the next request, rather than waiting
        # for a slow reader; past this it would wait.
        "outbuf_high_watermark": (max(settings.max_result_mb, settings.remote_max_mb) + 1) * 1_000_000,
        "recv_bytes": 64 * 1024,
        "ident": "lod",
        "server_name": settings.host,
        "asyncore_use_poll": True,  # select() fails past descriptor 1024
        "log_socket_errors": False,  # a client that goes away is no error of the server's
        "expose_tracebacks": False,
        # The app reads no X-Forwarded-* header; passed through as gunicorn did, not cleared.
        "clear_untrusted_proxy_headers": False,
    }
