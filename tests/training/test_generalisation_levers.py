"""The issue #19 levers of the AlexNet methods: ``augment`` (a SimCLR view per frame) and
``normalize`` (the loss on L2-normalised outputs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsift.errors import BadInputError
from vidsift.training.data.source import ArrayFrameSource
from vidsift.training.losses import ContrastiveLoss, L2Normalized, QuadrupletLoss
from vidsift.training.registry import get_method


def _source() -> ArrayFrameSource:
    rng = np.random.default_rng(0)
    return ArrayFrameSource({f"v{i}": rng.integers(0, 255, (30, 64, 64, 3), dtype=np.uint8) for i in range(3)})


def test_l2_normalized_is_the_loss_on_unit_vectors() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 5, generator=g) * 3, torch.randn(6, 5, generator=g) * 3
    y = torch.tensor([1.0, 0, 1, 0, 1, 0])
    unit = lambda x: x / x.norm(dim=1, keepdim=True)  # noqa: E731
    got = L2Normalized(ContrastiveLoss(margin=1.0))(a, b, y)
    assert torch.allclose(got, ContrastiveLoss(margin=1.0)(unit(a), unit(b), y))
    q, p, f, n = (torch.randn(4, 5, generator=g) for _ in range(4))
    got = L2Normalized(QuadrupletLoss(alpha=0.5))(q, p, f, n)
    assert torch.allclose(got, QuadrupletLoss(alpha=0.5)(unit(q), unit(p), unit(f), unit(n)))
    with pytest.raises(TypeError, match="wraps a loss module"):
        L2Normalized(lambda x: x)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["siamese", "quadruplet", "drlim"])
def test_augment_changes_the_frames_not_the_sampling_and_is_deterministic(name) -> None:
    m = get_method(name)
    plain = m.build_dataset(m.config("cpu", seed=0, num_workers=0, batch_size=8), _source())
    aug = m.build_dataset(m.config("cpu", seed=0, num_workers=0, batch_size=8, augment=True), _source())
    b0, b1, b2 = plain.batch(3), aug.batch(3), aug.batch(3)
    assert b0["x"].shape == b1["x"].shape
    assert torch.equal(b0["frame"], b1["frame"]) and torch.equal(b0["video"], b1["video"])
    assert not torch.allclose(b0["x"], b1["x"])
    assert torch.equal(b1["x"], b2["x"])  # a resumed run sees the same views


def test_normalize_wraps_the_loss_and_presets_store_the_levers_only_when_set() -> None:
    m = get_method("siamese")
    assert isinstance(m.build_loss(m.config("cpu", normalize=True)), L2Normalized)
    assert isinstance(m.build_loss(m.config("paper")), ContrastiveLoss)
    assert "augment" not in dict(m.config("paper").params)  # older configs stay the same
    with pytest.raises(BadInputError, match="offered for siamese, quadruplet and drlim only"):
        get_method("triplet").config("cpu", augment=True)


def test_false_negative_filter_drops_negatives_nearer_than_the_positives_hand_worked() -> None:
    from vidsift.training.losses import DrLIMLoss, FalseNegativeFilter

    # pairs: positives d = 0.2, 0.6 (mean 0.4); negatives d = 0.3 (dropped), 0.5 and 1.5 (kept)
    a = torch.zeros(5, 1)
    b = torch.tensor([[0.2], [0.6], [0.3], [0.5], [1.5]], requires_grad=True)
    y = torch.tensor([1.0, 1, 0, 0, 0])
    f = FalseNegativeFilter(ContrastiveLoss(margin=1.0))
    got = f(a, b, y)
    assert torch.isclose(got, torch.tensor((0.2 + 0.6 + (1 - 0.5) + 0) / 4))
    assert torch.isclose(f.last_dropped, torch.tensor(0.2))
    got.backward()
    assert b.grad[2].item() == 0 and b.grad[3].item() != 0  # the dropped pair trains nothing
    # the same on DrLIM's loss: only the kept rows reach it
    keep = torch.tensor([True, True, False, True, True])
    assert torch.isclose(FalseNegativeFilter(DrLIMLoss(margin=1.0))(a, b, y), DrLIMLoss(margin=1.0)(a[keep], b[keep], y[keep]))
    # quadruplets: a tuple goes when its negative is nearer the query than the adjacent frame
    q = torch.zeros(2, 2)
    adj = torch.tensor([[0.3, 0.0], [0.3, 0.0]])
    far = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    neg = torch.tensor([[0.0, 0.2], [0.0, 1.2]])  # 0.2 < 0.3: dropped; 1.2 kept
    got = FalseNegativeFilter(QuadrupletLoss(alpha=0.5))(q, adj, far, neg)
    assert torch.isclose(got, torch.tensor(0.3 + max(0.0, 1.0 - 1.2 + 0.5)))
    with pytest.raises(TypeError, match="pairs or"):
        FalseNegativeFilter(ContrastiveLoss())(a, b)


@pytest.mark.parametrize("name", ["siamese", "quadruplet", "drlim"])
def test_fn_filter_is_wired_inside_normalize_and_trains(name) -> None:
    from vidsift.training.losses import FalseNegativeFilter

    m = get_method(name)
    loss = m.build_loss(m.config("cpu", fn_filter=True, normalize=True))
    assert isinstance(loss, L2Normalized) and isinstance(loss.loss, FalseNegativeFilter)
    cfg = m.config("cpu", seed=0, num_workers=0, batch_size=8, fn_filter=True, backbone="small", input_size=(32, 32))
    model, loss = m.build_model(cfg), m.build_loss(cfg)
    batch = m.build_dataset(cfg, _source()).batch(0)
    value, _ = m.step(model, loss, batch)
    value.backward()
    assert torch.isfinite(value) and 0.0 <= float(loss.last_dropped) <= 1.0
    with pytest.raises(BadInputError, match="fn_filter"):
        get_method("triplet").config("cpu", fn_filter=True)
