from __future__ import annotations

import json

import pytest

from vidsift.video.synthetic.write import make_broken_files, make_scene_videos


def test_doctor_json(cli):
    r = cli("doctor", "--json")
    assert r.code == 0, r
    d = json.loads(r.out)
    assert {"pyav", "decord"} <= set(d["video_backends"]) and d["cuda"] in (True, False)
    assert "faiss_gpu" in d and "ray" in d


def test_shots_json_prints_only_the_list(cli, real):
    r = cli("shots", real["bikes.mp4"], "--json")
    assert r.code == 0, r
    shots = json.loads(r.out)
    assert [s["start_frame"] for s in shots] == [0, 30, 76, 137, 187, 242]
    # bikes.mp4 is 25 fps from t=0: frame 30 starts at 1.2 s; the last shot ends after frame 249
    assert (shots[1]["start"], shots[1]["start_timecode"], shots[0]["end_frame"]) == (1.2, "00:00:01.200", 29)
    assert shots[-1]["end"] == pytest.approx(10.0) and shots[-1]["end_frame"] == 249


def test_shots_human(cli, real):
    r = cli("shots", real["cityCC0.mpg"])
    assert r.code == 0 and "frames    116" in r.out.replace("frames   116", "frames    116")


def test_single_file_errors_are_one_line(cli, tmp_path):
    broken = make_broken_files(tmp_path)
    for path in (tmp_path / "missing.mp4", broken["zero_bytes"], broken["text"], broken["truncated"]):
        r = cli("shots", path)
        assert r.code != 0
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in r.err


def test_scan_json_and_videos(cli, tmp_path):
    make_scene_videos(tmp_path / "v", scenes=("rocket",), videos_per_scene=2, shots_per_video=2, frames_per_shot=8, size=(32, 32))
    make_broken_files(tmp_path / "v" / "junk")
    ws = tmp_path / "ws"
    r = cli("scan", tmp_path / "v", "-w", ws, "--json")
    assert r.code == 0, r
    d = json.loads(r.out)
    ok = [v for v in d["videos"] if v["status"] == "ok"]
    assert len(ok) >= 2 and {v["label"] for v in ok} >= {"rocket"}
    assert any(f["path"].endswith("zero_bytes.mp4") for f in d["report"]["failed"])
    r = cli("videos", "-w", ws, "--json")
    assert r.code == 0 and len(json.loads(r.out)) == len(d["videos"])
    broken = [v for v in d["videos"] if v["status"] != "ok"]
    r = cli("videos", "-w", ws, "--errors", "--json")
    assert sorted(v["path"] for v in json.loads(r.out)) == sorted(v["path"] for v in broken) and broken
    rockets = sum(v["label"] == "rocket" for v in ok)
    r = cli("videos", "-w", ws, "--label", "rocket")
    assert r.code == 0 and r.out.rstrip().endswith(f"{rockets} file(s): {rockets} readable, 0 with errors")
    r = cli("videos", "-w", ws, "--label", "rockets")
    assert r.code == 2 and "no catalogued video has label 'rockets'; labels here: " in r.err and "rocket" in r.err


def test_a_scan_that_moved_files_of_an_embedded_folder_points_to_update(cli, tmp_path):
    make_scene_videos(tmp_path / "v", scenes=("rocket",), videos_per_scene=2, shots_per_video=1, frames_per_shot=6, size=(32, 32))
    ws = tmp_path / "ws"
    first = cli("scan", tmp_path / "v", "-w", ws)
    assert first.code == 0 and "vidsift update" not in first.out  # nothing embedded: nothing to bring in line
    assert cli("embed", tmp_path / "v", "-e", "pixels", "-w", ws).code == 0
    clip = next((tmp_path / "v").rglob("*.mp4"))
    clip.rename(clip.with_name("renamed.mp4"))
    r = cli("scan", tmp_path / "v", "-w", ws)
    assert r.code == 0 and f"`vidsift update {(tmp_path / 'v').resolve()}` brings the embeddings" in r.out
    assert "vidsift update" not in cli("scan", tmp_path / "v", "-w", ws).out  # nothing changed since


