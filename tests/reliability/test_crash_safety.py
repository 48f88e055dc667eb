"""Crash safety: SIGKILL `vidsift embed`, `index build` and `train` at random moments, 20 times
each; after every kill a rerun finishes with the same result as an uninterrupted run, and the
catalog database passes SQLite's integrity check. Opt-in (`-m slow`): each trial starts a process.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from vidsift_testdata import moving_gradient

from vidsift.embedder.store import load_store
from vidsift.services.indexes import clear_cache, search_workspace
from vidsift.video.writer import write_video
from vidsift.workspace import Workspace

pytestmark = pytest.mark.slow
TRIALS = 20


def vidsift(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "vidsift", *map(str, args)]


def run(*args: str | Path) -> None:
    subprocess.run(vidsift(*args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)


def kill_after(cmd: list[str], delay: float) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def integrity(ws: Path) -> None:
    if not (ws / "catalog.sqlite").exists():  # killed before it was created
        return
    db = sqlite3.connect(ws / "catalog.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for i in range(12):
        write_video(root / f"c{i % 3}" / f"v{i:02d}.mp4", moving_gradient(30, 32, 48, seed=i), fps=10)
    return root


def test_embed_killed_repeatedly(folder, tmp_path):
    clean = tmp_path / "clean"
    run("embed", folder, "--embedder", "pixels", "-w", clean, "--no-thumbnails")
    want = load_store(Workspace.at(clean).embeddings("pixels"))
    ws = tmp_path / "ws"
    rng = np.random.default_rng(0)
    for _ in range(TRIALS):
        kill_after(vidsift("embed", folder, "--embedder", "pixels", "-w", ws, "--no-thumbnails"), float(rng.uniform(0.5, 4.0)))
        integrity(ws)
    run("embed", folder, "--embedder", "pixels", "-w", ws, "--no-thumbnails")
    got = load_store(Workspace.at(ws).embeddings("pixels"))
    assert got.meta.drop(columns="path").equals(want.meta.drop(columns="path"))
    np.testing.assert_array_equal(got.vectors, want.vectors)


def test_index_build_killed_repeatedly(folder, tmp_path):
    ws = tmp_path / "ws"
    run("embed", folder, "--embedder", "pixels", "-w", ws, "--no-thumbnails")
    clean = tmp_path / "clean"
    run("embed", folder, "--embedder", "pixels", "-w", clean, "--no-thumbnails")
    run("index", "build", "--embedder", "pixels", "-w", clean)
    vid = sorted(p.stem for p in (Workspace.at(clean).embeddings("pixels") / "shards").glob("*.parquet"))[0]
    clear_cache()
    want = search_workspace(Workspace.at(clean), "pixels", video=vid, frame=7, k=15)
    rng = np.random.default_rng(1)
    for _ in range(TRIALS):
        kill_after(vidsift("index", "build", "--embedder", "pixels", "-w", ws), float(rng.uniform(0.5, 3.0)))
    run("index", "build", "--embedder", "pixels", "-w", ws)
    clear_cache()
    got = search_workspace(Workspace.at(ws), "pixels", video=vid, frame=7, k=15)
    strip = lambda hits: [{k: v for k, v in h.items() if k != "path"} for h in hits]  # noqa: E731
    assert strip(got) == strip(want)


def test_train_killed_repeatedly_resumes_to_the_same_weights(folder, tmp_path):
    args = ("siamese", folder, "--preset", "cpu", "--steps", "40", "-p", "backbone=small", "-p", "checkpoint_every=5", "--batch-size", "8", "--workers", "0")
    clean = tmp_path / "clean"
    run("train", *args, "-w", clean)
    ws = tmp_path / "ws"
    rng = np.random.default_rng(2)
    for _ in range(TRIALS):
        ckpt = Workspace(ws).training_run("siamese", "cpu").checkpoint
        extra = ("--resume",) if ckpt.exists() else ()
        kill_after(vidsift("train", *args, *extra, "-w", ws), float(rng.uniform(1.0, 6.0)))
        integrity(ws)
    ckpt = Workspace(ws).training_run("siamese", "cpu").checkpoint
    run("train", *args, *(("--resume",) if ckpt.exists() else ()), "-w", ws)
    a = torch.load(Workspace(clean).training_run("siamese", "cpu").checkpoint, weights_only=True)
    b = torch.load(ckpt, weights_only=True)
    assert a["step"] == b["step"] == 40
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
