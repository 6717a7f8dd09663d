"""The history of the releases, for people and machines.

``/changes`` lists the releases kept on disk (``keep_releases`` of them), newest first, each with
what changed since the release before it: a page in German or English, or JSON. Every kept release
answers at URLs that name it, so a link to its data stays true when a newer release is served:

    /releases/<id>                      the release as a version of the dataset: its catalog
                                        (RDF), or for a browser 303 to /changes#<id>
    /releases/<id>/dumps/<name>         its dumps, as /download/<name> serves the current ones
    /releases/<id>/changes/<file>       added.nt.gz, removed.nt.gz, changes.json

An id is looked up among the builds listed on disk (:func:`lod.release.layout.kept_release`),
never joined into a path; a release pruned since answers 404 naming those kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, render_template, request, send_file
from rdflib import Graph

from lod.formats import SERVED_RDF_FORMATS
from lod.messages import number, speaking
from lod.negotiation import negotiate
from lod.query.describe import Labels, names
from lod.release.changes import ADDED, FOLDER, REMOVED, SUMMARY, Changes, read_changes
from lod.release.layout import Release, kept_release, kept_releases
from lod.release.manifest import GZIP_MEDIA_TYPE
from lod.vocab import QUERY_PREFIXES
from lod.web.context import lod_context
from lod.web.downloads import dump_response
from lod.web.errors import error_response
from lod.web.pages import FORMAT_NAMES, page_language, readable_time
from lod.web.paths import local_path
from lod.web.rdf_response import PAGE, graph_response, rdf_or_page

blueprint = Blueprint("history", __name__)

SHOWN = 20
"""Records shown of each kind of change (added, removed, changed) per release; the files hold all."""
IMMUTABLE = 365 * 24 * 3600
"""A kept release's files never change (a rebuild is a new release), so caches may keep them."""
CHANGE_FILES = {ADDED: GZIP_MEDIA_TYPE, REMOVED: GZIP_MEDIA_TYPE, SUMMARY: "application/json"}
"""The files of ``changes/`` by name; gzipped N-Triples typed as the gzipped dumps are."""

TEXT = {
    "de": {
        "title": "Änderungen", "language": "Sprache",
        "intro": "Die Veröffentlichungen, die dieser Server aufbewahrt, die neueste zuerst, und was "
                 "sich in jeder gegenüber der vorigen geändert hat. Ihre Downloads bleiben unter "
                 "Adressen abrufbar, die die Veröffentlichung nennen, solange sie aufbewahrt wird.",
        "machines": "Für Programme gibt es diese Liste auch als", "none": "Noch keine Veröffentlichung.",
        "current": "wird ausgeliefert", "release": "Veröffentlichung", "size": "Umfang",
        "permalink": "Die bleibende Adresse dieser Veröffentlichung",
        "triples": "Tripel", "changes": "Änderungen", "since": "seit", "first": "Erste Veröffentlichung",
        "not_recorded": "Änderungen nicht verzeichnet",
        "added": "Hinzugefügt", "removed": "Entfernt", "changed": "Geändert",
        "gone": "nicht mehr veröffentlicht",
        "more": "… und {number} weitere (siehe changes.json)", "downloads": "Downloads",
        "change_files": "Änderungen als Dateien", "catalog": "Katalogeintrag",
        "added_file": "hinzugefügte Tripel", "removed_file": "entfernte Tripel",
        "summary_file": "Zusammenfassung",
    },
    "en": {
        "title": "Changes", "language": "Language",
        "intro": "The releases this server keeps, the newest first, and what changed in each since "
                 "the one before. Their downloads stay available at addresses that name the release "
                 "for as long as it is kept.",
        "machines": "For programs, this list is also available as", "none": "No release yet.",
        "current": "served now", "release": "Release", "size": "Size",
        "permalink": "The lasting address of this release",
        "triples": "triples", "changes": "Changes", "since": "since", "first": "First release",
        "not_recorded": "Changes not recorded",
        "added": "Added", "removed": "Removed", "changed": "Changed", "gone": "no longer published",
        "more": "… and {number} more (see changes.json)", "downloads": "Downloads",
        "change_files": "Changes as files", "catalog": "Catalogue entry",
        "added_file": "triples added", "removed_file": "triples removed", "summary_file": "summary",
    },
}
"""The words of the page, by page language."""


