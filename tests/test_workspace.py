"""The workspace layout: run folders (``RunDir``) and the one reader of ``log.jsonl``."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from vidsift.workspace import RunDir, Workspace, read_log


def test_run_folder_file_names_are_the_on_disk_format(tmp_path):
    # existing workspaces hold these names: changing one orphans every old run
    run = RunDir(tmp_path / "siamese-cpu")
    assert {
        k: getattr(run, k).name
        for k in ("checkpoint", "baseline", "config", "log", "job", "job_output")
    } == {
        "checkpoint": "last.pt",
        "baseline": "random-init.pt",
        "config": "config.json",
        "log": "log.jsonl",
        "job": "ui_job.json",
        "job_output": "ui_train.out",
    }
    assert all(
        getattr(run, k).parent == run.path
        for k in ("checkpoint", "baseline", "config", "log", "job", "job_output")
    )
    assert run.name == "siamese-cpu" and RunDir(str(run.path)) == run


def test_workspace_names_its_runs(tmp_path):
    ws = Workspace.at(tmp_path)
    assert ws.runs() == []  # no checkpoints folder yet
    assert ws.training_run("siamese", "cpu") == RunDir(ws.checkpoints / "siamese-cpu")
    assert ws.training_run("random:alexnet", "paper").name == "random_alexnet-paper"
    assert ws.run("finetune-siamese-cpu").path == ws.checkpoints / "finetune-siamese-cpu"
    for name in ("b", "a"):
        ws.run(name).path.mkdir(parents=True)
    (ws.checkpoints / "stray.txt").write_text("not a run")
    ws.run("b").checkpoint.write_bytes(b"")
    assert [r.name for r in ws.runs()] == ["a", "b"]
    assert [r.name for r in ws.runs() if r.has_checkpoint] == ["b"]


def test_the_foundation_imports_no_torch():
    code = "import sys, vidsift.workspace; sys.exit('torch' in sys.modules or 'training' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


RECORDS = [
    {"step": 4, "loss": 0.693, "note": "café"},  # a multi-byte character to cut through
    {"step": 8, "loss": 0.5, "samples_per_s": 120.25},
    {"step": 12, "loss": 0.25, "lr": 0.05},
]


def test_read_log_of_a_missing_file_is_empty(tmp_path):
    assert read_log(tmp_path / "log.jsonl") == []
    with pytest.raises(IsADirectoryError):
        read_log(tmp_path)  # the run folder, not its log: a mistake, not "no records"


def test_read_log_while_a_line_is_being_appended(tmp_path):
    """Cut the file at every byte (the trainer appending, or killed mid-line): the reader sees
    the records written so far, never a wrong one, and loses at most the line being written."""
    data = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
    log = RunDir(tmp_path).log
    for cut in range(len(data) + 1):
        log.write_bytes(data[:cut])
        got = read_log(log)
        whole_lines = data[:cut].count(b"\n")
        assert got == RECORDS[: len(got)] and whole_lines <= len(got) <= whole_lines + 1, cut
    # the cut line, once finished, is read like any other
    log.write_bytes(data[:-10])
    assert read_log(log) == RECORDS[:2]
    with open(log, "ab") as f:
        f.write(data[-10:])
    assert read_log(log) == RECORDS


def test_read_log_skips_blank_and_garbled_lines_anywhere(tmp_path):
    log = tmp_path / "log.jsonl"
    lines = [
        json.dumps(RECORDS[0]).encode(),
        b"",
        b"   ",
        b'{"step": 6, "loss": 0.6',  # cut by a crash, then the resumed run went on appending
        b"\x00\x00\x00\x00",  # a torn page of a file system crash
        b'{"step": 7, "loss": "caf\xe9"}',  # not UTF-8
        b"5",
        b'["step", 7]',  # JSON, but not a record
        json.dumps(RECORDS[1]).encode(),
        json.dumps(RECORDS[2]).encode() + b"\r",  # written on Windows
    ]
    log.write_bytes(b"\n".join(lines))
    assert read_log(log) == RECORDS


def test_read_log_keeps_records_as_written(tmp_path):
    # not sorted, not de-duplicated: a fine-tune log holds two runs over the same steps
    recs = [
        {"run": run, "step": s, "loss": 1.0 / s}
        for run in ("pretrained", "random_init")
        for s in (2, 4)
    ]
    # json.dumps writes NaN: a diverged run must still load
    recs.append({"step": 6, "loss": math.nan})
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in recs))
    got = read_log(log)
    assert got[:4] == recs[:4] and math.isnan(got[4]["loss"])
