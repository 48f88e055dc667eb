"""TripletRankingLoss (Wang & Gupta) (``training/losses/triplet_ranking_loss.py``): against a plain Python loop over
hand-listed tuples, hand-worked numbers, margin edges, gradcheck in float64 and the ValueErrors
of bad input."""

from __future__ import annotations

import pytest
import torch
from naive_losses import _cos_dist, _seeded

from vidsift.training.losses import (
    TripletRankingLoss,
)

# -- TripletRankingLoss (Wang & Gupta) --------------------------------------------------------


def _triplet_reference(anchors, positives, margin, k, mining, groups=None) -> float:
    """Plain loop: per pair, list every in-batch negative and its hinge loss, then select."""
    n = len(anchors)
    chosen: list[float] = []
    for i in range(n):
        d_pos = _cos_dist(anchors[i], positives[i])
        losses = []
        for j in range(n):
            if j == i or (groups is not None and groups[j] == groups[i]):
                continue
            for cand in (anchors[j], positives[j]):
                losses.append(max(0.0, d_pos - _cos_dist(anchors[i], cand) + margin))
        if mining == "none":
            chosen += losses
        elif mining == "nonzero":
            chosen += [v for v in losses if v > 0]
        else:
            chosen += sorted(losses, reverse=True)[:k]
    return sum(chosen) / len(chosen) if chosen else 0.0


# Three pairs in 2-D, hand-picked so every cosine is exact:
#   a0 = (1, 0)      p0 = (1, 0)     D(a0, p0) = 0
#   a1 = (.8, .6)    p1 = (0, 1)     D(a1, p1) = 1 - .6 = .4
#   a2 = (.6, .8)    p2 = (-1, 0)    D(a2, p2) = 1 + .6 = 1.6
# Hinge losses max(0, D(a_i, p_i) - D(a_i, c) + 0.5) per candidate c (columns a0 a1 a2 p0 p1 p2):
#   pair 0: a1: 0 - .2 + .5 = .3   a2: 0 - .4 + .5 = .1   p1: 0 - 1 + .5 -> 0   p2: -> 0
#   pair 1: a0: .4 - .2 + .5 = .7  a2: .4 - .04 + .5 = .86  p0: .7   p2: .4 - 1.8 + .5 -> 0
#   pair 2: a0: 1.6 - .4 + .5 = 1.7  a1: 1.6 - .04 + .5 = 2.06  p0: 1.7  p1: 1.6 - .2 + .5 = 1.9
HAND_A = [[1.0, 0.0], [0.8, 0.6], [0.6, 0.8]]
HAND_P = [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]


@pytest.mark.parametrize(
    "mining,k,expected",
    [
        ("topk", 1, (0.3 + 0.86 + 2.06) / 3),  # hardest one each
        ("topk", 2, (0.3 + 0.1 + 0.86 + 0.7 + 2.06 + 1.9) / 6),
        ("nonzero", 4, (0.3 + 0.1 + 0.7 + 0.7 + 0.86 + 1.7 + 1.7 + 2.06 + 1.9) / 9),
        ("none", 4, (0.3 + 0.1 + 0.7 + 0.7 + 0.86 + 1.7 + 1.7 + 2.06 + 1.9) / 12),
    ],
)
def test_triplet_hand_worked(mining: str, k: int, expected: float) -> None:
    loss_fn = TripletRankingLoss(margin=0.5, hard_negatives=k, mining=mining)
    out = loss_fn(torch.tensor(HAND_A), torch.tensor(HAND_P))
    assert out.item() == pytest.approx(expected, abs=1e-5)
    assert expected == pytest.approx(_triplet_reference(HAND_A, HAND_P, 0.5, k, mining))


def test_triplet_topk_picks_the_hardest() -> None:
    loss_fn = TripletRankingLoss(margin=0.5, hard_negatives=1, mining="topk")
    loss, valid = loss_fn.triplet_losses(torch.tensor(HAND_A), torch.tensor(HAND_P))
    selected = loss_fn.mine(loss, valid)
    # columns 0..2 are anchors a0..a2, 3..5 positives p0..p2
    # pair 0 -> a1 (.3), pair 1 -> a2 (.86), pair 2 -> a1 (2.06)
    assert selected.nonzero().tolist() == [[0, 1], [1, 2], [2, 1]]
    assert not valid[0, 0] and not valid[0, 3]  # a pair's own patches are never negatives
    two = TripletRankingLoss(margin=0.5, hard_negatives=2).mine(loss, valid)
    rows = [sorted(two[i].nonzero().flatten().tolist()) for i in range(3)]
    # pair 1's second hardest is a0 or p0 (equal vectors, both .7): either is right
    assert rows[0] == [1, 2] and rows[1] in ([0, 2], [2, 3]) and rows[2] == [1, 4]


