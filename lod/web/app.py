"""The app factory: settings and the release are read once here, never inside a request."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, request
from jinja2 import DictLoader

from lod.query.runners import QueryRunner
from lod.release.layout import CurrentRelease, Release
from lod.remote.runner import query_runner
from lod.settings import Settings
from lod.web import api, browse, catalog, downloads, errors, history, linked_data, sparql
from lod.web.context import LodContext

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


def content_security_policy(*, style_elements: Iterable[str] = (),
                            style_attributes: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of the responses: scripts, styles, images and requests from this
    origin only, nothing inline. A page may allow exactly the ``<style>`` elements and the
    ``style`` attributes whose hashes (``sha256-…``) it names, and no others.

    >>> content_security_policy(style_attributes=["sha256-abc="]).split("; ")[1:3]
    ["style-src 'self'", "style-src-attr 'unsafe-hashes' 'sha256-abc='"]
    """
    directives = ["default-src 'self'", " ".join(["style-src 'self'", *(f"'{h}'" for h in style_elements)])]
    if attributes := [f"'{h}'" for h in style_attributes]:
        directives.append(" ".join(["style-src-attr 'unsafe-hashes'", *attributes]))
    directives += ["img-src 'self' data:", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]
    return "; ".join(directives)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": content_security_policy(),
}
CORS_HEADERS = {
    # Open data: any origin may read it, which is what browser-based federation needs.
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Link, Content-Length, X-SPARQL-MaxRows",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type, Range, If-None-Match",
    "Access-Control-Max-Age": "86400",
}


def create_app(settings: Settings | None = None, release: Release | None = None,
               queries: QueryRunner | None = None) -> Flask:
    """A WSGI app serving the release in ``settings.release_dir`` (or the given ``release``), its
    queries answered by ``queries`` (by default what the settings ask for: see
    :func:`lod.remote.runner.query_runner`).

    Usable under any WSGI server; ``lod serve`` runs it under waitress."""
    settings = settings or Settings.load()
    app = Flask(__name__, static_folder=None)
    _hold_in_memory(app)
    app.debug = False  # Flask would take FLASK_DEBUG from the environment; never in production
    # URL-encoding can triple a query's size; the decoded query is checked against the limit.
    body_limit = 3 * settings.max_query_bytes + 4096
    app.config.update(
        MAX_CONTENT_LENGTH=body_limit,
        MAX_FORM_MEMORY_SIZE=body_limit,
        JSON_AS_ASCII=False,
        # The query page's editor adds a few fixed styles inline; that page allows exactly those.
        QUERY_PAGE_CSP=content_security_policy(style_elements=sparql.EDITOR_STYLE_ELEMENTS,
                                               style_attributes=sparql.EDITOR_STYLE_ATTRIBUTES),
    )
    app.extensions["lod"] = LodContext(settings, CurrentRelease(settings.release_dir, fixed=release),
                                       queries or query_runner(settings))
    errors.register(app)
    for blueprint in (sparql.blueprint, linked_data.blueprint, downloads.blueprint, catalog.blueprint,
                      api.blueprint, history.blueprint, browse.blueprint):
        app.register_blueprint(blueprint)

    app.wsgi_app = CommonHeaders(app.wsgi_app)  # type: ignore[method-assign]
    return app


_HERE = Path(__file__).parent


STATIC_TYPES = {
    ".css": "text/css", ".js": "text/javascript", ".json": "application/json", ".svg": "image/svg+xml",
    ".png": "image/png", ".woff2": "font/woff2", ".txt": "text/plain", ".md": "text/markdown",
}
"""Media types of the static files by extension, fixed here rather than guessed from the
machine's tables, where ``.js`` may be ``text/plain`` (Windows): a browser told ``nosniff`` refuses
to run that. Other extensions are guessed."""


def static_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, subfolders included, by its path relative to it (``a/b.js``).

    Requests are answered from this table only, so no request path can reach a file outside it
    (``..``, encoded or not, names nothing in it). Hidden files and folders are left out."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                          for part in path.relative_to(folder).parts)}


def _hold_in_memory(app: Flask) -> None:
    """Templates and static files are read once, as the app is made: a running server keeps
    working when its package files are replaced under it (``pip install`` of another version)."""
    templates = {p.name: p.read_text(encoding="utf-8") for p in (_HERE / "templates").glob("*.html")}
    app.jinja_loader = DictLoader(templates)
    files = static_files(_HERE / "static")
    versions = {name: hashlib.sha256(body).hexdigest()[:32] for name, body in files.items()}

    def static(filename: str) -> Response:
        body = files.get(filename)
        if body is None:
            abort(404)
        media_type = (STATIC_TYPES.get(PurePosixPath(filename).suffix) or mimetypes.guess_type(filename)[0]
                      or "application/octet-stream")
        response = Response(body, mimetype=media_type)
        response.set_etag(versions[filename])
        response.cache_control.public = True
        if request.args.get("v") == versions[filename]:
            response.cache_control.max_age = 365 * 24 * 3600  # this URL names these bytes only
            response.cache_control.immutable = True
        else:
            response.cache_control.max_age = 3600
        response.make_conditional(request)
        return response

    def with_version(endpoint: str, values: dict[str, Any]) -> None:
        """Pages link a static file by its content (``?v=``), so a new version is fetched at once
        and an unchanged one is never asked for again."""
        if endpoint == "static" and values.get("filename") in versions:
            values.setdefault("v", versions[values["filename"]])

    app.url_defaults(with_version)
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=static)


class CommonHeaders:
    """WSGI middleware: every response gets the security headers (unless it set its own) and the
    CORS headers, and a preflight (OPTIONS) also the CORS preflight headers.

    Done on the WSGI header list, one append per request, rather than in an ``after_request`` hook:
    werkzeug's ``Headers`` scans its list for every header set, which costs more than the rest of
    answering a cached query."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self._always = _header_list(SECURITY_HEADERS, CORS_HEADERS)
        self._preflight = _header_list(SECURITY_HEADERS, CORS_HEADERS, PREFLIGHT_HEADERS)
        self._replaced = {name.lower() for name in (*CORS_HEADERS, *PREFLIGHT_HEADERS)}
        self._ours = {name.lower() for name in SECURITY_HEADERS} | self._replaced

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        extra = self._preflight if environ.get("REQUEST_METHOD") == "OPTIONS" else self._always

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            if present.isdisjoint(self._ours):
                headers += extra
            else:  # the response set some itself: it keeps its security headers, not its CORS ones
                headers[:] = [h for h in headers if h[0].lower() not in self._replaced]
                headers += [h for h in extra if h[0].lower() in self._replaced or h[0].lower() not in present]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _header_list(*tables: dict[str, str]) -> list[tuple[str, str]]:
    return [item for table in tables for item in table.items()]
