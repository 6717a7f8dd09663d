"""``lod query`` and ``lod link``: the command-line doors to :mod:`lod.remote.client` and
:mod:`lod.remote.linking`.

Registered on the ``lod`` group at the end of :mod:`lod.cli`; this module does not import it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal

from lod.cli.language import language_option
from lod.errors import InputError, UsageError
from lod.formats import RdfFormat, ResultFormat
from lod.messages import tr, tr_n
from lod.query.literals import LiteralIndex
from lod.query.prepare import QueryInvalid, QueryPreparer, QueryRefused
from lod.query.ranks import ObjectRanks
from lod.query.results import write_boolean, write_solutions
from lod.query.top import choose
from lod.rdf import statistics as plan_statistics
from lod.rdf.store import StoreError, open_store, to_oxigraph
from lod.records.sources import read_records
from lod.release.layout import ReleaseError, open_release
from lod.remote.client import (
    WIKIDATA_ENDPOINT,
    AnswerCache,
    Endpoint,
    LocalRelease,
    QueryResult,
    QuerySource,
    RdflibTerm,
    SelectResult,
)
from lod.remote.linking import WDT, accept_proposals, propose_wikidata_links, write_proposals
from lod.remote.runner import query_runner
from lod.settings import Settings
from lod.validation.report import format_problems
from lod.vocab import PREFIXES, WIKIDATA

EXIT_INVALID = 1
QUERY_FILE_SUFFIXES = (".rq", ".sparql")
TABLE = "table"
_RESULT_FORMATS = {f.label: f for f in ResultFormat}
_GRAPH_FORMATS = {f.label: f for f in RdfFormat if not f.has_graphs or f is RdfFormat.JSONLD}
_CELL_WIDTH = 60

F = TypeVar("F", bound=Callable[..., Any])


def endpoint_options(function: F) -> F:
    """--timeout and --cache, for commands that ask an endpoint."""
    function = click.option(
        "--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
        help="Keep answers in this directory and reuse them for the same endpoint and query.")(function)
    return click.option(
        "--timeout", type=click.IntRange(min=1), default=60, show_default=True,
        help="Seconds to wait for the endpoint to connect and for each read.")(function)


def _endpoint(url: str, timeout: int, cache_dir: Path | None) -> Endpoint:
    return Endpoint(url, timeout=timeout, cache=AnswerCache(cache_dir) if cache_dir else None)


# --- lod query ----------------------------------------------------------------------------------


@click.command()
@language_option()
@click.argument("query_argument", metavar="QUERY|FILE")
@click.option("--endpoint", metavar="URL", help="Ask this SPARQL endpoint instead of the current release.")
@click.option("--release-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The releases to query without --endpoint (default ./release; env LOD_RELEASE_DIR).")
@click.option("--format", "fmt", type=click.Choice([TABLE, *_RESULT_FORMATS, *_GRAPH_FORMATS]),
              help="Output format; default: table for SELECT and ASK, turtle for CONSTRUCT and DESCRIBE.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML settings file (env LOD_CONFIG).")
@click.option("--explain", is_flag=True,
              help="Print the query as the engine would run it (checked, planned), and run nothing.")
@endpoint_options
def query(query_argument: str, endpoint: str | None, release_dir: Path | None, fmt: str | None,
          config: Path | None, explain: bool, timeout: int, cache_dir: Path | None) -> None:
    """Run a SPARQL query on the current release, or on any endpoint with --endpoint.

    QUERY|FILE is a file holding the query when a file of that name exists, '-' for standard input,
    and otherwise the query text itself; a name ending in .rq or .sparql must be an existing file.
    Without --endpoint the query is evaluated here, on the release's store, with no server running
    (SERVICE is refused, as by the endpoint)."""
    text = read_query_argument(query_argument)
    source: QuerySource
    if endpoint:
        if explain:
            raise UsageError(tr("--explain shows how this release's engine runs a query; another "
                                "endpoint plans its queries itself: leave out --endpoint"))
        source = _endpoint(endpoint, timeout, cache_dir)
    else:
        settings = Settings.load(config=config, release_dir=release_dir)
        runner = query_runner(settings, in_process=True)
        if explain:
            store = None
            with contextlib.suppress(ReleaseError, StoreError):  # no release yet: run as written
                release = open_release(settings.release_dir, check_store=False)
                store = open_store(release.store_path)
                runner.preparer.use_release(plan_statistics.read(release.path), LiteralIndex(store),
                                            ObjectRanks(store))
            click.echo(explained(runner.preparer, text, store), nl=False)
            return
        source = LocalRelease(settings.release_dir, max_rows=settings.max_rows, runner=runner)
    result = source.query(text)
    write_result(sys.stdout.buffer, result, fmt)
    if isinstance(result, SelectResult) and result.truncated:
        click.echo(tr("note: {source} cut the result at {count} rows", source=source.name, count=len(result)),
                   err=True)


def explained(preparer: QueryPreparer, text: str, store: ox.Store | None = None) -> str:
    """The query as the engine runs it on ``store``, and whether the planner rewrote it; a query
    that may not run is a usage error with the endpoint's reason."""
    try:
        prepared = preparer.prepare(text)
    except (QueryInvalid, QueryRefused) as refusal:
        raise UsageError(tr("the query would not run (HTTP {status}): {reason}", status=refusal.status,
                            reason=refusal)) from None
    runs = prepared.text if store is None else choose(store, prepared.attempts, prepared.text)
    note = ("# rewritten by the planner into a form the engine evaluates well, with the same answer\n"
            if runs != prepared.original else "# run as written (in canonical form)\n")
    return note + runs + ("" if runs.endswith("\n") else "\n")


