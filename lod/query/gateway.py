"""Federated query (``SERVICE``) under control: only allowed endpoints, only public addresses,
bounded in time, rows and bytes.

Oxigraph fetches ``SERVICE`` endpoints itself and offers no hook to check them. So a query process
has no network of its own (:mod:`lod.query.sandbox`): the query layer points each allowed endpoint to a
gateway that listens on 127.0.0.1 inside the query process's own network namespace, where nothing
else is, and that gateway relays each call over a socket pair to the forwarder in the server
process. The forwarder resolves the endpoint's host, refuses loopback, private, link-local and
other non-public addresses (unless a network is explicitly allowed), connects to the very address
it checked (so a second DNS answer cannot redirect it), follows no redirects, passes on at most
``max_rows`` rows, and never passes on what a failing endpoint said.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from lod.settings import Settings

log = logging.getLogger(__name__)

GATEWAY_PORT = 8890
"""Where the gateway listens inside a query process's own network namespace (nothing else does)."""


def gateway_url(index: int) -> str:
    """The IRI the query layer gives the engine for the allowed endpoint number ``index``."""
    return f"http://127.0.0.1:{GATEWAY_PORT}/service/{index}"


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
    def from_settings(cls, settings: Settings) -> FederationPolicy | None:
        """The policy the settings give, or None when federation is off."""
        if not settings.federation:
            return None
        return cls.of(endpoints=settings.federation_endpoints, networks=settings.federation_networks,
                      timeout=settings.federation_timeout, max_rows=settings.federation_max_rows)

    @classmethod
    def of(cls, *, endpoints: Sequence[str], networks: Sequence[str] = (), timeout: float = 5.0,
           max_rows: int = 10_000) -> FederationPolicy:
        return cls(tuple(endpoints), tuple(ipaddress.ip_network(n, strict=False) for n in networks),
                   timeout, max_rows)

    def refusal(self, endpoints: Sequence[str | None]) -> str | None:
        """Why SERVICE calls to these endpoints (None: not an IRI) may not be made, or None.

        One message whatever the target, so that a refusal tells nothing about it."""
        if all(endpoint in self.endpoints for endpoint in endpoints):
            return None
        return ("SERVICE is allowed on this endpoint only to these endpoints, each named by its IRI: "
                f"{', '.join(self.endpoints) or '(none)'}")

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


class Channel(Protocol):
    """A message channel (``lod.query.executor``'s socket pair)."""

    def send(self, message: object) -> None: ...
    def recv(self) -> Any: ...


@dataclass
class ServiceForwarder:
    """The half of the gateway in the server process: calls allowed endpoints, checked."""

    policy: FederationPolicy
    resolver: Resolver = resolve

    def serve(self, channel: Channel) -> None:
        """Answer the relayed calls of one query process until it goes away."""
        while True:
            try:
                index, query = channel.recv()
            except (EOFError, OSError):
                return
            try:
                answer = self.forward(index, query)
            except Exception as failure:  # the query process must get an answer, never silence
                log.exception("SERVICE forwarder failed")
                answer = (502, f"the gateway failed: {type(failure).__name__}".encode())
            try:
                channel.send(answer)
            except OSError:
                return

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
        except TimeoutError:
            return 504, f"{endpoint} did not answer within {policy.timeout:g} s".encode()
        except (OSError, http.client.HTTPException) as error:
            return 502, f"{endpoint} did not answer properly ({type(error).__name__})".encode()
        finally:
            connection.close()
        if time.monotonic() > deadline:
            return 504, f"{endpoint} took longer than {policy.timeout:g} s".encode()
        if len(body) > policy.max_bytes:
            return 502, f"{endpoint} sent more than {policy.max_bytes} bytes".encode()
        if response.status != 200:  # what it said stays here: it may be anything
            return 502, f"{endpoint} answered HTTP {response.status}".encode()
        try:
            return 200, _capped(body, policy.max_rows)
        except ValueError:
            return 502, f"{endpoint} did not answer with SPARQL JSON results".encode()


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


@dataclass
class ServiceGateway:
    """The half of the gateway in the query process: an HTTP listener for the engine on
    127.0.0.1:GATEWAY_PORT of the process's own network, relaying each call to the forwarder."""

    policy: FederationPolicy
    channel: Channel
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _failures: list[str] = field(default_factory=list, init=False)

    def start(self) -> None:
        gateway = self

        class Handler(_GatewayHandler):
            relay = gateway

        server = ThreadingHTTPServer(("127.0.0.1", GATEWAY_PORT), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True, name="lod-service-gateway").start()

    def call(self, index: int, query: str) -> tuple[int, bytes]:
        with self._lock:  # one call at a time on the channel
            self.channel.send((index, query))
            status, body = self.channel.recv()
        if status != 200:
            self._failures.append(f"SERVICE <{self.policy.endpoints[index]}> failed: {body.decode()}")
        return int(status), bytes(body)

    def failure(self) -> str | None:
        """What went wrong with the last query's SERVICE calls, in the gateway's words; forgets it."""
        failures, self._failures = self._failures, []
        return "; ".join(failures) or None


class _GatewayHandler(BaseHTTPRequestHandler):
    relay: ServiceGateway

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
            self.relay.policy.endpoints[index]
        except (ValueError, IndexError):
            status, body = 404, b"no such service"
        else:
            try:
                status, body = self.relay.call(index, query)
            except (EOFError, OSError):
                status, body = 502, b"the gateway lost its forwarder"
        self.send_response(status)
        self.send_header("Content-Type", JSON_RESULTS if status == 200 else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")  # one request per connection: none goes stale
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the executor reports failures."""
