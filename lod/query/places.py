"""Where the members of an organisation or cooperation lie: the points of the map on its page.

A member has a place when the data gives it coordinates (``schema:geo`` to a node with
``schema:latitude`` and ``schema:longitude`` in decimal degrees, as the mapping writes an
organisation's ``latitude`` and ``longitude``). People in posts are no members here, as in
:mod:`lod.query.network`. A cooperation of thousands draws no more than :data:`MAX_PLACES` points,
the first by name; the counts say how many there are in all.

The query runs through a ``select`` function, as :func:`lod.query.describe.describe`'s do::

    >>> member_places(lambda query: [], "https://w3id.org/lod-ikz/id/cooperation/oss").places
    []
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lod.query.describe import LABEL_PATH, Binding, Select, iri_ref, string_literal
from lod.query.network import Party
from lod.vocab import IKZ, ORG, SCHEMA

MAX_PLACES = 400
"""Members drawn at most, the first by name."""



@dataclass(frozen=True)
class Place:
    """A member where it lies, in degrees of WGS 84."""

    party: Party
    latitude: Decimal
    longitude: Decimal


@dataclass
class MemberPlaces:
    """The members with coordinates, and how many members there are with and without."""

    places: list[Place] = field(default_factory=list)
    """At most :data:`MAX_PLACES`: the first by name (in any language)."""
    members: int = 0
    """Members in all (each organisation once, however many memberships it has)."""
    located: int = 0
    """Members with coordinates in all."""

    @property
    def unlocated(self) -> int:
        """Members without coordinates: not on the map."""
        return max(self.members - self.located, 0)

    @property
    def more(self) -> int:
        """Members with coordinates that are not drawn."""
        return max(self.located - len(self.places), 0)


def member_places(select: Select, iri: str, *, limit: int = MAX_PLACES) -> MemberPlaces:
    """The members of ``iri`` with their coordinates, in one query. A member whose coordinates are
    no numbers in range (data from elsewhere) counts as one without."""
    ref = iri_ref(iri)
    member = (f"?m <{ORG.organization}> {ref} ; <{ORG.member}> ?party . "
              f"FILTER NOT EXISTS {{ ?m <{IKZ.post}> ?post }}")
    point = f"?party <{SCHEMA.geo}> ?g . ?g <{SCHEMA.latitude}> ?a ; <{SCHEMA.longitude}> ?b ."
    count, located = string_literal("members"), string_literal("located")
    # The first `limit` by name, ordered outside the grouping: Virtuoso refuses an aggregate's
    # alias in the ORDER BY of its own SELECT.
    query = f"""SELECT ?side ?total ?party ?pl ?lat ?long WHERE {{
  {{ {{ SELECT (COUNT(DISTINCT ?party) AS ?total) WHERE {{ {member} }} }} BIND({count} AS ?side) }}
  UNION {{ {{ SELECT (COUNT(DISTINCT ?party) AS ?total) WHERE {{ {member} {point} }} }}
          BIND({located} AS ?side) }}
  UNION {{
    {{ SELECT ?party WHERE {{
         {{ SELECT ?party (MIN(STR(?l0)) AS ?key) WHERE {{
              {member} {point} OPTIONAL {{ ?party {LABEL_PATH} ?l0 }} }} GROUP BY ?party }}
       }} ORDER BY LCASE(COALESCE(?key, STR(?party))) ?party LIMIT {int(limit)} }}
    ?party <{SCHEMA.geo}> ?g . ?g <{SCHEMA.latitude}> ?lat ; <{SCHEMA.longitude}> ?long .
    OPTIONAL {{ ?party {LABEL_PATH} ?pl }}
  }}
}}"""
    return _read(select(query))


def _read(rows: list[Binding]) -> MemberPlaces:
    found = MemberPlaces()
    parties: dict[str, Party] = {}
    points: dict[str, tuple[Decimal, Decimal]] = {}
    for row in rows:
        side = row.get("side", {}).get("value")
        if side == "members":
            found.members = int(row["total"]["value"])
        elif side == "located":
            found.located = int(row["total"]["value"])
        elif "party" in row:
            iri = row["party"]["value"]
            party = parties.setdefault(iri, Party(iri, blank=row["party"]["type"] == "bnode"))
            party.labels.add(row.get("pl"))
            point = None if iri in points else _point(row)
            if point:  # the first point that is one (the shapes allow one per member)
                points[iri] = point
    found.places = [Place(party, *points[iri]) for iri, party in parties.items() if iri in points]
    # A member whose only coordinates are no numbers in range is one without.
    found.located -= len(parties) - len(points)
    return found


def _point(row: Binding) -> tuple[Decimal, Decimal] | None:
    """The latitude and longitude of a row, if both are numbers in their range."""
    values = []
    for column, limit in (("lat", 90), ("long", 180)):
        term = row.get(column)
        try:
            value = Decimal(term["value"].strip()) if term else None
        except InvalidOperation:
            return None
        if value is None or not value.is_finite() or abs(value) > limit:
            return None
        values.append(value)
    return values[0], values[1]
