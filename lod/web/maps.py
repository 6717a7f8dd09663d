"""A map of where the members of an organisation or cooperation lie, drawn from the data alone.

No tiles, no script, nothing from a third party: the members' coordinates (``schema:geo``, see
:mod:`lod.query.places`) are projected onto a plane and drawn as inline SVG in the page, in the
house style of :mod:`lod.web.pictures` (presentation attributes, no inline ``style``; every text
escaped). The projection is equirectangular with the longitudes scaled by the cosine of the mean
latitude, which keeps distances true to a few per cent across a region as large as a Land, so the
scale bar in kilometres holds. The map is fitted to the members' bounding box, but never shows
less than :data:`MIN_EXTENT_KM` across: two neighbouring towns are drawn a little apart, not at
opposite edges.

Each member is a dot linked to its page, with its name beside it where there is room (the first
free of eight places around the dot); a dot without room for its name still carries the name for
a screen reader and as a tooltip, and the note under the map says how many names are left out.
Under a ``<details>``, the same as a table: member, latitude, longitude.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

from lod.messages import number
from lod.query.places import MemberPlaces, Place
from lod.web.pictures import Link
from lod.web.svg import CHAR, LINK, MUTED, TEXT, WIDTH, element_id, joined, markup, pos

WORDS = {
    "de": {
        "caption": "{name}: die Lage der Mitglieder nach den Koordinaten in den Daten ({drawn}); Norden "
                   "ist oben.",
        "all": "{n} eingezeichnet", "some": "{n} von {members} eingezeichnet",
        "more": "{n} weitere Mitglieder mit Koordinaten sind nicht eingezeichnet, nur die ersten {shown} "
                "nach Namen.",
        "as_table": "Die Orte als Tabelle", "member": "Mitglied", "latitude": "Breitengrad",
        "longitude": "Längengrad", "north": "N", "scale": "Maßstab",
    },
    "en": {
        "caption": "{name}: where its members lie, by the coordinates in the data ({drawn}); north is "
                   "up.",
        "all": "{n} on the map", "some": "{n} of {members} on the map",
        "more": "{n} more members with coordinates are not on the map, only the first {shown} by name.",
        "as_table": "The places as a table", "member": "Member", "latitude": "Latitude",
        "longitude": "Longitude", "north": "N", "scale": "Scale",
    },
}
"""The words of the map, by page language."""

COUNTED = {
    "de": {
        "unlocated": ("Ein Mitglied hat keine Koordinaten und ist nicht eingezeichnet.",
                      "{n} Mitglieder haben keine Koordinaten und sind nicht eingezeichnet."),
        "unnamed": ("Ein Name steht aus Platzgründen nur in der Tabelle.",
                    "{n} Namen stehen aus Platzgründen nur in der Tabelle."),
    },
    "en": {
        "unlocated": ("One member has no coordinates and is not on the map.",
                      "{n} members have no coordinates and are not on the map."),
        "unnamed": ("One name is only in the table, for lack of room.",
                    "{n} names are only in the table, for lack of room."),
    },
}
"""What the notes under the map say of one and of several, by page language."""

EARTH_RADIUS_KM = 6371.0088
"""The mean radius of the earth (IUGG): a degree of latitude is 111.2 km."""
MIN_EXTENT_KM = 30.0
"""The least the map shows across and down: about the size of a Kreis."""
ASPECT = (0.55, 1.3)
"""The least and most height of the area the dots lie in, per width."""

# Colours, each with a contrast of at least 4.5:1 to what it is drawn on (WCAG AA); the dots 3:1.
LAND = "#f3f6f9"
BORDER = "#b8c4d0"
DOT = "#0b5cad"
HALO = "#ffffff"

_MARGIN_X, _MARGIN_Y = 44.0, 26.0
"""Room around the dots' area inside the frame, for the names beside the outermost dots."""
_DOT_RADIUS = 5.0
_LABEL_SIZE = 13
_LABEL_CHARS = 28
"""A longer name is cut short on the map (the link keeps it whole)."""
_LEGEND_HEIGHT = 30.0


@dataclass(frozen=True)
class _Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: _Box, gap: float = 2.0) -> bool:
        return not (self.right + gap <= other.left or other.right + gap <= self.left
                    or self.bottom + gap <= other.top or other.bottom + gap <= self.top)

    def inside(self, frame: _Box) -> bool:
        return (self.left >= frame.left and self.right <= frame.right
                and self.top >= frame.top and self.bottom <= frame.bottom)


