"""Every loss on CUDA against the CPU result."""

from __future__ import annotations

import pytest
import torch

from vidsift.training.losses import (
    ContrastiveLoss,
    DrLIMLoss,
    QuadrupletLoss,
    TripletRankingLoss,
)

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
