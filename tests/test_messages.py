"""What lod says, in English and German: the catalogue is complete, and the command line speaks
the language the locale or ``--lang`` asks for (run as a real process)."""

from __future__ import annotations

import ast
import json
import os
import re
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from rdflib import Graph, Literal

from lod.messages import CATALOGUES, language_of_locale
from lod.resources import turtle_files
from lod.vocab import SH

PACKAGE = Path(__file__).parent.parent / "lod"


def said() -> Iterator[tuple[str, int, tuple[str, ...]]]:
    """Every message the code says: (file, line, (English,) or (singular, plural))."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("tr", "tr_n"):
                count = 1 if getattr(node.func, "id", None) == "tr" else 2
                texts = node.args[:count]
                where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                assert all(isinstance(t, ast.Constant) and isinstance(t.value, str) for t in texts), \
                    f"{where}: a message must be a string literal, or the catalogue cannot hold it"
                yield where, node.lineno, tuple(t.value for t in texts)  # type: ignore[attr-defined]


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def catalogue() -> dict[str, tuple[str, ...]]:
    """The German catalogue: the English singular to the German form(s)."""
    with (CATALOGUES / "de.po").open("rb") as source:
        entries = read_po(source)
    found = {}
    for entry in entries:
        if not entry.id:
            continue
        english = entry.id if isinstance(entry.id, str) else entry.id[0]
        found[english] = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string or ())
        assert not entry.fuzzy, f"de.po: {english!r} is marked fuzzy"
    return found


def test_every_message_has_its_german_with_the_same_placeholders() -> None:
    german = catalogue()
    missing, mismatched = [], []
    for where, _, english in said():
        forms = german.get(english[0])
        if not forms or not all(forms):
            missing.append(f"{where}: {english[0]!r}")
            continue
        wanted = set().union(*map(placeholders, english)) | ({"count"} if len(english) == 2 else set())
        for form in forms:
            if placeholders(form) - {"count"} != wanted - {"count"}:
                mismatched.append(f"{where}: {english[0]!r} → {form!r}")
    assert not missing, "no German for:\n" + "\n".join(missing)
    assert not mismatched, "other placeholders in German:\n" + "\n".join(mismatched)


def test_the_catalogue_holds_nothing_the_code_no_longer_says() -> None:
    english = {texts[0] for _, _, texts in said()}
    assert sorted(set(catalogue()) - english) == []


def test_every_shape_says_its_message_in_english_and_german() -> None:
    def variables(message: Literal) -> list[str]:
        return sorted(re.findall(r"\{[?$]\w+\}", str(message)))

    for path in turtle_files("shapes"):
        shapes = Graph().parse(path)
        for shape in set(shapes.subjects(SH.message, None)):
            messages = [m for m in shapes.objects(shape, SH.message) if isinstance(m, Literal)]
            by_language = {code: [m for m in messages if m.language == code] for code in ("en", "de")}
            assert len(by_language["en"]) == len(by_language["de"]) == len(messages) / 2 >= 1, (path, shape)
            assert sorted(map(variables, by_language["en"])) == sorted(map(variables, by_language["de"]))


@pytest.mark.parametrize(("environ", "language"), [
    ({"LANG": "de_DE.UTF-8"}, "de"),
    ({"LANG": "de_AT"}, "de"),
    ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANGUAGE": "fr:de", "LANG": "en_US.UTF-8"}, "de"),  # gettext's list of preferences
    ({"LC_ALL": "de_CH.UTF-8", "LANG": "en_US.UTF-8"}, "de"),  # LC_ALL overrides LANG
    ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "de_DE.UTF-8"}, "en"),
])
def test_the_locale_chooses_the_language(environ: dict[str, str], language: str) -> None:
    assert language_of_locale(environ) == language


def lod(*args: str | Path, lang: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    if lang:
        environ["LANG"] = lang
    return subprocess.run([sys.executable, "-m", "lod", *map(str, args)], capture_output=True, text=True,
                          env=environ, timeout=120)


def test_a_german_locale_gets_input_errors_and_the_outcome_in_german(minimal: Path) -> None:
    (minimal / "people.csv").write_text("slug,name,sources,shoe_size\nx,X,nowhere,42\n", encoding="utf-8")
    german = lod("validate", minimal, lang="de_DE.UTF-8")
    assert german.returncode == 1
    assert "people.csv:1: Spalte 'shoe_size'" in german.stderr
    assert "1 Eingabefehler; die Shapes wurden nicht geprüft" in german.stderr
    english = lod("validate", minimal)
    assert "people.csv:1: column 'shoe_size'" in english.stderr
    assert "1 input error; the shapes were not checked" in english.stderr


def test_lang_overrides_the_locale_on_the_group_and_on_the_command(minimal: Path) -> None:
    (minimal / "people.csv").write_text("slug,name,sources,shoe_size\nx,X,nowhere,42\n", encoding="utf-8")
    assert "column 'shoe_size'" in lod("validate", minimal, "--lang", "en", lang="de_DE.UTF-8").stderr
    assert "Spalte 'shoe_size'" in lod("--lang", "de", "validate", minimal).stderr
    assert "column 'shoe_size'" in lod("--lang", "de", "validate", "--lang", "en", minimal).stderr


def test_the_validation_report_speaks_german_and_keeps_both_languages_for_machines(minimal: Path) -> None:
    """The minimal data lacks an English name (an info of the shapes): the text and JSON reports
    say it in German, the SHACL report in Turtle carries the message in both languages."""
    text = lod("validate", minimal, lang="de_DE.UTF-8")
    assert text.returncode == 0, text.stderr
    info = next(line for line in text.stdout.splitlines() if "[name_en]" in line)
    assert info.strip().startswith("Hinweis: [name_en]")
    assert text.stdout.strip().endswith("Hinweise") and "konform" in text.stdout
    messages = {f["resultMessage"] for f in json.loads(lod("validate", minimal, "--format", "json",
                                                           lang="de_DE.UTF-8").stdout)["results"]}
    turtle = lod("validate", minimal, "--format", "turtle", lang="de_DE.UTF-8").stdout
    report = Graph().parse(data=turtle, format="turtle")
    both = {(str(m), m.language) for m in report.objects(None, SH.resultMessage) if isinstance(m, Literal)}
    assert messages and messages <= {text for text, language in both if language == "de"}
    assert {language for _, language in both} == {"de", "en"}
