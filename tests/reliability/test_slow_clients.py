"""Slow clients against a live `lod serve` on 127.0.0.1: a client that sends slowly costs the server
a buffer, not a thread; one that reads slowly is cut off after `response_timeout`, one that stops
reading after `client_timeout`. Bounded in count and time; every wait polls for its condition."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..conftest import ServerFactory

SLOW_CLIENTS = 200
QUERY = urllib.parse.urlencode({"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3", "format": "json"})
# 100,000 rows of a cross product: about 29 MB of TSV from the fixture, more than loopback buffers hold.
LARGE = "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 100000"})
TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8  # tcp_info.tcpi_state (linux/tcp_states.h)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].strip("/"))


def get(port: int, path: str, *, timeout: float) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)  # polling the condition, not waiting for it to happen by itself
    return condition()


def drip(connections: list[socket.socket], stop: threading.Event) -> None:
    """One more byte of an unfinished header on every connection every two seconds."""
    while not stop.wait(2.0):
        for connection in connections:
            with contextlib.suppress(OSError):  # the server may close a connection; the others go on
                connection.send(b"x")


def test_slow_senders_do_not_keep_others_from_being_answered(release_dir: Path,
                                                             lod_server: ServerFactory) -> None:
    port = port_of(lod_server(release_dir, workers=2))
    slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(SLOW_CLIENTS)]
    stop = threading.Event()
    dripper = threading.Thread(target=drip, args=(slow, stop))
    try:
        for connection in slow:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        dripper.start()
        for _ in range(5):
            for path in ("/healthz", f"/sparql?{QUERY}"):
                started = time.monotonic()
                assert get(port, path, timeout=5) == 200
                assert time.monotonic() - started < 5
    finally:
        stop.set()
        if dripper.is_alive():
            dripper.join()
        for connection in slow:
            connection.close()


def test_a_bad_chunk_size_is_a_400(release_dir: Path, lod_server: ServerFactory) -> None:
    port = port_of(lod_server(release_dir, workers=1))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                           b"Content-Type: application/sparql-query\r\n\r\nzz\r\nASK {}\r\n0\r\n\r\n")
        status_line = connection.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 400 "), status_line


def large_result(port: int) -> tuple[socket.socket, bytes]:
    """A connection that asked for LARGE with a small receive buffer, and the first bytes of the
    answer (which come once the query is done)."""
    connection = socket.socket()
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        connection.settimeout(30)
        connection.connect(("127.0.0.1", port))
        connection.sendall(f"GET {LARGE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Accept: text/tab-separated-values\r\n\r\n".encode())
        first = connection.recv(1024)
        assert first.startswith(b"HTTP/1.1 200 "), first[:200]
    except BaseException:
        connection.close()
        raise
    return connection, first


def server_pids(port: int) -> list[int]:
    """The processes of the `lod serve` on ``port``: master, workers and their query processes."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in arguments and str(port).encode() in arguments:
            pids.append(int(cmdline.parent.name))
    return pids


def deleted_files_held(port: int) -> int:
    """Open descriptors of the server's processes on files already deleted: spooled results and
    response buffers."""
    held = 0
    for pid in server_pids(port):
        with contextlib.suppress(OSError):  # the process ended meanwhile
            for fd in os.scandir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):  # closed meanwhile
                    held += os.readlink(fd.path).endswith(" (deleted)")
    return held


@pytest.fixture(scope="module")
def short_response(release_dir: Path, lod_server: ServerFactory) -> Iterator[int]:
    yield port_of(lod_server(release_dir, workers=1,
                             env={"LOD_RESPONSE_TIMEOUT": "2", "LOD_QUERY_TIMEOUT": "30"}))


def test_a_slow_reader_is_cut_off_at_the_response_timeout(short_response: int) -> None:
    port = short_response
    assert get(port, f"/sparql?{QUERY}", timeout=10) == 200  # the query process is started
    before = deleted_files_held(port)
    connection, first = large_result(port)
    started = time.monotonic()
    received = len(first)
    try:
        while time.monotonic() - started < 15:
            chunk = connection.recv(1024)
            if not chunk:
                break
            received += len(chunk)
            time.sleep(0.05)  # a client on a slow line: about 20 kB/s, never silent for long
    except ConnectionResetError:
        pass
    finally:
        connection.close()
    elapsed = time.monotonic() - started
    assert received < 1_000_000, "the whole answer was read: nothing was cut"
    assert 1.5 < elapsed < 5, elapsed
    assert wait_for(lambda: deleted_files_held(port) <= before, 10), "the cut answer is still held"
    assert get(port, "/healthz", timeout=10) == 200


@pytest.fixture(scope="module")
def short_silence(release_dir: Path, lod_server: ServerFactory) -> Iterator[int]:
    yield port_of(lod_server(release_dir, workers=1,
                             env={"LOD_CLIENT_TIMEOUT": "2", "LOD_QUERY_TIMEOUT": "30"}))


def test_a_reader_that_stops_is_cut_off_at_the_client_timeout(short_silence: int) -> None:
    port = short_silence
    connection, _first = large_result(port)
    started = time.monotonic()

    def closed_by_server() -> bool:
        state = connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        return state in (TCP_CLOSE, TCP_CLOSE_WAIT)

    try:
        assert wait_for(closed_by_server, 10), "the server kept the connection of a client that reads nothing"
        assert time.monotonic() - started > 1.5
    finally:
        connection.close()
    assert get(port, "/healthz", timeout=10) == 200


def test_an_idle_connection_is_closed_at_the_client_timeout(short_silence: int) -> None:
    with socket.create_connection(("127.0.0.1", short_silence), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and nothing more
        started = time.monotonic()
        assert connection.recv(1024) == b""  # the server closes it; the timeout above bounds the wait
        assert 1.5 < time.monotonic() - started < 5
