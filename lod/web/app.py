"""The app factory: settings and the release are read once here, never inside a request."""

from __future__ import annotations

from flask import Flask, Response, request

from ..publish import Release
from ..settings import Settings
from . import catalog, downloads, errors, linked_data, sparql
from .context import LodContext, ReleaseHolder

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}


def create_app(settings: Settings | None = None, release: Release | None = None) -> Flask:
    """A WSGI app serving the release in ``settings.release_dir`` (or the given ``release``).

    Usable under any WSGI server; ``lod serve`` runs it under gunicorn."""
    settings = settings or Settings.load()
    app = Flask(__name__)
    app.debug = False  # Flask would take FLASK_DEBUG from the environment; never in production
    # URL-encoding can triple a query's size; the decoded query is checked against the limit.
    body_limit = 3 * settings.max_query_bytes + 4096
    app.config.update(
        MAX_CONTENT_LENGTH=body_limit,
        MAX_FORM_MEMORY_SIZE=body_limit,
        JSON_AS_ASCII=False,
    )
    app.extensions["lod"] = LodContext(settings, ReleaseHolder(settings.release_dir, fixed=release))
    errors.register(app)
    for blueprint in (sparql.blueprint, linked_data.blueprint, downloads.blueprint, catalog.blueprint):
        app.register_blueprint(blueprint)

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # Open data: any origin may read it, which is what browser-based federation needs.
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Link, Content-Length, X-SPARQL-MaxRows"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Range, If-None-Match"
            response.headers["Access-Control-Max-Age"] = "86400"
        return response

    return app
