"""Shared fixtures: copies of the small fixture dataset that a test may edit."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# The property tests draw the same examples on every run, so that a run fails only when the code
# changed; LOD_EXPLORE=1 draws new ones (and keeps what fails in .hypothesis/ to replay it).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile("explore" if os.environ.get("LOD_EXPLORE") else "repeatable")

# The command line speaks the locale's language (lod.messages); the tests that read its messages
# expect English, unless they choose German themselves. Servers the tests start inherit this.
for _name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/minimal, a small dataset that conforms."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "minimal", target)
    return target


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release built once from the minimal fixture, shared by the tests that only read it."""
    from lod.release.publish import build_release
    from lod.settings import Settings

    directory = tmp_path_factory.mktemp("release")
    build_release(FIXTURES / "minimal", settings=Settings(release_dir=directory), allow_warnings=True)
    return directory


@dataclass(frozen=True)
class History:
    """Releases built one after another into one release directory, the oldest first."""

    release_dir: Path
    data: Path
    ids: tuple[str, ...]


RENAMED = "Landeshauptstadt Dresden"
ADDED_ROW = ("vka,association,Vereinigung der kommunalen Arbeitgeberverbände,"
             "Association of Municipal Employers,VKA,,,,,,,,press-2020")


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """Three releases of the minimal fixture: as it is; with Dresden renamed in German; with the
    VKA added and Dresden's Eigenbetrieb IT (eb-it) removed."""
    from lod.release.publish import build_release
    from lod.settings import Settings

    root = tmp_path_factory.mktemp("history")
    data, directory = root / "data", root / "release"
    shutil.copytree(FIXTURES / "minimal", data)
    organisations = data / "organisations.csv"

    def build() -> str:
        settings = Settings(release_dir=directory)
        return build_release(data, settings=settings, allow_warnings=True).manifest.release_id

    first = build()
    text = organisations.read_text(encoding="utf-8")
    assert ",municipality,Dresden," in text
    organisations.write_text(text.replace(",municipality,Dresden,", f",municipality,{RENAMED},"),
                             encoding="utf-8")
    second = build()
    rows = organisations.read_text(encoding="utf-8").splitlines()
    rows = [row for row in rows if not row.startswith("eb-it,")]
    organisations.write_text("\n".join([*rows, ADDED_ROW]) + "\n", encoding="utf-8")
    third = build()
    return History(directory, data, (first, second, third))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    """Poll /healthz until it answers 200; fail early if the server died."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"lod serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)  # the server is starting; ask again shortly
    raise TimeoutError("lod serve did not become healthy in time")


ServerFactory = Callable[..., str]


@contextmanager
def serving_with_plans_logged(release_dir: Path, log: Path) -> Iterator[str]:
    """A `lod serve` (one worker) that logs each query the planner rewrote into ``log``; its URL."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "lod", "serve", "--release-dir", str(release_dir), "--port", str(port),
             "--workers", "1"], stdout=output, stderr=subprocess.STDOUT,
            env={**os.environ, "LOD_LOG_PLANS": "true"})
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_healthy(url, process, time.monotonic() + 60)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def lod_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """Starts real `lod serve` processes on free ports of 127.0.0.1: ``url = lod_server(release_dir,
    workers=1, env={...})``; all are stopped when the module's tests are done."""
    started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(release_dir: Path, *, workers: int = 2, env: dict[str, str] | None = None) -> str:
        port = free_port()
        log = tmp_path_factory.mktemp("serve") / "serve.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "lod", "serve", "--release-dir", str(release_dir),
                 "--port", str(port), "--workers", str(workers)],
                stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        started.append((process, log))
        url = f"http://127.0.0.1:{port}/"
        wait_until_healthy(url, process, time.monotonic() + 60)
        return url

    yield start
    for process, _log in started:
        process.terminate()
    for process, log in started:
        process.wait(timeout=30)
        crashes = [line for line in log.read_text(errors="replace").splitlines() if "was sent SIG" in line]
        assert not crashes, f"a worker of lod serve crashed: {crashes}"


@contextmanager
def port_nobody_may_call() -> Iterator[int]:
    """A listening port on 127.0.0.1 that the code under test must not connect to; checked when
    the block ends."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])
        listener.settimeout(0.5)
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody came
