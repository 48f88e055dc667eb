"""Plots, contact sheets and 2-D projections (with their cache)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vidsift.discovery import projection
from vidsift.discovery.plots import contact_sheet, plot_cluster_sizes, plot_map, plot_pr_curves
from vidsift.discovery.scores import PRResult
from vidsift.errors import BadInputError

PNG = b"\x89PNG\r\n\x1a\n"


def test_plots_write_png_atomically(tmp_path):
    pr = PRResult(np.array([1.0, 0.8, 0.6]), np.array([0.2, 0.5, 0.9]), 0.7, 3)
    rnd = PRResult(np.array([0.1, 0.1, 0.1]), np.array([0.01, 0.02, 0.03]), 0.003, 3, auc_std=0.001)
    paths = [
        plot_pr_curves({"ours": pr, "RANDOM": rnd}, tmp_path / "pr.png"),
        plot_cluster_sizes(np.array([0, 0, 1, 2, 2, 2]), tmp_path / "sizes.png"),
        plot_map(
            np.random.default_rng(0).standard_normal((50, 2)),
            np.arange(50) % 3,
            tmp_path / "map.png",
            "by cluster",
        ),
        plot_map(
            np.random.default_rng(0).standard_normal((50, 2)),
            np.array(["a", "b"] * 25, dtype=object),
            tmp_path / "labels.png",
        ),
        plot_map(
            np.random.default_rng(0).standard_normal((50, 2)),
            np.linspace(0, 1, 50),
            tmp_path / "time.png",
        ),
    ]
    for p in paths:
        assert p.read_bytes()[:8] == PNG
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "labels.png",
        "map.png",
        "pr.png",
        "sizes.png",
        "time.png",
    ]
    with pytest.raises(BadInputError, match="coords"):
        plot_map(np.zeros((5, 3)), None, tmp_path / "bad.png")


def test_contact_sheet_grid(tmp_path):
    imgs = [np.full((10, 20, 3), i * 20, np.uint8) for i in range(10)]
    path = contact_sheet(imgs, tmp_path / "sheet.png", cols=4, pad=2)
    with Image.open(path) as im:
        assert im.size == (4 * 22 + 2, 3 * 12 + 2)
        assert im.getpixel((2 + 22 + 5, 2 + 5)) == (20, 20, 20)  # second tile
    with pytest.raises(BadInputError, match="at least one image"):
        contact_sheet([], tmp_path / "empty.png")


def test_tsne_sampled_and_cached(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.standard_normal((40, 5)) + 5, rng.standard_normal((40, 5)) - 5]).astype(
        np.float32
    )
    cache = tmp_path / "map.npz"
    coords, idx = projection.tsne_2d(X, max_points=60, seed=0, cache_path=cache)
    assert coords.shape == (60, 2) and idx.shape == (60,) and np.all(np.diff(idx) > 0)
    assert cache.exists()

    def boom(*a, **k):
        raise AssertionError("cache not used")

    import sklearn.manifold

    monkeypatch.setattr(sklearn.manifold, "TSNE", boom)
    again, idx2 = projection.tsne_2d(X, max_points=60, seed=0, cache_path=cache)
    np.testing.assert_array_equal(again, coords)
    np.testing.assert_array_equal(idx2, idx)
    with pytest.raises(AssertionError, match="cache not used"):  # other vectors: recomputed
        projection.tsne_2d(X + 1, max_points=60, seed=0, cache_path=cache)


def test_sample_indices():
    assert projection.sample_indices(5, 10).tolist() == [0, 1, 2, 3, 4]
    s = projection.sample_indices(1000, 100, seed=3)
    assert len(s) == 100 and len(set(s.tolist())) == 100
    np.testing.assert_array_equal(s, projection.sample_indices(1000, 100, seed=3))
    with pytest.raises(BadInputError, match="umap' or 'tsne"):
        projection.project_2d(np.zeros((5, 2)), method="pca")


@pytest.mark.slow  # numba JIT: ~10-20 s in a fresh process
def test_umap_2d(tmp_path):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.standard_normal((60, 8)) + 4, rng.standard_normal((60, 8)) - 4]).astype(
        np.float32
    )
    coords, idx = projection.umap_2d(X, max_points=100, seed=0, cache_path=tmp_path / "u.npz")
    assert coords.shape == (100, 2) and np.isfinite(coords).all()
    again, _ = projection.umap_2d(X, max_points=100, seed=0, cache_path=tmp_path / "u.npz")
    np.testing.assert_array_equal(again, coords)


def test_umap_neighbours_come_from_an_exact_cosine_search():
    """UMAP gets FAISS's exact graph (its own NN-descent cost 26 of 31 s at 12k frames): each
    row itself first at distance 0, then its nearest rows by 1 - cos, as brute force finds them."""
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((50, 6)) * rng.uniform(0.5, 3, size=(50, 1))).astype(np.float32)
    idx, dist, index = projection.cosine_knn(X, 5)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos_d = 1.0 - unit @ unit.T
    np.fill_diagonal(cos_d, np.inf)
    want = np.argsort(cos_d, axis=1)[:, :4]
    assert index is None and idx.shape == dist.shape == (50, 5)
    np.testing.assert_array_equal(idx[:, 0], np.arange(50))
    np.testing.assert_array_equal(dist[:, 0], 0.0)
    np.testing.assert_array_equal(np.sort(idx[:, 1:], axis=1), np.sort(want, axis=1))
    np.testing.assert_allclose(dist[:, 1:], np.take_along_axis(cos_d, idx[:, 1:], axis=1), atol=1e-5)
    # the map keeps the two groups apart (a neighbour graph of the wrong rows would not)
    Y = np.concatenate([rng.standard_normal((40, 8)) + 5, rng.standard_normal((40, 8)) - 5]).astype(np.float32)
    coords, _ = projection.umap_2d(Y, seed=0)
    a, b = coords[:40].mean(axis=0), coords[40:].mean(axis=0)
    spread = max(coords[:40].std(axis=0).max(), coords[40:].std(axis=0).max())
    assert np.linalg.norm(a - b) > 3 * spread
