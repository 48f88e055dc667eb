"""DrLIMLoss (Goroshin Eq. 1 / Hadsell 2006) (``training/losses/drlim_loss.py``): against a plain Python loop over
hand-listed tuples, hand-worked numbers, margin edges, gradcheck in float64 and the ValueErrors
of bad input."""

from __future__ import annotations

import pytest
import torch
from naive_losses import _seeded

from vidsift.training.losses import (
    ContrastiveLoss,
    DrLIMLoss,
)

# -- DrLIMLoss (Goroshin Eq. 1 / Hadsell 2006) ------------------------------------------------


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("squared", [False, True])
def test_drlim_matches_loop(p: float, squared: bool) -> None:
    x1, x2 = _seeded(5, 4, seed=7), _seeded(5, 4, seed=8)
    y = torch.tensor([1, 0, 0, 1, 0])
    margin = 3.0
    expected = []
    for a, b, lab in zip(x1.tolist(), x2.tolist(), y.tolist(), strict=True):
        d = sum(abs(u - v) ** p for u, v in zip(a, b, strict=True)) ** (1 / p)
        hinge = max(0.0, margin - d)
        if squared:
            expected.append(0.5 * d * d if lab else 0.5 * hinge * hinge)
        else:
            expected.append(d if lab else hinge)
    loss_fn = DrLIMLoss(margin, p=p, squared=squared, reduction="none")
    torch.testing.assert_close(loss_fn(x1, x2, y), torch.tensor(expected))


def test_drlim_hand_worked_and_edge() -> None:
    a = torch.zeros(3, 2)
    b = torch.tensor([[0.5, 0.0], [0.5, 0.0], [1.0, 0.0]])  # d = 0.5, 0.5, 1.0
    y = torch.tensor([1, 0, 0])
    # Goroshin Eq. 1: [0.5, max(0, 1 - 0.5) = 0.5, max(0, 1 - 1) = 0 (at the margin)]
    torch.testing.assert_close(
        DrLIMLoss(1.0, reduction="none")(a, b, y), torch.tensor([0.5, 0.5, 0.0])
    )
    # Hadsell 2006: [0.5 * 0.25, 0.5 * 0.5^2, 0] = [0.125, 0.125, 0]
    hadsell = DrLIMLoss(1.0, squared=True, reduction="none")(a, b, y)
    torch.testing.assert_close(hadsell, torch.tensor([0.125, 0.125, 0.0]))
    # L1 distance: (0.3, 0.4) -> 0.7; y = 0, margin 1 -> 0.3
    l1 = DrLIMLoss(1.0, p=1.0)(torch.zeros(1, 2), torch.tensor([[0.3, 0.4]]), torch.tensor([0]))
    assert l1.item() == pytest.approx(0.3)


def test_drlim_equals_contrastive_at_p2() -> None:
    x1, x2 = _seeded(6, 3, seed=9), _seeded(6, 3, seed=10)
    y = torch.tensor([1, 0, 1, 0, 1, 0])
    torch.testing.assert_close(DrLIMLoss(2.0)(x1, x2, y), ContrastiveLoss(2.0)(x1, x2, y))


@pytest.mark.parametrize("squared", [False, True])
def test_drlim_gradcheck(squared: bool) -> None:
    x1 = _seeded(4, 3, seed=11, dtype=torch.float64).requires_grad_()
    x2 = _seeded(4, 3, seed=12, dtype=torch.float64).requires_grad_()
    y = torch.tensor([1, 0, 1, 0])
    loss_fn = DrLIMLoss(margin=10.0, squared=squared)
    assert torch.autograd.gradcheck(lambda a, b: loss_fn(a, b, y), (x1, x2))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"margin": 0}, "margin must be a finite number > 0"),
        ({"p": 0.5}, r"p must be a finite number >= 1"),
        ({"reduction": None}, "reduction"),
    ],
)
def test_drlim_rejects_bad_hparams(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DrLIMLoss(**kwargs)
