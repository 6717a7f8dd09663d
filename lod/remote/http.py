"""HTTP to other SPARQL services, in one place: the remote store's endpoints
(:mod:`lod.remote.store`) and any endpoint asked with :class:`lod.remote.client.Endpoint`.

Spoken with :mod:`http.client`, so that what is sent and read stays in hand: an upload is sent
from a file with its ``Content-Length`` (Virtuoso 7 answers a chunked body with 201 and stores
nothing), a response is read as it arrives, each wait is bounded. Credentials go as HTTP Basic,
Digest (RFC 7616, where the service asks for it) or a Bearer token; redirects are not followed,
so credentials go to the configured URLs only, and no message names them or a URL's query string.
(The SERVICE gateway, :mod:`lod.query.gateway`, has an HTTP client of its own: it pins the
addresses it checked, which no other caller needs.)
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import itertools
import json
import os
import secrets
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar
from urllib.parse import urlsplit
from urllib.request import parse_http_list, parse_keqv_list

from lod.errors import LodError

__all__ = ["Credentials", "DigestChallenge", "Exchange", "HttpClient", "NoAnswer", "error_text", "public",
           "read_some"]

_CHUNK = 1 << 16


class NoAnswer(LodError):
    """A service could not be reached, or did not answer in time; says which, not where (the
    caller names the service)."""

    status = 502

    def __init__(self, what: str, *, timed_out: bool, reason: str = "") -> None:
        self.timed_out = timed_out
        self.reason = reason
        super().__init__(what)


@dataclass(frozen=True)
class Credentials:
    """HTTP Basic or Digest (user and password) or Bearer (token) credentials; never shown in a
    repr. Basic is sent first; a service that answers with a Digest challenge (Virtuoso's ``-auth``
    endpoints) gets Digest from then on (:class:`DigestChallenge`)."""

    user: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)

    def header(self) -> str | None:
        """The ``Authorization`` header value, or None without credentials."""
        if self.token:
            return f"Bearer {self.token}"
        if self.user:
            pair = f"{self.user}:{self.password}".encode()
            return f"Basic {base64.b64encode(pair).decode('ascii')}"
        return None

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced, in case a service echoes one back."""
        for secret in (self.password, self.token, self.header()):
            if secret:
                text = text.replace(secret, "***")
        return text


class DigestChallenge:
    """A service's HTTP Digest challenge (RFC 7616), answered for each request with the next nonce
    count, so that only the first request to an endpoint that wants Digest is sent twice."""

    _HASHES: ClassVar[dict[str, Callable[[bytes], Any]]] = {
        "MD5": hashlib.md5, "MD5-SESS": hashlib.md5, "SHA-256": hashlib.sha256,
        "SHA-256-SESS": hashlib.sha256}

    def __init__(self, fields: dict[str, str]) -> None:
        self.realm = fields.get("realm", "")
        self.nonce = fields.get("nonce", "")
        self.opaque = fields.get("opaque")
        self.algorithm = fields.get("algorithm", "MD5").upper()
        offered = [q.strip() for q in fields.get("qop", "").split(",")]
        self.qop = "auth" if "auth" in offered else None
        self.stale = fields.get("stale", "").lower() == "true"
        self._count = itertools.count(1)

    @classmethod
    def of(cls, response: http.client.HTTPResponse) -> DigestChallenge | None:
        """The Digest challenge among a response's ``WWW-Authenticate`` headers, or None (none, or
        one this client cannot answer: an algorithm it does not know, a qop other than ``auth``)."""
        header = next((h for h in response.headers.get_all("WWW-Authenticate") or ()
                       if h[:7].lower() == "digest "), None)
        if header is None:
            return None
        fields = parse_keqv_list(parse_http_list(header[7:]))
        challenge = cls(fields)
        if challenge.algorithm not in cls._HASHES or not challenge.nonce or (
                "qop" in fields and challenge.qop is None):
            return None
        return challenge

    def authorization(self, method: str, target: str, credentials: Credentials) -> str:
        def hashed(text: str) -> str:
            return str(self._HASHES[self.algorithm](text.encode("utf-8")).hexdigest())

        count = f"{next(self._count):08x}"
        cnonce = secrets.token_hex(8)
        secret = hashed(f"{credentials.user}:{self.realm}:{credentials.password}")
        if self.algorithm.endswith("-SESS"):
            secret = hashed(f"{secret}:{self.nonce}:{cnonce}")
        request = hashed(f"{method}:{target}")
        answer = hashed(f"{secret}:{self.nonce}:{count}:{cnonce}:{self.qop}:{request}" if self.qop
                        else f"{secret}:{self.nonce}:{request}")
        fields = [f'username="{credentials.user}"', f'realm="{self.realm}"', f'nonce="{self.nonce}"',
                  f'uri="{target}"', f'response="{answer}"', f"algorithm={self.algorithm}"]
        if self.qop:
            fields += [f"qop={self.qop}", f"nc={count}", f'cnonce="{cnonce}"']
        if self.opaque is not None:
            fields.append(f'opaque="{self.opaque}"')
        return "Digest " + ", ".join(fields)


