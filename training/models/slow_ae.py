"""Convolutional slow-feature pooling auto-encoder of Goroshin et al. 2015 (card A)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

PADDINGS = ("same", "valid")


class SlowAEOutput(NamedTuple):
    """What one auto-encoder layer returns.

    ``h``: code ReLU(W_e x) [N, F, H', W']; ``z``: L2-pooled code [N, F/g, H'/p, W'/p];
    ``recon``: W_d h, same shape as the layer input; ``target``: the layer input ``recon``
    should match (x for layer 1, the detached z1 for greedy layer 2).
    """

    h: Tensor
    z: Tensor
    recon: Tensor
    target: Tensor


def l2_pool(h: Tensor, group_size: int, pool_size: int, eps: float = 1e-8) -> Tensor:
    """z_i = sqrt(sum_{j in P_i} h_j^2 + eps) over non-overlapping groups of maps and space.

    ``P_i`` is a block of ``group_size`` consecutive feature maps times a ``pool_size x
    pool_size`` spatial window (stride = size, no overlap). A border that does not fill a
    whole window is dropped, as in ``max_pool2d``. Shapes: [N, F, H, W] ->
    [N, F // group_size, H // pool_size, W // pool_size].
    """
    n, f, hgt, wid = h.shape
    if f % group_size:
        raise ValueError(
            f"l2_pool: {f} feature maps cannot be split into groups of {group_size}; "
            "use a number of filters divisible by group_size"
        )
    energy = h.pow(2).reshape(n, f // group_size, group_size, hgt, wid).sum(dim=2)
    if pool_size > 1:
        energy = F.avg_pool2d(energy, pool_size, stride=pool_size) * (pool_size * pool_size)
    return torch.sqrt(energy + eps)


def _positive_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be an int >= 1, got {value!r}")
    return value


class SlowAELayer(nn.Module):
    """z_i = sqrt(sum_{j in P_i} h_j^2 + eps), h = ReLU(W_e * x), recon = W_d * h.

    One layer of the slow-feature pooling auto-encoder: Goroshin, Bruna, Tompson, Eigen, LeCun,
    "Unsupervised learning of spatiotemporally coherent metrics" (ICCV 2015), section 4 / 4.2,
    Fig. 3. Encoder: a convolutional filter bank W_e (``n_filters`` kernels of
    ``kernel_size x kernel_size``, with bias - the paper absorbs biases in homogeneous
    coordinates) and ReLU. Pooling: L2 norm over non-overlapping blocks P_i of ``group_size``
    consecutive feature maps and ``pool_size x pool_size`` positions. Decoder: a linear
    convolutional map W_d (with bias) that reconstructs the input from h, not from z - the
    paper notes reconstructing from the modulus is a phase-recovery problem.

    ``padding="same"`` keeps h at the input's spatial size and decodes with a "same" Conv2d;
    ``padding="valid"`` shrinks h by ``kernel_size - 1`` and decodes with a ConvTranspose2d,
    which restores the input size. Either way ``recon`` has the input's shape.

    Shapes:
        x [N, C, H, W] -> h [N, F, H, W] ("same"), z [N, F/g, H/p, W/p], recon [N, C, H, W].

    Examples:
        >>> layer = SlowAELayer(3, 64, kernel_size=9, group_size=4, pool_size=2)
        >>> out = layer(torch.randn(2, 3, 32, 32))
        >>> tuple(out.z.shape)
        (2, 16, 16, 16)

    Raises:
        ValueError: a size is not a positive int, ``n_filters`` is not divisible by
            ``group_size``, ``padding`` is not "same"/"valid", or ``eps <= 0``.
    """

    def __init__(
        self,
        in_channels: int,
        n_filters: int,
        kernel_size: int,
        group_size: int,
        pool_size: int,
        padding: str = "same",
        eps: float = 1e-8,
    ) -> None:
        super().__init__()
        owner = "SlowAELayer"
        self.in_channels = _positive_int(owner, "in_channels", in_channels)
        self.n_filters = _positive_int(owner, "n_filters", n_filters)
        self.kernel_size = _positive_int(owner, "kernel_size", kernel_size)
        self.group_size = _positive_int(owner, "group_size", group_size)
        self.pool_size = _positive_int(owner, "pool_size", pool_size)
        if n_filters % group_size:
            raise ValueError(
                f"{owner}: n_filters ({n_filters}) must be divisible by group_size "
                f"({group_size}) so the feature maps split into whole pooling groups"
            )
        if padding not in PADDINGS:
            raise ValueError(f"{owner}: padding must be 'same' or 'valid', got {padding!r}")
        if isinstance(eps, bool) or not isinstance(eps, int | float) or not eps > 0:
            raise ValueError(f"{owner}: eps must be a number > 0, got {eps!r}")
        self.padding = padding
        self.eps = float(eps)
        self.encoder = nn.Conv2d(in_channels, n_filters, kernel_size, padding=padding)
        self.decoder: nn.Module
        if padding == "same":
            self.decoder = nn.Conv2d(n_filters, in_channels, kernel_size, padding="same")
        else:
            self.decoder = nn.ConvTranspose2d(n_filters, in_channels, kernel_size)

    @property
    def out_channels(self) -> int:
        """Number of pooled maps in z (``n_filters // group_size``)."""
        return self.n_filters // self.group_size

    def encode(self, x: Tensor) -> Tensor:
        """h = ReLU(W_e * x)."""
        return torch.relu(self.encoder(x))

    def pool(self, h: Tensor) -> Tensor:
        """z = L2 pooling of h over the layer's groups P_i."""
        return l2_pool(h, self.group_size, self.pool_size, self.eps)

    def forward(self, x: Tensor) -> SlowAEOutput:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"SlowAELayer expects [N, {self.in_channels}, H, W] input, got {tuple(x.shape)}"
            )
        h = self.encode(x)
        return SlowAEOutput(h=h, z=self.pool(h), recon=self.decoder(h), target=x)

    def extra_repr(self) -> str:
        return (
            f"group_size={self.group_size}, pool_size={self.pool_size}, "
            f"padding={self.padding!r}, eps={self.eps}"
        )


LayerSpec = Sequence[int]  # (n_filters, kernel_size, group_size, pool_size)


class SlowFeatureAE(nn.Module):
    """z2 = L2pool_2(ReLU(W_e2 * z1)), z1 = L2pool_1(ReLU(W_e1 * x)); each layer decodes W_d h.

    Two greedily trained slow-feature pooling auto-encoder layers, Goroshin et al. 2015
    (ICCV), section 5 (card A). Each spec is ``(n_filters, kernel_size, group_size,
    pool_size)``; ``padding="same"`` throughout.

    * Layer 1 (paper): 64 kernels 9x9 on 3 colour channels, L2 pooling across groups of 4
      maps and 2x2 space -> z1 = 16 maps at half resolution (16x16x16 = 4096 for 32x32).
    * Layer 2 (paper: "64 5x5 convolutional filters, and performs 4x4 spatial pooling
      producing z2 of dimension 64x4x4"): its input is z1 (16 maps; greedy layer-wise training
      stacks the second auto-encoder on the first one's pooled output). Because z2 keeps 64
      maps, the text implies layer 2 pools only spatially, so the default group is 1 map:
      ``(64, 5, 1, 4)`` -> z2 = 64 x 4 x 4 = 1024 for 32x32 input. Its decoder reconstructs
      z1 from h2.

    ``forward(x, upto=1)`` returns layer 1's :class:`SlowAEOutput` (target x);
    ``forward(x, upto=2)`` returns layer 2's (target z1). With ``detach=True`` (default) z1
    is detached before layer 2, so a layer-2 loss never updates layer 1 (greedy training;
    optimise ``model.layers[1].parameters()`` for that stage).

    Shapes:
        x [N, C, H, W]; ``features(x, "z1")`` -> [N, 16 * H/2 * W/2],
        ``features(x, "z2")`` -> [N, 64 * H/8 * W/8] with the defaults.

    Examples:
        >>> model = SlowFeatureAE()
        >>> x = torch.randn(2, 3, 32, 32)
        >>> model.features(x, "z1").shape, model.features(x, "z2").shape
        (torch.Size([2, 4096]), torch.Size([2, 1024]))
        >>> out2 = model(x, upto=2)          # out2.target is z1 (detached)

    Raises:
        ValueError: a spec is not four positive ints, or group/pool sizes do not divide.
    """

    LAYERS = ("z1", "z2")

    def __init__(
        self,
        in_channels: int = 3,
        layer1: LayerSpec = (64, 9, 4, 2),
        layer2: LayerSpec = (64, 5, 1, 4),
        eps: float = 1e-8,
    ) -> None:
        super().__init__()
        specs = []
        for name, spec in (("layer1", layer1), ("layer2", layer2)):
            spec = tuple(spec)
            if len(spec) != 4:
                raise ValueError(
                    f"SlowFeatureAE: {name} must be (n_filters, kernel_size, group_size, "
                    f"pool_size), got {spec!r}"
                )
            specs.append(spec)
        first = SlowAELayer(in_channels, *specs[0], eps=eps)
        second = SlowAELayer(first.out_channels, *specs[1], eps=eps)
        self.in_channels = in_channels
        self.layer1_spec = specs[0]
        self.layer2_spec = specs[1]
        self.layers = nn.ModuleList([first, second])

    def forward(self, x: Tensor, upto: int = 2, detach: bool = True) -> SlowAEOutput:
        if upto not in (1, 2):
            raise ValueError(f"SlowFeatureAE: upto must be 1 or 2, got {upto!r}")
        out1 = self.layers[0](x)
        if upto == 1:
            return out1
        z1 = out1.z.detach() if detach else out1.z
        return self.layers[1](z1)

    def features(self, x: Tensor, layer: str = "z2") -> Tensor:
        """Flattened pooled code at ``layer`` ("z1" or "z2"): [N, D]."""
        if layer not in self.LAYERS:
            raise ValueError(
                f"SlowFeatureAE: unknown layer {layer!r}; choose one of {', '.join(self.LAYERS)}"
            )
        z1 = self.layers[0].pool(self.layers[0].encode(x))
        if layer == "z1":
            return z1.flatten(1)
        return self.layers[1].pool(self.layers[1].encode(z1)).flatten(1)

    def feature_dim(self, layer: str, input_size: tuple[int, int] = (32, 32)) -> int:
        """Length D of ``features(x, layer)`` for an input of ``input_size`` (H, W)."""
        if layer not in self.LAYERS:
            raise ValueError(
                f"SlowFeatureAE: unknown layer {layer!r}; choose one of {', '.join(self.LAYERS)}"
            )
        h, w = input_size
        stop = 1 if layer == "z1" else 2
        channels = self.in_channels
        for lay in list(self.layers)[:stop]:
            if lay.padding == "valid":
                h, w = h - lay.kernel_size + 1, w - lay.kernel_size + 1
            h, w = h // lay.pool_size, w // lay.pool_size
            channels = lay.out_channels
        return channels * h * w
