"""Randomly initialised AlexNet conv trunk + fc6/fc7 embedding head (cards B and C)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _alexnet_trunk() -> nn.Sequential:
    """The layers of ``torchvision.models.alexnet(weights=None).features`` (same order and
    indices: checkpoints name them ``features_conv.0.weight`` ...) with PyTorch's default random
    init, which each layer's constructor draws in order: the same draws as the torchvision trunk
    this model used to build on the meta device and reset layer by layer, so a seed gives the
    same weights as before (tested against torchvision). Written out so that building a model
    imports no torchvision (1.5-2 s of every command's start: it pulls in torch._dynamo and
    sympy) and sets up no meta device (~0.35 s once).
    """
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )


class AlexNetEmbedding(nn.Module):
    """fc7 = W7 Dropout(fc6) + b7, fc6 = ReLU(W6 pool5 + b6), pool5 = AdaptiveAvgPool6x6(AlexNet conv(x)).

    Base network of Redondo-Cabrera et al. 2018 (Ls: fc 4096/4096, Lq: 4096/1024; features for
    discovery at fc6) and of Wang & Gupta 2015 (triplet ranking: 4096/1024): "the AlexNet model
    of Krizhevsky et al. for the convolutional layers, then two fully connected layers on the
    pool5 outputs". The conv trunk is ``torchvision.models.alexnet(weights=None).features``
    (written out in ``_alexnet_trunk``) - always randomly initialised, never pretrained, nothing downloaded. Note torchvision's
    trunk is the single-GPU "one weird trick" variant (64-192-384-256-256 maps, no LRN, no
    grouped convs), not the 96-256-384-384-256 Caffe net of the papers.

    An adaptive average pool to 6x6 follows the trunk so small inputs work: at the paper's
    227x227 it is the identity; at 64x64 the trunk gives 1x1 maps, which are repeated. fc6 is
    Linear + ReLU, then Dropout(``dropout``) feeds fc7, a plain Linear (no ReLU: the embedding
    fed to the loss). The caller picks the widths: 4096/4096 (Ls), 4096/1024 (Lq, triplet), or
    e.g. 512/128 for the CPU preset. ``input_size`` is recorded (it is what the trainer resizes
    to); any input of at least 63x63 works.

    ``features(x, layer)``:
        "pool5": flattened adaptive-pool output, 256 * 6 * 6 = 9216 values;
        "fc6": after the ReLU, before dropout (so deterministic even in train mode);
        "fc7": the embedding, same as ``forward`` (goes through dropout in train mode).

    Shapes:
        x [N, 3, H, W] float -> ``forward`` [N, fc7]; features [N, 9216 | fc6 | fc7].

    Examples:
        >>> net = AlexNetEmbedding(fc6=512, fc7=128, input_size=64).eval()
        >>> x = torch.randn(2, 3, 64, 64)
        >>> net(x).shape, net.features(x, "fc6").shape
        (torch.Size([2, 128]), torch.Size([2, 512]))

    Raises:
        ValueError: ``fc6``/``fc7``/``input_size`` not positive ints, ``dropout`` outside
            [0, 1), or (in ``features``) an unknown layer name.
    """

    LAYERS = ("pool5", "fc6", "fc7")
    POOL5_DIM = 256 * 6 * 6

    def __init__(
        self,
        fc6: int = 4096,
        fc7: int = 4096,
        dropout: float = 0.5,
        input_size: int = 227,
    ) -> None:
        super().__init__()
        for name, value in (("fc6", fc6), ("fc7", fc7), ("input_size", input_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"AlexNetEmbedding: {name} must be an int >= 1, got {value!r}")
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, int | float)
            or not (0 <= dropout < 1)
        ):
            raise ValueError(f"AlexNetEmbedding: dropout must be in [0, 1), got {dropout!r}")
        self.fc6_dim = fc6
        self.fc7_dim = fc7
        self.input_size = input_size
        self.features_conv = _alexnet_trunk()
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.fc6 = nn.Linear(self.POOL5_DIM, fc6)
        self.dropout = nn.Dropout(float(dropout))
        self.fc7 = nn.Linear(fc6, fc7)

    @property
    def embed_dim(self) -> int:
        """Width of ``forward``'s output (fc7)."""
        return self.fc7_dim

    def feature_dim(self, layer: str) -> int:
        """Length D of ``features(x, layer)``."""
        dims = {"pool5": self.POOL5_DIM, "fc6": self.fc6_dim, "fc7": self.fc7_dim}
        if layer not in dims:
            raise ValueError(self._unknown(layer))
        return dims[layer]

    def pool5(self, x: Tensor) -> Tensor:
        """Conv trunk + 6x6 adaptive pool, flattened: [N, 9216]."""
        return torch.flatten(self.avgpool(self._conv(x)), 1)

    def _fc6(self, x: Tensor) -> Tensor:
        """fc6 before its ReLU. When the trunk gives 1x1 maps (inputs below 95x95, e.g. the CPU
        presets' 64x64) the 6x6 pool repeats each channel 36 times, so W6 pool5 = W6' conv with
        W6' the 36 copies' weights summed: the same linear map at 1/36 of its multiply-adds
        (the model's slowest layer at 64x64). Summed in another order, the values agree to
        float32 rounding."""
        conv = self._conv(x)
        if conv.shape[-2:] == (1, 1):
            folded = self.fc6.weight.view(self.fc6_dim, -1, 36).sum(-1)
            return nn.functional.linear(conv.flatten(1), folded, self.fc6.bias)
        return self.fc6(torch.flatten(self.avgpool(conv), 1))

    def _conv(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"AlexNetEmbedding expects [N, 3, H, W] input, got {tuple(x.shape)}")
        return self.features_conv(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc7(self.dropout(torch.relu(self._fc6(x))))

    def features(self, x: Tensor, layer: str = "fc6") -> Tensor:
        """Activations at ``layer`` ("pool5", "fc6" after ReLU, or "fc7"): [N, D]."""
        if layer not in self.LAYERS:
            raise ValueError(self._unknown(layer))
        if layer == "pool5":
            return self.pool5(x)
        f6 = torch.relu(self._fc6(x))
        if layer == "fc6":
            return f6
        return self.fc7(self.dropout(f6))

    def _unknown(self, layer: str) -> str:
        return f"AlexNetEmbedding: unknown layer {layer!r}; choose one of {', '.join(self.LAYERS)}"