def test_triplet_groups_exclude_same_video() -> None:
    groups = torch.tensor([7, 7, 3])  # pairs 0 and 1 come from one video
    loss_fn = TripletRankingLoss(margin=0.5, hard_negatives=1, mining="topk")
    out = loss_fn(torch.tensor(HAND_A), torch.tensor(HAND_P), groups)
    # pair 0 may only use a2 (.1) / p2 (0); pair 1 only a2 (.86) / p2 (0); pair 2 unchanged (2.06)
    assert out.item() == pytest.approx((0.1 + 0.86 + 2.06) / 3, abs=1e-5)
    _, valid = loss_fn.triplet_losses(torch.tensor(HAND_A), torch.tensor(HAND_P), groups)
    assert valid.tolist() == [
        [False, False, True, False, False, True],
        [False, False, True, False, False, True],
        [True, True, False, True, True, False],
    ]


@pytest.mark.parametrize("mining", ["topk", "nonzero", "none"])
@pytest.mark.parametrize("use_groups", [False, True])
def test_triplet_matches_loop(mining: str, use_groups: bool) -> None:
    a, p = _seeded(8, 6, seed=40), _seeded(8, 6, seed=41)
    p = a + 0.8 * p  # positives near their anchors, so losses are a mix of zero and non-zero
    groups = [0, 0, 1, 1, 2, 3, 3, 3] if use_groups else None
    loss_fn = TripletRankingLoss(margin=0.5, hard_negatives=3, mining=mining)
    out = loss_fn(a, p, groups=None if groups is None else torch.tensor(groups))
    ref = _triplet_reference(a.tolist(), p.tolist(), 0.5, 3, mining, groups)
    assert out.item() == pytest.approx(ref, rel=1e-5, abs=1e-6)


def test_triplet_random_mining_draws_k_valid_negatives() -> None:
    torch.manual_seed(0)
    groups = torch.tensor([0, 0, 1, 2, 3])
    loss_fn = TripletRankingLoss(hard_negatives=4, mining="random")
    loss, valid = loss_fn.triplet_losses(_seeded(5, 3, seed=42), _seeded(5, 3, seed=43), groups)
    for _ in range(5):
        selected = loss_fn.mine(loss, valid)
        assert not (selected & ~valid).any()
        assert selected.sum(1).tolist() == [4, 4, 4, 4, 4]  # every pair has >= 4 valid


def test_triplet_no_valid_negative_gives_zero_with_grad() -> None:
    a = torch.randn(1, 4, requires_grad=True)
    out = TripletRankingLoss()(a, a.detach() + 1)
    out.backward()
    assert out.item() == 0.0 and a.grad is not None
    b = torch.randn(3, 4)
    same_video = TripletRankingLoss(mining="none")(b, b, torch.zeros(3, dtype=torch.long))
    assert same_video.item() == 0.0


@pytest.mark.parametrize("mining", ["topk", "none", "nonzero"])
def test_triplet_gradcheck(mining: str) -> None:
    a = _seeded(5, 4, seed=44, dtype=torch.float64).requires_grad_()
    p = _seeded(5, 4, seed=45, dtype=torch.float64).requires_grad_()
    groups = torch.tensor([0, 1, 1, 2, 3])
    loss_fn = TripletRankingLoss(margin=2.5, hard_negatives=2, mining=mining)  # all hinges open
    assert torch.autograd.gradcheck(lambda x, y: loss_fn(x, y, groups), (a, p))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"margin": -0.5}, "margin must be a finite number >= 0"),
        ({"hard_negatives": 0}, "hard_negatives must be an int >= 1"),
        ({"hard_negatives": 2.0}, "hard_negatives must be an int >= 1"),
        ({"hard_negatives": True}, "hard_negatives"),
        ({"mining": "hard"}, "mining must be one of 'topk', 'nonzero', 'none', 'random'"),
    ],
)
def test_triplet_rejects_bad_hparams(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TripletRankingLoss(**kwargs)


def test_triplet_rejects_bad_groups() -> None:
    a = torch.zeros(3, 2)
    with pytest.raises(ValueError, match=r"groups must be a 1-D tensor .*\[3\]"):
        TripletRankingLoss()(a, a, torch.zeros(3, 1))
