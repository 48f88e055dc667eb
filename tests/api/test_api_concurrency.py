"""One workspace, several users: twin jobs do the work once, readers never see a half-built
index (the old one or the new one, never an error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from vidsift.locks import job_lock
from vidsift.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def _vidsift(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "vidsift", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _wait_for_line(stream, needle: str, lines: list[str]) -> None:
    for line in stream:
        lines.append(line)
        if needle in line:
            return
    raise AssertionError(f"no {needle!r} in: {''.join(lines)}")


def test_two_concurrent_embeds_do_the_work_once_and_match_one_run(built_ws: Path, tmp_path: Path) -> None:
    from vidsift.embedder.store import load_store

    videos = built_ws.parent / "videos"
    ws = Workspace.at(tmp_path / "ws")
    args = ("embed", "-e", "pixels", str(videos), "-w", str(ws.root), "--workers", "0", "--json")
    with job_lock(ws, "embed-pixels"):  # both runs start while a third holds the store: both must wait
        procs = [_vidsift(*args), _vidsift(*args)]
        for p in procs:
            _wait_for_line(p.stderr, "waiting for the running embed-pixels", [])
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-800:] for o in outs]
    reports = [json.loads(o[0]) for o in outs]
    done = sorted(d for r in reports for d in r["done"])
    catalogued = sorted(str(p) for p in videos.rglob("*.mp4"))
    assert done == catalogued  # every video embedded once, by one of the two
    assert sorted(len(r["done"]) for r in reports) == [0, len(catalogued)]
    idle = next(r for r in reports if not r["done"])
    assert sorted(idle["skipped"]) == catalogued and idle["frames"] == 0
    got, want = load_store(ws.embeddings("pixels")), load_store(Path(built_ws) / "embeddings" / "pixels")
    pd.testing.assert_frame_equal(got.meta, want.meta)
    np.testing.assert_array_equal(got.vectors, want.vectors)


def test_a_build_that_waited_for_an_identical_build_joins_it(api_ws) -> None:
    from vidsift.services.indexes import build_workspace_index

    results: list[dict] = []
    with job_lock(api_ws, "index-pixels"):
        t = threading.Thread(target=lambda: results.append(build_workspace_index(api_ws, "pixels", kind="flat")))
        t.start()
        t.join(0.5)
        assert t.is_alive()  # waiting for us
        from vidsift.services import indexes

        # we are the running twin: build while the other waits
        mine = indexes._build_locked(api_ws, "pixels", "flat", "cosine", "auto", waited=False)
    t.join(60)
    assert results and results[0].get("joined") is True and results[0]["vectors"] == mine["vectors"]
    assert "joined" not in build_workspace_index(api_ws, "pixels", kind="flat")  # nobody to join: builds


def test_a_reader_that_loses_its_generation_to_a_save_reads_the_new_one(api_ws, monkeypatch) -> None:
    from vidsift.index import persist
    from vidsift.index.video_index import VideoIndex

    index_dir = api_ws.indexes("pixels")
    original = persist.read_meta
    calls = {"n": 0}

    def read_meta_then_save(*a, **kw):
        meta = original(*a, **kw)
        calls["n"] += 1
        if calls["n"] == 1:  # between our reading meta.json and opening its files, a save lands
            vi = VideoIndex.load(index_dir, use_gpu=False)
            vi.save(index_dir)
        return meta

    before = original(index_dir)["generation"]
    monkeypatch.setattr(persist, "read_meta", read_meta_then_save)
    index, idmap, meta = persist.load_files(index_dir)
    assert meta["generation"] == before + 1 and index.ntotal == len(idmap) == 32
    assert calls["n"] >= 2


def test_searches_during_index_rebuilds_see_the_old_or_the_new_index(api_ws) -> None:
    from fastapi.testclient import TestClient

    from vidsift.api.app import create_app
    from vidsift.api.auth import Limits
    from vidsift.embedder.store import load_store
    from vidsift.services.indexes import (
        add_to_workspace_index,
        remove_from_workspace_index,
        search_workspace,
    )

    data = load_store(api_ws.embeddings("pixels"))
    ids = sorted(data.meta.video_id.unique())
    keep, drop = ids[0], ids[1]
    row = int(np.flatnonzero(data.meta.video_id.to_numpy() == keep)[3])
    query = {"embedder": "pixels", "vector": data.vectors[row].tolist(), "k": 20}

    def key(hits: list[dict]) -> tuple:
        return tuple((h["video_id"], h["frame"]) for h in hits)

    full = key(search_workspace(api_ws, "pixels", vector=data.vectors[row], k=20))
    remove_from_workspace_index(api_ws, "pixels", drop)
    without = key(search_workspace(api_ws, "pixels", vector=data.vectors[row], k=20))
    add_to_workspace_index(api_ws, "pixels")
    assert full != without and key(search_workspace(api_ws, "pixels", vector=data.vectors[row], k=20)) == full

    stop = threading.Event()
    errors: list[BaseException] = []
    seen: set[tuple] = set()
    rebuilds = {"n": 0}

    def writer() -> None:
        try:
            while not stop.is_set() and rebuilds["n"] < 40:
                remove_from_workspace_index(api_ws, "pixels", drop)
                add_to_workspace_index(api_ws, "pixels")
                rebuilds["n"] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with TestClient(create_app(api_ws, limits=Limits(rate=0)), raise_server_exceptions=False) as client:
        def reader() -> None:
            while not stop.is_set():
                resp = client.post("/search", json=query)
                if resp.status_code != 200:
                    errors.append(AssertionError(resp.text))
                    return
                seen.add(key(resp.json()))

        threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        threads[0].join(120)
        stop.set()
        for t in threads[1:]:
            t.join(30)
    assert not errors, errors[:3]
    assert rebuilds["n"] == 40 and seen and seen <= {full, without}
