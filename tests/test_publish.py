"""Releases: complete, reproducible, switched in atomically, and never published from bad data."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from lod import InputError
from lod.rdf.store import ONTOLOGY_GRAPH, load_in_memory, open_store
from lod.release import publish as publish_module
from lod.release.layout import CURRENT, Release, ReleaseError, load_release, open_release, verify_checksums
from lod.release.publish import NotPublishable, build_release
from lod.settings import Settings

from .conftest import FIXTURES


def build(data: Path, release_dir: Path, **options: object) -> Release:
    return build_release(data, settings=Settings(release_dir=release_dir), allow_warnings=True, **options)


def store_quads(release: Release, *, default_only: bool) -> set[str]:
    """What the dumps hold: the data in the default graph (which queries see with every named
    graph's triples merged into it), and with ``default_only`` false the named graphs too."""
    store = open_store(release.store_path)
    named = [q for q in store.quads_for_pattern(None, None, None, None)
             if not isinstance(q.graph_name, ox.DefaultGraph)]
    merged = {q.triple for q in named}
    data = [q for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph()) if q.triple not in merged]
    if default_only:
        return {str(q.triple) for q in data}
    return {str(q) for q in (*data, *named)}


def test_queries_see_every_graph_in_the_default_graph(release_dir: Path) -> None:
    release = open_release(release_dir)
    store = open_store(release.store_path)
    default = {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    vocabulary = {q.triple for q in store.quads_for_pattern(None, None, None, ONTOLOGY_GRAPH)}
    assert vocabulary and vocabulary <= default
    assert len(default) == release.manifest.served_triples
    assert release.manifest.served_triples == release.manifest.triples + release.manifest.vocabulary_triples
    assert release.manifest.named_graphs == {ONTOLOGY_GRAPH.value: release.manifest.vocabulary_triples}


def test_release_is_complete(release_dir: Path) -> None:
    release = open_release(release_dir)
    assert (release_dir / CURRENT).is_symlink()
    manifest = release.manifest
    assert manifest.triples > 100
    assert {d.name for d in manifest.dumps} == {
        "lod-ikz.ttl", "lod-ikz.nt.gz", "lod-ikz.nq.gz", "lod-ikz.jsonld"}
    assert verify_checksums(release) == []
    for name in ("void.ttl", "catalog.ttl", "validation.ttl", "manifest.json"):
        assert (release.path / name).is_file()
    assert any("/id/organisation/" in iri for iri in manifest.example_resources)


@pytest.mark.parametrize(("name", "fmt", "default_only"), [
    ("lod-ikz.ttl", ox.RdfFormat.TURTLE, True),
    ("lod-ikz.nt.gz", ox.RdfFormat.N_TRIPLES, True),
    ("lod-ikz.jsonld", ox.RdfFormat.JSON_LD, True),
    ("lod-ikz.nq.gz", ox.RdfFormat.N_QUADS, False),
])
def test_dump_equals_store(release_dir: Path, name: str, fmt: ox.RdfFormat, default_only: bool) -> None:
    release = open_release(release_dir)
    path = release.path / "dumps" / name
    data = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    parsed = {str(q.triple if default_only else q) for q in ox.parse(data, format=fmt)}
    assert parsed == store_quads(release, default_only=default_only)
    assert len(parsed) >= release.manifest.triples


def test_equal_data_gives_equal_dumps(tmp_path: Path) -> None:
    """Whatever the hash seed of the process that builds (set and dict orders depend on it)."""
    checksums = []
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-m", "lod", "build", str(FIXTURES / "minimal"), "--release-dir",
                        str(tmp_path / seed), "--allow-warnings"], check=True, capture_output=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        checksums.append([d.sha256 for d in open_release(tmp_path / seed).manifest.dumps])
    assert checksums[0] == checksums[1]


def test_invalid_input_publishes_nothing(tmp_path: Path, minimal: Path) -> None:
    releases = tmp_path / "releases"
    before = build(minimal, releases)
    (minimal / "people.csv").write_text("slug,name,sources\nBad Slug,X,press-2020\n", encoding="utf-8")
    with pytest.raises(InputError):
        build(minimal, releases)
    assert open_release(releases).path == before.path
    assert [p.name for p in (releases / "builds").iterdir()] == [before.path.name]


def test_violations_publish_nothing(tmp_path: Path, minimal: Path) -> None:
    # A cooperation with a single member breaks the "at least two members" shape.
    lines = (minimal / "memberships.csv").read_text(encoding="utf-8").splitlines()
    (minimal / "memberships.csv").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    with pytest.raises(NotPublishable, match="nothing was published"):
        build(minimal, tmp_path / "releases")
    assert not (tmp_path / "releases" / CURRENT).exists()


def test_failed_build_leaves_the_release_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    releases = tmp_path / "releases"
    before = build(FIXTURES / "minimal", releases)

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish_module, "_write_dump", full_disk)
    with pytest.raises(ReleaseError, match=r"disk is full.*unchanged"):
        build(FIXTURES / "minimal", releases)
    assert open_release(releases).path == before.path
    assert verify_checksums(open_release(releases)) == []
    assert not list((releases / "builds").glob(".partial-*"))


def test_old_builds_are_pruned(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    settings = Settings(release_dir=releases, keep_releases=2)
    built = [build_release(FIXTURES / "minimal", settings=settings, allow_warnings=True) for _ in range(3)]
    kept = sorted(p.name for p in (releases / "builds").iterdir())
    assert kept == sorted(r.path.name for r in built[1:])
    assert open_release(releases).path == built[-1].path


@pytest.mark.parametrize("damage", ["manifest", "dump", "store"])
def test_damaged_release_is_refused(tmp_path: Path, damage: str) -> None:
    release = build(FIXTURES / "minimal", tmp_path / "releases")
    if damage == "manifest":
        (release.path / "manifest.json").write_text("{not json", encoding="utf-8")
    elif damage == "dump":
        with (release.path / "dumps" / "lod-ikz.ttl").open("r+b") as file:
            file.truncate(100)
    else:
        shutil.rmtree(release.store_path)
    with pytest.raises(ReleaseError, match=r"corrupt|missing|cannot"):
        load_release(release.path)


def test_no_release_yet(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="lod build"):
        open_release(tmp_path)


def test_the_store_in_memory_equals_the_store_on_disk(release_dir: Path) -> None:
    release = open_release(release_dir)
    disk = open_store(release.store_path)
    memory = load_in_memory(release.path / "dumps" / "lod-ikz.nq.gz")
    assert set(memory.quads_for_pattern(None, None, None, None)) == set(
        disk.quads_for_pattern(None, None, None, None))


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    from lod.files import write_atomically

    previous = os.umask(0o022)
    try:
        write_atomically(tmp_path / "out.ttl", b"x")
    finally:
        os.umask(previous)
    assert (tmp_path / "out.ttl").stat().st_mode & 0o777 == 0o644
