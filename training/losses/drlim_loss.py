"""DrLIM contrastive loss (Hadsell et al. 2006) in the form Goroshin et al. 2015 use it."""

from __future__ import annotations

import torch
from torch import Tensor

from vidsift.training.losses.base import (
    EmbeddingLoss,
    check_binary_target,
    check_number,
    check_reduction,
    reduce,
)


class DrLIMLoss(EmbeddingLoss):
    """L = y * ||G(x1) - G(x2)||_p + (1 - y) * max(0, m - ||G(x1) - G(x2)||_p).

    Goroshin, Bruna, Tompson, Eigen, LeCun, "Unsupervised learning of spatiotemporally coherent
    metrics" (ICCV 2015), section 3, Eq. 1, which restates DrLIM (Hadsell, Chopra, LeCun, CVPR
    2006) for video: ``y = 1`` for temporal neighbours (|t - t'| = 1), ``y = 0`` for
    non-neighbours of the same video (|t - t'| > 1). This is the "SFA" contrastive baseline of
    card B (Mobahi 2009 / Hadsell 2006 on contiguous vs non-contiguous frames).

    Reading of the text: Goroshin's Eq. 1 uses the plain (unsquared) L^p norm in both terms and
    an unsquared hinge, with ``p`` left generic; we default to ``p = 2``. With ``p = 2`` this is
    numerically the same function as :class:`ContrastiveLoss` (Ls) - the methods differ only in
    which pairs they feed it. ``squared=True`` gives Hadsell 2006's original form
    ``y * 1/2 d^2 + (1 - y) * 1/2 max(0, m - d)^2`` (note Hadsell labels similar pairs Y = 0;
    here similar is always ``y = 1``).

    Shapes:
        x1, x2: [N, D] float; y: [N] with entries 0/1 -> scalar (``reduction="none"``: [N]).

    Examples:
        >>> loss_fn = DrLIMLoss(margin=1.0)
        >>> a = torch.zeros(2, 2)
        >>> b = torch.tensor([[0.3, 0.4], [0.6, 0.8]])    # d = 0.5 and 1.0
        >>> loss_fn(a, b, torch.tensor([1, 0]))           # (0.5 + max(0, 1 - 1)) / 2
        tensor(0.2500)

    Raises:
        ValueError: ``margin <= 0``, ``p < 1``, unknown ``reduction``, mismatched inputs, or
            ``y`` not 0/1 of shape [N].
    """

    EMBEDDINGS = ("x1", "x2")
    TARGETS = {"y": True}

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        squared: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.margin = check_number("DrLIMLoss", "margin", margin, strict=True)
        self.p = check_number("DrLIMLoss", "p", p, minimum=1.0)
        self.squared = bool(squared)
        self.reduction = check_reduction("DrLIMLoss", reduction)

    def compute_loss(self, x1: Tensor, x2: Tensor, y: Tensor) -> Tensor:  # type: ignore[override]
        y = check_binary_target(self._owner, "y", y, x1.dtype)
        d = torch.linalg.vector_norm(x1 - x2, ord=self.p, dim=1)
        hinge = torch.relu(self.margin - d)
        if self.squared:
            per_pair = 0.5 * y * d.pow(2) + 0.5 * (1 - y) * hinge.pow(2)
        else:
            per_pair = y * d + (1 - y) * hinge
        return reduce(per_pair, self.reduction)

    def extra_repr(self) -> str:
        return (
            f"margin={self.margin}, p={self.p}, squared={self.squared}, "
            f"reduction={self.reduction!r}"
        )
