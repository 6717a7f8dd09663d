"""What the query layer keeps in memory: results of queries on a release (a release never
changes, so neither does the answer to the same request; keys also serve as ETags, so clients can
revalidate for free), and what was prepared for recent queries and their shapes."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Generic, TypeVar

from lod.query.executor import QueryOutcome, QueryRequest
from lod.sparql.shapes import Outline, lead
from lod.sparql.tokens import Token

K = TypeVar("K")
V = TypeVar("V")


def request_key(release_id: str, request: QueryRequest) -> str:
    """A fingerprint of everything that decides the answer: the release and the whole request."""
    parts = (release_id, request.query, request.accept or "", *request.formats, "\0",
             *request.default_graphs, "\0", *request.named_graphs, "\0", str(request.max_rows),
             str(request.max_bytes), "")
    # Each part followed by U+001F, hashed in one call (the same bytes as part by part).
    text = "\x1f".join(parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class ResultCache:
    """Successful results small enough to be held in memory, least recently used dropped first."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, QueryOutcome] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> QueryOutcome | None:
        with self._lock:
            outcome = self._entries.get(key)
            if outcome is not None:
                self._entries.move_to_end(key)
            return outcome

    def put(self, key: str, outcome: QueryOutcome) -> None:
        if outcome.status != 200 or outcome.path is not None or len(outcome.body) > self.max_bytes // 16:
            return  # errors, spooled files and large results are not kept
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = outcome
            self._size += len(outcome.body)
            while self._size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped.body)


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
