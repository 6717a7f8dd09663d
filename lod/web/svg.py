"""Building SVG for the pages: text escaped as it is put in, the house's colours, and the sizes
the pictures (:mod:`lod.web.pictures`) and the maps (:mod:`lod.web.maps`) share.

The Content-Security-Policy allows no inline style: drawings are styled by presentation attributes
(``fill=``, ``stroke=``) and by classes of lod.css."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from markupsafe import Markup

WIDTH = 400
"""The width of a drawing in its own units; at most this many CSS pixels on the page."""

# Colours, each with a contrast of at least 4.5:1 to what it is drawn on (WCAG AA).
TEXT = "#1a1a1a"
MUTED = "#4d4d4d"
LINK = "#0b5cad"
LINE = "#6b6b6b"

CHAR = 0.6
"""The width of an average character, in ems: generous, so that text fits in any sans-serif."""


def markup(template: str, *values: object, **named: object) -> Markup:
    """``template`` with ``values`` put in, each escaped unless it is Markup already."""
    return Markup(template).format(*values, **named)


def joined(parts: Sequence[Markup | str]) -> Markup:
    return Markup("").join(parts)


def element_id(prefix: str, text: str) -> str:
    """An id for an element, the same for the same text (so pages are reproducible)."""
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def pos(value: float) -> str:
    """A position in a drawing, written short: ``12.5``, ``12``."""
    return f"{value:.1f}".removesuffix(".0")
