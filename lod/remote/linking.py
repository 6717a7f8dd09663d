"""Links from our organisations to Wikidata: proposals for a person to review, then the accepted ones.

Step one, :func:`propose_wikidata_links`, asks a Wikidata endpoint for items whose official key
equals ours: the AGS (``wdt:P439``) of a municipality, the Kreisschlüssel (``wdt:P440``) of a
district. An organisation without such a key is looked up by name: items whose German label or
alias equals its ``name_de`` or one of its ``alt_names``. :func:`write_proposals` writes every
candidate with its evidence to a CSV file whose ``accept`` column is left empty.

Step two, :func:`accept_proposals`, reads that file once a person has put ``yes`` in ``accept``
for the right rows, writes the QIDs into ``organisations.csv`` (``wikidata`` column) and cites the
source ``wikidata`` on each linked record, adding that source to ``sources.csv`` when it is not
there. A record that already names a different QID is never changed: it is a :class:`Conflict`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import partial
from pathlib import Path
from typing import IO

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from lod.errors import InputError, Problem, UsageError
from lod.files import write_atomically
from lod.messages import tr
from lod.records.model import Organisation
from lod.remote.client import QuerySource
from lod.vocab import WIKIDATA

__all__ = [
    "NOT_ORGANISATIONS",
    "PROPOSAL_COLUMNS",
    "WIKIDATA_SOURCE",
    "AcceptResult",
    "Conflict",
    "Link",
    "Method",
    "Proposal",
    "accept_proposals",
    "propose_wikidata_links",
    "read_accepted",
    "write_proposals",
]

WDT = "http://www.wikidata.org/prop/direct/"
AGS_PROPERTY = "P439"
KREISSCHLUESSEL_PROPERTY = "P440"

NOT_ORGANISATIONS = frozenset({
    "Q4167410",  # Wikimedia disambiguation page
    "Q4167836",  # Wikimedia category
    "Q13406463",  # Wikimedia list article
    "Q11266439",  # Wikimedia template
    "Q13442814",  # scholarly article
    "Q101352",  # family name
    "Q202444",  # given name
})
"""Classes (``wdt:P31``) of items that share names with organisations but never are one."""

WIKIDATA_SOURCE = {
    "slug": "wikidata", "kind": "database", "title": "Wikidata", "language": "en",
    "publisher_name": "Wikimedia Foundation", "url": "https://www.wikidata.org/",
}
"""The ``sources.csv`` row cited by every link taken from Wikidata (``date``: the year it is added)."""

_QID = re.compile(r"Q[1-9]\d*")
_YES = frozenset({"yes", "y", "ja", "j", "x", "true", "1"})
_NO = frozenset({"", "no", "n", "nein", "false", "0"})


class Method(Enum):
    """How a candidate was found."""

    AGS = "ags"
    KREISSCHLUESSEL = "kreisschluessel"
    LABEL = "label"


@dataclass(frozen=True, slots=True)
class Proposal:
    """A candidate Wikidata item for one of our organisations, with the evidence for it."""

    slug: str
    name: str
    kind: str
    method: Method
    key: str
    """The AGS, Kreisschlüssel or name that matched."""
    qid: str
    wikidata_label: str
    instance_of: tuple[str, ...]
    confidence: float
    """1.0 for a key that only one item has; 0.8 for our name as the item's label, 0.6 for any
    other name or alias match; divided by the number of items found for the organisation."""
    current: str = ""
    """The QID our data names now, if any: a proposal that differs from it is a conflict."""


PROPOSAL_COLUMNS = ("slug", "name", "kind", "method", "key", "qid", "wikidata_label", "wikidata_url",
                    "instance_of", "confidence", "current", "accept")


# --- proposing ----------------------------------------------------------------------------------


@dataclass
class _Hit:
    """An item found for one key or name."""

    label: str = ""
    classes: set[str] = field(default_factory=set)
    by_label: bool = False
    """Found by its label, not only by an alias (for names)."""


@dataclass(frozen=True, slots=True)
class _Evidence:
    key: str
    hit: _Hit
    score: float


def propose_wikidata_links(organisations: Iterable[Organisation], wikidata: QuerySource, *,
                           batch_size: int = 100) -> list[Proposal]:
    """Candidates for every organisation, except items it is linked to already; by slug, best first."""
    by_key: dict[Method, dict[str, list[Organisation]]] = {Method.AGS: {}, Method.KREISSCHLUESSEL: {}}
    by_name: dict[str, list[tuple[Organisation, bool]]] = {}
    for org in organisations:
        if org.ags:
            by_key[Method.AGS].setdefault(org.ags, []).append(org)
        elif org.kreisschluessel:
            by_key[Method.KREISSCHLUESSEL].setdefault(org.kreisschluessel, []).append(org)
        else:
            for position, name in enumerate(dict.fromkeys((org.name_de, *org.alt_names))):
                by_name.setdefault(name, []).append((org, position == 0))
    proposals: list[Proposal] = []
    for method, prop in ((Method.AGS, AGS_PROPERTY), (Method.KREISSCHLUESSEL, KREISSCHLUESSEL_PROPERTY)):
        found = _collect(wikidata, sorted(by_key[method]), batch_size, partial(_key_query, prop))
        for key, orgs in by_key[method].items():
            evidence = {qid: _Evidence(key, hit, 1.0) for qid, hit in found.get(key, {}).items()}
            for org in orgs:
                proposals.extend(_proposals(org, method, evidence))
    found = _collect(wikidata, sorted(by_name), batch_size, _name_query)
    by_org: dict[str, tuple[Organisation, dict[str, _Evidence]]] = {}
    for name, entries in by_name.items():
        for org, main_name in entries:
            evidence = by_org.setdefault(org.slug, (org, {}))[1]
            for qid, hit in found.get(name, {}).items():
                score = 0.8 if main_name and hit.by_label else 0.6
                if qid not in evidence or score > evidence[qid].score:
                    evidence[qid] = _Evidence(name, hit, score)
    for org, evidence in by_org.values():
        proposals.extend(_proposals(org, Method.LABEL, evidence))
    return sorted(proposals, key=lambda p: (p.slug, -p.confidence, _qid_order(p.qid)))


def _proposals(org: Organisation, method: Method, evidence: dict[str, _Evidence]) -> Iterator[Proposal]:
    for qid, found in evidence.items():
        if qid == org.wikidata:
            continue
        yield Proposal(
            slug=org.slug, name=org.name_de, kind=org.kind, method=method, key=found.key, qid=qid,
            wikidata_label=found.hit.label, instance_of=tuple(sorted(found.hit.classes, key=_qid_order)),
            confidence=round(found.score / len(evidence), 2), current=org.wikidata or "")


def _qid_order(qid: str) -> tuple[int, str]:
    return (int(qid[1:]), qid) if _QID.fullmatch(qid) else (0, qid)


def _collect(wikidata: QuerySource, texts: Sequence[str], batch_size: int,
             make_query: Callable[[Sequence[str]], str]) -> dict[str, dict[str, _Hit]]:
    """Items found for each text (key or name), by QID, leaving out what cannot be an organisation."""
    found: dict[str, dict[str, _Hit]] = {}
    for start in range(0, len(texts), batch_size):
        for row in wikidata.select(make_query(texts[start:start + batch_size])):
            qid, text = _qid(row.get("item")), row.get("text")
            if qid is None or text is None:
                continue
            hit = found.setdefault(str(text), {}).setdefault(qid, _Hit())
            hit.by_label = hit.by_label or str(row.get("how", "")) == "label"
            if "label" in row:
                hit.label = str(row["label"])
            cls = _qid(row.get("class"))
            if cls:
                hit.classes.add(cls)
    return {text: kept for text, items in found.items()
            if (kept := {q: h for q, h in items.items() if not h.classes & NOT_ORGANISATIONS})}


def _qid(term: object) -> str | None:
    if isinstance(term, URIRef) and term.startswith(str(WIKIDATA)):
        local = term[len(str(WIKIDATA)):]
        return local if _QID.fullmatch(local) else None
    return None


_PREFIXES = f"PREFIX wdt: <{WDT}>\nPREFIX rdfs: <{RDFS}>\nPREFIX skos: <{SKOS}>\n"
_DETAILS = """  OPTIONAL { ?item rdfs:label ?label FILTER(LANG(?label) = "de") }
  OPTIONAL { ?item wdt:P31 ?class }"""


def _key_query(prop: str, keys: Sequence[str]) -> str:
    values = " ".join(Literal(key).n3() for key in keys)
    return (f"{_PREFIXES}SELECT ?text ?item ?label ?class WHERE {{\n  VALUES ?text {{ {values} }}\n"
            f"  ?item wdt:{prop} ?text .\n{_DETAILS}\n}}")


def _name_query(names: Sequence[str]) -> str:
    values = " ".join(Literal(name, lang="de").n3() for name in names)
    return (f"{_PREFIXES}SELECT ?text ?item ?how ?label ?class WHERE {{\n  VALUES ?text {{ {values} }}\n"
            '  { ?item rdfs:label ?text BIND("label" AS ?how) }\n'
            '  UNION { ?item skos:altLabel ?text BIND("alias" AS ?how) }\n'
            f"{_DETAILS}\n}}")


def write_proposals(out: IO[str], proposals: Iterable[Proposal]) -> int:
    """Write ``proposals`` as CSV (:data:`PROPOSAL_COLUMNS`) with ``accept`` empty; the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PROPOSAL_COLUMNS)
    count = 0
    for p in proposals:
        writer.writerow([p.slug, p.name, p.kind, p.method.value, p.key, p.qid, p.wikidata_label,
                         f"https://www.wikidata.org/wiki/{p.qid}", ";".join(p.instance_of),
                         f"{p.confidence:.2f}", p.current, ""])
        count += 1
    return count


