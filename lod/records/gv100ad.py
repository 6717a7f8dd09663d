"""Reading Destatis' Gemeindeverzeichnis in its machine-readable form, the fixed-width GV100AD file.

Each line is one record of 220 characters; its first two characters, the Satzart, say what it
describes: 10 a Land, 20 a Regierungsbezirk, 30 a Region (Baden-Württemberg only), 40 a Kreis,
50 a Gemeindeverband, 60 a Gemeinde. Columns are counted in characters, not bytes.

The layout, field by field, is Destatis' record description (the PDF shipped in the ZIP beside
every file), as the MIT-licensed parser ``gv100ad-py`` 0.2.0 (PyPI, ``gv100ad/entities/*.py``)
implements and documents it; the positions were checked against lines of a published directory
(GV100AD_300421, Gebietsstand 30.04.2021, quoted in the tests of the MIT-licensed Rust crate
``gv100ad`` by jgraef, ``src/parser.rs``, and in ``tests/test_gemeinden.py``). Below, each field
is cited as the 1-based, inclusive column range; the EF numbers (Erhebungsfeld) are those
gv100ad-py's docstrings give.

The file is UTF-8: gv100ad-py reads it so ("GV100AD files are UTF-8 encoded"), the Rust crate
counts its columns in UTF-8 characters, and the published lines above decode as UTF-8. For an
older file saved in ISO-8859-1, ``encoding="latin-1"`` (``--encoding latin-1``) reads it.

>>> directory = read_directory("GV100AD_31122024.txt")        # doctest: +SKIP
>>> directory.as_of, len(directory.entries)                    # doctest: +SKIP
(datetime.date(2024, 12, 31), 16081)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from pathlib import Path

from lod.errors import InputError, Problem, UsageError
from lod.messages import tr

__all__ = [
    "FIELDS",
    "LINE_LENGTH",
    "Directory",
    "Entry",
    "Field",
    "RecordType",
    "parse_directory",
    "read_directory",
]

LINE_LENGTH = 220
"""Every record is 220 characters long; trailing spaces may have been cut off."""

MAX_PROBLEMS = 100
"""Reading stops after this many problems: a file in another format would give one per line."""


class RecordType(IntEnum):
    """The Satzart: what a line describes."""

    LAND = 10
    REGIERUNGSBEZIRK = 20
    REGION = 30
    KREIS = 40
    GEMEINDEVERBAND = 50
    GEMEINDE = 60


@dataclass(frozen=True, slots=True, eq=False)
class Field:
    """One field of the record description: its name and its columns (1-based, inclusive)."""

    name: str
    first: int
    last: int

    def cut(self, line: str) -> str:
        return line[self.first - 1:self.last]

    def __str__(self) -> str:
        if self.first == self.last:
            return tr("{field} (column {position})", field=self.name, position=self.first)
        return tr("{field} (columns {first}-{last})", field=self.name, first=self.first, last=self.last)


# Positions of the record description, the same in every record type that has the field.
SATZART = Field("Satzart", 1, 2)  # EF1
GEBIETSSTAND = Field("Gebietsstand", 3, 10)  # EF2, JJJJMMTT
LAND = Field("Land", 11, 12)  # EF3U1, the first part of the Regionalschlüssel (EF3)
REGIERUNGSBEZIRK = Field("Regierungsbezirk", 13, 13)  # EF3U2
REGION = Field("Region", 14, 14)  # EF3U3 of Satzart 30 (one digit after the Regierungsbezirk)
KREIS = Field("Kreis", 14, 15)  # EF3U3 of Satzart 40-60
GEMEINDE = Field("Gemeinde", 16, 18)  # EF3U4 of Satzart 60; Land to Gemeinde is the AGS
GEMEINDEVERBAND = Field("Gemeindeverband", 19, 22)  # EF4 of Satzart 50 and 60
NAME = Field("Name", 23, 72)  # EF5, the Bezeichnung, designation included ("Gütersloh, Stadt")
SITZ = Field("Sitz der Verwaltung", 73, 122)  # EF6 of Satzart 10-50; empty in Satzart 60
TEXTKENNZEICHEN = Field("Textkennzeichen", 123, 124)  # EF7 of Satzart 40-60
# 125-128 are empty.
FLAECHE = Field("Fläche in ha", 129, 139)  # EF8 of Satzart 60, whole hectares, zero-padded
BEVOELKERUNG = Field("Bevölkerung insgesamt", 140, 150)  # EF9 of Satzart 60
MAENNLICH = Field("Bevölkerung männlich", 151, 161)  # EF10 of Satzart 60
# 162-165 are empty.
PLZ = Field("Postleitzahl", 166, 170)  # EF12U1 of Satzart 60, the Verwaltungssitz's if several
PLZ_EINDEUTIG = Field("Postleitzahl eindeutig", 171, 175)  # EF12U2: "*****" when there are several
# 176-177 empty; 178-181 Finanzamtsbezirk (EF14), 182 Oberlandesgericht, 183 Landgericht, 184-185
# Amtsgericht (EF15U1-3), 186-190 Arbeitsagenturbezirk (EF16), 191-196 Bundestagswahlkreise von/bis
# (as jgraef's crate reads them): not read; 197-220 empty.

FIELDS = (SATZART, GEBIETSSTAND, LAND, REGIERUNGSBEZIRK, REGION, KREIS, GEMEINDE, GEMEINDEVERBAND,
          NAME, SITZ, TEXTKENNZEICHEN, FLAECHE, BEVOELKERUNG, MAENNLICH, PLZ, PLZ_EINDEUTIG)
"""Every field read, in column order."""

TEXTKENNZEICHEN_ALLOWED = {
    RecordType.KREIS: {41: "Kreisfreie Stadt", 42: "Stadtkreis", 43: "Kreis", 44: "Landkreis",
                       45: "Regionalverband"},
    RecordType.GEMEINDEVERBAND: {50: "Verbandsfreie Gemeinde", 51: "Amt", 52: "Samtgemeinde",
                                 53: "Verbandsgemeinde", 54: "Verwaltungsgemeinschaft",
                                 55: "Kirchspielslandgemeinde", 56: "Verwaltungsverband",
                                 57: "Verbandsgemeinde als Träger", 58: "Erfüllende Gemeinde"},
    RecordType.GEMEINDE: {60: "Markt", 61: "Kreisfreie Stadt", 62: "Stadtkreis", 63: "Stadt",
                          64: "Kreisangehörige Gemeinde", 65: "Gemeindefreies Gebiet, bewohnt",
                          66: "Gemeindefreies Gebiet, unbewohnt", 67: "Große Kreisstadt"},
}
"""The Textkennzeichen each record type may have, with the record description's meaning."""

