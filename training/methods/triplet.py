"""``triplet``: triplet ranking with tracked patches and in-batch hard negatives (Wang & Gupta
2015, card C).

Positives: a patch and the same patch tracked ``track_len`` frames later. The paper mines them
with SURF + IDT motion and a KCF tracker; vidsift uses its own small motion-based block-matching
tracker (``training.data.tracker``; see there for the differences). Negatives: the patches of
other videos in the batch. L = max(0, D(X, X+) - D(X, X-) + M), D = 1 - cos, M = 0.5, on the fc7
output (fc 4096/1024). Mining follows the paper's schedule: random negatives (K = 4 per pair)
first, then the K hardest in the batch from ``hard_start`` (a fraction of the steps; the paper
switched after 150K of 240K-350K iterations, i.e. about 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vidsift.training.config import TrainConfig
from vidsift.training.data.samplers import TripletStream
from vidsift.training.data.source import FrameSource
from vidsift.training.losses import TripletRankingLoss
from vidsift.training.methods.siamese import CPU_RUN, PAPER_RUN, AlexNetMethod, AlexNetParams, embed


@dataclass(frozen=True)
class TripletParams(AlexNetParams):
    """Hyper-parameters of ``triplet`` (paper values; the tracker's are vidsift's own)."""

    fc7: int = 1024  # units of fc7, the output the loss sees (paper: 1024)
    margin: float = 0.5  # M of the ranking loss on D = 1 - cos (paper: 0.5)
    hard_negatives: int = 4  # K negatives per pair, random then the hardest (paper: 4)
    hard_start: float = 0.5  # share of the steps after which mining is hard (paper: ~0.5)
    frame_size: tuple[int, int] = (448, 600)  # (H, W) frames are decoded at (paper: 448x600)
    patch: int = 227  # side of the square patches cropped from them (paper: 227)
    track_len: int = 30  # frames between a patch and its tracked positive (paper: 30)
    track_stride: int = 3  # frames per tracker step (vidsift's tracker)
    radius: int = 24  # block-matching search radius in pixels per step (vidsift's tracker)


class TripletMethod(AlexNetMethod):
    NAME = "triplet"
    DESCRIPTION = (
        "Triplet ranking AlexNet: a patch and its tracked self closer (cosine) than patches of "
        "other videos, hard negative mining (Wang & Gupta 2015)"
    )
    SAMPLE = "triplet"
    Params = TripletParams
    PRESETS = {
        "paper": {**PAPER_RUN, "batch_size": 100},
        "cpu": {
            **CPU_RUN,
            "batch_size": 32,
            "frame_size": (96, 96),
            "patch": 64,
            "track_len": 8,
            "track_stride": 2,
            "radius": 8,
        },
    }

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        p = self.params(cfg)
        return TripletRankingLoss(
            margin=p.margin, hard_negatives=p.hard_negatives, mining="random"
        )

    def begin_step(self, model, loss_fn, step, cfg) -> None:
        # the paper's schedule: random negatives first, hard negatives afterwards
        hard_from = int(self.params(cfg).hard_start * cfg.steps)
        loss_fn.mining = "topk" if step >= hard_from else "random"

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> TripletStream:
        p = self.params(cfg)
        return TripletStream(
            cfg, source, self,
            frame_size=p.frame_size,
            patch=p.patch,
            track_len=p.track_len,
            track_stride=p.track_stride,
            radius=p.radius,
        )

    def step(self, model, loss_fn, batch):
        a, p = embed(model, batch["x"]).chunk(2)
        loss = loss_fn(a, p, batch["video"])
        with torch.no_grad():
            metrics = {"d_pos": (1 - torch.nn.functional.cosine_similarity(a, p, dim=1)).mean()}
        return loss, metrics
