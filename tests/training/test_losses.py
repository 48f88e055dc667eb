"""Each loss against a plain Python loop over hand-listed tuples, hand-worked numbers,
margin edge cases, gradcheck in float64, and the ValueErrors of bad hyper-parameters/inputs."""

from __future__ import annotations

import math

import pytest
import torch
from vidsift.training.losses import (
    ContrastiveLoss,
    DrLIMLoss,
    QuadrupletLoss,
    SlowFeatureAELoss,
    TripletRankingLoss,
)
from vidsift.training.models import SlowAEOutput

# -- naive references (plain Python floats, one tuple at a time) --------------------------------


def _vec(t: torch.Tensor) -> list[float]:
    return [float(v) for v in t]


def _unit(v: list[float]) -> list[float]:
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def _euclid(a: list[float], b: list[float], squared: bool = False, normalize: bool = False):
    if normalize:
        a, b = _unit(a), _unit(b)
    s = sum((x - y) ** 2 for x, y in zip(a, b, strict=True))
    return s if squared else math.sqrt(s)


def _cos_dist(a: list[float], b: list[float]) -> float:
    return 1.0 - sum(x * y for x, y in zip(_unit(a), _unit(b), strict=True))


def _seeded(*shape: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype)


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


# -- device handling --------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_losses_run_on_cuda() -> None:
    dev = torch.device("cuda")
    a, b = torch.randn(6, 8, device=dev), torch.randn(6, 8, device=dev)
    y = torch.tensor([1, 0, 1, 0, 1, 0], device=dev)
    groups = torch.tensor([0, 0, 1, 1, 2, 2], device=dev)
    results = [
        ContrastiveLoss()(a, b, y),
        DrLIMLoss()(a, b, y),
        QuadrupletLoss()(a, b, a.flip(0), b.flip(0)),
        *(
            TripletRankingLoss(mining=m)(a, b, groups)
            for m in ("topk", "nonzero", "none", "random")
        ),
    ]
    cpu = [
        ContrastiveLoss()(a.cpu(), b.cpu(), y.cpu()),
        DrLIMLoss()(a.cpu(), b.cpu(), y.cpu()),
        QuadrupletLoss()(a.cpu(), b.cpu(), a.flip(0).cpu(), b.flip(0).cpu()),
        *(
            TripletRankingLoss(mining=m)(a.cpu(), b.cpu(), groups.cpu())
            for m in ("topk", "nonzero", "none")
        ),
    ]
    for r in results:
        assert r.device.type == "cuda" and torch.isfinite(r)
    for r, c in zip(results, cpu, strict=False):
        torch.testing.assert_close(r.cpu(), c, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="move all inputs to one device"):
        ContrastiveLoss()(a, b.cpu(), y)
