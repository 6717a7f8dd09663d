"""A release directory on disk: its builds, the ``current`` link that names the one served, and
opening a build checked to be complete. Building and switching are :mod:`lod.release.publish`'s.

    {release_dir}/current -> builds/{release_id}
    {release_dir}/builds/{release_id}/manifest.json, store/, dumps/, metadata/
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lod.errors import LodError, UsageError
from lod.messages import tr, tr_n
from lod.rdf.store import StoreError, open_store, select
from lod.release.manifest import Manifest

__all__ = ["BUILDS", "CURRENT", "CurrentRelease", "Release", "ReleaseError", "kept_release", "kept_releases",
           "load_release", "open_release", "sha256_of", "verify_checksums"]

CURRENT = "current"
BUILDS = "builds"


class ReleaseError(LodError):
    """A release cannot be built, or a release directory is not a complete release."""

    status = 503


@dataclass(frozen=True)
class Release:
    """A complete build on disk."""

    path: Path
    manifest: Manifest

    @property
    def store_path(self) -> Path:
        return self.path / "store"

    def dump_path(self, name: str) -> Path | None:
        """The path of a dump by its file name, or None: never a path outside the release."""
        if any(d.name == name for d in self.manifest.dumps):
            return self.path / "dumps" / name
        return None


def open_release(release_dir: Path, *, check_store: bool = True) -> Release:
    """The release ``current`` points to, checked to be complete: manifest, dumps and store.

    Raises :class:`ReleaseError` with what is wrong when it is missing, partial or corrupt."""
    link = release_dir / CURRENT
    if not link.exists():
        raise ReleaseError(tr("no release in {release_dir}/ yet: run `lod build` first",
                              release_dir=release_dir))
    path = link.resolve()
    return load_release(path, check_store=check_store)


def load_release(path: Path, *, check_store: bool = True) -> Release:
    """Check and open the build at ``path``; ``check_store`` also opens the store and counts it.

    Server workers leave the store to their query processes: a RocksDB handle opened in a worker
    thread crashes the worker as it exits."""
    try:
        manifest = Manifest.from_json((path / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReleaseError(tr("{path} is not a complete release: manifest.json is missing",
                              path=path)) from None
    except (ValueError, KeyError, TypeError, UsageError) as error:
        raise ReleaseError(tr("{path}/manifest.json is corrupt: {error}", path=path, error=error)) from None
    for dump in manifest.dumps:
        file = path / "dumps" / dump.name
        if not file.is_file() or file.stat().st_size != dump.size:
            raise ReleaseError(tr("{path} is corrupt: dump {dump} is missing or has the wrong size",
                                  path=path, dump=dump.name))
    if not check_store:
        return Release(path, manifest)
    try:
        counted = select(open_store(path / "store"), "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        triples = int(counted[0][0].value)
    except (StoreError, OSError) as error:
        raise ReleaseError(tr("{path} is corrupt: {error}", path=path, error=error)) from None
    if triples != manifest.served_triples:
        raise ReleaseError(tr_n("{path} is corrupt: the store holds {count} triple, "
                                "the manifest says {expected}",
                                "{path} is corrupt: the store holds {count} triples, "
                                "the manifest says {expected}",
                                triples, path=path, expected=manifest.served_triples))
    return Release(path, manifest)


def kept_releases(release_dir: Path) -> list[Release]:
    """The finished builds kept in ``builds/``, newest first, each checked as :func:`load_release`
    checks it without opening its store. A build that cannot be loaded (corrupt, or pruned while
    it was read) is left out; no ``builds/`` yet is none.

    Release ids begin with their time of creation to the millisecond, so the newest sorts last,
    as pruning expects."""
    found = []
    for entry in sorted(_builds(release_dir), key=lambda path: path.name, reverse=True):
        try:
            found.append(load_release(entry, check_store=False))
        except (ReleaseError, OSError):
            continue
    return found


def kept_release(release_dir: Path, release_id: str) -> Release | None:
    """The kept build ``release_id``, or None when there is no such finished build (any more).

    The id is compared with the names listed in ``builds/``, never joined into a path: whatever a
    client sends (``..``, slashes, a leftover ``.partial-…``), nothing else can be reached."""
    entry = next((path for path in _builds(release_dir) if path.name == release_id), None)
    if entry is None:
        return None
    try:
        return load_release(entry, check_store=False)
    except (ReleaseError, OSError):
        return None


def _builds(release_dir: Path) -> list[Path]:
    """The finished builds' directories: names not starting with '.' (a build is written under
    ``.partial-…`` and renamed when complete)."""
    try:
        return [path for path in (release_dir / BUILDS).iterdir()
                if not path.name.startswith(".") and path.is_dir()]
    except FileNotFoundError:
        return []


def verify_checksums(release: Release) -> list[str]:
    """Dumps whose SHA-256 differs from the manifest's (reads every dump; for ``lod verify``)."""
    return [d.name for d in release.manifest.dumps
            if sha256_of(release.path / "dumps" / d.name) != d.sha256]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class CurrentRelease:
    """The release to serve. It follows the ``current`` link, so a new build is picked up on the
    next request; requests already answering go on with the release they started with."""

    release_dir: Path
    fixed: Release | None = None
    _release: Release | None = None
    _target: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _link: str = field(init=False)

    def __post_init__(self) -> None:
        self._link = str(self.release_dir / CURRENT)

    def get(self) -> Release:
        if self.fixed is not None:
            return self.fixed
        try:  # once per request: one system call on a path made once
            target: str | None = os.readlink(self._link)
        except OSError:  # no link (yet): the release directory itself, or an error that says why
            target = None
        with self._lock:
            if self._release is None or target != self._target:
                # `lod serve` checked the store before starting; the query processes open it.
                self._release = (open_release(self.release_dir, check_store=False) if target is None
                                 else load_release((self.release_dir / target).resolve(), check_store=False))
                self._target = target
            return self._release
