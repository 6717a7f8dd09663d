"""The build pipeline, timed per stage: `lod build` as users run it, and a straightforward
rdflib + pySHACL pipeline doing the same work as the baseline.

`lod build` prints its progress ("… reading", "… mapping", "… loading", "… validating",
"… describing", "… published") when its standard error is a terminal, so it runs on a
pseudo-terminal here and each line is timestamped: no change to `lod` is needed to see its stages.

The baseline runs in a process of its own (so its memory is its own):

    python benchmarks/pipeline.py baseline DATA_DIR OUT_DIR     # prints its stage times as JSON
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import pty
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The first word of a progress message of `lod build` names the stage it starts (an unknown word
# names a stage of its own); "published" ends the last. Stages named "a+b" do the work of
# the baseline's stages a and b together.
LOD_STAGES = {"reading": "read", "mapping": "map+store", "loading": "store",
              # validation, dumps and statistics run side by side in forked processes
              "validating": "validate+dumps+statistics+store", "describing": "metadata"}


@dataclass
class BuildTiming:
    """Seconds per stage, the whole wall time (process start to exit) and peak RSS."""

    stages: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    max_rss: int = 0
    triples: int = 0
    ok: bool = True
    output: str = ""

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def lod_build(data_dir: Path, release_dir: Path) -> BuildTiming:
    """Run `lod build DATA --release-dir DIR` and time its stages from its progress lines."""
    master, slave = pty.openpty()
    lines: list[tuple[float, str]] = []
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "lod", "build", str(data_dir), "--release-dir",
                                str(release_dir)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=slave)
    os.close(slave)

    def read_progress() -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                lines.append((time.monotonic(), line.decode("utf-8", "replace").strip()))

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    assert process.stdout is not None
    stdout = process.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    ended = time.monotonic()
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    os.close(master)
    timing = BuildTiming(wall=ended - started, max_rss=usage.ru_maxrss * 1024,
                         ok=process.returncode == 0,
                         output=stdout + "\n".join(line for _, line in lines if not line.startswith("…")))
    marks: list[tuple[str, float]] = []
    for stamp, line in lines:
        if not line.startswith("…"):
            continue
        word = (line.lstrip("… ").split() or [""])[0]
        stage = "end" if word == "published" else LOD_STAGES.get(word, word)
        if not marks or marks[-1][0] != stage:
            marks.append((stage, stamp))
    for (stage, begin), (_, end) in itertools.pairwise(marks):
        timing.stages[stage] = timing.stages.get(stage, 0.0) + end - begin
    if marks:
        timing.stages["start-up"] = marks[0][1] - started
        timing.stages["finish (prune, exit)"] = ended - marks[-1][1]
    for word in stdout.split():
        if word.isdigit():
            timing.triples = int(word)
            break
    return timing


def baseline_build(data_dir: Path, out_dir: Path) -> BuildTiming:
    """Run the rdflib + pySHACL baseline in a child process; its stages as it reports them."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, __file__, "baseline", str(data_dir), str(out_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = process.communicate()
    ended = time.monotonic()
    if process.returncode != 0:
        return BuildTiming(wall=ended - started, ok=False, output=stderr.decode()[-3000:])
    report = json.loads(stdout)
    return BuildTiming(stages=report["stages"], wall=ended - started, max_rss=report["max_rss"],
                       triples=report["triples"])


def _baseline(data_dir: Path, out_dir: Path) -> None:
    """The baseline itself: what one would write with rdflib and pySHACL and nothing else."""
    import resource
    from contextlib import contextmanager

    stages: dict[str, float] = {}

    @contextmanager
    def stage(name: str):  # type: ignore[no-untyped-def]
        begin = time.monotonic()
        yield
        stages[name] = time.monotonic() - begin

    with stage("start-up (imports)"):
        import pyshacl
        from rdflib import Dataset, Graph, URIRef

        import lod
        from lod.resources import turtle_files
    with stage("read"):
        dataset = lod.read_records(data_dir)
    with stage("map"):
        graph = lod.to_graph(dataset)
    with stage("validate"):
        shapes = Graph()
        for path in turtle_files("shapes"):
            shapes.parse(path, format="turtle")
        ontology = Graph()
        for path in turtle_files("ontology"):
            ontology.parse(path, format="turtle")
        # The shapes look concepts up in their schemes, so the vocabulary goes beside the data.
        pyshacl.validate(graph + ontology, shacl_graph=shapes, inference="none", advanced=True,
                         allow_warnings=True)
    with stage("store"):
        store = Dataset()
        store.default_graph += graph
        store.graph(URIRef("https://w3id.org/lod-ikz/def/")).__iadd__(ontology)
    with stage("dumps"):
        out_dir.mkdir(parents=True, exist_ok=True)
        graph.serialize(out_dir / "data.ttl", format="turtle", encoding="utf-8")
        with gzip.open(out_dir / "data.nt.gz", "wb") as file:
            file.write(graph.serialize(format="nt", encoding="utf-8"))
        with gzip.open(out_dir / "data.nq.gz", "wb") as file:
            file.write(store.serialize(format="nquads", encoding="utf-8"))
        graph.serialize(out_dir / "data.jsonld", format="json-ld", encoding="utf-8")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"stages": stages, "max_rss": usage.ru_maxrss * 1024, "triples": len(graph)}))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "baseline":
        sys.exit(__doc__)
    _baseline(Path(sys.argv[2]), Path(sys.argv[3]))
