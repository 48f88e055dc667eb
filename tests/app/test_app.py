"""The Streamlit page through ``streamlit.testing.v1.AppTest``: every page, on a tiny workspace."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from app_testdata import APP, SCENES
from PIL import Image

from vidsift.services import contents, train_jobs
from vidsift.workspace import read_log


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def no_failure(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not errors(at), errors(at)


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def result_captions(at) -> list[str]:
    return [c for c in captions(at) if " · d=" in c]


def _videos(at) -> dict[str, str]:
    from vidsift.services.indexes import load_workspace_index

    vi = load_workspace_index(at.session_state["ws_path"], "pixels")
    cols = vi.columns
    return {v: str(cols.path[np.flatnonzero(cols.codes == cols.code_of[v])[0]]) for v in cols.videos}


# ---------------------------------------------------------------------------------- Library
def test_library_lists_videos_and_offers_scan_and_embed(app_ws, make_app):
    at = make_app(app_ws, "Library")
    no_failure(at)
    assert at.text_input(key="lib_folder").value.endswith("videos")
    assert "pixels" in at.selectbox(key="lib_embedder").options
    labels = [b.label for b in at.button]
    assert {"Scan only", "Scan and embed", "Rebuild index"} <= set(labels)
    assert any("2 files (2 readable, 0 with errors)" in s.value for s in at.subheader)
    table = at.dataframe[0].value
    assert sorted(table["label"]) == sorted(SCENES)
    assert set(table["embedded"]) == {"pixels"}
    assert all(str(t).startswith("data:image/jpeg;base64,") for t in table["thumbnail"])


def test_library_scan_and_embed_builds_the_index(tmp_path, built_ws, make_app):
    from vidsift.workspace import Workspace

    ws = Workspace.at(tmp_path / "fresh")
    at = make_app(ws, "Library")
    no_failure(at)
    assert any("catalog is empty" in i.value for i in at.info)
    at.text_input(key="lib_folder").set_value(str(built_ws.parent / "videos"))
    at.selectbox(key="lib_embedder").set_value("pixels")
    next(b for b in at.button if b.label == "Scan and embed").click().run()
    no_failure(at)
    msgs = [s.value for s in at.success]
    assert any("2 videos embedded (32 frames)" in m for m in msgs), msgs
    assert any("index of pixels: 32 vectors from 2 videos" in m for m in msgs), msgs
    assert contents.indexed_embedders(ws) == ["pixels"]


def test_library_update_embeds_a_copied_folder_and_drops_a_deleted_video(tmp_path, built_ws, make_app):
    import shutil

    from vidsift.workspace import Workspace

    folder = tmp_path / "clips"
    shutil.copytree(built_ws.parent / "videos", folder)
    ws = Workspace.at(tmp_path / "fresh")
    at = make_app(ws, "Library")
    at.text_input(key="lib_folder").set_value(str(folder))
    at.selectbox(key="lib_embedder").set_value("pixels")
    next(b for b in at.button if b.label == "Update").click().run()
    no_failure(at)
    msgs = [s.value for s in at.success]
    assert any(m.startswith("pixels: 2 added, 0 changed, 0 removed") and "index built" in m for m in msgs), msgs
    assert contents.indexed_embedders(ws) == ["pixels"]
    next(folder.rglob("*.mp4")).unlink()
    next(b for b in at.button if b.label == "Update").click().run()
    no_failure(at)
    msgs = [s.value for s in at.success]
    assert any(m.startswith("pixels: 0 added, 0 changed, 1 removed") for m in msgs), msgs
    next(b for b in at.button if b.label == "Update").click().run()
    assert any("already up to date" in s.value for s in at.success)


def test_library_lists_the_files_it_could_not_read_with_their_reason(tmp_path, built_ws, make_app):
    import shutil

    from vidsift.workspace import Workspace

    folder = tmp_path / "clips"
    shutil.copytree(built_ws.parent / "videos", folder)
    (folder / "notes.mp4").write_text("not a video\n")
    at = make_app(Workspace.at(tmp_path / "fresh"), "Library")
    at.text_input(key="lib_folder").set_value(str(folder))
    next(b for b in at.button if b.label == "Scan only").click().run()
    no_failure(at)
    assert any("3 files (2 readable, 1 with errors)" in s.value for s in at.subheader)
    assert [e.label for e in at.expander] == ["1 file(s) that could not be read"]
    listed = [m.value for m in at.expander[0].markdown]
    assert len(listed) == 1 and listed[0].startswith(f"- `{folder / 'notes.mp4'}`: ") and "video" in listed[0]


def test_library_scan_reports_a_missing_folder(app_ws, make_app, tmp_path):
    at = make_app(app_ws, "Library")
    at.text_input(key="lib_folder").set_value(str(tmp_path / "nope"))
    next(b for b in at.button if b.label == "Scan only").click().run()
    assert not at.exception
    assert any("no such folder" in e for e in errors(at))


# ---------------------------------------------------------------------------------- Search
def test_search_returns_the_frame_and_its_neighbours(app_ws, make_app):
    at = make_app(app_ws, "Search", s_group="frame")
    no_failure(at)
    vids = _videos(at)
    astro = next(v for v, p in vids.items() if "/astronaut/" in p)
    at.selectbox(key="s_video").set_value(astro).run()
    at.slider(key="s_frame").set_value(3).run()
    no_failure(at)
    hits = at.session_state["s_hits"]
    assert len(hits) == 12
    assert (hits[0]["video_id"], hits[0]["frame"]) == (astro, 3) and hits[0]["distance"] < 1e-6
    assert hits[1]["video_id"] == astro and hits[1]["frame"] in (2, 4)  # the adjacent frame is nearest
    assert all(h["label"] == "astronaut" for h in hits[:8])  # the whole first shot comes before the other scene
    caps = result_captions(at)
    assert caps[0].startswith("**1. astronaut_0.mp4** (astronaut) · 00:00:00.300 (0.300 s) · frame 3 · shot 0 · d=0.0000")
    assert any("**Query:** astronaut_0.mp4 · frame 3 · 00:00:00.300 (0.300 s)" in m.value for m in at.markdown)
    # a typed time moves the query to the frame on screen then; a bad one is one line
    at.text_input(key="s_at").set_value("00:00:00.560").run()
    no_failure(at)
    assert at.session_state["s_frame"] == 5 and at.session_state["s_hits"][0]["frame"] == 5
    at.text_input(key="s_at").set_value("soon").run()
    assert any("is not a time" in e.value for e in at.error) and at.session_state["s_frame"] == 5


def test_search_exclusions_and_video_filter(app_ws, make_app):
    at = make_app(app_ws, "Search", s_group="frame")
    vids = _videos(at)
    astro = next(v for v, p in vids.items() if "/astronaut/" in p)
    coffee = next(v for v, p in vids.items() if "/coffee/" in p)
    at.selectbox(key="s_video").set_value(astro).run()
    at.slider(key="s_frame").set_value(5).run()
    at.number_input(key="s_window").set_value(2).run()
    hits = at.session_state["s_hits"]
    assert all(not (h["video_id"] == astro and abs(h["frame"] - 5) <= 2) for h in hits)
    assert hits[0]["video_id"] == astro  # the nearest outside the window is still the same shot
    at.number_input(key="s_window").set_value(0)
    at.checkbox(key="s_excl_video").check().run()
    assert {h["video_id"] for h in at.session_state["s_hits"]} == {coffee}
    at.checkbox(key="s_excl_video").uncheck()
    at.multiselect(key="s_only").set_value([coffee]).run()
    no_failure(at)
    hits = at.session_state["s_hits"]
    assert len(hits) == 12 and {h["video_id"] for h in hits} == {coffee}


def test_search_shows_moments_with_filters_and_exports_them(app_ws, make_app):
    at = make_app(app_ws, "Search")
    no_failure(at)
    vids = _videos(at)
    astro = next(v for v, p in vids.items() if "/astronaut/" in p)
    at.selectbox(key="s_video").set_value(astro).run()
    at.slider(key="s_frame").set_value(3).run()
    moments = at.session_state["s_hits"]
    assert [m["video_id"] for m in moments][0] == astro and moments[0]["best_frame"] == 3
    caps = [c for c in captions(at) if " hits · best frame " in c]
    assert len(caps) == len(moments) and caps[0].startswith("**1. astronaut_0.mp4** (astronaut) · 00:00:00.000–")
    next(b for b in at.button if b.label == "▶ Play from start").click().run()
    assert at.session_state["s_play"]["time"] == moments[0]["start"]
    # a label and a time range run inside the index: only coffee frames from 0.5 s on
    at.multiselect(key="s_labels").set_value(["coffee"])
    at.text_input(key="s_range").set_value("0.5-").run()
    no_failure(at)
    moments = at.session_state["s_hits"]
    assert moments and all(m["label"] == "coffee" and m["start"] >= 0.5 for m in moments)
    at.selectbox(key="s_group").set_value("frame").run()
    assert all(h["label"] == "coffee" and h["time"] >= 0.5 for h in at.session_state["s_hits"])
    # bad filters are one line each, and nothing is searched
    at.text_input(key="s_range").set_value("5-2").run()
    assert not at.exception and len(at.error) == 1 and "time range" in at.error[0].value
    at.text_input(key="s_range").set_value("")
    at.text_input(key="s_maxd").set_value("-1").run()
    assert not at.exception and len(at.error) == 1
    at.text_input(key="s_maxd").set_value("").run()
    no_failure(at)
    next(b for b in at.button if b.label.startswith("Export ") and b.label.endswith(" segments")).click().run()
    no_failure(at)
    assert (app_ws.exports / "pixels-search" / "segments.edl").is_file()


def test_clicking_a_result_searches_from_it(app_ws, make_app):
    at = make_app(app_ws, "Search", s_group="frame")
    vids = _videos(at)
    coffee = next(v for v, p in vids.items() if "/coffee/" in p)
    at.checkbox(key="s_excl_video").check().run()  # results come from the other video
    target = at.session_state["s_hits"][2]
    assert target["video_id"] == coffee
    at.button(key="hit_2").click().run()
    no_failure(at)
    assert at.session_state["s_video"] == coffee and at.session_state["s_frame"] == target["frame"]
    assert any(f"**Query:** coffee_0.mp4 · frame {target['frame']}" in m.value for m in at.markdown)
    at.checkbox(key="s_excl_video").uncheck().run()
    first = at.session_state["s_hits"][0]
    assert (first["video_id"], first["frame"], round(first["distance"], 6)) == (coffee, target["frame"], 0.0)
    # the thumbnail strip picks a frame too; the player jumps to a result's time
    at.button(key="pick_15").click().run()
    assert at.session_state["s_frame"] == 15
    at.button(key="play_1").click().run()
    no_failure(at)
    play = at.session_state["s_play"]
    assert play["path"].endswith("coffee_0.mp4") and play["time"] == pytest.approx(at.session_state["s_hits"][1]["time"])


def _png(frame: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="PNG")
    return buf.getvalue()


def test_search_by_uploaded_image(app_ws, make_app):
    from vidsift.video import open_video

    at = make_app(app_ws, "Search", s_group="frame")
    vids = _videos(at)
    coffee, path = next((v, p) for v, p in vids.items() if "/coffee/" in p)
    with open_video(path) as r:
        frame = r.get_frames([12])[0]
    at.radio(key="s_mode").set_value("An image file").run()
    assert any("Upload an image" in i.value for i in at.info)
    at.file_uploader(key="s_upload").set_value(("query.png", _png(frame), "image/png")).run()
    no_failure(at)
    hits = at.session_state["s_hits"]
    assert hits[0]["video_id"] == coffee and abs(hits[0]["frame"] - 12) <= 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("query.png", b"not a png at all", "not a readable JPEG or PNG"),
        ("big.png", b"\0" * (10_000_001), "images up to 10 MB"),
    ],
)
def test_search_refuses_bad_uploads(app_ws, make_app, name, data, message):
    at = make_app(app_ws, "Search")
    at.radio(key="s_mode").set_value("An image file").run()
    at.file_uploader(key="s_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    assert any(message in e for e in errors(at)), errors(at)


def test_search_shows_errors_for_a_broken_index_and_a_missing_one(app_ws, make_app):

    for f in app_ws.indexes("pixels").glob("index.*.faiss"):
        f.unlink()
    at = make_app(app_ws, "Search")
    assert not at.exception
    assert any("index file is missing" in e and "vidsift index build --embedder pixels" in e for e in errors(at)), errors(at)
    for f in app_ws.indexes("pixels").iterdir():
        f.unlink()
    assert contents.indexed_embedders(app_ws) == []
    at.run()
    no_failure(at)
    assert any("no index yet" in i.value for i in at.info)


# ---------------------------------------------------------------------------------- Discover
def test_discover_runs_shows_clusters_scores_and_exports(app_ws, make_app):
    at = make_app(app_ws, "Discover")
    no_failure(at)
    assert any("No clusters for pixels yet" in i.value for i in at.info)
    at.checkbox(key="d_auto").uncheck().run()
    at.number_input(key="d_k").set_value(2)
    at.checkbox(key="d_with_map").uncheck()
    next(b for b in at.button if b.label == "Run discovery").click().run()
    no_failure(at)
    assert any("2 clusters of 32 frames" in s.value for s in at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    assert "RANDOM baseline, bits" in metrics and "H(label | cluster), bits" in metrics
    assert float(metrics["H(label | cluster), bits"].split(" ")[0]) < float(metrics["RANDOM baseline, bits"].split(" ")[0])
    galleries = [im for im in at.image if len(im.value) > 1]
    assert len(galleries) == 2 and all(len(g.value) == 8 for g in galleries)  # 8 frames nearest each centre
    assert any("tick the box" in i.value for i in at.info)  # no map computed in this run
    at.text_input(key="d_export_name").set_value("../../escape")
    next(b for b in at.button if b.label == "Export").click().run()
    no_failure(at)
    name = "_.._escape"  # the name is made a plain folder name: it cannot leave ws.exports
    assert sorted(p.name for p in app_ws.exports.iterdir()) == [name, f"{name}.zip"]
    assert (app_ws.exports / name / "clusters.csv").is_file()
    names = zipfile.ZipFile(app_ws.exports / f"{name}.zip").namelist()
    assert f"{name}/clusters.csv" in names and any(n.endswith("contact_sheet.png") for n in names)
    assert at.download_button[0].label == "Download the zip"


def test_discover_exports_a_cluster_for_an_editor(app_ws, make_app):
    from vidsift.services.discover import run_discovery

    run_discovery(app_ws, "pixels", k=2, algorithm="spectral", seed=3, with_map=False, progress=False)
    at = make_app(app_ws, "Discover")
    # the controls show the settings of the run on the page, not defaults beside it
    assert (at.selectbox(key="d_alg").value, at.checkbox(key="d_auto").value, at.number_input(key="d_k").value,
            at.number_input(key="d_seed").value) == ("spectral", False, 2, 3)
    at.selectbox(key="d_cluster").set_value("0").run()
    button = next(b for b in at.button if b.label.startswith("Export ") and b.label.endswith(" segments"))
    button.click().run()
    no_failure(at)
    out = app_ws.exports / "pixels-clusters-0"
    assert {p.name for p in out.iterdir()} >= {"segments.csv", "segments.edl", "segments.otio", "contact_sheet.png"}
    import csv

    rows = list(csv.DictReader((out / "segments.csv").open()))
    assert rows and {r["group"] for r in rows} == {"0"}
    assert any(b.label == "Download the zip" for b in at.download_button)


def test_discover_shows_errors_for_an_empty_store(app_ws, make_app):
    for f in (app_ws.embeddings("pixels") / "shards").iterdir():
        f.unlink()
    at = make_app(app_ws, "Discover")
    next(b for b in at.button if b.label == "Run discovery").click().run()
    assert not at.exception
    assert any("no embedded frames" in e for e in errors(at)), errors(at)


# ---------------------------------------------------------------------------------- Evaluate
def test_evaluate_page_pr_curves_and_table(app_ws, make_app):
    at = make_app(app_ws, "Evaluate")
    no_failure(at)
    assert at.multiselect(key="e_embs").value == ["pixels"]
    at.number_input(key="e_repeats").set_value(2)
    next(b for b in at.button if b.label == "Evaluate").click().run()
    no_failure(at)
    table = at.dataframe[0].value
    row = table.iloc[0]
    assert row["embedder"] == "pixels" and row["temporal PR AUC"] > row["RANDOM AUC"]
    assert row["K"] == 2 and "±" in row["H(label|cluster) bits"]
    assert at.get("plotly_chart")


def test_evaluate_page_scores_unseen_data(app_ws, make_app):
    """The held-out protocol on the page: pixels (no checkpoint here) on one held-out seed, as a
    table and a chart, with the same numbers as the use case gives."""
    from vidsift.services.heldout import heldout_table

    at = make_app(app_ws, "Evaluate")
    no_failure(at)
    assert at.multiselect(key="e_h_embs").options == []
    at.number_input(key="e_h_seeds").set_value(1)
    at.button(key="e_h_run").click().run()
    no_failure(at)
    table = next(d.value for d in at.dataframe if "H(photo∣cluster) K-means" in d.value.columns)
    assert table["embedder"].tolist() == ["pixels"]
    want = heldout_table(app_ws, [], seeds=[0])["pixels"]["raw"]["h_kmeans"]
    assert table.iloc[0]["H(photo∣cluster) K-means"] == f"{want['mean']:.3f}"  # one seed: the mean alone
    assert at.get("plotly_chart")


# ---------------------------------------------------------------------------------- Train
FAKE_TRAINER = """
import json, sys, time
from pathlib import Path
log = Path(sys.argv[1]); log.parent.mkdir(parents=True, exist_ok=True)
for step in range(1, 10_000):
    with open(log, "a") as f:
        f.write(json.dumps({"step": step * 10, "loss": 1.0 / step}) + "\\n")
    print("step", step, flush=True)
    time.sleep(0.05)
