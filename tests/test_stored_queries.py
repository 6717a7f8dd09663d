"""Stored queries (lod.query.stored): the bundled ones answer on the dataset; values go in as typed
terms, whatever they hold; a broken file is refused with its file and line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lod.errors import InputError
from lod.query.evaluate import QueryRequest
from lod.query.results import Solutions
from lod.query.stored import ParameterError, StoredQuery, bundled_queries, read_stored_query
from lod.release.layout import open_release
from lod.release.publish import build_release
from lod.remote.runner import query_runner
from lod.settings import Settings
from lod.web import create_app

from .conftest import ROOT


@pytest.fixture(scope="module")
def dataset_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(release_dir=tmp_path_factory.mktemp("release"))
    build_release(ROOT / "data", settings=settings, allow_warnings=True)
    return settings


@pytest.mark.parametrize("stored", bundled_queries(), ids=lambda q: q.name)
def test_each_bundled_query_answers_its_example_on_the_dataset(stored: StoredQuery,
                                                                dataset_settings: Settings) -> None:
    assert set(stored.summary) == {"de", "en"}
    for parameter in stored.parameters:
        assert set(parameter.description) == {"de", "en"}, parameter.name
    runner = query_runner(dataset_settings, in_process=True)
    outcome = runner.execute(open_release(dataset_settings.release_dir),
                             QueryRequest(stored.example(), formats=("json",)))
    assert outcome.status == 200, outcome.message
    assert Solutions.from_json(outcome.read()).rows, f"{stored.name}: its example finds nothing"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "q.rq"
    path.write_text(text, encoding="utf-8")
    return path


LOOKUP = """\
#+ summary: {de: Wert, en: value}
#+ parameters:
#+   v: {type: string, example: x}
#+   s: {type: iri, required: false}
SELECT ?s WHERE { ?s <http://example.org/p> ?v }
"""


def store_holding(value: str) -> ox.Store:
    """One triple with ``value``, and a decoy that a value which became syntax could match."""
    store = ox.Store()
    predicate = ox.NamedNode("http://example.org/p")
    store.add(ox.Quad(ox.NamedNode("http://example.org/s"), predicate, ox.Literal(value)))
    store.add(ox.Quad(ox.NamedNode("http://example.org/decoy"), predicate, ox.Literal(value + "\x00decoy")))
    return store


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",))))
def test_a_string_value_is_one_literal_whatever_it_holds(tmp_path_factory: pytest.TempPathFactory,
                                                         value: str) -> None:
    stored = read_stored_query(write(tmp_path_factory.mktemp("q"), LOOKUP))
    solutions = store_holding(value).query(stored.text({"v": value}))
    assert [row["s"] for row in solutions] == [ox.NamedNode("http://example.org/s")]  # type: ignore[index, union-attr]


def test_a_parameter_left_out_stays_a_variable(tmp_path: Path) -> None:
    stored = read_stored_query(write(tmp_path, LOOKUP))
    assert "?s" in stored.text({"v": "x"})
    assert "<http://example.org/a>" in stored.text({"v": "x", "s": "http://example.org/a"})


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("key", 'x" } ; DROP ALL ; #', "is not a key"),
    ("iri", "http://example.org/a> } ; DROP ALL ; #", "is not an absolute http(s) IRI"),
    ("iri", "javascript:alert(1)", "is not an absolute http(s) IRI"),
    ("integer", "1 } ; DROP ALL", "is not an integer"),
    ("date", "2024-02-30", "is not a date"),
])
def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path, kind: str, value: str, message: str) -> None:
    stored = read_stored_query(write(tmp_path, f"""\
#+ summary: x
#+ parameters:
#+   v: {{type: {kind}, required: false}}
SELECT * WHERE {{ ?s ?p ?v }}
"""))
    with pytest.raises(ParameterError, match=f"parameter v: .* {re.escape(message)}"):
        stored.text({"v": value})


def test_typed_values_are_written_as_their_type(tmp_path: Path) -> None:
    stored = read_stored_query(write(tmp_path, """\
#+ summary: x
#+ parameters:
#+   n: {type: integer, example: "007"}
#+   d: {type: date, example: 2024-02-29}
#+   k: {type: key, values: [a, b], default: a}
SELECT * WHERE { ?s ?p ?n, ?d, ?k }
"""))
    assert stored.example().endswith(
        'WHERE { ?s ?p 7, "2024-02-29"^^<http://www.w3.org/2001/XMLSchema#date>, "a" }\n')
    with pytest.raises(ParameterError, match="parameter k: 'c' is not one of a, b"):
        stored.text({"n": "1", "d": "2024-01-01", "k": "c"})


@pytest.mark.parametrize(("values", "message"), [
    ({"w": "x"}, "q has no parameter w; its parameters: v, s"),
    ({}, "q needs the parameter v"),
])
def test_unknown_and_missing_parameters_are_named(tmp_path: Path, values: dict[str, str],
                                                  message: str) -> None:
    stored = read_stored_query(write(tmp_path, LOOKUP))
    with pytest.raises(ParameterError, match=message.replace("(", r"\(")):
        stored.text(values)


@pytest.mark.parametrize(("text", "line", "message"), [
    ("#+ summary: [unclosed\nASK {}\n", 1, "the #+ header is not valid YAML"),
    ("#+ summary: x\n#+ colour: red\nASK {}\n", 2, "unknown header field colour"),
    ("#+ description: x\nASK {}\n", 1, "needs a summary"),
    ("#+ summary: x\n#+ parameters:\n#+   v: {type: string, example: a}\nASK { ?s ?p ?o }\n", 3,
     "parameter v is not a variable of the query"),
    ("#+ summary: x\n#+ parameters:\n#+   v: {type: iri}\nASK { ?s ?p ?v }\n", 3,
     "parameter v is required and needs an example"),
    ("#+ summary: x\n#+ parameters:\n#+   v: {type: number, example: 1}\nASK { ?s ?p ?v }\n", 3,
     "type 'number' is not one of"),
    ("#+ summary: x\n#+ parameters:\n#+   v: {type: iri, example: nowhere}\nASK { ?s ?p ?v }\n", 3,
     "its example: parameter v: 'nowhere' is not an absolute http"),
    ("#+ summary: x\n#+ parameters:\n#+   v: {type: key, example: a}\nASK {\n  ?s ?p ?v\n", 6,
     "with the examples put in, the query is not SPARQL 1.1"),
    ("#+ summary: x\n#+ parameters:\n#+   v: {type: key, example: a}\nSELECT ?v WHERE { ?s ?p ?v }\n", 4,
     "with the examples put in, the query is not SPARQL 1.1"),
])
def test_a_broken_file_is_refused_with_file_and_line(tmp_path: Path, text: str, line: int,
                                                     message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as refused:
        read_stored_query(path)
    assert any(p.file == str(path) and p.line == line and message in p.message
               for p in refused.value.problems), refused.value


# --- a project's own stored queries, checked by `lod build` -------------------------------------

OWN = """\
#+ summary: {de: Mitglieder einer Kooperation, en: Members of a cooperation}
#+ parameters:
#+   cooperation:
#+     type: iri
#+     example: https://w3id.org/lod-ikz/id/cooperation/oss
#+     description: {de: die Kooperation, en: the cooperation}
SELECT ?member WHERE { ?m <http://www.w3.org/ns/org#organization> ?cooperation ;
                          <http://www.w3.org/ns/org#member> ?member }
"""


def project(tmp_path: Path, minimal: Path, query: str) -> Path:
    """A project folder: the minimal data as data/, and queries/own.rq beside it."""
    (tmp_path / "project").mkdir()
    data = minimal.rename(tmp_path / "project" / "data")
    (tmp_path / "project" / "queries").mkdir()
    (tmp_path / "project" / "queries" / "own.rq").write_text(query, encoding="utf-8")
    return data


def lod_build(data: Path, release_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lod", "build", str(data), "--release-dir", str(release_dir),
                           "--allow-warnings"], capture_output=True, text=True, timeout=300)


def test_a_projects_queries_are_checked_published_and_served(tmp_path: Path, minimal: Path) -> None:
    data = project(tmp_path, minimal, OWN)
    done = lod_build(data, tmp_path / "release")
    assert done.returncode == 0, done.stderr
    release = open_release(tmp_path / "release")
    assert (release.path / "queries" / "own.rq").read_text(encoding="utf-8") == OWN
    client = create_app(Settings(release_dir=tmp_path / "release")).test_client()
    answer = client.get("/api/own", query_string={"cooperation": "https://w3id.org/lod-ikz/id/cooperation/oss"})
    assert answer.status_code == 200 and len(answer.json) == 2  # type: ignore[arg-type]
    assert "/api/own" in client.get("/api/openapi.json").json["paths"]  # type: ignore[index]


@pytest.mark.parametrize(("query", "line", "message"), [
    (OWN.replace("?member }", "?member"), 9, "with the examples put in, the query is not SPARQL 1.1"),
    (OWN.replace("cooperation/oss", "cooperation/nowhere"), None,
     "its example finds nothing in this release"),
    (OWN.replace("SELECT ?member WHERE", "ASK"), 1, "a stored query is a SELECT query"),
])
def test_a_broken_project_query_publishes_nothing(tmp_path: Path, minimal: Path, query: str, line: int | None,
                                                  message: str) -> None:
    data = project(tmp_path, minimal, query)
    done = lod_build(data, tmp_path / "release")
    assert done.returncode == 1
    where = f"own.rq:{line}: " if line else "own.rq: "
    assert where in done.stderr and message in done.stderr, done.stderr
    assert not (tmp_path / "release" / "current").exists()


def test_a_stored_query_may_use_the_predeclared_prefixes(tmp_path: Path) -> None:
    stored = read_stored_query(write(tmp_path, "#+ summary: x\nSELECT ?l WHERE { ?s skos:prefLabel ?l }\n"))
    assert "<http://www.w3.org/2004/02/skos/core#prefLabel>" in stored.page(None, limit=1, offset=0)
