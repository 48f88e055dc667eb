"""One training loop for every method (nanoGPT-style: short, readable, everything explicit).

    result = train(cfg, source, out_dir)            # fresh run
    result = train(cfg, source, out_dir, resume=True)  # continue from out_dir/last.pt

What it does, in order:

1. join the process group when launched by torchrun (``training.distributed``); pick CUDA when
   present, else CPU; seed torch / numpy / python from ``cfg.seed``;
2. build model, loss and optimiser from the method; on ``resume`` load ``last.pt`` (weights,
   optimiser, step, RNG states) and check its config matches; on a fresh run let the method fit
   data-dependent buffers (``init_from_data``, e.g. ZCA);
3. stream batches from ``method.build_dataset`` through a ``DataLoader`` whose workers decode
   (``batch_size=None``: the dataset yields whole batches; ``configure(start_step=...)`` makes a
   resumed run continue the very same stream);
4. per step: ``begin_step`` hook, forward + loss under autocast (CUDA only; bfloat16 where
   supported, else float16 with a GradScaler), backward, optimiser step, ``after_step`` hook;
5. every ``log_every`` steps (one "epoch" of the log) append one JSON line to ``log.jsonl``:
   step, loss (mean over those steps), time, samples/s, lr and the method's own metrics;
6. every ``checkpoint_every`` steps and at the end write ``last.pt`` (atomic) + ``config.json``.
   Only rank 0 writes.
7. Ctrl-C or SIGTERM (`vidsift jobs stop`) in a single-process run: the step in flight
   finishes, ``last.pt`` is written at it, and ``TrainingInterrupted`` is raised, so
   ``resume=True`` goes on from there (a second signal stops at once). DataLoader workers
   ignore SIGINT; `vidsift jobs stop` signals the trainer before its workers. A SIGTERM sent to
   the whole group at once ends the workers too, and the run stops without that checkpoint.

On CPU a resumed run is bit-for-bit the uninterrupted one (tested); on CUDA it is as close as
cuDNN's non-deterministic kernels allow.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import signal
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from vidsift.errors import WorkspaceError
from vidsift.training import distributed
from vidsift.training.checkpoint import (
    bare_model,
    config_of,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from vidsift.training.config import TrainConfig
from vidsift.training.data.source import FrameSource
from vidsift.training.registry import get_method
from vidsift.training.schedule import lr_at, set_lr
from vidsift.workspace import RunDir, read_log

#: config fields that may change when resuming (they do not change what is computed)
RUNTIME_FIELDS = ("steps", "num_workers", "log_every", "checkpoint_every")


@dataclass
class TrainResult:
    checkpoint: Path
    log_path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    #: per-step losses of the steps run in this call (not stored in the checkpoint)
    losses: list[float] = field(default_factory=list)
    step: int = 0


def _worker_context() -> str:
    import multiprocessing as mp

    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _check_resume_config(saved: TrainConfig, cfg: TrainConfig, path: Path) -> None:
    diffs = []
    for f in dataclasses.fields(TrainConfig):
        if f.name in RUNTIME_FIELDS:
            continue
        a, b = getattr(saved, f.name), getattr(cfg, f.name)
        if a != b:
            shown = (f"{len(a)} ids", f"{len(b)} ids") if f.name == "data_ids" else (a, b)
            diffs.append(f"{f.name} {shown[0]!r} vs now {shown[1]!r}")
    if diffs:
        raise WorkspaceError(
            f"{path} was trained with a different config ({'; '.join(diffs[:3])}); "
            "resume with the same settings or start a new run"
        )


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by a signal between two steps; ``checkpoint`` holds step ``step``
    (``None`` when nothing was written: a multi-process run stops as it always did)."""

    def __init__(self, step: int, checkpoint: Path | None) -> None:
        super().__init__(f"stopped at step {step}")
        self.step, self.checkpoint = step, checkpoint


