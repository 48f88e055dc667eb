"""UL layer (online statistics and the gradient it adds), its closed form, and the rotating-points
experiment: hand-worked numbers, a naive loop, autograd of an explicit J, finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from vidsift.reproduce.recipes import angle_decoding_error, train_rotation
from vidsift.training.methods.ul import ULCost, ULMethod, ULNet
from vidsift.training.ul import (
    ULLayer,
    closed_form_embedding,
    normalized_cut_embedding,
    ul_objective,
)
from vidsift.training.ul.closed_form import chain_affinity, markov_laplacian
from vidsift.video.synthetic import rotating_points

# -- a naive reference of Eqs. 6-11 ------------------------------------------------------------


def naive_ul(Y: np.ndarray, mu: float, eps: float, init_cov: float = 1.0, delta: float = 0.0):
    """Row-by-row statistics (ŷ_t, ȳ_t, W_t, B_t) and dJ/dy_t, plain numpy, state from scratch."""
    d = Y.shape[1]
    ys, yl = Y[0].copy(), Y[0].copy()
    W, B = np.eye(d) * init_cov, np.eye(d) * init_cov
    stats, grads = [], []
    for y in Y:
        ys = (1 - mu) * ys + mu * y
        yl = (1 - eps) * yl + eps * y
        W = (1 - mu) * W + mu * np.outer(y - ys, y - ys)
        B = (1 - eps) * B + eps * np.outer(ys - yl, ys - yl)
        Wi = np.linalg.inv(W + delta * np.eye(d))
        Bi = np.linalg.inv(B + delta * np.eye(d))
        grads.append((y - ys) @ Wi - (ys - yl) @ Bi)
        stats.append((ys.copy(), yl.copy(), W.copy(), B.copy()))
    return stats, np.array(grads)


def frozen_J(Y: torch.Tensor, stats) -> torch.Tensor:
    """J(Y) = sum_t 1/2 (y_t - ŷ_t)^T W_t^{-1} (y_t - ŷ_t) - (ŷ_t - ȳ_t)^T B_t^{-1} y_t with every
    statistic held at the value the online layer used at step t."""
    total = Y.new_zeros(())
    for y, (ys, yl, W, B) in zip(Y, stats, strict=True):
        ys, yl = torch.as_tensor(ys, dtype=Y.dtype), torch.as_tensor(yl, dtype=Y.dtype)
        Wi = torch.linalg.inv(torch.as_tensor(W, dtype=Y.dtype))
        Bi = torch.linalg.inv(torch.as_tensor(B, dtype=Y.dtype))
        total = total + 0.5 * (y - ys) @ Wi @ (y - ys) - (ys - yl) @ Bi @ y
    return total


def added_gradient(layer: ULLayer, Y: torch.Tensor, upstream: torch.Tensor | None = None):
    y = Y.clone().requires_grad_(True)
    out = layer(y)
    if upstream is None:
        layer.cost(out).backward()
    else:
        (out * upstream).sum().backward()
    return y.grad


# -- the online layer ----------------------------------------------------------------------------


def test_moving_averages_hand_numbers() -> None:
    # mu = 0.5, eps = 0.1, W0 = B0 = 1, ŷ0 = ȳ0 = y1 = 2; then y2 = 4:
    # ŷ2 = 3, ȳ2 = 2.2, W2 = 0.5*0.5 + 0.5*1 = 0.75, B2 = 0.9*0.9 + 0.1*0.8^2 = 0.874
    # dJ/dy2 = 1/0.75 - 0.8/0.874
    layer = ULLayer(1, mu=0.5, eps=0.1, delta=0.0)
    g = added_gradient(layer, torch.tensor([[2.0], [4.0]], dtype=torch.float64))
    assert float(layer.y_short) == pytest.approx(3.0)
    assert float(layer.y_long) == pytest.approx(2.2)
    assert float(layer.W) == pytest.approx(0.75)
    assert float(layer.B) == pytest.approx(0.874)
    assert g[0, 0].item() == pytest.approx(0.0)
    assert g[1, 0].item() == pytest.approx(1 / 0.75 - 0.8 / 0.874)
    assert int(layer.steps) == 2


def test_statistics_and_gradient_match_naive_loop() -> None:
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(12, 3))
    layer = ULLayer(3, mu=0.4, eps=0.05, delta=1e-6)
    # two batches: the state carries over from one to the next
    g1 = added_gradient(layer, torch.from_numpy(Y[:5]))
    g2 = added_gradient(layer, torch.from_numpy(Y[5:]))
    stats, ref = naive_ul(Y, 0.4, 0.05, delta=1e-6)
    np.testing.assert_allclose(torch.cat([g1, g2]).numpy(), ref, rtol=1e-8, atol=1e-10)
    ys, yl, W, B = stats[-1]
    np.testing.assert_allclose(layer.y_short[0].numpy(), ys)
    np.testing.assert_allclose(layer.y_long[0].numpy(), yl)
    np.testing.assert_allclose(layer.W.numpy(), W)
    np.testing.assert_allclose(layer.B.numpy(), B)


def test_added_gradient_is_autograd_of_frozen_J() -> None:
    rng = np.random.default_rng(1)
    Y = torch.from_numpy(rng.normal(size=(7, 2)))
    weight = 0.7
    layer = ULLayer(2, mu=0.5, eps=0.01, weight=weight, delta=0.0)
    upstream = torch.from_numpy(rng.normal(size=(7, 2)))
    got = added_gradient(layer, Y, upstream)

    stats, _ = naive_ul(Y.numpy(), 0.5, 0.01)
    y = Y.clone().requires_grad_(True)
    ((y * upstream).sum() + weight * frozen_J(y, stats)).backward()
    torch.testing.assert_close(got, y.grad, rtol=1e-10, atol=1e-12)

    # J itself against finite differences (gradcheck, float64), and one central difference
    assert torch.autograd.gradcheck(lambda v: frozen_J(v, stats), (Y.clone().requires_grad_(True),))
    h = 1e-6
    e = torch.zeros_like(Y)
    e[3, 1] = h
    fd = (frozen_J(Y + e, stats) - frozen_J(Y - e, stats)) / (2 * h)
    assert (got[3, 1] - upstream[3, 1]).item() == pytest.approx(weight * fd.item(), rel=1e-6)


def test_conv_layer_covariance_across_channels() -> None:
    rng = np.random.default_rng(2)
    N, C, H, W = 4, 3, 2, 2
    Y = rng.normal(size=(N, C, H, W))
    layer = ULLayer(C, mu=0.5, eps=0.01, conv=True, delta=0.0)
    g = added_gradient(layer, torch.from_numpy(Y)).numpy()
    # naive: positions are samples of the channel vector; averages per position; C x C covariance
    P = H * W
    Z = Y.reshape(N, C, P).transpose(0, 2, 1)  # [N, P, C]
    ys, yl = Z[0].copy(), Z[0].copy()
    Wc, Bc = np.eye(C), np.eye(C)
    for t in range(N):
        ys = 0.5 * ys + 0.5 * Z[t]
        yl = 0.99 * yl + 0.01 * Z[t]
        Wc = 0.5 * Wc + 0.5 * (Z[t] - ys).T @ (Z[t] - ys) / P
        Bc = 0.99 * Bc + 0.01 * (ys - yl).T @ (ys - yl) / P
        ref = ((Z[t] - ys) @ np.linalg.inv(Wc) - (ys - yl) @ np.linalg.inv(Bc)) / P
        np.testing.assert_allclose(g[t].reshape(C, P).T, ref, rtol=1e-8, atol=1e-12)
    assert layer.W.shape == (C, C) and layer.y_short.shape == (P, C)
    # the per-position averages are sized on first use and survive a state_dict round trip
    fresh = ULLayer(C, mu=0.5, eps=0.01, conv=True)
    fresh.load_state_dict(layer.state_dict())
    torch.testing.assert_close(fresh.y_short, layer.y_short)


def test_eval_mode_is_plain_identity() -> None:
    layer = ULLayer(2, mu=0.5).eval()
    y = torch.randn(5, 2, requires_grad=True)
    layer(y).sum().backward()
    torch.testing.assert_close(y.grad, torch.ones(5, 2))
    assert int(layer.steps) == 0


def test_start_sequence_reseeds_short_average_only() -> None:
    layer = ULLayer(1, mu=0.5, eps=0.1, delta=0.0)
    layer(torch.tensor([[0.0], [0.0]]))
    B, yl = layer.B.clone(), layer.y_long.clone()
    layer.start_sequence()
    g = added_gradient(layer, torch.tensor([[10.0]], dtype=torch.float64))
    assert float(layer.y_short) == pytest.approx(10.0)  # no jump read as motion
    assert float(layer.y_long) == pytest.approx(0.9 * float(yl) + 1.0)
    assert float(layer.B) == pytest.approx(0.9 * float(B) + 0.1 * 9.0**2)
    assert g[0, 0].item() == pytest.approx(-9.0 / (0.9 * float(B) + 8.1))


def test_bad_parameters_and_shapes() -> None:
    with pytest.raises(ValueError, match="mu and eps must lie in"):
        ULLayer(2, mu=1.5)
    with pytest.raises(ValueError, match="must not exceed mu"):
        ULLayer(2, mu=0.01, eps=0.1)
    with pytest.raises(ValueError, match=r"expects \[N, 2\]"):
        ULLayer(2, mu=0.5)(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"expects \[N, 3, H, W\]"):
        ULLayer(3, mu=0.5, conv=True)(torch.zeros(3, 3))


def test_cost_layer_sends_only_dJ_dy_to_weights() -> None:
    torch.manual_seed(0)
    net = ULNet((4,), 2, mu=0.5, eps=0.01)
    x = torch.randn(6, 4)
    y = net.fc(x).detach()
    _, g = naive_ul(y.double().numpy(), 0.5, 0.01, delta=net.ul.delta)
    ULCost()(net(x), net).backward()
    torch.testing.assert_close(
        net.fc.weight.grad, torch.from_numpy(g.T @ x.double().numpy()).float()
    )


# -- closed form ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    return rotating_points(n_frames=288, noise=0.1, seed=0)


@pytest.mark.parametrize("solver", ["dense", "eigsh", "lobpcg"])
def test_closed_form_is_the_normalized_cut_subspace(points, solver: str) -> None:
    X, _ = points
    Y, info = closed_form_embedding(X, 2, knn=5, solver=solver, return_details=True)
    A = chain_affinity(len(X), X.astype(np.float64), knn=5)
    N = normalized_cut_embedding(A, 2)
    angles = scipy.linalg.subspace_angles(Y, N)
    assert np.rad2deg(angles).max() < 1e-2
    # the constraint of the optimum: 2 Y^T L Y = I, cov(y) = (2 Λ)^{-1} (R = I)
    L, D, p = info["L"], info["D"], info["p"]
    np.testing.assert_allclose(2 * Y.T @ (L @ Y), np.eye(2), atol=1e-6)
    cov = Y.T @ (D @ Y) - np.outer(Y.T @ p, Y.T @ p)
    np.testing.assert_allclose(cov * (2 * info["eigenvalues"]), np.eye(2), atol=1e-6)
    # J at the optimum = d + log det(2 Λ) (appendix A.1)
    J = ul_objective(Y, L, D, p)
    assert J == pytest.approx(2 + np.log(np.prod(2 * info["eigenvalues"])), rel=1e-6)


def test_closed_form_is_a_stationary_minimum(points) -> None:
    X, _ = points
    Y, info = closed_form_embedding(X[:120], 3, return_details=True)
    L, D, p = info["L"], info["D"], info["p"]
    Lt = torch.from_numpy(L.toarray())
    Dp = torch.from_numpy(D.toarray() - np.outer(p, p))

    def J(Yt: torch.Tensor) -> torch.Tensor:
        return 2 * torch.trace(Yt.T @ Lt @ Yt) - torch.logdet(Yt.T @ Dp @ Yt)

    y = torch.from_numpy(Y).requires_grad_(True)
    J(y).backward()
    assert y.grad.abs().max().item() < 1e-6  # Eq. 13 holds
    # any rotation R gives the same J; random perturbations do not lower it
    R = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    Yr = closed_form_embedding(X[:120], 3, rotation=R)
    assert ul_objective(Yr, L, D, p) == pytest.approx(ul_objective(Y, L, D, p), rel=1e-9)
    rng = np.random.default_rng(1)
    base = ul_objective(Y, L, D, p)
    for _ in range(5):
        assert ul_objective(Y + 1e-2 * rng.normal(size=Y.shape), L, D, p) > base


def test_closed_form_recovers_rotation_angle(points) -> None:
    X, angles = points
    Y = closed_form_embedding(X, 2, knn=5)
    h = len(X) // 2
    _, test = angle_decoding_error(Y[:h], angles[:h], Y[h:], angles[h:])
    assert test < 0.05


def test_closed_form_bad_input() -> None:
    with pytest.raises(ValueError, match="dim must be between"):
        closed_form_embedding(np.zeros((5, 2)), 4)
    with pytest.raises(ValueError, match="symmetric"):
        markov_laplacian(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="orthogonal"):
        closed_form_embedding(
            np.random.default_rng(0).normal(size=(20, 3)), 2, rotation=np.ones((2, 2))
        )


# -- the synthetic experiment and the method ------------------------------------------------------


def test_rotation_converges_and_beats_random_init() -> None:
    X, angles = rotating_points(n_frames=360, noise=0.2, seed=0)
    rows = train_rotation(X, angles, n_train=180, epochs=4)
    baseline = train_rotation(X, angles, n_train=180, epochs=0, train=False)[0]["test_error"]
    errors = [r["test_error"] for r in rows]
    print(
        f"UL rotation noise 0.2: test error per epoch {np.round(errors, 3).tolist()}, random init {baseline:.3f}"
    )
    assert errors[-1] < 0.06  # sin/cos decoded to within ~0.05 (chance is ~0.64)
    assert baseline > 3 * errors[-1]
    assert max(abs(r["test_error"] - errors[-1]) for r in rows[2:]) < 0.01  # converged


def test_ul_method_trains_on_frames(tmp_path) -> None:
    from vidsift.training.checkpoint import load_model
    from vidsift.training.data.source import ArrayFrameSource
    from vidsift.training.trainer import train

    rng = np.random.default_rng(0)
    videos = {f"v{i}": (rng.random((20, 16, 16, 3)) * 255).astype(np.uint8) for i in range(2)}
    method = ULMethod()
    cfg = method.config(
        "cpu", steps=3, batch_size=8, input_size=(16, 16), num_workers=0, log_every=1
    )
    result = train(cfg, ArrayFrameSource(videos), tmp_path, progress=False)
    assert len(result.losses) == 3 and all(np.isfinite(result.losses))
    loaded = load_model(result.checkpoint)
    x = method.preprocess(videos["v0"][:5], cfg)
    assert method.features(loaded.model, x, "fc").shape == (5, 8)
    assert method.features(loaded.model, x, "conv").shape[0] == 5
    with pytest.raises(ValueError, match="clip_len must be 1"):
        method.config("cpu", clip_len=4)