_KEY_FIELDS = {
    RecordType.LAND: (LAND,),
    RecordType.REGIERUNGSBEZIRK: (LAND, REGIERUNGSBEZIRK),
    RecordType.REGION: (LAND, REGIERUNGSBEZIRK, REGION),
    RecordType.KREIS: (LAND, REGIERUNGSBEZIRK, KREIS),
    RecordType.GEMEINDEVERBAND: (LAND, REGIERUNGSBEZIRK, KREIS, GEMEINDEVERBAND),
    RecordType.GEMEINDE: (LAND, REGIERUNGSBEZIRK, KREIS, GEMEINDE, GEMEINDEVERBAND),
}
"""The parts of the Regionalschlüssel each record type fills; the others are empty."""

_ALLOWED_TYPES = ", ".join(f"{t.value} ({t.name.title()})" for t in RecordType)
_NUMBER = re.compile(r" *\d+")
_POSTCODE = re.compile(r"\d{5}")


def _key_checks(record_type: RecordType) -> tuple[tuple[Field, re.Pattern[str] | None], ...]:
    """For each key field: the pattern it must match (``None``: it must be empty)."""
    checks: list[tuple[Field, re.Pattern[str] | None]] = []
    for f in (LAND, REGIERUNGSBEZIRK, REGION if record_type is RecordType.REGION else KREIS, GEMEINDE,
              GEMEINDEVERBAND):
        width = f.last - f.first + 1
        if f in _KEY_FIELDS[record_type]:
            checks.append((f, re.compile(r"0[1-9]|1[0-6]" if f is LAND else rf"\d{{{width}}}")))
        else:
            checks.append((f, None))
    return tuple(checks)


def _key_rule(f: Field, pattern: re.Pattern[str] | None, record_type: RecordType) -> str:
    """What a key field of ``record_type`` must be, said when it is not (in the current language)."""
    width = f.last - f.first + 1
    if pattern is None:
        return tr("must be empty in a record of Satzart {record_type}", record_type=record_type.value)
    if f is LAND:
        return tr("must be {digits} digits, 01-16 in a record of Satzart {record_type}", digits=width,
                  record_type=record_type.value)
    return tr("must be {digits} digits in a record of Satzart {record_type}", digits=width,
              record_type=record_type.value)


