"""A full-size Gemeindeverzeichnis in the exact GV100AD layout, and the measurement of importing,
validating and building it (issue #14 against the build target of issue #4).

The generated file has what Destatis' has, in the same proportions: 16 Länder, 19
Regierungsbezirke, 12 Regionen, about 400 Kreise (107 of them kreisfreie Städte), about 4,900
Gemeindeverband records (3,700 of them of verbandsfreie Gemeinden), about 10,800 Gemeinden and 160
gemeindefreie Gebiete: about 16,000 lines of 220 characters, UTF-8. Names and figures are made up;
the same seed gives the same file. ``--edition 2`` gives the next edition of the same directory:
some bodies renamed, some Gemeinden merged into a neighbour, some new keys.

    python benchmarks/gv100ad.py generate /tmp/GV100AD_31122024.txt
    python benchmarks/gv100ad.py generate /tmp/GV100AD_31122025.txt --edition 2
    python benchmarks/gv100ad.py measure                 # import + validate + build, in a temp dir

``measure`` copies ``data/`` to a temporary directory, then runs ``lod import gemeinden``,
``lod validate`` and ``lod build`` there, each as a process of its own, and prints each one's wall
time and peak memory (the peak resident set of its process tree, sampled from /proc), then imports
the second edition and the first again (nothing may change).
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from generate import LAND_DISTRICTS, LAND_MUNICIPALITIES
from procfs import MemorySampler

ROOT = Path(__file__).resolve().parent.parent

LAND_NAMES = {1: "Schleswig-Holstein", 2: "Hamburg", 3: "Niedersachsen", 4: "Bremen",
              5: "Nordrhein-Westfalen", 6: "Hessen", 7: "Rheinland-Pfalz", 8: "Baden-Württemberg",
              9: "Bayern", 10: "Saarland", 11: "Berlin", 12: "Brandenburg", 13: "Mecklenburg-Vorpommern",
              14: "Sachsen", 15: "Sachsen-Anhalt", 16: "Thüringen"}
GOVERNMENT_REGIONS = {5: "13579", 6: "456", 8: "1234", 9: "1234567"}
KREISFREIE_STAEDTE = {1: 4, 2: 1, 3: 8, 4: 2, 5: 22, 6: 5, 7: 12, 8: 9, 9: 25, 10: 0, 11: 1, 12: 4,
                      13: 2, 14: 3, 15: 3, 16: 6}
# Share of a Land's Gemeinden that belong to a Gemeindeverband (Amt, Samtgemeinde, …), and its
# Textkennzeichen.
ASSOCIATED = {1: (0.93, 51), 3: (0.43, 52), 7: (0.98, 53), 8: (0.83, 56), 9: (0.49, 54), 12: (0.65, 51),
              13: (0.95, 51), 14: (0.4, 54), 15: (0.46, 53), 16: (0.67, 58)}
UNINCORPORATED = {3: 25, 9: 170, 1: 2, 16: 3}  # gemeindefreie Gebiete
FIRST = ("Alt", "Neu", "Ober", "Nieder", "Groß", "Klein", "Hohen", "Wald", "Mühl", "Bad ", "Sankt ",
         "Lüt", "Schön", "Weiß", "Rot", "Birk", "Eich", "Linden", "Tann", "Berg")
SECOND = ("dorf", "hausen", "heim", "feld", "bach", "burg", "stedt", "ingen", "rode", "büttel", "au",
          "brück", "kirchen", "hagen", "weiler", "städt", "wald", "born", "see", "münde")


@dataclass(frozen=True)
class Line:
    """One record, by the fields of the record description (see lod/gv100ad.py)."""

    satzart: int
    land: str
    rb: str = ""
    kreis: str = ""
    gemeinde: str = ""
    verband: str = ""
    name: str = ""
    sitz: str = ""
    textkennzeichen: int | None = None
    area: int | None = None
    population: int | None = None
    male: int | None = None
    plz: str = ""
    several: bool = False

    def text(self, stand: date) -> str:
        """The 220 characters of the line, each field at its columns."""
        cells = [" "] * 220

        def put(first: int, value: str) -> None:
            cells[first - 1:first - 1 + len(value)] = value

        put(1, f"{self.satzart:02d}")
        put(3, f"{stand:%Y%m%d}")
        put(11, self.land)
        put(13, self.rb)
        put(14, self.kreis)
        put(16, self.gemeinde)
        put(19, self.verband)
        put(23, self.name[:50])
        put(73, self.sitz[:50])
        if self.textkennzeichen is not None:
            put(123, f"{self.textkennzeichen:02d}")
        if self.satzart == 60:
            put(129, f"{self.area or 0:011d}")
            put(140, f"{self.population or 0:011d}")
            put(151, f"{self.male or 0:011d}")
            put(166, self.plz)
            put(171, "*****" if self.several else "")
            # Finanzamt, courts, Arbeitsagentur, Bundestagswahlkreis: present, not read.
            kreis = int(self.kreis) % 90 + 10
            districts = f"{int(self.land):02d}{int(self.gemeinde) % 100:02d}1101{kreis:03d}01"
            put(178, districts)
        return "".join(cells)


def _name(rng: random.Random) -> str:
    return rng.choice(FIRST) + rng.choice(SECOND)


def generate(seed: int = 14) -> list[Line]:
    """The lines of a directory, in the order Destatis writes them (each body before its parts)."""
    rng = random.Random(seed)
    lines: list[Line] = []
    for land in range(1, 17):
        code = f"{land:02d}"
        lines.append(Line(10, code, name=LAND_NAMES[land], sitz=f"{_name(rng)}, Landeshauptstadt"))
        regions = GOVERNMENT_REGIONS.get(land, "")
        rb_digits = regions or {3: "1234", 7: "123"}.get(land, "0")
        districts = LAND_DISTRICTS[land]
        cities = KREISFREIE_STAEDTE[land] if districts > 1 else 1
        towns = LAND_MUNICIPALITIES[land] - cities
        rural = districts - cities
        per_district = [towns // rural + (i < towns % rural) for i in range(rural)] if rural else []
        share, kind = ASSOCIATED.get(land, (0.0, 0))
        unincorporated = UNINCORPORATED.get(land, 0)
        kreise = [(rb_digits[i % len(rb_digits)], True, 0) for i in range(cities)]
        kreise += [(rb_digits[i % len(rb_digits)], False, n) for i, n in enumerate(per_district)]
        counters: dict[str, int] = {}
        for rb in rb_digits:
            if regions:
                lines.append(Line(20, code, rb, name=f"Regierungsbezirk {_name(rng)}", sitz=_name(rng)))
            if land == 8:
                for region in range(1, 4):
                    lines.append(Line(30, code, rb, kreis=str(region), name=f"Region {_name(rng)}",
                                      sitz=_name(rng)))
            for rb_of, city, towns_here in kreise:
                if rb_of != rb:
                    continue
                number = counters.get(rb + str(city)) or (1 if city else 51)
                counters[rb + str(city)] = number + 1
                kreis = f"{number:02d}"
                name = _name(rng)
                if city:
                    town = f"{name}, Stadt"
                    lines.append(Line(40, code, rb, kreis, name=town, sitz=town, textkennzeichen=41))
                    lines.append(Line(50, code, rb, kreis, verband="0000", name=town, textkennzeichen=50))
                    population = rng.randint(40_000, 1_500_000)
                    lines.append(Line(60, code, rb, kreis, "000", "0000", town, textkennzeichen=61,
                                      area=rng.randint(3_000, 90_000), population=population,
                                      male=population * 49 // 100, plz=f"{rng.randint(1000, 99999):05d}",
                                      several=True))
                    continue
                lines.append(Line(40, code, rb, kreis, name=name, sitz=f"{name}, Stadt",
                                  textkennzeichen=44 if land != 5 else 43))
                free = unincorporated // max(rural, 1) + (1 if unincorporated and kreis == "51" else 0)
                lines.extend(_towns(rng, code, rb, kreis, towns_here, share, kind, free=free))
    return lines


def _towns(rng: random.Random, land: str, rb: str, kreis: str, count: int, share: float, kind: int,
           free: int) -> list[Line]:
    lines: list[Line] = []
    number, verband = 1, 5001
    left = count
    start_group = share / (7.5 - 6.5 * share)  # a group takes 7.5 Gemeinden on average
    while left > 0:
        if rng.random() < start_group and left >= 3:
            size = min(left, rng.randint(3, 12))
            code = f"{verband:04d}"
            verband += 1
            members = []
            for _ in range(size):
                members.append(_town(rng, land, rb, kreis, f"{number:03d}", code))
                number += 1
            lines.append(Line(50, land, rb, kreis, verband=code, name=f"{_name(rng)}", sitz=members[0].name,
                              textkennzeichen=kind))
            lines.extend(members)
            left -= size
        else:
            gemeinde = f"{number:03d}"
            town = _town(rng, land, rb, kreis, gemeinde, f"0{gemeinde}")
            lines.append(Line(50, land, rb, kreis, verband=f"0{gemeinde}", name=town.name,
                              textkennzeichen=50))
            lines.append(town)
            number += 1
            left -= 1
    for extra in range(free):
        gemeinde = f"{501 + extra:03d}"
        lines.append(Line(50, land, rb, kreis, verband=f"0{gemeinde}", name=f"{_name(rng)} (gemeindefrei)",
                          textkennzeichen=50))
        lines.append(Line(60, land, rb, kreis, gemeinde, f"0{gemeinde}", f"{_name(rng)} (gemeindefrei)",
                          textkennzeichen=66, area=rng.randint(100, 5_000), population=0, male=0))
    return lines


def _town(rng: random.Random, land: str, rb: str, kreis: str, gemeinde: str, verband: str) -> Line:
    town = rng.random() < 0.2
    population = rng.randint(80, 60_000 if town else 8_000)
    return Line(60, land, rb, kreis, gemeinde, verband, _name(rng) + (", Stadt" if town else ""),
                textkennzeichen=63 if town else 64, area=rng.randint(300, 25_000), population=population,
                male=population * 49 // 100, plz=f"{rng.randint(1000, 99999):05d}", several=town)


def next_edition(lines: list[Line], seed: int = 15) -> list[Line]:
    """A year later: 1 % of the Gemeinden renamed, 0.5 % merged into the next one in their Kreis
    (its area grows by theirs), and a new Gemeinde in every tenth Kreis."""
    rng = random.Random(seed)
    out: list[Line] = []
    merged_area = 0
    for line in lines:
        if line.satzart == 60 and line.textkennzeichen in (63, 64):
            roll = rng.random()
            if roll < 0.005:
                merged_area += line.area or 0
                continue  # merged: its key disappears (its Satzart 50 record may stay)
            if merged_area:
                line = replace(line, area=(line.area or 0) + merged_area)
                merged_area = 0
            if roll > 0.99:
                suffix = ", Stadt" if "," in line.name else ""
                line = replace(line, name=line.name.split(",")[0] + "-Neu" + suffix)
        out.append(line)
        if line.satzart == 40 and line.textkennzeichen in (43, 44) and rng.random() < 0.1:
            out.append(Line(50, line.land, line.rb, line.kreis, verband="0999", name="Neugründung",
                            textkennzeichen=50))
            out.append(Line(60, line.land, line.rb, line.kreis, "999", "0999", "Neugründung",
                            textkennzeichen=64,
                            area=1_000, population=500, male=245, plz="12345"))
    return out


def write(path: Path, lines: list[Line], stand: date) -> None:
    path.write_text("".join(line.text(stand) + "\r\n" for line in lines), encoding="utf-8", newline="")


# --- measuring --------------------------------------------------------------------------------------


def run(command: list[str], cwd: Path) -> tuple[float, int, list[str]]:
    """Wall seconds, peak resident memory of the process tree (bytes), and the output's lines."""
    sampler = MemorySampler(interval=0.05)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler.watch("run", lambda: [process.pid])
    sampler.start()
    output, _ = process.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    lines = output.strip().splitlines()
    if process.returncode not in (0,):
        print(output, file=sys.stderr)
        raise SystemExit(f"{' '.join(command)} failed with exit status {process.returncode}")
    return wall, sampler.peaks["run"].rss_hwm, lines


