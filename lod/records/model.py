"""Typed records about organisations and their cooperations, and the checks on their values.

Each record field is declared with :func:`column`, which names the kind of value it holds; the
readers in :mod:`lod.records.sources` parse CSV cells and JSON values through that declaration, so a field
is described once. Nothing here knows about files or RDF.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

from lod.errors import Problem
from lod.messages import tr

# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date as precise as its source: ``2014``, ``2016-09`` or ``2014-01-24``."""

    year: int
    month: int | None = None
    day: int | None = None

    _PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = cls._PATTERN.fullmatch(text)
        if not match:
            raise ValueError(tr("must be a date YYYY-MM-DD, YYYY-MM or YYYY"))
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        try:
            date(year, month or 1, day or 1)
        except ValueError as error:
            raise ValueError(tr("is not a calendar date ({reason})", reason=error)) from None
        return cls(year, month, day)

    @property
    def precision(self) -> str:
        """``"year"``, ``"month"`` or ``"day"``."""
        return "day" if self.day else "month" if self.month else "year"

    @property
    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> date:
        if self.day:
            return self.earliest
        if self.month:
            following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1)
        return date(self.year, 12, 31)

    def is_before(self, other: PartialDate) -> bool:
        """Whether this date certainly lies before ``other``, whatever their precision."""
        return self.latest < other.earliest

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
        if self.day:
            text += f"-{self.day:02d}"
        return text


