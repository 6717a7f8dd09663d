"""Prepare a query for the engine: parse it with the SPARQL 1.1 grammar, decide on the parsed form,
and hand on the canonical text of that form.

The engine gets only text serialised from the tree that was checked, never the client's text, so a
spelling that two parsers read differently cannot smuggle anything past the checks: what was
decided on is what runs. Decisions: updates are refused (the endpoint is read-only); ``SERVICE``
is refused unless federation is on, and then allowed only to listed endpoints, each pointed to the
gateway of the query process (:mod:`lod.query.gateway`); FROM and FROM NAMED where the endpoint
says so (a remote store, whose dataset the server chooses). The tree decided on is then planned
for the engine (:mod:`lod.query.planner`), its text FILTERs narrowed with the release's literals
(:mod:`lod.query.narrowing`), and narrower texts for its ORDER BY … LIMIT prepared beside it, to be
run where their probes pass (:mod:`lod.query.top`): what runs gives the same answer; the client's
own canonical text is kept beside it, to show what the planner changed.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import cast

from lod.errors import LodError
from lod.query.gateway import FederationPolicy, gateway_url
from lod.query.joins import Order
from lod.query.literals import LiteralIndex
from lod.query.narrowing import may_narrow, narrow_text_filters
from lod.query.planner import Engine, plan_with_orders
from lod.query.ranks import ObjectRanks
from lod.query.recent import Outlines, Recent
from lod.query.top import Attempt, attempts, may_have_top, top_sites
from lod.rdf.statistics import Statistics
from lod.sparql import (
    IRI,
    AskQuery,
    ConstructQuery,
    DescribeQuery,
    Graph,
    Node,
    Query,
    SelectQuery,
    Service,
    SparqlSyntaxError,
    UpdateNotAllowed,
    parse_query,
    serialize,
    transform,
    walk,
)
from lod.sparql.shapes import Marker, Shape, Template, shape_of, write_terms
from lod.sparql.tokens import Token

log = logging.getLogger(__name__)

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
    join_orders: tuple[Order, ...] = field(default=(), kw_only=True, compare=False)
    """The orders of joins the planner chose (:mod:`lod.query.joins`): a query shape learnt from
    this query keeps them."""
    narrowable: bool = field(default=False, kw_only=True, compare=False)
    """Whether its text FILTERs or its ORDER BY … LIMIT were looked at for narrowing
    (:mod:`lod.query.narrowing`, :mod:`lod.query.top`), which depends on the constants, not only
    on the shape: then no shape is learnt from it."""
    attempts: tuple[Attempt, ...] = field(default=(), kw_only=True, compare=False)
    """Narrower texts to run instead of ``text`` where their probes pass (:func:`lod.query.top.choose`)."""

    def __post_init__(self) -> None:
        if not self.original:
            object.__setattr__(self, "original", self.text)


KEPT_CHARS = 8192
"""Longer queries are prepared each time, and nothing of them is kept: what is kept per query is
then bounded (a longer query takes longer to evaluate, too)."""

_FORMS = {SelectQuery: "SELECT", ConstructQuery: "CONSTRUCT", DescribeQuery: "DESCRIBE", AskQuery: "ASK"}


@dataclass(frozen=True, slots=True)
class _PreparedShape:
    """What was prepared for a query shape (:mod:`lod.sparql.shapes`): the templates of its
    texts, and what every query of the shape is."""

    text: Template
    original: Template | None
    """None when it is the same text as ``text`` (the planner changed nothing)."""
    namespaces: Mapping[str, str]
    base_iri: str
    form: str
    dataset: bool

    written: dict[str, str] = field(default_factory=dict, compare=False)
    """Terms written before (most are the same in every query of a shape: its predicates)."""

    def fill(self, terms: tuple[Token, ...]) -> PreparedQuery:
        known = self.written
        written = [known.get(token[1]) for token in terms]
        missing = [index for index, text in enumerate(written) if text is None]
        if missing:
            if len(known) > 1024:  # a bound, not a policy: the terms that recur come back soon
                known.clear()
            fresh = write_terms(tuple(terms[index] for index in missing), namespaces=self.namespaces,
                                base_iri=self.base_iri)
            for index, text in zip(missing, fresh, strict=True):
                written[index] = known[terms[index][1]] = text
        complete = cast(list[str], written)
        text = self.text.fill(complete)
        original = text if self.original is None else self.original.fill(complete)
        return PreparedQuery(text, self.form, (), self.dataset, original=original)


class QueryPreparer:
    """Prepares queries for one endpoint. The same text is prepared once; a query of a shape seen
    before (the same query with other IRIs or strings, :mod:`lod.sparql.shapes`) is written from
    what was prepared for the shape, which gives the same text for a fraction of the work."""

    def __init__(self, *, base_iri: str, prefixes: Mapping[str, str] | None = None,
                 federation: FederationPolicy | None = None, cache_size: int = 1024,
                 engine: Engine = Engine.OXIGRAPH, dataset_refusal: str | None = None,
                 graph_refusal: str | None = None) -> None:
        self.base_iri = base_iri
        self.prefixes = dict(prefixes or {})
        self.federation = federation
        self.engine = engine
        """The engine the queries are planned for: a remote store gets standard SPARQL only."""
        self.dataset_refusal = dataset_refusal
        """Why FROM and FROM NAMED are refused here; None where a query may name its dataset."""
        self.graph_refusal = graph_refusal
        """Why GRAPH patterns are refused here; None where the engine keeps them to the dataset."""
        self.statistics: Statistics | None = None
        """Of the data the queries run on, for the order of joins; see :meth:`use_release`."""
        self.literals: LiteralIndex | None = None
        """Of the store the queries run on, to narrow text FILTERs; see :meth:`use_release`."""
        self.ranks: ObjectRanks | None = None
        """Of the store the queries run on, to narrow ORDER BY … LIMIT; see :meth:`use_release`."""
        self._cache_size = cache_size
        self._marker = Marker()
        self._forget()

    def use_release(self, statistics: Statistics | None, literals: LiteralIndex | None = None,
                    ranks: ObjectRanks | None = None) -> None:
        """Plan for data with these statistics, literals and ranks from now on (a new release):
        what was prepared before is forgotten, as its plans were made for other data."""
        if statistics != self.statistics or literals is not self.literals or ranks is not self.ranks:
            self.statistics = statistics
            oxigraph = self.engine is Engine.OXIGRAPH
            self.literals = literals if oxigraph else None
            self.ranks = ranks if oxigraph else None
            self._forget()

    def _forget(self) -> None:
        size = self._cache_size
        self._cached = functools.lru_cache(maxsize=size)(self._prepare_or_refuse)
        self._shapes: Recent[tuple[str, ...], _PreparedShape] = Recent(size)
        self._sighted: Recent[tuple[str, ...], str] = Recent(size)
        self._outlines: Outlines[_PreparedShape] = Outlines(size)

    def prepare(self, text: str) -> PreparedQuery:
        """The query ready to run; raises :class:`QueryInvalid` or :class:`QueryRefused`."""
        if len(text) > KEPT_CHARS:
            return self._prepare(text)
        outcome = self._cached(text)
        if isinstance(outcome, LodError):
            raise outcome
        return outcome

    def _prepare_or_refuse(self, text: str) -> PreparedQuery | LodError:
        found = self._outlines.find(text)
        if found is not None:
            known, terms = found
            with contextlib.suppress(SparqlSyntaxError):  # a term refused: the whole path says why
                return known.fill(terms)
        shape = shape_of(text)
        if shape is not None:
            same = self._shapes.get(shape.key)
            if same is not None:
                with contextlib.suppress(SparqlSyntaxError):
                    prepared = same.fill(shape.terms)
                    self._outlines.add(shape.outline(text), same)  # written so, it is found faster
                    return prepared
        try:
            prepared = self._prepare(text)
        except LodError as refusal:
            return refusal
        if shape is not None and not prepared.narrowable:
            # Learnt on the second sighting (a shape seen once may never come again, and learning
            # it costs another preparation), again when it was dropped, never when it failed.
            sighted = self._sighted.get(shape.key)
            if sighted is None:
                self._sighted.put(shape.key, "once")
            elif sighted != "not learnable":
                learnt = self._learn(shape, prepared)
                self._sighted.put(shape.key, "learnt" if learnt else "not learnable")
                if learnt is not None:
                    self._shapes.put(shape.key, learnt)
                    self._outlines.add(shape.outline(text), learnt)
        return prepared

    def _learn(self, shape: Shape, prepared: PreparedQuery) -> _PreparedShape | None:
        """What is prepared for ``shape``'s placeholder query, if filling it in gives the text
        ``prepared`` for the query just prepared the whole way (the proof is in
        :mod:`lod.sparql.shapes`; this checks it once more)."""
        try:
            model = self._prepare(shape.placeholder(self._marker), orders=prepared.join_orders)
        except LodError:
            return None
        text = Template.build(model.text, shape, self._marker)
        original = (None if model.original == model.text
                    else Template.build(model.original, shape, self._marker))
        if text is None or (original is None and model.original != model.text) or model.services:
            return None
        namespaces = {**text.namespaces, **(original.namespaces if original else {})}
        if original and any(text.namespaces.get(name, namespace) != namespace
                            for name, namespace in original.namespaces.items()):
            return None
        known = _PreparedShape(text, original, namespaces, self.base_iri, model.form, model.dataset)
        try:
            if known.fill(shape.terms) == prepared:
                return known
        except SparqlSyntaxError:
            return None
        log.warning("query shape not kept: its template gives another text than the query's")
        return None

    def _prepare(self, text: str, *, orders: tuple[Order, ...] | None = None) -> PreparedQuery:
        try:
            query = parse_query(text, base_iri=self.base_iri, prefixes=self.prefixes)
        except UpdateNotAllowed:
            raise QueryRefused(READ_ONLY) from None
        except SparqlSyntaxError as failure:
            raise QueryInvalid(f"the query is not valid SPARQL 1.1: {failure}") from None
        form, dataset = _FORMS[type(query)], bool(query.default_graphs or query.named_graphs)
        if dataset and self.dataset_refusal:
            raise QueryRefused(self.dataset_refusal)
        original = serialize(query)
        if self.graph_refusal and "GRAPH" in original and any(isinstance(n, Graph) for n in walk(query)):
            raise QueryRefused(self.graph_refusal)
        # The canonical text has the word SERVICE for every SERVICE clause of the tree: where the
        # word is missing, the tree has none, and the walk that finds them is spared.
        services = query.services() if "SERVICE" in original else ()
        if not services:
            return self._planned(query, original, query, form, (), dataset, orders)
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
        return self._planned(query, original, routed, form, tuple(e for e in endpoints if e), dataset, orders)

    def _planned(self, query: Query, original: str, decided: Query, form: str,
                 services: tuple[str, ...], dataset: bool, orders: tuple[Order, ...] | None) -> PreparedQuery:
        """The query decided on, planned for the engine; ``query`` is the client's, as parsed, and
        ``original`` its canonical text."""
        texts = self.literals is not None and may_narrow(original)
        planned, orders = self._plan(decided, texts, orders)
        text = original if planned is query else serialize(planned)
        tops = top_sites(decided, self.ranks, self._marker) if self.ranks and may_have_top(original) else None
        narrower: tuple[Attempt, ...] = ()
        if tops is not None:
            template, sites = tops
            narrower = attempts(serialize(self._plan(template, texts)[0]),
                                [serialize(site.probe) for site in sites], sites)
        return PreparedQuery(text, form, services, dataset, original=original, join_orders=orders,
                             narrowable=texts or tops is not None, attempts=narrower)

    def _plan(self, query: Query, narrow: bool, orders: tuple[Order, ...] | None = None,
              ) -> tuple[Query, tuple[Order, ...]]:
        """``query`` planned for the engine, and its text FILTERs narrowed if ``narrow``."""
        planned, orders = plan_with_orders(query, engine=self.engine, statistics=self.statistics,
                                           orders=orders)
        if narrow and self.literals is not None:
            planned = narrow_text_filters(planned, self.literals)
        return planned, orders
