"""The benchmark: our endpoint against the SPARQL servers a user would pick instead, in one
interleaved run, and `lod build` against a plain rdflib + pySHACL pipeline.

    python benchmarks/run.py --scale 0.1 --scale 1 --out benchmarks/out/
    python benchmarks/run.py --smoke          # scale 0.01, only `lod serve`, 2 s per class

For each scale: generate the CSV files (benchmarks/generate.py), time `lod build` and the baseline
pipeline, start every engine on 127.0.0.1 with the release's N-Triples dump and the vocabulary,
check that all engines give the same number of results for the same queries, then send the query
mix in rounds (class by class, the engines taken in turn, the order rotating each round) at a fixed
client concurrency. Writes results.json and results.md into --out; docs/performance.md explains
the figures.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import client
import peers
import pipeline
import procfs
import queries
import report

HERE = Path(__file__).resolve().parent
PROBES = 3
"""Queries per class and engine in the correctness check, sent one at a time."""


@dataclass
class Options:
    scales: list[float]
    engines: list[str]
    classes: list[str]
    concurrency: int
    duration: float
    rounds: int
    requests: int
    timeout: float
    query_timeout: float
    workers: int
    seed: int
    out: Path
    baseline: bool
    repeat: bool = False
    lod_settings: dict[str, str] = field(default_factory=dict)
    lod_baseline: Path | None = None


@dataclass
class Cell:
    """One engine on one query class, summed over the rounds."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    bytes: int = 0
    skipped: str | None = None
    """Why the class was not (or no longer) measured on this engine."""

    def add(self, window: client.Window, server_cpu: float) -> None:
        self.wall += window.wall
        self.server_cpu += server_cpu
        self.client_cpu += window.client_cpu
        for sample in window.samples:
            if sample.error is None:
                self.latencies.append(sample.seconds)
                self.bytes += sample.size
            else:
                self.errors[sample.error] = self.errors.get(sample.error, 0) + 1

    def summary(self) -> dict[str, Any]:
        ok = len(self.latencies)
        return {
            "requests": ok + sum(self.errors.values()),
            "ok": ok,
            "errors": dict(self.errors),
            "throughput": ok / self.wall if self.wall and ok else 0.0,
            "p50_ms": 1000 * client.percentile(self.latencies, 0.50) if ok else None,
            "p99_ms": 1000 * client.percentile(self.latencies, 0.99) if ok else None,
            "server_cpu_ms_per_request": 1000 * self.server_cpu / ok if ok else None,
            "client_cpu_ms_per_request": 1000 * self.client_cpu / ok if ok else None,
            "mean_response_bytes": self.bytes / ok if ok else None,
            "seconds": self.wall,
            "skipped": self.skipped,
        }


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- preparing a scale --------------------------------------------------------------------