_CHECKS = {t: _key_checks(t) for t in RecordType}


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the directory. Key parts a record type does not have are empty strings."""

    line: int
    record_type: RecordType
    land: str
    regierungsbezirk: str
    kreis: str
    gemeinde: str
    gemeindeverband: str
    name: str
    sitz: str
    textkennzeichen: int | None
    area_ha: int | None = None
    population: int | None = None
    population_male: int | None = None
    postal_code: str | None = None
    several_postal_codes: bool = False

    @property
    def kreisschluessel(self) -> str:
        return self.land + self.regierungsbezirk + self.kreis

    @property
    def ags(self) -> str:
        """The Amtlicher Gemeindeschlüssel (Satzart 60): Land, Regierungsbezirk, Kreis, Gemeinde."""
        return self.kreisschluessel + self.gemeinde

    @property
    def ars(self) -> str:
        """The Amtlicher Regionalschlüssel at the entry's own level: 2 digits for a Land, 3 for a
        Regierungsbezirk, 5 for a Kreis, 9 for a Gemeindeverband, 12 for a Gemeinde."""
        if self.record_type is RecordType.GEMEINDE:
            return self.kreisschluessel + self.gemeindeverband + self.gemeinde
        return self.kreisschluessel + self.gemeindeverband


@dataclass(frozen=True, slots=True)
class Directory:
    """A whole directory: its Gebietsstand (the date its territorial state refers to) and lines."""

    file: str
    as_of: date
    entries: tuple[Entry, ...]

    def of_type(self, record_type: RecordType) -> Iterator[Entry]:
        return (e for e in self.entries if e.record_type is record_type)


def read_directory(path: str | Path, *, encoding: str = "utf-8") -> Directory:
    """Read and check a GV100AD file. Raises :class:`~lod.errors.InputError` with every problem
    (up to :data:`MAX_PROBLEMS`), each located at its line and columns."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(tr("{path}: no such file", path=path))
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        message = tr("is not {encoding} (byte {byte:#04x}); Destatis publishes GV100AD in UTF-8; a file "
                     "saved in ISO-8859-1 is read with encoding latin-1 (--encoding latin-1)",
                     encoding=encoding, byte=raw[error.start])
        raise InputError([Problem(str(path), line, None, None, message)]) from None
    except LookupError:
        raise UsageError(tr("unknown encoding {encoding!r}; use utf-8 or latin-1",
                            encoding=encoding)) from None
    return parse_directory(text.removeprefix("\ufeff"), file=str(path))


def parse_directory(text: str, *, file: str = "<GV100AD>") -> Directory:
    """Check the lines of a GV100AD file and return its entries (see :func:`read_directory`)."""
    problems: list[Problem] = []
    entries: list[Entry] = []
    as_of: tuple[date, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem(file, number, None, None,
                                    tr("stopped after {limit} problems: is this a GV100AD file?",
                                       limit=MAX_PROBLEMS)))
            break
        if not line.strip():
            continue
        found: list[Problem] = []
        entry, stand = _entry(line, number, file, found)
        if stand and as_of is None:
            as_of = (stand, number)
        elif stand and as_of and stand != as_of[0]:
            found.append(Problem(file, number, str(GEBIETSSTAND), GEBIETSSTAND.cut(line),
                                 tr("differs from the Gebietsstand {as_of:%Y%m%d} of line {line}: "
                                    "one file, one Gebietsstand", as_of=as_of[0], line=as_of[1])))
        problems.extend(found)
        if entry and not found:
            entries.append(entry)
    if as_of is None and not problems:
        problems.append(Problem(file, None, None, None, tr("has no records: expected GV100AD lines")))
    problems.extend(_structure(entries, file))
    if problems:
        raise InputError(problems)
    assert as_of is not None
    return Directory(file, as_of[0], tuple(entries))


