"""``FalseNegativeFilter``: a pair or quadruplet loss without the negatives the network already
places nearer than its positives.

Pairs ``(x1, x2, y)`` (Ls, DrLIM): a negative pair (``y = 0``) is dropped when
``d(x1, x2) < mean of d over the batch's positive pairs``. Quadruplets ``(q, adj, far, neg)``
(Lq): a tuple is dropped when ``d(q, neg) < d(q, adj)``. d is the Euclidean distance of the
inputs the wrapped loss sees, measured without gradient; the loss is the wrapped loss over the
rows kept. Unsupervised false-negative elimination (Huynh et al. 2022, "Boosting Contrastive
Self-Supervised Learning with False Negative Cancellation"; Chuang et al. 2020, "Debiased
Contrastive Learning"), not in Redondo-Cabrera et al. or Hadsell et al.: with a few videos per
subject, "another video" often shows the same subject (issue #19: about 12 % of the ``cpu``
presets' negatives on the reproduction's scenes), and pushing those apart teaches the network
the training videos, not what they show.

Shapes: what the wrapped loss takes (``[N, D]`` embeddings, ``y [N]``); returns its 0-d loss,
and ``last_dropped`` (the share of rows dropped in the last call, a 0-d tensor).

Examples:
    >>> import torch
    >>> from vidsift.training.losses import ContrastiveLoss
    >>> a = torch.tensor([[0.0], [0.0], [0.0]])
    >>> b = torch.tensor([[0.4], [0.1], [0.9]])      # d = 0.4 (positive), 0.1, 0.9 (negatives)
    >>> loss = FalseNegativeFilter(ContrastiveLoss(margin=1.0))
    >>> loss(a, b, torch.tensor([1.0, 0.0, 0.0]))    # 0.1 < 0.4: dropped; (0.4 + (1 - 0.9)) / 2
    tensor(0.2500)

Raises:
    TypeError: ``loss`` is not an ``nn.Module``; inputs are neither a pair with ``y`` nor four
        embeddings.
"""

from __future__ import annotations

import torch
from torch import nn

from vidsift.training.losses.base import euclidean_distance


def dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return euclidean_distance(a.float(), b.float(), squared=False, normalize=False)


class FalseNegativeFilter(nn.Module):
    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        if not isinstance(loss, nn.Module):
            raise TypeError(f"FalseNegativeFilter wraps a loss module, got {type(loss).__name__}")
        self.loss = loss
        self.last_dropped = torch.tensor(0.0)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            if len(inputs) == 3 and inputs[2].ndim == 1:  # (x1, x2, y)
                x1, x2, y = inputs
                d = dist(x1, x2)
                pos = y > 0.5
                if not bool(pos.any()):
                    drop = torch.zeros_like(pos)
                else:
                    drop = ~pos & (d < d[pos].mean())
            elif len(inputs) == 4 and all(x.ndim == 2 for x in inputs):  # (q, adj, far, neg)
                q, adj, _, neg = inputs
                drop = dist(q, neg) < dist(q, adj)
            else:
                raise TypeError(
                    "FalseNegativeFilter takes (x1, x2, y) pairs or (query, adjacent, far, negative) "
                    f"quadruplets, got {len(inputs)} inputs of shapes {[tuple(x.shape) for x in inputs]}"
                )
            keep = ~drop
            self.last_dropped = drop.float().mean()
        return self.loss(*(x[keep] for x in inputs))
