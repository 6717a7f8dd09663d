"""Who cooperates with whom around one organisation or cooperation: the picture on its page.

The network of a resource is its members, the organisations and cooperations it is a member of,
and their other members, each with the roles and the period of the membership. It is bounded, so
that a cooperation of thousands draws no bigger than one of three: at most :data:`MAX_GROUPS`
organisations the resource is a member of and :data:`MAX_MEMBERS` members of each (and of the
resource itself), with how many more there are. People in posts (memberships with an ``ikz:post``)
are not part of it; the page lists them apart.

The queries run through a ``select`` function, as :func:`lod.query.describe.describe`'s do::

    >>> network(lambda query: [], "https://w3id.org/lod-ikz/id/organisation/kgst").empty
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lod.query.describe import (
    LABEL_PATH,
    MEMBERSHIP_DETAILS,
    Binding,
    Labels,
    Period,
    Select,
    ShownTerm,
    add_role,
    iri_ref,
    period_of,
    string_literal,
)
from lod.vocab import IKZ, ORG

MAX_GROUPS = 12
"""Organisations and cooperations shown that the resource is a member of."""
MAX_MEMBERS = 15
"""Members shown of the resource and of each organisation it is a member of."""

_CENTRE = "centre"
_MEMBERS = "members"
_GROUPS = "groups"


@dataclass
class Party:
    """An organisation, cooperation or person drawn in the network."""

    iri: str
    labels: Labels = field(default_factory=Labels)
    cooperation: bool = False
    """Whether it is an ``org:OrganizationalCollaboration`` (else an organisation or a person)."""
    blank: bool = False
    """Whether it is a blank node (``iri`` is then its label in the results, not an IRI)."""

    def name(self, language: str) -> tuple[str, str]:
        """Its best label for ``language`` and the language that label is in (``""`` for none);
        the end of its IRI when it has no label.

        >>> Party("https://w3id.org/lod-ikz/id/organisation/kgst").name("de")
        ('', 'kgst')
        """
        short = self.iri.rstrip("/#").rpartition("#")[2].rpartition("/")[2]
        return self.labels.pick(language) or ("", short or self.iri)


@dataclass
class Tie:
    """A membership as a line of the picture: the party at its far end, its roles and when."""

    membership: str
    party: Party
    roles: list[ShownTerm] = field(default_factory=list)
    period: Period = field(default_factory=Period)


@dataclass
class Members:
    """Some of the memberships on one side, and how many there are in all."""

    shown: list[Tie] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        """How many are not shown."""
        return max(self.total - len(self.shown), 0)


@dataclass
class Group:
    """An organisation or cooperation the resource is a member of, with its other members."""

    tie: Tie
    """The resource's membership in it; its party is the group."""
    others: Members
    """Its members but the resource."""


