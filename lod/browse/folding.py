"""German-aware folding of names, so that ``Gütersloh``, ``gütersloh``, ``Guetersloh`` and
``GUTERSLOH`` find each other, and a sort order as German lists sort (DIN 5007-1: ä as a, ß as ss)."""

from __future__ import annotations

import re
import unicodedata

_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_WORD = re.compile(r"\w+")


def without_marks(text: str) -> str:
    """``text`` casefolded, its diacritics dropped: ``Gütersloh`` → ``gutersloh``, ``Straße`` →
    ``strasse``.

    >>> without_marks("Düren-Süd Straße")
    'duren-sud strasse'
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def transliterated(text: str) -> str:
    """``text`` casefolded, umlauts and ß written out as German does without them: ``Gütersloh`` →
    ``guetersloh``.

    >>> transliterated("Gütersloh, Öhringen")
    'guetersloh, oehringen'
    """
    return without_marks(unicodedata.normalize("NFC", text).casefold().translate(_TRANSLITERATION))


def indexed_text(text: str) -> str:
    """What the search index holds for a name: the name, and those of its words that German writes
    differently without umlauts, written so (the index itself drops diacritics: ``ü`` → ``u``).

    >>> indexed_text("Gütersloh Süd"), indexed_text("Halle (Saale)")
    ('Gütersloh Süd guetersloh sued', 'Halle (Saale)')
    """
    spelled_out = [t for word in _WORD.findall(text) if (t := transliterated(word)) != without_marks(word)]
    return " ".join([text, *spelled_out])


def query_words(query: str) -> list[str]:
    """The words of a search query, transliterated as the index holds them.

    >>> query_words("  Güters KGSt E-Government 05754")
    ['gueters', 'kgst', 'e', 'government', '05754']
    """
    return _WORD.findall(transliterated(query))


def sort_key(text: str) -> str:
    """A key that sorts names as a German list does: case and diacritics ignored.

    >>> sorted(["Zell", "Ärzte", "Aachen", "ahlen"], key=sort_key)
    ['Aachen', 'ahlen', 'Ärzte', 'Zell']
    """
    return without_marks(text)
