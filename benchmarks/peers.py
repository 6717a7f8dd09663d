"""The engines under test, each started on 127.0.0.1 on a free port, loaded, and polled until it
answers: our endpoint (`lod serve`), OpenLink Virtuoso 7, Oxigraph's server and rdflib-endpoint.

A peer that is not installed is skipped with the command that installs it:

    python benchmarks/peers.py check               # what is there, and how to get what is not
    python benchmarks/peers.py install oxigraph    # a venv under benchmarks/out/venvs/
    python benchmarks/peers.py install rdflib-endpoint
    apt-get install -y virtuoso-opensource         # Debian's Virtuoso 7 (as root)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import procfs

HERE = Path(__file__).resolve().parent
VENVS = HERE / "out" / "venvs"
PROBE = "ASK { ?s ?p ?o }"


@dataclass(frozen=True)
class Inputs:
    """What the engines serve at one scale."""

    release_dir: Path
    """`lod build`'s release, which `lod serve` serves."""
    files: tuple[Path, ...]
    """N-Triples files the peers load into their default graph: the data and the vocabulary."""
    triples: int
    """Triples in ``files`` together (what every engine holds)."""
    workdir: Path
    """An empty directory for the engines' databases and logs."""


@dataclass
class Running:
    """A started engine."""

    name: str
    url: str
    """The SPARQL endpoint."""
    processes: list[subprocess.Popen[bytes]]
    load_seconds: float
    """Loading the data (for `lod`: filled in from the build's store stage)."""
    ready_seconds: float
    """From starting the server until it answered its first query."""
    log: Path
    notes: list[str] = field(default_factory=list)

    def roots(self) -> list[int]:
        return [p.pid for p in self.processes if p.poll() is None]

    def pids(self) -> list[int]:
        return procfs.tree(self.roots())

    def stop(self) -> None:
        """SIGTERM to each started process, then SIGKILL to whatever of its tree is left."""
        for process in self.processes:
            pids = procfs.tree([process.pid]) if process.poll() is None else []
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
            for pid in pids:
                if pid != process.pid and (Path("/proc") / str(pid)).exists():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)


class EngineMissing(Exception):
    """The engine cannot run here; the message says how to install it."""


class Engine(ABC):
    name: str
    title: str

    def __init__(self, *, query_timeout: float = 10.0) -> None:
        self.query_timeout = query_timeout
        """Seconds after which the engine itself stops a query, where it can (lod's default: 10)."""

    @abstractmethod
    def missing(self) -> str | None:
        """None when the engine can run here; else why not and how to install it."""

    @abstractmethod
    def start(self, inputs: Inputs) -> Running:
        """Start the engine, load ``inputs`` and return once it answers queries."""


# --- helpers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ask(url: str, query: str = PROBE, *, timeout: float = 5.0) -> int:
    """POST ``query`` to ``url``; the HTTP status (0 when nothing answers)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request("POST", parts.path, body=urllib.parse.urlencode({"query": query}),
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()


def wait_for(ready: Callable[[], bool], *, what: str, process: subprocess.Popen[bytes], log: Path,
             limit: float) -> float:
    """Poll ``ready`` until it holds; fail at once when ``process`` ends, or after ``limit`` s."""
    started = time.monotonic()
    pause = 0.02
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the process ended with status {process.returncode}\n{tail(log)}")
        if time.monotonic() - started > limit:
            raise RuntimeError(f"{what}: not ready after {limit:.0f} s\n{tail(log)}")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)
    return time.monotonic() - started


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _executable(name: str, venv: str, variable: str) -> str | None:
    """An engine's command: $variable, then our venv for it, then beside this Python, then PATH."""
    candidates = [os.environ.get(variable), str(VENVS / venv / "bin" / name),
                  str(Path(sys.executable).parent / name), shutil.which(name)]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def fresh_dir(parent: Path, name: str) -> Path:
    """A new directory ``parent/name`` (``name-2``, ``name-3`` … when an engine is restarted)."""
    for number in range(1, 1000):
        directory = parent / (name if number == 1 else f"{name}-{number}")
        if not directory.exists():
            directory.mkdir(parents=True)
            return directory
    raise RuntimeError(f"too many restarts of {name}")