"""


def test_train_page_starts_shows_loss_and_stops(app_ws, make_app, monkeypatch, built_ws):
    import sys


    def fake_command(ws, method, folder, preset, resume=False, steps=None, overwrite=False):
        return [sys.executable, "-c", FAKE_TRAINER, str(ws.training_run(method, preset).log)]

    monkeypatch.setattr(train_jobs, "train_command", fake_command)
    at = make_app(app_ws, "Train")
    no_failure(at)
    assert at.selectbox(key="t_method").options
    assert at.radio(key="t_preset").options == ["cpu", "paper"]
    assert at.text_input(key="t_folder").value.endswith("videos")
    assert any("No training runs yet" in i.value for i in at.info)
    method = at.selectbox(key="t_method").value
    next(b for b in at.button if b.label == "Start training").click().run()
    no_failure(at)
    assert any(f"started {method} (cpu)" in s.value for s in at.success)
    job = train_jobs.training_jobs(app_ws)[0]
    try:
        import time

        deadline = time.monotonic() + 20
        while len(read_log(job.log)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        at.run()
        no_failure(at)
        assert any(f"**{method}-cpu** — running" in m.value for m in at.markdown)
        assert any(c.startswith("step ") and ", loss " in c for c in captions(at))
        at.button(key=f"stop_{method}-cpu").click().run()
        no_failure(at)
        assert train_jobs.job_state(train_jobs.training_jobs(app_ws)[0]) == "stopped"
        assert any(f"**{method}-cpu** — stopped" in m.value for m in at.markdown)
        # a second start while running is refused; once stopped it may start again (here: it is stopped)
    finally:
        train_jobs.stop_training(job, timeout=2)


# ---------------------------------------------------------------------------------- sidebar
def test_a_file_as_workspace_is_refused_in_the_sidebar(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    f = tmp_path / "file"
    f.write_text("x")
    monkeypatch.setenv("VIDSIFT_WORKSPACE", str(f))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("is a file; the workspace must be a folder" in e.value for e in at.sidebar.error)
    assert any("Choose a workspace folder" in i.value for i in at.info)


def test_evaluate_page_transfer_table_and_roc(tmp_path, make_app):
    """Probe and same/not-same ROC appear when the store has several labelled videos per class."""
    import numpy as np
    import pandas as pd

    from vidsift.embedder.store import write_manifest, write_shard
    from vidsift.workspace import Workspace

    ws = Workspace.at(tmp_path / "tws")
    store = ws.embeddings("pixels")
    write_manifest(store, {"name": "pixels", "dim": 8, "unit": "frame", "layer": None, "checkpoint_hash": None})
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 4
    for lab in range(3):
        for v in range(3):
            frames = np.arange(12)
            meta = pd.DataFrame({"video_id": f"v{lab}{v}", "path": f"/d/{lab}/{v}.mp4", "frame": frames,
                                 "time": frames / 25.0, "shot": frames // 6, "label": f"c{lab}"})
            write_shard(store, f"v{lab}{v}", meta, centres[lab] + rng.normal(size=(12, 8)) * 0.3)
    at = make_app(ws, "Evaluate")
    at.number_input(key="e_repeats").set_value(2)
    next(b for b in at.button if b.label == "Evaluate").click().run()
    assert not at.exception
    transfer = at.dataframe[1].value
    row = transfer.iloc[0]
    assert row["embedder"] == "pixels" and row["probe logreg (video)"].startswith("1.000")
    assert float(row["similarity ROC AUC"]) > 0.95
    assert len(at.get("plotly_chart")) >= 2
