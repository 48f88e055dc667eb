"""Fixtures for the page's tests: one tiny embedded + indexed workspace per session."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from app_testdata import APP, build_workspace  # noqa: E402


@pytest.fixture(scope="session")
def built_ws(tmp_path_factory) -> Path:
    """The pristine workspace (do not modify: copy it with ``app_ws``)."""
    root = tmp_path_factory.mktemp("app")
    return build_workspace(root).root


@pytest.fixture
def app_ws(built_ws: Path, tmp_path: Path):
    """A private copy of the workspace (the videos stay where the catalog says they are)."""
    from vidsift.services.indexes import clear_cache
    from vidsift.workspace import Workspace

    dst = tmp_path / "ws"
    shutil.copytree(built_ws, dst)
    clear_cache()
    # the catalog and index store absolute video paths, which did not move; only the workspace did
    return Workspace.at(dst)


@pytest.fixture
def make_app(monkeypatch):
    """``make_app(ws, page, **state)``: an AppTest of app.py on workspace ``ws``, run once on ``page``
    with ``state`` in its session state."""
    from streamlit.testing.v1 import AppTest

    def make(ws, page: str = "Library", **state):
        monkeypatch.setenv("VIDSIFT_WORKSPACE", str(ws.root))
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.session_state["page"] = page
        for key, value in state.items():  # e.g. s_group="frame": the Search page's single frames
            at.session_state[key] = value
        return at.run()

    return make
