"""``c3d-siamese``: a C3D Siamese network trained on randomly mined s-t volume pairs (card D,
Paul, Roy & Roy-Chowdhury 2018, "Incorporating scalability in unsupervised spatio-temporal
feature learning").

* Pairs: Algorithm 1 (``training.data.pair_mining``): positives are two non-overlapping
  volumes of one video (the second transformed by F in {I, F1, F2, F1∘F2}), negatives are
  volumes of two videos (F1, F2 each with probability 1/2); 30 % positives.
* Network: the small C3D (``training.models.c3d``) as T, f in R^2048; G = fc 4096 -> 64 -> 1;
  dropout 0.5 on the fc layers except the output.
* Loss: ``PairHingeLoss`` (class-balanced hinge, Eq. 2). The paper's ``lambda ||W||`` with
  lambda = 0.0005 is the optimiser's weight decay (``weight_decay`` = 5e-4; Adam adds lambda W to
  the gradient, i.e. the usual squared-norm penalty lambda/2 ||W||^2 -- the paper's
  unsquared Frobenius norm is read as this standard weight decay).
* Optimiser: Adam, batch 10 (paper). The learning rate is not given; 1e-4 for ``paper``.

Presets: ``paper`` -- 16 x 112 x 112 volumes cut from frames decoded at 128 x 171 (Tran et al.),
width 1, f in R^2048. ``cpu`` -- 8 x 64 x 64 volumes from 72 x 96 frames, a quarter of the
channels and f in R^512, which trains on two CPU cores; lr 1e-3 and NO dropout: with dropout 0.5
this narrow net stayed at chance (held-out pair accuracy 0.50 after 200 steps on moving-shape
videos) while without it it reached 0.70 (docs/c3d_ul.md).

Features (``features``, ``video_embedding``): post-ReLU fc6 or fc7 activations of the trunk;
the paper's video retrieval mean-pools fc7 over 10 random volumes of each video.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vidsift.errors import BadInputError
from vidsift.training.config import TrainConfig
from vidsift.training.data.pair_mining import VolumePairStream
from vidsift.training.data.source import FrameSource
from vidsift.training.losses.pair_hinge_loss import PairHingeLoss
from vidsift.training.methods.base import Method
from vidsift.training.models.c3d import C3D, SiameseC3D
from vidsift.video.clips import centred_clips, clip_from

_RUN = {"optimizer": "adam", "lr": 1e-4, "weight_decay": 5e-4, "batch_size": 10}


@dataclass(frozen=True)
class C3DSiameseParams:
    """Hyper-parameters of ``c3d-siamese`` (paper values)."""

    frame_size: tuple[int, int] = (128, 171)  # (H, W) frames are decoded at (Tran et al.: 128x171)
    width: float = 1.0  # channel multiplier of the C3D trunk (paper: 1)
    out_dim: int = 2048  # size of f, the trunk's output (paper: 2048)
    hidden: int = 64  # units of G's hidden layer (paper: 4096 -> 64 -> 1)
    dropout: float = 0.5  # dropout on the fc layers except the output (paper: 0.5)
    pos_ratio: float = 0.3  # share of positive (same-video) pairs (paper: 30 %)
    margin: float = 1.0  # margin of the class-balanced hinge loss (Eq. 2: 1)


class C3DSiameseMethod(Method):
    NAME = "c3d-siamese"
    DESCRIPTION = (
        "C3D Siamese network on randomly mined pairs of s-t volumes: same video (non-overlapping, "
        "colour/flip transformed) vs different videos, class-balanced hinge loss (Paul et al. 2018)"
    )
    UNIT = "clip"
    SAMPLE = "pair of s-t volumes"
    LAYERS = ("fc6", "fc7")
    DEFAULT_LAYER = "fc7"
    Params = C3DSiameseParams
    PRESETS = {
        "paper": {**_RUN, "steps": 100_000, "clip_len": 16, "input_size": (112, 112)},
        # a quarter of the channels, f in R^512, lr 1e-3 and no dropout (module docstring)
        "cpu": {
            "lr": 1e-3,
            "steps": 500,
            "clip_len": 8,
            "input_size": (64, 64),
            "frame_size": (72, 96),
            "width": 0.25,
            "out_dim": 512,
            "dropout": 0.0,
        },
    }

    def validate_config(self, cfg: TrainConfig) -> None:
        p = self.params(cfg)
        fh, fw = p.frame_size
        h, w = cfg.input_size
        if h > fh or w > fw:
            raise BadInputError(
                f"c3d-siamese crops {h}x{w} volumes from frames decoded at {fh}x{fw}; "
                "frame_size must be at least input_size"
            )
        if min(h, w) < 16:
            raise BadInputError(f"c3d-siamese needs input_size of at least 16x16, got {h}x{w}")
        if not 0.0 <= p.pos_ratio <= 1.0:
            raise BadInputError("pos_ratio must be in [0, 1]")
        if p.width <= 0:
            raise BadInputError("width must be positive")

    def build_model(self, cfg: TrainConfig) -> SiameseC3D:
        p = self.params(cfg)
        trunk = C3D(
            clip_len=cfg.clip_len,
            input_size=cfg.input_size,
            out_dim=p.out_dim,
            width=p.width,
            dropout=p.dropout,
        )
        return SiameseC3D(trunk, hidden=p.hidden, dropout=p.dropout)

    def build_loss(self, cfg: TrainConfig) -> PairHingeLoss:
        return PairHingeLoss(margin=self.params(cfg).margin)

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> VolumePairStream:
        p = self.params(cfg)
        return VolumePairStream(
            cfg, source, self, frame_size=p.frame_size, pos_ratio=p.pos_ratio
        )

    def step(self, model, loss_fn, batch):
        t = model(batch["x1"], batch["x2"])
        y = batch["y"]
        loss = loss_fn(t.float(), y)
        with torch.no_grad():
            acc = ((t.float() > 0).float() * 2 - 1 == y).float().mean()
        return loss, {"pair_acc": acc}

    def features(self, model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        layer = self.check_layer(layer)
        net = model.module if hasattr(model, "module") else model
        return net.features(x, layer)


# -- clips and video-level embeddings ----------------------------------------------------------


def frame_aligned_clips(num_frames: int, frame_indices, clip_len: int) -> np.ndarray:
    """Start index of the clip centred on each sampled frame (``f - clip_len // 2``), shifted to
    stay inside the video, so a clip embedding can be stored under the frame it is centred on
    (and clip and frame embedders share one index). ``int64 [len(frame_indices)]``."""
    f = np.asarray(frame_indices, dtype=np.int64)
    if num_frames < 1 or clip_len < 1:
        raise BadInputError(f"need num_frames >= 1 and clip_len >= 1, got {num_frames}, {clip_len}")
    if f.size and (f.min() < 0 or f.max() >= num_frames):
        raise BadInputError(
            f"frame indices must lie in [0, {num_frames}), got {f.min()}..{f.max()}"
        )
    return centred_clips(f, clip_len, num_frames)[:, 0]  # what extraction stores


def default_preprocess(clips: np.ndarray) -> torch.Tensor:
    """uint8 ``[N, T, H, W, 3]`` -> float ``[N, 3, T, H, W]`` as ``C3DSiameseMethod.preprocess``."""
    return C3DSiameseMethod().preprocess(clips, None)  # type: ignore[arg-type]


@torch.no_grad()
def video_embedding(
    model: nn.Module,
    source: FrameSource,
    video_id: str,
    n_volumes: int = 10,
    seed: int = 0,
    *,
    layer: str = "fc7",
    frame_size: tuple[int, int] | None = None,
    preprocess: Callable[[np.ndarray], torch.Tensor] = default_preprocess,
) -> np.ndarray:
    """Mean of the ``layer`` features of ``n_volumes`` random s-t volumes of one video (the
    paper's retrieval: 10 volumes, fc7, mean pooling) -> float32 ``[D]``.

    ``model`` is a ``SiameseC3D`` or ``C3D``; volumes have its ``clip_len`` x ``input_size``,
    cut at random positions from frames decoded at ``frame_size`` (default: the input size,
    i.e. whole frames). Videos shorter than a clip repeat their last frame. The model is put in
    eval mode for the call and restored after.
    """
    trunk = model.trunk if hasattr(model, "trunk") else model
    T, (h, w) = trunk.clip_len, trunk.input_size
    fh, fw = frame_size or (h, w)
    if fh < h or fw < w:
        raise BadInputError(f"frame_size {fh}x{fw} is smaller than the network input {h}x{w}")
    n = int(source.num_frames(video_id))
    rng = np.random.default_rng([int(seed), n])
    clips = []
    for _ in range(int(n_volumes)):
        t = int(rng.integers(0, max(1, n - T + 1)))
        y, x = int(rng.integers(0, fh - h + 1)), int(rng.integers(0, fw - w + 1))
        frames = source.get_frames(video_id, clip_from(t, T, n).tolist(), (fh, fw))
        clips.append(frames[:, y : y + h, x : x + w])
    was_training = model.training
    model.eval()
    try:
        device = next(trunk.parameters()).device
        feats = trunk.features(preprocess(np.stack(clips)).to(device), layer)
    finally:
        model.train(was_training)
    return feats.mean(0).float().cpu().numpy()


__all__ = [
    "C3DSiameseMethod",
    "frame_aligned_clips",
    "video_embedding",
]
