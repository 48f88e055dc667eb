"""`vidsift index ...` and `vidsift search` through typer's CliRunner on a tiny store."""

from __future__ import annotations

import json

import numpy as np
import pytest
from index_testdata import write_store
from typer.testing import CliRunner

from vidsift.cli import app
from vidsift.errors import BadInputError
from vidsift.workspace import Workspace

runner = CliRunner()


def run(*args: str) -> object:
    return runner.invoke(app, [str(a) for a in args])


def test_index_build_search_add_remove_check(ws: Workspace, tmp_path) -> None:
    data = write_store(ws.embeddings("pixels"), {"v1": 30, "v2": 30})
    w = ("-w", ws.root)
    r = run("index", "build", "--embedder", "pixels", *w, "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["kind"] == "flat" and summary["vectors"] == 60

    r = run(
        "search", "--embedder", "pixels", "--video", "v1", "--frame", "7", "-k", "5", *w, "--json"
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 5 and {"video_id", "path", "frame", "time", "shot", "distance"} <= set(rows[0])
    assert (rows[0]["video_id"], rows[0]["frame"]) == ("v1", 7)  # the query frame itself first
    assert [x["distance"] for x in rows] == sorted(x["distance"] for x in rows)

    r = run(
        "search",
        "--embedder",
        "pixels",
        "--video",
        "/videos/v1.mp4",
        "--frame",
        "7",
        "--exclude-same-video",
        *w,
        "--json",
    )
    assert r.exit_code == 0 and {x["video_id"] for x in json.loads(r.stdout)} == {"v2"}
    r = run(
        "search",
        "--embedder",
        "pixels",
        "--video",
        "v1",
        "--frame",
        "7",
        "--exclude-window",
        "3",
        *w,
        "--json",
    )
    assert all(not (x["video_id"] == "v1" and abs(x["frame"] - 7) <= 3) for x in json.loads(r.stdout))

    np.save(tmp_path / "q.npy", data.vectors[40])
    r = run("search", "-e", "pixels", "--vector-file", tmp_path / "q.npy", "-k", "1", *w, "--json")
    assert json.loads(r.stdout)[0]["frame"] == 10

    r = run("search", "--embedder", "pixels", "--video", "v1", "--frame", "7", *w)  # human table
    assert r.exit_code == 0 and "distance" in r.stdout and "v1" in r.stdout

    write_store(ws.embeddings("pixels"), {"v3": 12}, seed=9)
    r = run("index", "add", "--embedder", "pixels", *w, "--json")
    assert json.loads(r.stdout)["added_videos"] == ["v3"]
    r = run("index", "remove", "v2", "--embedder", "pixels", *w, "--json")
    assert json.loads(r.stdout)["removed_vectors"] == 30
    r = run("index", "check", "--embedder", "pixels", "-k", "5", "--queries", "10", *w, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["recall"] == pytest.approx(1.0)
    r = run("index", "check", "--embedder", "pixels", *w)
    assert "recall@" in r.stdout


def test_build_options_are_passed(ws: Workspace) -> None:
    write_store(ws.embeddings("pixels"), {"v1": 200, "v2": 200})
    r = run(
        "index",
        "build",
        "-e",
        "pixels",
        "--kind",
        "ivf",
        "--metric",
        "l2",
        "--nlist",
        "4",
        "--nprobe",
        "3",
        "-w",
        ws.root,
        "--json",
    )
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert (s["kind"], s["metric"], s["params"]["nlist"], s["params"]["nprobe"]) == (
        "ivf",
        "l2",
        4,
        3,
    )
    r = run(
        "index",
        "build",
        "-e",
        "pixels",
        "--kind",
        "hnsw",
        "--ef-search",
        "99",
        "-w",
        ws.root,
        "--json",
    )
    assert json.loads(r.stdout)["params"]["ef_search"] == 99
    r = run("index", "build", "-e", "pixels", "--kind", "bogus", "-w", ws.root)
    assert r.exit_code != 0


def test_invalid_combinations_are_bad_input(ws: Workspace, tmp_path) -> None:
    write_store(ws.embeddings("pixels"), {"v1": 10})
    run("index", "build", "-e", "pixels", "-w", ws.root)
    for args, msg in [
        ((), "exactly one query"),
        (("--frame", "3"), "exactly one query"),
        (
            ("--video", "v1", "--frame", "1", "--image", tmp_path / "x.png"),
            "got --video and --image",
        ),
        (
            ("--vector-file", tmp_path / "x.npy", "--exclude-window", "2"),
            "need a --video/--frame query",
        ),
        (("--video", "v1", "--frame", "50"), "no frame 50"),
    ]:
        r = run("search", "-e", "pixels", "-w", ws.root, *args)
        assert isinstance(r.exception, BadInputError), (args, r.output)
        assert msg in str(r.exception)


def test_a_bare_query_is_an_image_a_vector_or_a_video(ws: Workspace, tmp_path) -> None:
    """`vidsift search QUERY`: the file's kind says which option it stands for."""
    from PIL import Image

    from vidsift.embedder.registry import get_embedder
    from vidsift.embedder.store import write_manifest

    data = write_store(ws.embeddings("pixels"), {"v1": 30, "v2": 30}, dim=768)
    write_manifest(ws.embeddings("pixels"), get_embedder("pixels").manifest())  # so an image embeds
    w = ("-w", ws.root)
    run("index", "build", "-e", "pixels", *w)
    np.save(tmp_path / "q.npy", data.vectors[40])
    r = run("search", tmp_path / "q.npy", "-e", "pixels", "-k", "1", *w, "--json")
    assert r.exit_code == 0, r.output
    assert (json.loads(r.stdout)[0]["video_id"], json.loads(r.stdout)[0]["frame"]) == ("v2", 10)
    r = run("search", "v1", "--frame", "7", "-e", "pixels", "-k", "1", *w, "--json")
    assert (json.loads(r.stdout)[0]["video_id"], json.loads(r.stdout)[0]["frame"]) == ("v1", 7)
    Image.new("RGB", (8, 8)).save(tmp_path / "q.png")
    r = run("search", tmp_path / "q.png", "-e", "pixels", "-k", "3", *w, "--json")
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 3, r.output  # embedded as an image
    r = run("search", tmp_path / "q.npy", "--video", "v1", "-e", "pixels", *w)
    assert isinstance(r.exception, BadInputError) and "give the query once" in str(r.exception)


def test_query_source() -> None:
    from vidsift.services.search import query_source

    assert query_source("abc123")["video"] == "abc123"
    assert query_source("clips/x.mp4")["video"] == "clips/x.mp4"  # not a file here: a stored path
    assert query_source(__file__) == {"video": None, "vector": None,
                                      "image": __import__("pathlib").Path(__file__)}  # read, then refused
    assert query_source(None, video="v") == {"video": "v", "image": None, "vector": None}
    with pytest.raises(BadInputError, match="give the query once"):
        query_source("abc123", video="v")
