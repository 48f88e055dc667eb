"""Quadruplet loss Lq of Redondo-Cabrera et al."""

from __future__ import annotations

import torch
from torch import Tensor

from vidsift.training.losses.base import (
    EmbeddingLoss,
    check_number,
    check_reduction,
    euclidean_distance,
    reduce,
)


class QuadrupletLoss(EmbeddingLoss):
    """Lq = d(q, q_adj) + max(0, d(q, q_far) - d(q, neg) + alpha), d = Euclidean distance.

    Redondo-Cabrera, Lopez-Sastre et al., "Unsupervised learning from videos using temporal
    coherency deep networks" (CVIU 2018), Eq. 3 (card B). For a query frame ``q = V_i,t``:
    ``q_adj = V_i,t+1`` (adjacent frame, pulled close), ``q_far = V_i,t+n`` (same video, n = 20
    frames later) and ``neg = V_j,t'`` (another video); the far frame must be closer to the
    query than the negative by the global margin ``alpha = 0.5``. Paper: plain Euclidean
    distance on the raw fc7 output (1024-d).

    ``squared=True`` replaces d by ``||.||^2`` in all three distances and ``normalize=True``
    L2-normalises the rows first (the released-code variant, as for :class:`ContrastiveLoss`).

    Shapes:
        query, adjacent, far, negative: [N, D] float -> scalar (``reduction="none"``: [N]).

    Examples:
        >>> loss_fn = QuadrupletLoss(alpha=0.5)
        >>> q = torch.zeros(1, 2)
        >>> adj, far = torch.tensor([[0.3, 0.4]]), torch.tensor([[1.0, 0.0]])
        >>> neg = torch.tensor([[0.0, 1.2]])
        >>> loss_fn(q, adj, far, neg)                     # 0.5 + max(0, 1 - 1.2 + 0.5)
        tensor(0.8000)

    Raises:
        ValueError: ``alpha < 0`` or non-finite, unknown ``reduction``, or the four inputs
            not [N, D] tensors of one shape, dtype and device.
    """

    EMBEDDINGS = ("query", "adjacent", "far", "negative")
    TARGETS = {}

    def __init__(
        self,
        alpha: float = 0.5,
        squared: bool = False,
        normalize: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.alpha = check_number("QuadrupletLoss", "alpha", alpha)
        self.squared = bool(squared)
        self.normalize = bool(normalize)
        self.reduction = check_reduction("QuadrupletLoss", reduction)

    def compute_loss(  # type: ignore[override]
        self, query: Tensor, adjacent: Tensor, far: Tensor, negative: Tensor
    ) -> Tensor:
        def dist(b: Tensor) -> Tensor:
            return euclidean_distance(query, b, squared=self.squared, normalize=self.normalize)

        per_tuple = dist(adjacent) + torch.relu(dist(far) - dist(negative) + self.alpha)
        return reduce(per_tuple, self.reduction)

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, squared={self.squared}, normalize={self.normalize}, "
            f"reduction={self.reduction!r}"
        )
