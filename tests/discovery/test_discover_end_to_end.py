"""`vidsift discover` end to end on generated labelled scenes and on the shipped real footage."""

from __future__ import annotations

import json

import pytest

from vidsift.video.real import link_real
from vidsift.video.synthetic.write import make_scene_videos


@pytest.mark.parametrize("embedder", ["pixels", "zca"])
def test_discover_scenes_then_real_footage(cli, tmp_path, embedder):
    scenes = tmp_path / "scenes"
    make_scene_videos(scenes, scenes=("astronaut", "coffee", "chelsea"), videos_per_scene=2, shots_per_video=2,
                      frames_per_shot=10, size=(32, 32))
    ws = tmp_path / "ws"
    out = tmp_path / "export"
    r = cli("discover", scenes, "--embedder", embedder, "--clusters", "3", "--repeats", "3", "--no-map",
            "--export", out, "-w", ws, "--json")
    assert r.code == 0, r
    res = json.loads(r.out)
    assert res["k"] == 3 and res["n_videos"] == 6
    ce, rnd = res["scores"]["conditional_entropy"], res["scores"]["random"]
    assert ce["mean"] < rnd["mean"] - 0.05  # RANDOM is worst
    assert (out / "clusters.csv").exists() and (out / "clusters.json").exists()
    assert any(p.name == "contact_sheet.png" for p in out.rglob("*.png"))
    # without FOLDER: the same vectors, from the workspace (nothing is scanned or embedded)
    again = cli("discover", "--embedder", embedder, "--clusters", "3", "--repeats", "3", "--no-map", "-w", ws, "--json")
    assert again.code == 0, again
    assert {k: json.loads(again.out)[k] for k in ("k", "n_frames", "sizes")} == {k: res[k] for k in ("k", "n_frames", "sizes")}
    assert "embedding" in res and "embedding" not in json.loads(again.out)
    refused = cli("discover", "--embedder", embedder, "--every", "5", "-w", ws)
    assert refused.code != 0 and "give the FOLDER" in refused.err

    real = tmp_path / "real"
    link_real(real)  # bikes, bigbuckbunny, carphone pair, cityCC0: unlabelled
    r = cli("discover", real, "--embedder", embedder, "--clusters", "auto", "--every", "5", "--no-map", "-w", tmp_path / "ws_real", "--json")
    assert r.code == 0, r
    res = json.loads(r.out)
    assert res["n_videos"] == 5 and res["scores"] is None and "label" in res["message"].lower()
    assert sum(res["sizes"]) == res["n_frames"]


def test_exporting_clusters_before_any_discovery_says_what_to_run(cli, tmp_path):
    r = cli("export", "clusters", tmp_path / "out", "-e", "pixels", "-w", tmp_path / "ws")
    assert r.code != 0
    assert r.err.strip() == (f"error: {(tmp_path / 'ws').resolve()}: no clusters for 'pixels' in this workspace yet; "
                             "run `vidsift discover -e pixels` first")
