"""``vidsift.ui_support`` without Streamlit, and the ``vidsift app`` command."""

from __future__ import annotations

import io
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidsift import ui_support as ui
from vidsift.errors import BadInputError
from vidsift.services import contents, library, train_jobs, uploads
from vidsift.services import discover as discovering
from vidsift.services import search as searching
from vidsift.services.indexes import search_workspace
from vidsift.workspace import RunDir, read_log


def _image_bytes(fmt: str, size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, format=fmt)
    return buf.getvalue()


def test_load_upload_accepts_jpeg_and_png():
    assert uploads.load_upload("a.png", _image_bytes("PNG")).size == (8, 8)
    img = uploads.load_upload("a.JPG", _image_bytes("JPEG"))
    assert img.mode == "RGB"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.gif", _image_bytes("GIF"), r"only JPEG or PNG images .*got '\.gif'"),
        ("a.png", _image_bytes("GIF"), "holds a GIF image, not JPEG or PNG"),
        ("a.png", b"\x89PNG garbage", "not a readable JPEG or PNG image"),
        ("a.png", b"0" * 2_000_001, r"is 2\.0 MB; images up to 2 MB"),
        ("a", b"", "only JPEG or PNG"),
    ],
)
def test_load_upload_refuses_with_a_readable_message(name, data, message):
    with pytest.raises(BadInputError, match=message):
        uploads.load_upload(name, data, max_bytes=2_000_000)