@dataclass(frozen=True)
class Projection:
    """Where points fall on a drawing ``WIDTH`` wide: fitted to them, padded, at least
    :data:`MIN_EXTENT_KM` across, and between :data:`ASPECT` as high as wide."""

    height: float
    """The height of the frame the points lie in."""
    units_per_km: float
    centre_km: tuple[float, float]
    cosine: float

    @classmethod
    def fitted(cls, points: list[tuple[float, float]]) -> Projection:
        """The projection for ``points`` (latitude, longitude in degrees)."""
        cosine = math.cos(math.radians(sum(lat for lat, _ in points) / len(points)))
        xs, ys = zip(*(_km(lat, lon, cosine) for lat, lon in points), strict=True)
        across = max(max(xs) - min(xs), MIN_EXTENT_KM)
        down = max(ys) - min(ys)
        across, down = max(across, down / ASPECT[1]), max(down, across * ASPECT[0])
        units = (WIDTH - 2 * _MARGIN_X) / across
        return cls(down * units + 2 * _MARGIN_Y, units,
                   ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2), cosine)

    def __call__(self, latitude: float, longitude: float) -> tuple[float, float]:
        """The point in the drawing's units, north up."""
        x, y = _km(latitude, longitude, self.cosine)
        return (WIDTH / 2 + (x - self.centre_km[0]) * self.units_per_km,
                self.height / 2 - (y - self.centre_km[1]) * self.units_per_km)


def _km(latitude: float, longitude: float, cosine: float) -> tuple[float, float]:
    return (EARTH_RADIUS_KM * math.radians(longitude) * cosine, EARTH_RADIUS_KM * math.radians(latitude))


def scale_length(width_km: float) -> int:
    """The length of the scale bar: the longest of 1, 2, 5, 10, 20, 50 … km within a third of the
    map's width.

    >>> scale_length(45.0), scale_length(640.0)
    (10, 200)
    """
    lengths = (step * 10**power for power in range(5) for step in (1, 2, 5))
    return max((length for length in lengths if length <= width_km / 3), default=1)


def degrees(value: Decimal, language: str) -> str:
    """A coordinate as people write it: ``51,9065`` in German, ``51.9065`` in English.

    >>> degrees(Decimal("-8.3785"), "de"), degrees(Decimal("1234.5"), "en")
    ('-8,3785', '1,234.5')
    """
    text = format(value, "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    written = sign + number(int(whole), language)
    return written + ("," if language == "de" else ".") + fraction if fraction else written


def member_map(places: MemberPlaces, *, name: tuple[str, str], iri: str, language: str,
               link: Link) -> Markup:
    """The map of the members of the resource ``iri`` (called ``name``: its label and the label's
    language) as a figure: a linked dot per member with coordinates, its name beside it where
    there is room, a scale bar; under it how many members have no coordinates, and the places as
    a table. Nothing when no member has coordinates."""
    if not places.places:
        return Markup("")
    words = WORDS[language]
    shown = sorted(places.places, key=lambda p: (p.party.name(language)[1].casefold(), p.party.iri))
    projection = Projection.fitted([(float(p.latitude), float(p.longitude)) for p in shown])
    at = [projection(float(p.latitude), float(p.longitude)) for p in shown]
    room = _Box(2, 2, WIDTH - 2, projection.height - 2)
    dots = [_Box(x - _DOT_RADIUS - 1, y - _DOT_RADIUS - 1, x + _DOT_RADIUS + 1, y + _DOT_RADIUS + 1)
            for x, y in at]
    taken: list[_Box] = []
    members, unnamed = [], 0
    for index, (place, (x, y)) in enumerate(zip(shown, at, strict=True)):
        lang, text = place.party.name(language)
        label = text if len(text) <= _LABEL_CHARS else text[:_LABEL_CHARS - 1].rstrip() + "…"
        others = dots[:index] + dots[index + 1:]
        box = next((b for b in _candidates(x, y, label)
                    if b.inside(room)
                    and not any(b.overlaps(o) for o in (*taken, *others))), None)
        if box:
            taken.append(box)
        else:
            unnamed += 1
        members.append(_member(x, y, text=text, written=(label, box) if box else None,
                               lang=lang if lang and lang != language else None, href=link(place.party.iri)))
    caption_id = element_id("map", iri)
    drawn = (words["all"].format(n=number(len(shown), language)) if len(shown) == places.members else
             words["some"].format(n=number(len(shown), language), members=number(places.members, language)))
    svg = markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="map-drawing" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" role="group" aria-labelledby="{caption}">'
        '<rect x="0.75" y="0.75" width="{fw}" height="{fh}" rx="4" fill="{land}" stroke="{border}" '
        'stroke-width="1.5"/>{members}{legend}</svg>',
        w=WIDTH, h=pos(projection.height + _LEGEND_HEIGHT), caption=caption_id, fw=pos(WIDTH - 1.5),
        fh=pos(projection.height - 1.5), land=LAND, border=BORDER, members=joined(members),
        legend=_legend(projection, language))
    notes = list(_notes(places, unnamed, language))
    return markup(
        '<figure class="picture map"><figcaption id="{}">{}</figcaption>{}{}'
        '<details class="picture-text"><summary>{}</summary>{}</details></figure>',
        caption_id, words["caption"].format(name=name[1], drawn=drawn),
        svg, markup('<p class="map-notes">{}</p>', " ".join(notes)) if notes else Markup(""),
        words["as_table"], _table(shown, name[1], language, link))


