"""How long a release takes to say what changed (issue #16): two releases of generated data that
differ in 1 % of their records, compared at several scales, so that the time per triple shows
whether the diff is linear in the size of the data.

    python benchmarks/changes.py --scales 0.5 1

For each scale: the generated data is built, 1 % of its organisations are renamed and 1 % of its
memberships given another role, the result is built again (the build writes ``changes/``), and then the two
releases are compared once more as ``lod diff`` compares them, in a process of its own, whose
wall time and peak memory are printed.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import main as generate

from lod.release.changes import read_changes
from lod.release.publish import build_release
from lod.settings import Settings

# What `lod diff OLD NEW` does, in a process of its own that prints its peak resident set (KiB):
# VmHWM, as getrusage's maximum survives exec and would count the builds of this process.
COMPARE = """
import sys
from pathlib import Path
from lod.release.changes import difference
difference(Path(sys.argv[1]), Path(sys.argv[2]), base_iri="")
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def edit(data: Path, share: float) -> int:
    """Rename ``share`` of the organisations and give ``share`` of the memberships another role;
    the records edited."""
    edited = 0
    renamed = {"name_de": lambda name: f"{name} (neu)",
               "roles": lambda roles: "member" if roles == "partner" else "partner"}
    for name, column in (("organisations.csv", "name_de"), ("memberships.csv", "roles")):
        path = data / name
        with path.open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
        every = round(1 / share)
        for row in rows[::every]:
            row[column] = renamed[column](row[column])
            edited += 1
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return edited


def measure(scale: float, work: Path) -> None:
    data = work / f"data-{scale}"
    generate(["--scale", str(scale), "--out", str(data)])
    settings = Settings(release_dir=work / f"release-{scale}")
    first = build_release(data, settings=settings, allow_warnings=True)
    edited = edit(data, 0.01)
    started = time.perf_counter()
    second = build_release(data, settings=settings, allow_warnings=True)
    build_seconds = time.perf_counter() - started
    changes = read_changes(second.path)
    assert changes is not None
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", COMPARE, str(first.path), str(second.path)], check=True,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = int(done.stdout) / 1024
    triples = first.manifest.triples
    print(f"scale {scale:>4}: {triples:>9,} triples, {edited:,} records edited; build with changes "
          f"{build_seconds:6.1f} s; lod diff {seconds:5.2f} s ({seconds / triples * 1e6:.2f} µs per triple), "
          f"peak {peak:.0f} MiB; {changes.summary()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0])
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="changes-") as temporary:
        for scale in arguments.scales:
            measure(scale, Path(temporary))


if __name__ == "__main__":
    main()
