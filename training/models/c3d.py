"""The small C3D network of Tran et al. (2015) and the Siamese pair head of Paul et al. (2018).

C3D: five 3x3x3 convolution blocks (64, 128, 256, 256, 256 channels times ``width``), each
followed by max pooling -- pool1 is 1x2x2 (keeps early temporal information), pool2-pool5 are
2x2x2 -- then fc6 and fc7 with ``out_dim`` units (2048 in the paper: "the smaller C3D network
defined in their paper", f in R^2048).

Tran et al. (2015), "Learning spatiotemporal features with 3D convolutional networks", ICCV;
Paul, Roy, Roy-Chowdhury (2018), "Incorporating scalability in unsupervised spatio-temporal
feature learning" (card D of ``shared/papers/README.md``).

Choices where the papers leave room (the Tran text is not in the repo; this is its section-3
"smaller" net):

* pool5 is an adaptive max pool to 1 x 3 x 3. For the paper input 16 x 112 x 112 that is exactly
  what a 2x2x2 pool5 gives (2 x 7 x 7 -> 1 x 3 x 3); for smaller inputs (the ``cpu`` preset,
  8 x 64 x 64) the pooling kernels of pool2-pool4 shrink to 1 along an axis that is already 1, so
  any clip of >= 1 frame and >= 16 x 16 pixels gives the same fc6 input size.
* ``width`` scales every convolution's channel count (at least 1 channel) so the ``cpu`` preset
  fits two CPU cores; ``width=1`` is the paper's network.
* fc6 and fc7 are followed by ReLU and dropout (0.5, "dropout of 0.5 in the fc layers, except the
  final output layer"). ``features`` returns post-ReLU activations in eval mode (no dropout).
"""

from __future__ import annotations

import torch
from torch import nn

#: channels of conv1..conv5 in the small C3D of Tran et al.
C3D_CHANNELS = (64, 128, 256, 256, 256)
#: pool5 output grid (T, H, W)
POOL5_GRID = (1, 3, 3)


def _pool_kernel(size: tuple[int, int, int], kernel: tuple[int, int, int]) -> tuple[int, int, int]:
    """Shrink a pooling kernel along axes that are already smaller than it (never below 1)."""
    return tuple(max(1, min(k, s)) for k, s in zip(kernel, size, strict=True))  # type: ignore[return-value]