def read_query_argument(argument: str) -> str:
    """The query an argument stands for: a file's text, standard input for '-', or the argument."""
    if argument == "-":
        return sys.stdin.read()
    path = Path(argument)
    if path.is_file():
        return path.read_text(encoding="utf-8-sig")
    if argument.strip().lower().endswith(QUERY_FILE_SUFFIXES):
        raise UsageError(tr("query file {argument} does not exist (an argument ending in {suffixes} is read "
                            "as a file, never as a query)", argument=argument,
                            suffixes=" or ".join(QUERY_FILE_SUFFIXES)))
    return argument


def write_result(out: BinaryIO, result: QueryResult, fmt: str | None) -> None:
    """Write ``result`` in ``fmt`` (a label of ResultFormat or RdfFormat, or "table")."""
    if isinstance(result, Graph):
        label = fmt or RdfFormat.TURTLE.label
        if label not in _GRAPH_FORMATS:
            raise UsageError(tr("--format {label} is for SELECT and ASK; a graph prints as {formats}",
                                label=label, formats=", ".join(_GRAPH_FORMATS)))
        for prefix, namespace in {**PREFIXES, "wd": WIKIDATA, "wdt": WDT}.items():
            result.bind(prefix, namespace, override=False)
        out.write(result.serialize(format=_GRAPH_FORMATS[label].rdflib_name, encoding="utf-8"))
        return
    label = fmt or TABLE
    if label in _GRAPH_FORMATS:
        raise UsageError(tr("--format {label} is for CONSTRUCT and DESCRIBE; a SELECT or ASK result "
                            "prints as {formats}", label=label, formats=", ".join([TABLE, *_RESULT_FORMATS])))
    if isinstance(result, bool):
        if label == TABLE:
            out.write(b"true\n" if result else b"false\n")
        else:
            write_boolean(out, _RESULT_FORMATS[label], result)
        return
    if label == TABLE:
        out.write(table(result).encode("utf-8"))
        return
    rows = ([None if term is None else to_oxigraph(term) for term in map(row.get, result.variables)]
            for row in result)
    write_solutions(out, _RESULT_FORMATS[label], result.variables, rows)


