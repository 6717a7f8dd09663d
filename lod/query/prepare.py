"""Prepare a query for the engine: parse it with the SPARQL 1.1 grammar, decide on the parsed form,
and hand on the canonical text of that form.

The engine gets only text serialised from the tree that was checked, never the client's text, so a
spelling that two parsers read differently cannot smuggle anything past the checks: what was
decided on is what runs. Decisions: updates are refused (the endpoint is read-only); ``SERVICE``
is refused unless federation is on, and then allowed only to listed endpoints, each pointed to the
gateway of the query process (:mod:`lod.query.gateway`). The tree decided on is then planned
for the engine (:mod:`lod.query.planner`): what runs is the planned text, which gives the same
answer; the client's own canonical text is kept beside it, to show what the planner changed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from lod.errors import LodError
from lod.query.gateway import FederationPolicy, gateway_url
from lod.query.planner import Engine, plan
from lod.sparql import (
    IRI,
    AskQuery,
    ConstructQuery,
    DescribeQuery,
    Node,
    Query,
    SelectQuery,
    Service,
    SparqlSyntaxError,
    UpdateNotAllowed,
    parse_query,
    serialize,
    transform,
)

READ_ONLY = ("this endpoint is read-only: SPARQL 1.1 Update operations are not accepted "
             "(SPARQL 1.1 Protocol §2.2)")
SERVICE_OFF = ("SERVICE (federated query) is switched off on this endpoint: it would make this server "
               "fetch other endpoints on the client's behalf")


class QueryRefused(LodError):
    """A query that is valid SPARQL but not allowed here (an update, SERVICE)."""

    status = 403


class QueryInvalid(LodError):
    """A query that is not valid SPARQL 1.1; the message says where and why."""

    status = 400


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    """A query ready for the engine: the canonical text to run, and what it is."""

    text: str
    """What the engine runs: the query decided on, SERVICE routed, planned for the engine."""
    form: str
    """SELECT, CONSTRUCT, DESCRIBE or ASK."""
    services: tuple[str, ...] = ()
    """The endpoints its SERVICE clauses call (all allowed), in order."""
    dataset: bool = False
    """Whether it names its dataset (FROM, FROM NAMED)."""
    original: str = field(default="", kw_only=True)
    """The client's query in canonical form, as parsed (before routing and planning); the same
    string as ``text`` when neither changed anything."""

    def __post_init__(self) -> None:
        if not self.original:
            object.__setattr__(self, "original", self.text)


_FORMS = {SelectQuery: "SELECT", ConstructQuery: "CONSTRUCT", DescribeQuery: "DESCRIBE", AskQuery: "ASK"}


class QueryPreparer:
    """Prepares queries for one endpoint; the same text is prepared once (plans are cached)."""

    def __init__(self, *, base_iri: str, prefixes: Mapping[str, str] | None = None,
                 federation: FederationPolicy | None = None, cache_size: int = 4096,
                 engine: Engine = Engine.OXIGRAPH) -> None:
        self.base_iri = base_iri
        self.prefixes = dict(prefixes or {})
        self.federation = federation
        self.engine = engine
        """The engine the queries are planned for: a remote store gets standard SPARQL only."""
        self._cached = functools.lru_cache(maxsize=cache_size)(self._prepare_or_refuse)

    def prepare(self, text: str) -> PreparedQuery:
        """The query ready to run; raises :class:`QueryInvalid` or :class:`QueryRefused`."""
        outcome = self._cached(text)
        if isinstance(outcome, LodError):
            raise outcome
        return outcome

    def _prepare_or_refuse(self, text: str) -> PreparedQuery | LodError:
        try:
            return self._prepare(text)
        except LodError as refusal:
            return refusal

    def _prepare(self, text: str) -> PreparedQuery:
        try:
            query = parse_query(text, base_iri=self.base_iri, prefixes=self.prefixes)
        except UpdateNotAllowed:
            raise QueryRefused(READ_ONLY) from None
        except SparqlSyntaxError as failure:
            raise QueryInvalid(f"the query is not valid SPARQL 1.1: {failure}") from None
        form, dataset = _FORMS[type(query)], bool(query.default_graphs or query.named_graphs)
        original = serialize(query)
        # The canonical text has the word SERVICE for every SERVICE clause of the tree: where the
        # word is missing, the tree has none, and the walk that finds them is spared.
        services = query.services() if "SERVICE" in original else ()
        if not services:
            return self._planned(query, original, query, form, (), dataset)
        policy = self.federation
        if policy is None:
            raise QueryRefused(SERVICE_OFF)
        endpoints = [s.endpoint.value if isinstance(s.endpoint, IRI) else None for s in services]
        refusal = policy.refusal(endpoints)
        if refusal:
            raise QueryRefused(refusal)

        def to_gateway(node: Node) -> Node:
            if isinstance(node, Service) and isinstance(node.endpoint, IRI):
                return replace(node, endpoint=IRI(gateway_url(policy.endpoints.index(node.endpoint.value))))
            return node

        routed = transform(query, to_gateway)
        assert isinstance(routed, Query)
        return self._planned(query, original, routed, form, tuple(e for e in endpoints if e), dataset)

    def _planned(self, query: Query, original: str, decided: Query, form: str,
                 services: tuple[str, ...], dataset: bool) -> PreparedQuery:
        """The query decided on, planned for the engine; ``query`` is the client's, as parsed, and
        ``original`` its canonical text."""
        planned = plan(decided, engine=self.engine)
        text = original if planned is query else serialize(planned)
        return PreparedQuery(text, form, services, dataset, original=original)
