"""A small closed-loop HTTP load client: a fixed number of threads, each with its own keep-alive
connection, sending SPARQL queries (POST, form-encoded) from one shared sequence, and timing each.

Threads and http.client keep the harness free of extra tools; the client's own CPU is measured and
reported, because on a two-core machine it competes with the server it measures.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Sample:
    seconds: float
    status: int
    size: int
    error: str | None
    """None for a complete, correct-looking answer; else what went wrong."""


@dataclass
class Window:
    """The outcome of one measurement window of one engine on one query class."""

    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    client_cpu: float = 0.0

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.error is None]


def encode(query: str) -> bytes:
    return urllib.parse.urlencode({"query": query}).encode()


class Connection:
    """One keep-alive connection that reconnects once when the server closed it between requests."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, accept: str) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        for attempt in (1, 2):
            fresh = self.connection is None
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.request("POST", self.path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.BadStatusLine):
                self.close()
                if fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def problem(status: int, headers: dict[str, str]) -> str | None:
    """Why a response does not count as a complete answer, or None."""
    if status != 200:
        return f"HTTP {status}"
    if "x-sql-state" in headers:  # Virtuoso: a partial ("anytime") result
        return f"partial result ({headers['x-sql-state']})"
    if "x-sparql-maxrows" in headers:  # lod: cut at max_rows
        return "truncated"
    return None


def run_window(url: str, bodies: Sequence[bytes], accept: str, *, concurrency: int, seconds: float,
               timeout: float) -> Window:
    """Send ``bodies`` in order from ``concurrency`` threads until all are sent or ``seconds`` have
    passed; requests in flight then are waited for (up to ``timeout``)."""
    window = Window()
    counter = itertools.count()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        connection = Connection(url, timeout)
        mine: list[Sample] = []
        cpu = time.thread_time()
        try:
            while time.monotonic() < deadline:
                index = next(counter)
                if index >= len(bodies):
                    break
                started = time.perf_counter()
                try:
                    status, headers, data = connection.post(bodies[index], accept)
                    mine.append(Sample(time.perf_counter() - started, status, len(data),
                                       problem(status, headers)))
                except TimeoutError:
                    connection.close()
                    mine.append(Sample(time.perf_counter() - started, 0, 0, "timeout"))
                except OSError as error:
                    connection.close()
                    mine.append(Sample(time.perf_counter() - started, 0, 0, type(error).__name__))
        finally:
            connection.close()
            with lock:
                window.samples.extend(mine)
                window.client_cpu += time.thread_time() - cpu

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    window.wall = time.perf_counter() - started
    return window


def fetch(url: str, query: str, accept: str, *, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """One query on a new connection (for the correctness check)."""
    connection = Connection(url, timeout)
    try:
        return connection.post(encode(query), accept)
    finally:
        connection.close()


def count(form: str, body: bytes) -> int:
    """Rows of a SELECT, 1/0 for ASK, distinct triples of a graph result (N-Triples)."""
    if form == "select":
        return len(json.loads(body)["results"]["bindings"])
    if form == "ask":
        return int(bool(json.loads(body)["boolean"]))
    lines = {line.strip() for line in body.decode("utf-8").splitlines()}
    return len({line for line in lines if line and not line.startswith("#")})


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 50 samples is the largest, not an interpolation)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
