"""Supervised fine-tuning of an unsupervised checkpoint, against the same network from random init.

The papers' "random init vs ours" rows (card D, Paul et al. 2018, Table 1: C3D from random
weights vs unsupervised pre-training + fine-tuning on HMDB51 / UCF101):

    res = finetune(ws, "checkpoints/siamese-cpu/last.pt", "labelled_videos/", shots=5, epochs=10)
    res["pretrained"]["video_mean"], res["random_init"]["video_mean"]

What it does, in order:

1. ``load_model`` the checkpoint (``weights_only``); the classifier is the method's default
   feature layer (``method.features(model, x, layer)``), standardised without learned scale
   (``BatchNorm1d(affine=False)``: pretrained and random features differ in scale by orders of
   magnitude, and a fixed learning rate would favour one of them), then one ``nn.Linear`` to the
   classes. The whole network is trained (no frozen layers).
2. Labelled data: ``video.scan.scan_folder(catalog, folder)``; a video's label is its sub-folder. ``shots``
   videos per class are for training, the rest of each class for testing -- a split by video,
   never frames of one video on both sides (``training.data.labels.split_by_video``).
3. Samples: ``per_video`` frames evenly spaced over each video (``UNIT == "frame"``), or
   ``per_video`` clips of ``cfg.clip_len`` consecutive frames (``"clip"`` methods), decoded
   once with ``video.open_video(...).get_frames`` at ``cfg.input_size`` and kept in memory.
4. Two runs, identical but for the initial backbone weights: the checkpoint's, and
   ``method.build_model(cfg)`` after ``torch.manual_seed(seed)`` (data-dependent buffers such
   as a ZCA matrix are fitted on the training frames, as a fresh training run would). Same head
   init, same optimiser (Adam, ``lr``), same number of steps, same batches in the same order,
   same dropout stream. No augmentation.
5. Test accuracy per frame / clip and per video (majority vote, and mean of the softmax over the
   video's samples) for both runs, with chance levels.

Output under ``<ws>/checkpoints/finetune-<name>/``: ``last.pt`` (the fine-tuned pretrained
network), ``random-init.pt`` (the baseline), both in the checkpoint format of
``training.checkpoint`` (written atomically, read back with ``weights_only=True``; ``load_model``
rebuilds the backbone, so ``ckpt:finetune-<name>`` works as an embedder) with the head, the
classes and the split under the extra key ``"finetune"``; ``config.json``; and ``log.jsonl``,
one JSON line per epoch and run.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vidsift.atomic import atomic_path, atomic_write_json
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.training.checkpoint import (
    FORMAT_VERSION,
    LoadedModel,
    load_checkpoint,
    load_model,
    rng_state,
)
from vidsift.training.config import TrainConfig
from vidsift.training.data.labels import NO_LABELS, check_classes, split_by_video
from vidsift.training.data.source import ArrayFrameSource
from vidsift.workspace import RunDir, Workspace, safe_name

RUNS = ("pretrained", "random_init")

__all__ = [
    "FinetuneClassifier",
    "decode_samples",
    "finetune",
    "load_finetuned",
    "resolve_checkpoint",
    "run_name",
]


class FinetuneClassifier(nn.Module):
    """logits = W · BN(features(backbone, x, layer)) + b: a network with a linear classifier head.

    ``BN`` is ``BatchNorm1d(affine=False)`` (standardisation with running statistics, nothing
    learned), so the head is linear in the standardised features.

    Shapes: ``x`` the method's network input ``[N, 3, H, W]`` (or ``[N, 3, T, H, W]`` for clip
    methods) -> logits ``[N, n_classes]``.
    """

    def __init__(self, backbone: nn.Module, method: Any, layer: str, dim: int, n_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.method = method
        self.layer = layer
        self.norm = nn.BatchNorm1d(dim, affine=False)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.method.features(self.backbone, x, self.layer).float().flatten(1)
        return self.head(self.norm(f))


# ----------------------------------------------------------------------------- inputs


def resolve_checkpoint(ws: Workspace, checkpoint: str | Path) -> Path:
    """A checkpoint file from a path, a run folder, or a run name under ``<ws>/checkpoints``."""
    p = Path(checkpoint).expanduser()
    for cand in (p, RunDir(p).checkpoint, ws.run(str(checkpoint)).checkpoint):
        if cand.is_file():
            return cand
    have = [r.name for r in ws.runs() if r.has_checkpoint]
    hint = f"; runs in this workspace: {', '.join(have)}" if have else "; train one first (vidsift train METHOD FOLDER)"
    raise BadInputError(f"{checkpoint}: no checkpoint file, run folder or workspace run of that name{hint}")


def run_name(path: Path) -> str:
    """``finetune-<run>``: the run folder's name for ``.../<run>/last.pt``, else the file stem."""
    base = path.parent.name if path == RunDir(path.parent).checkpoint else path.stem
    return safe_name(f"finetune-{base}")


