"""The processes of `lod serve`: SIGTERM lets a response in flight finish, a worker that dies is
replaced, a worker that cannot start stops the server with its error instead of being restarted
for ever. Each test starts its own server on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..conftest import free_port, wait_until_healthy

LARGE = "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 100000"})


@contextmanager
def serving(release_dir: Path, log: Path, *, workers: int,
            python: tuple[str, ...] = ("-m", "lod")) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, *python, "serve", "--release-dir", str(release_dir),
                                    "--port", str(port), "--workers", str(workers)],
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)  # polling the condition, not waiting for it to happen by itself
    return condition()


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def test_sigterm_lets_the_response_in_flight_finish(release_dir: Path, tmp_path: Path) -> None:
    with serving(release_dir, tmp_path / "serve.log", workers=1) as (process, port):
        wait_until_healthy(f"http://127.0.0.1:{port}/", process, time.monotonic() + 60)
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        with connection:
            connection.sendall(f"GET {LARGE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Accept: text/tab-separated-values\r\n\r\n".encode())
            answer = connection.makefile("rb")
            assert answer.readline().startswith(b"HTTP/1.1 200 ")
            length = 0
            while (line := answer.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert length > 1_000_000
            process.send_signal(signal.SIGTERM)  # while most of the answer is still to be read
            body = answer.read(length)
        assert len(body) == length
        assert process.wait(timeout=30) == 0


def test_a_worker_that_dies_is_replaced(release_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(release_dir, log, workers=2) as (process, port):
        wait_until_healthy(f"http://127.0.0.1:{port}/", process, time.monotonic() + 60)
        assert wait_for(lambda: log.read_text().count("takes requests") == 2, 60)  # both started
        workers = children(process.pid)
        assert len(workers) == 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        assert wait_for(lambda: len(children(process.pid) - workers) == 1, 30)
        assert victim not in children(process.pid)
        wait_until_healthy(f"http://127.0.0.1:{port}/", process, time.monotonic() + 60)
        assert process.poll() is None
    assert f"worker {victim} was sent SIGKILL; starting another" in log.read_text()


def test_a_worker_that_cannot_start_stops_the_server(release_dir: Path, tmp_path: Path) -> None:
    # The app factory fails in the worker, as an app that cannot read its release would.
    failing = ("-c", "import sys, lod.web, lod.cli\n"
                     "def fail(settings): raise RuntimeError('no app today')\n"
                     "lod.web.create_app = fail\n"
                     "sys.argv[0] = 'lod'\n"
                     "lod.cli.main()")
    log = tmp_path / "serve.log"
    with serving(release_dir, log, workers=2, python=failing) as (process, _port):
        assert process.wait(timeout=60) != 0
    text = log.read_text()
    assert "RuntimeError: no app today" in text
    assert "a worker could not start" in text
    assert len(re.findall(r"worker \d+ started", text)) == 2  # and none started again
