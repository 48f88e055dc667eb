"""Loss of the slow-feature pooling auto-encoder of Goroshin et al. 2015 (Eq. 2)."""

from __future__ import annotations

import torch
from torch import Tensor

from vidsift.training.losses.base import (
    EmbeddingLoss,
    check_number,
    check_reduction,
    reduce,
    shape_str,
)
from vidsift.training.models.slow_ae import SlowAEOutput


class SlowFeatureAELoss(EmbeddingLoss):
    """L = sum_{tau in {t,t'}} (||W_d h_tau - x_tau||_2 + alpha |h_tau|_1) + beta sum_i |z_t,i - z_t',i|.

    Goroshin, Bruna, Tompson, Eigen, LeCun, "Unsupervised learning of spatiotemporally coherent
    metrics" (ICCV 2015), Eq. 2 (card A): reconstruction of both frames of a temporally
    adjacent pair from the un-pooled code h, an L1 sparsity penalty on h, and an L1 slowness
    penalty on the L2-pooled codes z_i = ||h||_{P_i}. ``beta = 0`` is the no-slowness ablation
    (the paper's beta in {0, 2}).

    Reading choices (the text is terse; these follow it literally):

    * The reconstruction term is printed ``||W_d h_tau - x_tau||`` - a plain (unsquared) L2 norm
      over the whole frame, not a squared error - so it is unsquared by default.
      ``squared_recon=True`` switches to the sum of squared errors used by most auto-encoder
      code. The norm's gradient at an exact reconstruction is taken as 0.
    * Eq. 2 prints the sparsity term as ``alpha |h_t|`` inside the sum over tau; we read it as
      the typo it appears to be and penalise ``|h_tau|_1`` for both frames.
    * All terms are sums over every element of a sample (no per-pixel averaging), so ``alpha``
      and ``beta`` trade off against norms of whole frames / code maps. ``reduction`` only
      acts over the N pairs of the batch.
    * For greedy layer 2, ``x`` is the (detached) z1 map that layer reconstructs; when the
      ``x_t``/``x_t2`` arguments are omitted the ``target`` stored in each output is used.

    Shapes:
        out_t, out_t2: :class:`SlowAEOutput` with h [N, F, H, W], z [N, F/g, H/p, W/p], recon
        [N, C, H, W]; x_t, x_t2 (optional): [N, C, H, W] -> scalar (``reduction="none"``: [N]).

    Examples:
        >>> from training.models import SlowAELayer
        >>> layer = SlowAELayer(3, 8, kernel_size=5, group_size=4, pool_size=2)
        >>> x_t, x_t2 = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
        >>> loss_fn = SlowFeatureAELoss(alpha=0.1, beta=2.0)
        >>> loss = loss_fn(layer(x_t), layer(x_t2), x_t, x_t2)
        >>> loss.shape
        torch.Size([])

    Raises:
        ValueError: ``alpha`` or ``beta`` negative or non-finite, unknown ``reduction``, or the
            two outputs / targets disagree in shape, dtype or device.
    """

    def __init__(
        self,
        alpha: float,
        beta: float,
        reduction: str = "mean",
        squared_recon: bool = False,
    ) -> None:
        super().__init__()
        self.alpha = check_number("SlowFeatureAELoss", "alpha", alpha)
        self.beta = check_number("SlowFeatureAELoss", "beta", beta)
        self.reduction = check_reduction("SlowFeatureAELoss", reduction)
        self.squared_recon = bool(squared_recon)

    def forward(  # type: ignore[override]
        self,
        out_t: SlowAEOutput,
        out_t2: SlowAEOutput,
        x_t: Tensor | None = None,
        x_t2: Tensor | None = None,
    ) -> Tensor:
        x_t = out_t.target if x_t is None else x_t
        x_t2 = out_t2.target if x_t2 is None else x_t2
        self._check_pair(out_t, out_t2, x_t, x_t2)
        return self.compute_loss(out_t, out_t2, x_t, x_t2)

    def compute_loss(  # type: ignore[override]
        self, out_t: SlowAEOutput, out_t2: SlowAEOutput, x_t: Tensor, x_t2: Tensor
    ) -> Tensor:
        per_pair = self.frame_terms(out_t, x_t) + self.frame_terms(out_t2, x_t2)
        if self.beta:
            per_pair = per_pair + self.beta * (out_t.z - out_t2.z).abs().flatten(1).sum(1)
        return reduce(per_pair, self.reduction)

    def frame_terms(self, out: SlowAEOutput, x: Tensor) -> Tensor:
        """Reconstruction + alpha * sparsity of one frame per sample, shape [N]."""
        residual = (out.recon - x).flatten(1)
        if self.squared_recon:
            recon = residual.pow(2).sum(1)
        else:
            recon = torch.linalg.vector_norm(residual, dim=1)
        return recon + self.alpha * out.h.abs().flatten(1).sum(1)

    def _check_pair(
        self, out_t: SlowAEOutput, out_t2: SlowAEOutput, x_t: Tensor | None, x_t2: Tensor | None
    ) -> None:
        checks = {
            "h": (out_t.h, out_t2.h),
            "z": (out_t.z, out_t2.z),
            "recon": (out_t.recon, out_t2.recon),
            "x": (x_t, x_t2),
        }
        ref = out_t.h
        for name, (a, b) in checks.items():
            for which, t in (("t", a), ("t'", b)):
                if not isinstance(t, Tensor):
                    raise TypeError(
                        f"{self._owner}: {name} of frame {which} must be a torch.Tensor, got "
                        f"{type(t).__name__}"
                    )
                if t.dim() != 4 or not t.is_floating_point():
                    raise ValueError(
                        f"{self._owner}: {name} of frame {which} must be a float [N, C, H, W] "
                        f"tensor, got {t.dtype} of shape {shape_str(t)}"
                    )
                if t.shape[0] != ref.shape[0] or t.dtype != ref.dtype or t.device != ref.device:
                    raise ValueError(
                        f"{self._owner}: {name} of frame {which} is {t.dtype} {shape_str(t)} on "
                        f"{t.device} but h is {ref.dtype} {shape_str(ref)} on {ref.device}; "
                        "both frames must share batch size, dtype and device"
                    )
            if a.shape != b.shape:
                raise ValueError(
                    f"{self._owner}: {name} differs between the two frames: {shape_str(a)} vs "
                    f"{shape_str(b)}"
                )
        if out_t.recon.shape != x_t.shape:  # type: ignore[union-attr]
            raise ValueError(
                f"{self._owner}: the reconstruction has shape {shape_str(out_t.recon)} but the "
                f"target x has {shape_str(x_t)}; pass the input the layer encoded"  # type: ignore[arg-type]
            )

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, beta={self.beta}, reduction={self.reduction!r}, "
            f"squared_recon={self.squared_recon}"
        )
