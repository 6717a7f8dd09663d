"""The Gemeindeverzeichnis: reading GV100AD files, importing them, re-importing newer ones, and
referring to organisations by their official keys.

The inputs are real in their layout: the four lines of a published directory (GV100AD_300421,
Saarland) quoted below, and tests/fixtures/gv100ad/, a sample in the exact fixed-width layout
(see its README for what is real and what is illustrative).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from lod import InputError, read_records
from lod.cli import cli
from lod.rdf.mapping import to_graph
from lod.records.gemeinden import FOLDER, import_gemeinden
from lod.records.gv100ad import RecordType, parse_directory, read_directory
from lod.validation.pipeline import check_records
from lod.vocab import ADMS, IKZ, ORG, SCHEMA

ROOT = Path(__file__).parent.parent
SAMPLES = Path(__file__).parent / "fixtures" / "gv100ad"
FIRST, SECOND = SAMPLES / "GV100AD_31122024.txt", SAMPLES / "GV100AD_31122025.txt"
BASE = "https://w3id.org/lod-ikz/id/organisation/"

# Lines of Destatis' GV100AD_300421 (Gebietsstand 30.04.2021), as the tests of the Rust crate
# gv100ad (jgraef, MIT) quote them: a Land, a Kreis, a Gemeindeverband and a Gemeinde.
PUBLISHED = [
    ('102021043010          Saarland                                          Saarbrücken, Lande'
     'shauptstadt').ljust(220),  # 119 trailing spaces
    ('402021043010041       Regionalverband Saarbrücken                       Saarbrücken, Lande'
     'shauptstadt                     45').ljust(220),  # 96 trailing spaces
    ('502021043010041   0100Saarbrücken, Landeshauptstadt                                       '
     '                                50').ljust(220),  # 96 trailing spaces
    ('6020210430100411000100Saarbrücken, Landeshauptstadt                                       '
     '                                63    000000167520000018037400000089528    66111*****  104'
     '0110955501296').ljust(220),  # 27 trailing spaces
]


def org(slug: str) -> URIRef:
    return URIRef(BASE + slug)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A writable copy of the bundled data/, whose hand-typed records share keys with the sample."""
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy)
    return copy


# --- reading GV100AD --------------------------------------------------------------------------


def test_published_lines_read_field_by_field() -> None:
    assert {len(line) for line in PUBLISHED} == {220}
    directory = parse_directory("\r\n".join(PUBLISHED) + "\r\n", file="GV100AD_300421.txt")
    assert str(directory.as_of) == "2021-04-30"
    land, kreis, verband, gemeinde = directory.entries
    assert (land.record_type, land.land, land.name, land.sitz) == (
        RecordType.LAND, "10", "Saarland", "Saarbrücken, Landeshauptstadt")
    assert (kreis.kreisschluessel, kreis.name, kreis.textkennzeichen) == (
        "10041", "Regionalverband Saarbrücken", 45)
    assert (verband.ars, verband.textkennzeichen) == ("100410100", 50)
    assert gemeinde.ags == "10041100"
    assert gemeinde.ars == "100410100100"
    assert (gemeinde.name, gemeinde.textkennzeichen) == ("Saarbrücken, Landeshauptstadt", 63)
    assert (gemeinde.area_ha, gemeinde.population, gemeinde.population_male) == (16752, 180374, 89528)
    assert (gemeinde.postal_code, gemeinde.several_postal_codes) == ("66111", True)


def test_sample_reads() -> None:
    directory = read_directory(FIRST)
    assert str(directory.as_of) == "2024-12-31"
    kinds = [e.record_type for e in directory.entries]
    assert {t: kinds.count(t) for t in RecordType} == {
        RecordType.LAND: 4, RecordType.REGIERUNGSBEZIRK: 3, RecordType.REGION: 1, RecordType.KREIS: 5,
        RecordType.GEMEINDEVERBAND: 8, RecordType.GEMEINDE: 10}
    guetersloh = next(e for e in directory.entries
                      if e.record_type is RecordType.GEMEINDE and e.ags == "05754008")
    assert (guetersloh.name, guetersloh.ars, guetersloh.area_ha) == (
        "Gütersloh, Stadt", "057540008008", 11202)


def _sample_line(ags: str) -> str:
    return next(line for line in FIRST.read_text(encoding="utf-8").splitlines()
                if line.startswith("60") and line[10:18] == ags)


