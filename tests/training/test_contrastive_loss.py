"""ContrastiveLoss (Redondo-Cabrera Ls) (``training/losses/contrastive_loss.py``): against a plain Python loop over
hand-listed tuples, hand-worked numbers, margin edges, gradcheck in float64 and the ValueErrors
of bad input."""

from __future__ import annotations

import pytest
import torch
from naive_losses import _euclid, _seeded, _vec

from vidsift.training.losses import (
    ContrastiveLoss,
)

# -- ContrastiveLoss (Redondo-Cabrera Ls) -----------------------------------------------------


@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("normalize", [False, True])
def test_contrastive_matches_loop(squared: bool, normalize: bool) -> None:
    x1, x2 = _seeded(6, 5, seed=1), _seeded(6, 5, seed=2)
    y = torch.tensor([1, 0, 1, 0, 0, 1])
    margin = 1.5 if not normalize else 0.8
    expected = []
    for a, b, lab in zip(x1, x2, y.tolist(), strict=True):
        d = _euclid(_vec(a), _vec(b), squared, normalize)
        expected.append(d if lab == 1 else max(0.0, margin - d))
    loss_fn = ContrastiveLoss(margin, squared=squared, normalize=normalize, reduction="none")
    torch.testing.assert_close(loss_fn(x1, x2, y), torch.tensor(expected))
    mean = ContrastiveLoss(margin, squared=squared, normalize=normalize)(x1, x2, y=y)
    assert mean.item() == pytest.approx(sum(expected) / len(expected), rel=1e-5)


def test_contrastive_hand_worked() -> None:
    a = torch.zeros(2, 2)
    b = torch.tensor([[3.0, 4.0], [3.0, 4.0]])
    # d = sqrt(9 + 16) = 5; y=1 -> 5; y=0, margin 6 -> max(0, 6 - 5) = 1; mean = 3
    assert ContrastiveLoss(6.0)(a, b, torch.tensor([1.0, 0.0])).item() == pytest.approx(3.0)
    # normalize + squared: (2, 0) -> (1, 0), (0, 5) -> (0, 1); d^2 = 1 + 1 = 2
    # y=1 -> 2; y=0, margin 3 -> max(0, 3 - 2) = 1
    loss_fn = ContrastiveLoss(3.0, squared=True, normalize=True, reduction="none")
    out = loss_fn(
        torch.tensor([[2.0, 0.0]] * 2), torch.tensor([[0.0, 5.0]] * 2), torch.tensor([1, 0])
    )
    torch.testing.assert_close(out, torch.tensor([2.0, 1.0]))


def test_contrastive_margin_edge() -> None:
    a = torch.zeros(2, 2)
    b = torch.tensor([[1.0, 0.0], [0.75, 0.0]])  # d = 1 exactly (= margin), d = 0.75
    neg = torch.tensor([0, 0])
    out = ContrastiveLoss(1.0, reduction="none")(a, b, neg)
    # at the margin: max(0, 1 - 1) = 0; just inside: max(0, 1 - 0.75) = 0.25
    torch.testing.assert_close(out, torch.tensor([0.0, 0.25]))
    assert ContrastiveLoss(1.0, reduction="sum")(a, b, neg).item() == pytest.approx(0.25)


def test_contrastive_accepts_bool_targets() -> None:
    a, b = _seeded(3, 4, seed=3), _seeded(3, 4, seed=4)
    y = torch.tensor([True, False, True])
    torch.testing.assert_close(ContrastiveLoss()(a, b, y), ContrastiveLoss()(a, b, y.long()))


@pytest.mark.parametrize("squared,normalize", [(False, False), (True, True)])
def test_contrastive_gradcheck(squared: bool, normalize: bool) -> None:
    x1 = _seeded(4, 3, seed=5, dtype=torch.float64).requires_grad_()
    x2 = _seeded(4, 3, seed=6, dtype=torch.float64).requires_grad_()
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    # margin chosen so no negative sits on the hinge's kink
    loss_fn = ContrastiveLoss(
        margin=10.0 if not normalize else 3.0, squared=squared, normalize=normalize
    )
    assert torch.autograd.gradcheck(lambda a, b: loss_fn(a, b, y), (x1, x2))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"margin": 0.0}, "margin must be a finite number > 0"),
        ({"margin": -1.0}, "margin must be a finite number > 0"),
        ({"margin": float("nan")}, "margin"),
        ({"margin": "1"}, "margin"),
        ({"reduction": "avg"}, "reduction must be one of"),
    ],
)
def test_contrastive_rejects_bad_hparams(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ContrastiveLoss(**kwargs)


def test_contrastive_rejects_bad_inputs() -> None:
    loss_fn = ContrastiveLoss()
    a = torch.zeros(3, 4)
    with pytest.raises(ValueError, match=r"x2 has shape \[3, 5\] but x1 has \[3, 4\]"):
        loss_fn(a, torch.zeros(3, 5), torch.ones(3))
    with pytest.raises(ValueError, match="must be a 2-D"):
        loss_fn(torch.zeros(3, 4, 1), torch.zeros(3, 4, 1), torch.ones(3))
    with pytest.raises(ValueError, match="x2 is torch.float64 but x1 is torch.float32"):
        loss_fn(a, a.double(), torch.ones(3))
    with pytest.raises(ValueError, match="floating-point"):
        loss_fn(a.long(), a.long(), torch.ones(3))
    with pytest.raises(ValueError, match=r"y must be a 1-D tensor .*\[3\]"):
        loss_fn(a, a, torch.ones(4))
    with pytest.raises(ValueError, match="only 1 .* and 0"):
        loss_fn(a, a, torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="missing input 'y'"):
        loss_fn(a, a)
    with pytest.raises(TypeError, match="unexpected input 'labels'"):
        loss_fn(a, a, labels=torch.ones(3))