def _popen(command: list[str], log: Path, *, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # A session of its own: a Ctrl-C at the harness does not reach the servers half-way.
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=cwd, env=env)


# --- our endpoint -------------------------------------------------------------------------


class Lod(Engine):
    name = "lod"
    title = "lod serve"

    def __init__(self, *, query_timeout: float = 10.0, workers: int = 2,
                 settings: dict[str, str] | None = None, source: Path | None = None) -> None:
        super().__init__(query_timeout=query_timeout)
        self.workers = workers
        self.settings = settings or {}
        """Extra `lod` settings, as LOD_<NAME> environment variables (for tuning experiments)."""
        self.source = source
        """Another version's source tree (holding the `lod` package), served as `lod-baseline`."""
        if source is not None:
            self.name, self.title = "lod-baseline", f"lod serve from {source}"

    def missing(self) -> str | None:
        try:
            import lod  # noqa: F401
        except ImportError:
            return "lod is not importable: run the harness with the project's venv (pip install -e .)"
        return None

    def start(self, inputs: Inputs) -> Running:
        port = free_port()
        log = fresh_dir(inputs.workdir, "lod") / "server.out"
        url = f"http://127.0.0.1:{port}/sparql"
        started = time.monotonic()
        process = _popen([sys.executable, "-m", "lod", "serve", "--release-dir", str(inputs.release_dir),
                          "--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers)],
                         log, cwd=log.parent,
                         env={**os.environ, "LOD_QUERY_TIMEOUT": f"{self.query_timeout:g}",
                              **({"PYTHONPATH": str(self.source)} if self.source else {}),
                              **{f"LOD_{k.upper()}": v for k, v in self.settings.items()}})
        wait_for(lambda: ask(url) == 200, what="lod serve", process=process, log=log, limit=300)
        return Running(self.name, url, [process], load_seconds=0.0,
                       ready_seconds=time.monotonic() - started, log=log,
                       notes=[f"`lod serve --workers {self.workers}`" + "".join(
                           f", {k}={v}" for k, v in self.settings.items())])


# --- Virtuoso -----------------------------------------------------------------------------

VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{isql_port}
DisableUnixSocket        = 1
DisableTcpSocket         = 0
ServerThreads            = 20
CheckpointInterval       = 0
O_DIRECT                 = 0
CaseMode                 = 2
MaxStaticCursorRows      = 5000
CheckpointAuditTrail     = 0
AllowOSCalls             = 0
SchedulerInterval        = 10
DirsAllowed              = ., {data_dir}
ThreadCleanupInterval    = 0
ThreadThreshold          = 10
ResourcesCleanupInterval = 0
FreeTextBatchSize        = 100000
SingleCPU                = 0
PrefixResultNames        = 0
RdfFreeTextRulesSize     = 100
IndexTreeMaps            = 256
MaxMemPoolSize           = 200000000
PrefixResultNames        = 0
MacSpotlight             = 0
MaxQueryMem              = 2G
VectorSize               = 1000
MaxVectorSize            = 1000000
AdjustVectorSize         = 0
ThreadsPerQuery          = 2
AsyncQueueMaxThreads     = 10
; the row for "2 GB of memory free" in Debian's virtuoso.ini
NumberOfBuffers          = 170000
MaxDirtyBuffers          = 130000

[HTTPServer]
ServerPort                  = 127.0.0.1:{http_port}
ServerRoot                  = {dir}
MaxClientConnections        = 32
DavRoot                     = DAV
EnabledDavVSP               = 0
HTTPProxyEnabled            = 0
TempASPXDir                 = 0
ServerThreads               = 32
MaxKeepAlives               = 32
KeepAliveTimeout            = 10
MaxCachedProxyConnections   = 10
ProxyConnectionCacheTimeout = 15
HTTPThreadSize              = 280000
HttpPrintWarningsInOutput   = 0
Charset                     = UTF-8
EnabledGzipContent          = 0

[Client]
SQL_PREFETCH_ROWS  = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT  = 0
SQL_TXN_TIMEOUT    = 0

[SPARQL]
ResultSetMaxRows           = 1000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime      = {timeout}
DeferInferenceRulesInit    = 1
MaxSortedTopRows           = 100000
"""

GRAPH = "urn:lod-bench:data"


class Virtuoso(Engine):
    name = "virtuoso"
    title = "OpenLink Virtuoso 7"

    def missing(self) -> str | None:
        if shutil.which("virtuoso-t") and (shutil.which("isql-vt") or shutil.which("isql")):
            return None
        return ("Virtuoso is not installed: apt-get update && apt-get install -y virtuoso-opensource "
                "(Debian's package; the harness starts its own server on 127.0.0.1, not the system one)")

    def start(self, inputs: Inputs) -> Running:
        directory = fresh_dir(inputs.workdir, "virtuoso")
        data_dir = inputs.files[0].parent
        isql_port, http_port = free_port(), free_port()
        ini = directory / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(dir=directory, data_dir=data_dir, isql_port=isql_port,
                                           http_port=http_port, timeout=round(self.query_timeout)))
        log = directory / "server.out"
        started = time.monotonic()
        process = _popen(["virtuoso-t", "+foreground", "+configfile", str(ini)], log, cwd=directory)
        isql = shutil.which("isql-vt") or "isql"

        def sql(statements: str, timeout: float) -> str:
            script = directory / "script.sql"
            script.write_text(statements)
            done = subprocess.run([isql, f"127.0.0.1:{isql_port}", "dba", "dba", str(script)],
                                  capture_output=True, text=True, timeout=timeout, check=False)
            if done.returncode != 0 or "*** Error" in done.stdout:
                raise RuntimeError(f"virtuoso isql failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            return done.stdout

        def answers_sql() -> bool:
            try:
                sql("status();\n", timeout=10)
                return True
            except (RuntimeError, subprocess.TimeoutExpired):
                return False

        wait_for(answers_sql, what="virtuoso (isql)", process=process, log=log, limit=300)
        loading = time.monotonic()
        names = ", ".join(f"'{f.name}'" for f in inputs.files)
        output = sql("".join(f"ld_dir('{data_dir}', '{f.name}', '{GRAPH}');\n" for f in inputs.files)
                     + "rdf_loader_run();\ncheckpoint;\n"
                     + "SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;\n",
                     timeout=3600)
        load_seconds = time.monotonic() - loading
        if "0 Rows." not in output.rsplit("SELECT", 1)[-1]:
            raise RuntimeError(f"virtuoso could not load {names}:\n{output[-2000:]}")
        url = f"http://127.0.0.1:{http_port}/sparql"
        wait_for(lambda: ask(url) == 200, what="virtuoso (HTTP)", process=process, log=log, limit=120)
        return Running(self.name, url, [process], load_seconds=load_seconds,
                       ready_seconds=time.monotonic() - started, log=log,
                       notes=[f"{_virtuoso_version()}; NumberOfBuffers 170000 (2 GB), ld_dir + "
                              "rdf_loader_run + checkpoint, one graph, queries see all graphs; "
                              "MaxQueryExecutionTime gives partial results, counted as errors"])


def _virtuoso_version() -> str:
    done = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True, check=False)
    for line in (done.stdout + done.stderr).splitlines():
        if "Version" in line:
            return "Virtuoso " + line.split("Version", 1)[1].strip().split()[0]
    return "Virtuoso"


# --- Oxigraph -----------------------------------------------------------------------------


class Oxigraph(Engine):
    name = "oxigraph"
    title = "Oxigraph server"

    def missing(self) -> str | None:
        if _executable("oxigraph", "oxigraph", "LOD_BENCH_OXIGRAPH"):
            return None
        return ("Oxigraph's server is not installed: python benchmarks/peers.py install oxigraph "
                f"(pip install oxigraph into {VENVS / 'oxigraph'}), or set LOD_BENCH_OXIGRAPH")

    def start(self, inputs: Inputs) -> Running:
        command = _executable("oxigraph", "oxigraph", "LOD_BENCH_OXIGRAPH")
        assert command is not None
        directory = fresh_dir(inputs.workdir, "oxigraph")
        log = directory / "server.out"
        loading = time.monotonic()
        with log.open("ab") as out:
            subprocess.run([command, "load", "--location", str(directory / "store"),
                            *(argument for f in inputs.files for argument in ("--file", str(f)))],
                           stdout=out, stderr=subprocess.STDOUT, check=True)
        load_seconds = time.monotonic() - loading
        port = free_port()
        url = f"http://127.0.0.1:{port}/query"
        started = time.monotonic()
        process = _popen([command, "serve-read-only", "--location", str(directory / "store"),
                          "--bind", f"127.0.0.1:{port}", "--timeout-s", f"{round(self.query_timeout)}"], log)
        wait_for(lambda: ask(url) == 200, what="oxigraph", process=process, log=log, limit=120)
        version = subprocess.run([command, "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip()
        return Running(self.name, url, [process], load_seconds=load_seconds,
                       ready_seconds=time.monotonic() - started, log=log,
                       notes=[f"{version}, `oxigraph load` then `serve-read-only`"])


# --- rdflib-endpoint ----------------------------------------------------------------------


class RdflibEndpoint(Engine):
    name = "rdflib-endpoint"
    title = "rdflib-endpoint"

    def missing(self) -> str | None:
        if _executable("rdflib-endpoint", "rdflib-endpoint", "LOD_BENCH_RDFLIB_ENDPOINT"):
            return None
        return ("rdflib-endpoint is not installed: python benchmarks/peers.py install rdflib-endpoint "
                f"(pip install 'rdflib-endpoint[cli]' into {VENVS / 'rdflib-endpoint'})")

    def start(self, inputs: Inputs) -> Running:
        command = _executable("rdflib-endpoint", "rdflib-endpoint", "LOD_BENCH_RDFLIB_ENDPOINT")
        assert command is not None
        directory = fresh_dir(inputs.workdir, "rdflib-endpoint")
        log = directory / "server.out"
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        # It parses the files into an in-memory rdflib Dataset, then starts serving.
        process = _popen([command, "serve", *map(str, inputs.files), "--host", "127.0.0.1",
                          "--port", str(port)], log, cwd=directory)
        ready = wait_for(lambda: ask(url) == 200, what="rdflib-endpoint", process=process, log=log,
                         limit=1800)
        return Running(self.name, url, [process], load_seconds=ready, ready_seconds=ready, log=log,
                       notes=["`rdflib-endpoint serve FILES` (rdflib in-memory store, one uvicorn "
                              "process, no query time limit)"])


ENGINES: dict[str, type[Engine]] = {
    "lod": Lod, "virtuoso": Virtuoso, "oxigraph": Oxigraph, "rdflib-endpoint": RdflibEndpoint}


# --- installing ---------------------------------------------------------------------------

PIP_PEERS = {"oxigraph": ["oxigraph"], "rdflib-endpoint": ["rdflib-endpoint[cli]"]}


def install(name: str) -> None:
    """Install a PyPI peer into a venv of its own, so its pins never meet the project's."""
    if name == "virtuoso":
        command = ["apt-get", "install", "-y", "virtuoso-opensource"]
        print("run as root:", " ".join(command))
        return
    venv = VENVS / name
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PIP_PEERS[name]], check=True)
    print(f"installed {name} into {venv}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="which engines can run here")
    installing = commands.add_parser("install", help="install a peer")
    installing.add_argument("engine", choices=["oxigraph", "rdflib-endpoint", "virtuoso"])
    arguments = parser.parse_args()
    if arguments.command == "install":
        install(arguments.engine)
        return
    for name, make in ENGINES.items():
        reason = make().missing()
        print(f"{name:16} {'ok' if reason is None else reason}")


if __name__ == "__main__":
    main()