CHANGES = ("adopted", "conflict", "new", "renamed", "rekeyed", "merged", "gone", "reappeared", "changed",
           "unchanged")


def measure() -> None:
    with tempfile.TemporaryDirectory(prefix="gv100ad-") as temporary:
        work = Path(temporary)
        shutil.copytree(ROOT / "data", work / "data")
        first, second = work / "GV100AD_31122024.txt", work / "GV100AD_31122025.txt"
        lines = generate()
        write(first, lines, date(2024, 12, 31))
        write(second, next_edition(lines), date(2025, 12, 31))
        print(f"{first.name}: {len(lines):,} lines, {first.stat().st_size:,} bytes")
        lod = [sys.executable, "-m", "lod"]
        steps = [
            ("import", [*lod, "import", "gemeinden", str(first), "--into", "data"]),
            ("validate", [*lod, "validate", "data"]),
            ("build", [*lod, "build", "data", "--release-dir", "release"]),
            ("import again", [*lod, "import", "gemeinden", str(first), "--into", "data"]),
            ("import next edition", [*lod, "import", "gemeinden", str(second), "--into", "data"]),
            ("validate", [*lod, "validate", "data"]),
        ]
        for name, command in steps:
            wall, peak, lines = run(command, work)
            print(f"{name:20} {wall:7.1f} s  {peak / 2**20:7.0f} MiB peak RSS   {lines[-1] if lines else ''}")
            if command[3:4] == ["import"]:
                counts = [line for line in lines if line.split(":")[0] in CHANGES]
                print(" " * 21 + "; ".join([lines[0].split(": ", 1)[1], *counts]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="write a full-size GV100AD file")
    make.add_argument("out", type=Path)
    make.add_argument("--edition", type=int, default=1, choices=(1, 2))
    make.add_argument("--seed", type=int, default=14)
    commands.add_parser("measure", help="time import, validate and build of a full-size file")
    arguments = parser.parse_args()
    if arguments.command == "generate":
        lines = generate(arguments.seed)
        if arguments.edition == 2:
            lines = next_edition(lines)
        write(arguments.out, lines, date(2023 + arguments.edition, 12, 31))
        print(f"wrote {arguments.out}: {len(lines):,} lines")
    else:
        measure()


if __name__ == "__main__":
    main()
