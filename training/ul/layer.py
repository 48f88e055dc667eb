"""The online unsupervised-learning (UL) layer of "Unsupervised learning layers for video
analysis" (card E of ``shared/papers/README.md``, file ``ul-layers-online-slow-features.txt``).

The layer is the identity in the forward pass. In training mode it also treats the rows of its
input as consecutive time steps ``y_1, ..., y_N`` (the batch must hold frames in temporal order)
and, one row at a time, updates (Eqs. 6-9)

    ŷ_t = (1 - mu) ŷ_{t-1} + mu y_t                       short-term moving average
    ȳ_t = (1 - eps) ȳ_{t-1} + eps y_t                     long-term moving average
    W_t = (1 - mu) W_{t-1} + mu (y_t - ŷ_t)(y_t - ŷ_t)^T   short-term covariance
    B_t = (1 - eps) B_{t-1} + eps (ŷ_t - ȳ_t)(ŷ_t - ȳ_t)^T  long-term covariance

and computes (Eq. 11), with the statistics just updated with y_t,

    dJ/dy_t = (y_t - ŷ_t)^T W_t^{-1} - (ŷ_t - ȳ_t)^T B_t^{-1}

"at the forward stage"; the backward pass returns ``grad_output + weight * dJ/dy``. The
gradient is the one of the online cost J = 1/2 (log det W - log det B) (Eq. 21): small
short-term spread (slow features) and large long-term spread (no collapse). It is exactly the
gradient of the frozen-statistics surrogate

    J_t(y) = 1/2 (y - ŷ_t)^T W_t^{-1} (y - ŷ_t) - (ŷ_t - ȳ_t)^T B_t^{-1} y

(ŷ_t, ȳ_t, W_t, B_t held constant), which is what the tests check against autograd.

Two kinds (section 3.4: "for fully connected layers, the covariances are calculated with respect
to the whole vector; for convolutional layers, with respect to each feature map channel"):

* ``conv=False``: ``y`` is ``[N, d]``; W and B are ``d x d``.
* ``conv=True``: ``y`` is ``[N, C, H, W]``; the covariances are ``C x C`` across channels, each
  of the ``P = H*W`` spatial positions being one sample of the channel vector, and the moving
  averages ŷ, ȳ are kept per position (``[H*W, C]``) so ``y - ŷ`` measures change over *time* at
  a position, not spatial variation. ``W_t`` uses the mean over positions of the outer
  products, and ``dJ/dy`` at each position is divided by ``P`` (the derivative of the
  position-averaged cost), so the signal's size does not depend on the map size.

Choices the paper leaves open, fixed here:

* Initial state (Algorithm 1 says only "initialize"): the first row seen sets ŷ_0 = ȳ_0 = y_1,
  and W_0 = B_0 = ``init_cov`` * I.
* Inverses are regularised: ``(W + delta I)^{-1}`` and ``(B + delta I)^{-1}``, solved in float64.
* ``weight`` scales the added gradient (the local signal's share when the layer sits inside a
  network with another cost on top).
* In eval mode the layer is a plain identity: statistics are not touched, nothing is added.

Use as a cost layer: put it last and call :meth:`ULLayer.cost` on its output, which gives a
scalar whose value is J = 1/2 (log det W - log det B) of the current statistics (for logging) and
whose gradient reaching the layer is zero, so only ``dJ/dy`` flows down.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


class _AddGradient(torch.autograd.Function):
    """Identity forward; backward returns ``grad_output + extra`` (``extra`` precomputed)."""

    @staticmethod
    def forward(ctx: Any, y: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(extra)
        return y.view_as(y)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        (extra,) = ctx.saved_tensors
        return grad_output + extra.to(grad_output.dtype), None


class ULLayer(nn.Module):
    """Identity layer that adds dJ/dy_t = (y_t - ŷ_t)^T W_t^{-1} - (ŷ_t - ȳ_t)^T B_t^{-1} to the
    gradient (online UL layer, Eqs. 6-11 of the UL-layers paper; see the module docstring).

    Shapes: ``[N, dim]`` (``conv=False``) or ``[N, dim, H, W]`` (``conv=True``, ``dim`` =
    channels); rows are time steps in order. Output: the input, unchanged.

    Examples:
        >>> layer = ULLayer(2, mu=0.5, eps=0.001)
        >>> y = torch.randn(10, 2, requires_grad=True)
        >>> layer.cost(layer(y)).backward()     # as the cost layer: only dJ/dy flows
        >>> y.grad.shape
        torch.Size([10, 2])

    Raises:
        ValueError: ``dim`` < 1; ``mu``/``eps`` outside (0, 1) or ``eps`` > ``mu``; negative
            ``delta``/``weight``; non-positive ``init_cov`` (constructor); input of the wrong
            shape (forward).
    """

    def __init__(
        self,
        dim: int,
        mu: float,
        eps: float = 0.001,
        conv: bool = False,
        weight: float = 1.0,
        delta: float = 1e-6,
        init_cov: float = 1.0,
    ) -> None:
        super().__init__()
        if int(dim) < 1:
            raise ValueError(f"ULLayer: dim must be >= 1, got {dim}")
        if not (0.0 < eps < 1.0 and 0.0 < mu < 1.0):
            raise ValueError(f"ULLayer: mu and eps must lie in (0, 1), got mu={mu}, eps={eps}")
        if eps > mu:
            raise ValueError(
                f"ULLayer: eps ({eps}) must not exceed mu ({mu}): eps is the long-term rate"
            )
        if delta < 0 or weight < 0 or not init_cov > 0:
            raise ValueError(
                f"ULLayer: need delta >= 0, weight >= 0, init_cov > 0; got {delta}, {weight}, {init_cov}"
            )
        self.dim, self.mu, self.eps, self.conv = int(dim), float(mu), float(eps), bool(conv)
        self.weight, self.delta, self.init_cov = float(weight), float(delta), float(init_cov)
        d = self.dim
        self._new_sequence = False
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        # moving averages, [P, d] with P = 1 (fc) or H*W (conv, sized on first use)
        self.register_buffer("y_short", torch.zeros(0 if conv else 1, d, dtype=torch.float64))
        self.register_buffer("y_long", torch.zeros(0 if conv else 1, d, dtype=torch.float64))
        self.register_buffer("W", torch.eye(d, dtype=torch.float64) * init_cov)
        self.register_buffer("B", torch.eye(d, dtype=torch.float64) * init_cov)

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, mu={self.mu}, eps={self.eps}, conv={self.conv}, weight={self.weight}"
        )

    # -- state --------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the statistics (e.g. at the start of a new, unrelated sequence)."""
        self.steps.zero_()
        p = 0 if self.conv else 1
        self.y_short = torch.zeros(p, self.dim, dtype=torch.float64, device=self.W.device)
        self.y_long = torch.zeros(p, self.dim, dtype=torch.float64, device=self.W.device)
        eye = torch.eye(self.dim, dtype=torch.float64, device=self.W.device) * self.init_cov
        self.W = eye.clone()
        self.B = eye.clone()

    def start_sequence(self) -> None:
        """The next row starts a new sequence: re-seed the short-term average ŷ with it (as at
        the very first step) so the jump from the previous sequence is not read as motion;
        ȳ, W and B (the slow statistics) carry over."""
        self._new_sequence = True

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any, **kw: Any) -> None:
        # conv layers size their per-position averages on first use; take the stored size
        for name in ("y_short", "y_long"):
            key = prefix + name
            if key in state_dict and state_dict[key].shape != getattr(self, name).shape:
                setattr(self, name, torch.zeros_like(state_dict[key], device=self.W.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kw)

    # -- shapes -------------------------------------------------------------------------------
    def _as_samples(self, y: torch.Tensor) -> torch.Tensor:
        """``[N, d]`` -> ``[N, 1, d]``; ``[N, C, H, W]`` -> ``[N, H*W, C]``."""
        if self.conv:
            if y.dim() != 4 or y.shape[1] != self.dim:
                raise ValueError(
                    f"ULLayer(conv=True, dim={self.dim}) expects [N, {self.dim}, H, W], got {tuple(y.shape)}"
                )
            return y.flatten(2).transpose(1, 2)
        if y.dim() != 2 or y.shape[1] != self.dim:
            raise ValueError(
                f"ULLayer(dim={self.dim}) expects [N, {self.dim}], got {tuple(y.shape)}"
            )
        return y.unsqueeze(1)

    def _from_samples(self, z: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        if self.conv:
            return z.transpose(1, 2).reshape(like.shape)
        return z.squeeze(1)

    # -- the online algorithm -----------------------------------------------------------------
    def _regularised_inverse(self, M: torch.Tensor) -> torch.Tensor:
        eye = torch.eye(self.dim, dtype=M.dtype, device=M.device)
        return torch.linalg.inv(M + self.delta * eye)

    @torch.no_grad()
    def update(self, y: torch.Tensor) -> torch.Tensor:
        """Feed rows of ``y`` as time steps; return dJ/dy (``weight`` not applied), shaped as ``y``."""
        z = self._as_samples(y.detach()).to(torch.float64)
        n, p, _ = z.shape
        if self.steps.item() == 0 or self.y_short.shape[0] != p:
            self.y_short = z[0].clone()
            self.y_long = z[0].clone()
        elif self._new_sequence:
            self.y_short = z[0].clone()
        self._new_sequence = False
        mu, eps = self.mu, self.eps
        ys, yl, W, B = self.y_short, self.y_long, self.W, self.B
        grads = torch.empty_like(z)
        for t in range(n):
            zt = z[t]
            ys = (1 - mu) * ys + mu * zt
            yl = (1 - eps) * yl + eps * zt
            short = zt - ys
            spread = ys - yl
            W = (1 - mu) * W + mu * (short.T @ short) / p
            B = (1 - eps) * B + eps * (spread.T @ spread) / p
            # W and B are symmetric, so (v^T M^{-1}) = (M^{-1} v)^T: rows times the inverse
            grads[t] = (
                short @ self._regularised_inverse(W) - spread @ self._regularised_inverse(B)
            ) / p
        self.y_short, self.y_long, self.W, self.B = ys, yl, W, B
        self.steps += n
        return self._from_samples(grads, y).to(y.dtype)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if not self.training:
            self._as_samples(y)  # shape check only
            return y
        grad = self.update(y)
        if not y.requires_grad or self.weight == 0:
            return y
        return _AddGradient.apply(y, self.weight * grad)

    def objective(self) -> float:
        """J = 1/2 (log det W - log det B) (Eq. 21) of the current (regularised) statistics."""
        eye = torch.eye(self.dim, dtype=self.W.dtype, device=self.W.device) * self.delta
        w = torch.linalg.slogdet(self.W + eye).logabsdet
        b = torch.linalg.slogdet(self.B + eye).logabsdet
        value = 0.5 * float(w - b)
        return value if math.isfinite(value) else float("nan")

    def cost(self, out: torch.Tensor) -> torch.Tensor:
        """Scalar for ``.backward()`` when this layer is the cost layer: its value is
        :meth:`objective`, and it sends a zero gradient into ``out`` so only dJ/dy flows down."""
        return (out * 0).sum() + out.new_tensor(self.objective())


__all__ = ["ULLayer"]
