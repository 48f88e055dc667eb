"""Shared parts of the AlexNet-based methods (siamese, quadruplet, drlim, triplet)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from training.config import TrainConfig
from training.methods.base import Method
from training.models import AlexNetEmbedding
from vidsift.errors import BadInputError

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
#: laptop-scale settings: 64x64 (the smallest input the AlexNet trunk takes), small fc layers
CPU_RUN: dict[str, Any] = {
    "steps": 300,
    "lr": 1e-4,
    "optimizer": "adam",
    "weight_decay": 5e-4,
    "input_size": (64, 64),
    "num_workers": 1,
    "log_every": 25,
    "checkpoint_every": 100,
}


class AlexNetMethod(Method):
    """AlexNet conv trunk (random init) + fc6 + fc7; features at fc6 (default) or fc7."""

    LAYERS = ("fc6", "fc7")
    DEFAULT_LAYER = "fc6"

    def validate_config(self, cfg: TrainConfig) -> None:
        if min(cfg.input_size) < 63:
            raise BadInputError(
                f"{self.NAME}: the AlexNet trunk needs inputs of at least 63x63, got "
                f"{cfg.input_size[0]}x{cfg.input_size[1]}; use input_size=(64, 64) or larger"
            )

    def build_model(self, cfg: TrainConfig) -> nn.Module:
        return AlexNetEmbedding(
            fc6=int(cfg.p("fc6", 4096)),
            fc7=int(cfg.p("fc7", 4096)),
            dropout=float(cfg.p("dropout", 0.5)),
            input_size=int(cfg.input_size[0]),
        )

    def features(self, model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        return model.features(x, self.check_layer(layer))


def embed(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One forward pass over the whole batch (all tuple members at once), in float32."""
    return model(x).float()
