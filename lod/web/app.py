"""The app factory: settings and the release are read once here, never inside a request."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, request
from jinja2 import DictLoader

from lod.query.runners import QueryRunner
from lod.release.layout import CurrentRelease, Release
from lod.remote.runner import query_runner
from lod.settings import Settings
from lod.web import api, catalog, downloads, errors, history, linked_data, sparql
from lod.web.context import LodContext

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
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
    )
    app.extensions["lod"] = LodContext(settings, CurrentRelease(settings.release_dir, fixed=release),
                                       queries or query_runner(settings))
    errors.register(app)
    for blueprint in (sparql.blueprint, linked_data.blueprint, downloads.blueprint, catalog.blueprint,
                      api.blueprint, history.blueprint):
        app.register_blueprint(blueprint)

    app.wsgi_app = CommonHeaders(app.wsgi_app)  # type: ignore[method-assign]
    return app


_HERE = Path(__file__).parent


def _hold_in_memory(app: Flask) -> None:
    """Templates and static files are read once, as the app is made: a running server keeps
    working when its package files are replaced under it (``pip install`` of another version)."""
    templates = {p.name: p.read_text(encoding="utf-8") for p in (_HERE / "templates").glob("*.html")}
    app.jinja_loader = DictLoader(templates)
    files = {p.name: p.read_bytes() for p in (_HERE / "static").iterdir() if p.is_file()}

    def static(filename: str) -> Response:
        body = files.get(filename)
        if body is None:
            abort(404)
        response = Response(body, mimetype=mimetypes.guess_type(filename)[0] or "application/octet-stream")
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        response.cache_control.public = True
        response.cache_control.max_age = 3600
        response.make_conditional(request)
        return response

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
