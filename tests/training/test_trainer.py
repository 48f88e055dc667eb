"""The training loop: files it writes, resume == uninterrupted (bitwise on CPU), refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from vidsift.errors import WorkspaceError
from vidsift.training.config import TrainConfig
from vidsift.training.data.samplers import PairStream
from vidsift.training.data.source import ArrayFrameSource
from vidsift.training.methods.base import Method
from vidsift.training.registry import METHODS
from vidsift.training.trainer import train
from vidsift.workspace import RunDir, read_log


class TinyNet(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d, 16)
        self.drop = nn.Dropout(0.3)  # uses the torch RNG: resume must restore it
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(torch.relu(self.fc1(x.flatten(1)))))


class TinyMethod(Method):
    NAME = "tiny"
    DESCRIPTION = "test method"
    LAYERS = ("out",)
    DEFAULT_LAYER = "out"
    PRESETS = {
        "cpu": {"steps": 12, "batch_size": 8, "input_size": (6, 6), "optimizer": "sgd", "lr": 0.05,
                "num_workers": 0, "log_every": 4, "checkpoint_every": 4, "params": {"margin": 1.0}},
        "paper": {"params": {"margin": 1.0}},
    }

    def build_model(self, cfg):
        return TinyNet(3 * cfg.input_size[0] * cfg.input_size[1])

    def build_loss(self, cfg):
        from vidsift.training.losses import ContrastiveLoss

        return ContrastiveLoss(margin=cfg.p("margin"))

    def build_dataset(self, cfg, source):
        return PairStream(cfg, source, self)

    def step(self, model, loss_fn, batch):
        y = batch["y"]
        out = model(batch["x"])
        return loss_fn(out[: len(y)], out[len(y) :], y), {"seen": float(len(y))}

    def features(self, model, x, layer):
        return model(x)


@pytest.fixture
def tiny(monkeypatch):
    method = TinyMethod()
    monkeypatch.setitem(METHODS, "tiny", method)
    return method


def source() -> ArrayFrameSource:
    rng = np.random.default_rng(0)
    return ArrayFrameSource({f"v{k}": rng.integers(0, 255, (20, 6, 6, 3), dtype=np.uint8) for k in range(3)})


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_train_writes_checkpoint_log_and_config(tiny, tmp_path) -> None:
    cfg = tiny.config("cpu")
    res = train(cfg, source(), tmp_path / "run", progress=False)
    run = RunDir(tmp_path / "run")
    assert (res.checkpoint, res.log_path) == (run.checkpoint, run.log) and res.checkpoint.exists()
    assert res.step == 12 and len(res.losses) == 12
    log = read_log(res.log_path)
    assert [r["step"] for r in log] == [4, 8, 12]
    for r in log:
        assert {"step", "loss", "time", "samples_per_s", "lr", "seen"} <= set(r)
        assert r["samples_per_s"] > 0 and r["seen"] == 8.0
    assert abs(log[0]["loss"] - np.mean(res.losses[:4])) < 1e-6
    assert json.loads(run.config.read_text()) == cfg.to_dict()
    ck = torch.load(res.checkpoint, weights_only=True)
    assert ck["step"] == 12 and ck["method"] == "tiny" and ck["metrics"]["step"] == 12


@pytest.mark.parametrize("workers", [0, 1])
def test_resume_equals_uninterrupted_bitwise(tiny, tmp_path, workers) -> None:
    cfg = tiny.config("cpu", num_workers=workers, seed=5)
    src = source()
    full = train(cfg, src, tmp_path / "full", progress=False)
    # "interrupted" after step 6 (checkpoint written there), then resumed to the end
    part = train(cfg, src, tmp_path / "split", progress=False, stop_at=6)
    assert part.step == 6 and torch.load(part.checkpoint, weights_only=True)["step"] == 6
    rest = train(cfg, src, tmp_path / "split", resume=True, progress=False)
    assert part.losses + rest.losses == full.losses  # bit-for-bit, every step
    a = torch.load(full.checkpoint, weights_only=True)
    b = torch.load(rest.checkpoint, weights_only=True)
    assert states_equal(a["model"], b["model"])
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    mom_a = a["optimizer"]["state"]
    mom_b = b["optimizer"]["state"]
    assert all(torch.equal(mom_a[k]["momentum_buffer"], mom_b[k]["momentum_buffer"]) for k in mom_a)
    # the log has one line per "epoch" of 4 steps, none duplicated by the resume
    assert [r["step"] for r in read_log(RunDir(tmp_path / "split").log)] == [4, 6, 8, 12]


def test_resume_from_a_periodic_checkpoint_after_a_crash(tiny, tmp_path) -> None:
    cfg = tiny.config("cpu")
    src = source()
    full = train(cfg, src, tmp_path / "full", progress=False)
    train(cfg, src, tmp_path / "crash", progress=False, stop_at=4)
    # steps 5..7 ran and logged, then the process died before the next checkpoint
    with open(RunDir(tmp_path / "crash").log, "a") as f:
        f.write(json.dumps({"step": 7, "loss": 0.0}) + "\n" + '{"step": 8, "lo')  # cut by the crash
    rest = train(cfg, src, tmp_path / "crash", resume=True, progress=False)
    assert rest.losses == full.losses[4:]
    assert [r["step"] for r in read_log(RunDir(tmp_path / "crash").log)] == [4, 8, 12]


def test_resume_can_extend_steps_but_not_change_the_recipe(tiny, tmp_path) -> None:
    cfg = tiny.config("cpu", steps=8)
    src = source()
    train(cfg, src, tmp_path / "r", progress=False)
    longer = train(tiny.config("cpu", steps=12), src, tmp_path / "r", resume=True, progress=False)
    assert longer.step == 12 and len(longer.losses) == 4
    with pytest.raises(WorkspaceError, match=r"different config \(lr 0.05 vs now 0.1\)"):
        train(tiny.config("cpu", steps=16, lr=0.1), src, tmp_path / "r", resume=True, progress=False)
    done = train(tiny.config("cpu", steps=12), src, tmp_path / "r", resume=True, progress=False)
    assert done.losses == [] and done.step == 12


def test_refusals(tiny, tmp_path) -> None:
    cfg = tiny.config("cpu", steps=4)
    src = source()
    with pytest.raises(WorkspaceError, match="nothing to resume .* no last.pt"):
        train(cfg, src, tmp_path / "none", resume=True, progress=False)
    train(cfg, src, tmp_path / "r", progress=False)
    with pytest.raises(WorkspaceError, match=r"already holds a run .*--resume.*--overwrite"):
        train(cfg, src, tmp_path / "r", progress=False)
    again = train(cfg, src, tmp_path / "r", progress=False, overwrite=True)
    assert again.step == 4
    other = TrainConfig.from_dict({**cfg.to_dict(), "method": "siamese"})
    with pytest.raises(WorkspaceError, match="checkpoint is for 'tiny', not 'siamese'"):
        train(other, src, tmp_path / "r", resume=True, progress=False)


def test_nan_loss_stops_with_a_clear_error(tiny, tmp_path) -> None:
    cfg = tiny.config("cpu", lr=1e30, steps=8, momentum=0.0)
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        train(cfg, source(), tmp_path / "nan", progress=False)


def test_cosine_schedule_sets_the_rate_of_every_step_and_resumes_on_the_same_curve(tmp_path) -> None:
    import math

    import numpy as np

    from vidsift.errors import BadInputError
    from vidsift.training.data.source import ArrayFrameSource
    from vidsift.training.registry import get_method
    from vidsift.training.schedule import lr_at
    from vidsift.training.trainer import train
    from vidsift.workspace import read_log

    rng = np.random.default_rng(0)
    src = ArrayFrameSource({f"v{i}": rng.integers(0, 255, (24, 32, 32, 3), dtype=np.uint8) for i in range(3)})
    m = get_method("siamese")
    over = dict(backbone="small", input_size=(32, 32), batch_size=4, num_workers=0, log_every=1, checkpoint_every=3)
    cfg = m.config("cpu", steps=6, lr=0.01, lr_schedule="cosine", **over)
    res = train(cfg, src, tmp_path / "run", progress=False, stop_at=3)
    res = train(cfg, src, tmp_path / "run", progress=False, resume=True)
    lrs = [row["lr"] for row in read_log(res.log_path)]
    want = [0.01 * 0.5 * (1 + math.cos(math.pi * t / 6)) for t in range(6)]
    assert np.allclose(lrs, want)
    assert lr_at("constant", 0.01, 5, 6) == 0.01
    with pytest.raises(BadInputError, match="unknown lr_schedule"):
        m.config("cpu", lr_schedule="step")


@pytest.mark.parametrize("workers", [0, 1])
def test_ctrl_c_writes_the_step_it_stops_at_and_resume_is_uninterrupted(tiny, tmp_path, monkeypatch, workers) -> None:
    """Ctrl-C (or `vidsift jobs stop`'s SIGTERM) at step 6 of 12, between checkpoints every 4:
    the step finishes, last.pt is written at 6, and a resumed run equals an uninterrupted one.
    Before, Ctrl-C lost the steps since the last checkpoint (all of them in a short run)."""
    import os
    import signal

    from vidsift.training.trainer import TrainingInterrupted

    cfg = tiny.config("cpu", num_workers=workers, seed=5)
    src = source()
    full = train(cfg, src, tmp_path / "full", progress=False)
    plain_after_step = TinyMethod.after_step

    def signal_at_step_6(self, model, step, cfg):  # the signal arrives in the middle of step 6
        if step == 5:
            os.kill(os.getpid(), signal.SIGINT if workers == 0 else signal.SIGTERM)
        return plain_after_step(self, model, step, cfg)

    monkeypatch.setattr(TinyMethod, "after_step", signal_at_step_6)
    with pytest.raises(TrainingInterrupted) as stopped:
        train(cfg, src, tmp_path / "split", progress=False)
    assert stopped.value.step == 6 and stopped.value.checkpoint == RunDir(tmp_path / "split").checkpoint
    assert torch.load(stopped.value.checkpoint, weights_only=True)["step"] == 6
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are put back
    monkeypatch.setattr(TinyMethod, "after_step", plain_after_step)
    rest = train(cfg, src, tmp_path / "split", resume=True, progress=False)
    assert rest.losses == full.losses[6:]
    assert states_equal(torch.load(full.checkpoint, weights_only=True)["model"],
                        torch.load(rest.checkpoint, weights_only=True)["model"])
    assert [r["step"] for r in read_log(RunDir(tmp_path / "split").log)] == [4, 6, 8, 12]