class _StopBetweenSteps:
    """SIGINT / SIGTERM set a flag the loop reads between steps (a second one raises at once),
    so no step is left half applied. Only in the main thread of a single-process run."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, active: bool) -> None:
        self.active = active and threading.current_thread() is threading.main_thread()
        self.asked = False
        self._previous: dict[int, Any] = {}

    def _handle(self, _signum: int, _frame: Any) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True

    def install(self) -> None:
        if self.active:
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}

    def restore(self) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}


def _workers_leave_stopping_to_the_trainer(_worker_id: int) -> None:
    """DataLoader workers ignore SIGINT (a Ctrl-C reaches the whole process group): the trainer
    finishes its step and stops them itself. Not SIGTERM: that is how the DataLoader (and
    multiprocessing at exit) ends a worker that does not stop, so ignoring it hangs the exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _amp(device: torch.device) -> tuple[Any, torch.amp.GradScaler | None]:
    """autocast context + scaler: bfloat16 on GPUs that have it, else float16 with scaling."""
    if device.type != "cuda":
        return nullcontext, None
    if torch.cuda.is_bf16_supported():
        return (lambda: torch.autocast("cuda", dtype=torch.bfloat16)), None
    return (lambda: torch.autocast("cuda", dtype=torch.float16)), torch.amp.GradScaler("cuda")


def _truncate_log(log_path: Path, step: int) -> None:
    """Drop log lines past ``step`` (written after the checkpoint we resume from), and lines
    ``read_log`` skips (a line cut by the crash)."""
    if not log_path.exists():
        return
    keep = [r for r in read_log(log_path) if r.get("step", 0) <= step]
    log_path.write_text("".join(json.dumps(r) + "\n" for r in keep))


def train(
    cfg: TrainConfig,
    source: FrameSource,
    out_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    *,
    device: str | torch.device | None = None,
    overwrite: bool = False,
    stop_at: int | None = None,
) -> TrainResult:
    """Train ``cfg.method`` on ``source`` into ``out_dir`` (``last.pt``, ``log.jsonl``,
    ``config.json``).

    ``resume``: continue ``out_dir/last.pt`` (``cfg`` may raise ``steps``). A fresh run refuses a
    folder that already holds a run unless ``overwrite``. ``stop_at``: stop after that step as if
    interrupted (checkpoint written), e.g. to split a long run.
    """
    out_dir = Path(out_dir)
    run = RunDir(out_dir)
    ckpt_path, log_path = run.checkpoint, run.log
    info = distributed.init_distributed(device)
    try:
        return _train(cfg, source, out_dir, ckpt_path, log_path, info, resume, progress, overwrite, stop_at)
    finally:
        distributed.cleanup(info)