# --- /changes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownRecord:
    """A record in a list of changes: its name if the data still holds it, where it is answered."""

    iri: str
    name: tuple[str, str] | None
    """The label and its language ("" for none), when the served release holds the record."""
    path: str
    """What of the IRI a reader can tell it by: ``organisation/dresden``, else the IRI."""
    href: str | None
    properties: tuple[tuple[str, str], ...] = ()
    """For a changed record: each property as a prefixed name, and where it is described."""


@dataclass(frozen=True)
class Entry:
    """One kept release as the page shows it."""

    release: Release
    current: bool
    changes: Changes | None
    summary: str
    created: str
    triples: str
    records: tuple[tuple[str, tuple[ShownRecord, ...], int], ...]
    """Added, removed and changed records: the kind, the first :data:`SHOWN`, how many more."""


@blueprint.route("/changes")
def changes() -> Response:
    chosen = _json_or_page()
    if isinstance(chosen, Response):
        return chosen
    context = lod_context()
    kept = kept_releases(context.settings.release_dir)
    served = context.releases.get().manifest.release_id
    if chosen == "application/json":
        body = json.dumps([_as_json(release, served) for release in kept], ensure_ascii=False, indent=1)
        response = Response(body + "\n", mimetype="application/json")
    else:
        response = _page(kept, served)
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


def _json_or_page() -> str | Response:
    """``?format=json`` or ``html`` if given, else by Accept: a browser or ``*/*`` the page."""
    offered = {"html": PAGE, "json": "application/json"}
    label = request.args.get("format")
    if label:
        if label not in offered:
            return error_response(400, f"format={label!r}: available are {', '.join(offered)}")
        return offered[label]
    chosen = negotiate(request.headers.get("Accept"), list(offered.values()))
    if chosen is None:
        return error_response(406, f"available formats: {', '.join(offered.values())}")
    return chosen


def _as_json(release: Release, served: str) -> dict[str, Any]:
    manifest = release.manifest
    url = f"{lod_context().settings.public_url}releases/{manifest.release_id}"
    recorded = read_changes(release.path)
    files = {name: f"{url}/{FOLDER}/{name}" if recorded else None for name in CHANGE_FILES}
    return {
        "release": manifest.release_id, "created": manifest.created, "previous": manifest.previous,
        "current": manifest.release_id == served, "triples": manifest.triples,
        "changes": recorded.as_json() if recorded else None,
        "links": {"dumps": {dump.name: f"{url}/dumps/{dump.name}" for dump in manifest.dumps},
                  "added": files[ADDED], "removed": files[REMOVED], "summary": files[SUMMARY]},
    }


def _page(kept: list[Release], served: str) -> Response:
    language = page_language()
    text = TEXT[language]
    recorded = {release.manifest.release_id: read_changes(release.path) for release in kept}
    shown = {iri for changes in recorded.values() if changes is not None
             for iri in (*changes.records_added[:SHOWN], *changes.records_removed[:SHOWN],
                         *list(changes.records_changed)[:SHOWN])}
    named = names(lod_context().select, sorted(iri for iri in shown if local_path(iri)))
    entries = [_entry(release, served, recorded[release.manifest.release_id], named, language)
               for release in kept]
    html = render_template(
        "changes.html", language=language, text=text, entries=entries,
        kept={release.manifest.release_id for release in kept},
        catalog_formats=[(FORMAT_NAMES.get(f.label, f.label), f.label) for f in SERVED_RDF_FORMATS],
        settings=lod_context().settings)
    return Response(html, content_type="text/html; charset=utf-8")


def _entry(release: Release, served: str, changes: Changes | None, named: dict[str, Labels],
           language: str) -> Entry:
    manifest, text = release.manifest, TEXT[language]
    if changes is not None:
        with speaking(language):
            summary = changes.summary()
    else:
        summary = text["first"] if manifest.previous is None else text["not_recorded"]
    records = () if changes is None else (
        ("added", *_shown(changes.records_added, named, language)),
        ("removed", *_shown(changes.records_removed, named, language)),
        ("changed", *_shown(list(changes.records_changed), named, language, changes.records_changed)))
    return Entry(release=release, current=manifest.release_id == served, changes=changes, summary=summary,
                 created=readable_time(manifest.created_at, language),
                 triples=number(manifest.triples, language), records=records)


