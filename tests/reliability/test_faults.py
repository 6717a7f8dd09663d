"""Faults: a build killed at any moment, a damaged release at start-up, a switch under load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from lod.release.layout import BUILDS, open_release, verify_checksums
from lod.release.publish import build_release
from lod.settings import Settings

from ..conftest import FIXTURES, ServerFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bigger_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated data: a killed build has real work under way at every stage."""
    data = tmp_path_factory.mktemp("generated")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--scale", "0.01",
                    "--out", str(data)], check=True, capture_output=True)
    return data


KILLED_BUILD = """
import os, signal, sys
from pathlib import Path
from lod.release.publish import build_release
from lod.settings import Settings
stage = sys.argv[3]

def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)

def progress(message: str) -> None:  # the build says each stage as it begins it
    if message.startswith(stage):
        die()

build_release([Path(sys.argv[1])], settings=Settings(release_dir=Path(sys.argv[2])), allow_warnings=True,
              progress=progress, before_switch=lambda *_: die() if stage == "switching" else None)
"""


@pytest.mark.parametrize("stage", ["reading", "mapping", "validating", "describing", "switching"])
def test_a_build_killed_at_any_stage_leaves_the_release_intact(tmp_path: Path, bigger_data: Path,
                                                               stage: str) -> None:
    releases = tmp_path / "releases"
    before = build_release(FIXTURES / "minimal", settings=Settings(release_dir=releases), allow_warnings=True)
    killed = subprocess.run([sys.executable, "-c", KILLED_BUILD, str(bigger_data), str(releases), str(stage)],
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # it died where it was told to
    served = open_release(releases)
    assert served.path == before.path  # the kill came before the switch: the old release is served
    assert verify_checksums(served) == []
    after_build = build_release(FIXTURES / "minimal", settings=Settings(release_dir=releases),
                                allow_warnings=True)
    assert open_release(releases).path == after_build.path
    assert not list((releases / BUILDS).glob(".partial-*"))


@pytest.mark.parametrize("damage", ["manifest", "store"])
def test_a_damaged_release_is_refused_at_start(tmp_path: Path, damage: str) -> None:
    releases = tmp_path / "releases"
    release = build_release(FIXTURES / "minimal", settings=Settings(release_dir=releases),
                            allow_warnings=True)
    if damage == "manifest":
        (release.path / "manifest.json").write_text('{"version": 1', encoding="utf-8")
    else:
        for file in (release.path / "store").iterdir():
            if file.suffix == ".sst":
                file.write_bytes(b"garbage")
    done = subprocess.run([sys.executable, "-m", "lod", "serve", "--release-dir", str(releases),
                           "--port", "1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "corrupt" in done.stderr and str(release.path) in done.stderr
    assert "Traceback" not in done.stderr


def test_switching_releases_under_load_fails_no_request(tmp_path: Path, lod_server: ServerFactory) -> None:
    releases = tmp_path / "releases"
    settings = Settings(release_dir=releases, keep_releases=3)
    build_release(FIXTURES / "minimal", settings=settings, allow_warnings=True)
    url = lod_server(releases, workers=2)
    query = urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "format": "json"})
    statuses: list[int] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                with urllib.request.urlopen(f"{url}sparql?{query}", timeout=10) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)

    clients = [threading.Thread(target=load) for _ in range(4)]
    for client in clients:
        client.start()
    try:
        for _ in range(2):
            build_release(FIXTURES / "minimal", settings=settings, allow_warnings=True)
            time.sleep(0.5)  # let requests run against the new release
    finally:
        stop.set()
        for client in clients:
            client.join()
    assert len(statuses) > 20
    assert set(statuses) == {200}
    assert os.readlink(releases / "current").startswith(BUILDS)
