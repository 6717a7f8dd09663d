"""``--lang``: the language the command line speaks (`lod.messages`)."""

from __future__ import annotations

import os
from collections.abc import Callable

import click
from click.decorators import FC

from lod.messages import LANGUAGES, language_of_locale, use_language


def _choose_language(_context: click.Context, parameter: click.Parameter, value: str | None) -> None:
    # The group's --lang (or the locale) comes first; a command's own --lang overrides it.
    if value or parameter.name == "lang_of_group":
        use_language(value or language_of_locale(os.environ))


def language_option(name: str = "lang_of_command") -> Callable[[FC], FC]:
    """``--lang``, on the group and on each command: the language of the messages; without it the
    locale's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as gettext reads them). Help texts are English."""
    return click.option("--lang", name, type=click.Choice(LANGUAGES), expose_value=False, is_eager=True,
                        callback=_choose_language, help="Language of the messages (default: the locale's).")
