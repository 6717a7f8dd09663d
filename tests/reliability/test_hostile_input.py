"""Hostile or broken CSV input is an InputError naming the problem, never a crash; and every
record that goes in comes out as exactly one resource (no silent loss)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lod import InputError, read_records, record_iris, to_graph, validate_graph
from lod.records.model import RECORD_TYPES

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "fixtures" / "minimal"
FILES = sorted(p.name for p in MINIMAL.glob("*.csv"))
SOME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def fresh_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("data")
    shutil.copytree(MINIMAL, target, dirs_exist_ok=True)
    return target


@SOME
@given(name=st.sampled_from(FILES), content=st.binary(max_size=400))
def test_any_file_content(tmp_path_factory: pytest.TempPathFactory, name: str, content: bytes) -> None:
    data = fresh_copy(tmp_path_factory)
    (data / name).write_bytes(content)
    try:
        read_records(data)
    except InputError as error:
        assert error.problems and all(p.file for p in error.problems)


@SOME
@given(name=st.sampled_from(FILES), row=st.integers(0, 5), column=st.integers(0, 20),
       value=st.text(max_size=40))
def test_any_cell_value(tmp_path_factory: pytest.TempPathFactory, name: str, row: int, column: int,
                        value: str) -> None:
    data = fresh_copy(tmp_path_factory)
    path = data / name
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    target = rows[min(row, len(rows) - 1)]
    target[min(column, len(target) - 1)] = value
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    try:
        dataset = read_records(data)
    except InputError as error:
        assert all(p.message for p in error.problems)
        return
    validate_graph(to_graph(dataset))  # whatever was accepted maps and validates without error


def minted_subjects(graph_subjects: set[str], base: str) -> set[str]:
    return {s for s in graph_subjects if s.startswith(f"{base}id/") and "#" not in s}


@pytest.mark.parametrize("source", ["bundled", "minimal", "generated"])
def test_every_record_lands_in_the_graph(source: str, tmp_path: Path) -> None:
    if source == "bundled":
        data = ROOT / "data"
    elif source == "minimal":
        data = MINIMAL
    else:
        data = tmp_path / "generated"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--scale", "0.003",
                        "--out", str(data)], check=True, capture_output=True)
    rows = 0
    for record_type in RECORD_TYPES:
        path = data / f"{record_type.collection}.csv"
        if path.exists():
            with path.open(encoding="utf-8", newline="") as file:
                rows += sum(1 for row in csv.DictReader(file) if any(v.strip() for v in row.values()))
    dataset = read_records(data)
    graph = to_graph(dataset)
    base = "https://w3id.org/lod-ikz/"
    minted = minted_subjects({str(s) for s in graph.subjects()}, base)
    assert rows == len(dataset) == len(record_iris(dataset)) == len(minted)
