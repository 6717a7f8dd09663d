"""The ``lod`` command line: each command a few lines over the library."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from lod import __version__
from lod.cli.language import language_option
from lod.errors import InputError, LodError
from lod.files import write_atomically
from lod.formats import RdfFormat
from lod.messages import tr
from lod.query.evaluate import QueryLimits
from lod.query.stored import QueriesCheck, project_queries
from lod.records.sources import read_records
from lod.release.layout import CURRENT, Release, ReleaseError, open_release
from lod.release.publish import NotPublishable, build_release
from lod.remote.publish import build_release_remote, check_served
from lod.settings import Settings
from lod.validation.choice import ShapesChoice
from lod.validation.pipeline import ENGINES, CheckedData, check_records
from lod.validation.report import format_problems, format_text, to_json
from lod.vocab import DEFAULT_BASE_IRI

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2

# Options default to None: a setting not given on the command line comes from the environment, the
# settings file or the defaults, in that order, the same way for every command (Settings.load).
base_iri_option = click.option(
    "--base-iri", help=f"Base under which data IRIs are minted ({{base}}id/{{type}}/{{slug}}); default "
                       f"{DEFAULT_BASE_IRI} (setting base_iri, env LOD_BASE_IRI).")
config_option = click.option(
    "--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML settings file (env LOD_CONFIG).")
data_argument = click.argument(
    "data", type=click.Path(exists=True, path_type=Path), default="data", required=False)


shapes_option = click.option(
    "--shapes", "shapes", multiple=True, metavar="FILE|DIR|+FILE|+DIR",
    help="Validate with these SHACL shapes instead of lod's; with a leading + in addition to them. "
         "Repeatable (env LOD_SHAPES).")


@click.group()
@click.version_option(__version__, prog_name="lod")
@language_option("lang_of_group")
def cli() -> None:
    """Publish organisations and their cooperations as validated Linked Open Data."""


def _check(data: Path, settings: Settings, *, json_errors: bool = False, engine: str = "compiled",
           outcome: str | None = None) -> CheckedData:
    notes: list[str] = []
    try:
        shapes = ShapesChoice.parse(settings.shapes)
        click.echo(tr("reading {data}", data=data), err=True)
        dataset = read_records(data, notes=notes)
        click.echo(tr("checking {count} records against {shapes} ({engine})", count=len(dataset),
                      shapes=", ".join(shapes.described()), engine=engine), err=True)
        return check_records(dataset, base_iri=settings.base_iri, engine=engine, shapes=shapes)
    except InputError as error:
        if json_errors:
            click.echo(to_json([], error.problems), nl=False)
        click.echo(format_problems(error.problems, outcome=outcome), err=True, nl=False)
        sys.exit(EXIT_INVALID)
    finally:
        for note in notes:  # after the problems, so that the first line says what is wrong
            click.echo(tr("note: {note}", note=note), err=True)


@cli.command()
@language_option()
@data_argument
@click.option("--format", "output", type=click.Choice(["text", "turtle", "json"]), default="text",
              show_default=True, help="text for people; the SHACL report as Turtle or JSON.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--min-severity", type=click.Choice(["violation", "warning", "info"]), default="info",
              show_default=True, help="Show only findings this severe or worse (text; all are counted).")
@click.option("--summary", is_flag=True, help="One line per rule with how often it is broken (text).")
@shapes_option
@click.option("--engine", type=click.Choice(ENGINES), default="compiled", show_default=True,
              help="compiled: the shapes as SPARQL over Oxigraph; pyshacl: the reference validator.")
@base_iri_option
@config_option
def validate(data: Path, output: str, strict: bool, min_severity: str, summary: bool,
             shapes: tuple[str, ...], engine: str, base_iri: str | None, config: Path | None) -> None:
    """Check DATA (a directory of CSV files, a JSON file or an .xlsx workbook; default data/).

    Exit status: 0 conforms, 1 input errors or violations (or warnings with --strict),
    2 usage or runtime error."""
    settings = Settings.load(config=config, base_iri=base_iri, shapes=shapes or None)
    checked = _check(data, settings, json_errors=output == "json", engine=engine,
                     outcome=tr("the shapes were not checked"))
    if output == "turtle":
        click.echo(checked.report.graph.serialize(format="turtle"), nl=False)
    elif output == "json":
        click.echo(to_json(checked.findings), nl=False)
    else:
        click.echo(format_text(checked.findings, min_severity=min_severity.capitalize(), summary=summary),
                   nl=False)
    sys.exit(EXIT_OK if checked.publishable(strict=strict) else EXIT_INVALID)


@cli.command()
@language_option()
@data_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write; '-' for standard output.")
@click.option("--format", "fmt", type=click.Choice([f.label for f in RdfFormat]),
              help="RDF format; by default from the output file's extension.")
@click.option("--allow-violations", is_flag=True, help="Export even if the data does not conform.")
@base_iri_option
@config_option
def export(data: Path, output: Path, fmt: str | None, allow_violations: bool, base_iri: str | None,
           config: Path | None) -> None:
    """Write the graph of DATA as Turtle, N-Triples, JSON-LD or RDF/XML, or its records as an
    Excel workbook (OUTPUT ending in .xlsx: a sheet per record type, as `lod build` reads it).

    Nothing is written when the input has errors or (without --allow-violations) violations."""
    workbook = fmt is None and output.suffix.lower() == ".xlsx"
    rdf_format = RdfFormat.from_label(fmt) if fmt else (
        RdfFormat.TURTLE if str(output) == "-" or workbook else RdfFormat.from_path(output)[0])
    checked = _check(data, Settings.load(config=config, base_iri=base_iri))
    if not checked.publishable() and not allow_violations:
        click.echo(format_text(checked.findings), err=True, nl=False)
        click.echo(tr("not exported: the data has violations"), err=True)
        sys.exit(EXIT_INVALID)
    if workbook:
        from lod.records.workbook import workbook_of  # openpyxl only where a workbook is written

        write_atomically(output, workbook_of(checked.dataset))
        click.echo(tr("wrote {count} records to {output}", count=len(checked.dataset), output=output),
                   err=True)
        return
    payload = checked.graph.serialize(format=rdf_format.rdflib_name, encoding="utf-8")
    if str(output) == "-":
        sys.stdout.buffer.write(payload)
        return
    write_atomically(output, payload)
    click.echo(tr("wrote {count} triples to {output}", count=len(checked.graph), output=output), err=True)


@cli.command()
@language_option()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--publisher", default="", help="The publishing organisation's name, for lod.toml.")
def init(directory: Path, publisher: str) -> None:
    """Start a publishing project in DIRECTORY (new or empty): empty CSV files in data/, the same as
    a workbook data.xlsx, the settings lod.toml to fill in, and a README (German and English) with
    the steps: edit, lod validate, lod build, lod serve."""
    from lod.records.starter import start_project

    for path in start_project(directory, publisher=publisher):
        click.echo(tr("wrote {path}", path=path))
    click.echo(tr("next: fill in {settings}, then read {readme}", settings=directory / "lod.toml",
                  readme=directory / "README.md"))


release_dir_option = click.option(
    "--release-dir", type=click.Path(file_okay=False, path_type=Path),
    help="Where releases are written and served from (default ./release; env LOD_RELEASE_DIR).")


@cli.command()
@language_option()
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@release_dir_option
@click.option("--allow-warnings", is_flag=True, help="Publish data that has warnings (never violations).")
@shapes_option
@base_iri_option
@config_option
def build(inputs: tuple[Path, ...], release_dir: Path | None, allow_warnings: bool, shapes: tuple[str, ...],
          base_iri: str | None, config: Path | None) -> None:
    """Validate INPUTS (default data/) and publish them as a new release: store, dumps, VoID, DCAT.

    INPUTS are a directory of CSV files, a JSON file or an .xlsx workbook of records, RDF files
    (.ttl, .nt, .nq, .trig, .rdf, .jsonld, each optionally .gz), or records beside RDF files.
    The release served before stays intact until the new one is complete."""
    settings = Settings.load(config=config, release_dir=release_dir, base_iri=base_iri,
                             shapes=shapes or None)
    release = _build(inputs or (settings.data_dir,), settings, allow_warnings)
    click.echo(tr("release {release}: {triples} triples in {path}", release=release.manifest.release_id,
                  triples=release.manifest.triples, path=release.path))


def _build(inputs: Sequence[Path], settings: Settings, allow_warnings: bool) -> Release:
    progress = (lambda message: click.echo(f"… {message}", err=True)) if sys.stderr.isatty() else None
    # With a remote store, the release is uploaded and switched there before it is switched here.
    build = build_release_remote if settings.remote_query_url else build_release
    try:
        # A project's stored queries (queries/ beside data/) are read now and run on the build.
        queries = project_queries(inputs)
        check = None if queries is None else QueriesCheck(
            queries, base_iri=f"{settings.public_url}sparql", limits=QueryLimits.from_settings(settings))
        return build(inputs, settings=settings, allow_warnings=allow_warnings, progress=progress,
                     before_switch=check)
    except InputError as error:
        click.echo(format_problems(error.problems, outcome=tr("nothing was published")), err=True, nl=False)
        sys.exit(EXIT_INVALID)
    except NotPublishable as error:
        click.echo(error.report_text, err=True, nl=False)
        click.echo(tr("not published: the data does not validate (warnings need --allow-warnings)"), err=True)
        sys.exit(EXIT_INVALID)


@cli.command()
@language_option()
@click.option("--host", help="Address to bind (default 127.0.0.1; env LOD_HOST).")
@click.option("--port", type=int, help="Port (default 8000; env LOD_PORT).")
@click.option("--workers", type=int, help="Worker processes (default 2; env LOD_WORKERS).")
@release_dir_option
@config_option
def serve(host: str | None, port: int | None, workers: int | None, release_dir: Path | None,
          config: Path | None) -> None:
    """Serve the current release (waitress in pre-forked workers); build one from data/ first if
    there is none."""
    settings = Settings.load(config=config, host=host, port=port, workers=workers,
                             release_dir=release_dir)
    # Checked (or built) in a process of its own: RocksDB must never be opened in the process
    # the server forks its workers from, as its threads do not survive a fork.
    preparation = multiprocessing.get_context("fork").Process(target=_prepare, args=(settings,))
    preparation.start()
    preparation.join()
    if preparation.exitcode:
        sys.exit(preparation.exitcode)
    from lod.web.serve import serve as run_server  # the HTTP server is only needed here

    run_server(settings)


def _prepare(settings: Settings) -> None:
    """Check the current release, or build one from the data directory if there is none; with a
    remote store, check that it holds that release."""
    try:
        release = open_release(settings.release_dir)
    except ReleaseError as error:
        if (settings.release_dir / CURRENT).exists():
            # A release that is there but broken is reported, not silently replaced.
            click.echo(tr("error: {problem}", problem=error), err=True)
            sys.exit(EXIT_ERROR)
        click.echo(tr("no release in {release_dir}; building one from {data}",
                      release_dir=settings.release_dir, data=settings.data_dir), err=True)
        try:
            release = _build((settings.data_dir,), settings, allow_warnings=False)
        except LodError as failure:
            click.echo(tr("error: {problem}", problem=failure), err=True)
            sys.exit(EXIT_ERROR)
    try:
        check_served(settings, release)
    except ReleaseError as failure:
        click.echo(tr("error: {problem}", problem=failure), err=True)
        sys.exit(EXIT_ERROR)


@cli.command()
@language_option()
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json as the release's changes/changes.json.")
@base_iri_option
@config_option
def diff(old: Path, new: Path, output: str, base_iri: str | None, config: Path | None) -> None:
    """What changed from OLD to NEW: records added, removed and changed (with the properties that
    changed) and the triples added and removed. Each is a release directory (its current release),
    a build in it (builds/ID), or records (a data directory, a .json file or an .xlsx workbook).

    Exit status: 0 compared (whether or not anything changed), 1 input errors, 2 usage error."""
    from lod.release.changes import difference

    try:
        found = difference(old, new, base_iri=Settings.load(config=config, base_iri=base_iri).base_iri)
    except InputError as error:
        click.echo(format_problems(error.problems, outcome=tr("nothing was compared")), err=True, nl=False)
        sys.exit(EXIT_INVALID)
    if output == "json":
        click.echo(found.changes.to_json(), nl=False)
        return
    for line in found.changes.lines():
        click.echo(line)


@cli.group(name="import")
def import_group() -> None:
    """Import records from official directories into a data directory."""


@import_group.command(name="gemeinden")
@language_option()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", type=click.Path(exists=True, file_okay=False, path_type=Path), default="data",
              show_default=True, help="The data directory; the records go to its gemeindeverzeichnis/.")
@click.option("--encoding", default="utf-8", show_default=True,
              help="The file's encoding: utf-8 as Destatis publishes it, latin-1 for older files.")
def import_gemeinden_command(file: Path, into: Path, encoding: str) -> None:
    """Import Destatis' Gemeindeverzeichnis, a GV100AD FILE, and report what changed.

    Exit status: 0 imported (or nothing changed), 1 the file has errors, 2 usage error."""
    from lod.records.gemeinden import import_gemeinden

    try:
        report = import_gemeinden(file, into=into, encoding=encoding)
    except InputError as error:
        click.echo(format_problems(error.problems), err=True, nl=False)
        sys.exit(EXIT_INVALID)
    for line in report.lines():
        click.echo(line)


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
        click.echo(tr("error: {problem}", problem=error), err=True)
        sys.exit(EXIT_ERROR)


# The federation commands live in their own module; registered last, as they import the group.
from lod.cli.endpoints import link, query  # noqa: E402

cli.add_command(query)
cli.add_command(link)
