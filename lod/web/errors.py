"""One error shape for every failure: plain text, JSON for clients that prefer it, or a page for
browsers, each with the status, its reason and the message.

    {"status": 400, "error": "Bad Request", "message": "…"}

Tracebacks, internal paths and exception names never reach the client; they go to the log.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from lod.errors import LodError
from lod.negotiation import negotiate
from lod.query.executor import Overloaded
from lod.web.pages import page_language

log = logging.getLogger(__name__)


def error_response(status: int, message: str, *, headers: dict[str, str] | None = None,
                   default: str = "text/plain") -> Response:
    """The error body in the shape the client prefers; ``default`` where it has no preference."""
    reason = HTTPStatus(status).phrase
    shapes = ["text/plain", "application/json", "text/html"]
    wanted = negotiate(request.headers.get("Accept"), [default, *(s for s in shapes if s != default)])
    if wanted == "text/html":
        language = page_language()
        html = render_template("error.html", status=status, reason=reason, language=language,
                               message=_PAGE_MESSAGES.get(message, {}).get(language, message))
        response = Response(html, status, content_type="text/html; charset=utf-8")
    elif wanted == "application/json":
        body = json.dumps({"status": status, "error": reason, "message": message}, ensure_ascii=False)
        response = Response(body + "\n", status, mimetype="application/json")
    else:
        response = Response(f"{status} {reason}\n\n{message}\n", status,
                            content_type="text/plain; charset=utf-8")
    response.headers.update(headers or {})
    return response


_MESSAGES = {
    404: "Unter dieser Adresse gibt es nichts. / Nothing is published at this address.",
    405: "Diese Adresse nimmt diese Methode nicht an (siehe Allow). / This address does not take "
         "this method (see Allow).",
}
"""Said in both languages to clients; a page says the half in its language."""
_PAGE_MESSAGES = {both: dict(zip(("de", "en"), both.split(" / "), strict=True))
                  for both in _MESSAGES.values()}


def register(app: Flask) -> None:
    @app.errorhandler(LodError)
    def lod_error(error: LodError) -> Response:
        if isinstance(error, Overloaded):
            return error_response(503, str(error), headers={"Retry-After": str(error.retry_after)})
        if error.status >= 500:
            log.error("%s: %s", type(error).__name__, error)
        return error_response(error.status, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        allowed = getattr(error, "valid_methods", None)
        headers = {"Allow": ", ".join(allowed)} if allowed else {}
        # Werkzeug's own description is English only; the common ones are said in both languages.
        message = _MESSAGES.get(status) if error.description == type(error).description else None
        return error_response(status, message or error.description or HTTPStatus(status).phrase,
                              headers=headers)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # A bug: logged with its traceback for us, a plain 500 for the client.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error; it has been logged")
