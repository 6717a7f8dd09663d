"""The web server: a Flask app over a release, built by :func:`create_app`."""

from lod.web.app import create_app

__all__ = ["create_app"]
