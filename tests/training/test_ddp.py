"""DDP on CPU (gloo): two processes, as torchrun would start them, train one model."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from vidsift.training.data.source import ArrayFrameSource
from vidsift.training.registry import get_method
from vidsift.training.trainer import train
from vidsift.video.synthetic import grating_videos
from vidsift.workspace import RunDir, Workspace, read_log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(fn, args) -> None:
    """Start 2 ranks like torchrun does (env vars per process). Fork keeps start-up cheap, but
    not after this process has run CUDA: autograd's device threads do not survive a fork."""
    method = "spawn" if torch.cuda.is_available() and torch.cuda.is_initialized() else "fork"
    mp.start_processes(fn, args=args, nprocs=2, join=True, start_method=method)


def config(steps: int = 4):
    return get_method("siamese").config(
        "cpu", backbone="small", fc6=16, fc7=8, input_size=(32, 32), batch_size=8, steps=steps,
        num_workers=0, log_every=2, checkpoint_every=2, dropout=0.0,
    )


def source() -> ArrayFrameSource:
    arrays, _ = grating_videos(n_scenes=2, videos_per_scene=2, frames=12, size=32, seed=0)
    return ArrayFrameSource(arrays)


def _worker(rank: int, world: int, port: int, out: str, steps: int, resume: bool) -> None:
    os.environ.update({
        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
        "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
    })
    torch.set_num_threads(1)
    res = train(config(steps), source(), out, resume=resume, progress=False, device="cpu",
                overwrite=not resume)
    torch.save({"losses": res.losses, "step": res.step}, os.path.join(out, f"rank{rank}.result"))


def _replica_worker(rank: int, world: int, port: int, out: str) -> None:
    """Train, then save this rank's own copy of the weights (not the checkpoint)."""
    os.environ.update({
        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
        "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
    })
    torch.set_num_threads(1)
    import vidsift.training.trainer as tr

    captured = {}
    orig = tr.distributed.wrap_model

    def spy(model, info, find_unused=False):
        captured["model"] = model
        return orig(model, info, find_unused)

    tr.distributed.wrap_model = spy
    res = tr.train(config(4), source(), out, progress=False, device="cpu", overwrite=True)
    state = {k: v.detach().clone() for k, v in captured["model"].state_dict().items()}
    torch.save({"state": state, "losses": res.losses}, os.path.join(out, f"replica{rank}.pt"))


def test_two_processes_keep_identical_replicas_and_rank0_writes(tmp_path) -> None:
    out = str(tmp_path / "run")
    os.makedirs(out, exist_ok=True)
    launch(_replica_worker, (2, free_port(), out))
    r0 = torch.load(os.path.join(out, "replica0.pt"), weights_only=True)
    r1 = torch.load(os.path.join(out, "replica1.pt"), weights_only=True)
    assert all(torch.equal(r0["state"][k], r1["state"][k]) for k in r0["state"])
    # the logged loss is averaged over ranks, so both ranks report the same numbers
    log = read_log(RunDir(out).log)
    assert [r["step"] for r in log] == [2, 4]  # written once, by rank 0
    ck = torch.load(RunDir(out).checkpoint, weights_only=True)
    assert ck["step"] == 4
    assert all(torch.equal(ck["model"][k], r0["state"][k]) for k in ck["model"])
    # ranks drew different batches (rank is part of the batch seed)
    assert r0["losses"] != r1["losses"]
    assert np.isclose(log[-1]["loss"], np.mean([np.mean(r0["losses"][2:]), np.mean(r1["losses"][2:])]))


def test_ddp_resume_continues(tmp_path) -> None:
    out = str(tmp_path / "run")
    launch(_worker, (2, free_port(), out, 2, False))
    launch(_worker, (2, free_port(), out, 4, True))
    got = torch.load(os.path.join(out, "rank0.result"), weights_only=True)
    assert got["step"] == 4 and len(got["losses"]) == 2
    assert [r["step"] for r in read_log(RunDir(out).log)] == [2, 4]


def test_torchrun_cli(tmp_path) -> None:
    """`torchrun --nproc_per_node 2 -m vidsift train ...` on CPU (gloo), files written once."""
    import subprocess
    import sys

    write_video = pytest.importorskip("vidsift.video.writer").write_video
    arrays, _ = grating_videos(n_scenes=2, videos_per_scene=2, frames=16, size=32, seed=0)
    for vid, frames in arrays.items():
        write_video(tmp_path / "videos" / f"{vid}.mp4", frames, fps=25)
    ws = tmp_path / "ws"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(free_port()), "-m", "vidsift", "train", "siamese",
           str(tmp_path / "videos"), "-w", str(ws), "--steps", "4", "--batch-size", "4",
           "--workers", "0", "-p", "backbone=\"small\"", "-p", "input_size=[32,32]", "--json"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    errors = [line for line in proc.stderr.splitlines() if "Error" in line or "error:" in line]
    assert proc.returncode == 0, "\n".join(errors[:20]) + proc.stderr[-1500:]
    run = Workspace(ws).training_run("siamese", "cpu")
    assert torch.load(run.checkpoint, weights_only=True)["step"] == 4
    assert [r["step"] for r in read_log(run.log)] == [4]
