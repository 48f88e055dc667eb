"""Class-balanced hinge loss on Siamese pair scores (Paul et al. 2018, Eq. 2)."""

from __future__ import annotations

import torch
from torch import nn


class PairHingeLoss(nn.Module):
    """L = sum_i C_i max(0, margin - t_i y_i),  C_i = 1/N_p if y_i = +1 else 1/N_n.

    Paul, Roy, Roy-Chowdhury (2018), "Incorporating scalability in unsupervised spatio-temporal
    feature learning", Eq. 2 (card D). ``t_i`` is the scalar output of the Siamese network for
    pair i, ``y_i`` is +1 (both volumes from one video) or -1 (two videos), N_p / N_n are the
    numbers of positive / negative pairs in the batch, so each class contributes at most
    ``margin`` whatever the 30/70 split. The paper's ``+ lambda ||W||`` term (lambda = 0.0005)
    is not part of this module: it is the optimiser's weight decay (``TrainConfig.weight_decay``),
    which applies the squared-norm penalty's gradient to every weight.

    A batch without positives (or without negatives) simply has no term for that class.

    Shapes: ``t`` ``[N]`` (or ``[N, 1]``) float, ``y`` ``[N]`` with values in {+1, -1};
    output: scalar.

    Examples:
        >>> loss = PairHingeLoss()
        >>> t = torch.tensor([2.0, 0.5, -1.0, 0.2])
        >>> y = torch.tensor([1, 1, -1, -1])
        >>> float(loss(t, y))  # positives: (0 + 0.5)/2, negatives: (0 + 1.2)/2
        0.85

    Raises:
        ValueError: ``margin`` <= 0 (constructor); shapes differ, empty batch, labels other
            than +1/-1, or non-finite scores (forward).
    """

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        if not margin > 0:
            raise ValueError(f"margin must be positive, got {margin}")
        self.margin = float(margin)

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if t.dim() == 2 and t.shape[1] == 1:
            t = t.squeeze(1)
        if t.dim() != 1:
            raise ValueError(f"scores t must be [N] or [N, 1], got {tuple(t.shape)}")
        if y.shape != t.shape:
            raise ValueError(f"labels y {tuple(y.shape)} must match scores t {tuple(t.shape)}")
        if t.numel() == 0:
            raise ValueError("empty batch: PairHingeLoss needs at least one pair")
        if not bool(((y == 1) | (y == -1)).all()):
            raise ValueError(f"labels must be +1 or -1, got values {sorted(set(y.tolist()))}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError("scores t contain NaN or inf")
        return self.compute_loss(t, y.to(t.dtype))

    def compute_loss(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        hinge = torch.clamp(self.margin - t * y, min=0.0)
        pos = y > 0
        n_pos = pos.sum()
        n_neg = (~pos).sum()
        weight = torch.where(pos, 1.0 / n_pos.clamp(min=1), 1.0 / n_neg.clamp(min=1)).to(t.dtype)
        return (weight * hinge).sum()


__all__ = ["PairHingeLoss"]
