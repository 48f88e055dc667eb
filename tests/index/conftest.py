"""Fixtures for the index tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidsift.services import indexes as index_workspace
from vidsift.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace in tmp_path, with the in-process index cache cleared."""
    index_workspace.clear_cache()
    return Workspace.at(tmp_path)


@pytest.fixture(autouse=True, scope="session")
def _one_faiss_thread() -> None:
    """Tiny indexes: one OpenMP thread is faster, and much faster on a shared, busy machine."""
    import faiss

    faiss.omp_set_num_threads(1)