def table(result: SelectResult) -> str:
    """The result as a plain-text table for people: IRIs and values as text, long ones shortened."""
    header = list(result.variables)
    cells = [[_cell(row.get(name)) for name in header] for row in result]
    widths = [max([len(name), *(len(line[i]) for line in cells)]) for i, name in enumerate(header)]
    lines = [" | ".join(name.ljust(width) for name, width in zip(header, widths, strict=True)),
             "-+-".join("-" * width for width in widths)]
    lines += [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
              for line in cells]
    count = len(result)
    lines.append(tr_n("({count} row)", "({count} rows)", count))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _cell(term: RdflibTerm | None) -> str:
    if term is None:
        return ""
    text = f"_:{term}" if isinstance(term, BNode) else str(term)
    if isinstance(term, Literal) and term.language:
        text += f" @{term.language}"
    text = " ".join(text.split())
    return text if len(text) <= _CELL_WIDTH else text[:_CELL_WIDTH - 1] + "…"


# --- lod link -----------------------------------------------------------------------------------


@click.group()
def link() -> None:
    """Link our organisations to other datasets."""


@link.command()
@language_option()
@click.argument("data", type=click.Path(exists=True, path_type=Path), default="data", required=False)
@click.option("--endpoint", metavar="URL", default=WIKIDATA_ENDPOINT, show_default=True,
              help="The Wikidata query service (or an endpoint holding Wikidata-shaped data).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              default="-", show_default=True, help="The proposals CSV file; '-' for standard output.")
@click.option("--accept", "accepted", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Write the proposals marked accept=yes in this file into DATA; asks no endpoint.")
@endpoint_options
def wikidata(data: Path, endpoint: str, output: Path, accepted: Path | None, timeout: int,
             cache_dir: Path | None) -> None:
    """Propose owl:sameAs links from DATA's organisations to Wikidata items, or add accepted ones.

    Municipalities are matched by AGS (P439), districts by Kreisschlüssel (P440), other
    organisations by German label or alias. The proposals CSV has an empty 'accept' column: put
    'yes' where a proposal is right, then run again with --accept FILE. That writes the QIDs into
    organisations.csv's 'wikidata' column, cites the source 'wikidata' (added to sources.csv if
    missing), and never replaces a different QID: such conflicts are listed, and exit status is 1."""
    if accepted:
        _accept(data, accepted)
        return
    try:
        organisations = read_records(data).organisations
    except InputError as error:
        click.echo(format_problems(error.problems), err=True, nl=False)
        sys.exit(EXIT_INVALID)
    proposals = propose_wikidata_links(organisations, _endpoint(endpoint, timeout, cache_dir))
    with click.open_file(str(output), "w", encoding="utf-8", atomic=str(output) != "-") as out:
        write_proposals(out, proposals)
    linked = len({p.slug for p in proposals})
    click.echo(tr("{proposals} proposals for {linked} of {organisations} organisations{written}; put yes "
                  "in 'accept' for the right ones, then run with --accept", proposals=len(proposals),
                  linked=linked, organisations=len(organisations),
                  written="" if str(output) == "-" else tr(" written to {output}", output=output)), err=True)


def _accept(data: Path, accepted: Path) -> None:
    if not data.is_dir():
        raise UsageError(tr("{data} is not a directory: --accept writes to organisations.csv and sources.csv",
                            data=data))
    try:
        done = accept_proposals(data, accepted)
    except InputError as error:
        click.echo(format_problems(error.problems), err=True, nl=False)
        click.echo(tr("nothing was written"), err=True)
        sys.exit(EXIT_INVALID)
    for added in done.linked:
        click.echo(f"{added.slug}: {added.qid}")
    click.echo(tr("linked {linked}, already linked {unchanged}, conflicts {conflicts}",
                  linked=len(done.linked), unchanged=len(done.unchanged), conflicts=len(done.conflicts))
               + (tr("; added source wikidata to sources.csv") if done.source_added else ""), err=True)
    for conflict in done.conflicts:
        click.echo(tr("conflict: {conflict}", conflict=conflict), err=True)
    if done.conflicts:
        sys.exit(EXIT_INVALID)
