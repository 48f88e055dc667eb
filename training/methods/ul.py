"""``ul``: a small network trained only by unsupervised-learning (UL) layers (card E, "Unsupervised
learning layers for video analysis").

Network (:class:`ULNet`): ``[conv k x 5 x 5 -> ULLayer(conv) -> ReLU] -> flatten -> fc -> ULLayer``.
With ``conv_channels = 0`` it is the paper's synthetic-sequence network, one fully connected
layer followed by a UL layer (56 -> 2 for the rotating points, ``bench/ul_rotation.py``); with a
conv layer it is the head-orientation network of section 4.2 ("a regular convolutional and a
fully connected layers, each followed by an unsupervised layer"). The UL layers are identities
in the forward pass; the only training signal is their dJ/dy (the cost layer at the top gets a
zero upstream gradient). ``mu_conv`` > ``mu``: "the closer [the layer] is to the input, the
larger mu should be".

Data (:class:`SequenceStream`): the UL layers read the rows of a batch as consecutive time steps,
so a batch is ``batch_size`` consecutive frames (step ``frame_stride``) of one video, from a random
video (weighted by length) at a random start. At the start of every batch the short-term
average ŷ is re-seeded with the batch's first frame (``ULLayer.start_sequence``), so the jump
between two unrelated chunks is not taken as motion; ȳ, W and B carry over (they are the slow,
global statistics).

Works on video frames (the trainer's ``FrameSource``) as ``UNIT = "frame"``; features are the fc
output (``"fc"``) or the flattened conv maps (``"conv"``).

Presets: ``paper`` -- the paper's real-video settings (56 x 56 input, 4 conv kernels, SGD lr 1e-5,
weight decay 0.01, mu 0.5, eps 0.001, 2 outputs). ``cpu`` -- 32 x 32 input, 8 outputs, lr 1e-3.
The synthetic settings (lr 0.01, momentum 0.9, weight decay 0.1) are the defaults of
``vidsift.reproduce.recipes.train_rotation`` (run by ``bench/ul_rotation.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vidsift.errors import BadInputError
from vidsift.training.config import TrainConfig
from vidsift.training.data.samplers import BatchStream
from vidsift.training.data.source import FrameSource
from vidsift.training.methods.base import Method
from vidsift.training.ul.layer import ULLayer


class ULNet(nn.Module):
    """y = UL(fc(flatten([ReLU(UL_conv(conv(x)))]))): a network whose only cost is UL layers.

    Shapes: ``x`` ``[N, *in_shape]`` (``[N, D]`` vectors, or ``[N, C, H, W]`` images when
    ``conv_channels > 0``) with rows in temporal order -> ``[N, out_dim]``.

    Examples:
        >>> net = ULNet((56,), 2, mu=0.5, eps=0.001)    # the rotating-points network
        >>> net(torch.randn(10, 56)).shape
        torch.Size([10, 2])

    Raises:
        ValueError: ``conv_channels > 0`` with a non-image ``in_shape``, bad sizes.
    """

    LAYERS = ("fc", "conv")

    def __init__(
        self,
        in_shape: Sequence[int],
        out_dim: int,
        *,
        conv_channels: int = 0,
        kernel: int = 5,
        mu: float = 0.5,
        mu_conv: float = 0.9,
        eps: float = 0.001,
        weight: float = 1.0,
    ) -> None:
        super().__init__()
        in_shape = tuple(int(v) for v in in_shape)
        if out_dim < 1 or min(in_shape) < 1:
            raise ValueError(
                f"ULNet needs positive sizes, got in_shape={in_shape}, out_dim={out_dim}"
            )
        self.in_shape, self.out_dim = in_shape, int(out_dim)
        self.conv: nn.Module | None = None
        self.ul_conv: ULLayer | None = None
        if conv_channels > 0:
            if len(in_shape) != 3:
                raise ValueError(f"a conv layer needs image input (C, H, W), got {in_shape}")
            c, h, w = in_shape
            if kernel > min(h, w):
                raise ValueError(f"kernel {kernel} does not fit {h}x{w} input")
            self.conv = nn.Conv2d(c, conv_channels, kernel, stride=2, padding=kernel // 2)
            self.ul_conv = ULLayer(conv_channels, mu=mu_conv, eps=eps, conv=True, weight=weight)
            with torch.no_grad():
                flat = self.conv(torch.zeros(1, *in_shape)).numel()
        else:
            flat = int(np.prod(in_shape))
        self.fc = nn.Linear(flat, out_dim)
        self.ul = ULLayer(out_dim, mu=mu, eps=eps, weight=weight)

    def ul_layers(self) -> list[ULLayer]:
        return [m for m in (self.ul_conv, self.ul) if m is not None]

    def forward(self, x: torch.Tensor, new_sequence: bool = False) -> torch.Tensor:
        if new_sequence:
            for layer in self.ul_layers():
                layer.start_sequence()
        h = x
        if self.conv is not None:
            h = torch.relu(self.ul_conv(self.conv(h)))
        return self.ul(self.fc(h.flatten(1)))

    def features(self, x: torch.Tensor, layer: str = "fc") -> torch.Tensor:
        """``"fc"``: the output (UL layers are identities); ``"conv"``: flattened conv maps."""
        if layer not in self.LAYERS:
            raise ValueError(f"ULNet has no layer {layer!r}; use one of {', '.join(self.LAYERS)}")
        if layer == "conv":
            if self.conv is None:
                raise ValueError("this ULNet has no conv layer (conv_channels = 0)")
            return torch.relu(self.conv(x)).flatten(1)
        h = torch.relu(self.conv(x)) if self.conv is not None else x
        return self.fc(h.flatten(1))


class ULCost(nn.Module):
    """The cost of a :class:`ULNet`: J = sum over its UL layers of 1/2 (log det W - log det B).

    ``forward(out, net)`` returns a scalar whose value is that J (for the log) and whose
    gradient into ``out`` is zero: the UL layers add their own dJ/dy in the backward pass.
    """

    def forward(self, out: torch.Tensor, net: ULNet) -> torch.Tensor:
        value = sum(layer.objective() for layer in net.ul_layers())
        return (out * 0).sum() + out.new_tensor(float(value))


class SequenceStream(BatchStream):
    """Batches of ``batch_size`` consecutive frames (step ``frame_stride``) of one video.

    A video shorter than a batch gives all its frames (a shorter batch). Batch: ``x``
    (preprocessed frames in temporal order), ``video`` ``[1]`` (position in ``ids``), ``frame``
    ``[n]`` (frame indices).
    """

    WHAT = "frame sequences"

    def __init__(
        self,
        cfg: TrainConfig,
        source: FrameSource,
        method: Method | None = None,
        *,
        frame_stride: int = 1,
    ) -> None:
        super().__init__(cfg, source, method)
        if frame_stride < 1:
            raise BadInputError(f"frame_stride must be >= 1, got {frame_stride}")
        self.stride = int(frame_stride)
        self.ids, self.lengths = self._usable(self.stride, 1, "UL frame sequences")

    def make_batch(self, rng: np.random.Generator, n: int) -> dict[str, torch.Tensor]:
        span = (n - 1) * self.stride + 1
        weights = self.lengths.astype(np.float64)
        v = int(rng.choice(len(self.ids), p=weights / weights.sum()))
        length = int(self.lengths[v])
        start = int(rng.integers(0, max(1, length - span + 1)))
        frames = np.arange(start, min(length, start + span), self.stride)
        x = self.source.get_frames(self.ids[v], frames.tolist(), self.cfg.input_size)
        return {
            "x": self.prep(x),
            "video": torch.tensor([v], dtype=torch.int64),
            "frame": torch.from_numpy(frames.astype(np.int64)),
        }


@dataclass(frozen=True)
class ULParams:
    """Hyper-parameters of ``ul`` (the paper's real-video settings, section 4.2)."""

    conv_channels: int = 4  # kernels of the conv layer, 0 = no conv layer (paper: 4)
    out_dim: int = 2  # outputs of the fc layer and its UL layer (paper: 2)
    mu: float = 0.5  # short-term averaging rate of the fc UL layer (paper: 0.5)
    mu_conv: float = 0.9  # the same for the conv UL layer, larger near the input (0.9)
    eps: float = 0.001  # long-term averaging rate of both UL layers (paper: 0.001)
    weight: float = 1.0  # scale of the gradient dJ/dy the UL layers add (1)
    frame_stride: int = 1  # frames between consecutive rows of a batch (1: every frame)


class ULMethod(Method):
    NAME = "ul"
    DESCRIPTION = (
        "conv + fc network trained only by online unsupervised-learning layers: slow short-term "
        "change, large long-term spread (UL-layers paper)"
    )
    UNIT = "frame"
    SAMPLE = "sequence of consecutive frames"
    LAYERS = ("fc", "conv")
    DEFAULT_LAYER = "fc"
    Params = ULParams
    PRESETS = {
        "paper": {
            "optimizer": "sgd",
            "lr": 1e-5,
            "momentum": 0.9,
            "weight_decay": 0.01,
            "batch_size": 32,
            "steps": 5000,
            "input_size": (56, 56),
        },
        "cpu": {"lr": 1e-3, "steps": 500, "input_size": (32, 32), "out_dim": 8},
    }

    def validate_config(self, cfg: TrainConfig) -> None:
        p = self.params(cfg)
        mu, mu_conv, eps = p.mu, p.mu_conv, p.eps
        if not (0 < eps <= mu < 1 and eps <= mu_conv < 1):
            raise BadInputError(
                f"ul needs 0 < eps <= mu, mu_conv < 1; got eps={eps}, mu={mu}, mu_conv={mu_conv}"
            )
        if cfg.batch_size < 2:
            raise BadInputError("ul reads a batch as a sequence of frames; use batch_size >= 2")
        if cfg.clip_len != 1:
            raise BadInputError("ul works on single frames; clip_len must be 1")

    def build_model(self, cfg: TrainConfig) -> ULNet:
        p = self.params(cfg)
        return ULNet(
            (3, *cfg.input_size),
            p.out_dim,
            conv_channels=p.conv_channels,
            mu=p.mu,
            mu_conv=p.mu_conv,
            eps=p.eps,
            weight=p.weight,
        )

    def build_loss(self, cfg: TrainConfig) -> ULCost:
        return ULCost()

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> SequenceStream:
        return SequenceStream(cfg, source, self, frame_stride=self.params(cfg).frame_stride)

    def step(self, model, loss_fn, batch):
        out = model(batch["x"], new_sequence=True)
        net = model.module if hasattr(model, "module") else model
        loss = loss_fn(out, net)
        metrics = {"J_fc": net.ul.objective()}
        if net.ul_conv is not None:
            metrics["J_conv"] = net.ul_conv.objective()
        return loss, metrics

    def features(self, model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        layer = self.check_layer(layer)
        net = model.module if hasattr(model, "module") else model
        return net.features(x, layer)


__all__ = [
    "ULMethod",
    "ULNet",
    "ULCost",
    "SequenceStream",
]
