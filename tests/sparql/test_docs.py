"""The examples in the docstrings of lod.sparql run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["lod.sparql", "lod.sparql.iri", "lod.sparql.parser", "lod.sparql.serialize",
                                  "lod.sparql.syntax"])
def test_docstring_examples(name: str) -> None:
    failures, tried = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert tried and not failures
