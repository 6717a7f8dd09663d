"""`lod init`: a new project, and its README's walk-through from there: fill in, validate, build,
serve - with the CSV files and with the workbook."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openpyxl

from .conftest import free_port, wait_until_healthy

SOURCE = ("slug,kind,title,language,date\n"
          "satzung,register,Verbandssatzung des Zweckverbands,de,2024-01-15\n")
ORGANISATION = ("slug,kind,name_de,ags,sources\n"
                "musterstadt,municipality,Musterstadt,05358008,satzung\n")


def lod(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOD_")}
    return subprocess.run([sys.executable, "-m", "lod", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, check=False, env=environment)


def test_init_writes_a_project_and_overwrites_nothing(tmp_path: Path) -> None:
    project = tmp_path / "verband"
    done = lod("init", project, "--publisher", "Zweckverband Muster", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (project / "data").iterdir())[:2] == ["cooperations.csv", "events.csv"]
    settings = (project / "lod.toml").read_text(encoding="utf-8")
    assert 'publisher_name = "Zweckverband Muster"' in settings and "base_iri" in settings
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "## Deutsch" in readme and "## English" in readme and "lod validate" in readme
    ags = next(cell for cell in openpyxl.load_workbook(project / "data.xlsx")["organisations"][1]
               if cell.value == "ags")
    assert ags.comment is not None and "8 digits" in ags.comment.text
    again = lod("init", project, cwd=tmp_path)
    assert again.returncode == 2 and "not an empty directory" in again.stderr
    assert 'publisher_name = "Zweckverband Muster"' in (project / "lod.toml").read_text(encoding="utf-8")


def test_the_readme_walk_through_with_csv_files(tmp_path: Path) -> None:
    project = tmp_path / "projekt"
    assert lod("init", project, cwd=tmp_path).returncode == 0
    (project / "data" / "sources.csv").write_text(SOURCE, encoding="utf-8")
    (project / "data" / "organisations.csv").write_text(ORGANISATION, encoding="utf-8")
    validated = lod("validate", "data/", cwd=project)
    assert validated.returncode == 0, validated.stderr
    built = lod("build", "--config", "lod.toml", "data/", cwd=project)
    assert built.returncode == 0, built.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lod", "serve", "--config", "lod.toml", "--port", str(port), "--workers", "1"],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_healthy(url, server, time.monotonic() + 60)
        with urllib.request.urlopen(f"{url}id/organisation/musterstadt", timeout=10) as page:
            assert "Musterstadt" in page.read().decode("utf-8")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_walk_through_with_the_workbook(tmp_path: Path) -> None:
    project = tmp_path / "projekt"
    assert lod("init", project, cwd=tmp_path).returncode == 0
    book = openpyxl.load_workbook(project / "data.xlsx")
    for sheet_name, text in (("sources", SOURCE), ("organisations", ORGANISATION)):
        sheet = book[sheet_name]
        header = [cell.value for cell in sheet[1]]
        names, values = (line.split(",") for line in text.strip().split("\n"))
        for name, value in zip(names, values, strict=True):
            sheet.cell(row=2, column=header.index(name) + 1, value=value)
    book.save(project / "data.xlsx")
    validated = lod("validate", "data.xlsx", cwd=project)
    assert validated.returncode == 0, validated.stderr
    built = lod("build", "--config", "lod.toml", "data.xlsx", cwd=project)
    assert built.returncode == 0, built.stderr
