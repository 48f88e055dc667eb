"""InfoNCE / NT-Xent loss of contrastive predictive coding and SimCLR."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vidsift.training.losses.base import EmbeddingLoss, check_number, check_reduction, reduce


class InfoNCELoss(EmbeddingLoss):
    """l(i, j) = -log[ exp(s_ij / tau) / sum_{k != i} exp(s_ik / tau) ], s = cosine similarity.

    van den Oord, Li & Vinyals, "Representation learning with contrastive predictive coding"
    (arXiv 1807.03748, 2018), Eq. 4 (InfoNCE); in the symmetric two-view form of Chen, Kornblith,
    Norouzi & Hinton, "A simple framework for contrastive learning of visual representations"
    (SimCLR, ICML 2020), Eq. 1 ("NT-Xent"). Row ``i`` of ``z1`` and row ``i`` of ``z2`` are two
    views of one sample (in vidsift: two augmented frames of one video); the 2N rows of
    ``[z1; z2]`` are L2-normalised, and each of them is an anchor whose positive is its partner
    and whose negatives are the other 2N - 2 rows (never itself). SimCLR's loss is the mean of
    l over the 2N anchors, ``1/(2N) sum_i [l(i, i+N) + l(i+N, i)]``; ``reduction="none"``
    returns the per-pair value ``(l(i, i+N) + l(i+N, i)) / 2``, so its mean is that loss.
    SimCLR's temperature: 0.1 to 0.5 (0.1 at small batches); vidsift's default 0.1.

    With N = 1 the only other row is the positive, so the loss is 0 (nothing to contrast).

    Shapes:
        z1, z2: [N, D] float -> scalar (``reduction="none"``: [N]).

    Examples:
        >>> loss_fn = InfoNCELoss(temperature=1.0)
        >>> z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> z2 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> # anchor z1_0: positive s = 1, others: z1_1 (s 0), z2_1 (s 0)
        >>> round(loss_fn(z1, z2).item(), 4)                 # -log(e / (e + 2))
        0.5514

    Raises:
        ValueError: ``temperature <= 0`` or non-finite; unknown ``reduction``; inputs of
            different shapes/dtypes/devices.
    """

    EMBEDDINGS = ("z1", "z2")
    TARGETS: dict[str, bool] = {}

    def __init__(self, temperature: float = 0.1, reduction: str = "mean") -> None:
        super().__init__()
        self.temperature = check_number("InfoNCELoss", "temperature", temperature, strict=True)
        self.reduction = check_reduction("InfoNCELoss", reduction)

    def compute_loss(self, z1: Tensor, z2: Tensor) -> Tensor:  # type: ignore[override]
        n = z1.shape[0]
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        logits = (z @ z.T) / self.temperature
        # an anchor is never its own negative: -inf on the diagonal drops it from the softmax
        eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
        logits = logits.masked_fill(eye, float("-inf"))
        target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
        per_anchor = F.cross_entropy(logits, target, reduction="none")  # [2N]
        per_pair = 0.5 * (per_anchor[:n] + per_anchor[n:])
        return reduce(per_pair, self.reduction)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, reduction={self.reduction!r}"
