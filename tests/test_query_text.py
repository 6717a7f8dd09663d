"""The tokens the federation client reads queries by."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lod.remote.query_text import tokens


@pytest.mark.parametrize(("text", "kinds"), [
    ("SELECT * { ?s <http://x/> 'a # b' } # c", ["name", "other", "other", "variable", "iri", "string",
                                                  "other"]),
    ('ASK { ?s ?p """long "quoted" text""" }', ["name", "other", "variable", "variable", "string", "other"]),
    ("PREFIX ex: <http://ex/> SELECT * { ex:SERVICE ?p ?o }",
     ["name", "name", "iri", "name", "other", "other", "name", "variable", "variable", "other"]),
])
def test_tokens(text: str, kinds: list[str]) -> None:
    assert [token.kind for token in tokens(text)] == kinds


@given(st.text())
def test_never_raises(text: str) -> None:
    list(tokens(text + "\\U00110000"))
