"""`lod build` with RDF files as inputs: alone, beside CSV records, validated like records."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from lod import InputError
from lod.rdf.store import open_store
from lod.release.layout import CURRENT, Release, open_release
from lod.release.publish import NotPublishable, build_release
from lod.settings import Settings

from .conftest import FIXTURES

THING = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://example.org/thing/1> rdfs:label "Ding"@de ; dcterms:description "Ein Ding"@de .
"""


def build(inputs: list[Path], releases: Path) -> Release:
    return build_release(inputs, settings=Settings(release_dir=releases), allow_warnings=True)


def default_graph(release: Release) -> set[ox.Triple]:
    store = open_store(release.store_path)
    return {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}


def test_a_dump_rebuilds_the_same_release(release_dir: Path, tmp_path: Path) -> None:
    original = open_release(release_dir)
    rebuilt = build([original.path / "dumps" / "lod-ikz.nt.gz"], tmp_path / "releases")
    assert default_graph(rebuilt) == default_graph(original)
    for field in ("triples", "entities", "class_counts", "property_counts", "vocabularies",
                  "example_resources", "vocabulary_triples"):
        assert getattr(rebuilt.manifest, field) == getattr(original.manifest, field), field


def test_rdf_beside_records(tmp_path: Path) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text(THING, encoding="utf-8")
    records_only = build([FIXTURES / "minimal"], tmp_path / "a")
    both = build([FIXTURES / "minimal", extra], tmp_path / "b")
    added = default_graph(both) - default_graph(records_only)
    assert {str(t.subject) for t in added} == {"<https://example.org/thing/1>"}
    assert both.manifest.triples == records_only.manifest.triples + 2
    assert both.manifest.inputs == (str(FIXTURES / "minimal"), str(extra))


def test_named_graphs_of_quads_are_kept(tmp_path: Path) -> None:
    quads = tmp_path / "more.nq.gz"
    quads.write_bytes(gzip.compress(
        b'<https://example.org/a> <https://example.org/p> "x" <https://example.org/g> .\n'))
    release = build([FIXTURES / "minimal", quads], tmp_path / "releases")
    store = open_store(release.store_path)
    graph = ox.NamedNode("https://example.org/g")
    assert len(list(store.quads_for_pattern(None, None, None, graph))) == 1
    with gzip.open(release.path / "dumps" / "lod-ikz.nq.gz", "rt", encoding="utf-8") as dump:
        assert "<https://example.org/g> ." in dump.read()


def test_rdf_that_breaks_the_shapes_is_not_published(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    before = build([FIXTURES / "minimal"], releases)
    organisation = tmp_path / "organisation.ttl"
    organisation.write_text("<https://example.org/org/1> a <http://www.w3.org/ns/org#Organization> .\n",
                            encoding="utf-8")
    with pytest.raises(NotPublishable, match=r"(?s)https://example.org/org/1.*kind is required"):
        build([FIXTURES / "minimal", organisation], releases)
    assert open_release(releases).path == before.path


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    two_objects = '<https://example.org/thing/2> rdfs:label "x" "y" .\n'
    broken.write_text(THING + two_objects + THING, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        build([broken], tmp_path / "releases")
    problem = raised.value.problems[0]
    assert problem.file == str(broken)
    assert problem.line == 4
    assert not (tmp_path / "releases" / CURRENT).exists()


def test_cli_builds_from_rdf_alone(release_dir: Path, tmp_path: Path) -> None:
    dump = open_release(release_dir).path / "dumps" / "lod-ikz.ttl"
    done = subprocess.run([sys.executable, "-m", "lod", "build", str(dump), "--release-dir",
                           str(tmp_path / "releases"), "--allow-warnings"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert open_release(tmp_path / "releases").manifest.triples == open_release(release_dir).manifest.triples


def test_cli_refuses_what_is_not_an_input(tmp_path: Path) -> None:
    stray = tmp_path / "notes.txt"
    stray.write_text("hello", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "lod", "build", str(stray), "--release-dir",
                           str(tmp_path / "releases")], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "notes.txt" in done.stderr and ".nt" in done.stderr
    assert "Traceback" not in done.stderr
