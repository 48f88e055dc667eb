"""``infonce``: temporal InfoNCE / SimCLR-style contrastive encoder (beyond the seed papers).

Not one of the five papers vidsift reproduces: the modern baseline the issue #19 asked for, so
that every claim about the published methods stands beside what a current self-supervised
recipe does on the same data. Two frames of one video, at most ``max_gap`` frames apart, each
with its own SimCLR augmentation (``training.data.augment.ViewAugment``: random resized crop,
flip, colour jitter, greyscale), are a positive pair; the other 2N - 2 views of the batch are the
negatives (``training.losses.InfoNCELoss``, temperature 0.1). The videos of a batch are all
different when there are enough (``TwoViewStream``), since two clips of one video would
otherwise be pushed apart. Network: a small ResNet from random init (``SmallResNet``; no
downloaded weights) with SimCLR's 2-layer projection head; features at the pooled
representation ("pool", default) or the projection ("proj").

Sources: van den Oord et al. 2018 (InfoNCE), Chen et al. 2020 (SimCLR: two augmented views,
NT-Xent, projection head, features before the head); temporal positives as in Qian et al. 2021
(CVRL) and Feichtenhofer et al. 2021 ("A large-scale study on unsupervised spatiotemporal
representation learning"), here on single frames.

Choices written down: ``paper`` is SimCLR's recipe scaled to one GPU (ResNet-18 trunk, 112x112,
batch 256, AdamW rather than LARS, crop from 8% of the area, jitter 0.8); ``cpu`` is ResNet-10
at 64x64, batch 32 pairs, 300 steps, milder crops (from 30%) and jitter (0.4), which at 64x64
leave enough of the frame to recognise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vidsift.errors import BadInputError
from vidsift.training.config import TrainConfig
from vidsift.training.data.augment import ViewAugment
from vidsift.training.data.samplers import TwoViewStream
from vidsift.training.data.source import FrameSource
from vidsift.training.losses import InfoNCELoss
from vidsift.training.methods.base import Method
from vidsift.training.models import SmallResNet


@dataclass(frozen=True)
class InfoNCEParams:
    """Hyper-parameters of ``infonce`` (defaults: the ``paper`` preset, SimCLR-like)."""

    blocks: tuple[int, ...] = (2, 2, 2, 2)  # BasicBlocks per stage (ResNet-18)
    widths: tuple[int, ...] = (64, 128, 256, 512)  # channels per stage (ResNet's)
    hidden: int = 512  # projection head hidden units (SimCLR: the representation's width)
    proj_dim: int = 128  # projection output, what the loss sees (SimCLR: 128)
    temperature: float = 0.1  # tau of NT-Xent (SimCLR: 0.1 - 0.5)
    max_gap: int = 8  # the two views are at most this many frames apart
    crop_min: float = 0.08  # smallest crop area (SimCLR: 0.08)
    jitter: float = 0.8  # colour-jitter strength (SimCLR: 0.8)
    gray_p: float = 0.2  # probability of a greyscale view (SimCLR: 0.2)


class InfoNCEMethod(Method):
    NAME = "infonce"
    DESCRIPTION = (
        "Temporal InfoNCE / SimCLR: two augmented frames of one video are positives, the rest "
        "of the batch negatives; small ResNet from random init (Oord 2018, Chen et al. 2020)"
    )
    SAMPLE = "two views"
    LAYERS = ("pool", "proj")
    DEFAULT_LAYER = "pool"
    Params = InfoNCEParams
    PRESETS = {
        "paper": {
            "steps": 50_000,
            "batch_size": 256,
            "lr": 1e-3,
            "optimizer": "adamw",
            "weight_decay": 1e-6,
            "input_size": (112, 112),
            "num_workers": 8,
            "log_every": 100,
            "checkpoint_every": 2_000,
        },
        "cpu": {
            "steps": 300,
            "batch_size": 32,
            "input_size": (64, 64),
            "num_workers": 1,
            "log_every": 25,
            "checkpoint_every": 100,
            "blocks": (1, 1, 1, 1),
            "crop_min": 0.3,
            "jitter": 0.4,
        },
    }

    def validate_config(self, cfg: TrainConfig) -> None:
        p = self.params(cfg)
        if len(p.blocks) != 4 or len(p.widths) != 4 or min(p.blocks + p.widths) <= 0:
            raise BadInputError(f"infonce: blocks and widths must be four positive numbers, got {p.blocks}, {p.widths}")
        if min(cfg.input_size) < 32:
            raise BadInputError(f"infonce: the ResNet needs inputs of at least 32x32, got {cfg.input_size}")
        if cfg.batch_size < 2:
            raise BadInputError("infonce: a batch needs at least 2 pairs (the others are the negatives)")
        ViewAugment(crop_min=p.crop_min, jitter=p.jitter, gray_p=p.gray_p)  # validates

    def build_model(self, cfg: TrainConfig) -> nn.Module:
        p = self.params(cfg)
        return SmallResNet(blocks=p.blocks, widths=p.widths, hidden=p.hidden, proj_dim=p.proj_dim)

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        return InfoNCELoss(temperature=self.params(cfg).temperature)

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> TwoViewStream:
        p = self.params(cfg)
        augment = ViewAugment(crop_min=p.crop_min, jitter=p.jitter, gray_p=p.gray_p)
        return TwoViewStream(cfg, source, self, max_gap=p.max_gap, augment=augment)

    def step(self, model, loss_fn, batch):
        z1, z2 = model(batch["x"]).float().chunk(2)
        loss = loss_fn(z1, z2)
        with torch.no_grad():
            a, b = nn.functional.normalize(z1, dim=1), nn.functional.normalize(z2, dim=1)
            sim = a @ b.T
            n = len(a)
            metrics = {
                "pos_cos": sim.diagonal().mean(),
                "neg_cos": (sim.sum() - sim.diagonal().sum()) / max(n * n - n, 1),
                "top1": (sim.argmax(1) == torch.arange(n, device=sim.device)).float().mean(),
            }
        return loss, metrics

    def features(self, model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        return model.features(x, self.check_layer(layer))
