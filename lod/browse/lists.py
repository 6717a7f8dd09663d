"""Reading a release's browse index: a list filtered by facets (and words), its facet counts, one
page of it, or all of it for a download.

A filter is an AND across facets of ORs within one (``kind=a&kind=b&land=05``: of kind a or b,
and in North Rhine-Westphalia). A facet's counts are taken over the records that every *other*
facet's filter lets through, so a person sees how many each further choice of that facet would
add. Both are integer operations on the index's bitmaps, whatever the size of the list.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lod.browse.folding import query_words
from lod.browse.index import ALL, FACETS, INDEX_FILE, ORDERS, VERSION
from lod.errors import LodError

LISTS = tuple(FACETS)
COUNTS_KEPT = 512
"""Facet counts kept per process (of as many filtered lists); all are dropped when it is full."""
SORTS = ("name", "newest", "oldest", "largest")
"""The orders a person can choose; ``name`` is the page language's."""


class IndexMissing(LodError):
    """The release was built before releases had a browse index."""

    status = 503


@dataclass(frozen=True)
class ListRequest:
    """What a person asked of a list: the facet values chosen, words, an order and a page."""

    list: str
    filters: Mapping[str, frozenset[str]]
    words: str = ""
    sort: str = "name"
    page: int = 1
    size: int = 50


@dataclass(frozen=True)
class Row:
    iri: str
    label: str
    kind: str | None
    lands: tuple[str, ...]
    year: int | None
    size: int


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    chosen: bool


@dataclass(frozen=True)
class Facet:
    name: str
    values: tuple[FacetValue, ...]


@dataclass(frozen=True)
class ListPage:
    request: ListRequest
    total: int
    rows: tuple[Row, ...]
    facets: tuple[Facet, ...]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.size))


