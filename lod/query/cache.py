"""Results of queries on a release, kept in memory: a release never changes, so neither does the
answer to the same request. Keys also serve as ETags, so clients can revalidate for free."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from lod.query.evaluate import QueryOutcome, QueryRequest


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