def _sample_indices(num_frames: int, unit: str, per_video: int, clip_len: int) -> np.ndarray:
    """Frame indices ``[S]`` (frames) or ``[S, T]`` (clips), evenly spaced over the video."""
    n = int(num_frames)
    if unit == "clip":
        starts = np.unique(np.linspace(0, max(0, n - clip_len), per_video).round().astype(np.int64))
        return np.clip(starts[:, None] + np.arange(clip_len)[None, :], 0, n - 1)
    return np.unique(np.linspace(0, n - 1, per_video).round().astype(np.int64))


def decode_samples(
    videos: list[tuple[str, str, int]], unit: str, size: tuple[int, int], per_video: int, clip_len: int = 1
) -> dict[str, np.ndarray]:
    """``{video_id: uint8 [S, H, W, 3]}`` (frames) or ``[S, T, H, W, 3]`` (clips) for
    ``videos`` = ``(id, path, num_frames)``, decoded at ``size`` = (H, W)."""
    from vidsift.video import open_video

    out: dict[str, np.ndarray] = {}
    for vid, path, n in videos:
        idx = _sample_indices(n, unit, per_video, clip_len)
        uniq, inverse = np.unique(idx.ravel(), return_inverse=True)
        with open_video(path) as r:
            frames = np.asarray(r.get_frames(uniq.tolist(), size=tuple(size)))
        out[vid] = frames[inverse.ravel()].reshape(*idx.shape, *frames.shape[1:])
    return out


def _labelled_videos(ws: Workspace, folder: str | Path) -> list[Any]:
    from vidsift.catalog import Catalog
    from vidsift.video.scan import scan_folder

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise BadInputError(f"{folder}: no such folder of labelled videos")
    cat = Catalog(ws.catalog_path)
    try:
        scan_folder(cat, folder)
        records = cat.videos(status="ok", root=folder)
    finally:
        cat.close()
    if not records:
        raise BadInputError(f"{folder}: no readable videos to fine-tune on")
    return sorted(records, key=lambda r: r.id)


# ----------------------------------------------------------------------------- training


@dataclass
class _Data:
    x: np.ndarray  # uint8 samples
    y: np.ndarray  # int64 class codes
    group: np.ndarray  # int64 video index (into the split's id list)


def _stack(samples: dict[str, np.ndarray], ids: list[str], code: dict[str, int]) -> _Data:
    xs, ys, gs = [], [], []
    for g, vid in enumerate(ids):
        s = samples[vid]
        xs.append(s)
        ys.append(np.full(len(s), code[vid], np.int64))
        gs.append(np.full(len(s), g, np.int64))
    return _Data(np.concatenate(xs), np.concatenate(ys), np.concatenate(gs))


