"""``siamese``: the Siamese contrastive loss Ls of Redondo-Cabrera et al. (card B).

Pairs: adjacent frames of one video (V_i,t, V_i,t+w), w = 1, y = 1; and a frame with a random
frame of another video (V_i,t, V_j,t'), y = 0. Ls = y d + (1 - y) max(0, delta - d), d Euclidean
on the fc7 output, delta = 1. The paper does not give the share of positive pairs in its batches
of 120 pairs; vidsift uses half and half (``pos_fraction``).

``siamese-mu`` is the paper's "More Unsupervised" variant: all videos concatenated (seeded random
order) into one long video; the negative is any frame of it outside the query's window
(``training.data.samplers``).

This module also holds what the AlexNet-based methods share (``AlexNetMethod``: the randomly
initialised AlexNet trunk + fc6/fc7 of Redondo-Cabrera et al. and Wang & Gupta, with its
hyper-parameters ``AlexNetParams``; the paper run ``PAPER_RUN`` and what the ``cpu`` preset changes
from it, ``CPU_RUN``; and ``SmallConvEmbedding``, the tiny ``backbone="small"`` stand-in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from vidsift.errors import BadInputError
from vidsift.training.config import NOT_IN_PRESETS, TrainConfig
from vidsift.training.data.augment import ViewAugment
from vidsift.training.data.samplers import PairStream
from vidsift.training.data.source import FrameSource
from vidsift.training.losses import ContrastiveLoss, FalseNegativeFilter, L2Normalized
from vidsift.training.methods.base import Method
from vidsift.training.models import AlexNetEmbedding

# -- the Siamese base network, shared by siamese, quadruplet, drlim and triplet ----------------

#: paper-scale runtime settings shared by the AlexNet methods
PAPER_RUN: dict[str, Any] = {
    "steps": 50_000,
    "lr": 1e-3,
    "optimizer": "sgd",
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "input_size": (227, 227),
    "num_workers": 8,
    "log_every": 100,
    "checkpoint_every": 2_000,
}
#: what the laptop-scale ``cpu`` preset changes from ``PAPER_RUN``: 64x64 (the smallest input the
#: AlexNet trunk takes), small fc layers without dropout, Adam, a few hundred steps
CPU_RUN: dict[str, Any] = {
    "steps": 300,
    "lr": 1e-4,
    "optimizer": "adam",
    "input_size": (64, 64),
    "num_workers": 1,
    "log_every": 25,
    "checkpoint_every": 100,
    "fc6": 512,
    "fc7": 128,
    "dropout": 0.0,
}


@dataclass(frozen=True)
class AlexNetParams:
    """Hyper-parameters of the AlexNet embedding every AlexNet method trains (paper values)."""

    fc6: int = 4096  # units of fc6, the default feature layer (paper: 4096)
    fc7: int = 4096  # units of fc7, the output the loss sees (siamese, drlim: 4096; others 1024)
    dropout: float = 0.5  # dropout between fc6 and fc7 (AlexNet's 0.5)
    #: not in the papers (issue #19; siamese, quadruplet, drlim): every frame of a pair / tuple
    #: gets its own SimCLR view (``training.data.augment.ViewAugment``: crop from 30% of the
    #: area, flip, jitter 0.4, greyscale 0.2 -- infonce's cpu strengths)
    augment: bool = field(default=False, metadata=NOT_IN_PRESETS)
    #: not in the papers (issue #19; siamese, quadruplet, drlim): the loss sees L2-normalised
    #: fc7 outputs (``training.losses.L2Normalized``), so margins are on the unit sphere
    normalize: bool = field(default=False, metadata=NOT_IN_PRESETS)
    #: not in the papers (issue #19; siamese, quadruplet, drlim): drop the negatives that the
    #: network, as it stands, already finds closer than the positives
    #: (``training.losses.FalseNegativeFilter``): other videos may show the same subject
    fn_filter: bool = field(default=False, metadata=NOT_IN_PRESETS)
    #: "alexnet" (every preset) or "small" (``SmallConvEmbedding``: tests, quick CPU runs)
    backbone: str = field(default="alexnet", metadata=NOT_IN_PRESETS)


class SmallConvEmbedding(nn.Module):
    """fc7 = W7 fc6, fc6 = ReLU(W6 pool(conv3(conv2(conv1(x))))): a tiny stand-in for AlexNet.

    Not from any paper: three conv layers (16-32-64 maps) and the same fc6/fc7 head and layer
    names as ``AlexNetEmbedding``, about 10x cheaper than AlexNet at 64x64 and usable at 32x32.
    Selected with ``backbone="small"``; meant for tests and quick CPU experiments.
    """

    LAYERS = ("fc6", "fc7")

    def __init__(self, fc6: int = 128, fc7: int = 32, dropout: float = 0.0) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(3, 16, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(2),
        )
        self.fc6 = nn.Linear(64 * 4, fc6)
        self.dropout = nn.Dropout(float(dropout))
        self.fc7 = nn.Linear(fc6, fc7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc7(self.dropout(torch.relu(self.fc6(self.trunk(x).flatten(1)))))

    def features(self, x: torch.Tensor, layer: str = "fc6") -> torch.Tensor:
        f6 = torch.relu(self.fc6(self.trunk(x).flatten(1)))
        return f6 if layer == "fc6" else self.fc7(self.dropout(f6))


BACKBONES = ("alexnet", "small")


class AlexNetMethod(Method):
    """AlexNet conv trunk (random init) + fc6 + fc7; features at fc6 (default) or fc7.

    ``backbone="small"`` swaps the AlexNet trunk for ``SmallConvEmbedding`` (tests, quick CPU
    runs); every preset uses ``"alexnet"``.
    """

    LAYERS = ("fc6", "fc7")
    DEFAULT_LAYER = "fc6"
    Params = AlexNetParams
    #: whether ``augment`` / ``normalize`` are wired into this method's stream and loss
    LEVERS = False

    def validate_config(self, cfg: TrainConfig) -> None:
        p = self.params(cfg)
        if (p.augment or p.normalize or p.fn_filter) and not self.LEVERS:
            raise BadInputError(
                f"{self.NAME}: augment, normalize and fn_filter are offered for siamese, quadruplet and drlim only"
            )
        backbone = p.backbone
        if backbone not in BACKBONES:
            raise BadInputError(
                f"{self.NAME}: unknown backbone {backbone!r}; use one of {', '.join(BACKBONES)}"
            )
        if backbone == "alexnet" and min(cfg.input_size) < 63:
            raise BadInputError(
                f"{self.NAME}: the AlexNet trunk needs inputs of at least 63x63, got "
                f"{cfg.input_size[0]}x{cfg.input_size[1]}; use input_size=(64, 64) or larger"
            )

    def build_model(self, cfg: TrainConfig) -> nn.Module:
        p = self.params(cfg)
        if p.backbone == "small":
            return SmallConvEmbedding(fc6=p.fc6, fc7=p.fc7, dropout=p.dropout)
        return AlexNetEmbedding(
            fc6=p.fc6, fc7=p.fc7, dropout=p.dropout, input_size=int(cfg.input_size[0])
        )

    def features(self, model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        return model.features(x, self.check_layer(layer))

    def view_augment(self, cfg: TrainConfig) -> ViewAugment | None:
        """The per-frame augmentation of ``augment`` (None when off)."""
        return ViewAugment(crop_min=0.3, jitter=0.4) if self.params(cfg).augment else None

    def loss_on(self, cfg: TrainConfig, loss: nn.Module) -> nn.Module:
        """``loss``, without false negatives when ``fn_filter``, on L2-normalised outputs when
        ``normalize`` (the filter measures distances where the loss does)."""
        p = self.params(cfg)
        loss = FalseNegativeFilter(loss) if p.fn_filter else loss
        return L2Normalized(loss) if p.normalize else loss


def embed(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One forward pass over the whole batch (all tuple members at once), in float32."""
    return model(x).float()


