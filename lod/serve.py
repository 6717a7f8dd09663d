"""``lod serve``: the app under gunicorn, a production WSGI server."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from .settings import Settings
from .web import create_app


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
        return create_app(self.settings)


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
        "errorlog": "-",
        "proc_name": "lod",
        # Not used, and one per user by default: parallel servers would take each other's.
        "control_socket_disable": True,
    }


def serve(settings: Settings) -> None:
    """Serve the release in ``settings.release_dir`` until stopped."""
    _Server(settings, gunicorn_options(settings)).run()
