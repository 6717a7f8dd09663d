"""Shared fixtures: copies of the small fixture dataset that a test may edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/minimal, a small dataset that conforms."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "minimal", target)
    return target


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release built once from the minimal fixture, shared by the tests that only read it."""
    from lod.publish import build_release
    from lod.settings import Settings

    directory = tmp_path_factory.mktemp("release")
    build_release(FIXTURES / "minimal", settings=Settings(release_dir=directory), allow_warnings=True)
    return directory
