"""Resume after SIGKILL (a real `vidsift embed` process), and the CLI commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vidsift.embedder.extract import extract
from vidsift.embedder.store import finished_videos, load_store
from vidsift.workspace import Workspace


def _embed_cmd(folder: Path, ws: Path) -> list[str]:
    return [sys.executable, "-m", "vidsift", "embed", str(folder), "--embedder", "pixels",
            "--batch-size", "8", "-w", str(ws), "--json"]


def test_rerun_after_sigkill_finishes_with_no_duplicate_and_no_missing_frame(many_videos: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shards = ws / "embeddings" / "pixels" / "shards"
    proc = subprocess.Popen(_embed_cmd(many_videos, ws), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=tmp_path)
    deadline = time.monotonic() + 120
    try:
        while not (shards.is_dir() and any(p.suffix == ".parquet" and not p.name.startswith(".") for p in shards.iterdir())):
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no shard appeared"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    partial = finished_videos(shards.parent)
    assert 1 <= len(partial) < 24

    rerun = subprocess.run(_embed_cmd(many_videos, ws), capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert len(report["skipped"]) == len(partial) and len(report["done"]) == 24 - len(partial)

    clean = Workspace.at(tmp_path / "clean")
    extract(clean, many_videos, "pixels", batch_size=8, progress=False)
    resumed = load_store(shards.parent)
    fresh = load_store(clean.embeddings("pixels"))
    assert len(resumed) == 24 * 16
    assert not resumed.meta.duplicated(["video_id", "frame"]).any()
    pd.testing.assert_frame_equal(resumed.meta.drop(columns="path"), fresh.meta.drop(columns="path"))
    np.testing.assert_array_equal(resumed.vectors, fresh.vectors)
    # every frame has its thumbnail, though the first run was killed while writing them
    thumbs = {(p.parent.name, int(p.stem)) for p in (ws / "thumbnails").glob("*/*.jpg")}
    assert thumbs == set(zip(resumed.meta.video_id, resumed.meta.frame, strict=True))


def test_cli_embed_and_embedders(cli, scenes: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    r = cli("embed", scenes, "--embedder", "pixels", "--every", "4", "-w", ws, "--json")
    assert r.code == 0, r
    out = json.loads(r.out)
    assert out["embedder"] == "pixels" and len(out["done"]) == 3 and out["frames"] == 12
    assert [Path(f["path"]).name for f in out["failed"]] == ["broken.mp4"]

    r = cli("embed", scenes, "--embedder", "pixels", "--every", "4", "-w", ws)
    assert r.code == 0 and "0 embedded, 3 already done" in r.out

    r = cli("embedders", "-w", ws, "--json")
    names = {e["name"]: e for e in json.loads(r.out)}
    assert {"pixels", "zca", "random:siamese"} <= set(names) and names["pixels"]["stored"]["videos"] == 3

    r = cli("embed", scenes, "--embedder", "nope", "-w", ws)
    assert r.code == 2 and r.err.startswith("error: unknown embedder 'nope'") and r.err.count("\n") == 1
    r = cli("embed", scenes, "--embedder", "pixels", "--every", "2", "-w", ws)
    assert r.code == 2 and "sampled with --every 4" in r.err