# --- accepting ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """An accepted proposal: organisation ``slug`` is Wikidata item ``qid`` (``line`` in the file)."""

    slug: str
    qid: str
    line: int


@dataclass(frozen=True, slots=True)
class Conflict:
    """An accepted QID that differs from the one the organisation has: nothing was changed."""

    slug: str
    current: str
    proposed: str
    line: int

    def __str__(self) -> str:
        return tr("{slug}: organisations.csv has {current}, the accepted proposal on line {line} says "
                  "{proposed}; not changed (edit organisations.csv by hand if {proposed} is right)",
                  slug=self.slug, current=self.current, line=self.line, proposed=self.proposed)


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """What :func:`accept_proposals` did."""

    linked: tuple[Link, ...]
    unchanged: tuple[Link, ...]
    """Accepted links the data had already."""
    conflicts: tuple[Conflict, ...]
    source_added: bool
    """Whether the ``wikidata`` row was added to ``sources.csv``."""


def read_accepted(path: Path) -> list[Link]:
    """The accepted rows of a proposals file; :class:`~lod.errors.InputError` lists every problem."""
    file = str(path)
    problems: list[Problem] = []
    text = _decode(path).removeprefix("\ufeff")
    first_line = text.partition("\n")[0]
    # A spreadsheet set to German saves CSV with semicolons.
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    missing = [name for name in ("slug", "qid", "accept") if name not in (reader.fieldnames or [])]
    if missing:
        raise InputError([Problem(file, 1, name, None, tr("required column is missing from the header"))
                          for name in missing])
    links: dict[str, Link] = {}
    start = reader.line_num + 1
    for row in reader:
        answer = (row["accept"] or "").strip()
        slug, qid = (row["slug"] or "").strip(), (row["qid"] or "").strip()
        if answer.lower() in _NO:
            pass
        elif answer.lower() not in _YES:
            problems.append(Problem(file, start, "accept", answer,
                                    tr("must be yes (or y, x, ja, true, 1) to accept, or no or empty")))
        elif not _QID.fullmatch(qid):
            problems.append(Problem(file, start, "qid", qid, tr("must be a Wikidata item: Q and digits")))
        elif slug in links and links[slug].qid != qid:
            problems.append(Problem(file, start, "qid", qid,
                                    tr("{slug} has {qid} accepted on line {line} already: accept one "
                                       "item per organisation", slug=slug, qid=links[slug].qid,
                                       line=links[slug].line)))
        else:
            links.setdefault(slug, Link(slug, qid, start))
        start = reader.line_num + 1
    if problems:
        raise InputError(problems)
    return list(links.values())


