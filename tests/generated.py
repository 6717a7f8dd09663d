"""The benchmark's generated data for tests: written by benchmarks/generate.py, and mapped into a
store in memory as a build maps it (the records, then the vocabulary)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

from lod.rdf.inputs import load_rdf_files
from lod.rdf.mapping import triples
from lod.rdf.store import to_oxigraph
from lod.records.sources import read_records

ROOT = Path(__file__).resolve().parent.parent


def generated_data(folder: Path, *, scale: float) -> Path:
    """``folder`` filled with records at ``scale``; returns it."""
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--scale", str(scale),
                    "--out", str(folder)], check=True, capture_output=True)
    return folder


def store_of(data: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_extend(ox.Quad(*(to_oxigraph(term) for term in triple), ox.DefaultGraph())
                      for triple in triples(read_records(data)))
    load_rdf_files(store, sorted((ROOT / "ontology").glob("*.ttl")))
    return store
