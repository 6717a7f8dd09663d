"""Searching a release's index by name, other name, abbreviation or official key.

Hits come in two runs. First the records with a name or other name that begins with the query
(an abbreviation typed whole, a name typed from its start: what a person typing into a search
field means), in alphabetical order, so a name equal to the query comes first; they are read from
a sorted index of the names, so a query of two letters costs no more than one of twenty. Then
the records of which every word of the query begins a word of the index, with or without umlauts
(:mod:`lod.browse.folding`), ranked by BM25 (names weigh most, descriptions least).
"""

from __future__ import annotations

from dataclasses import dataclass

from lod.browse.folding import query_words, transliterated, without_marks
from lod.browse.lists import BrowseIndex, fts_expression


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str
    list: str
    kind: str | None
    lands: tuple[str, ...]


def search(index: BrowseIndex, query: str, *, language: str, limit: int = 20, offset: int = 0) -> list[Hit]:
    """The best ``limit`` records for ``query`` (after the first ``offset``)."""
    expression = fts_expression(query)
    if expression is None:
        return []
    wanted = offset + limit
    found = dict.fromkeys(_beginning_with(index, query, wanted))
    if len(found) < wanted:
        for (record,) in index.rows("SELECT rowid FROM search WHERE search MATCH ? ORDER BY rank LIMIT ?",
                                    (expression, wanted + len(found))):
            found.setdefault(int(str(record)))
    chosen = list(found)[offset:wanted]
    if not chosen:
        return []
    rows = {int(str(r[0])): r for r in index.rows(
        f"SELECT id, iri, label_de, label_en, list, kind, lands FROM records WHERE id IN "
        f"({', '.join('?' * len(chosen))})", tuple(chosen))}
    return [Hit(str(iri), str(en if language == "en" else de), str(list_name),
                None if kind is None else str(kind), tuple(str(lands).split(",")) if lands else ())
            for _, iri, de, en, list_name, kind, lands in (rows[record] for record in chosen)]


def _beginning_with(index: BrowseIndex, query: str, wanted: int) -> list[int]:
    """Records with a name that begins with the query, in the order of those names."""
    records: dict[int, None] = {}
    for start in dict.fromkeys((transliterated(query.strip()), without_marks(query.strip()))):
        if not query_words(start):
            continue
        for (record,) in index.rows("SELECT record FROM names WHERE folded >= ? AND folded < ? "
                                    "ORDER BY folded LIMIT ?", (start, start + "\U0010ffff", wanted * 2)):
            records.setdefault(int(str(record)))
    return list(records)[:wanted]


def count(index: BrowseIndex, query: str) -> int:
    """How many records match ``query``."""
    expression = fts_expression(query)
    if expression is None:
        return 0
    [(found,)] = index.rows("SELECT count(*) FROM search WHERE search MATCH ?", (expression,))
    return int(str(found))
