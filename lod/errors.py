"""One error root for the whole package; each error knows the HTTP status it stands for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lod.messages import tr, tr_n


class LodError(Exception):
    """Root of every error `lod` raises on purpose. ``status`` is the HTTP status it maps to."""

    status: int = 500


class UsageError(LodError):
    """The caller asked for something that cannot be done (a missing path, an unknown format)."""

    status = 400


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.column:
            where += tr(": column {column!r}", column=self.column)
        if self.value is not None:
            where += tr(", value {value!r}", value=self.value)
        return f"{where}: {self.message}"


class InputError(LodError):
    """The input records are invalid; ``problems`` lists every problem found, not just the first."""

    status = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        count = tr_n("{count} input error:", "{count} input errors:", len(self.problems))
        super().__init__(f"{count}\n{lines}")
