"""``quadruplet``: the Quadruplet loss Lq of Redondo-Cabrera et al. (card B).

Tuples (V_i,t, V_i,t+1, V_i,t+n, V_j,t'), n = 20 (the ``cpu`` preset uses n = 10 so short clips
qualify); Lq = d(q, adj) + max(0, d(q, far) - d(q, neg) + alpha), alpha = 0.5, d Euclidean on the
fc7 output (fc 4096/1024). Batches of 40 tuples, one forward pass for all 160 frames.

``quadruplet-mu``: "More Unsupervised" — the negative is any frame of the concatenated long video
outside the query's window of n frames (see ``training.data.samplers``).
"""

from __future__ import annotations

import torch
from torch import nn

from training.config import TrainConfig
from training.data.samplers import QuadrupletStream
from training.data.source import FrameSource
from training.losses import QuadrupletLoss
from training.methods.siamese import CPU_RUN, PAPER_RUN, AlexNetMethod, embed


class QuadrupletMethod(AlexNetMethod):
    NAME = "quadruplet"
    DESCRIPTION = (
        "Quadruplet AlexNet, loss Lq: adjacent frames close, a frame n later closer than a "
        "frame of another video (Redondo-Cabrera et al.)"
    )
    SAMPLE = "quadruplet"
    MU = False
    PRESETS = {
        "paper": {
            **PAPER_RUN,
            "batch_size": 40,
            "params": {"fc6": 4096, "fc7": 1024, "dropout": 0.5, "alpha": 0.5, "n": 20, "w": 1},
        },
        "cpu": {
            **CPU_RUN,
            "batch_size": 16,
            "params": {"fc6": 512, "fc7": 128, "dropout": 0.0, "alpha": 0.5, "n": 10, "w": 1},
        },
    }

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        return QuadrupletLoss(alpha=float(cfg.p("alpha", 0.5)))

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> QuadrupletStream:
        return QuadrupletStream(
            cfg, source, self, n=int(cfg.p("n", 20)), w=int(cfg.p("w", 1)), mu=self.MU
        )

    def step(self, model, loss_fn, batch):
        q, adj, far, neg = embed(model, batch["x"]).chunk(4)
        loss = loss_fn(q, adj, far, neg)
        with torch.no_grad():
            metrics = {
                "d_adj": torch.linalg.vector_norm(q - adj, dim=1).mean(),
                "d_far": torch.linalg.vector_norm(q - far, dim=1).mean(),
                "d_neg": torch.linalg.vector_norm(q - neg, dim=1).mean(),
            }
        return loss, metrics


class QuadrupletMUMethod(QuadrupletMethod):
    NAME = "quadruplet-mu"
    DESCRIPTION = (
        "Quadruplet Lq, 'More Unsupervised': negatives are random frames of all videos "
        "concatenated into one (Redondo-Cabrera et al. 4.1.2)"
    )
    MU = True
