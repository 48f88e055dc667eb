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

import torch
from torch import nn

from training.config import TrainConfig
from training.data.samplers import TripletStream
from training.data.source import FrameSource
from training.losses import TripletRankingLoss
from training.methods.siamese import CPU_RUN, PAPER_RUN, AlexNetMethod, embed


class TripletMethod(AlexNetMethod):
    NAME = "triplet"
    DESCRIPTION = (
        "Triplet ranking AlexNet: a patch and its tracked self closer (cosine) than patches of "
        "other videos, hard negative mining (Wang & Gupta 2015)"
    )
    SAMPLE = "triplet"
    PRESETS = {
        "paper": {
            **PAPER_RUN,
            "batch_size": 100,
            "params": {
                "fc6": 4096, "fc7": 1024, "dropout": 0.5, "margin": 0.5, "hard_negatives": 4,
                "hard_start": 0.5, "frame_size": (448, 600), "patch": 227, "track_len": 30,
                "track_stride": 3, "radius": 24,
            },
        },
        "cpu": {
            **CPU_RUN,
            "batch_size": 32,
            "params": {
                "fc6": 512, "fc7": 128, "dropout": 0.0, "margin": 0.5, "hard_negatives": 4,
                "hard_start": 0.5, "frame_size": (96, 96), "patch": 64, "track_len": 8,
                "track_stride": 2, "radius": 8,
            },
        },
    }

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        return TripletRankingLoss(
            margin=float(cfg.p("margin", 0.5)),
            hard_negatives=int(cfg.p("hard_negatives", 4)),
            mining="random",
        )

    def begin_step(self, model, loss_fn, step, cfg) -> None:
        # the paper's schedule: random negatives first, hard negatives afterwards
        hard_from = int(float(cfg.p("hard_start", 0.5)) * cfg.steps)
        loss_fn.mining = "topk" if step >= hard_from else "random"

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> TripletStream:
        return TripletStream(
            cfg, source, self,
            frame_size=tuple(cfg.p("frame_size", (96, 96))),
            patch=int(cfg.p("patch", 64)),
            track_len=int(cfg.p("track_len", 8)),
            track_stride=int(cfg.p("track_stride", 1)),
            radius=int(cfg.p("radius", 8)),
        )

    def step(self, model, loss_fn, batch):
        a, p = embed(model, batch["x"]).chunk(2)
        loss = loss_fn(a, p, batch["video"])
        with torch.no_grad():
            metrics = {"d_pos": (1 - torch.nn.functional.cosine_similarity(a, p, dim=1)).mean()}
        return loss, metrics
