"""`lod link wikidata` against Oxigraph's server holding a small Wikidata-shaped sample, and
`--accept` writing into a copy of the minimal data that still validates."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod import read_records
from lod.cli import cli
from lod.errors import InputError
from lod.release.publish import build_release
from lod.remote.client import Endpoint, LocalRelease, QuerySource
from lod.remote.linking import (
    PROPOSAL_COLUMNS,
    Link,
    Method,
    Proposal,
    accept_proposals,
    propose_wikidata_links,
    read_accepted,
)
from lod.settings import Settings

from .conftest import free_port

DOCS = Path(__file__).parent.parent / "docs" / "federation.md"

# Dresden and Leipzig are the real items; the Q9000… items are invented for the test.
WIKIDATA_SAMPLE = """\
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

wd:Q1731 rdfs:label "Dresden"@de, "Dresden"@en ; wdt:P31 wd:Q262166 ; wdt:P439 "14612000" ;
    wdt:P440 "14612" ; wdt:P1082 563011.0, 556780.0 .
wd:Q900050 rdfs:label "Dresden (Stadtkreis, bis 1994)"@de ; wdt:P31 wd:Q262166 ; wdt:P439 "14612000" .
wd:Q2079 rdfs:label "Leipzig"@de ; wdt:P31 wd:Q262166 ; wdt:P439 "14713000" ; wdt:P1082 616093.0 .
wd:Q900001 rdfs:label "Landkreis Görlitz"@de ; wdt:P31 wd:Q106658 ; wdt:P440 "14626" ; wdt:P1082 245000.0 .
wd:Q900010 rdfs:label "Kommunale Gemeinschaftsstelle für Verwaltungsmanagement"@de ;
    skos:altLabel "KGSt"@de ; wdt:P31 wd:Q43229 .
wd:Q900011 rdfs:label "KGSt"@en ; wdt:P31 wd:Q43229 .
wd:Q900020 rdfs:label "Vitako"@de ; wdt:P31 wd:Q43229 .
wd:Q900021 rdfs:label "Vitako"@de ; wdt:P31 wd:Q4167410 .
wd:Q900030 rdfs:label "Bundes-Arbeitsgemeinschaft der Kommunalen IT-Dienstleister"@de ;
    skos:altLabel "VITAKO"@de ; wdt:P31 wd:Q43229 .
"""

# Invented datasets in DCAT-AP.de, as GovData's endpoint holds them.
GOVDATA_SAMPLE = """\
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix dcatde: <http://dcat-ap.de/def/dcatde/> .
@prefix ags: <http://dcat-ap.de/def/politicalGeocoding/municipalityKey/> .

<https://example.org/dataset/1> a dcat:Dataset ; dcterms:title "Haushaltsplan Dresden"@de ;
    dcterms:spatial ags:14612000 .
<https://example.org/dataset/2> a dcat:Dataset ; dcterms:title "Baumkataster"@de ;
    dcatde:politicalGeocodingURI ags:14612000 .
<https://example.org/dataset/3> a dcat:Dataset ; dcterms:title "Haushaltsplan Leipzig"@de ;
    dcterms:spatial ags:14713000 .