def one_of(names: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``, in the current language."""
    if len(names) < 2:
        return "".join(names)
    return tr("{alternatives} or {last}", alternatives=", ".join(names[:-1]), last=names[-1])


class ValueType:
    """How the text of one cell becomes a value. ``allowed`` tells a person what fits, in the
    current language (the types are made at import, so it is translated when it is read)."""

    kind: type = str
    """What a value of this type is in a record (what :meth:`parse` returns)."""

    @property
    def allowed(self) -> str:
        return tr("text")

    def parse(self, text: str) -> Any:
        return text


class _Pattern(ValueType):
    def __init__(self, pattern: str, allowed: Callable[[], str]) -> None:
        self.pattern = re.compile(pattern)
        self._allowed = allowed

    @property
    def allowed(self) -> str:
        return self._allowed()

    def parse(self, text: str) -> str:
        if not self.pattern.fullmatch(text):
            raise ValueError(tr("must be {allowed}", allowed=self.allowed))
        return text


class Ref(_Pattern):
    """A reference by slug to a record of one of ``targets`` (record type names).

    Where an organisation is allowed, an official key stands for the organisation that has it:
    ``ags:05358008``, ``ars:053580008008`` (or the ARS of a Land, Regierungsbezirk, Kreis or
    Gemeindeverband: 2, 3, 5 or 9 digits), ``kreis:05358``. :func:`resolve_keys` replaces such a
    key by the organisation's slug."""

    def __init__(self, *targets: str) -> None:
        if "organisation" in targets:
            super().__init__(f"{SLUG.pattern.pattern}|{KEY_REFERENCE.pattern}", lambda: tr(
                "the slug of {record_types}, or an organisation's official key: "
                "ags:05358008, ars:053580008008 or kreis:05358", record_types=one_of(targets)))
        else:
            super().__init__(SLUG.pattern.pattern,
                             lambda: tr("the slug of {record_types}", record_types=one_of(targets)))
        self.targets = targets


class ConceptRef(_Pattern):
    """The notation of a concept in the concept scheme ``scheme`` (see ``ontology/``)."""

    def __init__(self, scheme: str) -> None:
        super().__init__(r"[a-z][a-z0-9-]*", lambda: tr("a concept of the scheme {scheme}", scheme=scheme))
        self.scheme = scheme


class _Date(ValueType):
    kind = PartialDate

    @property
    def allowed(self) -> str:
        return tr("a date YYYY-MM-DD, YYYY-MM or YYYY")

    def parse(self, text: str) -> PartialDate:
        return PartialDate.parse(text)


class _Url(ValueType):
    @property
    def allowed(self) -> str:
        return tr("an http or https URL")

    def parse(self, text: str) -> str:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", text):
            raise ValueError(tr("must be {allowed}, e.g. https://www.kgst.de/", allowed=self.allowed))
        return text


class _Number(ValueType):
    kind = Decimal

    @property
    def allowed(self) -> str:
        return tr("a number with '.' as decimal separator, e.g. 2200 or 2.5")

    # Plain decimal notation only: it is also the lexical form of xsd:decimal (and, without a
    # fraction, of xsd:integer, which the mapping types a whole number as).
    _PATTERN = re.compile(r"-?\d+(\.\d+)?")

    def parse(self, text: str) -> Decimal:
        if not self._PATTERN.fullmatch(text):
            raise ValueError(tr("must be {allowed}", allowed=self.allowed))
        return Decimal(text)


class Degrees(ValueType):
    """An angle in decimal degrees of WGS 84 between ``-limit`` and ``limit``: a latitude (90) or a
    longitude (180), as the Gemeindeverzeichnis (GV-ISys) gives a municipality's centre point.

    The same notation as a number (``'.'`` before the fraction); a decimal comma, which German
    spreadsheets and GV-ISys write, or degrees and minutes get a message that says what to write.
    """

    kind = Decimal
    _COMMA = re.compile(r"-?\d+,\d+")
    _SEXAGESIMAL = re.compile("[\u00b0'\u2032\u2033\"]")  # degree, minute and second signs

    def __init__(self, limit: int, example: str) -> None:
        self.limit = limit
        self.example = example

    @property
    def allowed(self) -> str:
        return tr("a decimal number of degrees (WGS 84) from -{limit} to {limit} with '.' as decimal "
                  "separator, e.g. {example}", limit=self.limit, example=self.example)

    def parse(self, text: str) -> Decimal:
        if self._COMMA.fullmatch(text):
            raise ValueError(tr("has a decimal comma: write {corrected}, with a point; must be {allowed}",
                                corrected=text.replace(",", "."), allowed=self.allowed))
        if self._SEXAGESIMAL.search(text):
            raise ValueError(tr("is in degrees, minutes and seconds: convert it to decimal degrees "
                                "(degrees + minutes/60 + seconds/3600); must be {allowed}",
                                allowed=self.allowed))
        if not _Number._PATTERN.fullmatch(text):
            raise ValueError(tr("must be {allowed}", allowed=self.allowed))
        value = Decimal(text)
        outside = self.outside(value)
        if outside:
            raise ValueError(outside)
        return value

    def outside(self, value: Decimal) -> str | None:
        """What is wrong with ``value`` if it lies outside the range, else None."""
        if value.is_finite() and abs(value) <= self.limit:
            return None
        return tr("is out of range: must be {allowed}", allowed=self.allowed)


_LAND = r"(0[1-9]|1[0-6])"
KEY_REFERENCE = re.compile(
    rf"ags:{_LAND}\d{{6}}|kreis:{_LAND}\d{{3}}|ars:{_LAND}(\d|\d{{3}}|\d{{7}}|\d{{10}})?")
"""``ags:05358008``, ``kreis:05358``, ``ars:`` and an ARS of 2, 3, 5, 9 or 12 digits."""

TEXT = ValueType()
SLUG = _Pattern(
    r"[a-z][a-z0-9-]{0,79}",
    lambda: tr("a slug: lower-case letters a-z, digits and '-', starting with a letter, at most 80 "
               "characters"),
)
DATE = _Date()
URL = _Url()
NUMBER = _Number()
LANGUAGE = _Pattern(r"[a-z]{2}", lambda: tr("a two-letter ISO 639-1 language code such as de or en"))
COUNTRY = _Pattern(r"[A-Z]{2}", lambda: tr("a two-letter ISO 3166-1 country code such as DE or AT"))
AGS = _Pattern(_LAND + r"\d{6}",
               lambda: tr("8 digits whose first two (the Land) are 01-16, e.g. 05358008"))
KREISSCHLUESSEL = _Pattern(_LAND + r"\d{3}",
                           lambda: tr("5 digits whose first two (the Land) are 01-16, e.g. 07135"))
ARS = _Pattern(_LAND + r"(\d|\d{3}|\d{7}|\d{10})?",
               lambda: tr("2, 3, 5, 9 or 12 digits whose first two (the Land) are 01-16: the ARS of a "
                          "Land (05), Regierungsbezirk (053), Kreis (05358), Gemeindeverband (053580008) "
                          "or Gemeinde (053580008008)"))
WIKIDATA = _Pattern(r"Q[1-9]\d*", lambda: tr("a Wikidata item: Q and digits, e.g. Q1731"))
LATITUDE = Degrees(90, "51.9065")
LONGITUDE = Degrees(180, "8.3785")


@dataclass(frozen=True, slots=True)
class Column:
    """What a record field holds, read from the CSV column (or JSON key) of the same name."""

    type: ValueType
    required: bool
    many: bool


def column(type: ValueType = TEXT, *, required: bool = False, many: bool = False) -> Any:
    """Declare a record field and the column it is read from."""
    meta = {"column": Column(type, required, many)}
    if required:
        return field(metadata=meta)
    return field(default=() if many else None, metadata=meta)


def columns(record_type: type[Record]) -> dict[str, Column]:
    """The columns of a record type, in declaration order."""
    return {f.name: f.metadata["column"] for f in fields(record_type) if "column" in f.metadata}


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record was read from: a file and, for CSV, the line its row starts on."""

    file: str
    line: int | None = None


@dataclass(frozen=True, kw_only=True)
class Record:
    """Something with a slug, the last part of its IRI."""

    kind_name: ClassVar[str]
    collection: ClassVar[str]
    """The name of its CSV file (without ``.csv``) and of its list in JSON input."""

    slug: str = column(SLUG, required=True)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def own_problems(self) -> Iterator[tuple[str, object, str]]:
        """Problems within this one record, as (column, value, message)."""
        return iter(())


@dataclass(frozen=True, kw_only=True)
class Source(Record):
    """A document that statements are taken from."""

    kind_name = "source"
    collection = "sources"

    kind: str = column(ConceptRef("source-kind"), required=True)
    title: str = column(required=True)
    language: str = column(LANGUAGE, required=True)
    date: PartialDate | None = column(DATE)
    as_of: PartialDate | None = column(DATE)
    """The date the document's content refers to, e.g. a directory's Gebietsstand."""
    publisher: tuple[str, ...] = column(Ref("organisation"), many=True)
    publisher_name: str | None = column()
    author: str | None = column()
    url: str | None = column(URL)
    document: str | None = column()

    def own_problems(self) -> Iterator[tuple[str, object, str]]:
        if not (self.date or self.as_of):
            yield "date", None, tr("date or as_of is required: when was the document published, or (for "
                                   "a register that gives no publication date) which date does it describe?")


@dataclass(frozen=True, kw_only=True)
class Claim(Record):
    """A record whose every statement is taken from at least one source."""

    sources: tuple[str, ...] = column(Ref("source"), required=True, many=True)


TERRITORIAL_LEVELS: dict[str, int] = {
    "land": 1, "government-region": 2, "district": 3, "district-free-city": 3,
    "municipal-association": 4, "municipality": 5,
}
"""The kinds of territorial body, by level (1 the Land, 5 the Gemeinde): an organisation of one
of these kinds may be ``located_in`` those of a lower level."""

ARS_LENGTHS: dict[str, int] = {
    "land": 2, "government-region": 3, "district": 5, "municipal-association": 9,
    "municipality": 12, "district-free-city": 12,
}
"""How many digits the ARS of each territorial kind has: it names the level."""

AGS_KINDS = ("municipality", "district-free-city")
KREISSCHLUESSEL_KINDS = ("district", "district-free-city")


def _order(start: PartialDate | None, end: PartialDate | None, start_name: str, end_name: str,
           ) -> Iterator[tuple[str, object, str]]:
    if start and end and end.is_before(start):
        yield end_name, end, tr("must not be before {other_column} ({other_date})",
                                other_column=start_name, other_date=start)


@dataclass(frozen=True, kw_only=True)
class Organisation(Claim):
    """A municipality, district, authority, association, company or other organisation."""

    kind_name = "organisation"
    collection = "organisations"

    kind: str = column(ConceptRef("organisation-kind"), required=True)
    name_de: str = column(required=True)
    name_en: str | None = column()
    alt_names: tuple[str, ...] = column(many=True)
    ags: str | None = column(AGS)
    kreisschluessel: str | None = column(KREISSCHLUESSEL)
    ars: str | None = column(ARS)
    wikidata: str | None = column(WIKIDATA)
    homepage: str | None = column(URL)
    street: str | None = column()
    postal_code: str | None = column()
    locality: str | None = column()
    country: str | None = column(COUNTRY)
    latitude: Decimal | None = column(LATITUDE)
    longitude: Decimal | None = column(LONGITUDE)
    """Where it lies, in degrees of WGS 84: a municipality's centre point, an office's site.
    Both or neither."""
    parent: str | None = column(Ref("organisation"))
    located_in: tuple[str, ...] = column(Ref("organisation"), many=True)
    """The territorial bodies whose area holds this one's: Gemeindeverband, Kreis,
    Regierungsbezirk, Land."""
    status: str | None = column(ConceptRef("organisation-status"))
    description_de: str | None = column()
    description_en: str | None = column()

    def own_problems(self) -> Iterator[tuple[str, object, str]]:
        if self.ags and self.kind not in AGS_KINDS:
            yield "ags", self.ags, tr("is only for kind {kinds}, not {kind}",
                                      kinds=one_of(AGS_KINDS), kind=self.kind)
        if self.kreisschluessel and self.kind not in KREISSCHLUESSEL_KINDS:
            yield "kreisschluessel", self.kreisschluessel, tr(
                "is only for kind {kinds}, not {kind}", kinds=one_of(KREISSCHLUESSEL_KINDS), kind=self.kind)
        length = ARS_LENGTHS.get(self.kind)
        if self.ars and length and len(self.ars) != length:
            yield "ars", self.ars, tr("the ARS of a {kind} has {expected_digits} digits, not {digits}",
                                      kind=self.kind, expected_digits=length, digits=len(self.ars))
        elif self.ars and not length and len(self.ars) != 12:
            yield "ars", self.ars, tr("an ARS of {digits} digits is only for a territorial kind: {kinds}",
                                      digits=len(self.ars), kinds=", ".join(ARS_LENGTHS))
        if self.ags and self.ars and len(self.ars) == 12 and (
                (self.ars[:5], self.ars[9:]) != (self.ags[:5], self.ags[5:])):
            yield "ars", self.ars, tr(
                "does not agree with ags {ags}: an ARS is the AGS's first 5 digits, "
                "4 digits of the Gemeindeverband, then the AGS's last 3 digits", ags=self.ags)
        if self.kreisschluessel and self.ars and len(self.ars) >= 5 and self.ars[:5] != self.kreisschluessel:
            yield "ars", self.ars, tr("does not agree with kreisschluessel {kreisschluessel}: "
                                      "an ARS begins with the Kreisschlüssel",
                                      kreisschluessel=self.kreisschluessel)
        if self.parent == self.slug:
            yield "parent", self.parent, tr("must not be the organisation itself")
        if self.located_in and self.kind not in TERRITORIAL_LEVELS:
            yield "located_in", self.located_in, tr(
                "is only for territorial kinds ({kinds}), not {kind}",
                kinds=", ".join(TERRITORIAL_LEVELS), kind=self.kind)
        if self.slug in self.located_in:
            yield "located_in", self.slug, tr("must not be the organisation itself")
        yield from _point(self.latitude, self.longitude)


def _point(latitude: Decimal | None, longitude: Decimal | None) -> Iterator[tuple[str, object, str]]:
    """A point has both coordinates or none, each in its range (the range is checked here again
    for a record made in code, whose values were never parsed)."""
    axes = (("latitude", latitude, LATITUDE), ("longitude", longitude, LONGITUDE))
    for (name, value, degrees), (other_name, other, _) in zip(axes, reversed(axes), strict=True):
        if value is None and other is not None:
            yield name, None, tr("is required when {other_column} is given: a point has a latitude and "
                                 "a longitude, or neither", other_column=other_name)
        elif isinstance(value, Decimal) and (outside := degrees.outside(value)):
            yield name, value, outside


@dataclass(frozen=True, kw_only=True)
class Cooperation(Claim):
    """A cooperation between organisations: a contract, a Zweckverband, a pilot programme…"""

    kind_name = "cooperation"
    collection = "cooperations"

    kind: str = column(ConceptRef("cooperation-kind"), required=True)
    name_de: str = column(required=True)
    name_en: str | None = column()
    alt_names: tuple[str, ...] = column(many=True)
    description_de: str | None = column()
    description_en: str | None = column()
    topics: tuple[str, ...] = column(ConceptRef("topic"), many=True)
    start: PartialDate | None = column(DATE)
    end: PartialDate | None = column(DATE)
    status: str | None = column(ConceptRef("cooperation-status"))
    part_of: str | None = column(Ref("cooperation"))
    continues: str | None = column(Ref("cooperation"))
    homepage: str | None = column(URL)

    def own_problems(self) -> Iterator[tuple[str, object, str]]:
        yield from _order(self.start, self.end, "start", "end")
        for name in ("part_of", "continues"):
            if getattr(self, name) == self.slug:
                yield name, self.slug, tr("must not be the cooperation itself")


@dataclass(frozen=True, kw_only=True)
class Membership(Claim):
    """An organisation takes part in a cooperation (or belongs to an organisation)."""

    kind_name = "membership"
    collection = "memberships"
    slug_parts: ClassVar[tuple[str, str]] = ("organisation", "member")

    slug: str = column(SLUG)
    member: str = column(Ref("organisation", "cooperation"), required=True)
    organisation: str = column(Ref("cooperation", "organisation"), required=True)
    roles: tuple[str, ...] = column(ConceptRef("membership-role"), required=True, many=True)
    start: PartialDate | None = column(DATE)
    end: PartialDate | None = column(DATE)

    def __post_init__(self) -> None:
        _derive_slug(self)

    def own_problems(self) -> Iterator[tuple[str, object, str]]:
        yield from _order(self.start, self.end, "start", "end")
        if self.member == self.organisation:
            yield "member", self.member, tr("must differ from organisation")


@dataclass(frozen=True, kw_only=True)
class Person(Claim):
    """A person named in a source, usually as the holder of a post."""

    kind_name = "person"
    collection = "people"

    name: str = column(required=True)
    honorific_prefix: str | None = column()


@dataclass(frozen=True, kw_only=True)
class Post(Claim):
    """A named position in an organisation, e.g. the Vorstand of the KGSt."""

    kind_name = "post"
    collection = "posts"

    organisation: str = column(Ref("organisation", "cooperation"), required=True)
    role: str = column(ConceptRef("post-role"), required=True)
    label_de: str = column(required=True)
    label_en: str | None = column()


@dataclass(frozen=True, kw_only=True)
class Tenure(Claim):
    """A person holds a post: on a date a source names, or from ``start`` until ``end``."""

    kind_name = "tenure"
    collection = "tenures"
    slug_parts: ClassVar[tuple[str, str]] = ("post", "person")

    slug: str = column(SLUG)
    post: str = column(Ref("post"), required=True)
    person: str = column(Ref("person"), required=True)
    as_of: PartialDate | None = column(DATE)
    start: PartialDate | None = column(DATE)
    end: PartialDate | None = column(DATE)

    def __post_init__(self) -> None:
        _derive_slug(self)

    def own_problems(self) -> Iterator[tuple[str, object, str]]:
        if not (self.as_of or self.start):
            yield "as_of", None, tr("as_of or start is required: when did the person hold the post?")
        yield from _order(self.start, self.end, "start", "end")
        yield from _order(self.start, self.as_of, "start", "as_of")
        yield from _order(self.as_of, self.end, "as_of", "end")


@dataclass(frozen=True, kw_only=True)
class Event(Claim):
    """A signing, meeting, final event or founding, with its date and place."""

    kind_name = "event"
    collection = "events"

    kind: str = column(ConceptRef("event-kind"), required=True)
    name_de: str = column(required=True)
    name_en: str | None = column()
    date: PartialDate = column(DATE, required=True)
    end_date: PartialDate | None = column(DATE)
    place: str | None = column()
    locality: str | None = column()
    organisers: tuple[str, ...] = column(Ref("organisation", "cooperation"), many=True)
    participants: tuple[str, ...] = column(Ref("organisation", "cooperation"), many=True)
    people: tuple[str, ...] = column(Ref("person"), many=True)
    about: tuple[str, ...] = column(Ref("cooperation", "organisation"), many=True)
    description_de: str | None = column()

    def own_problems(self) -> Iterator[tuple[str, object, str]]:
        yield from _order(self.date, self.end_date, "date", "end_date")


@dataclass(frozen=True, kw_only=True)
class Statement(Claim):
    """A figure a source states about an organisation as of a date ("over 2,200 members")."""

    kind_name = "statement"
    collection = "statements"

    subject: str = column(Ref("organisation", "cooperation"), required=True)
    indicator: str = column(ConceptRef("indicator"), required=True)
    value: Decimal = column(NUMBER, required=True)
    qualifier: str | None = column(ConceptRef("value-qualifier"))
    as_of: PartialDate = column(DATE, required=True)
    quote: str | None = column()


def _derive_slug(record: Membership | Tenure) -> None:
    if not record.slug:
        first, second = (getattr(record, name) for name in record.slug_parts)
        object.__setattr__(record, "slug", f"{first}--{second}")


RECORD_TYPES: tuple[type[Record], ...] = (
    Source, Organisation, Cooperation, Membership, Person, Post, Tenure, Event, Statement,
)
"""Every record type, referenced ones before those that refer to them."""


# --- the dataset and its cross-record checks ----------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """All records of one publication, by type."""

    sources: tuple[Source, ...] = ()
    organisations: tuple[Organisation, ...] = ()
    cooperations: tuple[Cooperation, ...] = ()
    memberships: tuple[Membership, ...] = ()
    people: tuple[Person, ...] = ()
    posts: tuple[Post, ...] = ()
    tenures: tuple[Tenure, ...] = ()
    events: tuple[Event, ...] = ()
    statements: tuple[Statement, ...] = ()

    def records(self) -> Iterator[Record]:
        for record_type in RECORD_TYPES:
            yield from getattr(self, record_type.collection)

    def __len__(self) -> int:
        return sum(len(getattr(self, t.collection)) for t in RECORD_TYPES)


Schemes = Mapping[str, Collection[str]]
"""The notations of each concept scheme, by scheme name (see :mod:`lod.schemes`)."""


def problem(record: Record, column: str | None, value: object, message: str) -> Problem:
    """A problem located at a record's file and line, or by its slug when it was built in code."""
    if record.origin:
        file, line = record.origin.file, record.origin.line
    else:
        file, line = f"{record.collection}[{record.slug}]", None
    shown = None if value is None else _show(value)
    return Problem(file, line, column, shown, message)


def _show(value: object) -> str:
    return ";".join(map(str, value)) if isinstance(value, tuple) else str(value)


def check_dataset(dataset: Dataset, schemes: Schemes, *,
                  unreadable: Collection[tuple[str, str]] = (),
                  unread_types: Collection[str] = ()) -> list[Problem]:
    """Every problem within and across the records: duplicates, dangling references, unknown
    concepts, and dates that contradict each other. An empty list means the input is sound.

    ``unreadable`` names (type, slug) of records that could not be read for other problems;
    references to them are not reported again. ``unread_types`` are the types whose file could
    not be read at all: references that may point into them are not checked."""
    problems: list[Problem] = []
    # Organisations and cooperations share one slug space so that a reference is never ambiguous.
    space = {"organisation": "party", "cooperation": "party"}
    seen: dict[tuple[str, str], Record] = {}
    for record in dataset.records():
        key = (space.get(record.kind_name, record.kind_name), record.slug)
        if key in seen:
            first = seen[key]
            at = first.origin.file if first.origin else first.collection
            line = f":{first.origin.line}" if first.origin and first.origin.line else ""
            problems.append(problem(record, "slug", record.slug,
                                    tr("duplicate slug; already used by a {record_type} at {place}",
                                       record_type=first.kind_name, place=f"{at}{line}")))
        else:
            seen[key] = record
    for record in dataset.records():
        if record.origin is None:  # made in code: its values were never read through the columns
            problems.extend(_value_problems(record))
    index: dict[tuple[str, str], Record | None] = dict.fromkeys(unreadable)
    index.update(((r.kind_name, r.slug), r) for r in dataset.records())
    keys = KeyIndex(dataset.organisations)
    for record in dataset.records():
        for name, spec in columns(type(record)).items():
            values = getattr(record, name)
            if spec.many and isinstance(values, str):
                continue  # one string where several values belong: _value_problems says so
            for value in values if spec.many else (values,):
                if value is None or (not isinstance(value, str) and isinstance(spec.type, Ref | ConceptRef)):
                    continue
                if isinstance(spec.type, Ref) and set(spec.type.targets) & set(unread_types):
                    continue  # it may point into the file that could not be read
                if isinstance(spec.type, Ref) and KEY_REFERENCE.fullmatch(value):
                    found, missing = keys.find(value)
                    problems.append(problem(record, name, value, missing or tr(
                        "is the key of organisation {slug}: resolve_keys() replaces it by that slug "
                        "before the dataset is checked", slug=found)))
                elif isinstance(spec.type, Ref) and not any((t, value) in index for t in spec.type.targets):
                    problems.append(problem(record, name, value, tr(
                        "refers to no {record_types}", record_types=one_of(spec.type.targets))))
                elif isinstance(spec.type, ConceptRef):
                    known = schemes.get(spec.type.scheme, ())
                    if value not in known:
                        problems.append(problem(record, name, value, tr(
                            "is not in the scheme {scheme}; allowed: {allowed}",
                            scheme=spec.type.scheme, allowed=", ".join(sorted(known)))))
        problems.extend(problem(record, *found) for found in record.own_problems())
    problems.extend(_shared_keys(dataset.organisations))
    for membership in dataset.memberships:
        target = index.get(("cooperation", membership.organisation))
        if isinstance(target, Cooperation):
            problems.extend(_outside(membership, target))
    return problems


def _value_problems(record: Record) -> Iterator[Problem]:
    """What the column types say of a record made in code, as reading a file would have said it:
    a text that does not fit (a slug with a space, an AGS of three digits), a value of the wrong
    kind, one string where several values belong."""
    for name, spec in columns(type(record)).items():
        values = getattr(record, name)
        if spec.many and isinstance(values, str):
            yield problem(record, name, values,
                          tr("must be several values (a tuple of strings), not one string"))
            continue
        for value in values if spec.many else (values,):
            if value is None:
                continue
            if not isinstance(value, spec.type.kind):
                yield problem(record, name, value, tr(
                    "must be a {expected_type}, not a {actual_type}: {allowed}",
                    expected_type=spec.type.kind.__name__, actual_type=type(value).__name__,
                    allowed=spec.type.allowed))
            elif isinstance(value, str):
                try:
                    spec.type.parse(value)
                except ValueError as error:
                    yield problem(record, name, value, str(error))


OFFICIAL_KEYS = ("ags", "kreisschluessel", "ars", "wikidata")


class KeyIndex:
    """The organisations by their official keys, to resolve ``ags:…``, ``ars:…`` and ``kreis:…``."""

    _NAMES: ClassVar[dict[str, str]] = {"ags": "AGS", "kreis": "Kreisschlüssel", "ars": "ARS"}

    def __init__(self, organisations: Iterable[Organisation]) -> None:
        self.slugs: dict[tuple[str, str], str] = {}
        for o in organisations:
            for scheme, key in (("ags", o.ags), ("kreis", o.kreisschluessel), ("ars", o.ars),
                                ("ars", o.kreisschluessel)):
                if key:
                    self.slugs.setdefault((scheme, key), o.slug)

    def find(self, reference: str) -> tuple[str | None, str | None]:
        """The slug the key reference names, or ``None`` and what is wrong."""
        scheme, _, key = reference.partition(":")
        slug = self.slugs.get((scheme, key))
        if slug is None and scheme == "ars" and len(key) == 12:
            # A municipality typed with its AGS only: the ARS is the AGS with the Verband inserted.
            slug = self.slugs.get(("ags", key[:5] + key[9:]))
        if slug is None:
            return None, tr("no organisation has {key_name} {key}", key_name=self._NAMES[scheme], key=key)
        return slug, None


def resolve_keys(dataset: Dataset) -> Dataset:
    """The dataset with each official key in a reference (``ags:05358008``, ``ars:…``,
    ``kreis:05358``) replaced by the slug of the organisation that has it. A key that no
    organisation has stays as it is, and :func:`check_dataset` reports it.

    >>> resolve_keys(dataset).memberships[0].member     # doctest: +SKIP
    'dueren'
    """
    keys = KeyIndex(dataset.organisations)
    resolved: dict[str, tuple[Record, ...]] = {}
    for record_type in RECORD_TYPES:
        names = [name for name, spec in columns(record_type).items()
                 if isinstance(spec.type, Ref) and "organisation" in spec.type.targets]
        records = getattr(dataset, record_type.collection)
        resolved[record_type.collection] = (
            tuple(_resolved(r, names, keys) for r in records) if names else records)
    return Dataset(**resolved)  # type: ignore[arg-type]


def _resolved(record: Record, names: list[str], keys: KeyIndex) -> Record:
    changes: dict[str, object] = {}
    for name in names:
        value = getattr(record, name)
        values = value if isinstance(value, tuple) else (value,)
        if not any(v and KEY_REFERENCE.fullmatch(v) for v in values):
            continue
        found = tuple((keys.find(v)[0] or v) if v and KEY_REFERENCE.fullmatch(v) else v for v in values)
        changes[name] = found if isinstance(value, tuple) else found[0]
    if not changes:
        return record
    parts = getattr(record, "slug_parts", None)
    if parts and record.slug == "--".join(getattr(record, p) for p in parts):
        changes["slug"] = ""  # derived from the references: derive it again from the slugs
    return replace(record, **changes)  # type: ignore[arg-type]


def _shared_keys(organisations: Iterable[Organisation]) -> Iterator[Problem]:
    """An official key names one organisation: a second one with the same key is an error."""
    holders: dict[tuple[str, str], Organisation] = {}
    for organisation in organisations:
        for name in OFFICIAL_KEYS:
            key = getattr(organisation, name)
            if key is None:
                continue
            first = holders.setdefault((name, key), organisation)
            if first is not organisation:
                yield problem(organisation, name, key, tr("is also the {column} of organisation {slug}",
                                                          column=name, slug=first.slug))


def _outside(membership: Membership, cooperation: Cooperation) -> Iterator[Problem]:
    if membership.start and cooperation.start and membership.start.is_before(cooperation.start):
        yield problem(membership, "start", membership.start,
                      tr("lies before the start of cooperation {cooperation} ({start})",
                         cooperation=cooperation.slug, start=cooperation.start))
    if membership.end and cooperation.end and cooperation.end.is_before(membership.end):
        yield problem(membership, "end", membership.end,
                      tr("lies after the end of cooperation {cooperation} ({end})",
                         cooperation=cooperation.slug, end=cooperation.end))
