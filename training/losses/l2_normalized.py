"""``L2Normalized``: any embedding loss, on L2-normalised embeddings.

loss(x_1 / ||x_1||, ..., x_k / ||x_k||, y): the wrapped loss sees every 2-D float input (the
``[N, D]`` embeddings) projected on the unit sphere; other inputs (labels ``y [N]``) pass
unchanged. Euclidean distances then lie in [0, 2] and equal sqrt(2 - 2 cos), the geometry of
SimCLR / InfoNCE (Chen et al. 2020) and of Wu et al. 2018 ("Unsupervised feature learning via
non-parametric instance discrimination"). Not in Redondo-Cabrera et al. or Hadsell et al.: with
unnormalised outputs their margin losses can shrink every distance by shrinking (killing) units,
which is how the ``cpu`` presets collapsed (docs/generalisation.md); on the sphere they cannot.

Shapes: whatever the wrapped loss takes; returns its 0-d loss.

Examples:
    >>> import torch
    >>> from vidsift.training.losses import ContrastiveLoss
    >>> loss = L2Normalized(ContrastiveLoss(margin=1.0))
    >>> a, b, y = torch.randn(4, 8), torch.randn(4, 8), torch.tensor([1.0, 0.0, 1.0, 0.0])
    >>> float(loss(a, b, y)) == float(ContrastiveLoss(margin=1.0)(
    ...     torch.nn.functional.normalize(a, dim=1), torch.nn.functional.normalize(b, dim=1), y))
    True

Raises:
    TypeError: ``loss`` is not an ``nn.Module``.
"""

from __future__ import annotations

import torch
from torch import nn


class L2Normalized(nn.Module):
    def __init__(self, loss: nn.Module, eps: float = 1e-8) -> None:
        super().__init__()
        if not isinstance(loss, nn.Module):
            raise TypeError(f"L2Normalized wraps a loss module, got {type(loss).__name__}")
        self.loss, self.eps = loss, float(eps)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        xs = [
            nn.functional.normalize(x, dim=1, eps=self.eps) if x.ndim == 2 and x.is_floating_point() else x
            for x in inputs
        ]
        return self.loss(*xs)
