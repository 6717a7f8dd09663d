"""Pictures drawn on the server as inline SVG: who cooperates with whom, and bar charts.

No script and nothing from a third party: each picture is markup in the page, its colours given as
SVG presentation attributes (the stylesheet only sizes it and marks the focus; the CSP forbids
inline ``style``). Each is a ``<figure>`` with a caption and, under a ``<details>``, the same
content as text (a nested list, a table). The drawing is one column, as narrow as a phone: wide
screens show it at its natural size, narrow ones scale it down (``viewBox``, width 100 %).

Text is measured by an estimate of the width of a character, and wrapped to fit its box
generously; every text is escaped (``Markup.format``).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from lod.messages import number
from lod.query.describe import Period, ShownTerm
from lod.query.network import Members, Network, Party, Tie
from lod.web.svg import CHAR, LINE, LINK, MUTED, TEXT, WIDTH, element_id, joined, markup, pos

Link = Callable[[str], str | None]
"""Where a page links to for an IRI (its local page), or None to leave it unlinked."""


WORDS = {
    "de": {
        "members": "Mitglieder", "member_of": "Mitglied in", "more": "und {n} weitere",
        "others": "Weitere Mitglieder", "since": "seit", "until": "bis", "as_of": "Stand",
        "cooperation": "Kooperation", "organisation": "Organisation",
        "a_cooperation": "Kooperation", "a_organisation": "Organisation",
        "as_list": "Das Netzwerk als Liste", "as_table": "Die Zahlen als Tabelle",
        "category": "Kategorie", "count": "Anzahl",
        "caption_members": "{name}: die Mitglieder, mit ihren Rollen und Jahren.",
        "caption_groups": "{name}: die Mitgliedschaften, mit Rollen und Jahren, und wer dort noch "
                          "Mitglied ist.",
        "caption_both": "{name}: die Mitglieder und die Mitgliedschaften, mit Rollen und Jahren, und wer "
                        "dort noch Mitglied ist.",
    },
    "en": {
        "members": "Members", "member_of": "Member of", "more": "and {n} more",
        "others": "Other members", "since": "since", "until": "until", "as_of": "as of",
        "cooperation": "Cooperation", "organisation": "Organisation",
        "a_cooperation": "cooperation", "a_organisation": "organisation",
        "as_list": "The network as a list", "as_table": "The figures as a table",
        "category": "Category", "count": "Count",
        "caption_members": "{name}: its members, with their roles and years.",
        "caption_groups": "{name}: what it is a member of, with roles and years, and who else is a "
                          "member there.",
        "caption_both": "{name}: its members and what it is a member of, with roles and years, and who "
                        "else is a member there.",
    },
}
"""The words of the pictures, by page language."""

CENTRE_FILL = "#0b5cad"
CENTRE_TEXT = "#ffffff"
KINDS = {
    # kind: (fill, stroke, corner radius); the shape tells them apart without colour too.
    "cooperation": ("#fff3d6", "#8a6100", 12),
    "organisation": ("#eaf2fb", "#0b5cad", 2),
}

_NAME_SIZE, _CENTRE_SIZE, _SMALL_SIZE = 14, 16, 13
_PAD = 8
_INDENT = 28
"""How far each level of the network is drawn to the right of the one above it."""
_YEAR = re.compile(r"-?\d{4,}")


def _wrap(text: str, *, width: float, size: float, bold: bool = False, max_lines: int = 4) -> list[str]:
    """``text`` in lines that fit ``width`` at font ``size``, the last one cut short with an ellipsis
    when more would be needed."""
    per_line = max(int(width / (size * (CHAR + (0.05 if bold else 0)))), 6)
    text = " ".join(text.split())
    lines = textwrap.wrap(text, width=per_line, max_lines=max_lines, placeholder=" …") or [""]
    # A line broken at a space keeps it at its end, so that the words stay apart when the lines
    # are read as one text (by a screen reader, or copied); one broken after a hyphen does not.
    position = 0
    for index, line in enumerate(lines[:-1]):
        position = text.find(line, position) + len(line)
        if text[position:position + 1] == " ":
            lines[index] = line + " "
    return lines


@dataclass
class _Canvas:
    """SVG elements as they are drawn, lines first (so that boxes cover their ends)."""

    lines: list[Markup] = field(default_factory=list)
    shapes: list[Markup] = field(default_factory=list)
    y: float = 0.0

    def line(self, path: str, *, dashed: bool = False) -> None:
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        self.lines.append(markup('<path d="{}" fill="none" stroke="{}" stroke-width="1.5"' + dash + "/>",
                                path, LINE))

    def text(self, text: str, *, x: float, size: float, fill: str, weight: str = "normal",
             italic: bool = False, href: str | None = None) -> None:
        """Text at ``x`` from the current height down, wrapped to the width left; a link with ``href``."""
        lines = _wrap(text, width=WIDTH - x, size=size, bold=weight != "normal")
        line_height = size * 1.3
        drawn = self._text(lines, x=x, y=self.y + size, size=size, fill=LINK if href else fill,
                           weight=weight, italic=italic)
        self.shapes.append(markup('<a href="{}">{}</a>', href, drawn) if href else drawn)
        self.y += line_height * len(lines)

    @staticmethod
    def _text(lines: list[str], *, x: float, y: float, size: float, fill: str, weight: str,
              italic: bool = False, lang: str | None = None) -> Markup:
        line_height = size * 1.3
        # The space a line was broken at goes between the lines, so the text reads as one.
        tspan = '<tspan x="{}" dy="{}">{}</tspan>{}'
        spans = joined([markup(tspan, pos(x), pos(0 if i == 0 else line_height), line.rstrip(),
                               " " if line.endswith(" ") else "") for i, line in enumerate(lines)])
        extra = markup(' lang="{}"', lang) if lang else Markup("")
        if italic:
            extra += Markup(' font-style="italic"')
        return markup('<text x="{}" y="{}" font-size="{}" font-weight="{}" fill="{}"{}>{}</text>',
                     pos(x), pos(y), pos(size), weight, fill, extra, spans)

    def box(self, name: tuple[str, str], *, x: float, kind: str, href: str | None,
            page_language: str) -> tuple[float, float]:
        """A node at ``x`` from the current height down, as wide as the rest of the drawing; its
        vertical middle of the first line and its bottom."""
        lang, text = name
        size = _CENTRE_SIZE if kind == "centre" else _NAME_SIZE
        weight = "bold" if kind == "centre" else "600"
        width = WIDTH - x
        lines = _wrap(text, width=width - 2 * _PAD, size=size, bold=True)
        line_height = size * 1.3
        height = 2 * _PAD + line_height * len(lines) - (line_height - size) + 2
        top = self.y
        if kind == "centre":
            fill, stroke, radius, colour = CENTRE_FILL, CENTRE_FILL, 4, CENTRE_TEXT
        else:
            fill, stroke, radius = KINDS[kind]
            colour = LINK if href else TEXT
        rect = markup('<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{}" stroke="{}" '
                     'stroke-width="1.5"/>', pos(x + 0.75), pos(top), pos(width - 1.5), pos(height),
                     radius, fill, stroke)
        label = self._text(lines, x=x + _PAD, y=top + _PAD + size * 0.9, size=size, fill=colour,
                           weight=weight, lang=lang if lang and lang != page_language else None)
        node = rect + label
        if href:
            # The whole box is the link; its name is the full name, even when the box cuts it short.
            cut = markup(' aria-label="{}"', text) if "".join(lines) != " ".join(text.split()) else Markup("")
            node = markup('<a href="{}"{}>{}</a>', href, cut, node)
        self.shapes.append(markup('<g class="node {}">{}</g>', kind, node))
        self.y = top + height
        return top + _PAD + size * 0.5, self.y

    def svg(self, *, label_id: str, css_class: str) -> Markup:
        height = self.y + 2
        return markup('<svg xmlns="http://www.w3.org/2000/svg" class="{}" viewBox="0 0 {} {}" width="{}" '
                     'height="{}" role="group" aria-labelledby="{}">{}{}</svg>',
                     css_class, WIDTH, pos(height), WIDTH, pos(height), label_id,
                     joined(self.lines), joined(self.shapes))


# --- the network ------------------------------------------------------------------------------


def _year(term: ShownTerm | None) -> str | None:
    if term is None:
        return None
    found = _YEAR.match(term.value)
    return found.group() if found else term.value


def years(period: Period, language: str) -> str:
    """When a membership held, in years: "2014\N{EN DASH}2016", "seit 2020", "bis 2016", "Stand 2020".

    >>> years(Period(ShownTerm("2014", "literal"), ShownTerm("2016-09", "literal")), "de")
    '2014\N{EN DASH}2016'
    """
    words = WORDS[language]
    start, end, as_of = _year(period.start), _year(period.end), _year(period.as_of)
    if start and end:
        return start if start == end else f"{start}\N{EN DASH}{end}"
    if start:
        return f"{words['since']} {start}"
    if end:
        return f"{words['until']} {end}"
    return f"{words['as_of']} {as_of}" if as_of else ""


def tie_label(tie: Tie, language: str) -> str:
    """What a line of the network says: the roles and the years, "Partner · seit 2020"."""
    roles = ", ".join(role.labels.best(language) or role.value.rpartition("/")[2] for role in tie.roles)
    return " \N{MIDDLE DOT} ".join(part for part in (roles, years(tie.period, language)) if part)


def _kind(party: Party) -> str:
    return "cooperation" if party.cooperation else "organisation"


def _sorted(ties: list[Tie], language: str) -> list[Tie]:
    return sorted(ties, key=lambda tie: (tie.party.name(language)[1].casefold(), tie.membership))


def network_picture(network: Network, *, language: str, link: Link, all_members: str | None = None,
                    all_groups: str | None = None) -> Markup:
    """The network as a figure: the resource at the top, its members below it, then what it is a
    member of with their other members; each line labelled with the roles and years, each other
    party a link (``link``) to its page. Nothing when the network is empty.

    The resource itself is not linked: the picture is on its page. Where not all are drawn, "and
    N more" links to ``all_members`` and ``all_groups`` (where the page lists them all), and to
    the page of a group for its other members.
    """
    if network.empty:
        return Markup("")
    words = WORDS[language]
    canvas = _Canvas()
    _middle, reached = canvas.box(network.centre.name(language), x=0, kind="centre", href=None,
                                  page_language=language)
    kinds: set[str] = set()
    others = {id(group.tie): group.others for group in network.groups}
    for heading, members, everyone in ((words["members"], network.members, all_members),
                                       (words["member_of"], _groups(network), all_groups)):
        if not members.total:
            continue
        canvas.y += 10
        canvas.text(f"{heading} ({number(members.total, language)})", x=_INDENT, size=_SMALL_SIZE, fill=TEXT,
                    weight="bold")
        for tie in _sorted(members.shown, language):
            reached = _tie(canvas, tie, x=_INDENT, trunk=_INDENT / 2, reached=reached, language=language,
                           link=link, kinds=kinds)
            inner = others.get(id(tie), Members())
            inner_reached = canvas.y
            for other in _sorted(inner.shown, language):
                inner_reached = _tie(canvas, other, x=2 * _INDENT, trunk=1.5 * _INDENT, reached=inner_reached,
                                     language=language, link=link, kinds=kinds)
            if inner.more:
                _more(canvas, inner.more, x=2 * _INDENT, trunk=1.5 * _INDENT, reached=inner_reached,
                      language=language, href=link(tie.party.iri))
        if members.more:
            reached = _more(canvas, members.more, x=_INDENT, trunk=_INDENT / 2, reached=reached,
                            language=language, href=everyone)
    canvas.y += 14
    _legend(canvas, sorted(kinds), language)
    caption_id = element_id("network", network.centre.iri)
    which = ("caption_both" if network.members.total and network.groups_total
             else "caption_members" if network.members.total else "caption_groups")
    return markup(
        '<figure class="picture network"><figcaption id="{}">{}</figcaption>{}'
        '<details class="picture-text"><summary>{}</summary>{}</details></figure>',
        caption_id, words[which].format(name=network.centre.name(language)[1]),
        canvas.svg(label_id=caption_id, css_class="network-drawing"),
        words["as_list"], _network_list(network, language, link, all_members=all_members,
                                        all_groups=all_groups))


def _groups(network: Network) -> Members:
    """The resource's memberships in others, as one side of the network."""
    return Members([group.tie for group in network.groups], network.groups_total)


