"""``white:NAME`` derived stores (issue #19 item 4): fitted on NAME's store, searched like any store."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from vidsift.embedder.extract import extract
from vidsift.embedder.registry import embed_image, get_embedder
from vidsift.embedder.store import MANIFEST, finished_videos, load_embeddings, read_manifest
from vidsift.embedder.whitened_store import WHITENING_FILE, whitened_status
from vidsift.embedder.whitening import PCAWhitening
from vidsift.errors import BadInputError, WorkspaceError

NAME = "white:pixels@8"


def _embed(ws, folder, name=NAME):
    return extract(ws, folder, name, workers=0, progress=False, thumbnails=False)


def test_derived_vectors_are_pca_whitening_of_the_base_store(ws, scenes):
    report = _embed(ws, scenes)
    assert report.embedder == NAME and report.derived["refit"] and report.derived["from"] == "pixels@8"
    base = load_embeddings(ws, "pixels@8")
    white = load_embeddings(ws, NAME)
    expected = PCAWhitening().fit_transform(base.vectors)
    assert white.vectors.shape == expected.shape == (len(base), report.dim)
    np.testing.assert_allclose(white.vectors, expected, atol=1e-5)
    assert white.meta.equals(base.meta)  # same rows, same order
    man = read_manifest(ws.embeddings(NAME))
    assert man["kind"] == "whitened" and man["base"]["name"] == "pixels@8" and man["dim"] == report.dim
    assert (ws.embeddings(NAME) / WHITENING_FILE).is_file()
    assert not whitened_status(ws, NAME)["stale"]


def test_rerun_is_a_no_op_and_image_queries_use_the_saved_whitening(ws, scenes):
    _embed(ws, scenes)
    again = _embed(ws, scenes)
    assert not again.derived["refit"] and again.done == [] and len(again.skipped) == 3
    frame = (np.arange(32 * 32 * 3) % 251).astype(np.uint8).reshape(32, 32, 3)
    man = read_manifest(ws.embeddings(NAME))
    w = PCAWhitening.load(ws.embeddings(NAME) / WHITENING_FILE)
    want = w.transform(get_embedder("pixels@8").embed_image(frame)[None])[0]
    np.testing.assert_allclose(embed_image(frame, man, ws), want, atol=1e-6)
    np.testing.assert_allclose(get_embedder(NAME, ws).embed_image(frame), want, atol=1e-6)


def test_search_discover_and_evaluate_work_on_the_derived_store(ws, scenes):
    from vidsift.services.discover import run_discovery
    from vidsift.services.evaluate import evaluate_workspace
    from vidsift.services.indexes import build_workspace_index, search_workspace

    _embed(ws, scenes)
    build_workspace_index(ws, NAME, use_gpu=False)
    vid = sorted(finished_videos(ws.embeddings(NAME)))[0]
    hits = search_workspace(ws, NAME, video=vid, frame=3, k=5)
    assert hits[0]["video_id"] == vid and hits[0]["frame"] == 3 and len(hits) == 5
    from PIL import Image

    img = Image.fromarray((np.arange(32 * 32 * 3) % 199).astype(np.uint8).reshape(32, 32, 3))
    assert len(search_workspace(ws, NAME, image=img, k=4)) == 4
    res = run_discovery(ws, NAME, k=3, repeats=2, with_map=False)
    assert res is not None
    assert evaluate_workspace(ws, NAME, "temporal-pr", repeats=1) is not None


def test_refits_when_the_base_store_changed(ws, scenes, tmp_path):
    two = tmp_path / "two"
    two.mkdir()
    vids = sorted(p for p in scenes.rglob("*.mp4") if p.name != "broken.mp4")
    for p in vids[:2]:
        shutil.copy(p, two / p.name)
    first = _embed(ws, two)
    assert len(first.done) == 2
    old_hash = read_manifest(ws.embeddings(NAME))["checkpoint_hash"]
    extract(ws, scenes, "pixels@8", workers=0, progress=False, thumbnails=False)  # the base grows
    status = whitened_status(ws, NAME)
    assert status["stale"] and "changed since the fit" in status["reason"]
    second = _embed(ws, scenes)
    assert second.derived["refit"] and len(second.done) == 3
    assert read_manifest(ws.embeddings(NAME))["checkpoint_hash"] != old_hash
    base = load_embeddings(ws, "pixels@8")
    np.testing.assert_allclose(load_embeddings(ws, NAME).vectors, PCAWhitening().fit_transform(base.vectors), atol=1e-5)


def test_an_index_on_an_old_whitening_is_refused_after_a_refit(ws, scenes, tmp_path):
    from vidsift.services.indexes import build_workspace_index, clear_cache, load_workspace_index

    two = tmp_path / "two"
    two.mkdir()
    for p in sorted(p for p in scenes.rglob("*.mp4") if p.name != "broken.mp4")[:2]:
        shutil.copy(p, two / p.name)
    _embed(ws, two)
    build_workspace_index(ws, NAME, use_gpu=False)
    _embed(ws, scenes)  # refit
    clear_cache()
    with pytest.raises(WorkspaceError, match="rebuild"):
        load_workspace_index(ws, NAME, use_gpu=False)


def test_unfitted_and_bad_names_say_how_to_fix(ws):
    with pytest.raises(WorkspaceError, match="vidsift embed FOLDER --embedder white:pixels"):
        get_embedder("white:pixels", ws)
    with pytest.raises(BadInputError, match="name the store to whiten"):
        get_embedder("white:", ws)


def test_whitening_round_trips_through_its_file(tmp_path: Path):
    X = np.random.default_rng(0).normal(size=(50, 12))
    w = PCAWhitening(dim=8).fit(X)
    p = tmp_path / "w.npz"
    p.write_bytes(w.to_bytes())
    w2 = PCAWhitening.load(p)
    assert w2.digest() == w.digest() and w2.dim == 8
    np.testing.assert_array_equal(w2.transform(X), w.transform(X))
    with pytest.raises(WorkspaceError, match="unreadable whitening"):
        PCAWhitening.load(tmp_path / "missing.npz")
    assert not (tmp_path / MANIFEST).exists()
