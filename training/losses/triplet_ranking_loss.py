"""Triplet ranking loss with in-batch (hard) negative mining of Wang & Gupta 2015."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vidsift.training.losses.base import EmbeddingLoss, check_number

MINING = ("topk", "nonzero", "none", "random")


class TripletRankingLoss(EmbeddingLoss):
    """L = max(0, D(X, X+) - D(X, X-) + M), D(a, b) = 1 - cos(f(a), f(b)), negatives in-batch.

    Wang & Gupta, "Unsupervised learning of visual representations using videos" (ICCV 2015),
    Eqs. 1-2 and section 5.3 (card C). Row ``i`` of ``anchors`` is a query patch X_i and row
    ``i`` of ``positives`` the same patch tracked 30 frames later, X_i+. The negatives of pair
    ``i`` are the other pairs' patches in the batch - both their anchors and their positives
    (2(N-1) candidates) - minus any patch whose ``groups`` entry equals pair ``i``'s (pass the
    video id so patches of the same video are never negatives). Only X_i acts as the anchor.

    ``mining`` chooses which triplets (i, X-) enter the loss:

    * ``"topk"`` (paper, after the random stage): for each pair the ``hard_negatives`` = K
      candidates with the highest loss (K = 4 in the paper; all of them when fewer are valid).
    * ``"nonzero"``: every candidate whose loss is > 0, averaged over those triplets only.
      This is how this package reads Wang & Gupta's released Caffe layer, which discards
      zero-loss negatives before choosing; it is not spelled out in the paper text.
    * ``"none"``: every valid candidate (a deterministic stand-in for the random-negative
      stage).
    * ``"random"``: K valid candidates drawn uniformly for each pair (the paper's random
      stage: "for each X_i, X_i+, we randomly sample K negative matches in the same batch"),
      using torch's global RNG on the input device.

    The result is the mean over the selected triplets; 0 (still attached to the graph) when
    no valid triplet exists, e.g. a batch of one pair or one video. Paper setting:
    ``margin = M = 0.5``, K = 4, batch 100 pairs.

    Shapes:
        anchors, positives: [N, D] float; groups (optional): [N] integer ids -> scalar.

    Examples:
        >>> loss_fn = TripletRankingLoss(margin=0.5, hard_negatives=1, mining="topk")
        >>> anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> positives = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> # pair 0: D(X, X+) = 0, every negative is orthogonal: D(X, X-) = 1 -> loss 0
        >>> loss_fn(anchors, positives)
        tensor(0.)

    Raises:
        ValueError: ``margin < 0``, ``hard_negatives`` not a positive int, unknown ``mining``,
            mismatched inputs, or ``groups`` not of shape [N].
    """

    EMBEDDINGS = ("anchors", "positives")
    TARGETS = {"groups": False}

    def __init__(
        self,
        margin: float = 0.5,
        hard_negatives: int = 4,
        mining: str = "topk",
        eps: float = 1e-12,
    ) -> None:
        super().__init__()
        self.margin = check_number("TripletRankingLoss", "margin", margin)
        if (
            isinstance(hard_negatives, bool)
            or not isinstance(hard_negatives, int)
            or hard_negatives < 1
        ):
            raise ValueError(
                f"TripletRankingLoss: hard_negatives must be an int >= 1 (K negatives per "
                f"pair; the paper uses 4), got {hard_negatives!r}"
            )
        if mining not in MINING:
            raise ValueError(
                f"TripletRankingLoss: mining must be one of {', '.join(map(repr, MINING))}, "
                f"got {mining!r}"
            )
        self.hard_negatives = hard_negatives
        self.mining = mining
        self.eps = check_number("TripletRankingLoss", "eps", eps, strict=True)

    def triplet_losses(
        self, anchors: Tensor, positives: Tensor, groups: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """All candidate triplet losses and which are valid.

        Returns ``(loss, valid)``, both [N, 2N]: column ``c < N`` is anchor ``c``, column
        ``N + c`` is positive ``c``; ``valid[i, c]`` is False for pair ``i``'s own patches and,
        with ``groups``, for patches of pair ``i``'s group.
        """
        n = anchors.shape[0]
        a = F.normalize(anchors, dim=1, eps=self.eps)
        p = F.normalize(positives, dim=1, eps=self.eps)
        d_pos = 1 - (a * p).sum(dim=1)  # [N]
        candidates = torch.cat([a, p], dim=0)  # [2N, D]
        d_neg = 1 - a @ candidates.T  # [N, 2N]
        loss = torch.relu(d_pos[:, None] - d_neg + self.margin)
        owner = torch.arange(n, device=anchors.device).repeat(2)  # pair of each candidate
        if groups is None:
            valid = owner[None, :] != torch.arange(n, device=anchors.device)[:, None]
        else:
            cand_groups = groups.repeat(2)
            valid = (owner[None, :] != torch.arange(n, device=anchors.device)[:, None]) & (
                cand_groups[None, :] != groups[:, None]
            )
        return loss, valid

    def mine(self, loss: Tensor, valid: Tensor) -> Tensor:
        """Boolean [N, 2N] mask of the triplets ``mining`` keeps (see the class docstring)."""
        if self.mining == "none":
            return valid
        if self.mining == "nonzero":
            return valid & (loss > 0)
        k = min(self.hard_negatives, loss.shape[1])
        if self.mining == "topk":
            score = loss.detach()
        else:  # "random"
            score = torch.rand(loss.shape, device=loss.device)
        top = score.masked_fill(~valid, float("-inf")).topk(k, dim=1).indices
        return torch.zeros_like(valid).scatter_(1, top, True) & valid

    def compute_loss(  # type: ignore[override]
        self, anchors: Tensor, positives: Tensor, groups: Tensor | None = None
    ) -> Tensor:
        loss, valid = self.triplet_losses(anchors, positives, groups)
        selected = self.mine(loss, valid)
        return (loss * selected).sum() / selected.sum().clamp(min=1)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, hard_negatives={self.hard_negatives}, mining={self.mining!r}"