def _tie(canvas: _Canvas, tie: Tie, *, x: float, trunk: float, reached: float, language: str,
         link: Link, kinds: set[str]) -> float:
    """One membership: its label, then the party's box, joined to the trunk at ``trunk`` (drawn
    down from ``reached``); where the trunk has reached now."""
    canvas.y += 6
    label = tie_label(tie, language)
    if label:
        canvas.text(label, x=x + 2, size=_SMALL_SIZE, fill=MUTED)
        canvas.y += 2
    kind = _kind(tie.party)
    kinds.add(kind)
    middle, _bottom = canvas.box(tie.party.name(language), x=x, kind=kind, href=link(tie.party.iri),
                                 page_language=language)
    canvas.line(f"M {pos(trunk)} {pos(reached)} V {pos(middle)} H {pos(x)}")
    return middle


def _more(canvas: _Canvas, count: int, *, x: float, trunk: float, reached: float, language: str,
          href: str | None) -> float:
    canvas.y += 6
    middle = canvas.y + _NAME_SIZE * 0.6
    canvas.text(WORDS[language]["more"].format(n=number(count, language)), x=x + 2, size=_SMALL_SIZE,
                fill=MUTED, italic=True, href=href)
    canvas.line(f"M {pos(trunk)} {pos(reached)} V {pos(middle)} H {pos(x - 2)}", dashed=True)
    return middle


