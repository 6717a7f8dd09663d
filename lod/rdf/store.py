"""The embedded store (Oxigraph on disk, or in memory to serve): filling it, and opening it to read.

The data is the store's default graph; the project's vocabulary and concept schemes are the named
graph ``ikz:`` so that their labels can be queried beside the data. A release's store also holds
every named graph's triples in its default graph (`merge_into_default`), so that queries see the
union there without asking Oxigraph for it.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from lod.errors import LodError
from lod.vocab import IKZ

ONTOLOGY_GRAPH = ox.NamedNode(str(IKZ))
"""The named graph that holds ``ontology/``."""


class StoreError(LodError):
    """The store cannot be created or opened (missing, corrupt, or locked)."""

    status = 503


@lru_cache(maxsize=200_000)
def _named(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as the equal pyoxigraph term."""
    if isinstance(term, URIRef):
        return _named(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=_named(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def quads(graph: Graph, graph_name: ox.NamedNode | ox.DefaultGraph) -> Iterator[ox.Quad]:
    for s, p, o in graph:
        yield ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), graph_name)  # type: ignore[arg-type]


def create_store(path: Path, *, data: Iterable[ox.Quad]) -> ox.Store:
    """A new on-disk store at ``path`` (which must not exist) holding ``data``, compacted and
    flushed."""
    if path.exists():
        raise StoreError(f"{path} exists already; a store is only ever written once")
    store = ox.Store(str(path))
    store.bulk_extend(data)
    store.optimize()
    store.flush()
    return store


def merge_into_default(store: ox.Store) -> None:
    """Add every named graph's triples to the default graph."""
    default = ox.DefaultGraph()
    store.bulk_extend([ox.Quad(q.subject, q.predicate, q.object, default)
                       for graph in list(store.named_graphs())
                       for q in store.quads_for_pattern(None, None, None, graph)])


def load_in_memory(nquads_gz: Path) -> ox.Store:
    """A release's store in memory, from its gzipped N-Quads dump (every graph), merged like the
    store on disk. Oxigraph answers analytic queries from memory two to three times faster."""
    store = ox.Store()
    with gzip.open(nquads_gz, "rb") as dump:
        store.bulk_extend(ox.parse(cast(IO[bytes], dump), format=ox.RdfFormat.N_QUADS))
    merge_into_default(store)
    return store


def select(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    """The solutions of a SELECT query against ``store``."""
    result = store.query(query)
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError("not a SELECT query")
    return list(result)


def open_store(path: Path) -> ox.Store:
    """Open a built store to read; several processes may do so at once."""
    if not path.is_dir():
        raise StoreError(f"no store at {path}")
    try:
        return ox.Store.read_only(str(path))
    except (OSError, RuntimeError) as error:  # RocksDB reports a damaged file as a RuntimeError
        raise StoreError(f"the store at {path} cannot be opened: {error}") from None
