"""What changed between releases: three successive builds with known changes, their diff files
checked against rdflib's own difference of the data, the versions in the catalog, and `lod diff`."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from lod import read_records, to_graph
from lod.release.changes import ADDED, FOLDER, REMOVED, SUMMARY, Changes, compare, read_changes
from lod.release.layout import Release
from lod.release.publish import build_release
from lod.settings import Settings
from lod.vocab import ADMS, DCAT, PROV, SKOS

from .conftest import FIXTURES

BASE = "https://w3id.org/lod-ikz/"
KGST = f"{BASE}id/organisation/kgst"
GUETERSLOH = f"{BASE}id/organisation/guetersloh"
STATEMENT = f"{BASE}id/statement/kgst-members-2020"


def edit(data: Path) -> None:
    """Rename the KGSt, add Gütersloh, remove the statement about the KGSt's members."""
    organisations = data / "organisations.csv"
    text = organisations.read_text(encoding="utf-8")
    organisations.write_text(
        text.replace("Kommunale Gemeinschaftsstelle für Verwaltungsmanagement", "KGSt")
        + "guetersloh,municipality,Gütersloh,Gütersloh,,05754008,,,,,,,register\n", encoding="utf-8")
    statements = data / "statements.csv"
    statements.write_text(statements.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


Builds = tuple[Path, Path, list[Release]]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """Three releases: the minimal data, the data edited, the same again."""
    root = tmp_path_factory.mktemp("changes")
    before, after = root / "before", root / "after"
    shutil.copytree(FIXTURES / "minimal", before)
    shutil.copytree(before, after)
    edit(after)
    settings = Settings(release_dir=root / "release")
    releases = [build_release(data, settings=settings, allow_warnings=True)
                for data in (before, after, after)]
    return before, after, releases


def triples_of(path: Path) -> set[tuple[Node, Node, Node]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return set(Graph().parse(data=lines.read(), format="nt"))


def test_the_first_release_replaces_nothing(builds: Builds) -> None:
    first = builds[2][0]
    assert first.manifest.previous is None and read_changes(first.path) is None


def test_the_diff_files_hold_exactly_what_rdflib_finds_changed(builds: Builds) -> None:
    before, after, (first, second, _) = builds
    old, new = to_graph(read_records(before)), to_graph(read_records(after))
    folder = second.path / FOLDER
    assert triples_of(folder / ADDED) == set(new) - set(old)
    assert triples_of(folder / REMOVED) == set(old) - set(new)
    changes = read_changes(second.path)
    assert changes is not None and second.manifest.previous == first.manifest.release_id
    assert changes.previous == first.manifest.release_id
    assert (changes.triples_added, changes.triples_removed) == (len(set(new) - set(old)),
                                                                len(set(old) - set(new)))
    # Gütersloh, and its official key's IRI in the municipality key scheme (typed, so described)
    assert changes.records_added == ("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05754008",
                                     GUETERSLOH)
    assert changes.records_removed == (STATEMENT,)
    assert str(SKOS.prefLabel) in changes.records_changed[KGST]


def test_a_build_of_the_same_data_records_no_change(builds: Builds) -> None:
    _, _, (_, second, third) = builds
    changes = read_changes(third.path)
    assert changes == Changes(second.manifest.release_id, 0, 0) and changes.summary() == "no change"
    assert triples_of(third.path / FOLDER / ADDED) == triples_of(third.path / FOLDER / REMOVED) == set()


def test_the_catalog_and_void_name_the_version_before(builds: Builds) -> None:
    _, _, (first, second, _) = builds
    catalog = Graph().parse(second.path / "catalog.ttl")
    dataset = URIRef("http://127.0.0.1:8000/catalog#dataset")
    previous = URIRef(f"http://127.0.0.1:8000/releases/{first.manifest.release_id}")
    assert catalog.value(dataset, DCAT.previousVersion) == previous
    assert catalog.value(dataset, DCAT.version) == Literal(second.manifest.release_id)
    notes = {n.language: str(n) for n in catalog.objects(dataset, ADMS.versionNotes)
             if isinstance(n, Literal)}
    changes = read_changes(second.path)
    assert changes is not None
    assert notes["en"] == (f"records: 2 added, 1 removed, 1 changed; triples: {changes.triples_added} "
                           f"added, {changes.triples_removed} removed")
    assert notes["de"].startswith("Datensätze: 2 hinzugefügt, 1 entfernt, 1 geändert; Tripel: ")
    downloads = set(catalog.objects(None, DCAT.downloadURL))
    assert URIRef(f"http://127.0.0.1:8000/releases/{second.manifest.release_id}/dumps/lod-ikz.nt.gz") \
        in downloads
    void = Graph().parse(second.path / "void.ttl")
    assert (None, PROV.wasRevisionOf, previous) in void


def test_a_release_that_cannot_be_read_is_named_but_not_compared(tmp_path: Path) -> None:
    settings = Settings(release_dir=tmp_path / "release")
    first = build_release(FIXTURES / "minimal", settings=settings, allow_warnings=True)
    (first.path / "dumps" / "lod-ikz.nt.gz").unlink()  # the release served is broken
    second = build_release(FIXTURES / "minimal", settings=settings, allow_warnings=True)
    assert second.manifest.previous == first.manifest.release_id and read_changes(second.path) is None
    catalog = Graph().parse(second.path / "catalog.ttl")
    assert Literal("changes not recorded", lang="en") in set(catalog.objects(None, ADMS.versionNotes))


@pytest.mark.parametrize(("old", "new", "added", "removed", "changed"), [
    ([], ["<a> <p> <b> ."], ["<a> <p> <b> ."], [], {}),
    (["<a> <p> <b> .", "# comment", ""], ["", "<a> <p> <b> ."], [], [], {}),
    (["<a> <p> <b> ."], ["<a> <p> <c> ."], ["<a> <p> <c> ."], ["<a> <p> <b> ."], {"a": ("p",)}),
    (["<a> <p> <b> .", "<a#i> <q> <c> ."], ["<a> <p> <b> .", "<a#i> <q> <d> ."],  # a # part is its record's
     ["<a#i> <q> <d> ."], ["<a#i> <q> <c> ."], {"a": ("q",)}),
])
def test_compare(old: list[str], new: list[str], added: list[str], removed: list[str],
                 changed: dict[str, tuple[str, ...]]) -> None:
    found = compare(lambda: (line.encode() for line in old), (line.encode() for line in new))
    assert [line.decode() for line in found.added] == added
    assert [line.decode() for line in found.removed] == removed
    assert found.changes.records_changed == changed


def lod(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lod", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def test_lod_diff_says_what_the_release_recorded(builds: Builds) -> None:
    before, after, (first, second, _) = builds
    recorded = (second.path / FOLDER / SUMMARY).read_text(encoding="utf-8")
    releases = lod("diff", first.path, second.path, "--format", "json")
    assert releases.returncode == 0, releases.stderr
    assert releases.stdout == recorded
    directories = json.loads(lod("diff", before, after, "--format", "json").stdout)
    assert directories == {**json.loads(recorded), "previous": None}
    text = lod("diff", "--lang", "de", first.path, second.path)
    assert text.stdout.splitlines()[0].startswith("Datensätze: 2 hinzugefügt, 1 entfernt, 1 geändert")
    assert f"  {GUETERSLOH}" in text.stdout.splitlines()
    broken = before.parent / "broken"
    shutil.copytree(before, broken)
    (broken / "people.csv").write_text("slug,name,sources\nBad Slug,X,press-2020\n", encoding="utf-8")
    refused = lod("diff", before, broken)
    assert refused.returncode == 1 and "nothing was compared" in refused.stderr