def _put(line: str, first: int, text: str) -> str:
    return line[:first - 1] + text + line[first - 1 + len(text):]


GUETERSLOH = "05754008"
# (what changes in Gütersloh's line, fragments of the one problem it gives)
MALFORMED = {
    "record type": (lambda line: _put(line, 1, "70"), ["Satzart (columns 1-2)", "'70'", "one of 10 (Land)"]),
    "date": (lambda line: _put(line, 3, "20241331"),
             ["Gebietsstand (columns 3-10)", "'20241331'", "JJJJMMTT"]),
    "Land": (lambda line: _put(line, 11, "17"), ["Land (columns 11-12)", "'17'", "01-16"]),
    "area": (lambda line: _put(line, 129, "0000001120x"), ["Fläche in ha (columns 129-139)", "'0000001120x'",
                                                          "whole number"]),
    "population": (lambda line: _put(line, 140, "   -1029130"), ["Bevölkerung insgesamt (columns 140-150)",
                                                              "whole number"]),
    "postcode": (lambda line: _put(line, 166, "3333A"),
                 ["Postleitzahl (columns 166-170)", "'3333A'", "5 digits"]),
    "postcode marker": (lambda line: _put(line, 171, "xxxxx"), ["Postleitzahl eindeutig (columns 171-175)",
                                                               "'*****'"]),
    "Textkennzeichen": (lambda line: _put(line, 123, "44"), ["Textkennzeichen (columns 123-124)", "'44'",
                                                            "63 (Stadt)"]),
    "name": (lambda line: _put(line, 23, " " * 50), ["Name (columns 23-72)", "not empty"]),
    "too long": (lambda line: line + "x", ["columns 221-221", "220 characters"]),
    "Gebietsstand differs": (lambda line: _put(line, 3, "20240630"),
                             ["Gebietsstand (columns 3-10)", "'20240630'",
                              "differs from the Gebietsstand 20241231"]),
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_line_is_located(tmp_path: Path, change: tuple[Callable[[str], str], list[str]]) -> None:
    alter, fragments = change
    line = _sample_line(GUETERSLOH)
    text = FIRST.read_text(encoding="utf-8").replace(line, alter(line))
    number = text.splitlines().index(alter(line)) + 1
    path = tmp_path / "GV100AD.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_directory(path)
    problems = [str(p) for p in caught.value.problems]
    assert any(f"{path}:{number}: " in p and all(f in p for f in fragments) for p in problems), problems


def test_structure_errors_name_the_missing_record(tmp_path: Path) -> None:
    text = "".join(line + "\r\n" for line in FIRST.read_text(encoding="utf-8").splitlines()
                   if not line.startswith("4020241231057"))  # no Kreise of Reg.-Bez. Detmold
    path = tmp_path / "GV100AD.txt"
    path.write_text(text + _sample_line(GUETERSLOH) + "\r\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_directory(path)
    problems = [str(p) for p in caught.value.problems]
    assert any("05754" in p and "which the file does not list" in p for p in problems), problems
    assert any("listed twice" in p and "057540008008" in p for p in problems), problems


def test_encoding_is_utf8_and_latin1_on_request(tmp_path: Path) -> None:
    path = tmp_path / "GV100AD_alt.txt"
    path.write_bytes(FIRST.read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(InputError) as caught:
        read_directory(path)
    assert "is not utf-8 (byte 0xfc)" in str(caught.value) and ":1: " in str(caught.value)
    assert "encoding latin-1" in str(caught.value)
    assert read_directory(path, encoding="latin-1").entries[0].sitz == "Düsseldorf, Landeshauptstadt"


# --- importing --------------------------------------------------------------------------------


def test_import_writes_records_that_validate(data: Path) -> None:
    report = import_gemeinden(FIRST, into=data)
    assert report.counts == {"Länder": 4, "Regierungsbezirke": 3, "Kreise": 4, "kreisfreie Städte": 1,
                             "Gemeindeverbände": 1, "Gemeinden": 8}
    assert set(report.skipped.values()) == {1, 7}
    assert {c.slug for c in report.of("adopted")} == {"dueren", "guetersloh", "cochem-zell", "heidekreis"}
    assert sorted(p.name for p in report.written) == ["organisations.csv", "sources.csv", "statements.csv"]
    dataset = read_records(data)
    checked = check_records(dataset)
    assert checked.publishable(), [str(f.result.message) for f in checked.findings]
    slugs = {o.slug: o for o in dataset.organisations}
    bielefeld = slugs["gemeinde-05711000"]
    assert (bielefeld.kind, bielefeld.ags, bielefeld.kreisschluessel, bielefeld.ars) == (
        "district-free-city", "05711000", "05711", "057110000000")
    assert "kreis-05711" not in slugs  # the kreisfreie Stadt is one body, not two
    cochem = slugs["gemeinde-07135020"]
    # Its Gemeindeverband, its Kreis (typed by hand: cochem-zell) and its Land; Rheinland-Pfalz
    # has no Regierungsbezirke.
    assert cochem.located_in == ("gemeindeverband-071355001", "cochem-zell", "land-07")
    assert not any(o.name_de.startswith("Osterheide") for o in dataset.organisations)

    graph = checked.graph
    harsewinkel = org("gemeinde-05754012")
    assert set(graph.objects(harsewinkel, SCHEMA.containedInPlace)) == {
        org("kreis-05754"), org("regierungsbezirk-057"), org("land-05")}
    assert (harsewinkel, IKZ.ars, Literal("057540012012")) in graph
    assert (org("land-05"), URIRef("http://purl.org/dc/terms/spatial"),
            URIRef("http://dcat-ap.de/def/politicalGeocoding/stateKey/05")) in graph
    area = URIRef("https://w3id.org/lod-ikz/id/statement/gemeinde-05754008-area-ha-2024-12-31")
    assert (area, SCHEMA.observationAbout, org("guetersloh")) in graph  # the typed record
    assert (area, SCHEMA.value, Literal("11202", datatype=XSD.integer)) in graph
    assert (area, SCHEMA.observationDate, Literal("2024-12-31", datatype=XSD.date)) in graph
    source = URIRef("https://w3id.org/lod-ikz/id/source/gv100ad-2024-12-31")
    assert (source, SCHEMA.temporalCoverage, Literal("2024-12-31", datatype=XSD.date)) in graph
    assert (bielefeld_iri := org("gemeinde-05711000"), RDF.type, ORG.Organization) in graph
    assert (bielefeld_iri, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), source) in graph


def test_importing_the_same_file_twice_changes_nothing(data: Path) -> None:
    import_gemeinden(FIRST, into=data)
    before = {p.name: p.read_bytes() for p in (data / FOLDER).iterdir()}
    report = import_gemeinden(FIRST, into=data)
    assert report.written == []
    assert not [c for c in report.changes if c.what not in ("adopted", "gone")]
    assert {p.name: p.read_bytes() for p in (data / FOLDER).iterdir()} == before


def test_a_newer_directory_is_merged_and_nothing_is_dropped(data: Path) -> None:
    import_gemeinden(FIRST, into=data)
    report = import_gemeinden(SECOND, into=data)
    found = {c.what: [str(c) for c in report.of(c.what)] for c in report.changes}
    assert found["new"] == ["new: gemeinde-05754099 (gemeinde 05754099): 'Neuenkirchen', municipality"]
    assert found["renamed"] == ["renamed: gemeinde-05754016 (gemeinde 05754016): "
                                "'Herzebrock-Clarholz' → 'Herzebrock-Clarholz, Stadt'"]
    assert len(found["merged"]) == 1
    assert "'Klotten' probably merged into gemeinde-07135020" in found["merged"][0]
    dataset = read_records(data)
    slugs = {o.slug: o for o in dataset.organisations}
    klotten = slugs["gemeinde-07135050"]  # its IRI stays, marked dissolved, citing both directories
    assert klotten.status == "dissolved"
    assert klotten.sources == ("gv100ad-2024-12-31", "gv100ad-2025-12-31")
    renamed = slugs["gemeinde-05754016"]
    assert renamed.alt_names == ("Herzebrock-Clarholz",)
    assert renamed.sources == ("gv100ad-2025-12-31", "gv100ad-2024-12-31")
    figures = {s.slug for s in dataset.statements if s.subject == "gemeinde-07135020"}
    assert {"gemeinde-07135020-area-ha-2024-12-31", "gemeinde-07135020-area-ha-2025-12-31"} <= figures
    checked = check_records(dataset)
    assert checked.publishable()
    assert (org("gemeinde-07135050"), ADMS.status,
            URIRef("https://w3id.org/lod-ikz/def/organisation-status/dissolved")) in checked.graph
    again = import_gemeinden(SECOND, into=data)
    assert again.written == []


def test_an_older_directory_is_refused(data: Path) -> None:
    import_gemeinden(SECOND, into=data)
    with pytest.raises(Exception, match="older than that of the directory imported before"):
        import_gemeinden(FIRST, into=data)


def test_a_key_typed_by_hand_after_an_import_is_a_conflict(data: Path) -> None:
    import_gemeinden(FIRST, into=data)
    organisations = data / "organisations.csv"
    header = organisations.read_text(encoding="utf-8").splitlines()[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(slug="harsewinkel", kind="municipality", name_de="Harsewinkel", ags="05754012",
               sources="modellkommune-abschluss-2016")
    with organisations.open("a", encoding="utf-8") as file:
        file.write(",".join(row[name] for name in header) + "\n")
    report = import_gemeinden(FIRST, into=data)
    assert [c.slug for c in report.of("conflict")] == ["gemeinde-05754012"]
    with pytest.raises(InputError, match="is also the ags of organisation"):
        read_records(data)


# --- referring by key -------------------------------------------------------------------------


def test_references_by_key_resolve(data: Path) -> None:
    import_gemeinden(FIRST, into=data)
    memberships = data / "memberships.csv"
    header = memberships.read_text(encoding="utf-8").splitlines()[0].split(",")
    rows = []
    for member in ("ags:05754012", "kreis:05754", "ars:057110000000", "ars:071355001", "ars:057540008008"):
        row = dict.fromkeys(header, "")
        row.update(member=member, organisation="kaaw", roles="member",
                   sources="modellkommune-fortgefuehrt-2017")
        rows.append(",".join(row[name] for name in header))
    with memberships.open("a", encoding="utf-8") as file:
        file.write("\n".join(rows) + "\n")
    dataset = read_records(data)
    members = {m.member for m in dataset.memberships if m.organisation == "kaaw"}
    assert {"gemeinde-05754012", "kreis-05754", "gemeinde-05711000", "gemeindeverband-071355001",
            "guetersloh"} <= members
    assert "kaaw--gemeinde-05754012" in {m.slug for m in dataset.memberships}


def test_an_unknown_key_is_located(minimal: Path) -> None:
    memberships = minimal / "memberships.csv"
    text = memberships.read_text(encoding="utf-8")
    line = text.splitlines()[1]
    memberships.write_text(text.replace(line, "ags:05754999" + line[line.index(","):]), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_records(minimal)
    problems = [str(p) for p in caught.value.problems]
    assert any("memberships.csv:2" in p and "'ags:05754999'" in p and "no organisation has AGS 05754999" in p
               for p in problems), problems


def test_a_key_reference_of_the_wrong_form_says_what_is_allowed(minimal: Path) -> None:
    memberships = minimal / "memberships.csv"
    text = memberships.read_text(encoding="utf-8")
    line = text.splitlines()[1]
    memberships.write_text(text.replace(line, "ags:0575" + line[line.index(","):]), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_records(minimal)
    assert "ags:05358008, ars:053580008008 or kreis:05358" in str(caught.value)


# --- the command line -------------------------------------------------------------------------


def test_cli_imports_and_reports(data: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "gemeinden", str(FIRST), "--into", str(data)])
    assert result.exit_code == 0, result.output
    assert "Gebietsstand 2024-12-31" in result.output and "new: 17" in result.output
    assert "adopted: guetersloh (gemeinde 05754008)" in result.output


def test_cli_reports_a_malformed_file(tmp_path: Path, data: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_text("19" + FIRST.read_text(encoding="utf-8")[2:], encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "gemeinden", str(path), "--into", str(data)])
    assert result.exit_code == 1
    assert f"{path}:1: column 'Satzart (columns 1-2)', value '19': must be one of 10 (Land)" in result.output
    assert not (data / FOLDER).exists()


def test_mapping_of_the_imported_directory_is_deterministic(data: Path) -> None:
    import_gemeinden(FIRST, into=data)
    first = to_graph(read_records(data)).serialize(format="nt")
    assert to_graph(read_records(data)).serialize(format="nt") == first
