"""``drlim``: the "SFA" contrastive baseline (Hadsell et al. 2006 / Mobahi et al. 2009), card A
section 3 and card B.

Same Siamese AlexNet as ``siamese`` (fc 4096/4096) but the pairs come from ONE video:
contiguous frames (|t - t'| = w = 1, y = 1) are pulled together, non-contiguous frames
(|t - t'| > w, y = 0) pushed at least ``margin`` apart; L = y d + (1 - y) max(0, m - d).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from vidsift.training.config import TrainConfig
from vidsift.training.data.samplers import PairStream
from vidsift.training.data.source import FrameSource
from vidsift.training.losses import DrLIMLoss
from vidsift.training.methods.siamese import (
    CPU_RUN,
    PAPER_RUN,
    AlexNetMethod,
    AlexNetParams,
    embed,
    pair_distances,
)


@dataclass(frozen=True)
class DrLIMParams(AlexNetParams):
    """Hyper-parameters of ``drlim`` (the Siamese network of ``siamese``; paper values)."""

    margin: float = 1.0  # m: non-contiguous frames are pushed at least this far apart (1)
    w: int = 1  # contiguous means |t - t'| = w; negatives have |t - t'| > w (1)
    pos_fraction: float = 0.5  # share of contiguous (positive) pairs in a batch (half)


class DrLIMMethod(AlexNetMethod):
    NAME = "drlim"
    DESCRIPTION = (
        "SFA/DrLIM baseline: Siamese AlexNet, contiguous frames close, non-contiguous frames "
        "of the same video at least m apart (Hadsell 2006, Mobahi 2009)"
    )
    SAMPLE = "pair"
    Params = DrLIMParams
    LEVERS = True
    PRESETS = {
        "paper": {**PAPER_RUN, "batch_size": 120},
        "cpu": {**CPU_RUN, "batch_size": 32},
    }

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        return self.loss_on(cfg, DrLIMLoss(margin=self.params(cfg).margin))

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> PairStream:
        p = self.params(cfg)
        return PairStream(
            cfg, source, self, w=p.w, pos_fraction=p.pos_fraction, negatives="same-video",
            augment=self.view_augment(cfg),
        )

    def step(self, model, loss_fn, batch):
        y = batch["y"]
        out = embed(model, batch["x"])
        a, b = out[: len(y)], out[len(y) :]
        return loss_fn(a, b, y), pair_distances(a, b, y)
