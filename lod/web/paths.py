"""Where each published IRI is answered on this server, and which IRI a local path stands for:
``{base_iri}id/…`` at ``/id/…``, the vocabulary (``ikz:``) at ``/def/…``."""

from __future__ import annotations

import re

from lod.vocab import IKZ
from lod.web.context import lod_context

_SAFE_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*(?:/[A-Za-z0-9][A-Za-z0-9._~-]*)*")
"""Paths that can be part of a minted IRI; anything else (quotes, '>', '..') is not one of ours."""


def iri_of(path: str) -> str | None:
    """The IRI a local path stands for: ``organisation/kgst`` or ``def/topic/open-source``."""
    if path != "def" and not _SAFE_PATH.fullmatch(path):
        return None
    if path == "def" or path.startswith("def/"):
        return str(IKZ) + path[len("def/"):]
    return f"{lod_context().settings.base_iri}id/{path}"


def local_path(iri: str) -> str | None:
    """Where a published IRI is answered on this server, or None for other IRIs."""
    base = lod_context().settings.base_iri
    if iri.startswith(f"{base}id/"):
        return "/id/" + iri[len(base) + 3:]
    if iri.startswith(str(IKZ)):
        return "/def/" + iri[len(str(IKZ)):]
    return None
