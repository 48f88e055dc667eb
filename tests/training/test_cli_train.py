"""`vidsift train` / `vidsift methods` end to end on tiny real video files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from vidsift.errors import BadInputError
from vidsift.services.train import list_checkpoints, train_workspace
from vidsift.video.synthetic import grating_videos
from vidsift.workspace import Workspace

write_video = pytest.importorskip("vidsift.video.writer").write_video




@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    arrays, _ = grating_videos(n_scenes=3, videos_per_scene=1, frames=24, size=32, seed=0)
    for vid, frames in arrays.items():
        write_video(root / f"{vid}.mp4", frames, fps=25)
    (root / "single").mkdir()
    write_video(root / "single" / "only.mp4", arrays["s0v0"][::-1].copy(), fps=25)
    return root


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    from vidsift.cli import main

    old = sys.argv
    sys.argv = ["vidsift", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return code, out.out, out.err


SMALL = ["-p", "backbone=\"small\"", "-p", "input_size=[32,32]", "-p", "fc6=16", "-p", "fc7=8",
         "--workers", "0", "--batch-size", "4"]


def test_train_resume_and_list(videos, tmp_path, capsys) -> None:
    ws = tmp_path / "ws"
    code, out, err = run_cli(capsys, "train", "siamese", str(videos), "-w", str(ws), "--steps", "4", *SMALL, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["step"] == 4 and res["preset"] == "cpu"
    run = Workspace(ws).training_run("siamese", "cpu")
    ck = run.checkpoint
    assert Path(res["checkpoint"]) == ck.resolve() and ck.exists()
    cfg = json.loads(run.config.read_text())
    assert len(cfg["data_ids"]) == 4 and cfg["batch_size"] == 4  # the sub-folder's video too

    # a second fresh run is refused, --resume continues with the stored config
    code, out, err = run_cli(capsys, "train", "siamese", str(videos), "-w", str(ws), "--steps", "4", *SMALL)
    assert code == 2 and "already holds a run" in err and "--resume" in err
    code, out, err = run_cli(capsys, "train", "siamese", str(videos), "-w", str(ws), "--steps", "6", "--resume")
    assert code == 0, err
    assert "siamese (cpu): step 6" in out
    rows = list_checkpoints(Workspace.at(ws))
    assert [(r["name"], r["method"], r["step"], r["steps"]) for r in rows] == [("siamese-cpu", "siamese", 6, 6)]


def test_methods_lists_every_method(capsys) -> None:
    code, out, _ = run_cli(capsys, "methods", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    for name in ("slow-ae", "siamese", "siamese-mu", "quadruplet", "quadruplet-mu", "drlim", "triplet"):
        assert rows[name]["layers"] and rows[name]["unit"] == "frame" and rows[name]["description"]
    assert rows["siamese"]["layers"] == ["fc6", "fc7"] and rows["slow-ae"]["layers"] == ["z1", "z2"]
    code, out, _ = run_cli(capsys, "methods")
    assert code == 0 and len(out.strip().splitlines()) == len(rows)


def test_bad_input_is_one_line(videos, tmp_path, capsys) -> None:
    ws = str(tmp_path / "ws")
    code, _, err = run_cli(capsys, "train", "nope", str(videos), "-w", ws)
    assert code == 2 and "unknown method 'nope'; known methods:" in err and "siamese" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "train", "quadruplet", str(videos / "single"), "-w", ws, *SMALL)
    assert code == 2
    assert "quadruplets need at least 2 videos longer than 10 frames; found 1" in err
    code, _, err = run_cli(capsys, "train", "siamese", str(tmp_path / "missing"), "-w", ws)
    assert code == 2 and "no such folder" in err
    code, _, err = run_cli(capsys, "train", "siamese", str(videos), "-w", ws, "--preset", "huge")
    assert code == 2 and "unknown preset 'huge'" in err
    code, _, err = run_cli(capsys, "train", "siamese", str(videos), "-w", ws, "-p", "nonsense=1")
    assert code == 2 and "unknown parameter(s) ['nonsense']" in err


def test_train_workspace_library_call(videos, tmp_path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    res = train_workspace(ws, "drlim", videos, steps=3, progress=False, backbone="small",
                          input_size=(32, 32), fc6=16, fc7=8, num_workers=1, batch_size=4)
    assert res.step == 3 and res.checkpoint.parent.name == "drlim-cpu"
    with pytest.raises(BadInputError, match="unknown method"):
        train_workspace(ws, "nope", videos)
