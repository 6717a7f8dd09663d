"""What ``lod`` says to people, in their language: English or German.

Every message is written in English where it is said, as ``tr("unknown column {column}",
column=name)``; ``lod/locale/de.po`` holds the German of each, in gettext's format so that
translators' tools (Poedit, Weblate) can edit it, and a test checks that it is complete. The
language belongs to the context: the command line takes it from ``--lang`` or the locale, the
library speaks English unless asked otherwise::

    >>> with speaking("de"):
    ...     tr("nothing was published")
    'es wurde nichts veröffentlicht'
    >>> tr("nothing was published")
    'nothing was published'

Values are put in after translation (``str.format``), so a translation may reorder them.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("en", "de")
"""English is the language the code is written in; German is translated in ``locale/de.po``."""

CATALOGUES = Path(__file__).resolve().parent / "locale"

_language: ContextVar[str] = ContextVar("lod_language", default="en")


def language() -> str:
    """The language messages are said in now."""
    return _language.get()


def use_language(code: str) -> None:
    """Say messages in ``code`` (``en`` or ``de``) from now on, in this context."""
    _language.set(_checked(code))


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Say messages in ``code`` within the block."""
    token = _language.set(_checked(code))
    try:
        yield
    finally:
        _language.reset(token)


def _checked(code: str) -> str:
    if code not in LANGUAGES:
        raise ValueError(f"language {code!r}: lod speaks {' and '.join(LANGUAGES)}")
    return code


def language_of_locale(environ: Mapping[str, str]) -> str:
    """The language the locale asks for, read as gettext reads it: the first of LANGUAGE, LC_ALL,
    LC_MESSAGES and LANG that is set (LANGUAGE may list several, ``fr:de``); English where none
    names a language lod speaks.

    >>> language_of_locale({"LANG": "de_DE.UTF-8"}), language_of_locale({"LANG": "C.UTF-8"})
    ('de', 'en')
    """
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        if value := environ.get(name):
            for wanted in value.split(":"):
                code = wanted.split("_")[0].split(".")[0].lower()
                if code in LANGUAGES:
                    return code
            return "en"
    return "en"


def tr(text: str, /, **values: object) -> str:
    """``text`` in the current language, with ``values`` put into its ``{placeholders}``."""
    translated = _translations(language()).gettext(text)
    return translated.format(**values) if values else translated


def tr_n(singular: str, plural: str, count: int, /, **values: object) -> str:
    """The singular or plural of a message about ``count`` things (``{count}`` in it), as the
    current language forms it."""
    return _translations(language()).ngettext(singular, plural, count).format(count=count, **values)


def number(value: int, language: str | None = None) -> str:
    """A whole number as people write it in ``language`` (by default the current one):
    ``80.000.000`` in German, ``80,000,000`` in English.

    >>> number(80000000, "de"), number(1482113, "en")
    ('80.000.000', '1,482,113')
    """
    text = f"{value:,}"
    return text.replace(",", ".") if (language or _language.get()) == "de" else text


@cache
def _translations(code: str) -> gettext.NullTranslations:
    """The catalogue of ``code``, compiled in memory (no generated file to keep in step)."""
    path = CATALOGUES / f"{code}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=code)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