@dataclass
class Network:
    """The resource at the centre, its members, and what it is a member of."""

    centre: Party
    members: Members
    groups: list[Group]
    groups_total: int

    @property
    def more_groups(self) -> int:
        return max(self.groups_total - len(self.groups), 0)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw: no member, and a member of nothing."""
        return not self.members.total and not self.groups_total


def network(select: Select, iri: str, *, max_groups: int = MAX_GROUPS,
            max_members: int = MAX_MEMBERS) -> Network:
    """The network around ``iri``, with two queries: the resource, its members and what it is a
    member of; then the other members of those (none when it is a member of nothing)."""
    ref = iri_ref(iri)
    no_post = f"FILTER NOT EXISTS {{ ?m <{IKZ.post}> ?post }}"
    rows = select(_query([
        (_MEMBERS, f"?m <{ORG.organization}> {ref} ; <{ORG.member}> ?party . {no_post}", max_members),
        (_GROUPS, f"?m <{ORG.member}> {ref} ; <{ORG.organization}> ?party . {no_post}", max_groups),
    ], centre=ref))
    centre = Party(iri)
    for row in rows:
        if row["side"]["value"] == _CENTRE:
            centre.labels.add(row.get("pl"))
            centre.cooperation = _true(row.get("coop"))
    sides = _sides(rows)
    members, groups = sides.get(_MEMBERS, Members()), sides.get(_GROUPS, Members())
    named = [tie.party.iri for tie in groups.shown if not tie.party.blank]
    others: dict[str, Members] = {}
    if named:
        others = _sides(select(_query([
            (group, f"?m <{ORG.organization}> {iri_ref(group)} ; <{ORG.member}> ?party . "
                    f"FILTER(?party != {ref}) {no_post}", max_members)
            for group in dict.fromkeys(named)])))
    shown = [Group(tie, others.get(tie.party.iri, Members())) for tie in groups.shown]
    return Network(centre, members, shown, groups.total)


def _query(sides: Iterable[tuple[str, str, int]], *, centre: str | None = None) -> str:
    """One SELECT for several sides, each a pattern binding a membership ``?m`` and the party at
    its far end ``?party``: per side a row with the number of its memberships, and rows for the
    first ``limit`` of them (by name) with their labels, roles, period and whether the party is a
    cooperation. With ``centre``, rows for that resource's own labels and kind too."""
    branches = []
    if centre:
        branches.append(f"""{{ BIND({string_literal(_CENTRE)} AS ?side) BIND({centre} AS ?party)
            OPTIONAL {{ ?party {LABEL_PATH} ?pl }} {_kind()} }}""")
    for side, pattern, limit in sides:
        name = string_literal(side)
        branches.append(f"{{ {{ SELECT (COUNT(DISTINCT ?m) AS ?total) WHERE {{ {pattern} }} }} "
                        f"BIND({name} AS ?side) }}")
        # The first `limit` by their smallest label (the name in some language): a stable choice.
        # (Ordered outside the grouping: Virtuoso refuses an aggregate's alias in its ORDER BY.)
        branches.append(f"""{{
          {{ SELECT ?m ?party WHERE {{
               {{ SELECT ?m ?party (MIN(STR(?l0)) AS ?key) WHERE {{
                    {pattern} OPTIONAL {{ ?party {LABEL_PATH} ?l0 }} }} GROUP BY ?m ?party }}
             }} ORDER BY LCASE(COALESCE(?key, STR(?party))) ?m LIMIT {limit} }}
          BIND({name} AS ?side)
          OPTIONAL {{ ?party {LABEL_PATH} ?pl }}
          {MEMBERSHIP_DETAILS}
          {_kind()}
        }}""")
    union = "\n  UNION ".join(branches)
    return f"SELECT ?side ?total ?m ?party ?pl ?coop ?role ?rl ?start ?end ?asOf WHERE {{\n  {union}\n}}"


def _kind() -> str:
    return f"BIND(EXISTS {{ ?party a <{ORG.OrganizationalCollaboration}> }} AS ?coop)"


def _true(term: dict[str, str] | None) -> bool:
    return term is not None and term["value"] in ("true", "1")


def _sides(rows: Iterable[Binding]) -> dict[str, Members]:
    """The rows of :func:`_query` as the memberships of each side, in the order first seen."""
    sides: dict[str, Members] = {}
    ties: dict[tuple[str, str], Tie] = {}
    roles: dict[tuple[str, str, str], ShownTerm] = {}
    for row in rows:
        side = row["side"]["value"]
        if side == _CENTRE:
            continue
        members = sides.setdefault(side, Members())
        if "total" in row:
            members.total = int(row["total"]["value"])
            continue
        key = (side, row["m"]["value"])
        tie = ties.get(key)
        if tie is None:
            party = Party(row["party"]["value"], cooperation=_true(row.get("coop")),
                          blank=row["party"]["type"] == "bnode")
            tie = ties[key] = Tie(key[1], party, period=period_of(row))
            members.shown.append(tie)
        tie.party.labels.add(row.get("pl"))
        add_role(row, key, roles, tie.roles)
    return sides