def accept_proposals(data_dir: Path, proposals: Path, *, today: date | None = None) -> AcceptResult:
    """Write the accepted QIDs of ``proposals`` into ``data_dir``'s organisations.csv.

    Only the rows that change are rewritten: every other line stays as it was, byte for byte.
    Nothing is written when the proposals file has problems or names unknown organisations."""
    organisations_file, sources_file = data_dir / "organisations.csv", data_dir / "sources.csv"
    for needed in (organisations_file, sources_file):
        if not needed.is_file():
            raise UsageError(tr("{path} is missing: accepting writes to a data directory of CSV files",
                                path=needed))
    accepted = read_accepted(proposals)
    table = _Table.read(organisations_file)
    slug_at, wikidata_at, sources_at = (table.column(name) for name in ("slug", "wikidata", "sources"))
    rows = {row.cells[slug_at].strip(): row for row in table.rows}
    unknown = [Problem(str(proposals), link.line, "slug", link.slug,
                       tr("no organisation with this slug in {path}", path=organisations_file))
               for link in accepted if link.slug not in rows]
    if unknown:
        raise InputError(unknown)
    linked, unchanged, conflicts = [], [], []
    for link in accepted:
        row = rows[link.slug]
        current = row.cells[wikidata_at].strip()
        if current == link.qid:
            unchanged.append(link)
        elif current:
            conflicts.append(Conflict(link.slug, current, link.qid, link.line))
        else:
            row.set(wikidata_at, link.qid)
            cited, slug = row.cells[sources_at].strip().rstrip(";"), WIKIDATA_SOURCE["slug"]
            if slug not in (s.strip() for s in cited.split(";")):
                row.set(sources_at, f"{cited};{slug}" if cited else slug)
            linked.append(link)
    source_added = False
    if linked:
        source_added = _add_source(sources_file, today or date.today())
        table.write()
    return AcceptResult(tuple(linked), tuple(unchanged), tuple(conflicts), source_added)


