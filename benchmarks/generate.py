"""Deterministic, realistic input data at any scale, written as the CSV files users write.

Scale 1 is the 16 Länder, about 400 districts and 11,000 municipalities with plausible official
keys and centre points (in their Land, a Kreis's municipalities around it), each located in the
body above it, municipal IT service providers, associations, and
cooperations of every kind with 2 to 40 members each, with roles, topics, people, posts and
sources. As in real registers, most details are dense (a membership's start, a cooperation's
founding date) and some sparse (an end, a homepage, a cooperation that is part of another).
The same scale and seed always give the same files.

    python benchmarks/generate.py --scale 0.1 --out /tmp/data-0.1
    python benchmarks/generate.py --records 10000 --out /tmp/data-10k
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from lod.rdf.inputs import load_rdf_files
from lod.rdf.mapping import triples
from lod.rdf.store import to_oxigraph
from lod.records.model import RECORD_TYPES, columns
from lod.records.sources import read_records

# Share of Germany's ~10,800 municipalities per Land (01 Schleswig-Holstein … 16 Thüringen).
LAND_MUNICIPALITIES = {1: 1106, 2: 1, 3: 941, 4: 2, 5: 396, 6: 421, 7: 2301, 8: 1101, 9: 2056,
                       10: 52, 11: 1, 12: 413, 13: 726, 14: 418, 15: 218, 16: 605}
LAND_NAMES = {1: "Schleswig-Holstein", 2: "Hamburg", 3: "Niedersachsen", 4: "Bremen",
              5: "Nordrhein-Westfalen", 6: "Hessen", 7: "Rheinland-Pfalz", 8: "Baden-Württemberg",
              9: "Bayern", 10: "Saarland", 11: "Berlin", 12: "Brandenburg",
              13: "Mecklenburg-Vorpommern", 14: "Sachsen", 15: "Sachsen-Anhalt", 16: "Thüringen"}
LAND_DISTRICTS = {1: 15, 2: 1, 3: 45, 4: 2, 5: 53, 6: 26, 7: 36, 8: 44, 9: 96, 10: 6, 11: 1,
                  12: 18, 13: 8, 14: 13, 15: 14, 16: 23}
# Where each Land lies, roughly: south, north, west, east in degrees (WGS 84); a box inside its
# borders more or less, so that generated places fall in the right part of Germany.
LAND_BOXES = {1: (53.6, 54.8, 8.7, 11.0), 2: (53.45, 53.65, 9.8, 10.2), 3: (51.6, 53.6, 6.9, 11.2),
              4: (53.05, 53.2, 8.6, 8.95), 5: (50.5, 52.3, 6.1, 9.2), 6: (49.5, 51.6, 8.0, 10.1),
              7: (49.1, 50.8, 6.3, 8.3), 8: (47.7, 49.7, 7.7, 10.3), 9: (47.6, 50.4, 9.3, 13.6),
              10: (49.2, 49.6, 6.5, 7.3), 11: (52.38, 52.63, 13.15, 13.7), 12: (51.5, 53.4, 11.6, 14.6),
              13: (53.2, 54.6, 10.9, 14.2), 14: (50.3, 51.6, 12.0, 14.9), 15: (51.1, 52.9, 10.7, 13.0),
              16: (50.3, 51.5, 10.0, 12.5)}
COOPERATION_KINDS = ("cooperation-contract", "partnership-agreement", "zweckverband",
                     "public-law-agreement", "federal-pilot-programme", "working-group", "association",
                     "network", "informal-agreement")
ROLES = ("partner", "member", "lead", "pilot-municipality", "service-provider", "scientific-partner",
         "funder", "coordinator", "supporter")
TOPICS = ("e-government", "open-source", "digital-sovereignty", "it-services", "it-security",
          "data-protection", "procurement", "regional-development", "knowledge-transfer",
          "administrative-management", "citizen-services", "building-permits", "climate-protection")
POST_ROLES = ("board", "board-chair", "managing-director", "institute-director", "head-of-division",
              "deputy-mayor", "press-officer", "press-contact")
SYLLABLES = ("berg", "dorf", "feld", "hausen", "heim", "stadt", "bach", "burg", "au", "rode", "born",
             "stein", "brück", "wald", "see", "ingen", "hofen", "kirchen", "münster", "furt")
PREFIXES = ("Alt", "Neu", "Ober", "Nieder", "Groß", "Klein", "Bad ", "Sankt ", "Hohen", "Kirch",
            "Wester", "Oster", "Rot", "Weiß", "Lind", "Eich", "Buch", "Hasel", "Mühl", "Sonnen")
FIRST_NAMES = ("Anna", "Jonas", "Maria", "Lukas", "Sophie", "Felix", "Laura", "Paul", "Julia", "Max",
               "Lea", "Tim", "Sarah", "Jan", "Lisa", "David", "Katrin", "Stefan", "Petra", "Uwe")
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
              "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann")


class Generator:
    def __init__(self, scale: float, seed: int) -> None:
        self.scale = scale
        self.random = random.Random(seed)
        self.rows: dict[str, list[dict[str, str]]] = {t.collection: [] for t in RECORD_TYPES}
        self.names: set[str] = set()
        # Coordinates come from a generator of their own: the files are what they were before
        # there were coordinates, plus the two columns.
        self.places = random.Random(f"places-{seed}")

    def add(self, collection: str, **row: object) -> None:
        self.rows[collection].append({k: _cell(v) for k, v in row.items()})

    def name(self) -> str:
        for attempt in itertools.count():
            name = self.random.choice(PREFIXES) + self.random.choice(SYLLABLES)
            if self.random.random() < 0.5:
                name += self.random.choice(SYLLABLES)
            if name not in self.names:
                self.names.add(name)
                return name
            name += f" {self.random.choice(('a. d. Aue', 'im Tal', 'am See', 'Nord', 'Süd'))}"
            if name not in self.names:
                self.names.add(name)
                return name
            if attempt >= 100:  # past scale ~3 the combinations run out: number the name
                name += f" {len(self.names)}"
                if name not in self.names:
                    self.names.add(name)
                    return name
        raise AssertionError("unreachable")

    def point(self, land: int, near: tuple[float, float] | None = None) -> dict[str, str]:
        """A plausible centre point in ``land``: anywhere in it, or scattered around ``near`` (a
        district's centre) as the municipalities of a Kreis are."""
        south, north, west, east = LAND_BOXES[land]
        if near is None:
            latitude, longitude = self.places.uniform(south, north), self.places.uniform(west, east)
        else:
            latitude = min(max(self.places.gauss(near[0], 0.09), south), north)
            longitude = min(max(self.places.gauss(near[1], 0.14), west), east)
        return {"latitude": f"{latitude:.4f}", "longitude": f"{longitude:.4f}"}

    def count(self, full: int) -> int:
        return max(1, round(full * self.scale))

    def date(self, first_year: int, last_year: int) -> str:
        year = self.random.randint(first_year, last_year)
        precision = self.random.random()
        if precision < 0.2:
            return str(year)
        month = self.random.randint(1, 12)
        if precision < 0.4:
            return f"{year}-{month:02d}"
        return f"{year}-{month:02d}-{self.random.randint(1, 28):02d}"

    def generate(self) -> dict[str, list[dict[str, str]]]:
        sources = [f"source-{n}" for n in range(self.count(2000))]
        for slug in sources:
            self.add("sources", slug=slug, kind=self.random.choice(("news-item", "press-release",
                                                                      "online-article", "register")),
                     title=f"Meldung {slug}", language="de", date=self.date(2005, 2024))
        cite = lambda: self.random.sample(sources, k=self.random.choice((1, 1, 2)))  # noqa: E731
        municipalities: list[str] = []
        districts: list[str] = []
        lands: list[str] = []
        for land, total in LAND_MUNICIPALITIES.items():
            land_slug = f"land-{land:02d}"
            lands.append(land_slug)
            south, north, west, east = LAND_BOXES[land]
            self.add("organisations", slug=land_slug, kind="land", name_de=LAND_NAMES[land],
                     ars=f"{land:02d}", latitude=f"{(south + north) / 2:.4f}",
                     longitude=f"{(west + east) / 2:.4f}", sources=cite())
            centres: dict[str, tuple[float, float]] = {}
            for district_number in range(self.count(LAND_DISTRICTS[land]) if total > 2 else 0):
                key = f"{land:02d}{district_number + 1:03d}"
                slug = f"kreis-{key}"
                districts.append(slug)
                centre = self.point(land)
                centres[key] = (float(centre["latitude"]), float(centre["longitude"]))
                self.add("organisations", slug=slug, kind="district", name_de=f"Landkreis {self.name()}",
                         kreisschluessel=key, ars=key, located_in=[land_slug], sources=cite(), **centre)
            for number in range(self.count(total)):
                districts_here = max(1, self.count(LAND_DISTRICTS[land]))
                district = number % districts_here + 1
                # Land, district, then the municipality's number within its district: unique.
                ags = f"{land:02d}{district:03d}{number // districts_here + 1:03d}" if total > 2 \
                    else f"{land:02d}0{number + 1:02d}000"  # a city state: Bremen is 04011000
                slug = f"gemeinde-{ags}-{number}"
                municipalities.append(slug)
                name = self.name()
                # A body lies in every body above it (the shapes ask for all of them).
                above = [f"kreis-{ags[:5]}", land_slug] if total > 2 else [land_slug]
                # Around the centre of its district (which a small scale may not have generated).
                near = centres.get(ags[:5]) or ((south + north) / 2, (west + east) / 2)
                self.add("organisations", slug=slug, kind="municipality", name_de=name, name_en=name,
                         ags=ags[:8], homepage=f"https://www.{slug}.example/", located_in=above,
                         sources=cite(), **self.point(land, near))
        providers = []
        for number in range(self.count(300)):
            slug = f"it-dienstleister-{number}"
            providers.append(slug)
            self.add("organisations", slug=slug, kind="it-service-provider",
                     name_de=f"Kommunale IT {self.name()}", sources=cite())
        associations = []
        for number in range(self.count(100)):
            slug = f"verband-{number}"
            associations.append(slug)
            self.add("organisations", slug=slug, kind="association", name_de=f"Verband {self.name()}",
                     sources=cite())
        parties = municipalities + districts + lands + providers + associations
        for number in range(self.count(24000)):  # about 1.2 million triples at scale 1
            slug = f"kooperation-{number}"
            start_year = self.random.randint(1995, 2022)
            ended = self.random.random() < 0.3
            start = self.date(start_year, start_year)
            end = self.date(start_year + 1, 2025) if ended else ""
            # A tenth are parts of an earlier one (programmes and their projects, to some depth).
            part_of = f"kooperation-{self.random.randrange(number)}" \
                if number and self.random.random() < 0.1 else ""
            homepage = f"https://{slug}.example/" if self.random.random() < 0.4 else ""
            self.add("cooperations", slug=slug, kind=self.random.choice(COOPERATION_KINDS),
                     name_de=f"Kooperation {self.name()}",
                     topics=self.random.sample(TOPICS, k=self.random.randint(1, 3)),
                     start=start, end=end, status="ended" if ended else "active", part_of=part_of,
                     homepage=homepage, sources=cite())
            size = min(40, max(2, int(self.random.paretovariate(1.2)) + 1))
            for member in self.random.sample(parties, k=size):
                # Most members joined on a known date: at the founding, or later while the
                # cooperation lasts; a few of those that joined have left.
                draw = self.random.random()
                joined = "" if draw < 0.05 else start if ended or draw < 0.5 else \
                    self.date(start_year + 1, min(2024, start_year + 3))
                left = self.date(int(joined[:4]) + 1, 2025) \
                    if joined and not ended and self.random.random() < 0.1 else ""
                self.add("memberships", member=member, organisation=slug,
                         roles=[self.random.choice(ROLES)], start=joined, end=left, sources=cite())
        for number in range(self.count(3000)):
            organisation = self.random.choice(parties)
            post = f"post-{number}"
            person = f"person-{number}"
            self.add("people", slug=person,
                     name=f"{self.random.choice(FIRST_NAMES)} {self.random.choice(LAST_NAMES)}",
                     sources=cite())
            self.add("posts", slug=post, organisation=organisation, role=self.random.choice(POST_ROLES),
                     label_de=f"Leitung {number}", sources=cite())
            self.add("tenures", post=post, person=person, as_of=self.date(2010, 2024), sources=cite())
        for number in range(self.count(1500)):
            self.add("statements", slug=f"angabe-{number}", subject=self.random.choice(associations),
                     indicator="member-count", value=self.random.randint(3, 3000),
                     qualifier=self.random.choice(("exactly", "about", "more-than")),
                     as_of=self.date(2010, 2024), sources=cite())
        localities = sorted(self.names)  # sorted: a set's order depends on the hash seed
        for number in range(self.count(1000)):
            self.add("events", slug=f"ereignis-{number}", kind=self.random.choice(("signing", "meeting")),
                     name_de=f"Treffen {number}", date=self.date(2010, 2024),
                     locality=self.random.choice(localities), about=[f"kooperation-{number}"],
                     sources=cite())
        return self.rows


def _cell(value: object) -> str:
    if isinstance(value, list | tuple):
        return ";".join(map(str, value))
    return str(value)


def write(rows: dict[str, list[dict[str, str]]], directory: Path) -> int:
    """Write one CSV file per record type; returns the number of records."""
    directory.mkdir(parents=True, exist_ok=True)
    by_collection = {t.collection: t for t in RECORD_TYPES}
    for collection, items in rows.items():
        header = list(columns(by_collection[collection]))
        with (directory / f"{collection}.csv").open("w", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(items)
    return sum(len(items) for items in rows.values())


def records_at(scale: float, seed: int = 1) -> int:
    return sum(len(items) for items in Generator(scale, seed).generate().values())


def scale_for(records: int, seed: int = 1) -> float:
    """The scale whose output has about ``records`` records (the count grows linearly)."""
    return records / records_at(1.0, seed)


def store_of(data: Path) -> ox.Store:
    """The records in ``data`` mapped into a store in memory as a build maps them, then the
    vocabulary (for what measures or tests the queries without a release)."""
    store = ox.Store()
    store.bulk_extend(ox.Quad(*(to_oxigraph(term) for term in triple), ox.DefaultGraph())
                      for triple in triples(read_records(data)))
    load_rdf_files(store, sorted((Path(__file__).resolve().parent.parent / "ontology").glob("*.ttl")))
    return store


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", type=float)
    size.add_argument("--records", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args(list(argv) if argv is not None else None)
    scale = arguments.scale if arguments.scale is not None else scale_for(arguments.records, arguments.seed)
    count = write(Generator(scale, arguments.seed).generate(), arguments.out)
    print(f"wrote {count} records (scale {scale:.4g}) to {arguments.out}")


if __name__ == "__main__":
    main()
