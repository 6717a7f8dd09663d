"""The ``lod`` command line: each command a few lines over the library."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from . import __version__
from .errors import InputError, LodError
from .formats import RdfFormat
from .pipeline import CheckedData, check_records
from .report import format_problems, format_text, to_json
from .sources import read_records
from .vocab import DEFAULT_BASE_IRI

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2

base_iri_option = click.option(
    "--base-iri", envvar="LOD_BASE_IRI", default=DEFAULT_BASE_IRI, show_default=True,
    help="Base under which data IRIs are minted ({base}id/{type}/{slug}); env LOD_BASE_IRI.")
data_argument = click.argument(
    "data", type=click.Path(exists=True, path_type=Path), default="data", required=False)


@click.group()
@click.version_option(__version__, prog_name="lod")
def cli() -> None:
    """Publish organisations and their cooperations as validated Linked Open Data."""


def _check(data: Path, base_iri: str, *, json_errors: bool = False) -> CheckedData:
    try:
        return check_records(read_records(data), base_iri=base_iri)
    except InputError as error:
        if json_errors:
            click.echo(to_json([], error.problems), nl=False)
        click.echo(format_problems(error.problems), err=True, nl=False)
        sys.exit(EXIT_INVALID)


@cli.command()
@data_argument
@click.option("--format", "output", type=click.Choice(["text", "turtle", "json"]), default="text",
              show_default=True, help="text for people; the SHACL report as Turtle or JSON.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@base_iri_option
def validate(data: Path, output: str, strict: bool, base_iri: str) -> None:
    """Check DATA (a directory of CSV files or a JSON file; default data/).

    Exit status: 0 conforms, 1 input errors or violations (or warnings with --strict),
    2 usage or runtime error."""
    checked = _check(data, base_iri, json_errors=output == "json")
    if output == "turtle":
        click.echo(checked.report.graph.serialize(format="turtle"), nl=False)
    elif output == "json":
        click.echo(to_json(checked.findings), nl=False)
    else:
        click.echo(format_text(checked.findings), nl=False)
    sys.exit(EXIT_OK if checked.publishable(strict=strict) else EXIT_INVALID)


@cli.command()
@data_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write; '-' for standard output.")
@click.option("--format", "fmt", type=click.Choice([f.label for f in RdfFormat]),
              help="RDF format; by default from the output file's extension.")
@click.option("--allow-violations", is_flag=True, help="Export even if the data does not conform.")
@base_iri_option
def export(data: Path, output: Path, fmt: str | None, allow_violations: bool, base_iri: str) -> None:
    """Write the graph of DATA as Turtle, N-Triples, JSON-LD or RDF/XML.

    Nothing is written when the input has errors or (without --allow-violations) violations."""
    rdf_format = RdfFormat.from_label(fmt) if fmt else (
        RdfFormat.TURTLE if str(output) == "-" else RdfFormat.from_path(output)[0])
    checked = _check(data, base_iri)
    if not checked.publishable() and not allow_violations:
        click.echo(format_text(checked.findings), err=True, nl=False)
        click.echo("not exported: the data has violations", err=True)
        sys.exit(EXIT_INVALID)
    payload = checked.graph.serialize(format=rdf_format.rdflib_name, encoding="utf-8")
    if str(output) == "-":
        sys.stdout.buffer.write(payload)
        return
    _write_atomically(output, payload)
    click.echo(f"wrote {len(checked.graph)} triples to {output}", err=True)


def _write_atomically(path: Path, payload: bytes) -> None:
    """Write beside the target, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main() -> None:
    """Entry point: library errors become a message and exit status 2, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        sys.exit(EXIT_ERROR)
    except LodError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_ERROR)
