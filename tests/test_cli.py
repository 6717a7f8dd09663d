"""The command line, run as a real process: exit codes, output formats, nothing written on error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from lod import read_records, to_graph


def lod(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lod", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_validate_conforming(minimal: Path) -> None:
    done = lod("validate", minimal)
    assert done.returncode == 0, done.stderr
    assert "conforms" in done.stdout


def test_validate_input_errors_exit_1(minimal: Path) -> None:
    (minimal / "people.csv").write_text("slug,name,sources\nBad Slug,X,press-2020\n", encoding="utf-8")
    done = lod("validate", minimal)
    assert done.returncode == 1
    assert "people.csv:2: column 'slug', value 'Bad Slug'" in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_json_lists_input_errors(minimal: Path) -> None:
    (minimal / "people.csv").write_text("slug,name,sources\nx,X,nowhere\n", encoding="utf-8")
    done = lod("validate", "--format", "json", minimal)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["conforms"] is False
    assert report["inputErrors"][0]["column"] == "sources"
    assert report["inputErrors"][0]["line"] == 2


def test_usage_error_exit_2(tmp_path: Path) -> None:
    done = lod("validate", tmp_path / "nowhere")
    assert done.returncode == 2
    assert "does not exist" in done.stderr


@pytest.mark.parametrize("name", ["out.ttl", "out.nt", "out.jsonld", "out.rdf"])
def test_export_formats_round_trip(minimal: Path, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    done = lod("export", minimal, "-o", target)
    assert done.returncode == 0, done.stderr
    # Read back with another implementation (Oxigraph's parsers), not the one that wrote it.
    fmt = pyoxigraph.RdfFormat.from_extension(target.suffix[1:])
    triples = pyoxigraph.serialize(pyoxigraph.parse(path=target, format=fmt),
                                   format=pyoxigraph.RdfFormat.N_TRIPLES)
    exported = Graph().parse(data=triples, format="nt")
    assert isomorphic(exported, to_graph(read_records(minimal)))


def test_export_writes_nothing_on_invalid_input(minimal: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.ttl"
    target.write_text("previous", encoding="utf-8")
    (minimal / "statements.csv").write_text(
        "slug,subject,indicator,value,as_of,sources\ns,kgst,member-count,many,2020,press-2020\n",
        encoding="utf-8")
    done = lod("export", minimal, "-o", target)
    assert done.returncode == 1
    assert "nothing was written" in done.stderr
    assert target.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_export_unknown_extension(minimal: Path, tmp_path: Path) -> None:
    done = lod("export", minimal, "-o", tmp_path / "out.txt")
    assert done.returncode == 2
    assert "cannot tell the RDF format" in done.stderr


def test_messages_say_what_happened(minimal: Path, release_dir: Path, tmp_path: Path) -> None:
    """Each command's words fit what it does: validate writes nothing anyway, a release queried
    here answers without HTTP, and an empty release directory is named as a directory."""
    (minimal / "statements.csv").write_text(
        "slug,subject,indicator,value,as_of,sources\ns,kgst,member-count,many,2020,press-2020\n",
        encoding="utf-8")
    validated = lod("validate", minimal)
    assert validated.returncode == 1 and "1 input error; the shapes were not checked" in validated.stderr
    refused = lod("query", "--release-dir", release_dir, "SELECT * WHERE { ?s ?p }")
    assert refused.returncode != 0 and "HTTP" not in refused.stderr
    assert f"the release in {release_dir}/ refused the query" in refused.stderr
    empty = lod("query", "--release-dir", tmp_path, "ASK {}")
    assert f"no release in {tmp_path}/ yet" in empty.stderr


def test_validate_filters_and_summarises_findings(minimal: Path) -> None:
    """The minimal data has one info (an English name missing): hidden below warning, but
    counted; summarised as one line per rule."""
    everything = lod("validate", minimal)
    assert everything.returncode == 0 and "info: [name_en]" in everything.stdout
    filtered = lod("validate", minimal, "--min-severity", "warning")
    assert filtered.returncode == 0 and "info:" not in filtered.stdout
    assert filtered.stdout.strip().endswith("1 infos (1 less severe than warning not shown)")
    summary = lod("validate", minimal, "--summary")
    first = summary.stdout.splitlines()[0]
    assert first.split()[:3] == ["1", "times", "info:"] and "[name_en]" in first and "(e.g. " in first
