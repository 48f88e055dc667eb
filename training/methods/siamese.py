"""``siamese``: the Siamese contrastive loss Ls of Redondo-Cabrera et al. (card B).

Pairs: adjacent frames of one video (V_i,t, V_i,t+w), w = 1, y = 1; and a frame with a random
frame of another video (V_i,t, V_j,t'), y = 0. Ls = y d + (1 - y) max(0, delta - d), d Euclidean
on the fc7 output, delta = 1. The paper does not give the share of positive pairs in its batches
of 120 pairs; vidsift uses half and half (``pos_fraction``).

``siamese-mu`` is the paper's "More Unsupervised" variant: all videos concatenated (seeded random
order) into one long video; the negative is any frame of it outside the query's window
(``training.data.samplers``).
"""

from __future__ import annotations

import torch
from torch import nn

from training.config import TrainConfig
from training.data.samplers import PairStream
from training.data.source import FrameSource
from training.losses import ContrastiveLoss
from training.methods._alexnet import CPU_RUN, PAPER_RUN, AlexNetMethod, embed


class SiameseMethod(AlexNetMethod):
    NAME = "siamese"
    DESCRIPTION = (
        "Siamese AlexNet, contrastive loss Ls: adjacent frames close, frames of other videos "
        "at least delta apart (Redondo-Cabrera et al.)"
    )
    SAMPLE = "pair"
    NEGATIVES = "other-video"
    PRESETS = {
        "paper": {
            **PAPER_RUN,
            "batch_size": 120,
            "params": {"fc6": 4096, "fc7": 4096, "dropout": 0.5, "margin": 1.0, "w": 1, "pos_fraction": 0.5},
        },
        "cpu": {
            **CPU_RUN,
            "batch_size": 32,
            "params": {"fc6": 512, "fc7": 128, "dropout": 0.0, "margin": 1.0, "w": 1, "pos_fraction": 0.5},
        },
    }

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        return ContrastiveLoss(margin=float(cfg.p("margin", 1.0)))

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> PairStream:
        return PairStream(
            cfg, source, self,
            w=int(cfg.p("w", 1)),
            pos_fraction=float(cfg.p("pos_fraction", 0.5)),
            negatives=self.NEGATIVES,
        )

    def step(self, model, loss_fn, batch):
        y = batch["y"]
        out = embed(model, batch["x"])
        a, b = out[: len(y)], out[len(y) :]
        loss = loss_fn(a, b, y)
        return loss, pair_distances(a, b, y)


def pair_distances(a: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Mean Euclidean distance of positive and of negative pairs (0-d tensors: no GPU sync)."""
    with torch.no_grad():
        d = torch.linalg.vector_norm(a.float() - b.float(), dim=1)
        pos = (y > 0.5).float()
        return {
            "d_pos": (d * pos).sum() / pos.sum().clamp(min=1),
            "d_neg": (d * (1 - pos)).sum() / (1 - pos).sum().clamp(min=1),
        }


class SiameseMUMethod(SiameseMethod):
    NAME = "siamese-mu"
    DESCRIPTION = (
        "Siamese Ls, 'More Unsupervised': videos concatenated into one long video, negatives "
        "are random frames of it (Redondo-Cabrera et al. 4.1.2)"
    )
    NEGATIVES = "mu"
