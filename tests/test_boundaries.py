"""The library core imports neither the web layer nor the command line (see STYLE.md)."""

from __future__ import annotations

import subprocess
import sys

import lod


def test_core_imports_neither_flask_nor_click() -> None:
    code = ("import sys, lod, lod.mapping, lod.validate, lod.sources, lod.report, lod.pipeline, "
            "lod.publish, lod.store, lod.executor, lod.metadata, lod.results, lod.negotiation, "
            "lod.describe, lod.settings; "
            "print(','.join(m for m in ('flask', 'click', 'werkzeug') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_public_api_is_listed() -> None:
    missing = [name for name in lod.__all__ if not hasattr(lod, name)]
    assert missing == []
    assert {"read_records", "to_graph", "validate_graph", "Organisation"} <= set(lod.__all__)
