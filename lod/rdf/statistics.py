"""What the planner knows of a release's data, to choose the order of joins (:mod:`lod.query.joins`).

Per predicate: its triples, distinct subjects and distinct objects; for a predicate with few
distinct objects (rdf:type, classifications, topics, roles), its triples per object. A release
never changes, so this is counted once, when it is built, from the store that is published, and
kept beside the store as ``plan-statistics.json``. It is not part of what the release publishes:
only the planner reads it, and a plan made with it gives the same answer as one made without.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

log = logging.getLogger(__name__)

FILE = "plan-statistics.json"
FEW_OBJECTS = 1000
"""Up to this many distinct objects, a predicate's triples are counted per object."""


@dataclass(frozen=True, slots=True)
class PredicateCounts:
    triples: int
    subjects: int
    objects: int
    per_object: Mapping[str, int] = field(default_factory=dict)
    """Triples per object IRI, for predicates with at most :data:`FEW_OBJECTS` distinct objects."""


@dataclass(frozen=True, slots=True)
class Statistics:
    triples: int
    predicates: Mapping[str, PredicateCounts]

    def to_json(self) -> str:
        return json.dumps({"triples": self.triples, "predicates": {
            iri: {"triples": c.triples, "subjects": c.subjects, "objects": c.objects,
                  "per_object": dict(c.per_object)} for iri, c in sorted(self.predicates.items())}},
            indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Statistics:
        data = json.loads(text)
        return cls(int(data["triples"]), {
            iri: PredicateCounts(int(c["triples"]), int(c["subjects"]), int(c["objects"]),
                                 {o: int(n) for o, n in c["per_object"].items()})
            for iri, c in data["predicates"].items()})


def count(store: ox.Store) -> Statistics:
    """The statistics of everything a query of the release sees (all graphs: the served default
    graph is their union)."""
    def rows(query: str) -> list[ox.QuerySolution]:
        result = store.query(query, use_default_graph_as_union=True)
        assert isinstance(result, ox.QuerySolutions)
        return list(result)

    predicates: dict[str, PredicateCounts] = {}
    for predicate, triples, subjects, objects in rows(
            "SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?ns) (COUNT(DISTINCT ?o) AS ?no) "
            "WHERE { ?s ?p ?o } GROUP BY ?p"):
        assert isinstance(predicate, ox.NamedNode)
        per_object: dict[str, int] = {}
        if int(objects.value) <= FEW_OBJECTS:
            per_object = {o.value: int(n.value) for o, n in rows(
                f"SELECT ?o (COUNT(*) AS ?n) WHERE {{ ?s {predicate} ?o FILTER(isIRI(?o)) }} GROUP BY ?o")}
        predicates[predicate.value] = PredicateCounts(int(triples.value), int(subjects.value),
                                                      int(objects.value), per_object)
    return Statistics(sum(c.triples for c in predicates.values()), predicates)


def write(statistics: Statistics, release_path: Path) -> None:
    (release_path / FILE).write_text(statistics.to_json(), encoding="utf-8")


def read(release_path: Path) -> Statistics | None:
    """The statistics kept with a release; None for a release built without them (the planner
    then leaves the order of joins to the engine)."""
    try:
        return Statistics.from_json((release_path / FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("%s/%s cannot be read (%s): the engine orders the joins", release_path, FILE, error)
        return None
