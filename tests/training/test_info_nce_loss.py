"""InfoNCELoss (Oord 2018 / SimCLR NT-Xent) (``training/losses/info_nce_loss.py``): against a plain
Python loop over every anchor with math.exp / math.log, hand-worked numbers, gradcheck in float64
and the ValueErrors of bad input."""

from __future__ import annotations

import math

import pytest
import torch
from naive_losses import _seeded, _unit, _vec

from vidsift.training.losses import InfoNCELoss


def _naive_nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> list[float]:
    """Per-pair loss: (l(i, i+N) + l(i+N, i)) / 2 with l from SimCLR Eq. 1, one anchor at a time."""
    rows = [_unit(_vec(r)) for r in torch.cat([z1, z2])]
    n = len(z1)

    def sim(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    def ell(i: int, j: int) -> float:
        den = sum(math.exp(sim(rows[i], rows[k]) / tau) for k in range(2 * n) if k != i)
        return -math.log(math.exp(sim(rows[i], rows[j]) / tau) / den)

    return [(ell(i, i + n) + ell(i + n, i)) / 2 for i in range(n)]


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
def test_info_nce_matches_loop(tau: float) -> None:
    z1, z2 = _seeded(5, 7, seed=1), _seeded(5, 7, seed=2)
    expected = torch.tensor(_naive_nt_xent(z1, z2, tau))
    torch.testing.assert_close(InfoNCELoss(tau, reduction="none")(z1, z2), expected, rtol=1e-5, atol=1e-5)
    assert InfoNCELoss(tau)(z1, z2).item() == pytest.approx(float(expected.mean()), rel=1e-5)
    assert InfoNCELoss(tau, reduction="sum")(z1, z2).item() == pytest.approx(float(expected.sum()), rel=1e-5)


def test_info_nce_hand_worked() -> None:
    # two orthogonal pairs, tau = 1: each anchor has its positive at s = 1 and two others at s = 0
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    expected = -math.log(math.e / (math.e + 2))  # 0.5514
    assert InfoNCELoss(1.0)(z, z).item() == pytest.approx(expected, rel=1e-6)
    # scaling rows does not matter (cosine similarity)
    assert InfoNCELoss(1.0)(3 * z, 0.5 * z).item() == pytest.approx(expected, rel=1e-6)
    # a single pair: the only other row is the positive, so the loss is -log(1) = 0
    assert InfoNCELoss(0.1)(torch.tensor([[1.0, 2.0]]), torch.tensor([[-1.0, 0.5]])).item() == pytest.approx(0.0, abs=1e-6)


def test_info_nce_prefers_matched_views() -> None:
    z1 = _seeded(8, 16, seed=3)
    matched = InfoNCELoss(0.1)(z1, z1 + 0.01 * _seeded(8, 16, seed=4))
    shuffled = InfoNCELoss(0.1)(z1, z1.roll(1, dims=0))
    assert matched < 0.1 < shuffled


def test_info_nce_gradcheck() -> None:
    z1 = _seeded(4, 3, seed=5, dtype=torch.float64).requires_grad_()
    z2 = _seeded(4, 3, seed=6, dtype=torch.float64).requires_grad_()
    loss_fn = InfoNCELoss(0.5)
    assert torch.autograd.gradcheck(lambda a, b: loss_fn(a, b), (z1, z2))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"temperature": 0.0}, "temperature must be a finite number > 0"),
        ({"temperature": -1.0}, "temperature must be a finite number > 0"),
        ({"temperature": float("inf")}, "temperature"),
        ({"reduction": "avg"}, "reduction must be one of"),
    ],
)
def test_info_nce_rejects_bad_hparams(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        InfoNCELoss(**kwargs)


def test_info_nce_rejects_bad_inputs() -> None:
    loss_fn = InfoNCELoss()
    a = torch.zeros(3, 4)
    with pytest.raises(ValueError, match=r"z2 has shape \[3, 5\] but z1 has \[3, 4\]"):
        loss_fn(a, torch.zeros(3, 5))
    with pytest.raises(ValueError, match="must be a 2-D"):
        loss_fn(torch.zeros(3, 4, 1), torch.zeros(3, 4, 1))
    with pytest.raises(TypeError, match="missing input 'z2'"):
        loss_fn(a)
