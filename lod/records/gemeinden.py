"""Importing the Gemeindeverzeichnis: every Land, Regierungsbezirk, Kreis, Gemeindeverband and
Gemeinde of a GV100AD file as organisation records, with their area and population as dated
statements and the directory as their source.

The records go to a folder of their own in the data directory, ``gemeindeverzeichnis/``
(``sources.csv``, ``organisations.csv``, ``statements.csv``), read with the rest as one dataset;
the files people type stay as they typed them. A re-import merges the new directory into what an
earlier one wrote: slugs follow the keys and never change, a body the new directory no longer
lists stays, marked ``dissolved`` and citing that directory, and figures of earlier dates stay.
Importing the same file twice changes nothing.

A key that an organisation typed by hand already has (``ags``, ``kreisschluessel``, ``ars``)
belongs to that record: the import writes no second record for it, refers to the typed one from
its statements and from the bodies that lie in it, and reports where the typed row differs from
the directory. ``data/README.md`` states the rule.

>>> report = import_gemeinden("GV100AD_31122024.txt", into="data")   # doctest: +SKIP
>>> print("\\n".join(report.lines()))                                 # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from lod.errors import UsageError
from lod.files import write_atomically
from lod.messages import number, tr
from lod.records.gv100ad import Directory, Entry, RecordType, read_directory
from lod.records.model import Organisation, PartialDate, Record, Source, Statement
from lod.records.sources import format_csv, read_collection

__all__ = ["FOLDER", "Change", "Identity", "ImportPlan", "ImportReport", "identities", "import_gemeinden",
           "plan_import"]

FOLDER = "gemeindeverzeichnis"
"""The folder of the data directory the import writes to."""

DESTATIS = "Statistisches Bundesamt (Destatis)"
DESTATIS_URL = "https://www.destatis.de/DE/Themen/Laender-Regionen/Regionales/Gemeindeverzeichnis/_inhalt.html"

LEVELS = {1: "land", 2: "regierungsbezirk", 3: "kreis", 4: "gemeindeverband", 5: "gemeinde"}
"""The levels of the directory, by the word that starts the slugs of their records."""

_OWNED = ("kind", "name_de", "alt_names", "ags", "kreisschluessel", "ars", "located_in",
          "postal_code", "status", "sources")
"""Columns the import writes; any other column of its rows (a ``wikidata`` link, say) is kept."""

_VERBANDSFREIE = "records of verbandsfreie Gemeinden (Satzart 50, Textkennzeichen 50)"
"""The key of :attr:`ImportReport.skipped` for Satzart 50 records that are no Gemeindeverband."""

_STATEMENT_SLUG = re.compile(r"(land|regierungsbezirk|kreis|gemeindeverband|gemeinde)-(\d+)-")


@dataclass(frozen=True, slots=True, order=True)
class Identity:
    """What a record stands for in the directory: its level (1 Land … 5 Gemeinde) and key there
    (the ARS of a Land, Regierungsbezirk or Gemeindeverband, the Kreisschlüssel, the AGS)."""

    level: int
    key: str

    @property
    def slug(self) -> str:
        """The slug a record gets when nobody typed it before: ``gemeinde-05754008``."""
        return f"{LEVELS[self.level]}-{self.key}"


def identities(o: Organisation) -> list[Identity]:
    """Every identity an organisation's keys give it, the most specific first."""
    found = []
    if o.ags:
        found.append(Identity(5, o.ags))
    if o.ars and len(o.ars) == 12:
        found.append(Identity(5, o.ars[:5] + o.ars[9:]))
    if o.ars and len(o.ars) in (2, 3, 9):
        found.append(Identity({2: 1, 3: 2, 9: 4}[len(o.ars)], o.ars))
    if o.kreisschluessel:
        found.append(Identity(3, o.kreisschluessel))
    if o.ars and len(o.ars) == 5:
        found.append(Identity(3, o.ars))
    return list(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class _Body:
    """A territorial body as the directory lists it."""

    identity: Identity
    aliases: tuple[Identity, ...]  # a kreisfreie Stadt is also its Kreis
    kind: str
    name: str
    line: int
    within: tuple[Identity, ...]  # innermost first
    ags: str | None = None
    kreisschluessel: str | None = None
    ars: str | None = None
    postal_code: str | None = None
    area_ha: int | None = None
    population: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One change a re-import found: ``what`` is new, renamed, merged, rekeyed, gone, reappeared,
    changed, adopted or conflict."""

    what: str
    slug: str
    identity: Identity
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.slug} ({LEVELS[self.identity.level]} {self.identity.key})"
        return f"{_change_label(self.what)}: {where}" + (f": {self.detail}" if self.detail else "")


def _change_label(what: str) -> str:
    """The word for a kind of :class:`Change` (its ``what``), in the current language."""
    labels = {"conflict": tr("conflict"), "adopted": tr("adopted"), "new": tr("new"),
              "renamed": tr("renamed"), "rekeyed": tr("rekeyed"), "merged": tr("merged"), "gone": tr("gone"),
              "reappeared": tr("reappeared"), "changed": tr("changed")}
    return labels.get(what, what)


def _skipped_label(what: str) -> str:
    """The words for a kind of :attr:`ImportReport.skipped` records, in the current language."""
    if what == _VERBANDSFREIE:
        return tr("records of verbandsfreie Gemeinden (Satzart 50, Textkennzeichen 50)")
    return what  # German terms of the directory


@dataclass
class ImportReport:
    """What an import found and did."""

    file: str
    as_of: date
    source: str
    counts: dict[str, int]
    skipped: dict[str, int]
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    written: list[Path] = field(default_factory=list)

    def of(self, what: str) -> list[Change]:
        return [c for c in self.changes if c.what == what]

    def lines(self, *, limit: int = 20) -> Iterator[str]:
        """The report for a person, at most ``limit`` lines of each kind of change."""
        yield tr("{file}: Gebietsstand {as_of:%Y-%m-%d} (source {source}): {counts}", file=self.file,
                 as_of=self.as_of, source=self.source,
                 counts=", ".join(f"{number(n)} {what}" for what, n in self.counts.items()))
        if any(self.skipped.values()):
            yield tr("not organisations, not imported: {skipped}", skipped=", ".join(
                f"{number(n)} {_skipped_label(what)}" for what, n in self.skipped.items() if n))
        for what in ("conflict", "adopted", "new", "renamed", "rekeyed", "merged", "gone", "reappeared",
                     "changed"):
            found = self.of(what)
            if not found:
                continue
            yield f"{_change_label(what)}: {number(len(found))}"
            for change in found[:limit]:
                yield f"  {change}"
            if len(found) > limit:
                yield "  " + tr("… and {number} more", number=number(len(found) - limit))
        yield tr("unchanged: {number}", number=number(self.unchanged))
        if self.written:
            yield tr("wrote {files}", files=", ".join(str(p) for p in self.written))
        else:
            yield tr("no file changed")


@dataclass(frozen=True)
class ImportPlan:
    """The records the import folder will hold, and the report."""

    sources: tuple[Source, ...]
    organisations: tuple[Organisation, ...]
    statements: tuple[Statement, ...]
    report: ImportReport


def import_gemeinden(file: str | Path, *, into: str | Path = "data", encoding: str = "utf-8",
                     ) -> ImportReport:
    """Import a GV100AD file into the data directory ``into`` and report what changed.

    Only files whose content changes are written, each at once (a reader never sees half)."""
    into = Path(into)
    if not into.is_dir():
        raise UsageError(tr("{path}: not a data directory", path=into))
    directory = read_directory(file, encoding=encoding)
    folder = into / FOLDER
    plan = plan_import(
        directory,
        typed=read_collection(into / "organisations.csv", Organisation),  # type: ignore[arg-type]
        sources=read_collection(folder / "sources.csv", Source),  # type: ignore[arg-type]
        organisations=read_collection(folder / "organisations.csv", Organisation),  # type: ignore[arg-type]
        statements=read_collection(folder / "statements.csv", Statement),  # type: ignore[arg-type]
    )
    # Sources first and statements last: each file refers only to what is written before it.
    for record_type, records in ((Source, plan.sources), (Organisation, plan.organisations),
                                 (Statement, plan.statements)):
        path = folder / f"{record_type.collection}.csv"
        text = format_csv(record_type, records)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_atomically(path, text.encode("utf-8"))
            plan.report.written.append(path)
    return plan.report


def plan_import(directory: Directory, *, typed: Iterable[Organisation] = (),
                sources: Iterable[Source] = (), organisations: Iterable[Organisation] = (),
                statements: Iterable[Statement] = ()) -> ImportPlan:
    """Merge ``directory`` into the records an earlier import wrote (``sources``,
    ``organisations``, ``statements``), beside the organisations people ``typed``."""
    source = _source(directory)
    earlier = {s.slug: s for s in sources}
    newest = max((s for s in earlier.values() if s.as_of), key=lambda s: s.as_of.earliest, default=None)  # type: ignore[union-attr]
    if newest and newest.as_of and directory.as_of < newest.as_of.earliest:
        raise UsageError(tr("{file}: its Gebietsstand {as_of} is older than that of the directory imported "
                            "before ({source}); import directories oldest first",
                            file=directory.file, as_of=directory.as_of, source=newest.slug))
    bodies, counts, skipped = _bodies(directory)
    listed = {b.identity: b for b in bodies}
    for body in bodies:
        for alias in body.aliases:
            listed.setdefault(alias, body)
    imported: dict[Identity, Organisation] = {}
    for o in organisations:
        for identity in identities(o):
            imported.setdefault(identity, o)
    by_hand: dict[Identity, Organisation] = {}
    for o in typed:
        for identity in identities(o):
            by_hand.setdefault(identity, o)

    report = ImportReport(directory.file, directory.as_of, source.slug, counts, skipped)
    slugs: dict[Identity, str] = {}
    adopted: dict[Identity, Organisation] = {}
    for body in bodies:
        own = next((imported[i] for i in (body.identity, *body.aliases) if i in imported), None)
        hand = next((by_hand[i] for i in (body.identity, *body.aliases) if i in by_hand), None)
        if own and hand and own.slug != hand.slug:
            report.changes.append(Change("conflict", own.slug, body.identity, tr(
                "also typed by hand as {slug}{location}; the imported record stays: "
                "remove the key from the typed row, or the row", slug=hand.slug, location=_at(hand))))
        slug = own.slug if own else hand.slug if hand else body.identity.slug
        for identity in (body.identity, *body.aliases):
            slugs[identity] = slug
        if hand and not own:
            adopted[body.identity] = hand

    area_before = _latest(statements, "area-ha")
    result: dict[str, Organisation] = {}
    new_statements: dict[str, Statement] = {s.slug: s for s in statements}
    for body in bodies:
        slug = slugs[body.identity]
        for indicator, value in (("area-ha", body.area_ha), ("population", body.population)):
            if value is not None:
                name = f"{body.identity.slug}-{indicator}-{directory.as_of:%Y-%m-%d}"
                new_statements[name] = Statement(
                    slug=name, subject=slug, indicator=indicator, value=Decimal(value),
                    as_of=PartialDate(directory.as_of.year, directory.as_of.month, directory.as_of.day),
                    sources=(source.slug,))
        if body.identity in adopted:
            hand = adopted[body.identity]
            report.changes.append(Change("adopted", hand.slug, body.identity,
                                         _differences(hand, body, slugs)))
            continue
        previous = next((imported[i] for i in (body.identity, *body.aliases) if i in imported), None)
        record = _record(body, slug, slugs, source.slug, previous, earlier)
        result[slug] = record
        changes = list(_compared(previous, record, body))
        report.changes.extend(changes)
        if not changes:
            report.unchanged += 1  # its values are the same; only the directory it cites may be newer

    gone = [o for o in organisations if o.slug not in result]
    fresh_area = {slugs[b.identity]: b.area_ha for b in bodies if b.area_ha is not None}
    new_slugs = {c.slug for c in report.changes if c.what == "new"}
    for o in gone:
        identity = identities(o)[0] if identities(o) else Identity(5, o.slug)
        if o.status == "dissolved":
            result[o.slug] = o
            report.unchanged += 1
            continue
        result[o.slug] = _dissolved(o, source.slug)
        what, detail = _successors(o, identity, bodies, slugs, new_slugs, fresh_area, area_before)
        report.changes.append(Change(what, o.slug, identity, detail))
    for identity, hand in sorted(by_hand.items()):
        if identity.level in LEVELS and identity not in listed and identity == identities(hand)[0]:
            report.changes.append(Change("gone", hand.slug, identity, tr(
                "typed by hand{location} and not listed in this directory: mark it yourself "
                "(status dissolved) if it no longer exists", location=_at(hand))))

    # Statements of a record typed by hand that was since removed go back to the imported slug.
    for name, statement in list(new_statements.items()):
        match = _STATEMENT_SLUG.match(name)
        if match and statement.subject not in result and not any(
                o.slug == statement.subject for o in typed):
            level = next(n for n, word in LEVELS.items() if word == match[1])
            identity = Identity(level, match[2])
            new_statements[name] = replace(statement, subject=slugs.get(identity, identity.slug))

    all_sources = {**earlier, source.slug: source}
    return ImportPlan(
        sources=tuple(sorted(all_sources.values(), key=lambda s: (str(s.as_of or s.date), s.slug))),
        organisations=tuple(sorted(result.values(), key=_order)),
        statements=tuple(new_statements[name] for name in sorted(new_statements)),
        report=report,
    )


# --- the directory's bodies -----------------------------------------------------------------------


def _bodies(directory: Directory) -> tuple[list[_Body], dict[str, int], dict[str, int]]:
    entries = directory.entries
    lands = {e.land for e in entries if e.record_type is RecordType.LAND}
    regions = {e.land + e.regierungsbezirk for e in entries if e.record_type is RecordType.REGIERUNGSBEZIRK}
    unincorporated = (65, 66)  # gemeindefreie Gebiete: an area, not a body
    towns_of: dict[str, list[Entry]] = {}
    for e in entries:
        if e.record_type is RecordType.GEMEINDE and e.textkennzeichen not in unincorporated:
            towns_of.setdefault(e.kreisschluessel, []).append(e)
    # A Kreis that is a kreisfreie Stadt (Textkennzeichen 41, 42) is one body with its one Gemeinde.
    cities = {e.kreisschluessel: towns_of[e.kreisschluessel][0] for e in entries
              if e.record_type is RecordType.KREIS and e.textkennzeichen in (41, 42)
              and len(towns_of.get(e.kreisschluessel, ())) == 1}
    associations = {e.ars for e in entries
                    if e.record_type is RecordType.GEMEINDEVERBAND and e.textkennzeichen != 50}

    def above(e: Entry, *, kreis: bool = False, verband: bool = False) -> tuple[Identity, ...]:
        found = []
        if verband and e.kreisschluessel + e.gemeindeverband in associations:
            found.append(Identity(4, e.kreisschluessel + e.gemeindeverband))
        if kreis:
            city = cities.get(e.kreisschluessel)
            found.append(Identity(5, city.ags) if city else Identity(3, e.kreisschluessel))
        if e.land + e.regierungsbezirk in regions:
            found.append(Identity(2, e.land + e.regierungsbezirk))
        if e.land in lands:
            found.append(Identity(1, e.land))
        return tuple(found)

    bodies: list[_Body] = []
    skipped = {"Regionen (Satzart 30)": 0, _VERBANDSFREIE: 0,
               "gemeindefreie Gebiete (Textkennzeichen 65, 66)": 0}
    for e in entries:
        t = e.record_type
        if t is RecordType.LAND:
            bodies.append(_Body(Identity(1, e.land), (), "land", e.name, e.line, (), ars=e.land))
        elif t is RecordType.REGIERUNGSBEZIRK:
            key = e.land + e.regierungsbezirk
            land = (Identity(1, e.land),) if e.land in lands else ()
            bodies.append(_Body(Identity(2, key), (), "government-region", e.name, e.line, land, ars=key))
        elif t is RecordType.REGION:
            skipped["Regionen (Satzart 30)"] += 1
        elif t is RecordType.KREIS and e.kreisschluessel not in cities:
            bodies.append(_Body(Identity(3, e.kreisschluessel), (), "district", e.name, e.line, above(e),
                                kreisschluessel=e.kreisschluessel))
        elif t is RecordType.GEMEINDEVERBAND and e.ars in associations:
            bodies.append(_Body(Identity(4, e.ars), (), "municipal-association", e.name, e.line,
                                above(e, kreis=True), ars=e.ars))
        elif t is RecordType.GEMEINDEVERBAND:
            skipped[_VERBANDSFREIE] += 1
        elif t is RecordType.GEMEINDE and e.textkennzeichen in unincorporated:
            skipped["gemeindefreie Gebiete (Textkennzeichen 65, 66)"] += 1
        elif t is RecordType.GEMEINDE:
            city = cities.get(e.kreisschluessel) is e
            bodies.append(_Body(
                Identity(5, e.ags), (Identity(3, e.kreisschluessel),) if city else (),
                "district-free-city" if city else "municipality", e.name, e.line,
                above(e) if city else above(e, kreis=True, verband=True),
                ags=e.ags, kreisschluessel=e.kreisschluessel if city else None, ars=e.ars,
                postal_code=e.postal_code, area_ha=e.area_ha, population=e.population))
    counts: dict[str, int] = {}
    for label, kind in (("Länder", "land"), ("Regierungsbezirke", "government-region"),
                        ("Kreise", "district"), ("kreisfreie Städte", "district-free-city"),
                        ("Gemeindeverbände", "municipal-association"), ("Gemeinden", "municipality")):
        counts[label] = sum(b.kind == kind for b in bodies)
    return bodies, counts, skipped


def _source(directory: Directory) -> Source:
    stand = directory.as_of
    return Source(
        slug=f"gv100ad-{stand:%Y-%m-%d}", kind="register",
        title=f"Gemeindeverzeichnis GV100AD, Gebietsstand {stand:%d.%m.%Y}", language="de",
        as_of=PartialDate(stand.year, stand.month, stand.day), publisher_name=DESTATIS,
        url=DESTATIS_URL, document=Path(directory.file).name)


# --- records ---------------------------------------------------------------------------------------


def _values(record: Record) -> dict[str, object]:
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name != "origin"}


def _record(body: _Body, slug: str, slugs: Mapping[Identity, str], source: str,
            previous: Organisation | None, earlier: Mapping[str, Source]) -> Organisation:
    kept = {k: v for k, v in _values(previous).items() if k not in _OWNED and k != "slug"} if previous else {}
    former = list(previous.alt_names) if previous else []
    if previous and previous.name_de != body.name and previous.name_de not in former:
        former.append(previous.name_de)
    cited = [source]
    if previous:
        # A directory that gave a former name stays cited; other sources (wikidata…) are kept.
        cited += [s for s in previous.sources if s != source and (s not in earlier or former)]
    return Organisation(
        slug=slug, kind=body.kind, name_de=body.name, alt_names=tuple(former),
        ags=body.ags, kreisschluessel=body.kreisschluessel, ars=body.ars,
        located_in=tuple(slugs.get(i, i.slug) for i in body.within),
        postal_code=body.postal_code, sources=tuple(dict.fromkeys(cited)), **kept)  # type: ignore[arg-type]


def _dissolved(o: Organisation, source: str) -> Organisation:
    return Organisation(**{**_values(o), "status": "dissolved",
                           "sources": tuple(dict.fromkeys((*o.sources, source)))})  # type: ignore[arg-type]


def _compared(previous: Organisation | None, record: Organisation, body: _Body) -> Iterator[Change]:
    if previous is None:
        yield Change("new", record.slug, body.identity, f"{record.name_de!r}, {record.kind}")
        return
    if previous.name_de != record.name_de:
        yield Change("renamed", record.slug, body.identity, f"{previous.name_de!r} → {record.name_de!r}")
    if previous.status == "dissolved":
        yield Change("reappeared", record.slug, body.identity, tr("listed again; no longer dissolved"))
    changed = [name for name in ("kind", "ags", "kreisschluessel", "ars", "located_in", "postal_code")
               if getattr(previous, name) != getattr(record, name)]
    if changed:
        yield Change("changed", record.slug, body.identity, ", ".join(
            f"{name} {_show(getattr(previous, name))} → {_show(getattr(record, name))}" for name in changed))


def _differences(hand: Organisation, body: _Body, slugs: Mapping[Identity, str]) -> str:
    """How a record typed by hand differs from the directory's entry for its key."""
    def differs(column: str, typed: object, listed: object) -> None:
        found.append(tr("{column} {typed}, the directory {listed}", column=column,
                        typed=_show(typed) or tr("(empty)"), listed=_show(listed)))

    found = [tr("typed{location}", location=_at(hand))]
    if hand.name_de != body.name:
        differs("name_de", repr(hand.name_de), repr(body.name))
    if hand.kind != body.kind:
        differs("kind", hand.kind, body.kind)
    within = tuple(slugs.get(i, i.slug) for i in body.within)
    if within and hand.located_in != within:
        differs("located_in", hand.located_in, within)
    for name in ("ags", "kreisschluessel", "ars", "postal_code"):
        value = getattr(body, name)
        if value and getattr(hand, name) != value:
            differs(name, getattr(hand, name) or "", value)
    return "; ".join(found)


def _successors(o: Organisation, identity: Identity, bodies: list[_Body], slugs: Mapping[Identity, str],
                new_slugs: set[str], fresh_area: Mapping[str, int], area_before: Mapping[str, Decimal],
                ) -> tuple[str, str]:
    """Whether a body that is no longer listed was probably re-keyed, merged or is just gone.

    A guess for the person reading the report, never written into the data: the directory states
    no succession. Candidates lie in the same Kreis (a Kreis: the same Land) at the same level,
    and are new or, for a Gemeinde, grew by at least half the area of the one that went."""
    scope = 2 if identity.level <= 3 else 5
    size = area_before.get(o.slug)
    candidates = []
    for body in bodies:
        slug = slugs[body.identity]
        if body.identity.level != identity.level or body.identity.key[:scope] != identity.key[:scope]:
            continue
        grew = (size is not None and slug in fresh_area and slug in area_before
                and fresh_area[slug] - area_before[slug] >= size / 2)
        if slug in new_slugs or grew:
            candidates.append((body, slug))
    same_name = [slug for body, slug in candidates if body.name == o.name_de]
    if same_name:
        return "rekeyed", tr("{name!r} is listed under a new key as {slug}; marked dissolved",
                             name=o.name_de, slug=same_name[0])
    if candidates:
        return "merged", tr("{name!r} probably merged into {candidates}; marked dissolved", name=o.name_de,
                            candidates=", ".join(f"{slug} ({body.name!r})" for body, slug in candidates[:3]))
    return "gone", tr("{name!r} is no longer listed; marked dissolved", name=o.name_de)


def _latest(statements: Iterable[Statement], indicator: str) -> dict[str, Decimal]:
    latest: dict[str, tuple[date, Decimal]] = {}
    for s in statements:
        if s.indicator == indicator and (s.subject not in latest or latest[s.subject][0] < s.as_of.earliest):
            latest[s.subject] = (s.as_of.earliest, s.value)
    return {subject: value for subject, (_, value) in latest.items()}


def _order(o: Organisation) -> tuple[int, str, str]:
    ids = identities(o)
    return (ids[0].level, ids[0].key, o.slug) if ids else (9, "", o.slug)


def _at(record: Record) -> str:
    if record.origin and record.origin.line:
        return f" ({record.origin.file}:{record.origin.line})"
    return ""


def _show(value: object) -> str:
    return ";".join(value) if isinstance(value, tuple) else str(value)