def _legend(canvas: _Canvas, kinds: list[str], language: str) -> None:
    x = 0.0
    for kind in kinds:
        fill, stroke, radius = KINDS[kind]
        canvas.shapes.append(markup(
            '<rect x="{}" y="{}" width="22" height="14" rx="{}" fill="{}" stroke="{}" stroke-width="1.5"/>',
            pos(x + 1), pos(canvas.y + 1), min(radius, 7), fill, stroke))
        word = WORDS[language][kind]
        canvas.shapes.append(markup('<text x="{}" y="{}" font-size="{}" fill="{}">{}</text>',
                                   pos(x + 28), pos(canvas.y + 12.5), _SMALL_SIZE, TEXT, word))
        x += 28 + len(word) * _SMALL_SIZE * CHAR + 20
    if kinds:
        canvas.y += 16


def _network_list(network: Network, language: str, link: Link, *, all_members: str | None,
                  all_groups: str | None) -> Markup:
    """The network as a nested list, for reading rather than looking."""
    words = WORDS[language]
    others = {id(group.tie): group.others for group in network.groups}

    def name(party: Party) -> Markup:
        lang, text = party.name(language)
        marked = markup(' lang="{}"', lang) if lang and lang != language else Markup("")
        href = link(party.iri) if party is not network.centre else None
        return (markup('<a href="{}"{}>{}</a>', href, marked, text) if href
                else markup("<span{}>{}</span>", marked, text))

    def items(members: Members, everyone: str | None) -> Markup:
        rows = []
        for tie in _sorted(members.shown, language):
            label = tie_label(tie, language)
            inner = others.get(id(tie), Members())
            rows.append(markup("<li>{} ({}){}{}</li>", name(tie.party), words["a_" + _kind(tie.party)],
                              f": {label}" if label else "",
                              markup("<br>{} ({}):{}", words["others"], number(inner.total, language),
                                    items(inner, link(tie.party.iri))) if inner.total else ""))
        if members.more:
            more = words["more"].format(n=number(members.more, language))
            rows.append(markup('<li><a href="{}">{}</a></li>', everyone, more) if everyone
                        else markup("<li>{}</li>", more))
        return markup("<ul>{}</ul>", joined(rows))

    sections = [markup("<li>{} ({}):{}</li>", heading, number(members.total, language),
                      items(members, everyone))
                for heading, members, everyone in ((words["members"], network.members, all_members),
                                                   (words["member_of"], _groups(network), all_groups))
                if members.total]
    return markup('<ul class="network-list"><li><strong>{}</strong><ul>{}</ul></li></ul>',
                 name(network.centre), joined(sections))


