"""QuadrupletLoss (Redondo-Cabrera Lq) (``training/losses/quadruplet_loss.py``): against a plain Python loop over
hand-listed tuples, hand-worked numbers, margin edges, gradcheck in float64 and the ValueErrors
of bad input."""

from __future__ import annotations

import pytest
import torch
from naive_losses import _euclid, _seeded

from vidsift.training.losses import (
    QuadrupletLoss,
)

# -- QuadrupletLoss (Redondo-Cabrera Lq) ------------------------------------------------------


@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("normalize", [False, True])
def test_quadruplet_matches_loop(squared: bool, normalize: bool) -> None:
    q, adj, far, neg = (_seeded(5, 4, seed=s) for s in (20, 21, 22, 23))
    alpha = 0.5
    expected = []
    for row in zip(q.tolist(), adj.tolist(), far.tolist(), neg.tolist(), strict=True):
        qq, aa, ff, nn = row

        def d(b, qq=qq):
            return _euclid(qq, b, squared, normalize)

        expected.append(d(aa) + max(0.0, d(ff) - d(nn) + alpha))
    loss_fn = QuadrupletLoss(alpha, squared=squared, normalize=normalize, reduction="none")
    torch.testing.assert_close(loss_fn(q, adj, far, neg), torch.tensor(expected))
    mean = QuadrupletLoss(alpha, squared=squared, normalize=normalize)
    assert mean(q, adj, far, neg).item() == pytest.approx(sum(expected) / 5, rel=1e-5)


def test_quadruplet_hand_worked_and_edge() -> None:
    q = torch.zeros(3, 2)
    adj = torch.tensor([[0.5, 0.0]] * 3)  # d(q, adj) = 0.5
    far = torch.tensor([[1.0, 0.0]] * 3)  # d(q, far) = 1
    neg = torch.tensor([[0.0, 1.25], [0.0, 1.5], [0.0, 2.0]])  # d(q, neg) = 1.25, 1.5, 2
    out = QuadrupletLoss(0.5, reduction="none")(q, adj, far, neg)
    # 0.5 + max(0, 1 - 1.25 + 0.5) = 0.75; at the margin: 0.5 + max(0, 1 - 1.5 + 0.5) = 0.5;
    # well outside: 0.5 + 0 = 0.5
    torch.testing.assert_close(out, torch.tensor([0.75, 0.5, 0.5]))


@pytest.mark.parametrize("squared", [False, True])
def test_quadruplet_gradcheck(squared: bool) -> None:
    inputs = tuple(
        _seeded(4, 3, seed=s, dtype=torch.float64).requires_grad_() for s in (30, 31, 32, 33)
    )
    loss_fn = QuadrupletLoss(alpha=0.5, squared=squared)
    assert torch.autograd.gradcheck(loss_fn, inputs)


def test_quadruplet_rejects_bad_hparams_and_inputs() -> None:
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        QuadrupletLoss(alpha=-0.1)
    with pytest.raises(ValueError, match="alpha"):
        QuadrupletLoss(alpha=float("inf"))
    a = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"negative has shape \[3, 3\] but query has \[2, 3\]"):
        QuadrupletLoss()(a, a, a, torch.zeros(3, 3))
    with pytest.raises(TypeError, match="missing input 'negative'"):
        QuadrupletLoss()(a, a, a)
    with pytest.raises(TypeError, match="takes 4 inputs"):
        QuadrupletLoss()(a, a, a, a, a)
