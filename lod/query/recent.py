"""What the query preparer keeps of recent queries: bounded, safe to share between threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

from lod.sparql.shapes import Outline, lead
from lod.sparql.tokens import Token

K = TypeVar("K")
V = TypeVar("V")


class Outlines(Generic[V]):
    """What is known for query outlines (:class:`~lod.sparql.shapes.Outline`), found by the text
    of a query written so; at most ``size`` outlines, the oldest dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._by_lead: dict[str, dict[Outline, V]] = {}
        self._order: OrderedDict[Outline, None] = OrderedDict()
        self._lock = threading.Lock()

    def find(self, text: str) -> tuple[V, tuple[Token, ...]] | None:
        """What is known for the outline of ``text``, and ``text``'s terms."""
        candidates = self._by_lead.get(lead(text))
        if candidates:
            for outline, known in tuple(candidates.items()):
                terms = outline.match(text)
                if terms is not None:
                    return known, terms
        return None

    def add(self, outline: Outline, known: V) -> None:
        with self._lock:
            self._by_lead.setdefault(outline.lead, {})[outline] = known
            self._order[outline] = None
            while len(self._order) > self.size:
                oldest, _ = self._order.popitem(last=False)
                siblings = self._by_lead[oldest.lead]
                del siblings[oldest]
                if not siblings:
                    del self._by_lead[oldest.lead]


class Recent(Generic[K, V]):
    """The ``size`` entries used most recently; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