def _candidates(x: float, y: float, label: str) -> Iterator[_Box]:
    """The places a name may go around its dot, the most usual first: right, left, above and
    below on either side, straight above, straight below."""
    width, height = len(label) * _LABEL_SIZE * CHAR, _LABEL_SIZE * 1.2
    gap = _DOT_RADIUS + 3
    for left, top in ((x + gap, y - height / 2), (x - gap - width, y - height / 2),
                      (x + 4, y - gap - height), (x + 4, y + gap), (x - 4 - width, y - gap - height),
                      (x - 4 - width, y + gap), (x - width / 2, y - gap - height), (x - width / 2, y + gap)):
        yield _Box(left, top, left + width, top + height)


def _member(x: float, y: float, *, text: str, written: tuple[str, _Box] | None, lang: str | None,
            href: str | None) -> Markup:
    """A member's dot at ``x``, ``y`` and its name ``text``, written (perhaps cut short) in a box
    beside it or only said (``aria-label``, a tooltip): one link to its page, one stop for the
    keyboard."""
    dot = markup('<circle cx="{}" cy="{}" r="{}" fill="{}" stroke="{}" stroke-width="1.5"/>',
                pos(x), pos(y), pos(_DOT_RADIUS), DOT, HALO)
    marked = markup(' lang="{}"', lang) if lang else Markup("")
    outer = Markup("")
    if written:
        label, box = written
        # Halo first (paint-order), so the name stays readable where it crosses a dot or the frame.
        name = markup('<text x="{}" y="{}" font-size="{}" fill="{}" stroke="{}" stroke-width="3" '
                        'stroke-linejoin="round" paint-order="stroke"{}>{}</text>',
                        pos(box.left), pos(box.top + _LABEL_SIZE * 0.95), _LABEL_SIZE, LINK if href else TEXT,
                        HALO, marked, label)
        named = Markup("") if label == text else markup(' aria-label="{}"', text)
        content = dot + name
    else:
        named, outer = markup(' aria-label="{}"', text), marked
        content = markup("<title>{}</title>", text) + dot
    if href:
        return markup('<a href="{}"{}{}>{}</a>', href, named, outer, content)
    return markup('<g role="img" aria-label="{}"{}>{}</g>', text, marked, content)


def _legend(projection: Projection, language: str) -> Markup:
    """The scale bar under the frame's left end, north on the right."""
    words = WORDS[language]
    kilometres = scale_length(WIDTH / projection.units_per_km)
    length = kilometres * projection.units_per_km
    top = projection.height + 8
    written = f"{number(kilometres, language)} km"
    scale = markup('<g role="img" aria-label="{}: {}"><path d="M 2 {} v 8 h {} v -8" fill="none" stroke="{}" '
                  'stroke-width="1.5"/><text x="{}" y="{}" font-size="{}" fill="{}">{}</text></g>',
                  words["scale"], written, pos(top), pos(length), TEXT, pos(length + 10), pos(top + 10),
                  _LABEL_SIZE, TEXT, written)
    # The caption says that north is up; the arrow is for the eye only.
    north = markup('<g aria-hidden="true"><path d="M {x} {bottom} V {tip} M {left} {wing} L {x} {tip} '
                  'L {right} {wing}" fill="none" stroke="{colour}" stroke-width="1.5"/><text x="{text_x}" '
                  'y="{baseline}" font-size="{size}" font-weight="bold" fill="{colour}">{north}</text></g>',
                  x=pos(WIDTH - 24), bottom=pos(top + 12), tip=pos(top - 2), left=pos(WIDTH - 28),
                  right=pos(WIDTH - 20), wing=pos(top + 3), colour=MUTED, text_x=pos(WIDTH - 16),
                  baseline=pos(top + 11), size=_LABEL_SIZE, north=words["north"])
    return scale + north


def _notes(places: MemberPlaces, unnamed: int, language: str) -> Iterator[str]:
    counted = COUNTED[language]
    for count, (one, many) in ((places.unlocated, counted["unlocated"]), (unnamed, counted["unnamed"])):
        if count:
            yield one if count == 1 else many.format(n=number(count, language))
    if places.more:
        yield WORDS[language]["more"].format(n=number(places.more, language),
                                             shown=number(len(places.places), language))


def _table(shown: list[Place], title: str, language: str, link: Link) -> Markup:
    words = WORDS[language]
    rows = []
    for place in shown:
        lang, text = place.party.name(language)
        marked = markup(' lang="{}"', lang) if lang and lang != language else Markup("")
        href = link(place.party.iri)
        named = markup('<a href="{}"{}>{}</a>', href, marked, text) if href else markup("<span{}>{}</span>",
                                                                                      marked, text)
        rows.append(markup('<tr><th scope="row">{}</th><td class="number"><data value="{}">{}</data></td>'
                          '<td class="number"><data value="{}">{}</data></td></tr>', named,
                          format(place.latitude, "f"), degrees(place.latitude, language),
                          format(place.longitude, "f"), degrees(place.longitude, language)))
    return markup('<div class="table-scroll"><table class="map-table"><caption class="visually-hidden">{}'
                 '</caption><thead><tr><th scope="col">{}</th><th scope="col" class="number">{}</th>'
                 '<th scope="col" class="number">{}</th></tr></thead><tbody>{}</tbody></table></div>',
                 title, words["member"], words["latitude"], words["longitude"], joined(rows))
