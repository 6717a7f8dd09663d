"""The sixteen Länder by the first two digits of the official keys (AGS, ARS, Kreisschlüssel)."""

from __future__ import annotations

LAENDER: dict[str, dict[str, str]] = {
    "01": {"de": "Schleswig-Holstein", "en": "Schleswig-Holstein"},
    "02": {"de": "Hamburg", "en": "Hamburg"},
    "03": {"de": "Niedersachsen", "en": "Lower Saxony"},
    "04": {"de": "Bremen", "en": "Bremen"},
    "05": {"de": "Nordrhein-Westfalen", "en": "North Rhine-Westphalia"},
    "06": {"de": "Hessen", "en": "Hesse"},
    "07": {"de": "Rheinland-Pfalz", "en": "Rhineland-Palatinate"},
    "08": {"de": "Baden-Württemberg", "en": "Baden-Württemberg"},
    "09": {"de": "Bayern", "en": "Bavaria"},
    "10": {"de": "Saarland", "en": "Saarland"},
    "11": {"de": "Berlin", "en": "Berlin"},
    "12": {"de": "Brandenburg", "en": "Brandenburg"},
    "13": {"de": "Mecklenburg-Vorpommern", "en": "Mecklenburg-Western Pomerania"},
    "14": {"de": "Sachsen", "en": "Saxony"},
    "15": {"de": "Sachsen-Anhalt", "en": "Saxony-Anhalt"},
    "16": {"de": "Thüringen", "en": "Thuringia"},
}
"""The Länder's names in German and English, by their key (the Statistisches Bundesamt's numbering)."""


def land_of_key(key: str) -> str | None:
    """The Land an official key lies in, or None for a key that names none.

    >>> land_of_key("05754008"), land_of_key("99")
    ('05', None)
    """
    code = key.strip()[:2]
    return code if code in LAENDER else None