def test_scan_empty_and_missing_folder(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    r = cli("scan", tmp_path / "empty", "-w", tmp_path / "ws")
    assert r.code != 0 and "no video files found" in r.err
    r = cli("scan", tmp_path / "nope", "-w", tmp_path / "ws")
    assert r.code != 0 and "no such folder" in r.err


def test_sample_make_unknown_kind(cli, tmp_path):
    r = cli("sample", "make", "bogus", tmp_path)
    assert r.code != 0 and "bogus" in r.err and "scenes" in r.err


def test_the_cli_starts_without_the_heavy_libraries():
    """`vidsift --help` and every command's option defaults come from light modules: the
    libraries a command needs are imported when it runs (each of these costs 0.1-2 s)."""
    import subprocess
    import sys

    heavy = ("torch", "torchvision", "pandas", "faiss", "streamlit", "sklearn", "av", "pyarrow")
    code = f"import sys, vidsift.cli; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_warnings_reach_the_terminal_as_one_line():
    """A library warning says what happened, not which file and source line raised it."""
    import subprocess
    import sys

    code = ("import sys, warnings, vidsift.cli as c; sys.argv = ['vidsift', 'methods']; "
            "warnings.simplefilter('always'); "  # repeated fits raise it again: shown once all the same
            "w = lambda: warnings.warn('the 10-nearest-neighbour graph has 7 connected components'); "
            "c.app = lambda **kw: (w(), w()); "
            "c.main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr == "warning: the 10-nearest-neighbour graph has 7 connected components\n"


def test_a_note_that_is_a_warning_is_not_called_a_note():
    from vidsift.cli.common import note_line

    assert note_line("2 video(s) failed in an earlier run") == "note: 2 video(s) failed in an earlier run"
    assert note_line("warning: the vectors have collapsed") == "warning: the vectors have collapsed"


def test_scan_lists_a_file_whose_name_is_not_text(cli, tmp_path):
    import os

    make_scene_videos(tmp_path / "v", scenes=("rocket",), videos_per_scene=1, shots_per_video=1, frames_per_shot=6, size=(32, 32))
    with open(os.fsencode(tmp_path / "v") + b"/bad\xffname.mp4", "wb") as f:
        f.write(next((tmp_path / "v").rglob("*.mp4")).read_bytes())
    r = cli("scan", tmp_path / "v", "-w", tmp_path / "ws")
    assert r.code == 0, r
    assert f"failed: {(tmp_path / 'v').resolve()}/bad\ufffdname.mp4: the file name is not valid UTF-8 text" in r.out


def test_every_command_sums_itself_up_in_one_line():
    """`vidsift --help` lists each command by the first paragraph of its help; a paragraph over
    two lines broke the list mid-sentence."""
    import typer.main

    from vidsift.cli import app

    long: list[str] = []

    def walk(command, path: str) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")
        if "\n" in (command.help or "").strip().split("\n\n")[0]:
            long.append(path)

    walk(typer.main.get_command(app), "vidsift")
    assert long == []


def test_ctrl_c_exits_130_with_one_line(cli, tmp_path, monkeypatch):
    """typer turns Ctrl-C into an exit code it *returns* when not standalone; main() dropped it,
    so an interrupted `vidsift embed` exited 0 in silence, as if it had finished."""
    import vidsift.services.library as library

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(library, "videos", interrupted)
    r = cli("videos", "-w", tmp_path / "ws")
    assert r.code == 130, r
    assert r.err.strip() == "interrupted: what finished is kept; run the same command again to go on"


def test_an_interrupted_training_says_how_to_go_on(cli, tmp_path, monkeypatch):
    """The resume hint is the command that resumes this run: its workspace, preset and steps."""
    import vidsift.services.train as train
    from vidsift.training.trainer import TrainingInterrupted

    def stopped(*_a, **_k):
        raise TrainingInterrupted(87, tmp_path / "ws" / "last.pt")

    monkeypatch.setattr(train, "train_workspace", stopped)
    r = cli("train", "siamese", tmp_path / "my videos", "--preset", "paper", "--steps", "900", "-w", tmp_path / "ws")
    assert r.code == 130, r
    assert r.err.strip() == (f"interrupted: {tmp_path / 'ws' / 'last.pt'} holds step 87; go on with `vidsift train "
                             f"siamese '{tmp_path / 'my videos'}' --preset paper -w {(tmp_path / 'ws').resolve()} "
                             f"--steps 900 --resume`")


def test_a_child_s_exit_code_is_the_command_s(cli, tmp_path, monkeypatch):
    """`vidsift app` ends with the page server's exit code (typer.Exit), which was lost too."""
    import vidsift.cli.serve as serve

    monkeypatch.setattr(serve, "run_child", lambda *_a, **_k: 3)
    r = cli("app", "-w", tmp_path / "ws", "--port", "8799")
    assert r.code == 3, r
