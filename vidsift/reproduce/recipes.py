"""Experiment recipes: the small, fixed runs behind the evidence tests, the benchmarks and the
results page. Not methods (those are in ``training.methods``): a recipe fixes sizes and
hyper-parameters of one experiment, trains in memory and scores the result.

* C3D Siamese (Paul et al. 2018): :data:`TINY`, :data:`MOTION_RUN`, :data:`DRIFT_RUN`,
  :func:`tiny_config`, :func:`train_steps`, :func:`pair_accuracy`, :func:`nearest_videos`
  (``tests/training/test_c3d.py``, ``bench/c3d_nuisance.py``, section 4 of docs/results.md).
* UL layers, rotating points (section 4.1 of the UL-layers paper): :func:`train_rotation`,
  :func:`angle_decoding_error` and its baselines :func:`pca_error`, :func:`closed_form_error`
  (``tests/training/test_ul.py``, ``bench/ul_rotation.py``, section 5 of docs/results.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from vidsift.errors import BadInputError
from vidsift.training.config import TrainConfig
from vidsift.training.data.source import FrameSource
from vidsift.training.methods.base import Method
from vidsift.training.methods.c3d_siamese import (
    C3DSiameseMethod,
    default_preprocess,
    video_embedding,
)
from vidsift.training.methods.ul import ULCost, ULNet

# -- C3D Siamese (Paul et al. 2018) -----------------------------------------------------------

#: the tiny network of the evidence runs (tests/training/test_c3d.py, bench.c3d_nuisance):
#: 8 x 16 x 16 volumes cut from 24 x 24 frames, widths 8-32, f in R^64, head 128 -> 32 -> 1
TINY: dict[str, Any] = {
    "clip_len": 8,
    "input_size": (16, 16),
    "frame_size": (24, 24),
    "width": 0.125,
    "out_dim": 64,
    "hidden": 32,
    "dropout": 0.0,
    "num_workers": 0,
}


#: the run that learns motion on ``drift_videos`` (docs/c3d_ul.md): 1000 Adam steps of 20 pairs,
#: lr 1e-3 and no weight decay (the paper's 5e-4 let 3 of 6 seeds learn, against 5 of 6)
MOTION_RUN: dict[str, Any] = {"steps": 1000, "batch_size": 20, "lr": 1e-3, "weight_decay": 0.0}

#: the tiny C3D of the motion-only evidence test as ``vidsift reproduce`` trains it on the drift
#: videos (its steps come from ``Settings.drift_steps``)
DRIFT_RUN: dict[str, Any] = {**TINY, **{k: v for k, v in MOTION_RUN.items() if k != "steps"}}


def tiny_config(**overrides: Any) -> TrainConfig:
    """The ``cpu`` preset of ``c3d-siamese`` shrunk to :data:`TINY`, then ``overrides``; runs in
    seconds to a minute on one CPU thread (the evidence runs; not for real footage)."""
    return C3DSiameseMethod().config("cpu", **{**TINY, **overrides})


def train_steps(
    method: Method, model: nn.Module, cfg: TrainConfig, source: FrameSource
) -> list[float]:
    """``cfg.steps`` plain optimiser steps on ``method``'s pair stream, in memory: no checkpoint,
    log or worker processes (``training.trainer.train`` does those). For quick experiments that
    keep their own copy of the random init. Returns the loss of every step."""
    loss_fn, opt = method.build_loss(cfg), method.build_optimizer(model, cfg)
    stream = method.build_dataset(cfg, source)
    losses = []
    model.train()
    for step in range(cfg.steps):
        loss, _ = method.step(model, loss_fn, stream.batch(step))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def nearest_videos(
    model: nn.Module,
    source: FrameSource,
    n_volumes: int = 10,
    seed: int = 1,
    *,
    layer: str = "fc7",
    frame_size: tuple[int, int] | None = None,
) -> list[str]:
    """For each video of ``source`` (in ``source.video_ids`` order), the id of its nearest other
    video by cosine of ``video_embedding`` (the paper's retrieval: mean fc7 of 10 volumes)."""
    ids = list(source.video_ids)
    emb = np.stack(
        [
            video_embedding(
                model, source, v, n_volumes, seed=seed, layer=layer, frame_size=frame_size
            )
            for v in ids
        ]
    )
    emb = emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12)
    sim = emb @ emb.T
    np.fill_diagonal(sim, -np.inf)
    return [ids[j] for j in sim.argmax(1)]


@torch.no_grad()
def pair_accuracy(
    model: nn.Module,
    source: FrameSource,
    frame_size: tuple[int, int],
    volume: tuple[int, int, int],
    n: int = 200,
    seed: int = 123,
    preprocess: Callable[[np.ndarray], torch.Tensor] = default_preprocess,
) -> float:
    """Share of ``n`` balanced mined pairs (Algorithm 1, half positive; mining ``seed``) whose
    score sign says same video (t > 0) or not correctly; chance is 0.5."""
    from vidsift.training.data.pair_mining import PairMiner, decode_pair

    ids = list(source.video_ids)
    miner = PairMiner([source.num_frames(v) for v in ids], frame_size, volume, pos_ratio=0.5)
    specs = miner.sample_batch(np.random.default_rng(seed), n)
    pairs = [decode_pair(source, ids, s, frame_size, volume) for s in specs]
    was_training = model.training
    model.eval()
    try:
        t = model(
            preprocess(np.stack([p[0] for p in pairs])), preprocess(np.stack([p[1] for p in pairs]))
        )
    finally:
        model.train(was_training)
    y = np.array([s.label for s in specs])
    return float(np.mean(np.where(t.cpu().numpy() > 0, 1, -1) == y))