def _add_source(path: Path, today: date) -> bool:
    table = _Table.read(path)
    slug_at = table.column("slug")
    if any(row.cells[slug_at].strip() == WIKIDATA_SOURCE["slug"] for row in table.rows):
        return False
    values = {**WIKIDATA_SOURCE, "date": str(today.year)}
    positions = {name: table.column(name) for name in values}
    cells = [""] * len(table.header.cells)
    for name, value in values.items():
        cells[positions[name]] = value
    table.append(cells)
    table.write()
    return True


# --- editing a CSV file in place ----------------------------------------------------------------


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError([Problem(str(path), line, None, None,
                                  tr("is not UTF-8 (byte {byte:#04x}); save the file as UTF-8",
                                     byte=raw[error.start]))],
                         ) from None


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


@dataclass
class _Row:
    cells: list[str]
    first: int
    """Index of the row's first physical line; a quoted cell may span several."""
    end: int
    changed: bool = False
    added_cells: int = 0

    def set(self, index: int, value: str) -> None:
        self.cells[index] = value
        self.changed = True


@dataclass
class _Table:
    """A CSV file as lines and rows, written back with only the changed rows re-encoded."""

    path: Path
    prefix: str  # a byte-order mark, kept
    lines: list[str]
    header: _Row
    rows: list[_Row]
    new_rows: list[list[str]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> _Table:
        text = _decode(path)  # not read_text(): it would translate line ends
        prefix = "\ufeff" if text.startswith("\ufeff") else ""
        lines = io.StringIO(text[len(prefix):], newline="").readlines()
        reader = csv.reader(lines)
        header = _Row(next(reader, []), 0, reader.line_num)
        rows, previous = [], reader.line_num
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append(_Row(cells, previous, reader.line_num))
            previous = reader.line_num
        return cls(path, prefix, lines, header, rows)

    @property
    def newline(self) -> str:
        return (_ending(self.lines[0]) if self.lines else "") or "\n"

    def column(self, name: str) -> int:
        """The index of column ``name``, added at the end (empty in every row) if it is missing."""
        names = [cell.strip() for cell in self.header.cells]
        if name in names:
            return names.index(name)
        self.header.cells.append(name)
        self.header.changed = True
        for row in self.rows:
            missing = len(self.header.cells) - len(row.cells)
            row.cells.extend([""] * missing)
            row.added_cells += missing
        return len(self.header.cells) - 1

    def append(self, cells: list[str]) -> None:
        self.new_rows.append(cells)

    def text(self) -> str:
        out = list(self.lines)
        for row in (self.header, *self.rows):
            if row.changed:
                out[row.first] = _encode(row.cells, _ending(self.lines[row.end - 1]))
                out[row.first + 1:row.end] = [""] * (row.end - row.first - 1)
            elif row.added_cells:
                last = out[row.end - 1]
                ending = _ending(last)
                out[row.end - 1] = last[:len(last) - len(ending)] + "," * row.added_cells + ending
        if self.new_rows and out and not _ending(out[-1]):
            out[-1] += self.newline
        out.extend(_encode(cells, self.newline) for cells in self.new_rows)
        return self.prefix + "".join(out)

    def write(self) -> None:
        """Replace the file at once: a reader never sees half of it."""
        try:
            write_atomically(self.path, self.text().encode("utf-8"))
        except OSError as error:
            raise UsageError(tr("cannot write {path}: {reason}", path=self.path,
                                reason=error.strerror or error)) from None


def _encode(cells: list[str], ending: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=ending).writerow(cells)
    return buffer.getvalue()
