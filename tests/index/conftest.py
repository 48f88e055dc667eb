"""Fixtures for the index tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import workspace as index_workspace
from vidsift.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace in tmp_path, with the in-process index cache cleared."""
    index_workspace.clear_cache()
    return Workspace.at(tmp_path)