def init_weights(module: nn.Module) -> None:
    """He (fan-in, ReLU) normal weights and zero biases for every conv / linear layer.

    PyTorch's default (uniform, a = sqrt(5)) shrinks the activations about 2x per layer, so a
    from-scratch C3D starts with fc7 outputs near 0 and the pair head stuck at t ~ bias, where
    the class-balanced hinge loss is flat (= 2 for any |bias| < 1).
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv3d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class C3D(nn.Module):
    """f = fc7(fc6(pool5(conv5(...conv1(x))))), the small C3D of Tran et al. (2015), used as T in
    Paul et al. (2018).

    Shapes: input ``[N, 3, T, H, W]`` (T = ``clip_len``, H = W = ``input_size`` or any size >= 16),
    output ``[N, out_dim]`` (fc7 after ReLU and dropout).

    Examples:
        >>> net = C3D(clip_len=8, input_size=64, out_dim=128, width=0.125)
        >>> net(torch.zeros(2, 3, 8, 64, 64)).shape
        torch.Size([2, 128])

    Raises:
        ValueError: non-positive sizes, width or dropout outside [0, 1).
    """

    LAYERS = ("fc6", "fc7")

    def __init__(
        self,
        clip_len: int = 16,
        input_size: int | tuple[int, int] = 112,
        out_dim: int = 2048,
        width: float = 1.0,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        h, w = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
        if clip_len <= 0 or h <= 0 or w <= 0 or out_dim <= 0:
            raise ValueError(
                f"C3D needs positive clip_len, input_size and out_dim, got {clip_len}, {(h, w)}, {out_dim}"
            )
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.clip_len, self.input_size, self.out_dim, self.width = clip_len, (h, w), out_dim, width
        channels = [max(1, round(c * width)) for c in C3D_CHANNELS]
        kernels = [(1, 2, 2)] + [(2, 2, 2)] * 3
        size = (clip_len, h, w)
        blocks: list[nn.Module] = []
        c_in = 3
        for i, c_out in enumerate(channels):
            blocks += [nn.Conv3d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            if i < 4:
                k = _pool_kernel(size, kernels[i])
                blocks.append(nn.MaxPool3d(kernel_size=k, stride=k))
                size = tuple(s // kk for s, kk in zip(size, k, strict=True))  # type: ignore[assignment]
            c_in = c_out
        blocks.append(nn.AdaptiveMaxPool3d(POOL5_GRID))
        self.conv = nn.Sequential(*blocks)
        flat = channels[-1] * POOL5_GRID[0] * POOL5_GRID[1] * POOL5_GRID[2]
        self.fc6 = nn.Linear(flat, out_dim)
        self.fc7 = nn.Linear(out_dim, out_dim)
        self.drop = nn.Dropout(dropout)
        self.relu = nn.ReLU(inplace=True)
        init_weights(self)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 5 or x.shape[1] != 3:
            raise ValueError(f"C3D expects [N, 3, T, H, W], got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        h = self.conv(x).flatten(1)
        h = self.drop(self.relu(self.fc6(h)))
        return self.drop(self.relu(self.fc7(h)))

    def features(self, x: torch.Tensor, layer: str = "fc7") -> torch.Tensor:
        """Post-ReLU activations ``[N, out_dim]`` at ``layer`` ("fc6" or "fc7"); dropout is only
        active in training mode, so call ``eval()`` first for deterministic features."""
        self._check(x)
        if layer not in self.LAYERS:
            raise ValueError(f"C3D has no layer {layer!r}; use one of {', '.join(self.LAYERS)}")
        h = self.relu(self.fc6(self.conv(x).flatten(1)))
        if layer == "fc6":
            return h
        return self.relu(self.fc7(self.drop(h)))


class SiameseC3D(nn.Module):
    """t = fc_out(dropout(ReLU(fc_64([C3D(x1), C3D(x2)])))), the Siamese network of Paul et al.
    (2018): one shared C3D trunk T, the two 2048-d features concatenated (4096) and G: two fc
    layers 4096 -> 64 -> 1 giving the scalar score t (> 0: "same video").

    Shapes: ``x1``, ``x2`` ``[N, 3, T, H, W]`` -> ``t`` ``[N]``.

    Examples:
        >>> net = SiameseC3D(C3D(clip_len=8, input_size=32, out_dim=64, width=0.125))
        >>> x = torch.zeros(4, 3, 8, 32, 32)
        >>> net(x, x).shape
        torch.Size([4])

    Raises:
        ValueError: ``hidden`` not positive, or the two inputs differ in shape.
    """

    def __init__(self, trunk: C3D, hidden: int = 64, dropout: float = 0.5) -> None:
        super().__init__()
        if hidden <= 0:
            raise ValueError(f"hidden must be positive, got {hidden}")
        self.trunk = trunk
        self.head = nn.Sequential(
            nn.Linear(2 * trunk.out_dim, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),  # final output layer: no dropout
        )
        init_weights(self.head)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        if x1.shape != x2.shape:
            raise ValueError(f"pair inputs differ in shape: {tuple(x1.shape)} vs {tuple(x2.shape)}")
        # one trunk pass over both halves: batch-norm free, so this equals two shared passes
        f = self.trunk(torch.cat([x1, x2], 0))
        f1, f2 = f.chunk(2, 0)
        return self.head(torch.cat([f1, f2], 1)).squeeze(1)

    def features(self, x: torch.Tensor, layer: str = "fc7") -> torch.Tensor:
        return self.trunk.features(x, layer)


__all__ = ["C3D", "SiameseC3D"]