def test_load_upload_refuses_huge_images(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_IMAGE_PIXELS", 50)
    with pytest.raises(BadInputError, match="8x8 pixels is too large"):
        uploads.load_upload("a.png", _image_bytes("PNG"))


def test_frame_helpers():
    frames = np.array([0, 5, 10, 15, 20])
    assert ui.frame_step(frames) == 5 and ui.frame_step(np.array([3])) == 1
    assert ui.frame_step(np.array([0, 2, 3])) == 1
    assert [ui.snap_frame(frames, f) for f in (-4, 2, 3, 7, 8, 99)] == [0, 0, 5, 5, 10, 20]
    assert ui.strip_frames(frames, 3) == [0, 10, 20]
    assert ui.strip_frames(frames, 8) == [0, 5, 10, 15, 20]
    with pytest.raises(BadInputError, match="no indexed frames"):
        ui.snap_frame(np.array([], np.int64), 3)


def test_workspace_helpers(tmp_path, monkeypatch):
    monkeypatch.delenv(contents.WORKSPACE_ENV, raising=False)
    assert contents.default_workspace() == "vidsift-workspace"
    assert contents.default_workspace({contents.WORKSPACE_ENV: "/x/ws"}) == "/x/ws"
    with pytest.raises(BadInputError, match="give a workspace folder"):
        contents.open_workspace("  ")
    ws = contents.open_workspace(tmp_path / "ws")
    assert ws.root.is_dir() and contents.stores(ws) == [] and contents.indexed_embedders(ws) == []
    assert contents.index_version(ws, "pixels") is None and contents.store_version(ws, "pixels") == (0, 0)
    assert library.library_rows(ws) == [] and library.default_folder(ws) == ""


def test_filtered_search_fetches_until_enough(app_ws):
    from vidsift.services.indexes import load_workspace_index

    vi = load_workspace_index(app_ws, "pixels")
    videos = searching.indexed_videos(vi)
    assert [v.label for v in videos] == ["astronaut", "coffee"] and all(len(v.frames) == 16 for v in videos)
    astro, coffee = videos
    assert searching.frame_time(vi, coffee.id, 12) == pytest.approx(1.2)
    hits = search_workspace(app_ws, "pixels", videos=[coffee.id], k=5, video=astro.id, frame=0)
    assert len(hits) == 5 and {h["video_id"] for h in hits} == {coffee.id}
    # the same as the nearest coffee frames of an unfiltered search over everything
    every = [h for h in search_workspace(app_ws, "pixels", video=astro.id, frame=0, k=32) if h["video_id"] == coffee.id]
    assert [h["frame"] for h in hits] == [h["frame"] for h in every[:5]]
    assert len(search_workspace(app_ws, "pixels", videos=[coffee.id], k=100, video=astro.id, frame=0)) == 16


def test_zip_folder_skips_links_and_hidden_files(tmp_path):
    src = tmp_path / "exp"
    (src / "cluster_000").mkdir(parents=True)
    (src / "clusters.csv").write_text("a\n")
    (src / "cluster_000" / "0000_a_f0000001.jpg").write_bytes(b"jpg")
    (src / ".partial.tmp").write_text("x")
    (tmp_path / "secret").write_text("no")
    os.symlink(tmp_path / "secret", src / "link.txt")
    out = discovering.zip_folder(src, tmp_path / "exp.zip")
    assert sorted(zipfile.ZipFile(out).namelist()) == ["exp/cluster_000/0000_a_f0000001.jpg", "exp/clusters.csv"]


def test_tail_shows_a_partly_written_last_line(tmp_path):
    out = RunDir(tmp_path).job_output
    assert train_jobs.tail(out) == ""
    out.write_text("step 1\nstep 2\nstep 3\nTraceback (most rec")
    assert train_jobs.tail(out, 2) == "step 3\nTraceback (most rec"


def test_start_training_refuses_bad_input_and_a_second_run(app_ws, built_ws, monkeypatch):
    from vidsift.training.registry import method_names

    method = method_names()[0]
    with pytest.raises(BadInputError, match="unknown method 'nope'"):
        train_jobs.start_training(app_ws, "nope", built_ws)
    with pytest.raises(BadInputError, match="no such folder"):
        train_jobs.start_training(app_ws, method, app_ws.root / "missing")
    with pytest.raises(BadInputError, match="preset must be"):
        train_jobs.start_training(app_ws, method, built_ws, preset="huge")
    with pytest.raises(BadInputError, match="no checkpoint to resume"):
        train_jobs.start_training(app_ws, method, built_ws, resume=True)
    monkeypatch.setattr(train_jobs, "train_command", lambda *a, **k: [sys.executable, "-c", "import time; time.sleep(30)"])
    job = train_jobs.start_training(app_ws, method, built_ws)
    try:
        assert train_jobs.job_state(job) == "running"
        assert train_jobs.train_command is not None and job.command[-1] == "import time; time.sleep(30)"
        with pytest.raises(BadInputError, match="already training"):
            train_jobs.start_training(app_ws, method, built_ws)
    finally:
        assert train_jobs.stop_training(job, timeout=5) == "stopped"
    assert [j.pid for j in train_jobs.training_jobs(app_ws)] == [job.pid]


def test_train_command_is_the_cli(app_ws):
    cmd = train_jobs.train_command(app_ws, "siamese", "/v", "cpu", resume=True, steps=20)
    assert cmd == [sys.executable, "-m", "vidsift", "train", "siamese", "/v", "--preset", "cpu", "-w", str(app_ws.root),
                   "--steps", "20", "--resume"]
    assert train_jobs.train_command(app_ws, "siamese", "/v", "paper", overwrite=True)[-3:] == ["-w", str(app_ws.root), "--overwrite"]
    assert app_ws.training_run("siamese", "paper").path == app_ws.checkpoints / "siamese-paper"


def test_vidsift_app_runs_streamlit_locally(cli, monkeypatch, tmp_path):
    import vidsift.cli.serve as serve

    seen = {}

    class FakePopen:
        def __init__(self, cmd, env, **kwargs):
            seen["cmd"], seen["env"] = cmd, env
            self.pid = 0

        def poll(self):
            return 0

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(serve.subprocess, "Popen", FakePopen)
    res = cli("app", "--port", "8765", "-w", tmp_path / "ws")
    assert res.code == 0, res
    cmd = seen["cmd"]
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("page.py")
    opts = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert opts["--server.port"] == "8765" and opts["--server.address"] == "127.0.0.1"
    assert opts["--server.headless"] == "true" and opts["--server.maxUploadSize"] == str(uploads.MAX_UPLOAD_MB)
    assert seen["env"][contents.WORKSPACE_ENV] == str((tmp_path / "ws").resolve())
    assert "http://127.0.0.1:8765" in res.out
    assert cli("app", "--port", "0").code == 2
    # beyond this machine: refused (no login) unless asked for, with a warning
    seen.clear()
    res = cli("app", "--host", "0.0.0.0", "-w", tmp_path / "ws")
    assert res.code == 2 and "the page has no login" in res.err and not seen
    res = cli("app", "--host", "0.0.0.0", "--no-login", "-w", tmp_path / "ws")
    assert res.code == 0 and "without a login" in res.err and seen["cmd"][seen["cmd"].index("--server.address") + 1] == "0.0.0.0"


def test_a_real_training_run_from_the_page_helpers(app_ws, built_ws):
    """The real `vidsift train` in the background: 2 steps of siamese on the tiny videos."""
    import time

    job = train_jobs.start_training(app_ws, "siamese", built_ws.parent / "videos", "cpu", steps=2)
    try:
        deadline = time.monotonic() + 240
        while train_jobs.job_state(job) == "running" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert train_jobs.job_state(job) == "finished", train_jobs.tail(job.output)
    finally:
        train_jobs.stop_training(job, timeout=2)
    log = read_log(job.log)
    assert log[-1]["step"] == 2 and np.isfinite([r["loss"] for r in log]).all()
    assert job.run == app_ws.training_run("siamese", "cpu") and job.run.has_checkpoint
    with pytest.raises(BadInputError, match="already holds a checkpoint of siamese"):
        train_jobs.start_training(app_ws, "siamese", built_ws.parent / "videos", "cpu")


LEADER = """
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
def finish_step(*_):
    time.sleep(0.3)  # the step in flight; a DataLoader worker must outlive it
    alive = child.poll() is None
    open(sys.argv[1], "w").write("worker alive" if alive else "worker gone")
    sys.exit(130)
signal.signal(signal.SIGTERM, finish_step)
open(sys.argv[2], "w").write(str(child.pid))
time.sleep(60)
"""


def test_stop_asks_the_trainer_first_and_then_ends_its_workers(app_ws, built_ws, monkeypatch, tmp_path):
    """`jobs stop` / the page's Stop: the trainer gets SIGTERM while its workers still run (a
    signal to the whole group killed them first and lost the step), and no worker is left."""
    from vidsift.training.registry import method_names

    said, child_pid = tmp_path / "said", tmp_path / "child"
    monkeypatch.setattr(train_jobs, "train_command",
                        lambda *a, **k: [sys.executable, "-c", LEADER, str(said), str(child_pid)])
    job = train_jobs.start_training(app_ws, method_names()[0], built_ws)
    deadline = time.monotonic() + 30
    while not child_pid.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert train_jobs.stop_training(job, timeout=10) == "stopped"
    assert said.read_text() == "worker alive"
    pid = int(child_pid.read_text())
    deadline = time.monotonic() + 5
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
