"""Shapes of the slow-feature auto-encoder and AlexNet embedding, L2 pooling against a hand
computation, greedy layer-2 training, feature layers, and ValueErrors for bad arguments."""

from __future__ import annotations

import math

import pytest
import torch

from vidsift.training.losses import SlowFeatureAELoss
from vidsift.training.models import (
    AlexNetEmbedding,
    SlowAELayer,
    SlowAEOutput,
    SlowFeatureAE,
    l2_pool,
)

# -- L2 pooling -------------------------------------------------------------------------------


def test_l2_pool_hand_computed() -> None:
    h = torch.zeros(1, 4, 2, 2)
    h[0, 0] = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    h[0, 1] = torch.tensor([[0.0, 2.0], [2.0, 0.0]])
    h[0, 2] = 1.0
    h[0, 3] = 1.0
    z = l2_pool(h, group_size=2, pool_size=2, eps=0.0)
    # group {0, 1}: sqrt(1 + 4 + 4) = 3;  group {2, 3}: sqrt(8 * 1) = 2 * sqrt(2)
    assert z.shape == (1, 2, 1, 1)
    torch.testing.assert_close(z.flatten(), torch.tensor([3.0, 2 * math.sqrt(2)]))
    # eps sits inside the root: sqrt(0 + eps) for an all-zero block
    assert l2_pool(torch.zeros(1, 2, 2, 2), 2, 2, eps=1e-4).item() == pytest.approx(1e-2)


def test_l2_pool_matches_loop() -> None:
    g = torch.Generator().manual_seed(0)
    h = torch.randn(2, 8, 6, 4, generator=g)
    group, pool = 4, 2
    z = l2_pool(h, group, pool, eps=0.0)
    assert z.shape == (2, 2, 3, 2)
    for n in range(2):
        for k in range(2):
            for i in range(3):
                for j in range(2):
                    block = h[
                        n,
                        k * group : (k + 1) * group,
                        i * pool : (i + 1) * pool,
                        j * pool : (j + 1) * pool,
                    ]
                    expected = math.sqrt(sum(float(v) ** 2 for v in block.flatten()))
                    assert z[n, k, i, j].item() == pytest.approx(expected, rel=1e-5)


def test_l2_pool_rejects_uneven_groups() -> None:
    with pytest.raises(ValueError, match="cannot be split into groups of 4"):
        l2_pool(torch.zeros(1, 6, 2, 2), 4, 2)


# -- SlowAELayer / SlowFeatureAE --------------------------------------------------------------


def test_slow_ae_layer1_shapes_at_32() -> None:
    torch.manual_seed(0)
    layer = SlowAELayer(3, 64, kernel_size=9, group_size=4, pool_size=2)
    x = torch.randn(2, 3, 32, 32)
    out = layer(x)
    assert isinstance(out, SlowAEOutput)
    assert out.h.shape == (2, 64, 32, 32)
    assert out.z.shape == (2, 16, 16, 16)  # card A: z1 = 16 x 16 x 16 = 4096
    assert out.recon.shape == x.shape
    assert out.target is x
    assert (out.h >= 0).all()  # ReLU code
    torch.testing.assert_close(out.z, l2_pool(out.h, 4, 2, layer.eps))


def test_slow_ae_layer_valid_padding_reconstructs_input_shape() -> None:
    layer = SlowAELayer(3, 8, kernel_size=5, group_size=2, pool_size=2, padding="valid")
    x = torch.randn(1, 3, 20, 20)
    out = layer(x)
    assert out.h.shape == (1, 8, 16, 16)
    assert out.z.shape == (1, 4, 8, 8)
    assert out.recon.shape == x.shape


def test_slow_feature_ae_shapes_and_features() -> None:
    torch.manual_seed(0)
    model = SlowFeatureAE()
    x = torch.randn(2, 3, 32, 32)
    z1 = model.features(x, "z1")
    z2 = model.features(x, "z2")
    assert z1.shape == (2, 4096) and z2.shape == (2, 1024)  # card A: 16x16x16, 64x4x4
    assert model.feature_dim("z1") == 4096 and model.feature_dim("z2") == 1024
    assert (
        model.feature_dim("z1", (64, 64))
        == model.features(torch.randn(1, 3, 64, 64), "z1").shape[1]
    )
    out1 = model(x, upto=1)
    torch.testing.assert_close(out1.z.flatten(1), z1)
    out2 = model(x, upto=2)
    torch.testing.assert_close(out2.target, out1.z)  # layer 2 encodes and reconstructs z1
    assert out2.recon.shape == out1.z.shape == (2, 16, 16, 16)
    assert out2.h.shape == (2, 64, 16, 16)
    torch.testing.assert_close(out2.z.flatten(1), z2)
    assert model.LAYERS == ("z1", "z2")


def test_slow_feature_ae_greedy_layer2_leaves_layer1_alone() -> None:
    torch.manual_seed(0)
    model = SlowFeatureAE(layer1=(8, 5, 4, 2), layer2=(8, 3, 1, 2))
    x_t, x_t2 = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    loss = SlowFeatureAELoss(alpha=0.1, beta=2.0)(model(x_t, upto=2), model(x_t2, upto=2))
    loss.backward()
    assert all(p.grad is None for p in model.layers[0].parameters())
    assert all(p.grad is not None for p in model.layers[1].parameters())
    model.zero_grad(set_to_none=True)
    joint = model(x_t, upto=2, detach=False)
    SlowFeatureAELoss(0.1, 2.0)(joint, model(x_t2, upto=2, detach=False)).backward()
    assert model.layers[0].encoder.weight.grad is not None


