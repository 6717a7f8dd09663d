"""The benchmark's generated data for tests: written by benchmarks/generate.py, and mapped into a
store in memory as a build maps it (the records, then the vocabulary)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.generate import store_of

__all__ = ["generated_data", "store_of"]

ROOT = Path(__file__).resolve().parent.parent


def generated_data(folder: Path, *, scale: float) -> Path:
    """``folder`` filled with records at ``scale``; returns it."""
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--scale", str(scale),
                    "--out", str(folder)], check=True, capture_output=True)
    return folder


