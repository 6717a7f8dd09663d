"""``lod serve``: the app under gunicorn, a production WSGI server."""

from __future__ import annotations

import threading
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from .settings import Settings
from .web import create_app
from .web.context import lod_context


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # an older gunicorn lacks the newest (control_socket_disable)
                self.cfg.set(key, value)

    def load(self) -> Any:
        app = create_app(self.settings)
        # In the worker (gunicorn forks before it loads the app): the store goes into memory
        # while the worker starts taking requests; queries and pages wait for it, downloads not.
        threading.Thread(target=lod_context(app).warm_up, name="lod-warm-up", daemon=True).start()
        return app


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, writing the same access lines at a fraction of the cost.

    For its default (combined) format, which ``lod serve`` uses, gunicorn's ``atoms`` puts every
    request header, response header and WSGI environ entry into the dictionary the line is
    formatted from, though the line uses nine values; these nine are all this one computes."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        if self.cfg.access_log_format != _COMBINED:
            return super().atoms(resp, req, environ, request_time)  # type: ignore[no-any-return]
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "l": "-",
            "u": self._get_user(environ) or "-",
            "t": self.now(),
            "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            "s": status,
            "b": str(sent) if sent is not None else "-",
            "f": environ.get("HTTP_REFERER", "-"),
            "a": environ.get("HTTP_USER_AGENT", "-"),
        }


_COMBINED = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Worker layout and limits; threads let a worker go on serving while a client reads slowly."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": int(settings.query_timeout) + 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "accesslog": "-",
        "logger_class": AccessLogger,
        "errorlog": "-",
        "proc_name": "lod",
        # Not used, and one per user by default: parallel servers would take each other's.
        "control_socket_disable": True,
    }


def serve(settings: Settings) -> None:
    """Serve the release in ``settings.release_dir`` until stopped."""
    _Server(settings, gunicorn_options(settings)).run()