# -- Ls ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiameseParams(AlexNetParams):
    """Hyper-parameters of ``siamese`` and ``siamese-mu`` (paper values)."""

    margin: float = 1.0  # delta: negative pairs are pushed at least this far apart (paper: 1)
    w: int = 1  # frames between the two frames of a positive pair (paper: 1, adjacent)
    pos_fraction: float = 0.5  # share of positive pairs in a batch (not given; half)


class SiameseMethod(AlexNetMethod):
    NAME = "siamese"
    DESCRIPTION = (
        "Siamese AlexNet, contrastive loss Ls: adjacent frames close, frames of other videos "
        "at least delta apart (Redondo-Cabrera et al.)"
    )
    SAMPLE = "pair"
    NEGATIVES = "other-video"
    Params = SiameseParams
    LEVERS = True
    PRESETS = {
        "paper": {**PAPER_RUN, "batch_size": 120},  # batches of 120 pairs
        "cpu": {**CPU_RUN, "batch_size": 32},
    }

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        return self.loss_on(cfg, ContrastiveLoss(margin=self.params(cfg).margin))

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> PairStream:
        p = self.params(cfg)
        return PairStream(
            cfg, source, self, w=p.w, pos_fraction=p.pos_fraction, negatives=self.NEGATIVES,
            augment=self.view_augment(cfg),
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
