"""The workspace glue: discover / evaluate on a store with known structure."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from vidsift.embedder.store import write_manifest, write_shard
from vidsift.errors import BadInputError
from vidsift.services.discover import run_discovery
from vidsift.services.evaluate import evaluate_workspace
from vidsift.workspace import Workspace


def make_store(ws: Workspace, name: str = "pixels", labelled: bool = True, nan_video: str | None = None) -> None:
    """3 labels x 2 videos x 2 shots x 10 frames; vectors = label centre + shot offset + noise."""
    rng = np.random.default_rng(0)
    store = ws.embeddings(name)
    write_manifest(store, {"name": name, "dim": 8, "unit": "frame", "layer": None, "checkpoint_hash": None})
    centres = rng.normal(size=(3, 8)) * 5
    for lab in range(3):
        for v in range(2):
            vid = f"v{lab}{v}"
            frames = np.arange(20)
            shot = (frames >= 10).astype(int)
            vec = centres[lab] + shot[:, None] * 0.5 + rng.normal(size=(20, 8)) * 0.1
            if vid == nan_video:
                vec[3, 2] = np.nan
            meta = pd.DataFrame({"video_id": vid, "path": f"/data/{lab}/{vid}.mp4", "frame": frames,
                                 "time": frames / 25.0, "shot": shot, "label": f"class{lab}" if labelled else None})
            if vid == nan_video:
                # write_shard refuses NaN; simulate a store corrupted by another writer
                import pyarrow as pa
                import pyarrow.parquet as pq

                from vidsift.embedder.store import shard_path

                shard_path(store, vid).parent.mkdir(parents=True, exist_ok=True)
                t = pa.table({**{c: meta[c].tolist() for c in meta.columns},
                              "vector": pa.FixedSizeListArray.from_arrays(pa.array(vec.astype(np.float32).ravel()), 8)})
                pq.write_table(t, shard_path(store, vid))
            else:
                write_shard(store, vid, meta, vec)


def test_discover_recovers_labels(tmp_path):
    ws = Workspace.at(tmp_path)
    make_store(ws)
    res = run_discovery(ws, "pixels", algorithm="kmeans", k=3, repeats=3, with_map=False, progress=False)
    assert res["k"] == 3 and res["n_frames"] == 120 and sorted(res["sizes"]) == [40, 40, 40]
    s = res["scores"]
    assert s["conditional_entropy"]["mean"] == pytest.approx(0.0, abs=1e-9)
    assert s["random"]["mean"] > 1.3  # close to log2(3) = 1.58 on balanced labels
    assign = pd.read_parquet(res["assignments"])
    assert len(assign) == 120 and {"cluster", "distance"} <= set(assign.columns)


def test_discover_spectral_and_auto_k(tmp_path):
    ws = Workspace.at(tmp_path)
    make_store(ws)
    res = run_discovery(ws, "pixels", algorithm="spectral", k="auto", repeats=2, with_map=False, progress=False)
    # 3 labels x 2 shots are 6 separated groups: the eigengap may pick either level
    assert res["k"] in (3, 6) and res["k_evidence"]
    assert res["scores"]["conditional_entropy"]["mean"] < 0.05


def test_discover_without_labels_skips_scores(tmp_path):
    ws = Workspace.at(tmp_path)
    make_store(ws, labelled=False)
    res = run_discovery(ws, "pixels", k=3, with_map=False, progress=False)
    assert res["scores"] is None and "label" in res["message"].lower()


def test_evaluate_all_three(tmp_path):
    ws = Workspace.at(tmp_path)
    make_store(ws)
    pr = evaluate_workspace(ws, "pixels", "temporal-pr", repeats=3)
    assert pr["auc"] > pr["random"]["auc"] and (tmp_path / "plots" / "pixels" / "temporal_pr.png").exists()
    d = evaluate_workspace(ws, "pixels", "discovery", repeats=3)
    assert d["k"] == 3 and d["conditional_entropy"]["mean"] < d["random"]["mean"]
    r = evaluate_workspace(ws, "pixels", "retrieval", k=5, repeats=3)
    assert r["rate"] == pytest.approx(1.0) and r["random"]["mean"] < 0.6


def test_errors(tmp_path):
    ws = Workspace.at(tmp_path)
    with pytest.raises(Exception, match="no embedding store|vidsift embed"):
        run_discovery(ws, "pixels", k=3, with_map=False, progress=False)
    make_store(ws)
    with pytest.raises(BadInputError, match="larger than"):
        run_discovery(ws, "pixels", k=500, with_map=False, progress=False)
    with pytest.raises(BadInputError, match="unknown evaluation"):
        evaluate_workspace(ws, "pixels", "bogus")


def test_nan_vectors_refused_naming_the_video(tmp_path):
    ws = Workspace.at(tmp_path)
    make_store(ws, nan_video="v11")
    with pytest.raises(BadInputError, match="v11"):
        run_discovery(ws, "pixels", k=3, with_map=False, progress=False)


def test_cli_evaluate_json(tmp_path, cli):
    ws = Workspace.at(tmp_path)
    make_store(ws)
    r = cli("evaluate", "retrieval", "--embedder", "pixels", "--k", "5", "-w", tmp_path, "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["rate"] == pytest.approx(1.0)
    r = cli("evaluate", "discovery", "--embedder", "nope", "-w", tmp_path)
    assert r.code != 0 and "vidsift embed" in r.err


def test_a_folder_of_unreadable_files_says_so(tmp_path):
    """Every file failed: asking to embed again (as for an empty store) would fail the same way."""
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("not a video")
    ws = Workspace.at(tmp_path / "ws")
    with pytest.raises(BadInputError, match=r"videos: no frames to work on: none of its 2 video file\(s\) could be read"):
        run_discovery(ws, "pixels", folder=folder, k=2, with_map=False, progress=False)


def test_evaluating_an_embedder_without_a_store_says_so_once(tmp_path):
    """One line naming the stores that exist, not the same missing-manifest error from each of the
    four evaluations."""
    from vidsift.services.evaluate import evaluate_embedders, evaluation_table

    ws = Workspace.at(tmp_path)
    make_store(ws)
    res = evaluate_embedders(ws, ["pixels", "pixls"], repeats=2)
    assert res["pixels"]["temporal_pr"] and res["pixels"]["discovery"]
    (err,) = res["pixls"]["errors"]
    assert "no embeddings for embedder 'pixls'" in err and "embedded here: pixels" in err
    assert "`vidsift embed FOLDER --embedder pixls`" in err
    table = evaluation_table(res).set_index("embedder")
    assert all(pd.isna(v) or v == "" for v in table.loc["pixls"])
    assert table.loc["pixels", "K"] == 3 and table.loc["pixels", "temporal PR AUC"] > table.loc["pixels", "RANDOM AUC"]
    with pytest.raises(Exception, match="no embeddings for embedder 'pixls'.*embedded here: pixels"):
        evaluate_workspace(ws, "pixls", "probe")


def test_every_discovery_keeps_its_result_beside_its_clusters(tmp_path):
    """The page and the API show the last run's algorithm, seed and scores; a run from the CLI is
    one too (it was kept only when the page ran it, so the API answered last_run: null)."""
    from vidsift.services.discover import load_last_run

    ws = Workspace.at(tmp_path)
    make_store(ws)
    res = run_discovery(ws, "pixels", algorithm="kmeans", k=3, seed=4, repeats=2, with_map=False, progress=False)
    last = load_last_run(ws, "pixels")
    assert last is not None and (last["algorithm"], last["seed"], last["k"]) == ("kmeans", 4, 3)
    assert last["scores"]["conditional_entropy"] == res["scores"]["conditional_entropy"]


def test_cli_evaluate_all_prints_blanks_for_a_missing_store(tmp_path, cli):
    ws = Workspace.at(tmp_path)
    make_store(ws)
    r = cli("evaluate", "all", "-e", "pixels", "-e", "pixls", "--repeats", "1", "-w", tmp_path)
    assert r.code == 0, r
    pixels, pixls = (line.split() for line in r.out.splitlines()[1:3])
    assert pixels[:4] == ["pixels", pixels[1], pixels[2], "3"] and float(pixels[1]) > float(pixels[2])
    assert pixls == ["pixls"]  # no NaN, no <NA>
    assert r.out.count("no embeddings for embedder 'pixls'") == 1
