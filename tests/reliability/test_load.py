"""Load: more clients than query slots get answers or 503 with Retry-After, never another 5xx;
slow readers do not keep fast queries from being answered. Bounded in count and time."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

from ..conftest import ServerFactory

QUERY = urllib.parse.urlencode({
    "query": "SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s ORDER BY DESC(?n) LIMIT 5",
    "format": "json"})


def hammer(host: str, port: int, requests: int, statuses: Counter[str], lock: threading.Lock) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        for _ in range(requests):
            connection.request("GET", f"/sparql?{QUERY}")
            response = connection.getresponse()
            response.read()
            key = str(response.status)
            if response.status == 503 and response.getheader("Retry-After"):
                key = "503+Retry-After"
            with lock:
                statuses[key] += 1
    finally:
        connection.close()


def test_many_clients_get_answers_or_a_polite_503(release_dir: Path, lod_server: ServerFactory) -> None:
    url = lod_server(release_dir, workers=2, env={"LOD_QUERY_SLOTS": "1", "LOD_QUEUE_WAIT": "0.05"})
    port = int(url.rsplit(":", 1)[1].strip("/"))
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    clients = [threading.Thread(target=hammer, args=("127.0.0.1", port, 25, statuses, lock))
               for _ in range(24)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    assert sum(statuses.values()) == 24 * 25
    assert set(statuses) <= {"200", "503+Retry-After"}, statuses
    assert statuses["200"] > 0


def slow_reader(host: str, port: int, stop: threading.Event, received: list[int]) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("GET", "/download/lod-ikz.jsonld")
    response = connection.getresponse()
    total = 0
    while not stop.is_set():
        chunk = response.read(512)
        if not chunk:
            break
        total += len(chunk)
        time.sleep(0.05)  # a client on a slow line
    received.append(total)
    connection.close()


def test_slow_readers_do_not_starve_fast_queries(release_dir: Path, lod_server: ServerFactory) -> None:
    url = lod_server(release_dir, workers=1, env={"LOD_THREADS": "8"})
    port = int(url.rsplit(":", 1)[1].strip("/"))
    stop = threading.Event()
    received: list[int] = []
    readers = [threading.Thread(target=slow_reader, args=("127.0.0.1", port, stop, received))
               for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        statuses: Counter[str] = Counter()
        hammer("127.0.0.1", port, 30, statuses, threading.Lock())
        assert statuses == Counter({"200": 30})
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert len(received) == 4 and all(total > 0 for total in received)


def test_oversized_requests_are_refused_by_the_server(release_dir: Path, lod_server: ServerFactory) -> None:
    url = lod_server(release_dir, workers=1)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    for headers, path, status in (({"X-Padding": "x" * 10_000}, "/healthz", 431),
                                  ({f"X-H{n}": "1" for n in range(150)}, "/healthz", 431),
                                  ({}, "/sparql?query=" + "x" * 10_000, 414)):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        connection.close()
        assert response.status == status and "Traceback" not in body
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
    finally:
        connection.close()