def _shown(iris: Sequence[str], named: dict[str, Labels], language: str,
           properties: dict[str, tuple[str, ...]] | None = None) -> tuple[tuple[ShownRecord, ...], int]:
    """The first :data:`SHOWN` records and how many more there are. A record links to its page
    while the served release holds it."""
    base = f"{lod_context().settings.base_iri}id/"
    shown = tuple(
        ShownRecord(iri=iri, name=named[iri].pick(language) if iri in named else None,
                    path=iri[len(base):] if iri.startswith(base) else iri,
                    href=local_path(iri) if iri in named else None,
                    properties=tuple((_prefixed(p), local_path(p) or p)
                                     for p in (properties or {}).get(iri, ())))
        for iri in iris[:SHOWN])
    return shown, max(0, len(iris) - SHOWN)


def _prefixed(iri: str) -> str:
    """``skos:prefLabel`` for an IRI in a namespace every query knows, else the IRI.

    >>> _prefixed("http://www.w3.org/2004/02/skos/core#prefLabel"), _prefixed("http://example.org/p")
    ('skos:prefLabel', 'http://example.org/p')
    """
    for prefix, namespace in QUERY_PREFIXES.items():
        if iri.startswith(namespace) and iri != namespace:
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


# --- /releases/<id> ---------------------------------------------------------------------------


def _kept(release_id: str) -> Release | Response:
    """The kept release ``release_id``, or the 404 that names the releases kept."""
    directory = lod_context().settings.release_dir
    release = kept_release(directory, release_id)
    if release is not None:
        return release
    ids = ", ".join(kept.manifest.release_id for kept in kept_releases(directory)) or "none"
    return error_response(404, f"release {release_id!r} is not kept on this server (it never was, or it "
                               f"was pruned); kept are: {ids}. See /changes")


@blueprint.route("/releases/<release_id>")
def version(release_id: str) -> Response:
    """The release as a version of the dataset: the catalog it was published with, or for a
    browser its entry on the page of changes."""
    found = _kept(release_id)
    if isinstance(found, Response):
        return found
    chosen = rdf_or_page()
    if isinstance(chosen, Response):
        return chosen
    if chosen == PAGE:
        language = request.args.get("lang")
        query = f"?lang={language}" if language in TEXT else ""
        return Response(status=303, headers={"Location": f"/changes{query}#{release_id}", "Vary": "Accept"})
    catalog = found.path / "catalog.ttl"
    if not catalog.is_file():
        return error_response(404, f"release {release_id!r} has no catalog")
    response = graph_response(Graph().parse(catalog, format="turtle"), chosen)
    response.cache_control.public = True
    response.cache_control.max_age = IMMUTABLE
    return response


@blueprint.route("/releases/<release_id>/dumps/<name>", methods=["GET", "HEAD", "OPTIONS"])
def dump(release_id: str, name: str) -> Response:
    found = _kept(release_id)
    if isinstance(found, Response):
        return found
    response = dump_response(found, name, max_age=IMMUTABLE)
    if response is None:
        available = ", ".join(d.name for d in found.manifest.dumps)
        return error_response(404, f"release {release_id} has no dump named {name!r}; its dumps: {available}")
    return response


@blueprint.route("/releases/<release_id>/changes/<name>", methods=["GET", "HEAD", "OPTIONS"])
def change_file(release_id: str, name: str) -> Response:
    found = _kept(release_id)
    if isinstance(found, Response):
        return found
    if name not in CHANGE_FILES:
        return error_response(404, f"no file {name!r} in a release's changes; there are: "
                                   f"{', '.join(CHANGE_FILES)}")
    folder = found.path / FOLDER
    if not (folder / SUMMARY).is_file():
        reason = "it is the first release" if found.manifest.previous is None else "they were not recorded"
        return error_response(404, f"release {release_id} has no changes: {reason}")
    # Only the names above are joined to the path; werkzeug's ETag (time, size) marks the version.
    return send_file(folder / name, mimetype=CHANGE_FILES[name], conditional=True, etag=True,
                     download_name=name, as_attachment=False, max_age=IMMUTABLE)
