"""`lod build --shapes`: a publisher's SHACL shapes instead of lod's or in addition to them; nothing
that does not conform to the chosen shapes is published, and the release says which they were."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import DCTERMS, RDF, Graph
from rdflib.namespace import SH

CPOV = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ontologies" / "cpov-2.1.2-SHACL.ttl"

HOMEPAGE_SHAPE = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<https://example.org/shapes#Homepage> a sh:NodeShape ;
  sh:targetClass org:Organization ;
  sh:property [ sh:path foaf:homepage ; sh:minCount 1 ; sh:name "homepage" ;
                sh:message "an organisation of our register needs a homepage" ] .
"""

# W3C ORG data in a model of its own: no lod record behind it, so lod's shapes refuse it.
OWN_MODEL = """\
@prefix org: <http://www.w3.org/ns/org#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://example.org/org/zv> a org:Organization ; skos:prefLabel "Zweckverband Muster"@de ;
  foaf:homepage <https://zv.example.org/> .
<https://example.org/org/a> a org:Organization ; skos:prefLabel "Gemeinde A"@de ;
  foaf:homepage <https://a.example.org/> ; org:subOrganizationOf <https://example.org/org/zv> .
"""


def lod(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lod", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, check=False)


@pytest.fixture
def project(tmp_path: Path, minimal: Path) -> Path:
    (tmp_path / "mine.ttl").write_text(HOMEPAGE_SHAPE, encoding="utf-8")
    (tmp_path / "model.ttl").write_text(OWN_MODEL, encoding="utf-8")
    return tmp_path


def manifest(project: Path) -> dict[str, object]:
    return json.loads((project / "release" / "current" / "manifest.json").read_text(encoding="utf-8"))


def test_added_shapes_are_checked_too(project: Path, minimal: Path) -> None:
    refused = lod("build", minimal, "--shapes", "+mine.ttl", cwd=project)
    assert refused.returncode == 1
    assert "violation: [homepage] an organisation of our register needs a homepage" in refused.stderr
    assert not (project / "release" / "current").exists()


def test_data_in_another_model_is_published_against_its_own_shapes(project: Path) -> None:
    assert lod("build", "model.ttl", cwd=project).returncode == 1  # lod's shapes refuse it
    built = lod("build", "model.ttl", "--shapes", "mine.ttl", cwd=project)
    assert built.returncode == 0, built.stderr
    described = manifest(project)["shapes"]
    assert isinstance(described, list) and len(described) == 1
    assert described[0].startswith("mine.ttl (sha256 ")
    report = Graph().parse(project / "release" / "current" / "validation.ttl")
    node = next(report.subjects(RDF.type, SH.ValidationReport))
    assert {str(o) for o in report.objects(node, DCTERMS.source)} == set(described)


def test_the_setting_and_a_directory_of_shapes(project: Path) -> None:
    (project / "shapes").mkdir()
    (project / "mine.ttl").rename(project / "shapes" / "mine.ttl")
    without_homepage = OWN_MODEL.replace("  foaf:homepage <https://a.example.org/> ;", " ")
    (project / "model.ttl").write_text(without_homepage, encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "lod", "build", "model.ttl"], capture_output=True,
                             text=True, cwd=project, env={**os.environ, "LOD_SHAPES": "shapes"})
    assert refused.returncode == 1 and "needs a homepage" in refused.stderr


@pytest.mark.parametrize(("spec", "says"), [
    ("missing.ttl", "no such file or directory"),
    ("notes.txt", "not an RDF file"),
    ("empty.ttl", "hold no SHACL shape"),
])
def test_wrong_shapes_are_a_usage_error(project: Path, minimal: Path, spec: str, says: str) -> None:
    (project / "notes.txt").write_text("x", encoding="utf-8")
    (project / "empty.ttl").write_text("<https://example.org/a> <https://example.org/b> 1 .\n",
                                       encoding="utf-8")
    done = lod("build", minimal, "--shapes", spec, cwd=project)
    assert done.returncode == 2 and says in done.stderr


@pytest.mark.skipif(not CPOV.is_file(), reason=f"the EU CPOV shapes are not at {CPOV}")
def test_the_eu_cpov_shapes_in_addition(project: Path, minimal: Path) -> None:
    """CPOV uses sh:closed, which the compiled check does not support: pySHACL checks them."""
    built = lod("build", minimal, "--shapes", f"+{CPOV}", cwd=project)
    assert built.returncode == 0, built.stderr
    digest = hashlib.sha256(CPOV.read_bytes()).hexdigest()
    assert manifest(project)["shapes"] == ["lod's shapes (shapes/)",
                                           f"cpov-2.1.2-SHACL.ttl (sha256 {digest})"]


@pytest.mark.parametrize("engine", ["compiled", "pyshacl"])
def test_validate_takes_the_same_shapes(project: Path, minimal: Path, engine: str) -> None:
    plain = lod("validate", minimal, "--engine", engine, cwd=project)
    assert plain.returncode == 0, plain.stdout
    added = lod("validate", minimal, "--engine", engine, "--shapes", "+mine.ttl", cwd=project)
    assert added.returncode == 1 and "an organisation of our register needs a homepage" in added.stdout
    assert "against lod's shapes (shapes/), mine.ttl (sha256 " in added.stderr