# --- bar charts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: what it counts, how many, and where to read more (or None)."""

    label: str
    count: int
    href: str | None = None


_BAR_HEIGHT = 18
_COUNT_ROOM = 72
"""Room to the right of the longest bar for its number."""


def bar_chart(*, title: str, bars: Sequence[Bar], language: str) -> Markup:
    """A horizontal bar chart as a figure captioned ``title``: per bar its label (a link when it
    has an ``href``) above a bar as long as its count, and the count written after it, as the
    page's language writes numbers; the same figures as a table under a ``<details>``. The bars
    are drawn in the order given. Nothing when there are no bars.
    """
    if not bars:
        return Markup("")
    words = WORDS[language]
    canvas = _Canvas()
    longest = max(max(bar.count for bar in bars), 1)
    room = WIDTH - _COUNT_ROOM
    for bar in bars:
        canvas.text(bar.label, x=0, size=_NAME_SIZE, fill=TEXT, href=bar.href)
        canvas.y += 3
        length = max(room * bar.count / longest, 0)
        shown = number(bar.count, language)
        canvas.shapes.append(markup(
            '<rect x="0" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
            pos(canvas.y), pos(length), _BAR_HEIGHT, LINK, bar.label, shown))
        canvas.shapes.append(markup('<text x="{}" y="{}" font-size="{}" fill="{}">{}</text>', pos(length + 6),
                                   pos(canvas.y + _BAR_HEIGHT * 0.75), _NAME_SIZE, TEXT, shown))
        canvas.y += _BAR_HEIGHT + 12
    caption_id = element_id("chart", title)
    rows = joined([markup('<tr><th scope="row">{}</th><td class="number">{}</td></tr>',
                        markup('<a href="{}">{}</a>', bar.href, bar.label) if bar.href else bar.label,
                        number(bar.count, language)) for bar in bars])
    table = markup('<table class="chart-table"><caption class="visually-hidden">{}</caption>'
                  '<thead><tr><th scope="col">{}</th><th scope="col" class="number">{}</th></tr></thead>'
                  "<tbody>{}</tbody></table>", title, words["category"], words["count"], rows)
    return markup('<figure class="picture chart"><figcaption id="{}">{}</figcaption>{}'
                 '<details class="picture-text"><summary>{}</summary>{}</details></figure>',
                 caption_id, title, canvas.svg(label_id=caption_id, css_class="chart-drawing"),
                 words["as_table"], table)