class HttpClient:
    """Requests to one service's endpoints, with its credentials; ``timeout`` bounds connecting
    and each wait for data."""

    def __init__(self, *, credentials: Credentials | None = None, timeout: float,
                 user_agent: str | None = None) -> None:
        from lod import __version__  # here: lod/__init__ is complete by the time a client is made

        self.credentials = credentials or Credentials()
        self.timeout = timeout
        self.user_agent = user_agent or f"lod/{__version__}"
        self._digests: dict[str, DigestChallenge | None] = {}
        """By endpoint (URL without query): its Digest challenge, or None where Basic will do."""

    def _headers(self, method: str, url: str, extra: dict[str, str]) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent, **extra}
        digest = self._digests.get(public(url))
        authorization = (digest.authorization(method, _target(url), self.credentials) if digest
                         else self.credentials.header())
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def open(self, method: str, url: str, *, body: bytes | None = None,
             headers: dict[str, str] | None = None, timeout: float | None = None,
             upload: IO[bytes] | None = None) -> Exchange:
        """Send one request and return the exchange with its response, whatever its status; the
        caller closes it. ``upload``, a file, is sent as the body instead of ``body``.

        With a user and password, an endpoint gets Basic until it asks for Digest; a Digest
        challenge (to a first request, or a nonce gone stale) is answered once. Some stores
        (Virtuoso) answer Basic with a bare 401: then a GET without credentials fetches the
        challenge. Before the first upload to an endpoint, that GET comes first, so that a long
        body is not sent only to be refused, once another endpoint of the store asked for Digest.

        Raises :class:`NoAnswer` when there is none."""
        endpoint, password_auth = public(url), bool(self.credentials.user and not self.credentials.token)
        if upload is not None and password_auth and endpoint not in self._digests and any(
                self._digests.values()):
            self._digests[endpoint] = self._challenge(url)
        exchange = self._send(method, url, body, headers, timeout, upload)
        if exchange.response.status != 401 or not password_auth:
            return exchange
        known = self._digests.get(endpoint)
        challenge = DigestChallenge.of(exchange.response) or (self._challenge(url) if known is None else None)
        if challenge is None or (known is not None and not challenge.stale):
            return exchange  # wrong credentials: the caller reports the 401
        exchange.close()
        self._digests[endpoint] = challenge
        return self._send(method, url, body, headers, timeout, upload)

    def _challenge(self, url: str) -> DigestChallenge | None:
        """The Digest challenge the endpoint answers a GET without credentials with, if any (a GET
        changes nothing; its body is not read)."""
        connection = _connection(url, self.timeout)
        try:
            connection.request("GET", _target(url), headers={"User-Agent": self.user_agent})
            response = connection.getresponse()
            return DigestChallenge.of(response) if response.status == 401 else None
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str] | None,
              timeout: float | None, upload: IO[bytes] | None) -> Exchange:
        connection = _connection(url, self.timeout if timeout is None else timeout)
        sent: OSError | None = None
        try:
            connection.putrequest(method, _target(url), skip_accept_encoding=True)
            for name, value in self._headers(method, url, headers or {}).items():
                connection.putheader(name, value)
            if upload is not None:
                connection.putheader("Content-Length", str(upload.seek(0, os.SEEK_END)))
                connection.endheaders()
                upload.seek(0)
                sent = _sent_or_refused(connection, upload)
            else:
                connection.putheader("Content-Length", str(len(body or b"")))
                connection.endheaders(body)
            sock = connection.sock  # the response reads from it; http.client may drop its own reference
            response = connection.getresponse()
        except TimeoutError:
            connection.close()
            raise NoAnswer(f"did not answer within {connection.timeout:g} s", timed_out=True) from None
        except (OSError, http.client.HTTPException) as failure:
            connection.close()
            reason = self.credentials.scrub(_reason(sent or failure))
            raise NoAnswer(f"cannot be reached: {reason}", timed_out=False, reason=reason) from None
        return Exchange(connection, sock, response)


@dataclass
class Exchange:
    """One request's connection and response."""

    connection: http.client.HTTPConnection
    sock: socket.socket | None
    response: http.client.HTTPResponse

    def limit(self, seconds: float) -> None:
        """Let the next read from the response wait at most ``seconds``."""
        if self.sock is not None:
            self.sock.settimeout(max(seconds, 0.001))

    def close(self) -> None:
        self.response.close()
        self.connection.close()


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout,
                                           context=ssl.create_default_context())
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _sent_or_refused(connection: http.client.HTTPConnection, upload: IO[bytes]) -> OSError | None:
    """Send the body; when the server stops reading (it may have answered already, e.g. 401 or
    500), return the failure instead of raising it, so that its answer can still be read."""
    try:
        while block := upload.read(_CHUNK):
            connection.send(block)
    except OSError as failure:
        return failure
    return None


def read_some(response: http.client.HTTPResponse, limit: int = 4000) -> bytes:
    """The start of a response's body (for an error message); nothing if it cannot be read."""
    try:
        return response.read(limit)
    except (OSError, http.client.HTTPException):
        return b""


def _reason(failure: BaseException) -> str:
    if isinstance(failure, ConnectionRefusedError):
        return "connection refused"
    text = str(failure) or type(failure).__name__
    return text


def public(url: str) -> str:
    """A URL as messages may show it: without its query string, which could hold a key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def error_text(body: bytes, limit: int = 500) -> str:
    """An error body for a message: its ``message`` when it is JSON like ours, else its text."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            message = json.loads(text).get("message")
        except (ValueError, AttributeError):
            message = None
        if isinstance(message, str):
            text = message
    return text if len(text) <= limit else text[:limit] + "…"
