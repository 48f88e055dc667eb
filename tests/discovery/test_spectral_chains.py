"""Spectral clustering on video-shaped data: many temporal chains, a k-NN graph in many pieces."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.signal import lfilter
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from vidsift.discovery.spectral import SpectralClustering, _cheap_to_factor


def video_chains(n_videos: int, frames: int, k: int, dim: int = 32, seed: int = 0):
    """Each video a tight AR(1) walk around its own offset from its class centre (the shape of
    real frame embeddings: neighbours are the video's own nearby frames)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim)) * 0.2
    xs, ys = [], []
    for v in range(n_videos):
        base = centres[v % k] + rng.standard_normal(dim) * 0.1
        walk = lfilter([1.0], [1.0, -0.97], rng.standard_normal((frames, dim)) * 0.05, axis=0)
        xs.append(base + walk)
        ys.append(np.full(frames, v % k))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


@pytest.fixture(scope="module")
def chains():
    return video_chains(n_videos=30, frames=40, k=6)


def _laplacian(W):
    import scipy.sparse as sp

    d = 1 / np.sqrt(np.asarray(W.sum(axis=1)).ravel())
    return (sp.identity(W.shape[0]) - sp.diags(d) @ W @ sp.diags(d)).tocsr()


def test_many_component_chains_match_the_dense_reference_without_fallback(chains):
    X, _ = chains
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast = SpectralClustering(6, random_state=0).fit(X)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "did not converge" in m], messages
    assert fast.eigen_solver_ == "shift-invert"
    assert fast.n_graph_components_ > 6  # more pieces than clusters: they had to be joined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the join warning, expected here
        dense = SpectralClustering(6, eigen_solver="dense", random_state=0).fit(X)
    assert adjusted_rand_score(dense.labels_, fast.labels_) == 1.0
    # the near-degenerate eigenvalues (1 - lambda ~ 1e-6 apart) are resolved, not just the labels
    np.testing.assert_allclose(1 - fast.eigenvalues_, 1 - dense.eigenvalues_, rtol=1e-6, atol=1e-12)
    gaps = np.diff(1 - dense.eigenvalues_)
    assert gaps.min() < 1e-4  # the case arpack on M cannot resolve
    # same embedding subspace (eigenvector signs / rotations within a cluster may differ)
    q1, _ = np.linalg.qr(fast.embedding_.astype(np.float64))
    q2, _ = np.linalg.qr(dense.embedding_.astype(np.float64))
    assert np.linalg.svd(q1.T @ q2, compute_uv=False).min() > 1 - 1e-4


def test_shift_invert_on_an_unjoined_graph_finds_its_components(chains):
    # connect_components=False: L has one exact zero eigenvalue per component
    X, _ = chains
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sc = SpectralClustering(
            6, eigen_solver="shift-invert", connect_components=False, random_state=0
        ).fit(X)
    assert sc.eigen_solver_ == "shift-invert"
    np.testing.assert_allclose(sc.eigenvalues_, 1.0, atol=1e-8)


def test_auto_probes_the_fill_before_choosing_shift_invert():
    # chains (nearly one-dimensional graphs) factorise with little fill; a 16-D blob does not
    Xc, _ = video_chains(n_videos=150, frames=40, k=6)
    Xb, _ = make_blobs(6000, 16, centers=1, random_state=0)
    for X, cheap in ((Xc, True), (Xb.astype(np.float32), False)):
        sc = SpectralClustering(6, random_state=0)
        sc.timings_ = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            W = sc._affinity(X, 0)
        assert _cheap_to_factor(_laplacian(W)) is cheap


def test_temporal_graph_finds_the_exact_neighbours_of_frames_in_time_order():
    from vidsift.discovery.spectral import knn_graph

    X, _ = video_chains(n_videos=150, frames=40, k=6)  # 6000 frames, rows in (video, time) order
    d2, idx, method = knn_graph(X, 10, "temporal")
    e2, eidx, _ = knn_graph(X, 10, "exact")
    assert method == "temporal" and idx.shape == (len(X), 10)
    rows = np.arange(len(X))[:, None]
    assert (idx >= 0).all() and not (idx == rows).any()
    assert all(len(set(r)) == 10 for r in idx.tolist())  # no neighbour twice
    assert (np.diff(d2, axis=1) >= 0).all()
    true = ((X[idx] - X[:, None, :]) ** 2).sum(axis=2)
    np.testing.assert_allclose(d2, true, rtol=1e-3, atol=1e-5)
    pairs = zip(idx.tolist(), eidx.tolist(), strict=True)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in pairs])
    assert recall > 0.95, recall
    # the k-th distance is never shorter than the exact one (candidates are real rows)
    assert (d2[:, -1] >= e2[:, -1] * (1 - 1e-4)).all()


def test_auto_uses_the_temporal_graph_only_when_rows_are_in_time_order():
    from vidsift.discovery.spectral import knn_graph, rows_in_time_order

    X, _ = video_chains(n_videos=150, frames=40, k=6)
    shuffled = X[np.random.default_rng(0).permutation(len(X))]
    blobs, labels = make_blobs(6000, 16, centers=6, random_state=0)
    by_label = blobs[np.argsort(labels, kind="stable")].astype(np.float32)
    assert rows_in_time_order(X)
    assert not rows_in_time_order(shuffled)
    assert not rows_in_time_order(by_label)  # rows of one blob together are not a time order
    assert knn_graph(X, 10, "auto", exact_max=1000)[2] == "temporal"
    assert knn_graph(shuffled, 10, "auto", exact_max=1000)[2] == "ivf"


def test_temporal_graph_clusters_chains_without_fallback():
    X, y = video_chains(n_videos=150, frames=40, k=6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sc = SpectralClustering(6, knn="temporal", random_state=0).fit(X)
    assert not [w for w in caught if "did not converge" in str(w.message)]
    assert sc.knn_ == "temporal" and sc.eigen_solver_ == "shift-invert"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        exact = SpectralClustering(6, knn="exact", random_state=0).fit(X)
    # many components (more than K): the labels move with small graph changes; same quality
    assert adjusted_rand_score(y, sc.labels_) >= adjusted_rand_score(y, exact.labels_) - 0.1