def _batches(n: int, bs: int, epochs: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index batches of a fresh permutation per epoch; a last batch of one sample joins the one
    before (batch norm cannot standardise a single sample)."""
    out: list[np.ndarray] = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        chunks = [perm[i : i + bs] for i in range(0, n, bs)]
        if len(chunks) > 1 and len(chunks[-1]) == 1:
            chunks[-2:] = [np.concatenate(chunks[-2:])]
        out += chunks
    return out


@torch.no_grad()
def _logits(net: nn.Module, method: Any, cfg: TrainConfig, x: np.ndarray, bs: int, dev: torch.device) -> torch.Tensor:
    net.eval()
    out = [net(method.preprocess(x[i : i + bs], cfg).to(dev)).float().cpu() for i in range(0, len(x), bs)]
    return torch.cat(out)


def _scores(logits: torch.Tensor, data: _Data, n_videos: int, n_classes: int) -> dict[str, float]:
    prob = logits.softmax(1).numpy()
    pred = prob.argmax(1)
    votes = np.zeros((n_videos, n_classes))
    np.add.at(votes, (data.group, pred), 1.0)
    mean_p = np.zeros((n_videos, n_classes))
    np.add.at(mean_p, data.group, prob)
    yv = np.zeros(n_videos, np.int64)
    yv[data.group] = data.y
    return {
        "frame": float((pred == data.y).mean()),
        "video_vote": float((np.argmax(votes + 1e-3 * mean_p, 1) == yv).mean()),
        "video_mean": float((np.argmax(mean_p, 1) == yv).mean()),
    }


def _train_run(
    net: FinetuneClassifier,
    method: Any,
    cfg: TrainConfig,
    train: _Data,
    batches: list[np.ndarray],
    steps_per_epoch: int,
    lr: float,
    seed: int,
    dev: torch.device,
    run: str,
    log_path: Path,
    bar: Any,
) -> dict[str, float]:
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    torch.manual_seed(seed + 2)  # the dropout stream: the same for both runs
    t0 = time.perf_counter()
    losses: list[float] = []
    correct = seen = 0
    metrics: dict[str, float] = {}
    for step, idx in enumerate(batches):
        net.train()
        x = method.preprocess(train.x[idx], cfg).to(dev)
        y = torch.from_numpy(train.y[idx]).to(dev)
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"fine-tuning ({run}): loss became {value} at step {step + 1}; lower --lr")
        losses.append(value)
        correct += int((logits.detach().argmax(1) == y).sum())
        seen += len(idx)
        if bar is not None:
            bar.update(1)
        if (step + 1) % steps_per_epoch == 0:
            metrics = {
                "run": run,
                "epoch": (step + 1) // steps_per_epoch,
                "step": step + 1,
                "loss": float(np.mean(losses)),
                "train_acc": correct / max(seen, 1),
                "time": round(time.perf_counter() - t0, 3),
                "lr": lr,
            }
            with open(log_path, "a") as f:
                f.write(json.dumps(metrics) + "\n")
            losses, correct, seen = [], 0, 0
    return {"train_loss": metrics.get("loss", float("nan")), "train_acc": metrics.get("train_acc", float("nan"))}


def _save(
    path: Path, net: FinetuneClassifier, cfg: TrainConfig, step: int, metrics: dict[str, Any], extra: dict[str, Any]
) -> Path:
    """The checkpoint format of ``training.checkpoint`` + the head under ``"finetune"``."""
    from vidsift import __version__ as version

    payload = {
        "format_version": FORMAT_VERSION,
        "method": cfg.method,
        "config": cfg.to_dict(),
        "model": {k: v.detach().cpu() for k, v in net.backbone.state_dict().items()},
        "optimizer": None,
        "step": int(step),
        "rng": rng_state(),
        "metrics": metrics,
        "vidsift_version": str(version),
        "finetune": {
            **extra,
            "norm": {k: v.detach().cpu() for k, v in net.norm.state_dict().items()},
            "head": {k: v.detach().cpu() for k, v in net.head.state_dict().items()},
        },
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_finetuned(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[FinetuneClassifier, list[str], LoadedModel]:
    """A fine-tuned classifier back from ``last.pt`` / ``random-init.pt``: ``(net in eval mode,
    class names, LoadedModel of the backbone)``."""
    lm = load_model(path, map_location=map_location)
    ck = load_checkpoint(path, map_location=map_location)
    ft = ck.get("finetune")
    if not isinstance(ft, dict) or "head" not in ft:
        raise WorkspaceError(f"{path}: not a fine-tuned checkpoint (no classifier head); run vidsift finetune")
    weight = ft["head"]["weight"]
    net = FinetuneClassifier(lm.model, lm.method, str(ft["layer"]), int(weight.shape[1]), int(weight.shape[0]))
    net.norm.load_state_dict(ft["norm"])
    net.head.load_state_dict(ft["head"])
    net.to(map_location).eval()
    return net, [str(c) for c in ft["classes"]], lm


def finetune(
    ws: Workspace,
    checkpoint: str | Path,
    folder: str | Path,
    shots: int = 5,
    epochs: int = 10,
    lr: float = 1e-4,
    seed: int = 0,
    batch_size: int = 32,
    per_video: int = 16,
    layer: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> dict[str, Any]:
    """Fine-tune ``checkpoint`` on the labelled videos of ``folder`` and the same network from
    random init, identically; test accuracy of both on held-out videos.

    Args:
        checkpoint: a checkpoint file, a run folder, or a run name under ``<ws>/checkpoints``.
        folder: labelled videos, one sub-folder per class (scanned into the catalog).
        shots: training videos per class; the other videos of each class are the test set.
        epochs: passes over the training samples (the same number of steps for both runs).
        per_video: frames (or clips) sampled evenly from each video.
        layer: the feature layer under the head (default: the method's ``DEFAULT_LAYER``).

    Returns:
        ``{"pretrained": {"frame", "video_vote", "video_mean", "train_loss", "train_acc"},
        "random_init": {...}, "gain": {level: pretrained - random_init}, "chance": {"uniform",
        "majority_frame", "majority_video"}, "classes", "train_ids", "test_ids", "steps",
        "checkpoint", "baseline_checkpoint", "log", ...}``.

    Raises:
        BadInputError: no checkpoint, no labels, fewer than two classes, a class with fewer
            than ``shots + 1`` videos, bad numbers.
        WorkspaceError: the output run folder already holds a fine-tune run (``overwrite``).
    """
    for name, value, low in (("shots", shots, 1), ("epochs", epochs, 1), ("batch-size", batch_size, 1), ("per-video", per_video, 1)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise BadInputError(f"--{name} must be an integer >= {low}, got {value!r}")
    if not lr > 0:
        raise BadInputError(f"--lr must be positive, got {lr}")
    src = resolve_checkpoint(ws, checkpoint)
    lm = load_model(src, map_location="cpu")
    method, cfg = lm.method, lm.cfg
    layer = method.check_layer(layer)
    records = _labelled_videos(ws, folder)
    video_label = {r.id: r.label for r in records if r.label}
    if not video_label:
        raise BadInputError(f"{folder}: {NO_LABELS}")
    classes = check_classes(video_label, shots + 1, "fine-tuning")
    cls_code = {c: i for i, c in enumerate(classes)}
    code = {v: cls_code[lab] for v, lab in video_label.items()}
    train_ids, test_ids = split_by_video(video_label, int(shots), np.random.default_rng([int(seed), 0]))

    out = ws.run(run_name(src))
    if out.checkpoint.exists() and not overwrite:
        raise WorkspaceError(f"{out.path} already holds a fine-tune run; pass --overwrite to replace it")
    out.path.mkdir(parents=True, exist_ok=True)
    log_path = out.log
    log_path.unlink(missing_ok=True)

    unit = method.UNIT
    by_id = {r.id: r for r in records}
    samples = decode_samples(
        [(v, by_id[v].path, by_id[v].num_frames) for v in train_ids + test_ids],
        unit, cfg.input_size, int(per_video), cfg.clip_len,
    )
    train = _stack(samples, train_ids, code)
    test = _stack(samples, test_ids, code)
    bs = min(int(batch_size), len(train.y))
    batches = _batches(len(train.y), bs, int(epochs), np.random.default_rng([int(seed), 1]))
    steps = len(batches)
    steps_per_epoch = steps // int(epochs)

    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with torch.no_grad():
        probe_x = method.preprocess(train.x[:2], cfg)
        lm.model.eval()
        dim = int(method.features(lm.model, probe_x, layer).flatten(1).shape[1])

    bar = None
    if progress:
        from vidsift.progress import progress_bar

        bar = progress_bar(total=2 * steps, desc=f"finetune {cfg.method}", unit="step")
    results: dict[str, dict[str, float]] = {}
    ft_cfg = cfg.replace(seed=int(seed), lr=float(lr), steps=steps, batch_size=bs, optimizer="adam", data_ids=tuple(sorted(train_ids)))
    extra = {
        "classes": classes, "layer": layer, "shots": int(shots), "epochs": int(epochs),
        "per_video": int(per_video), "source": str(src), "source_sha256": lm.sha256,
        "train_ids": list(train_ids), "test_ids": list(test_ids),
    }
    paths = {"pretrained": out.checkpoint, "random_init": out.baseline}
    try:
        for run in RUNS:
            if run == "pretrained":
                backbone = copy.deepcopy(lm.model)
            else:
                torch.manual_seed(int(seed))
                backbone = method.build_model(cfg)
                if unit == "frame":
                    fit_src = ArrayFrameSource({v: samples[v] for v in train_ids})
                else:  # clips -> their frames, one "video" per clip
                    fit_src = ArrayFrameSource({f"{v}:{i}": c for v in train_ids for i, c in enumerate(samples[v])})
                method.init_from_data(backbone, cfg, fit_src)
            torch.manual_seed(int(seed) + 1)  # the same head init for both runs
            net = FinetuneClassifier(backbone, method, layer, dim, len(classes)).to(dev)
            fit = _train_run(net, method, cfg, train, batches, steps_per_epoch, float(lr), int(seed), dev, run, log_path, bar)
            scores = _scores(_logits(net, method, cfg, test.x, bs, dev), test, len(test_ids), len(classes))
            results[run] = {**scores, **fit}
            _save(paths[run], net, ft_cfg, steps, {**results[run], "loss": fit["train_loss"]}, {**extra, "init": run})
    finally:
        if bar is not None:
            bar.close()
    atomic_write_json(out.config, ft_cfg.to_dict())

    C = len(classes)
    yv = np.array([code[v] for v in test_ids])
    return {
        "method": cfg.method,
        "source_checkpoint": str(src),
        "layer": layer,
        "unit": unit,
        "classes": classes,
        "n_classes": C,
        "shots": int(shots),
        "epochs": int(epochs),
        "steps": steps,
        "batch_size": bs,
        "lr": float(lr),
        "seed": int(seed),
        "per_video": int(per_video),
        "n_train_videos": len(train_ids),
        "n_test_videos": len(test_ids),
        "n_train_samples": int(len(train.y)),
        "n_test_samples": int(len(test.y)),
        "train_ids": list(train_ids),
        "test_ids": list(test_ids),
        "pretrained": results["pretrained"],
        "random_init": results["random_init"],
        "gain": {lv: results["pretrained"][lv] - results["random_init"][lv] for lv in ("frame", "video_vote", "video_mean")},
        "chance": {
            "uniform": 1.0 / C,
            "majority_frame": float(np.bincount(test.y, minlength=C).max() / len(test.y)),
            "majority_video": float(np.bincount(yv, minlength=C).max() / len(yv)),
        },
        "checkpoint": str(paths["pretrained"]),
        "baseline_checkpoint": str(paths["random_init"]),
        "log": str(log_path),
        "device": str(dev),
    }
