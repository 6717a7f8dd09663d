"""Load, slow clients, a runaway query, a large result read slowly, and a soak: what `lod serve`
does under each, with the server's memory read from /proc. Only 127.0.0.1 is contacted; every
loop is bounded in count and time.

    python benchmarks/load.py --scale 0.05 --seconds 10 --soak 120 --out benchmarks/out/load

Prints a Markdown report and writes it, with the figures as JSON, to --out.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from client import encode, percentile, run_window
from procfs import pss_bytes, tree

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/lod-ikz/id/"
JSON = "application/sparql-results+json"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].strip("/"))

    def memory(self) -> int:
        """Proportional set size of the server and all its processes, in bytes."""
        return pss_bytes(tree([self.process.pid]))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(release: Path, env: dict[str, str]) -> Server:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "lod", "serve", "--release-dir", str(release),
                                "--port", str(port), "--workers", "2"], env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return Server(url, process)
        except OSError:
            time.sleep(0.2)  # still starting
    process.kill()
    raise TimeoutError("lod serve did not start")


def query_bodies(data: Path, count: int) -> list[bytes]:
    """Distinct lookups, so that the result cache cannot answer them."""
    with (data / "organisations.csv").open(encoding="utf-8") as file:
        organisations = [row["slug"] for row in csv.DictReader(file)]
    with (data / "cooperations.csv").open(encoding="utf-8") as file:
        cooperations = [row["slug"] for row in csv.DictReader(file)]
    bodies = []
    for n in range(count):
        organisation = organisations[n % len(organisations)]
        cooperation = cooperations[n % len(cooperations)]
        if n % 2:
            query = f"SELECT ?p ?o WHERE {{ <{BASE}organisation/{organisation}> ?p ?o }}"
        else:
            query = (f"SELECT ?m ?r WHERE {{ ?x <http://www.w3.org/ns/org#organization> "
                     f"<{BASE}cooperation/{cooperation}> ; <http://www.w3.org/ns/org#member> ?m ; "
                     f"<http://www.w3.org/ns/org#role> ?r }}")
        bodies.append(encode(query))
    return bodies


def summary(window: object) -> dict[str, object]:
    samples = window.samples  # type: ignore[attr-defined]
    ok = [s.seconds for s in samples if s.error is None]
    statuses = Counter(str(s.status) for s in samples)
    return {"requests": len(samples), "throughput": round(len(ok) / window.wall, 1),  # type: ignore[attr-defined]
            "p50_ms": round(percentile(ok, 0.5) * 1000, 2), "p99_ms": round(percentile(ok, 0.99) * 1000, 2),
            "statuses": dict(statuses)}


def slow_reader(port: int, path: str, rate: int, stop: threading.Event, read: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path)
    response = connection.getresponse()
    total = 0
    while not stop.is_set():
        chunk = response.read(rate // 10)
        if not chunk:
            break
        total += len(chunk)
        time.sleep(0.1)  # `rate` bytes a second
    read.append(total)
    connection.close()


def with_slow_readers(server: Server, path: str, readers: int, rate: int, bodies: list[bytes],
                      seconds: float) -> tuple[dict[str, object], int]:
    stop = threading.Event()
    read: list[int] = []
    threads = [threading.Thread(target=slow_reader, args=(server.port, path, rate, stop, read))
               for _ in range(readers)]
    for thread in threads:
        thread.start()
    peak = 0
    sampler_stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampler_stop.is_set():
            peak = max(peak, server.memory())
            time.sleep(0.25)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        window = run_window(f"{server.url}sparql", bodies, JSON, concurrency=4, seconds=seconds, timeout=30)
    finally:
        stop.set()
        sampler_stop.set()
        for thread in (*threads, sampler):
            thread.join()
    return summary(window), peak


def runaway(server: Server, limit: float) -> dict[str, object]:
    before = server.memory()
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=limit + 30)
    connection.request("GET", "/sparql?" + urllib.parse.urlencode({"query": RUNAWAY, "format": "json"}))
    answer = connection.getresponse()
    answer.read()
    status = answer.status
    stopped_after = time.perf_counter() - started
    started = time.perf_counter()
    connection.request("GET", "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}))
    response = connection.getresponse()
    response.read()
    next_ms = (time.perf_counter() - started) * 1000
    time.sleep(1.5)  # the stopped child is replaced on the next query
    return {"status": status, "stopped_after_s": round(stopped_after, 2), "limit_s": limit,
            "next_query_status": response.status, "next_query_ms": round(next_ms, 1),
            "memory_before_mb": round(before / 2**20, 1),
            "memory_after_mb": round(server.memory() / 2**20, 1)}


def large_result(server: Server, rate: int) -> dict[str, object]:
    idle = server.memory()
    stop = threading.Event()
    read: list[int] = []
    query = urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o }", "format": "tsv"})
    reader = threading.Thread(target=slow_reader, args=(server.port, f"/sparql?{query}", rate, stop, read))
    reader.start()
    peak = idle
    deadline = time.monotonic() + 20
    while reader.is_alive() and time.monotonic() < deadline:
        peak = max(peak, server.memory())
        time.sleep(0.25)
    stop.set()
    reader.join()
    return {"idle_mb": round(idle / 2**20, 1), "peak_mb": round(peak / 2**20, 1),
            "bytes_read": read[0] if read else 0, "read_rate_bytes_per_s": rate}


def soak(server: Server, bodies: list[bytes], seconds: float) -> dict[str, object]:
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(server.memory())
            time.sleep(1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        window = run_window(f"{server.url}sparql", bodies * 50, JSON, concurrency=8, seconds=seconds,
                            timeout=30)
    finally:
        stop.set()
        sampler.join()
    quarter = max(1, len(samples) // 4)
    early, late = samples[:quarter], samples[-quarter:]
    return {**summary(window), "seconds": seconds,
            "memory_first_quarter_mb": round(max(early) / 2**20, 1),
            "memory_last_quarter_mb": round(max(late) / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--levels", default="1,4,16,64")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--soak", type=float, default=120)
    parser.add_argument("--query-timeout", type=float, default=5.0,
                        help="lod's query limit (the runaway query is stopped at it; the large "
                             "result must fit in it)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "load")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lod-load-"))
    data, release = work / "data", work / "release"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--scale", str(arguments.scale),
                    "--out", str(data)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "lod", "build", str(data), "--release-dir", str(release),
                    "--allow-warnings"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bodies = query_bodies(data, 20_000)
    results: dict[str, object] = {"scale": arguments.scale}
    timeout = arguments.query_timeout
    server = start(release, {"LOD_QUERY_TIMEOUT": str(timeout), "LOD_MAX_ROWS": "5000000",
                             "LOD_RESULT_CACHE_MB": "0"})
    try:
        results["levels"] = {level: summary(run_window(f"{server.url}sparql", bodies, JSON,
                                                       concurrency=int(level), seconds=arguments.seconds,
                                                       timeout=30))
                             for level in arguments.levels.split(",")}
        baseline = summary(run_window(f"{server.url}sparql", bodies, JSON, concurrency=4,
                                      seconds=arguments.seconds, timeout=30))
        slow, peak = with_slow_readers(server, "/download/lod-ikz.jsonld", readers=8, rate=20_000,
                                       bodies=bodies, seconds=arguments.seconds)
        results["slow_readers"] = {"baseline": baseline, "with_8_slow_readers": slow,
                                   "p99_ratio": round(slow["p99_ms"] / baseline["p99_ms"], 2),  # type: ignore[operator]
                                   "throughput_ratio": round(slow["throughput"] / baseline["throughput"], 2),  # type: ignore[operator]
                                   "peak_memory_mb": round(peak / 2**20, 1)}
        results["runaway"] = runaway(server, timeout)
        results["large_result"] = large_result(server, rate=200_000)
        results["soak"] = soak(server, bodies, arguments.soak)
    finally:
        server.stop()
    arguments.out.mkdir(parents=True, exist_ok=True)
    (arguments.out / "load.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    report = markdown(results)
    (arguments.out / "load.md").write_text(report, encoding="utf-8")
    print(report)


def markdown(results: dict[str, object]) -> str:
    lines = [f"# Load and soak, scale {results['scale']}", "",
             "| clients | req/s | p50 ms | p99 ms | statuses |", "|---|---|---|---|---|"]
    for level, row in results["levels"].items():  # type: ignore[attr-defined]
        lines.append(f"| {level} | {row['throughput']} | {row['p50_ms']} | {row['p99_ms']} "
                     f"| {row['statuses']} |")
    for key in ("slow_readers", "runaway", "large_result", "soak"):
        lines += ["", f"## {key}", "", "```", json.dumps(results[key], indent=2), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
