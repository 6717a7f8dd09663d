"""Federated query (``SERVICE``) under control: only allowed endpoints, only public addresses,
bounded in time, rows and bytes.

Oxigraph fetches ``SERVICE`` endpoints itself and offers no hook to check them, so the executor
rewrites each allowed endpoint IRI to a local forwarder that this module runs on 127.0.0.1 inside
the query process. The forwarder resolves the endpoint's host, refuses loopback, private,
link-local and other non-public addresses (unless a network is explicitly allowed), connects to
the very address it checked (so a second DNS answer cannot redirect it), follows no redirects, and
passes on at most ``max_rows`` rows.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .query_text import ServiceCall

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

JSON_RESULTS = "application/sparql-results+json"


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


class Refused(Exception):
    """A SERVICE call that is not allowed; the message says why."""


@dataclass(frozen=True)
class FederationPolicy:
    """Which endpoints ``SERVICE`` may call and how much a call may take."""

    endpoints: tuple[str, ...]
    networks: tuple[Network, ...] = ()
    """Non-public networks that are nevertheless allowed (e.g. 127.0.0.1/32 for a local peer)."""
    timeout: float = 5.0
    max_rows: int = 10_000
    max_bytes: int = 50_000_000

    @classmethod
    def of(cls, *, endpoints: Sequence[str], networks: Sequence[str] = (), timeout: float = 5.0,
           max_rows: int = 10_000) -> FederationPolicy:
        return cls(tuple(endpoints), tuple(ipaddress.ip_network(n, strict=False) for n in networks),
                   timeout, max_rows)

    def refusal(self, calls: Sequence[ServiceCall]) -> str | None:
        """Why these calls may not be made, or None."""
        for call in calls:
            if call.endpoint is None:
                return ("SERVICE needs the endpoint's full IRI in angle brackets, one of: "
                        f"{', '.join(self.endpoints) or '(none allowed)'}")
            if call.endpoint not in self.endpoints:
                return (f"SERVICE <{call.endpoint}> is not allowed here; allowed endpoints: "
                        f"{', '.join(self.endpoints) or '(none)'}")
        return None

    def checked_addresses(self, host: str, port: int, resolver: Resolver) -> list[Address]:
        """The addresses of ``host``, each public or in an allowed network; else :class:`Refused`."""
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
        except (OSError, ValueError) as error:
            raise Refused(f"{host} cannot be resolved: {error}") from None
        if not addresses:
            raise Refused(f"{host} resolves to no address")
        for address in addresses:
            if not address.is_global and not any(address in network for network in self.networks):
                raise Refused(f"{host} resolves to {address}, a non-public address; this server does "
                              "not call loopback, private or link-local addresses")
        return addresses


@dataclass
class ServiceGateway:
    """The local forwarder the rewritten SERVICE IRIs point to."""

    policy: FederationPolicy
    resolver: Resolver = resolve
    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def local_urls(self, calls: Sequence[ServiceCall]) -> list[str]:
        """Where each (allowed) call goes instead: ``http://127.0.0.1:{port}/service/{n}``."""
        port = self._start()
        return [f"http://127.0.0.1:{port}/service/{self.policy.endpoints.index(c.endpoint or '')}"
                for c in calls]

    def original(self, message: str) -> str:
        """A message from the engine with the forwarder's URLs replaced by the endpoints they stand for."""
        if self._server is None:
            return message
        port = self._server.server_address[1]
        for index, endpoint in enumerate(self.policy.endpoints):
            message = message.replace(f"http://127.0.0.1:{port}/service/{index}", endpoint)
        return message

    def _start(self) -> int:
        with self._lock:
            if self._server is None:
                gateway = self

                class Handler(_ForwardingHandler):
                    forwarder = gateway

                self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
                self._server.daemon_threads = True
                threading.Thread(target=self._server.serve_forever, daemon=True,
                                 name="lod-service-gateway").start()
            return int(self._server.server_address[1])

    def forward(self, index: int, query: str) -> tuple[int, bytes]:
        """Send ``query`` to the endpoint at ``index``; the status and body to hand to the engine."""
        policy = self.policy
        endpoint = policy.endpoints[index]
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            address = policy.checked_addresses(host, port, self.resolver)[0]
        except Refused as refusal:
            return 403, str(refusal).encode()
        deadline = time.monotonic() + policy.timeout
        connection = _connection(parts.scheme, host, str(address), port, policy.timeout)
        try:
            path = parts.path or "/"
            if parts.query:
                path += f"?{parts.query}"
            connection.request("POST", path, body=query.encode(), headers={
                "Host": parts.netloc, "Content-Type": "application/sparql-query",
                "Accept": JSON_RESULTS, "User-Agent": "lod-service-gateway"})
            response = connection.getresponse()
            body = response.read(policy.max_bytes + 1)
        except (OSError, http.client.HTTPException) as error:
            return 502, f"{endpoint} did not answer properly: {error}".encode()
        finally:
            connection.close()
        if time.monotonic() > deadline:
            return 504, f"{endpoint} took longer than {policy.timeout:g} s".encode()
        if len(body) > policy.max_bytes:
            return 502, f"{endpoint} sent more than {policy.max_bytes} bytes".encode()
        if response.status != 200:
            text = body[:500].decode("utf-8", "replace")
            return 502, f"{endpoint} answered {response.status}: {text}".encode()
        return 200, _capped(body, policy.max_rows)


def _capped(body: bytes, max_rows: int) -> bytes:
    """SPARQL JSON results with at most ``max_rows`` rows."""
    document = json.loads(body)
    bindings = document.get("results", {}).get("bindings")
    if isinstance(bindings, list) and len(bindings) > max_rows:
        document["results"]["bindings"] = bindings[:max_rows]
    return json.dumps(document).encode()


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with the certificate checked for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _connection(scheme: str, host: str, address: str, port: int, timeout: float,
                ) -> http.client.HTTPConnection:
    if scheme == "https":
        return _PinnedHTTPS(host, address, port, timeout)
    return http.client.HTTPConnection(address, port, timeout=timeout)


class _ForwardingHandler(BaseHTTPRequestHandler):
    forwarder: ServiceGateway

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if self.headers.get_content_type() == "application/x-www-form-urlencoded":
            body = parse_qs(body).get("query", [""])[0]
        self._answer(body)

    def do_GET(self) -> None:
        self._answer(parse_qs(urlsplit(self.path).query).get("query", [""])[0])

    def _answer(self, query: str) -> None:
        try:
            index = int(self.path.split("?")[0].rsplit("/", 1)[1])
            self.forwarder.policy.endpoints[index]
        except (ValueError, IndexError):
            status, body = 404, b"no such service"
        else:
            try:
                status, body = self.forwarder.forward(index, query)
            except Exception as failure:  # the engine must get an answer, never a dropped connection
                status, body = 502, f"the gateway failed: {type(failure).__name__}: {failure}".encode()
        self.send_response(status)
        self.send_header("Content-Type", JSON_RESULTS if status == 200 else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")  # one request per connection: none goes stale
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the executor reports failures."""