# -- UL layers: the synthetic experiment (rotating points) ------------------------------------


def angle_decoding_error(
    Y_fit: np.ndarray, angles_fit: np.ndarray, Y_test: np.ndarray, angles_test: np.ndarray
) -> tuple[float, float]:
    """Fit [sin, cos] of the angle (degrees) by least squares on ``[Y_fit, 1]``; return the mean
    absolute error on the fit set and on the test set (averaged over sin and cos)."""

    def design(Y: np.ndarray) -> np.ndarray:
        return np.c_[np.asarray(Y, dtype=np.float64), np.ones(len(Y))]

    def target(a: np.ndarray) -> np.ndarray:
        r = np.deg2rad(np.asarray(a, dtype=np.float64))
        return np.c_[np.sin(r), np.cos(r)]

    coef, *_ = np.linalg.lstsq(design(Y_fit), target(angles_fit), rcond=None)
    fit = float(np.abs(design(Y_fit) @ coef - target(angles_fit)).mean())
    test = float(np.abs(design(Y_test) @ coef - target(angles_test)).mean())
    return fit, test


def train_rotation(
    X: np.ndarray,
    angles: np.ndarray,
    *,
    epochs: int = 10,
    n_train: int | None = None,
    lr: float = 0.01,
    momentum: float = 0.9,
    weight_decay: float = 0.1,
    mu: float = 0.5,
    eps: float = 0.001,
    batch: int = 1,
    seed: int = 0,
    train: bool = True,
    subspace: np.ndarray | None = None,
) -> list[dict[str, float]]:
    """The paper's synthetic experiment: FC (D -> 2) + UL layer trained online on ``X[:n_train]``
    (one frame per step when ``batch = 1``), ``epochs`` passes in temporal order.

    After every epoch (and before the first, epoch 0) the 2-D outputs of all frames are decoded
    into sin/cos of the angle by linear regression fitted on the training frames; returns one
    dict per epoch: ``epoch``, ``train_error``, ``test_error`` (mean absolute error on the
    frames after ``n_train``), ``objective`` (J of the UL layer), and with ``subspace``
    (``[D, k]``, e.g. the top principal directions of the clean sequence) ``weight_angle``: the
    largest principal angle in degrees between the FC weight rows and that subspace (the paper's
    Fig. 1(b, c): the weights become the two major eigenvectors). ``train=False`` keeps the
    random initial weights (the baseline).
    """
    X = np.asarray(X, dtype=np.float32)
    n_train = len(X) // 2 if n_train is None else int(n_train)
    if not 2 <= n_train < len(X):
        raise BadInputError(f"n_train must be in [2, {len(X) - 1}], got {n_train}")
    torch.manual_seed(seed)
    net = ULNet((X.shape[1],), 2, mu=mu, eps=eps)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    xt = torch.from_numpy(X)
    cost = ULCost()
    rows = []
    for epoch in range(epochs + 1):
        if epoch > 0 and train:
            net.train()
            for i in range(0, n_train, batch):
                out = net(xt[i : min(i + batch, n_train)])
                opt.zero_grad()
                cost(out, net).backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            Y = net(xt).numpy()
        fit, test = angle_decoding_error(
            Y[:n_train], angles[:n_train], Y[n_train:], angles[n_train:]
        )
        row = {
            "epoch": epoch,
            "train_error": fit,
            "test_error": test,
            "objective": net.ul.objective(),
        }
        if subspace is not None:
            import scipy.linalg

            w = net.fc.weight.detach().double().numpy().T
            row["weight_angle"] = float(np.rad2deg(scipy.linalg.subspace_angles(w, subspace).max()))
        rows.append(row)
    return rows


def top_directions(X: np.ndarray, k: int = 2) -> np.ndarray:
    """The top ``k`` principal directions of the rows of ``X`` -> ``[D, k]``."""
    Xc = X - X.mean(0)
    _, _, Vt = np.linalg.svd(Xc.astype(np.float64), full_matrices=False)
    return Vt[:k].T


def pca_error(X: np.ndarray, angles: np.ndarray, n_train: int) -> float:
    """Test error of :func:`angle_decoding_error` on PCA to 2-D fitted on ``X[:n_train]``."""
    V = top_directions(X[:n_train])
    Y = (X - X[:n_train].mean(0)) @ V
    return angle_decoding_error(Y[:n_train], angles[:n_train], Y[n_train:], angles[n_train:])[1]


def closed_form_error(X: np.ndarray, angles: np.ndarray, n_train: int) -> float:
    """Test error of :func:`angle_decoding_error` on the closed-form UL embedding (Eq. 5; chain
    graph plus 5 nearest neighbours, on all frames: it is transductive)."""
    from vidsift.training.ul import closed_form_embedding

    Y = closed_form_embedding(X, 2, knn=5)
    return angle_decoding_error(Y[:n_train], angles[:n_train], Y[n_train:], angles[n_train:])[1]


__all__ = [
    "DRIFT_RUN",
    "MOTION_RUN",
    "TINY",
    "angle_decoding_error",
    "closed_form_error",
    "nearest_videos",
    "pair_accuracy",
    "pca_error",
    "tiny_config",
    "top_directions",
    "train_rotation",
    "train_steps",
]
