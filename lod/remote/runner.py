"""The query runner the settings ask for: the remote store's when ``remote_query_url`` is set,
else the local store's confined query processes (or, for the command line, this process)."""

from __future__ import annotations

import logging

from lod.errors import UsageError
from lod.query.evaluate import QueryLimits
from lod.query.executor import ExecutorPool
from lod.query.gateway import FederationPolicy
from lod.query.planner import Engine
from lod.query.prepare import QueryPreparer
from lod.query.runners import InProcessQueries, LocalQueries, QueryRunner
from lod.query.sandbox import probe
from lod.remote.queries import FROM_REFUSED, GRAPH_REFUSED, RemoteQueries
from lod.remote.store import RemoteStore
from lod.settings import Settings
from lod.vocab import QUERY_PREFIXES

log = logging.getLogger(__name__)


def query_runner(settings: Settings, *, in_process: bool = False) -> QueryRunner:
    """What answers queries on the releases ``settings`` describe. ``in_process``: the local store is
    read in this process rather than in confined query processes (for the command line)."""
    base_iri = f"{settings.public_url}sparql"
    remote = RemoteStore.from_settings(settings)
    if remote is not None:
        # Oxigraph's extensions are for the local engine: a remote store gets standard SPARQL, no
        # SERVICE (it would call other endpoints itself), no FROM (the server names the dataset) and
        # no GRAPH (a store may read graphs outside the dataset).
        preparer = QueryPreparer(base_iri=base_iri, prefixes=QUERY_PREFIXES, engine=Engine.STANDARD,
                                 dataset_refusal=FROM_REFUSED, graph_refusal=GRAPH_REFUSED)
        return RemoteQueries(remote, preparer=preparer, slots=settings.query_slots, wait=settings.queue_wait,
                             timeout=settings.query_timeout, max_rows=settings.max_rows,
                             max_bytes=settings.remote_max_mb * 1_000_000)
    limits = QueryLimits.from_settings(settings)
    if in_process:  # the command line asks its own store: no SERVICE, as on a public endpoint
        return InProcessQueries(preparer=QueryPreparer(base_iri=base_iri, prefixes=QUERY_PREFIXES),
                                limits=limits)
    federation = FederationPolicy.from_settings(settings)
    confinement = probe()
    log.info("query processes: %s", confinement.summary())
    if federation is not None and not confinement.may_federate:
        raise UsageError("federation is on, but query processes cannot have a network of their own "
                         f"here ({'; '.join(confinement.missing)}): SERVICE calls could not be kept "
                         "to the gateway, so the server does not start; switch federation off or run "
                         "where network namespaces are allowed (as root, or with user namespaces)")
    preparer = QueryPreparer(base_iri=base_iri, prefixes=QUERY_PREFIXES, federation=federation)
    return LocalQueries(ExecutorPool(size=settings.query_slots, page_size=settings.page_slots,
                                     wait=settings.queue_wait, timeout=settings.query_timeout,
                                     limits=limits, federation=federation, preparer=preparer),
                        preparer=preparer, memory_store_triples=settings.memory_store_triples)
