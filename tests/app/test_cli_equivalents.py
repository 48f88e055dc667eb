"""Every page action has a CLI equivalent (docs/app.md): the commands added for the page's
views call the same use cases (``vidsift.services``)."""

from __future__ import annotations

import json
import sys

from vidsift.services import train_jobs


def test_jobs_start_list_log_stop(cli, app_ws, built_ws, monkeypatch):
    monkeypatch.setattr(train_jobs, "train_command",
                        lambda *a, **k: [sys.executable, "-c", "print('hello from the job', flush=True); import time; time.sleep(30)"])
    r = cli("jobs", "start", "siamese", built_ws, "--steps", "5", "-w", app_ws.root, "--json")
    assert r.code == 0, r
    started = json.loads(r.out)
    assert started["name"] == "siamese-cpu" and started["state"] == "running"
    try:
        r = cli("jobs", "list", "-w", app_ws.root, "--json")
        assert [j["name"] for j in json.loads(r.out)] == ["siamese-cpu"]
        r = cli("jobs", "start", "siamese", built_ws, "-w", app_ws.root)
        assert r.code != 0 and "already training" in r.err and len(r.err.strip().splitlines()) == 1
        for _ in range(50):
            r = cli("jobs", "log", "siamese-cpu", "-w", app_ws.root)
            if "hello from the job" in r.out:
                break
            import time

            time.sleep(0.1)
        assert "hello from the job" in r.out
    finally:
        r = cli("jobs", "stop", "siamese-cpu", "-w", app_ws.root, "--json")
    assert r.code == 0 and json.loads(r.out)["state"] == "stopped"
    r = cli("jobs", "stop", "nope", "-w", app_ws.root)
    assert r.code != 0 and "no background job 'nope'" in r.err


def test_search_within_chosen_videos(cli, app_ws):
    r = cli("search", "-e", "pixels", "-w", app_ws.root, "--image", app_ws.root / "missing.png")
    assert r.code != 0
    r = cli("videos", "-w", app_ws.root, "--json")
    videos = [v for v in json.loads(r.out) if v["status"] == "ok"]
    first, second = videos[0], videos[1]
    args = ("search", "-e", "pixels", "--video", first["video_id"], "--frame", "0", "-w", app_ws.root, "--json")
    r = cli(*args, "--k", "5", "--videos", second["path"])
    assert r.code == 0, r
    hits = json.loads(r.out)
    assert len(hits) == 5 and {h["video_id"] for h in hits} == {second["video_id"]}


def test_workspace_from_the_environment(cli, app_ws, monkeypatch):
    monkeypatch.setenv("VIDSIFT_WORKSPACE", str(app_ws.root))
    r = cli("videos", "--json")
    assert r.code == 0 and len(json.loads(r.out)) > 0


def test_clusters_are_given_as_clusters_not_k(cli, app_ws):
    r = cli("evaluate", "discovery", "-e", "pixels", "--k", "3", "-w", app_ws.root)
    assert r.code != 0 and "give the number of clusters as --clusters 3" in r.err
    r = cli("evaluate", "temporal-pr", "-w", app_ws.root)
    assert r.code != 0 and "--embedder" in r.err  # required everywhere, never a silent default


def test_evaluate_all_scores_several_embedders(cli, app_ws):
    r = cli("evaluate", "all", "-e", "pixels", "-e", "nope", "--repeats", "2", "-w", app_ws.root, "--json")
    assert r.code == 0, r
    res = json.loads(r.out)
    assert res["pixels"]["temporal_pr"]["auc"] > 0 and res["nope"]["errors"]
