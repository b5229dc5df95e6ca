"""Shared fixtures: the packaged catalogue is loaded once per session (it is immutable)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from opendip.catalogue import DEFAULT_DIRECTORY, Catalogue, load_catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged catalogue data, for breaking it on purpose."""
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target
