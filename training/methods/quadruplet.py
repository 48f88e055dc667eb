"""``quadruplet``: the Quadruplet loss Lq of Redondo-Cabrera et al. (card B).

Tuples (V_i,t, V_i,t+1, V_i,t+n, V_j,t'), n = 20 (the ``cpu`` preset uses n = 10 so short clips
qualify); Lq = d(q, adj) + max(0, d(q, far) - d(q, neg) + alpha), alpha = 0.5, d Euclidean on the
fc7 output (fc 4096/1024). Batches of 40 tuples, one forward pass for all 160 frames.

``quadruplet-mu``: "More Unsupervised" — the negative is any frame of the concatenated long video
outside the query's window of n frames (see ``training.data.samplers``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vidsift.training.config import TrainConfig
from vidsift.training.data.samplers import QuadrupletStream
from vidsift.training.data.source import FrameSource
from vidsift.training.losses import QuadrupletLoss
from vidsift.training.methods.siamese import CPU_RUN, PAPER_RUN, AlexNetMethod, AlexNetParams, embed


@dataclass(frozen=True)
class QuadrupletParams(AlexNetParams):
    """Hyper-parameters of ``quadruplet`` and ``quadruplet-mu`` (paper values)."""

    fc7: int = 1024  # units of fc7, the output the loss sees (paper: 1024)
    alpha: float = 0.5  # margin of d(q, far) below d(q, neg) (paper: 0.5)
    n: int = 20  # frames between the query and the "far" frame of its video (paper: 20)
    w: int = 1  # frames between the query and the adjacent frame (paper: 1)


class QuadrupletMethod(AlexNetMethod):
    NAME = "quadruplet"
    DESCRIPTION = (
        "Quadruplet AlexNet, loss Lq: adjacent frames close, a frame n later closer than a "
        "frame of another video (Redondo-Cabrera et al.)"
    )
    SAMPLE = "quadruplet"
    MU = False
    Params = QuadrupletParams
    LEVERS = True
    PRESETS = {
        "paper": {**PAPER_RUN, "batch_size": 40},  # batches of 40 tuples
        "cpu": {**CPU_RUN, "batch_size": 16, "n": 10},  # n = 10 so short clips qualify
    }

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        return self.loss_on(cfg, QuadrupletLoss(alpha=self.params(cfg).alpha))

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> QuadrupletStream:
        p = self.params(cfg)
        return QuadrupletStream(cfg, source, self, n=p.n, w=p.w, mu=self.MU, augment=self.view_augment(cfg))

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
