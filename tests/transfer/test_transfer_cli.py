"""`vidsift evaluate probe|similarity` through the real entry point, on a written store."""

from __future__ import annotations

import json

import numpy as np
import pytest
from transfer_testdata import frames, write_store

from vidsift.errors import BadInputError, WorkspaceError
from vidsift.services.evaluate import probe_workspace, similarity_workspace
from vidsift.workspace import Workspace


def test_probe_cli_json_and_human(tmp_path, cli):
    ws = Workspace.at(tmp_path)
    write_store(ws, *frames(n_classes=3, videos_per_class=4, frames_per_video=3, kind="perfect"))
    r = cli("evaluate", "probe", "--embedder", "pixels", "--shots", "2", "--repeats", "3", "-w", tmp_path, "--json")
    assert r.code == 0, r
    res = json.loads(r.out)
    assert res["evaluation"] == "probe" and res["accuracy"]["logreg"]["video_mean"]["mean"] == 1.0
    r = cli("evaluate", "probe", "--embedder", "pixels", "--shots", "2", "--repeats", "2", "-w", tmp_path)
    assert r.code == 0 and "knn5" in r.out and "chance" in r.out, r
    r = cli("evaluate", "probe", "--embedder", "pixels", "--shots", "4", "-w", tmp_path)
    assert r.code != 0 and "at least 5 videos per class" in r.err, r


def test_similarity_cli_writes_roc_plot(tmp_path, cli):
    ws = Workspace.at(tmp_path)
    write_store(ws, *frames(n_classes=3, videos_per_class=5, frames_per_video=3, kind="perfect"))
    r = cli("evaluate", "similarity", "--embedder", "pixels", "--pairs", "60", "-w", tmp_path, "--json")
    assert r.code == 0, r
    res = json.loads(r.out)
    assert res["auc"] == 1.0 and res["n_pairs"] == 60
    png = ws.plots / "pixels" / "similarity_roc.png"
    assert res["plots"]["similarity_roc"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"
    r = cli("evaluate", "similarity", "--embedder", "pixels", "-w", tmp_path)
    assert r.code == 0 and "ROC AUC 1.000" in r.out, r


def test_workspace_functions_refuse_single_class_and_missing_store(tmp_path):
    ws = Workspace.at(tmp_path)
    X, y, v = frames(n_classes=2, videos_per_class=3, frames_per_video=2)
    with pytest.raises(WorkspaceError, match="vidsift embed"):
        probe_workspace(ws, "pixels")
    write_store(ws, X, np.full(len(y), "same", dtype=object), v)
    with pytest.raises(BadInputError, match="at least two classes"):
        probe_workspace(ws, "pixels", shots=1)
    with pytest.raises(BadInputError, match="at least two classes"):
        similarity_workspace(ws, "pixels")