def _train(
    cfg: TrainConfig,
    source: FrameSource,
    out_dir: Path,
    ckpt_path: Path,
    log_path: Path,
    info: distributed.DistInfo,
    resume: bool,
    progress: bool,
    overwrite: bool,
    stop_at: int | None,
) -> TrainResult:
    method = get_method(cfg.method)
    dev = info.device
    seed_everything(cfg.seed + info.rank)

    model = method.build_model(cfg).to(dev)
    loss_fn = method.build_loss(cfg).to(dev)
    optimizer = method.build_optimizer(model, cfg)
    start = 0
    if resume:
        if not ckpt_path.exists():
            raise WorkspaceError(f"nothing to resume in {out_dir}: no {ckpt_path.name}; run without --resume")
        ck = load_checkpoint(ckpt_path, method=cfg.method, map_location=dev)
        _check_resume_config(config_of(ck, ckpt_path), cfg, ckpt_path)
        model.load_state_dict(ck["model"])
        if ck.get("optimizer") is not None:
            optimizer.load_state_dict(ck["optimizer"])
        start = int(ck["step"])
        if start >= cfg.steps:
            metrics = dict(ck.get("metrics") or {})
            return TrainResult(ckpt_path, log_path, metrics, [], start)
        if info.world_size == 1:
            set_rng_state(ck["rng"])
        if info.is_main:
            _truncate_log(log_path, start)
    else:
        if ckpt_path.exists() and not overwrite and info.is_main:
            raise WorkspaceError(
                f"{out_dir} already holds a run ({ckpt_path.name}); resume it (--resume) or "
                "start over (--overwrite)"
            )
        method.init_from_data(model, cfg, source)
        if info.is_main:
            out_dir.mkdir(parents=True, exist_ok=True)
            log_path.unlink(missing_ok=True)
    distributed.barrier(info)

    net = distributed.wrap_model(model, info, method.FIND_UNUSED_PARAMETERS)
    dataset = method.build_dataset(cfg, source).configure(start, info.rank, info.world_size)
    workers = cfg.num_workers
    loader = DataLoader(
        dataset,
        batch_size=None,
        num_workers=workers,
        persistent_workers=workers > 0,
        # forkserver: workers start from a clean process, not a fork of one whose decoder and
        # OpenMP threads are live (a forked worker segfaulted in `vidsift reproduce`)
        multiprocessing_context=_worker_context() if workers > 0 else None,
        pin_memory=dev.type == "cuda",
        prefetch_factor=4 if workers > 0 else None,
        # its own generator: creating the iterator must not draw from the global torch RNG,
        # or a resumed run would see different dropout masks than an uninterrupted one
        generator=torch.Generator().manual_seed(cfg.seed),
        worker_init_fn=_workers_leave_stopping_to_the_trainer if workers > 0 else None,
    )
    autocast, scaler = _amp(dev)
    end = cfg.steps if stop_at is None else min(cfg.steps, int(stop_at))

    bar = None
    if progress and info.is_main:
        from vidsift.progress import progress_bar

        bar = progress_bar(total=cfg.steps, initial=start, desc=f"train {cfg.method}", unit="step")

    losses: list[float] = []
    window: list[torch.Tensor] = []
    extra: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    t0 = t_win = time.perf_counter()
    step = start
    it = iter(loader)
    stopper = _StopBetweenSteps(active=info.world_size == 1)
    saved = start  # the step last.pt holds (a resumed run starts from it)
    try:
        stopper.install()
        for step in range(start, end):
            if stopper.asked:  # between steps: write what was trained, then stop
                if step > saved:
                    save_checkpoint(ckpt_path, model, optimizer, step, cfg, metrics, rng_state())
                raise TrainingInterrupted(step, ckpt_path if ckpt_path.exists() else None)
            batch = next(it)
            batch = {k: v.to(dev, non_blocking=True) for k, v in batch.items()}
            method.begin_step(model, loss_fn, step, cfg)
            net.train()
            with autocast():
                loss, step_metrics = method.step(net, loss_fn, batch)
            if cfg.lr_schedule != "constant":
                set_lr(optimizer, lr_at(cfg.lr_schedule, cfg.lr, step, cfg.steps))
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            method.after_step(model, step, cfg)
            window.append(loss.detach().float())
            for k, v in step_metrics.items():  # tensors stay on the device until logged
                v = v.detach().float() if isinstance(v, torch.Tensor) else float(v)
                extra[k] = extra.get(k, 0.0) + v
            done = step + 1
            stopping = stopper.asked and done < end  # read once: the log line and last.pt agree
            if done % cfg.log_every == 0 or done == end or stopping:
                win_losses = torch.stack(window).cpu().tolist()
                losses.extend(win_losses)
                now = time.perf_counter()
                mean_loss = distributed.mean_across_ranks(sum(win_losses) / len(win_losses), info)
                if not math.isfinite(mean_loss):
                    raise FloatingPointError(
                        f"loss became {mean_loss} at step {done}; lower the learning rate"
                    )
                metrics = {
                    "step": done,
                    "loss": mean_loss,
                    "time": round(now - t0, 3),
                    "samples_per_s": len(win_losses) * cfg.batch_size / max(now - t_win, 1e-9),
                    "lr": optimizer.param_groups[0]["lr"],
                    **{k: float(v) / len(win_losses) for k, v in extra.items()},
                }
                if info.is_main:
                    with open(log_path, "a") as f:
                        f.write(json.dumps(metrics) + "\n")
                if bar is not None:
                    bar.set_postfix(loss=f"{mean_loss:.4f}")
                window, extra, t_win = [], {}, now
            if bar is not None:
                bar.update(1)
            if done % cfg.checkpoint_every == 0 or done == end or stopping:
                if info.is_main:
                    save_checkpoint(ckpt_path, model, optimizer, done, cfg, metrics, rng_state())
                    saved = done
                distributed.barrier(info)
            if stopping:
                raise TrainingInterrupted(done, ckpt_path)
    finally:
        stopper.restore()
        if bar is not None:
            bar.close()
        del it
    return TrainResult(ckpt_path, log_path, dict(metrics), losses, end)


__all__ = ["train", "TrainResult", "TrainingInterrupted", "bare_model"]
