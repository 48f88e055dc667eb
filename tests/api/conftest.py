"""Fixtures for the API's tests: one tiny embedded + indexed workspace per session (two scene
videos, ``pixels``), with a discovery run, and apps over private copies of it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from app_testdata import build_workspace  # noqa: E402


@pytest.fixture(scope="session")
def built_ws(tmp_path_factory) -> Path:
    """The pristine workspace (do not modify: copy it with ``api_ws``)."""
    from vidsift.services.discover import run_discovery

    root = tmp_path_factory.mktemp("api")
    ws = build_workspace(root)
    run_discovery(ws, "pixels", k=3, repeats=1, with_map=False, progress=False)
    return ws.root


@pytest.fixture
def api_ws(built_ws: Path, tmp_path: Path):
    """A private copy of the workspace (the videos stay where the catalog says they are)."""
    from vidsift.services.indexes import clear_cache
    from vidsift.workspace import Workspace

    dst = tmp_path / "ws"
    shutil.copytree(built_ws, dst)
    clear_cache()
    return Workspace.at(dst)


@pytest.fixture
def tokens(api_ws):
    """``{"read": TOKEN, "admin": TOKEN, "store": TokenStore}`` created in the workspace."""
    from vidsift.api.auth import TokenStore, create_token, tokens_path

    path = tokens_path(api_ws)
    read, _ = create_token(path, "read")
    admin, _ = create_token(path, "admin")
    return {"read": read, "admin": admin, "store": TokenStore(path)}


@pytest.fixture
def client(api_ws):
    """A TestClient of the app without tokens (what 127.0.0.1 without tokens serves)."""
    from fastapi.testclient import TestClient

    from vidsift.api.app import create_app

    with TestClient(create_app(api_ws), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def secured(api_ws, tokens):
    """``(TestClient, tokens)`` of the app with tokens required."""
    from fastapi.testclient import TestClient

    from vidsift.api.app import create_app

    with TestClient(create_app(api_ws, tokens=tokens["store"]), raise_server_exceptions=False) as c:
        yield c, tokens