def test_slow_ae_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"n_filters \(6\) must be divisible by group_size \(4\)"):
        SlowAELayer(3, 6, 3, group_size=4, pool_size=2)
    with pytest.raises(ValueError, match="padding must be 'same' or 'valid'"):
        SlowAELayer(3, 8, 3, 4, 2, padding="full")
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        SlowAELayer(3, 8, 0, 4, 2)
    with pytest.raises(ValueError, match="eps must be a number > 0"):
        SlowAELayer(3, 8, 3, 4, 2, eps=0.0)
    with pytest.raises(ValueError, match=r"layer2 must be \(n_filters, kernel_size"):
        SlowFeatureAE(layer2=(64, 5, 4))
    model = SlowFeatureAE(layer1=(8, 3, 4, 2), layer2=(8, 3, 1, 2))
    with pytest.raises(ValueError, match="unknown layer 'h1'; choose one of z1, z2"):
        model.features(torch.zeros(1, 3, 8, 8), "h1")
    with pytest.raises(ValueError, match="upto must be 1 or 2"):
        model(torch.zeros(1, 3, 8, 8), upto=3)
    with pytest.raises(ValueError, match=r"expects \[N, 3, H, W\] input"):
        model(torch.zeros(1, 1, 8, 8))


# -- AlexNetEmbedding -------------------------------------------------------------------------


def test_alexnet_small_input_shapes_and_layers() -> None:
    torch.manual_seed(0)
    net = AlexNetEmbedding(fc6=64, fc7=16, input_size=64).eval()
    x = torch.randn(2, 3, 64, 64)
    emb = net(x)
    assert emb.shape == (2, 16) and net.embed_dim == 16
    feats = {layer: net.features(x, layer) for layer in net.LAYERS}
    assert feats["pool5"].shape == (2, 9216)
    assert feats["fc6"].shape == (2, 64)
    assert (feats["fc6"] >= 0).all()  # after ReLU
    torch.testing.assert_close(feats["fc7"], emb)
    assert {layer: net.feature_dim(layer) for layer in net.LAYERS} == {
        "pool5": 9216,
        "fc6": 64,
        "fc7": 16,
    }
    assert net.input_size == 64


def test_alexnet_paper_input_size() -> None:
    torch.manual_seed(0)
    net = AlexNetEmbedding(fc6=256, fc7=128).eval()  # widths do not change pool5
    conv = net.features_conv(torch.randn(1, 3, 227, 227))
    assert conv.shape == (1, 256, 6, 6)  # adaptive pool is the identity at 227
    with torch.no_grad():
        x = torch.randn(1, 3, 227, 227)
        assert net(x).shape == (1, 128)
        assert net.features(x, "fc6").shape == (1, 256)
        assert net.features(x, "pool5").shape == (1, 9216)


def test_alexnet_dropout_only_between_fc6_and_fc7() -> None:
    torch.manual_seed(0)
    net = AlexNetEmbedding(fc6=32, fc7=8, dropout=0.5).train()
    x = torch.randn(3, 3, 64, 64)
    torch.testing.assert_close(net.features(x, "fc6"), net.features(x, "fc6"))
    assert AlexNetEmbedding(fc6=32, fc7=8, dropout=0.0).train().dropout.p == 0.0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"fc6": 0}, "fc6 must be an int >= 1"),
        ({"fc7": 12.5}, "fc7 must be an int >= 1"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"dropout": -0.1}, "dropout"),
        ({"input_size": 0}, "input_size must be an int >= 1"),
    ],
)
def test_alexnet_rejects_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AlexNetEmbedding(**{"fc6": 8, "fc7": 4, **kwargs})


def test_alexnet_rejects_unknown_layer() -> None:
    net = AlexNetEmbedding(fc6=8, fc7=4)
    with pytest.raises(ValueError, match="unknown layer 'conv5'; choose one of pool5, fc6, fc7"):
        net.features(torch.zeros(1, 3, 64, 64), "conv5")
    with pytest.raises(ValueError, match="unknown layer"):
        net.feature_dim("fc8")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_models_run_on_cuda() -> None:
    dev = torch.device("cuda")
    ae = SlowFeatureAE().to(dev)
    x = torch.randn(2, 3, 32, 32, device=dev)
    out = ae(x, upto=2)
    loss = SlowFeatureAELoss(0.1, 2.0)(out, ae(x.flip(0), upto=2))
    loss.backward()
    assert loss.device.type == "cuda"
    net = AlexNetEmbedding(fc6=64, fc7=16).to(dev)
    assert net.features(torch.randn(2, 3, 64, 64, device=dev), "fc6").device.type == "cuda"


def test_alexnet_trunk_is_torchvision_alexnet_features_randomly_initialised() -> None:
    import torchvision

    reference = torchvision.models.alexnet(weights=None).features
    torch.manual_seed(0)
    net = AlexNetEmbedding(fc6=8, fc7=4)
    assert [type(m) for m in net.features_conv] == [type(m) for m in reference]
    assert [p.shape for p in net.features_conv.parameters()] == [
        p.shape for p in reference.parameters()
    ]
    torch.manual_seed(0)
    again = AlexNetEmbedding(fc6=8, fc7=4)
    first = net.features_conv[0].weight
    torch.testing.assert_close(first, again.features_conv[0].weight)  # seeded
    assert first.std().item() == pytest.approx(reference[0].weight.std().item(), rel=0.1)
    assert first.device.type == "cpu" and not first.is_meta
