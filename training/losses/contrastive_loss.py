"""Siamese contrastive loss Ls of Redondo-Cabrera et al."""

from __future__ import annotations

import torch
from torch import Tensor

from vidsift.training.losses.base import (
    EmbeddingLoss,
    check_binary_target,
    check_number,
    check_reduction,
    euclidean_distance,
    reduce,
)


class ContrastiveLoss(EmbeddingLoss):
    """Ls = y * d(x1, x2) + (1 - y) * max(0, delta - d(x1, x2)), d = Euclidean distance.

    Redondo-Cabrera, Lopez-Sastre et al., "Unsupervised learning from videos using temporal
    coherency deep networks" (CVIU 2018), Eq. 2 (card B). A pair is either two adjacent frames
    of one video (``y = 1``, pulled together) or a frame and a frame of another video (``y = 0``,
    pushed at least ``delta`` apart). Paper setting: ``margin = delta = 1``, plain (unsquared)
    Euclidean distance on the raw fc7 output (4096-d).

    ``squared=True, normalize=True`` is the authors' released-code variant: rows are
    L2-normalised and d is replaced by the squared distance ``||x1 - x2||^2`` in BOTH terms,
    i.e. ``y d^2 + (1 - y) max(0, delta - d^2)`` (not Hadsell's ``max(0, m - d)^2``). On unit
    vectors ``d^2 <= 4`` (``d <= 2``), so a margin above that can never be met.

    Shapes:
        x1, x2: [N, D] float; y: [N] with entries 0/1 (bool, int or float) -> scalar
        (``reduction="none"``: [N]).

    Examples:
        >>> loss_fn = ContrastiveLoss(margin=1.0)
        >>> a = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
        >>> b = torch.tensor([[0.3, 0.4], [0.3, 0.4]])   # d = 0.5 for both rows
        >>> loss_fn(a, b, torch.tensor([1, 0]))           # (0.5 + max(0, 1 - 0.5)) / 2
        tensor(0.5000)

    Raises:
        ValueError: ``margin <= 0`` or non-finite; unknown ``reduction``; inputs of different
            shapes/dtypes/devices; ``y`` not of shape [N] or holding values other than 0/1.
    """

    EMBEDDINGS = ("x1", "x2")
    TARGETS = {"y": True}

    def __init__(
        self,
        margin: float = 1.0,
        squared: bool = False,
        normalize: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.margin = check_number("ContrastiveLoss", "margin", margin, strict=True)
        self.squared = bool(squared)
        self.normalize = bool(normalize)
        self.reduction = check_reduction("ContrastiveLoss", reduction)

    def compute_loss(self, x1: Tensor, x2: Tensor, y: Tensor) -> Tensor:  # type: ignore[override]
        y = check_binary_target(self._owner, "y", y, x1.dtype)
        d = euclidean_distance(x1, x2, squared=self.squared, normalize=self.normalize)
        per_pair = y * d + (1 - y) * torch.relu(self.margin - d)
        return reduce(per_pair, self.reduction)

    def extra_repr(self) -> str:
        return (
            f"margin={self.margin}, squared={self.squared}, normalize={self.normalize}, "
            f"reduction={self.reduction!r}"
        )
