"""The AlexNet trunk and ResNet block written out in training.models are torchvision's (layers,
names, and the weights a seed draws); building a network embedder does not import torchvision;
AlexNet's folded fc6 and the channels-last embedder agree with the plain computation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
import torchvision
from torchvision.models.resnet import BasicBlock as TorchvisionBlock

from vidsift.training.models import AlexNetEmbedding, SmallResNet
from vidsift.training.models import resnet as resnet_module
from vidsift.training.models.alexnet import _alexnet_trunk


def _torchvision_trunk() -> torch.nn.Sequential:
    """What ``_alexnet_trunk`` built before it was written out: torchvision's model on the
    meta device, its trunk materialised and reset layer by layer."""
    with torch.device("meta"):
        trunk = torchvision.models.alexnet(weights=None).features
    trunk = trunk.to_empty(device="cpu")
    for module in trunk.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return trunk


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.mark.parametrize("seed", [0, 7])
def test_alexnet_trunk_draws_the_torchvision_weights(seed: int) -> None:
    torch.manual_seed(seed)
    ours = _alexnet_trunk()
    torch.manual_seed(seed)
    theirs = _torchvision_trunk()
    assert [repr(m) for m in ours] == [repr(m) for m in theirs]
    _same_state(ours, theirs)
    x = torch.randn(2, 3, 96, 96)
    assert torch.equal(ours(x), theirs(x))


def test_resnet_block_is_torchvisions(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(3)
    ours = SmallResNet(blocks=(2, 1, 1, 1), widths=(8, 16, 16, 32), hidden=16, proj_dim=8).eval()
    monkeypatch.setattr(resnet_module, "BasicBlock", TorchvisionBlock)
    torch.manual_seed(3)
    theirs = SmallResNet(blocks=(2, 1, 1, 1), widths=(8, 16, 16, 32), hidden=16, proj_dim=8).eval()
    assert type(theirs.stages[0][0]) is TorchvisionBlock and type(ours.stages[0][0]) is not TorchvisionBlock
    _same_state(ours, theirs)
    x = torch.randn(3, 3, 40, 40)
    with torch.no_grad():
        assert torch.equal(ours.features(x, "pool"), theirs.features(x, "pool"))


def test_building_network_embedders_imports_no_torchvision() -> None:
    code = (
        "import sys\n"
        "from vidsift.embedder.registry import get_embedder\n"
        "for name in ('random:siamese', 'random:infonce', 'random:c3d-siamese'):\n"
        "    get_embedder(name, None)\n"
        "sys.exit('torchvision' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_folded_fc6_is_the_pooled_fc6() -> None:
    torch.manual_seed(0)
    net = AlexNetEmbedding(fc6=32, fc7=8, dropout=0.0).eval()
    with torch.no_grad():
        for side in (64, 94):  # 1x1 maps after the trunk: the folded path
            x = torch.randn(4, 3, side, side)
            assert net.features_conv(x).shape[-2:] == (1, 1)
            plain = torch.relu(net.fc6(net.pool5(x)))
            torch.testing.assert_close(net.features(x, "fc6"), plain, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(net(x), net.fc7(plain), rtol=1e-5, atol=1e-6)
        x = torch.randn(2, 3, 96, 96)  # 2x2 maps: pooled as before, same bits
        assert net.features_conv(x).shape[-2:] == (2, 2)
        assert torch.equal(net.features(x, "fc6"), torch.relu(net.fc6(net.pool5(x))))


def test_folded_fc6_trains_like_the_pooled_one() -> None:
    torch.manual_seed(0)
    net = AlexNetEmbedding(fc6=16, fc7=4, dropout=0.0)
    x = torch.randn(3, 3, 64, 64)
    net(x).square().sum().backward()
    folded = net.fc6.weight.grad.clone()
    net.zero_grad()
    net.fc7(torch.relu(net.fc6(net.pool5(x)))).square().sum().backward()
    torch.testing.assert_close(folded, net.fc6.weight.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["random:siamese", "random:infonce", "random:c3d-siamese"])
def test_channels_last_embedder_matches_the_plain_network(name: str) -> None:
    from vidsift.embedder.registry import get_embedder

    emb = get_embedder(name, None)
    assert emb.memory_format in (torch.channels_last, torch.channels_last_3d)
    h, w = emb.input_size
    shape = (5, h, w, 3) if emb.unit == "frame" else (3, emb.clip_len, h, w, 3)
    batch = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    got = emb.embed(batch)
    with torch.inference_mode():
        x = emb.method.preprocess(batch, emb.cfg).contiguous()  # channels first
        plain = emb.method.features(emb.model.to(memory_format=torch.contiguous_format), x, emb.layer)
    np.testing.assert_allclose(got, plain.reshape(len(batch), -1).numpy(), rtol=1e-4, atol=1e-5)