"""

ORGANISATIONS = (
    "slug,kind,name_de,name_en,alt_names,ags,kreisschluessel,wikidata,homepage,street,postal_code,"
    "locality,parent,sources\r\n"
    "kgst,association,Kommunale Gemeinschaftsstelle für Verwaltungsmanagement,Municipal Association "
    'for Administrative Management,KGSt,,,,http://www.kgst.de,"Gereonstr. 18-32",50670,Köln,,press-2020\r\n'
    'vitako,association,"Vitako \u2013 Bundes-Arbeitsgemeinschaft der Kommunalen IT-Dienstleister e.V.",'
    "Federal Working Group of Municipal IT Service Providers,Vitako;VITAKO,,,,http://www.vitako.de,,,,,"
    "press-2020\r\n"
    "dresden,municipality,Dresden,Dresden,,14612000,,Q1731,,,,,,press-2020;register\r\n"
    "eb-it,it-service-provider,Eigenbetrieb IT-Dienstleistungen,,,,,,,,,,dresden,press-2020\r\n"
    "leipzig,municipality,Leipzig,Leipzig,,14713000,,,,,,,,register\r\n"
    '"landkreis-goerlitz",district,Landkreis Görlitz,District of Görlitz,,,14626,,,,,,,register\r\n'
)


@contextlib.contextmanager
def oxigraph_endpoint(directory: Path, turtle: str) -> Iterator[str]:
    """Oxigraph's server (`pip install oxigraph`) holding ``turtle``; its query URL."""
    oxigraph = shutil.which("oxigraph", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                               os.environ.get("PATH", "")]))
    if oxigraph is None:
        pytest.skip("the Oxigraph server is not installed: pip install oxigraph")
    (directory / "sample.ttl").write_text(turtle, encoding="utf-8")
    subprocess.run([oxigraph, "load", "--location", directory / "store", "--file", directory / "sample.ttl"],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    url = f"http://127.0.0.1:{port}/query"
    command = [oxigraph, "serve-read-only", "--location", directory / "store", "--bind", f"127.0.0.1:{port}"]
    with (directory / "server.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{url}?query=ASK%7B%7D"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"oxigraph did not start: {(directory / 'server.log').read_text()}")
            time.sleep(0.1)  # the server is starting; ask again shortly
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def wikidata_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with oxigraph_endpoint(tmp_path_factory.mktemp("wikidata"), WIKIDATA_SAMPLE) as url:
        yield url


@pytest.fixture(scope="module")
def govdata_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with oxigraph_endpoint(tmp_path_factory.mktemp("govdata"), GOVDATA_SAMPLE) as url:
        yield url


@pytest.fixture
def data(minimal: Path) -> Path:
    """The minimal data with a municipality and a district more, written with CRLF line ends."""
    (minimal / "organisations.csv").write_bytes(ORGANISATIONS.encode("utf-8"))
    return minimal


def lod(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lod", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


# --- proposing ----------------------------------------------------------------------------------


def test_proposals_by_key_and_by_label(data: Path, wikidata_url: str) -> None:
    proposals = propose_wikidata_links(read_records(data).organisations, Endpoint(wikidata_url))
    found = {(p.slug, p.method, p.key, p.qid, p.confidence, p.current) for p in proposals}
    assert found == {
        # Q1731 is Dresden's already; the other item with its AGS is a candidate that conflicts.
        ("dresden", Method.AGS, "14612000", "Q900050", 0.5, "Q1731"),
        ("leipzig", Method.AGS, "14713000", "Q2079", 1.0, ""),
        ("landkreis-goerlitz", Method.KREISSCHLUESSEL, "14626", "Q900001", 1.0, ""),
        ("kgst", Method.LABEL, "Kommunale Gemeinschaftsstelle für Verwaltungsmanagement", "Q900010", 0.8, ""),
        # Two items, each by another name than ours (a label, an alias); the disambiguation page
        # that is also labelled "Vitako" is left out.
        ("vitako", Method.LABEL, "Vitako", "Q900020", 0.3, ""),
        ("vitako", Method.LABEL, "VITAKO", "Q900030", 0.3, ""),
    }
    leipzig = next(p for p in proposals if p.slug == "leipzig")
    assert leipzig == Proposal(slug="leipzig", name="Leipzig", kind="municipality", method=Method.AGS,
                               key="14713000", qid="Q2079", wikidata_label="Leipzig",
                               instance_of=("Q262166",), confidence=1.0, current="")


def test_batches_give_the_same_proposals(data: Path, wikidata_url: str) -> None:
    organisations = read_records(data).organisations
    assert (propose_wikidata_links(organisations, Endpoint(wikidata_url), batch_size=1)
            == propose_wikidata_links(organisations, Endpoint(wikidata_url)))


def test_lod_link_wikidata_writes_a_reviewable_csv(data: Path, wikidata_url: str, tmp_path: Path) -> None:
    output = tmp_path / "proposals.csv"
    done = CliRunner().invoke(cli, ["link", "wikidata", str(data), "--endpoint", wikidata_url,
                                    "-o", str(output), "--cache", str(tmp_path / "cache")])
    assert done.exit_code == 0, done.output
    assert "6 proposals for 5 of 6 organisations" in done.stderr
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == PROPOSAL_COLUMNS
    assert [row["slug"] for row in rows] == ["dresden", "kgst", "landkreis-goerlitz", "leipzig", "vitako",
                                             "vitako"]
    assert rows[3] | {"accept": "?"} == {
        "slug": "leipzig", "name": "Leipzig", "kind": "municipality", "method": "ags", "key": "14713000",
        "qid": "Q2079", "wikidata_label": "Leipzig", "wikidata_url": "https://www.wikidata.org/wiki/Q2079",
        "instance_of": "Q262166", "confidence": "1.00", "current": "", "accept": "?"}
    assert all(row["accept"] == "" for row in rows)


# --- accepting ----------------------------------------------------------------------------------


def proposals_file(path: Path, *rows: tuple[str, str, str]) -> Path:
    """A proposals file as a reviewer leaves it: (slug, qid, accept) and the other columns."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(PROPOSAL_COLUMNS)
        for slug, qid, accept in rows:
            writer.writerow([slug, "", "", "label", "", qid, "", "", "", "0.80", "", accept])
    return path


def test_accept_writes_the_links_and_keeps_everything_else(data: Path, wikidata_url: str,
                                                            tmp_path: Path) -> None:
    runner = CliRunner()
    output = tmp_path / "proposals.csv"
    runner.invoke(cli, ["link", "wikidata", str(data), "--endpoint", wikidata_url, "-o", str(output)])
    reviewed = output.read_text(encoding="utf-8")
    for qid in ("Q2079", "Q900001", "Q900010", "Q900020", "Q900050"):  # Q900050 conflicts with Q1731
        reviewed = re.sub(f"(,{qid},.*),\n", r"\1,yes\n", reviewed)
    output.write_text(reviewed, encoding="utf-8")
    before = (data / "organisations.csv").read_bytes().split(b"\r\n")
    sources_before = (data / "sources.csv").read_bytes()

    done = runner.invoke(cli, ["link", "wikidata", str(data), "--accept", str(output)])
    assert done.exit_code == 1  # the conflict
    assert "linked 4, already linked 0, conflicts 1; added source wikidata" in done.stderr
    assert re.search(r"conflict: dresden: organisations.csv has Q1731, the accepted proposal on line \d+ "
                     "says Q900050; not changed", done.stderr)
    after = (data / "organisations.csv").read_bytes().split(b"\r\n")
    assert after[0] == before[0]  # header
    assert after[3:5] == before[3:5]  # dresden (the conflict) and eb-it: untouched, byte for byte
    assert after[1] == before[1].replace(b",,,,http://www.kgst.de", b",,,Q900010,http://www.kgst.de").replace(
        b'"Gereonstr. 18-32"', b"Gereonstr. 18-32") + b";wikidata"  # the changed row is re-encoded
    assert after[5] == b"leipzig,municipality,Leipzig,Leipzig,,14713000,,Q2079,,,,,,register;wikidata"
    assert after[6].startswith(b"landkreis-goerlitz,district,") and b",Q900001," in after[6]
    assert after[-1] == b"" and len(after) == len(before)
    assert (data / "sources.csv").read_bytes() == sources_before + (
        f"wikidata,database,Wikidata,en,{date.today().year},,Wikimedia Foundation,,"
        "https://www.wikidata.org/,\n").encode()

    validated = lod("validate", data)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    records = {o.slug: o for o in read_records(data).organisations}
    assert records["vitako"].wikidata == "Q900020" and "wikidata" in records["vitako"].sources
    assert records["dresden"].wikidata == "Q1731" and "wikidata" not in records["dresden"].sources

    again = runner.invoke(cli, ["link", "wikidata", str(data), "--accept", str(output)])
    assert "linked 0, already linked 4, conflicts 1" in again.stderr
    assert (data / "organisations.csv").read_bytes().split(b"\r\n") == after


def test_accept_adds_a_missing_wikidata_column(minimal: Path, tmp_path: Path) -> None:
    organisations = minimal / "organisations.csv"
    lines = organisations.read_text(encoding="utf-8").splitlines(keepends=True)
    organisations.write_text("".join(line.replace(",Q1731,", ",,") for line in lines), encoding="utf-8")
    rows = list(csv.reader(io.StringIO(organisations.read_text(encoding="utf-8"))))
    at = rows[0].index("wikidata")
    without = [row[:at] + row[at + 1:] for row in rows]
    with organisations.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file, lineterminator="\n").writerows(without)
    original = organisations.read_text(encoding="utf-8").splitlines()

    result = accept_proposals(minimal, proposals_file(tmp_path / "p.csv", ("kgst", "Q900010", "Yes")),
                              today=date(2031, 5, 1))
    assert [(link.slug, link.qid) for link in result.linked] == [("kgst", "Q900010")] and result.source_added
    lines = organisations.read_text(encoding="utf-8").splitlines()
    assert lines[0] == original[0] + ",wikidata"
    assert lines[1].endswith(",press-2020;wikidata,Q900010")
    assert lines[2:] == [line + "," for line in original[2:]]
    assert "wikidata,database,Wikidata,en,2031," in (minimal / "sources.csv").read_text(encoding="utf-8")
    assert lod("validate", minimal).returncode == 0


def test_accept_keeps_a_byte_order_mark_and_a_missing_last_newline(minimal: Path, tmp_path: Path) -> None:
    organisations = minimal / "organisations.csv"
    organisations.write_bytes(b"\xef\xbb\xbf" + organisations.read_bytes().rstrip(b"\n"))
    before = organisations.read_bytes()
    accept_proposals(minimal, proposals_file(tmp_path / "p.csv", ("eb-it", "Q900099", "yes")))
    after = organisations.read_bytes()
    assert after.startswith(b"\xef\xbb\xbfslug,") and not after.endswith(b"\n")
    assert after.split(b"\n")[:-1] == before.split(b"\n")[:-1]
    assert after.split(b"\n")[-1] == (b"eb-it,it-service-provider,Eigenbetrieb IT-Dienstleistungen,,,,"
                                      b"Q900099,,,,,dresden,press-2020;wikidata")
    assert lod("validate", minimal).returncode == 0


def test_accept_reads_a_spreadsheet_s_semicolons(minimal: Path, tmp_path: Path) -> None:
    file = tmp_path / "p.csv"
    file.write_text("slug;name;qid;accept\r\nkgst;KGSt;Q900010;ja\r\n", encoding="utf-8-sig")
    assert read_accepted(file) == [Link("kgst", "Q900010", 2)]


def test_accept_reuses_an_existing_wikidata_source(minimal: Path, tmp_path: Path) -> None:
    sources = minimal / "sources.csv"
    sources.write_text(sources.read_text(encoding="utf-8")
                       + "wikidata,database,Wikidata,en,2020,,Wikimedia Foundation,,,\n", encoding="utf-8")
    before = sources.read_bytes()
    result = accept_proposals(minimal, proposals_file(tmp_path / "p.csv", ("kgst", "Q900010", "x")))
    assert not result.source_added and sources.read_bytes() == before


def test_declined_proposals_change_nothing(data: Path, tmp_path: Path) -> None:
    before = {path.name: path.read_bytes() for path in data.iterdir()}
    file = proposals_file(tmp_path / "p.csv", ("leipzig", "Q2079", "no"), ("kgst", "Q900010", ""))
    result = accept_proposals(data, file)
    assert (result.linked, result.conflicts, result.source_added) == ((), (), False)
    assert {path.name: path.read_bytes() for path in data.iterdir()} == before


@pytest.mark.parametrize(("rows", "message"), [
    ([("kgst", "Q1", "maybe")], "p.csv:2: column 'accept', value 'maybe': must be yes"),
    ([("kgst", "1731", "yes")], "p.csv:2: column 'qid', value '1731': must be a Wikidata item"),
    ([("kgst", "Q1", "yes"), ("kgst", "Q2", "yes")],
     "p.csv:3: column 'qid', value 'Q2': kgst has Q1 accepted on line 2 already"),
    ([("leipzig", "Q2079", "no"), ("nobody", "Q2", "yes")],
     "p.csv:3: column 'slug', value 'nobody': no organisation with this slug in"),
])
def test_a_faulty_proposals_file_writes_nothing(data: Path, tmp_path: Path, rows: list[tuple[str, str, str]],
                                                message: str) -> None:
    before = {path.name: path.read_bytes() for path in data.iterdir()}
    file = proposals_file(tmp_path / "p.csv", *rows)
    with pytest.raises(InputError) as caught:
        accept_proposals(data, file)
    assert message in str(caught.value)
    done = lod("link", "wikidata", data, "--accept", file)
    assert done.returncode == 1 and message in done.stderr and "nothing was written" in done.stderr
    assert {path.name: path.read_bytes() for path in data.iterdir()} == before


def test_a_proposals_file_needs_its_columns(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("slug,qid\nkgst,Q1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'accept'.*required column is missing"):
        read_accepted(tmp_path / "p.csv")


def test_accept_needs_a_directory_of_csv_files(tmp_path: Path) -> None:
    (tmp_path / "data.json").write_text("{}", encoding="utf-8")
    file = proposals_file(tmp_path / "p.csv", ("kgst", "Q1", "yes"))
    done = lod("link", "wikidata", tmp_path / "data.json", "--accept", file)
    assert done.returncode == 2 and "is not a directory" in done.stderr


# --- the worked example in docs/federation.md ---------------------------------------------------


def _docs_function(name: str) -> dict[str, object]:
    """Run the Python block of docs/federation.md that defines ``name``; its namespace."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    [code] = [block for block in blocks if f"def {name}(" in block]
    namespace: dict[str, object] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    return namespace


def test_the_documented_join_of_cooperations_and_populations(minimal: Path, tmp_path: Path,
                                                              wikidata_url: str) -> None:
    with (minimal / "memberships.csv").open("a", encoding="utf-8") as file:
        file.write("dresden,oss,member,,,press-2020\n")
    build_release(minimal, settings=Settings(release_dir=tmp_path / "release"), allow_warnings=True)
    ours: QuerySource = LocalRelease(tmp_path / "release")
    population = _docs_function("cooperation_population")["cooperation_population"]
    assert callable(population)
    assert population(ours, Endpoint(wikidata_url)) == {
        "Zusammenarbeit zu Open Source Software": 563011}


def test_the_documented_join_with_govdata(release_dir: Path, govdata_url: str) -> None:
    datasets = _docs_function("municipal_datasets")["municipal_datasets"]
    assert callable(datasets)
    assert datasets(LocalRelease(release_dir), Endpoint(govdata_url)) == {
        "Dresden": ["Haushaltsplan Dresden", "Baumkataster"]}
