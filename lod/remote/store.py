"""Talking to a remote SPARQL 1.1 store: the query, update and Graph Store Protocol endpoints.

A release is uploaded as two named graphs and switched in with one update; queries name those
graphs as their dataset (see :mod:`lod.remote.queries`)::

    {base_iri}release/{release_id}              the data and the vocabulary (the local default graph)
    {base_iri}release/{release_id}/vocabulary   the vocabulary (the local store's ikz: graph)
    {base_iri}release/                          the control graph, holding
        <{base_iri}release/> dcat:hasCurrentVersion <{base_iri}release/{release_id}> .
        <{base_iri}release/> dcat:hasVersion <{base_iri}release/{id}> .   (one per uploaded release)

HTTP is spoken with :mod:`http.client`, so that an upload is sent from a file: the store writes a
graph's N-Triples into a temporary file, sent with its ``Content-Length`` (Virtuoso 7 answers a
chunked body with 201 and stores nothing); a graph is never held in memory. Redirects are not
followed (credentials go nowhere but the configured URLs), and no message names the credentials or
a URL's query string.
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
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar, cast
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import parse_http_list, parse_keqv_list

from lod.errors import LodError, UsageError
from lod.remote.client import _text as error_text
from lod.settings import Settings
from lod.vocab import DCAT

CURRENT_VERSION = str(DCAT.hasCurrentVersion)
"""The pointer's predicate: the control graph's subject has the served release as current version."""
VERSION = str(DCAT.hasVersion)
"""Records every release uploaded (before its upload starts), so that pruning finds them all."""

RESULTS_JSON = "application/sparql-results+json"
_CHUNK = 1 << 16


class RemoteStoreError(LodError):
    """The remote store cannot be reached, refused a request or answered with an error."""

    status = 502


class RemoteTimeout(RemoteStoreError):
    """The remote store did not answer within the time allowed."""

    status = 504


@dataclass(frozen=True)
class Credentials:
    """HTTP Basic or Digest (user and password) or Bearer (token) credentials; never shown in a
    repr. Basic is sent first; a store that answers with a Digest challenge (Virtuoso's ``-auth``
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
        """``text`` with every secret replaced, in case a remote store echoes one back."""
        for secret in (self.password, self.token, self.header()):
            if secret:
                text = text.replace(secret, "***")
        return text


class DigestChallenge:
    """A store's HTTP Digest challenge (RFC 7616), answered for each request with the next nonce
    count, so that only the first request to a store that wants Digest is sent twice."""

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


@dataclass(frozen=True)
class ReleaseGraphs:
    """The remote names of one release's graphs."""

    data: str
    vocabulary: str

    @classmethod
    def of(cls, base_iri: str, release_id: str) -> ReleaseGraphs:
        data = f"{control_graph(base_iri)}{release_id}"
        return cls(data=data, vocabulary=f"{data}/vocabulary")

    @classmethod
    def named(cls, data: str) -> ReleaseGraphs:
        """The graphs of the release whose data graph is ``data`` (as the pointer names it)."""
        return cls(data=data, vocabulary=f"{data}/vocabulary")

    @property
    def release_id(self) -> str:
        return self.data.rsplit("/", 1)[-1]


def control_graph(base_iri: str) -> str:
    """The graph that holds the pointer to the current release and the list of uploaded ones."""
    return f"{base_iri}release/"


def public(url: str) -> str:
    """A URL as messages may show it: without its query string, which could hold a key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class RemoteStore:
    """A SPARQL 1.1 store reached over HTTP; ``timeout`` bounds connecting and each wait."""

    def __init__(self, *, query_url: str, update_url: str = "", gsp_url: str = "",
                 graph_parameter: str = "graph", credentials: Credentials | None = None,
                 timeout: float = 300.0) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.graph_parameter = graph_parameter
        self.credentials = credentials or Credentials()
        self.timeout = timeout
        self._digests: dict[str, DigestChallenge | None] = {}
        """By endpoint (URL without query): its Digest challenge, or None where Basic will do."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore | None:
        """The remote store the settings name, or None when remote mode is off."""
        if not settings.remote_query_url:
            return None
        return cls(query_url=settings.remote_query_url, update_url=settings.remote_update_url,
                   gsp_url=settings.remote_gsp_url, graph_parameter=settings.remote_graph_parameter,
                   credentials=Credentials(user=settings.remote_user, password=settings.remote_password,
                                           token=settings.remote_token),
                   timeout=settings.remote_timeout)

    def __repr__(self) -> str:
        return f"RemoteStore({public(self.query_url)!r})"

    def require_publishing(self) -> None:
        """Raise :class:`UsageError` unless the update and Graph Store endpoints are configured."""
        missing = [name for name, url in (("remote_update_url", self.update_url),
                                          ("remote_gsp_url", self.gsp_url)) if not url]
        if missing:
            raise UsageError(f"publishing to the remote store at {public(self.query_url)} needs "
                             f"{' and '.join(missing)} (LOD_{'/LOD_'.join(m.upper() for m in missing)})")

    # --- HTTP -------------------------------------------------------------------------------

    def _headers(self, method: str, url: str, extra: dict[str, str]) -> dict[str, str]:
        from lod import __version__  # here: lod/__init__ is complete by the time a request is made

        headers = {"User-Agent": f"lod/{__version__}", **extra}
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

        Raises :class:`RemoteStoreError` (or :class:`RemoteTimeout`) when there is no answer."""
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
            connection.request("GET", _target(url), headers={"User-Agent": "lod"})
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
            raise RemoteTimeout(f"the remote store at {public(url)} did not answer within "
                                f"{connection.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as failure:
            connection.close()
            raise RemoteStoreError(f"the remote store at {public(url)} cannot be reached: "
                                   f"{self.credentials.scrub(_reason(sent or failure))}") from None
        return Exchange(connection, sock, response)

    @contextmanager
    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float | None = None,
                upload: IO[bytes] | None = None) -> Iterator[http.client.HTTPResponse]:
        """:meth:`open` as a context: the response, closed at the end of the block."""
        exchange = self.open(method, url, body=body, headers=headers, timeout=timeout, upload=upload)
        try:
            yield exchange.response
        finally:
            exchange.close()

    def detail(self, response: http.client.HTTPResponse) -> str:
        """The start of an error response's body, as text, without our secrets."""
        return self.credentials.scrub(error_text(_read_some(response)))

    def failure(self, response: http.client.HTTPResponse, url: str, doing: str) -> RemoteStoreError:
        """The error for a response whose status is not a success."""
        status = response.status
        if 300 <= status < 400:
            location = response.getheader("Location")
            return RemoteStoreError(
                f"the remote store at {public(url)} answered {status} {response.reason}"
                f"{f' (to {public(location)})' if location else ''} while {doing}; lod follows no "
                "redirects: configure the URL it leads to")
        detail = self.detail(response)
        if status in (401, 403, 407):
            hint = ("check LOD_REMOTE_USER and LOD_REMOTE_PASSWORD, or LOD_REMOTE_TOKEN"
                    if self.credentials.header() else "it needs credentials: set LOD_REMOTE_USER and "
                    "LOD_REMOTE_PASSWORD, or LOD_REMOTE_TOKEN")
            return RemoteStoreError(f"the remote store at {public(url)} refused access ({status} "
                                    f"{response.reason}) while {doing}; {hint}")
        kind = RemoteTimeout if status in (408, 504) else RemoteStoreError
        return kind(f"the remote store at {public(url)} answered {status} {response.reason} while "
                    f"{doing}: {detail or '(no message)'}")

    # --- operations -------------------------------------------------------------------------

    def select(self, query: str) -> list[dict[str, Any]]:
        """The bindings of a small SELECT, as SPARQL JSON."""
        body = urlencode({"query": query}).encode()
        with self.request("POST", self.query_url, body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Accept": RESULTS_JSON}) as response:
            if response.status != 200:
                raise self.failure(response, self.query_url, "answering a query")
            try:
                document = json.loads(response.read())
            except (ValueError, OSError, http.client.HTTPException) as failure:
                raise RemoteStoreError(f"the remote store at {public(self.query_url)} sent an answer "
                                       f"that is not SPARQL JSON results: {_reason(failure)}") from None
        rows: list[dict[str, Any]] = document["results"]["bindings"]
        return rows

    def update(self, operation: str) -> None:
        """Run one SPARQL 1.1 Update request."""
        with self.request("POST", self.update_url, body=urlencode({"update": operation}).encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
            if not 200 <= response.status < 300:
                raise self.failure(response, self.update_url, "running an update")
            response.read()

    def put_graph(self, graph: str, write: Callable[[IO[bytes]], None]) -> None:
        """Replace ``graph`` with the N-Triples ``write`` produces (Graph Store Protocol §5.3), sent
        from a temporary file: the graph is never held in memory."""
        separator = "&" if "?" in self.gsp_url else "?"
        url = f"{self.gsp_url}{separator}{self.graph_parameter}={quote(graph, safe='')}"
        with tempfile.TemporaryFile(prefix="lod-upload-") as spool:
            write(cast(IO[bytes], spool))
            with self.request("PUT", url, headers={"Content-Type": "application/n-triples"},
                              upload=cast(IO[bytes], spool)) as response:
                if not 200 <= response.status < 300:
                    raise self.failure(response, url, f"uploading <{graph}>")
                response.read()

    def count(self, graphs: Sequence[str]) -> dict[str, int]:
        """The number of triples in each of ``graphs``."""
        values = " ".join(f"<{graph}>" for graph in graphs)
        rows = self.select(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                           f"GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g")
        found = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
        return {graph: found.get(graph, 0) for graph in graphs}

    def holds(self, graph: str) -> bool:
        """Whether ``graph`` has any triple (a SELECT: Virtuoso 7 answers ASK as a table)."""
        return bool(self.select(f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} LIMIT 1"))

    def current(self, base_iri: str) -> ReleaseGraphs | None:
        """The release the pointer names, or None."""
        control = control_graph(base_iri)
        rows = self.select(f"SELECT ?r WHERE {{ GRAPH <{control}> {{ <{control}> <{CURRENT_VERSION}> ?r }} }}"
                           " LIMIT 1")
        return ReleaseGraphs.named(rows[0]["r"]["value"]) if rows else None

    def versions(self, base_iri: str) -> list[ReleaseGraphs]:
        """Every release recorded in the control graph."""
        control = control_graph(base_iri)
        rows = self.select(f"SELECT ?r WHERE {{ GRAPH <{control}> {{ <{control}> <{VERSION}> ?r }} }}"
                           " ORDER BY ?r")
        return [ReleaseGraphs.named(row["r"]["value"]) for row in rows]

    def record(self, base_iri: str, graphs: ReleaseGraphs) -> None:
        control = control_graph(base_iri)
        self.update(f"INSERT DATA {{ GRAPH <{control}> {{ <{control}> <{VERSION}> <{graphs.data}> }} }}")

    def switch(self, base_iri: str, graphs: ReleaseGraphs | None) -> None:
        """Point the control graph at ``graphs`` (or at nothing) in one update request, which a
        store applies as one transaction (SPARQL 1.1 Update §2.2; Oxigraph and Virtuoso do):
        readers see the old pointer or the new one. It is two operations, delete and insert: the
        one ``DELETE … INSERT … WHERE { OPTIONAL … }`` inserts nothing on Virtuoso 7 while there
        is no pointer yet."""
        control = control_graph(base_iri)
        pointer = f"<{control}> <{CURRENT_VERSION}>"
        insert = f" ;\nINSERT DATA {{ GRAPH <{control}> {{ {pointer} <{graphs.data}> }} }}" if graphs else ""
        self.update(f"DELETE WHERE {{ GRAPH <{control}> {{ {pointer} ?old }} }}{insert}")

    def drop(self, base_iri: str, graphs: ReleaseGraphs) -> None:
        """Remove a release's graphs and its record (one request, in this order)."""
        control = control_graph(base_iri)
        self.update(f"DROP SILENT GRAPH <{graphs.data}> ;\nDROP SILENT GRAPH <{graphs.vocabulary}> ;\n"
                    f"DELETE DATA {{ GRAPH <{control}> {{ <{control}> <{VERSION}> <{graphs.data}> }} }}")


# --- HTTP helpers -------------------------------------------------------------------------------


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


def _read_some(response: http.client.HTTPResponse, limit: int = 4000) -> bytes:
    try:
        return response.read(limit)
    except (OSError, http.client.HTTPException):
        return b""


def _reason(failure: BaseException) -> str:
    if isinstance(failure, ConnectionRefusedError):
        return "connection refused"
    text = str(failure) or type(failure).__name__
    return text