class BrowseIndex:
    """One release's index, opened read-only; bitmaps are read on first use and kept."""

    def __init__(self, release_path: Path, *, counts_kept: int = COUNTS_KEPT) -> None:
        path = release_path / INDEX_FILE
        if not path.is_file():
            raise IndexMissing(f"Release {release_path.name} hat keinen Index für Listen und Suche; "
                               "die nächste Veröffentlichung legt ihn an. / Release "
                               f"{release_path.name} has no index for lists and search; the next "
                               "release builds it.")
        self._connection = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True,
                                           check_same_thread=False)
        [(version,)] = self._connection.execute("PRAGMA user_version").fetchall()
        if version != VERSION:
            self._connection.close()
            raise IndexMissing(f"Der Index für Listen und Suche von Release {release_path.name} hat "
                               f"die Form {version}, dieser Server liest Form {VERSION}; die nächste "
                               "Veröffentlichung legt ihn neu an. / The index for lists and search "
                               f"of release {release_path.name} has layout {version}, this server "
                               f"reads layout {VERSION}; the next release builds it anew.")
        self._lock = threading.Lock()
        self._masks: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
        self._labels: dict[str, tuple[str, str]] | None = None
        self._counts_kept = counts_kept
        self._counts: dict[tuple[object, ...], tuple[Facet, ...]] = {}
        """Facet counts by list, words and filters: the same for every order and page of them."""

    def close(self) -> None:
        self._connection.close()

    def rows(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:  # one connection, shared by the server's threads
            return self._connection.execute(sql, parameters).fetchall()

    def masks(self, list_name: str, ordering: str) -> dict[tuple[str, str], int]:
        key = (list_name, ordering)
        found = self._masks.get(key)
        if found is None:
            found = {(str(facet), str(value)): int.from_bytes(bits, "little")  # type: ignore[arg-type]
                     for facet, value, bits in self.rows(
                         "SELECT facet, value, bits FROM masks WHERE list = ? AND ordering = ?", key)}
            self._masks[key] = found
        return found

    def label(self, value: str, language: str) -> str:
        """A facet value's name in ``language``: a concept's label, a Land's name, a year."""
        if self._labels is None:
            self._labels = {str(v): (str(de), str(en)) for v, de, en in self.rows("SELECT * FROM labels")}
        names = self._labels.get(value)
        return value if names is None else names[language == "en"]

    def read(self, request: ListRequest, *, language: str) -> ListPage:
        """The page asked for, with the counts of every facet of the list."""
        ordering = _ordering(request.sort, language)
        masks = self.masks(request.list, ordering)
        words, chosen = self._selection(request, ordering)
        key = (request.list, request.words.strip(),
               tuple(sorted((f, tuple(sorted(v))) for f, v in request.filters.items() if f in chosen)))
        facets = self._counts.get(key)
        if facets is None:
            facets = self._facets(request, masks, words, chosen)
            if len(self._counts) >= self._counts_kept:
                self._counts.clear()
            if self._counts_kept:
                self._counts[key] = facets
        selected = _all_of(words, chosen.values())
        places = _places(selected, (request.page - 1) * request.size, request.size)
        return ListPage(request, selected.bit_count(), self._fetch(request.list, ordering, places), facets)

    def _facets(self, request: ListRequest, masks: dict[tuple[str, str], int], words: int,
                chosen: dict[str, int]) -> tuple[Facet, ...]:
        """Each facet's values with their counts among the records the other facets let through."""
        facets = []
        for facet in FACETS[request.list]:
            others = words
            for name, mask in chosen.items():
                if name != facet:
                    others &= mask
            picked = request.filters.get(facet, frozenset())
            values = [FacetValue(value, (mask & others).bit_count(), value in picked)
                      for (name, value), mask in masks.items() if name == facet]
            values = [v for v in values if v.count or v.chosen]
            values.sort(key=(lambda v: v.value) if facet == "year" else (lambda v: (-v.count, v.value)))
            facets.append(Facet(facet, tuple(values)))
        return tuple(facets)

    def all_rows(self, request: ListRequest, *, language: str) -> Iterator[Row]:
        """Every row the request's filters let through, in its order (for a download)."""
        ordering = _ordering(request.sort, language)
        words, chosen = self._selection(request, ordering)
        selected = _all_of(words, chosen.values())
        places = _places(selected, 0, selected.bit_count())
        for chunk in range(0, len(places), 500):
            yield from self._fetch(request.list, ordering, places[chunk:chunk + 500])

    def _selection(self, request: ListRequest, ordering: str) -> tuple[int, dict[str, int]]:
        """The records the words let through, and those each facet's chosen values let through."""
        masks = self.masks(request.list, ordering)
        words = self._matching(request, ordering) if request.words.strip() else masks.get(ALL, 0)
        chosen = {facet: _any_of(masks, facet, values) for facet, values in request.filters.items()
                  if facet in FACETS[request.list] and values}
        return words, chosen

    def _matching(self, request: ListRequest, ordering: str) -> int:
        """The bitmap, in ``ordering``, of the records of the list whose names match the words."""
        expression = fts_expression(request.words)
        if expression is None:
            return 0
        places = [int(str(place)) for (place,) in self.rows(
            # The matches first: joined, SQLite would run the full-text query once per record.
            f"SELECT rank_{ordering} FROM records WHERE list = ? AND id IN "
            "(SELECT rowid FROM search WHERE search MATCH ?)", (request.list, expression))]
        bits = bytearray((max(places, default=0) >> 3) + 1)
        for place in places:  # set in a byte array: OR-ing into an int would copy it every time
            bits[place >> 3] |= 1 << (place & 7)
        return int.from_bytes(bits, "little")

    def _fetch(self, list_name: str, ordering: str, places: list[int]) -> tuple[Row, ...]:
        if not places:
            return ()
        found = self.rows(
            f"SELECT rank_{ordering}, iri, label_de, label_en, kind, lands, year, size FROM records "
            f"WHERE list = ? AND rank_{ordering} IN ({', '.join('?' * len(places))})",
            (list_name, *places))
        language_column = 3 if ordering == "name_en" else 2
        rows = {int(r[0]): Row(str(r[1]), str(r[language_column]), None if r[4] is None else str(r[4]),  # type: ignore[call-overload]
                               tuple(str(r[5]).split(",")) if r[5] else (),
                               None if r[6] is None else int(r[6]), int(r[7]))  # type: ignore[call-overload]
                for r in found}
        return tuple(rows[place] for place in places)


def fts_expression(words: str) -> str | None:
    """An FTS5 query: every word, as the start of a word of the indexed texts.

    >>> fts_expression('Güters "KGSt"')
    '"gueters"* AND "kgst"*'
    """
    found = query_words(words)
    return " AND ".join(f'"{word}"*' for word in found) if found else None


def _ordering(sort: str, language: str) -> str:
    if sort == "name":
        return "name_en" if language == "en" else "name_de"
    return sort if sort in ORDERS else "name_de"


def _any_of(masks: dict[tuple[str, str], int], facet: str, values: frozenset[str]) -> int:
    mask = 0
    for value in values:
        mask |= masks.get((facet, value), 0)
    return mask


def _all_of(first: int, others: Iterable[int]) -> int:
    for mask in others:
        first &= mask
    return first


def _places(mask: int, start: int, count: int) -> list[int]:
    """The places of the set bits of ``mask``, from the ``start``-th, at most ``count`` of them."""
    if count <= 0 or not mask:
        return []
    bits = format(mask, "b")[::-1]
    places: list[int] = []
    skipped, position, chunk = 0, 0, 4096
    while position < len(bits):  # whole chunks are skipped by counting, not by searching
        ones = bits.count("1", position, position + chunk)
        if skipped + ones > start:
            break
        skipped, position = skipped + ones, position + chunk
    while len(places) < count:
        position = bits.find("1", position)
        if position < 0:
            break
        if skipped >= start:
            places.append(position)
        skipped, position = skipped + 1, position + 1
    return places
