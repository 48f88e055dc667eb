"""A small ResNet trunk (torchvision's ``BasicBlock``) + a SimCLR projection head, random init."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn


class BasicBlock(nn.Module):
    """y = ReLU(BN(conv3x3(ReLU(BN(conv3x3/stride(x))))) + shortcut(x)): torchvision's
    ``models.resnet.BasicBlock`` (same submodule names and construction order, so the same
    draws from a seed; tests compare the two). Written out here so that building a model does
    not import torchvision (1.5-2 s of every command's start)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class SmallResNet(nn.Module):
    """proj = W2 ReLU(BN(W1 h)), h = AvgPool(layer4(...layer1(MaxPool(ReLU(BN(conv7x7/2(x))))))).

    The residual network of He, Zhang, Ren & Sun, "Deep residual learning for image recognition"
    (CVPR 2016), built from ``BasicBlock`` (torchvision's, written out) exactly as torchvision's
    ``ResNet`` does (7x7 stride-2 stem, 3x3 max-pool, four stages with stride 2 from the second,
    Kaiming-normal conv init, BN weights 1 / biases 0) but with the number of blocks per stage
    (``blocks``) and the stage widths (``widths``) as arguments: ``blocks=(2, 2, 2, 2)`` with
    ``widths=(64, 128, 256, 512)`` is ResNet-18's trunk (same parameter count, tested), the
    ``cpu`` preset's ``(1, 1, 1, 1)`` is "ResNet-10". Always random init: no weights are loaded.

    The head is SimCLR's (Chen et al. 2020, section 2.1): a 2-layer MLP g(h) = W2 ReLU(BN(W1 h))
    on the pooled representation h; the loss sees g(h), features are taken at h ("pool",
    which SimCLR found better than g(h) for downstream use) or at g(h) ("proj").

    ``features(x, layer)``: "pool" -> [N, widths[-1]]; "proj" -> [N, proj_dim] (the forward).

    Shapes:
        x [N, 3, H, W] float (any H, W >= 32) -> ``forward`` [N, proj_dim].

    Examples:
        >>> net = SmallResNet(blocks=(1, 1, 1, 1), widths=(8, 16, 32, 64), hidden=64, proj_dim=16).eval()
        >>> x = torch.randn(2, 3, 32, 32)
        >>> net(x).shape, net.features(x, "pool").shape
        (torch.Size([2, 16]), torch.Size([2, 64]))

    Raises:
        ValueError: ``blocks`` / ``widths`` not four positive ints, or ``hidden`` / ``proj_dim``
            not positive.
    """

    LAYERS = ("pool", "proj")

    def __init__(
        self,
        blocks: Sequence[int] = (1, 1, 1, 1),
        widths: Sequence[int] = (64, 128, 256, 512),
        hidden: int = 512,
        proj_dim: int = 128,
    ) -> None:
        super().__init__()
        blocks, widths = tuple(int(b) for b in blocks), tuple(int(w) for w in widths)
        if len(blocks) != 4 or len(widths) != 4 or min(blocks + widths) <= 0:
            raise ValueError(
                f"SmallResNet: blocks and widths must be four positive ints, got {blocks}, {widths}"
            )
        if hidden <= 0 or proj_dim <= 0:
            raise ValueError(f"SmallResNet: hidden and proj_dim must be positive, got {hidden}, {proj_dim}")
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stages, cin = [], widths[0]
        for i, (nb, w) in enumerate(zip(blocks, widths, strict=True)):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or cin != w:
                down = nn.Sequential(nn.Conv2d(cin, w, 1, stride=stride, bias=False), nn.BatchNorm2d(w))
            layers = [BasicBlock(cin, w, stride, down)]
            layers += [BasicBlock(w, w) for _ in range(nb - 1)]
            stages.append(nn.Sequential(*layers))
            cin = w
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Linear(cin, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, proj_dim),
        )
        for m in self.modules():  # torchvision ResNet's init
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def representation(self, x: Tensor) -> Tensor:
        return self.pool(self.stages(self.stem(x))).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.representation(x))

    def features(self, x: Tensor, layer: str = "pool") -> Tensor:
        if layer not in self.LAYERS:
            raise ValueError(f"SmallResNet has no layer {layer!r}; use one of {', '.join(self.LAYERS)}")
        h = self.representation(x)
        return h if layer == "pool" else self.head(h)


__all__ = ["SmallResNet"]
