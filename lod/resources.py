"""Where the vocabulary, the shapes and the stored queries are: inside the installed package, or in
the repository."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder ``ontology``, ``shapes`` or ``queries``: bundled in a wheel, or beside the package
    in a checkout."""
    for candidate in (_PACKAGE / "_resources" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder of lod is missing; reinstall the package")


def turtle_files(name: str) -> list[Path]:
    """The Turtle files of a resource folder, in a stable order."""
    return sorted(resource_dir(name).glob("*.ttl"))


def turtle_graph(name: str) -> Graph:
    """The Turtle files of a resource folder as one graph (a fresh copy each call)."""
    graph = Graph()
    for path in turtle_files(name):
        graph.parse(path, format="turtle")
    return graph