def generate(scale: float, seed: int, directory: Path) -> int:
    # generate.py draws event localities from a set of strings, whose order depends on Python's
    # hash seed: fixing it makes the files the same on every run.
    done = subprocess.run([sys.executable, str(HERE / "generate.py"), "--scale", str(scale), "--seed",
                           str(seed), "--out", str(directory)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, check=True)
    return int(done.stdout.split()[1])


def nt_inputs(release_dir: Path, directory: Path) -> tuple[tuple[Path, ...], int]:
    """The release's N-Triples dump and the vocabulary as N-Triples: what the peers load."""
    directory.mkdir(parents=True)
    dump = next((release_dir / "current" / "dumps").glob("*.nt.gz"))
    data = directory / "data.nt"
    with gzip.open(dump, "rb") as source, data.open("wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)
    from lod.schemes import ontology_graph  # the same graph `lod build` puts in its store

    vocabulary = directory / "vocabulary.nt"
    ontology_graph().serialize(vocabulary, format="nt", encoding="utf-8")
    triples = 0
    for path in (data, vocabulary):
        with path.open("rb") as file:
            triples += sum(1 for line in file if line.strip() and not line.startswith(b"#"))
    return (data, vocabulary), triples


# --- measuring ----------------------------------------------------------------------------


def holds(url: str) -> int:
    """How many triples the engine's default graph (the union) holds: at least what was loaded
    (Virtuoso adds its own system graphs)."""
    status, _, body = client.fetch(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                   "application/sparql-results+json", timeout=300)
    if status != 200:
        return -1
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


class Bench:
    """The engines of one scale, and what has been measured of them."""

    def __init__(self, options: Options, inputs: peers.Inputs, texts: dict[str, list[str]]) -> None:
        self.options = options
        self.inputs = inputs
        self.texts = texts
        self.engines: dict[str, peers.Engine] = {}
        self.running: dict[str, peers.Running] = {}
        self.skipped: dict[str, str] = {}
        self.restarts: dict[str, int] = {}
        self.cells: dict[str, dict[str, Cell]] = {}
        self.checks: list[dict[str, Any]] = []
        self.memory = procfs.MemorySampler()

    def start(self) -> None:
        baseline = ["lod-baseline"] if self.options.lod_baseline else []
        for name in [*self.options.engines, *baseline]:
            engine: peers.Engine
            if name in ("lod", "lod-baseline"):
                engine = peers.Lod(query_timeout=self.options.query_timeout, workers=self.options.workers,
                                   settings=self.options.lod_settings,
                                   source=self.options.lod_baseline if name == "lod-baseline" else None)
            else:
                engine = peers.ENGINES[name](query_timeout=self.options.query_timeout)
            reason = engine.missing()
            if reason:
                log(f"skipping {name}: {reason}")
                self.skipped[name] = reason
                continue
            log(f"starting {name}")
            try:
                running = engine.start(self.inputs)
            except Exception as error:  # a peer that fails to start is reported, not fatal
                log(f"skipping {name}: it did not start: {error}")
                self.skipped[name] = f"did not start: {str(error)[:2000]}"
                continue
            held = holds(running.url)
            if held < self.inputs.triples:
                log(f"skipping {name}: it holds {held} triples, not the {self.inputs.triples} loaded")
                self.skipped[name] = f"holds {held} triples after loading, not {self.inputs.triples}"
                running.stop()
                continue
            running.notes.append(f"holds {held:,} triples")
            self.engines[name] = engine
            self.running[name] = running
            self.restarts[name] = 0
            self.cells[name] = {c: Cell() for c in self.options.classes}
            self.memory.watch(name, functools.partial(self._roots, name))
            log(f"{name} answers at {running.url} (load {running.load_seconds:.1f} s)")
        self.memory.start()

    def _roots(self, name: str) -> list[int]:
        return self.running[name].roots()

    def stop(self) -> None:
        self.memory.stop()
        for running in self.running.values():
            running.stop()

    def restart(self, name: str) -> None:
        """A peer still busy with queries the client gave up on is started afresh."""
        log(f"restarting {name}: still busy with abandoned queries")
        self.memory.sample(name)
        self.running[name].stop()
        self.running[name] = self.engines[name].start(self.inputs)
        self.restarts[name] += 1

    def settle(self, name: str) -> float:
        """Wait for the engine to be idle; restart it if it stays busy. Returns seconds waited."""
        waited = procfs.wait_until_idle(self.running[name].pids, limit=15.0)
        if waited > 15.0:
            self.restart(name)
        return waited

    def check(self) -> None:
        """Each class's first queries on every engine, one at a time: the same number of results
        everywhere? A class an engine fails or cannot answer within the time limit is not measured
        on that engine (at this concurrency it would only pile up)."""
        for name in self.options.classes:
            query_class = queries.BY_NAME[name]
            for index, text in enumerate(self.texts[name][:PROBES]):
                counts: dict[str, Any] = {}
                for engine, running in self.running.items():
                    cell = self.cells[engine][name]
                    if cell.skipped:
                        continue
                    started = time.perf_counter()
                    try:
                        status, headers, body = client.fetch(running.url, text, query_class.accept,
                                                             timeout=self.options.query_timeout + 5)
                        failure = client.problem(status, headers)
                        counts[engine] = client.count(query_class.form, body) if failure is None else failure
                    except TimeoutError:
                        failure = counts[engine] = "timeout"
                    except (OSError, ValueError, KeyError) as error:
                        failure = counts[engine] = f"{type(error).__name__}: {error}"
                    seconds = time.perf_counter() - started
                    if failure is not None:
                        detail = body[:300].decode("utf-8", "replace") if failure.startswith("HTTP") else ""
                        cell.skipped = (f"{failure} after {seconds:.1f} s on a single query "
                                        f"{detail}").strip()
                        log(f"{engine} {name}: not measured: {cell.skipped}")
                        self.settle(engine)
                numbers = {e: c for e, c in counts.items() if isinstance(c, int)}
                agree = len(set(numbers.values())) <= 1
                self.checks.append({"class": name, "index": index, "counts": counts,
                                    "compared": query_class.compare, "agree": agree})
                if query_class.compare and not agree:
                    log(f"MISMATCH {name} #{index}: {counts}")

    def measure(self) -> None:
        options = self.options
        seconds = options.duration / options.rounds
        names = list(self.running)
        for round_number in range(options.rounds):
            order = names[round_number % len(names):] + names[:round_number % len(names)]
            for name in options.classes:
                query_class = queries.BY_NAME[name]
                # Each round its own slice of the class's sequence: no query is sent twice.
                size = max(1, len(self.texts[name]) // options.rounds)
                texts = self.texts[name][round_number * size:(round_number + 1) * size]
                bodies = [client.encode(t) for t in texts]
                for engine in order:
                    cell = self.cells[engine][name]
                    if cell.skipped:
                        continue
                    running = self.running[engine]
                    before = procfs.cpu_seconds(running.pids())
                    window = client.run_window(running.url, bodies, query_class.accept,
                                               concurrency=options.concurrency, seconds=seconds,
                                               timeout=options.timeout)
                    procfs.wait_until_idle(running.pids, limit=15.0)
                    if self.running[engine] is running:
                        cell.add(window, procfs.cpu_seconds(running.pids()) - before)
                    timeouts = sum(1 for s in window.samples if s.error == "timeout")
                    if timeouts:
                        cell.skipped = (f"{timeouts} request(s) timed out after {options.timeout:g} s "
                                        f"in round {round_number + 1}; not measured further")
                        log(f"{engine} {name}: {cell.skipped}")
                        self.settle(engine)
                    summary = cell.summary()
                    log(f"round {round_number + 1} {name:16} {engine:16} "
                        f"{len(window.ok) / window.wall if window.wall else 0:8.1f} req/s "
                        f"p99 {summary['p99_ms'] or 0:8.1f} ms errors {len(window.samples) - len(window.ok)}")

    def results(self) -> dict[str, Any]:
        engines = {}
        for name, running in self.running.items():
            self.memory.sample(name)
            peak = self.memory.peaks[name]
            engines[name] = {
                "title": self.engines[name].title,
                "url": running.url,
                "load_seconds": running.load_seconds,
                "ready_seconds": running.ready_seconds,
                "peak_pss_bytes": peak.pss,
                "peak_rss_bytes": peak.rss_hwm,
                "restarts": self.restarts[name],
                "notes": running.notes,
                "classes": {c: cell.summary() for c, cell in self.cells[name].items()},
            }
        return {"engines": engines, "skipped_engines": self.skipped, "checks": self.checks}


def run_scale(options: Options, scale: float) -> dict[str, Any]:
    work = options.out / "work" / f"scale-{scale:g}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    log(f"scale {scale:g}: generating")
    records = generate(scale, options.seed, work / "data")
    log(f"scale {scale:g}: {records} records; lod build")
    build = pipeline.lod_build(work / "data", work / "release")
    if not build.ok:
        raise SystemExit(f"lod build failed at scale {scale:g}:\n{build.output}")
    baseline = None
    if options.baseline:
        log(f"scale {scale:g}: baseline pipeline (rdflib + pySHACL)")
        baseline = pipeline.baseline_build(work / "data", work / "baseline")
        shutil.rmtree(work / "baseline", ignore_errors=True)
    files, triples = nt_inputs(work / "release", work / "nt")
    log(f"scale {scale:g}: {triples} triples (data + vocabulary); lod build of the N-Triples file")
    # The same file the peers load (the vocabulary comes with every build): lod's load rate.
    from_rdf = pipeline.lod_build(files[0], work / "release-from-rdf")
    if not from_rdf.ok:
        raise SystemExit(f"lod build of {files[0]} failed at scale {scale:g}:\n{from_rdf.output}")
    shutil.rmtree(work / "release-from-rdf", ignore_errors=True)
    texts = queries.sequences(work / "data", seed=options.seed, length=options.rounds * options.requests,
                              repeat=options.repeat,
                              classes=tuple(queries.BY_NAME[c] for c in options.classes))
    inputs = peers.Inputs(release_dir=work / "release", files=files, triples=triples,
                          workdir=work / "engines")
    bench = Bench(options, inputs, texts)
    started = time.monotonic()
    try:
        bench.start()
        if "lod" in bench.running:
            # The stages of the build from N-Triples that fill its store in memory (from which
            # the next stage writes the store on disk while it validates).
            bench.running["lod"].load_seconds = sum(
                v for k, v in from_rdf.stages.items() if k in ("map+store", "store"))
        if not bench.running:
            raise SystemExit("no engine could be started")
        log(f"scale {scale:g}: correctness check")
        bench.check()
        log(f"scale {scale:g}: measuring")
        bench.measure()
        measured = bench.results()
    finally:
        bench.stop()
    return {
        "scale": scale,
        "records": records,
        "triples": triples,
        "data_triples": build.triples,
        "build": {"lod": build.to_json(), "baseline": baseline.to_json() if baseline else None,
                  "lod_from_rdf": from_rdf.to_json()},
        "query_seconds": time.monotonic() - started,
        "examples": {c: texts[c][0] for c in options.classes},
        "distinct_queries": {c: len(set(texts[c])) for c in options.classes},
        "sequence_length": {c: len(texts[c]) for c in options.classes},
        **measured,
    }


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "lod"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "loadavg_start": os.getloadavg(), "commit": commit + ("+changes in lod/" if dirty else ""),
            "started": datetime.now(UTC).isoformat(timespec="seconds")}


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, action="append",
                        help="scale of the generated data (repeatable; default 0.1)")
    parser.add_argument("--engines", default=",".join(peers.ENGINES),
                        help="comma-separated, from: " + ", ".join(peers.ENGINES))
    parser.add_argument("--classes", default=",".join(queries.BY_NAME),
                        help="comma-separated query classes (default: all)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--duration", type=float, default=5.0,
                        help="seconds of load per engine and query class, over all rounds (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--requests", type=int, default=2000,
                        help="at most this many requests per class, engine and round (default 2000); "
                             "fewer when the class has fewer distinct queries")
    parser.add_argument("--repeat", action="store_true",
                        help="repeat each class's queries to fill --requests (what a result cache "
                             "gains); by default no query is sent twice")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per request (s)")
    parser.add_argument("--query-timeout", type=float, default=10.0,
                        help="server-side query limit for the engines that have one (lod's default 10 s)")
    parser.add_argument("--workers", type=int, default=2, help="`lod serve --workers` (default 2)")
    parser.add_argument("--lod-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a `lod` setting for `lod serve` (as LOD_NAME), e.g. query_slots=4; repeatable")
    parser.add_argument("--lod-baseline", type=Path, metavar="DIR",
                        help="also serve the `lod` package found in DIR (another version's source tree, "
                             "e.g. `git worktree add /tmp/base HEAD`) as engine lod-baseline, measured "
                             "in the same rounds; it must read the release this version builds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path,
                        help="where results.json and results.md go (default benchmarks/out/, "
                             "benchmarks/out/smoke/ with --smoke)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the rdflib + pySHACL pipeline")
    parser.add_argument("--smoke", action="store_true",
                        help="a quick check of the harness: scale 0.01, lod only, 2 s per class, 1 round")
    arguments = parser.parse_args(argv)
    if arguments.out is None:
        arguments.out = HERE / "out" / ("smoke" if arguments.smoke else "")
    if arguments.smoke:
        arguments.scale = arguments.scale or [0.01]
        arguments.engines, arguments.duration, arguments.rounds = "lod", 2.0, 1
    engines = [e for e in arguments.engines.split(",") if e]
    classes = [c for c in arguments.classes.split(",") if c]
    unknown = [e for e in engines if e not in peers.ENGINES]
    unknown += [c for c in classes if c not in queries.BY_NAME]
    if unknown:
        parser.error(f"unknown engine or class: {', '.join(unknown)}")
    if any("=" not in s for s in arguments.lod_setting):
        parser.error("--lod-setting takes NAME=VALUE")
    return Options(scales=arguments.scale or [0.1], engines=engines, classes=classes,
                   concurrency=arguments.concurrency, duration=arguments.duration, rounds=arguments.rounds,
                   requests=arguments.requests, timeout=arguments.timeout,
                   query_timeout=arguments.query_timeout, workers=arguments.workers, seed=arguments.seed,
                   out=arguments.out.resolve(), baseline=not arguments.no_baseline,
                   repeat=arguments.repeat,
                   lod_settings=dict(s.split("=", 1) for s in arguments.lod_setting),
                   lod_baseline=arguments.lod_baseline.resolve() if arguments.lod_baseline else None)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    # A plain `kill` of the harness still stops the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    options.out.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()},
        "scales": [],
    }
    started = time.monotonic()
    for scale in options.scales:
        document["scales"].append(run_scale(options, scale))
        document["machine"]["loadavg_end"] = os.getloadavg()
        document["seconds"] = time.monotonic() - started
        (options.out / "results.json").write_text(json.dumps(document, indent=1, ensure_ascii=False))
        (options.out / "results.md").write_text(report.markdown(document), encoding="utf-8")
    log(f"done in {time.monotonic() - started:.0f} s: {options.out / 'results.md'}")
    print(report.markdown(document))
    return report.smoke_status(document)


if __name__ == "__main__":
    sys.exit(main())
