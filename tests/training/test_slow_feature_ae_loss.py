"""SlowFeatureAELoss (Goroshin Eq. 2) (``training/losses/slow_feature_ae_loss.py``): against a plain Python loop over
hand-listed tuples, hand-worked numbers, margin edges, gradcheck in float64 and the ValueErrors
of bad input."""

from __future__ import annotations

import math

import pytest
import torch
from naive_losses import _seeded

from vidsift.training.losses import (
    SlowFeatureAELoss,
)
from vidsift.training.models import SlowAEOutput

# -- SlowFeatureAELoss (Goroshin Eq. 2) -------------------------------------------------------


def _out(h, z, recon, target=None) -> SlowAEOutput:
    t = lambda v: torch.tensor(v, dtype=torch.float32).reshape(1, 1, 1, -1)  # noqa: E731
    return SlowAEOutput(
        h=t(h), z=t(z), recon=t(recon), target=None if target is None else t(target)
    )


def test_slow_ae_loss_hand_worked() -> None:
    out_t = _out(h=[1.0, -2.0], z=[1.5], recon=[3.0, 4.0], target=[0.0, 0.0])
    out_t2 = _out(h=[0.0, 2.0], z=[0.5], recon=[1.0, 1.0], target=[1.0, 1.0])
    # frame t : ||(3, 4) - (0, 0)|| = 5, |h|_1 = 1 + 2 = 3
    # frame t': ||(1, 1) - (1, 1)|| = 0, |h|_1 = 2
    # slowness: |1.5 - 0.5| = 1
    # alpha = 0.1, beta = 2: 5 + 0.1 * 3 + 0 + 0.1 * 2 + 2 * 1 = 7.5
    assert SlowFeatureAELoss(0.1, 2.0)(out_t, out_t2).item() == pytest.approx(7.5)
    # squared reconstruction: 25 + 0.3 + 0.2 + 2 = 27.5
    sq = SlowFeatureAELoss(0.1, 2.0, squared_recon=True)(out_t, out_t2)
    assert sq.item() == pytest.approx(27.5)
    # beta = 0 (no-slowness ablation): 5.5
    assert SlowFeatureAELoss(0.1, 0.0)(out_t, out_t2).item() == pytest.approx(5.5)
    # explicit x overrides the stored target: x_t = (3, 4) -> reconstruction term 0 -> 2.5
    x = torch.tensor([3.0, 4.0]).reshape(1, 1, 1, 2)
    assert SlowFeatureAELoss(0.1, 2.0)(out_t, out_t2, x, out_t2.target).item() == pytest.approx(2.5)


@pytest.mark.parametrize("squared_recon", [False, True])
def test_slow_ae_loss_matches_loop(squared_recon: bool) -> None:
    n = 3
    outs = [
        SlowAEOutput(
            h=torch.relu(_seeded(n, 4, 2, 2, seed=50 + k)),
            z=_seeded(n, 1, 1, 1, seed=60 + k).abs(),
            recon=_seeded(n, 3, 2, 2, seed=70 + k),
            target=_seeded(n, 3, 2, 2, seed=80 + k),
        )
        for k in range(2)
    ]
    alpha, beta = 0.3, 2.0
    expected = []
    for i in range(n):
        total = 0.0
        for o in outs:
            r = [
                float(u - v)
                for u, v in zip(o.recon[i].flatten(), o.target[i].flatten(), strict=True)
            ]
            sq = sum(v * v for v in r)
            total += (sq if squared_recon else math.sqrt(sq)) + alpha * sum(
                abs(float(v)) for v in o.h[i].flatten()
            )
        total += beta * sum(
            abs(float(u - v))
            for u, v in zip(outs[0].z[i].flatten(), outs[1].z[i].flatten(), strict=True)
        )
        expected.append(total)
    loss_fn = SlowFeatureAELoss(alpha, beta, reduction="none", squared_recon=squared_recon)
    torch.testing.assert_close(loss_fn(*outs), torch.tensor(expected))
    assert SlowFeatureAELoss(alpha, beta, reduction="sum", squared_recon=squared_recon)(
        *outs
    ).item() == pytest.approx(sum(expected), rel=1e-5)


def test_slow_ae_loss_gradcheck() -> None:
    shapes = [(2, 4, 2, 2), (2, 1, 1, 1), (2, 3, 2, 2)]
    # h, z, recon of both frames; h kept away from 0 (|h| kink) and z_t != z_t' (|.| kink)
    tensors = [
        (_seeded(*s, seed=90 + k, dtype=torch.float64).abs() + 0.1).requires_grad_()
        for k, s in enumerate(shapes * 2)
    ]
    with torch.no_grad():
        tensors[4] += 5.0  # z_t' far from z_t
    x_t = _seeded(2, 3, 2, 2, seed=99, dtype=torch.float64)
    x_t2 = _seeded(2, 3, 2, 2, seed=98, dtype=torch.float64)
    loss_fn = SlowFeatureAELoss(alpha=0.5, beta=2.0)

    def f(h1, z1, r1, h2, z2, r2):
        return loss_fn(SlowAEOutput(h1, z1, r1, x_t), SlowAEOutput(h2, z2, r2, x_t2))

    assert torch.autograd.gradcheck(f, tuple(tensors))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"alpha": -1.0, "beta": 2.0}, "alpha must be a finite number >= 0"),
        ({"alpha": 0.1, "beta": -2.0}, "beta must be a finite number >= 0"),
        ({"alpha": 0.1, "beta": float("nan")}, "beta"),
        ({"alpha": 0.1, "beta": 2.0, "reduction": "max"}, "reduction must be one of"),
    ],
)
def test_slow_ae_loss_rejects_bad_hparams(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SlowFeatureAELoss(**kwargs)


def test_slow_ae_loss_rejects_mismatched_frames() -> None:
    a = _out(h=[1.0, 2.0], z=[1.0], recon=[0.0, 0.0], target=[0.0, 0.0])
    b = _out(h=[1.0, 2.0, 3.0], z=[1.0], recon=[0.0, 0.0], target=[0.0, 0.0])
    loss_fn = SlowFeatureAELoss(0.1, 2.0)
    with pytest.raises(ValueError, match=r"h differs between the two frames"):
        loss_fn(a, b)
    with pytest.raises(ValueError, match=r"reconstruction has shape \[1, 1, 1, 2\] but the target"):
        loss_fn(a, a, torch.zeros(1, 1, 1, 3), torch.zeros(1, 1, 1, 3))
    with pytest.raises(TypeError, match="x of frame t must be a torch.Tensor"):
        loss_fn(a._replace(target=None), a)