def _entry(line: str, number: int, file: str, problems: list[Problem]) -> tuple[Entry | None, date | None]:
    def wrong(f: Field, value: str, message: str) -> None:
        problems.append(Problem(file, number, str(f), value, message))

    if len(line) > LINE_LENGTH:
        beyond = tr("columns {first}-{last}", first=LINE_LENGTH + 1, last=len(line))
        problems.append(Problem(file, number, beyond, line[LINE_LENGTH:][:20],
                                tr("a GV100AD line has {expected} characters, this one {length}",
                                   expected=LINE_LENGTH, length=len(line))))
        return None, None
    line = line.ljust(LINE_LENGTH)
    satzart = line[0:2]  # SATZART
    if not satzart.isdigit() or int(satzart) not in RecordType._value2member_map_:
        wrong(SATZART, satzart, tr("must be one of {allowed}", allowed=_ALLOWED_TYPES))
        return None, None
    record_type = RecordType(int(satzart))
    stand = _date(GEBIETSSTAND.cut(line))
    if stand is None:
        wrong(GEBIETSSTAND, GEBIETSSTAND.cut(line), tr("must be a date JJJJMMTT, e.g. 20241231"))
    parts: dict[Field, str] = {}
    for f, pattern in _CHECKS[record_type]:
        value = f.cut(line)
        if pattern is None:
            if value.strip():
                wrong(f, value, _key_rule(f, pattern, record_type))
        elif pattern.fullmatch(value):
            parts[f] = value
        else:
            wrong(f, value, _key_rule(f, pattern, record_type))
    name = NAME.cut(line).strip()
    if not name:
        wrong(NAME, NAME.cut(line), tr("must be the name, not empty"))
    textkennzeichen = _textkennzeichen(line, record_type, wrong)
    figures: dict[str, object] = {}
    if record_type is RecordType.GEMEINDE:
        for key, f in (("area_ha", FLAECHE), ("population", BEVOELKERUNG), ("population_male", MAENNLICH)):
            value = f.cut(line)
            if _NUMBER.fullmatch(value):
                figures[key] = int(value)
            else:
                wrong(f, value, tr("must be a whole number of up to 11 digits, right-aligned"))
        plz, marker = PLZ.cut(line), PLZ_EINDEUTIG.cut(line)
        if plz.strip() and not _POSTCODE.fullmatch(plz):
            wrong(PLZ, plz, tr("must be a postcode of 5 digits, or empty"))
        if marker.strip() not in ("", "*****"):
            wrong(PLZ_EINDEUTIG, marker,
                  tr("must be '*****' (the municipality has several postcodes) or empty"))
        figures["postal_code"] = plz if plz.strip() else None
        figures["several_postal_codes"] = marker.strip() == "*****"
    if problems or stand is None:
        return None, stand
    return Entry(
        line=number, record_type=record_type, land=parts.get(LAND, ""),
        regierungsbezirk=parts.get(REGIERUNGSBEZIRK, ""),
        kreis=parts.get(KREIS, "") + parts.get(REGION, ""), gemeinde=parts.get(GEMEINDE, ""),
        gemeindeverband=parts.get(GEMEINDEVERBAND, ""), name=name, sitz=SITZ.cut(line).strip(),
        textkennzeichen=textkennzeichen, **figures,  # type: ignore[arg-type]
    ), stand


def _textkennzeichen(line: str, record_type: RecordType, wrong: Callable[[Field, str, str], None],
                     ) -> int | None:
    value = TEXTKENNZEICHEN.cut(line)
    allowed = TEXTKENNZEICHEN_ALLOWED.get(record_type)
    if allowed is None:
        return None  # Satzart 10-30 have none; what stands there is not read
    if value.isdigit() and int(value) in allowed:
        return int(value)
    listing = ", ".join(f"{code} ({meaning})" for code, meaning in allowed.items())
    wrong(TEXTKENNZEICHEN, value, tr("must be one of {allowed} in a record of Satzart {record_type}",
                                     allowed=listing, record_type=record_type.value))
    return None


def _date(text: str) -> date | None:
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _structure(entries: list[Entry], file: str) -> Iterator[Problem]:
    """Each key once; each Gemeindeverband, Kreis and Gemeinde inside a Kreis and Land listed too."""
    seen: dict[tuple[RecordType, str], Entry] = {}
    for entry in entries:
        first = seen.setdefault((entry.record_type, entry.ars), entry)
        if first is not entry:
            yield Problem(file, entry.line, "Regionalschlüssel", entry.ars,
                          tr("is listed twice for Satzart {record_type}: also on line {line}",
                             record_type=entry.record_type.value, line=first.line))
    for entry in entries:
        needed = [(RecordType.LAND, entry.land)]
        if entry.record_type in (RecordType.GEMEINDEVERBAND, RecordType.GEMEINDE):
            needed.append((RecordType.KREIS, entry.kreisschluessel))
        if entry.record_type is RecordType.GEMEINDE:
            needed.append((RecordType.GEMEINDEVERBAND, entry.kreisschluessel + entry.gemeindeverband))
        for record_type, key in needed:
            if (record_type, key) not in seen and entry.record_type is not record_type:
                yield Problem(file, entry.line, "Regionalschlüssel", entry.ars,
                              tr("lies in {level} {key}, which the file does not list "
                                 "(no line of Satzart {record_type} with that key)",
                                 level=record_type.name.title(), key=key, record_type=record_type.value))
