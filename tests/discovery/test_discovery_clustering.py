"""K-means and spectral clustering against scikit-learn on seeded synthetic sets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import SpectralClustering as SkSpectral
from sklearn.datasets import make_blobs, make_circles
from sklearn.metrics import adjusted_rand_score

from vidsift.discovery.kmeans import KMeans, kmeans_plusplus
from vidsift.discovery.spectral import (
    SpectralClustering,
    knn_graph,
    pyamg_available,
    self_tuning_affinity,
)
from vidsift.errors import BadInputError


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(300, 2, centers=[(0, 0), (6, 6), (-6, 6)], cluster_std=0.8, random_state=0)


@pytest.fixture(scope="module")
def rings():
    return make_circles(400, factor=0.4, noise=0.05, random_state=0)


# ------------------------------------------------------------------ K-means


def test_kmeans_estimator_contract(blobs):
    X, _ = blobs
    km = KMeans(3, n_init=2, random_state=1)
    assert km.get_params()["n_clusters"] == 3 and not hasattr(km, "labels_")
    assert km.fit(X) is km
    assert km.labels_.shape == (300,) and km.cluster_centers_.shape == (3, 2)
    assert clone(km).get_params() == km.get_params()
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(KMeans(3, n_init=2, random_state=1).fit_predict(X), km.labels_)


def test_kmeans_recovers_blobs_and_inertia_is_on_all_points(blobs):
    X, y = blobs
    km = KMeans(3, random_state=0).fit(X)
    assert adjusted_rand_score(y, km.labels_) == 1.0
    d2 = ((X - km.cluster_centers_[km.labels_]) ** 2).sum()
    assert km.inertia_ == pytest.approx(d2, rel=1e-4)


def test_kmeans_inertia_close_to_sklearn():
    X, _ = make_blobs(3000, 16, centers=12, cluster_std=2.5, random_state=4)
    ours = KMeans(12, n_init=3, random_state=0).fit(X).inertia_
    ref = SkKMeans(12, n_init=3, random_state=0).fit(X).inertia_
    assert ours <= ref * 1.01


def test_kmeans_auto_k_by_silhouette(blobs):
    X, y = blobs
    km = KMeans("auto", k_range=(2, 6), random_state=0).fit(X)
    assert km.n_clusters_ == 3
    assert sorted(km.k_evidence_) == [2, 3, 4, 5, 6]
    assert max(km.k_evidence_, key=km.k_evidence_.get) == 3
    assert adjusted_rand_score(y, km.labels_) == 1.0


def test_kmeans_plusplus_seeds_one_point_per_far_blob():
    X, y = make_blobs(2000, 8, centers=10, cluster_std=0.5, center_box=(-100, 100), random_state=3)
    c = kmeans_plusplus(X, 10, seed=0)
    assert c.dtype == np.float32 and c.shape == (10, 8)
    rows = [int(np.flatnonzero((X.astype(np.float32) == ci).all(axis=1))[0]) for ci in c]
    assert sorted(y[rows].tolist()) == list(range(10))  # D^2 sampling never repeats a blob here
    np.testing.assert_array_equal(kmeans_plusplus(X, 10, seed=0), c)


def _plain_lloyd(X, centers, max_iter):
    """Textbook Lloyd in float64: assign to the nearest centre, move centres to the means."""
    X = X.astype(np.float64)
    c = centers.astype(np.float64)
    labels = None
    for _ in range(max_iter):
        new_labels = ((X[:, None, :] - c[None]) ** 2).sum(axis=2).argmin(axis=1)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        c = np.stack([X[labels == j].mean(axis=0) for j in range(len(c))])
    return c, labels


def test_lloyd_with_hamerly_bounds_gives_the_plain_lloyd_result():
    from vidsift.discovery.kmeans import lloyd

    X, _ = make_blobs(3000, 16, centers=12, cluster_std=3.0, random_state=2)
    X = X.astype(np.float32)
    init = X[np.random.default_rng(0).choice(len(X), 12, replace=False)]
    centers, n_iter, labels, d2 = lloyd(X, init, max_iter=300, tol=0.0)
    ref_c, ref_labels = _plain_lloyd(X, init, 300)
    assert n_iter > 3  # the bounds were exercised over several rounds
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(centers, ref_c, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(d2, ((X - centers[labels]) ** 2).sum(axis=1), rtol=1e-4, atol=1e-3)


def test_kmeans_tolerance_is_scikit_learns():
    from sklearn.cluster._kmeans import _tolerance

    from vidsift.discovery.kmeans import sklearn_tol

    X, _ = make_blobs(2000, 8, centers=4, random_state=0)
    X = X.astype(np.float32)
    assert sklearn_tol(X, 1e-4) == pytest.approx(_tolerance(X, 1e-4), rel=1e-4)


def test_kmeans_small_problem_leaves_faiss_threads_as_they_were(blobs):
    import faiss

    X, _ = blobs
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        KMeans(3, n_init=2, random_state=0, gpu=False).fit(X)  # runs on one thread inside
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)


def test_kmeans_refuses_k_larger_than_n():
    with pytest.raises(BadInputError, match="K=50 is larger than the 12 points"):
        KMeans(50).fit(np.zeros((12, 3)))


def test_kmeans_random_init_and_subsampling_options(blobs):
    X, y = blobs
    km = KMeans(
        3, init="random", n_init=3, max_points_per_centroid=50, gpu=False, random_state=0
    ).fit(X)
    assert adjusted_rand_score(y, km.labels_) == 1.0
    with pytest.raises(BadInputError, match="init must be"):
        KMeans(3, init="pca").fit(X)


# ------------------------------------------------------------------ spectral


def test_spectral_recovers_blobs(blobs):
    X, y = blobs
    sc = SpectralClustering(3, random_state=0)
    assert sc.fit(X) is sc
    assert adjusted_rand_score(y, sc.labels_) == 1.0
    assert sc.embedding_.shape == (300, 3)
    np.testing.assert_allclose(np.linalg.norm(sc.embedding_, axis=1), 1, rtol=1e-5)
    assert sc.affinity_matrix_.shape == (300, 300)
    assert abs(sc.affinity_matrix_ - sc.affinity_matrix_.T).max() < 1e-12
    assert clone(sc).get_params() == sc.get_params()


def test_spectral_separates_rings_where_kmeans_cannot(rings):
    X, y = rings
    assert adjusted_rand_score(y, SpectralClustering(2, random_state=0).fit_predict(X)) == 1.0
    assert adjusted_rand_score(y, KMeans(2, random_state=0).fit_predict(X)) < 0.1


@pytest.mark.parametrize("solver", ["dense", "shift-invert", "arpack", "lobpcg", "amg"])
def test_spectral_solvers_agree(solver, rings):
    if solver == "amg" and not pyamg_available():
        pytest.skip("pyamg not installed")
    X, y = rings
    sc = SpectralClustering(2, eigen_solver=solver, random_state=0).fit(X)
    assert sc.eigen_solver_ == solver
    assert adjusted_rand_score(y, sc.labels_) == 1.0
    assert sc.eigenvalues_[0] == pytest.approx(1.0, abs=1e-4)  # top eigenvalue of D^-1/2 W D^-1/2


def test_spectral_matches_sklearn_on_small_blobs():
    X, _ = make_blobs(500, 4, centers=4, cluster_std=1.5, random_state=2)
    ours = SpectralClustering(4, random_state=0).fit_predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn: "Graph is not fully connected"
        ref = SkSpectral(
            4, affinity="nearest_neighbors", n_neighbors=10, random_state=0
        ).fit_predict(X)
    assert adjusted_rand_score(ref, ours) >= 0.95


def test_spectral_fixed_bandwidth(rings):
    X, y = rings
    sc = SpectralClustering(2, affinity_bandwidth=0.1, random_state=0).fit(X)
    assert adjusted_rand_score(y, sc.labels_) == 1.0
    with pytest.raises(BadInputError, match="affinity_bandwidth"):
        SpectralClustering(2, affinity_bandwidth=-1.0).fit(X)


def test_spectral_auto_k_by_eigengap():
    X, y = make_blobs(400, 3, centers=4, cluster_std=0.7, random_state=5)
    sc = SpectralClustering("auto", k_range=(2, 8), random_state=0).fit(X)
    assert sc.n_clusters_ == 4
    assert sorted(sc.k_evidence_) == list(range(2, 9))
    assert adjusted_rand_score(y, sc.labels_) == 1.0


def test_spectral_disconnected_graph_joined_or_warned():
    X, _ = make_blobs(
        200, 2, centers=[(0, 0), (50, 0), (0, 50), (50, 50)], cluster_std=0.5, random_state=0
    )
    with pytest.warns(UserWarning, match="4 connected components"):
        sc = SpectralClustering(2, random_state=0).fit(X)  # 4 components, K = 2: merged
    assert sc.n_graph_components_ == 4 and len(np.unique(sc.labels_)) == 2
    with pytest.warns(UserWarning, match="may not work as expected"):
        SpectralClustering(4, connect_components=False, eigen_solver="dense", random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # components == K is benign: no warning
        sc = SpectralClustering(4, random_state=0).fit(X)
    assert len(np.unique(sc.labels_)) == 4


def test_spectral_duplicate_points_do_not_break_the_kernel():
    # every point 10 times (frozen frames): the 7th neighbour is at distance 0
    X, y = make_blobs(60, 2, centers=[(0, 0), (8, 8)], cluster_std=0.5, random_state=1)
    sc = SpectralClustering(2, random_state=0).fit(np.repeat(X, 10, axis=0))
    assert np.isfinite(sc.affinity_matrix_.data).all()
    assert adjusted_rand_score(np.repeat(y, 10), sc.labels_) == 1.0


def test_self_tuning_kernel_formula():
    # 1-D points 0, 1, 3: neighbours of each by distance; 2 neighbours searched, so sigma_i is
    # the distance to the 2nd (last) neighbour: sigma = 3, 2, 3
    X = np.array([[0.0], [1.0], [3.0]], dtype=np.float32)
    d2, idx, method = knn_graph(X, 2, "exact")
    assert method == "exact"
    assert idx.tolist() == [[1, 2], [0, 2], [1, 0]]
    a = self_tuning_affinity(d2, idx)
    sigma = np.array([3.0, 2.0, 3.0])
    expected = np.exp(-d2 / (sigma[:, None] * sigma[idx]))
    np.testing.assert_allclose(a, expected)
    np.testing.assert_allclose(a[0, 0], np.exp(-1 / 6))


def test_ivf_graph_close_to_exact_on_clustered_data():
    X, _ = make_blobs(6000, 16, centers=30, cluster_std=1.0, random_state=0)
    X = X.astype(np.float32)
    _, exact, _ = knn_graph(X, 10, "exact")
    _, approx, method = knn_graph(X, 10, "ivf", nprobe=8)
    assert method == "ivf"
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall > 0.9


def test_spectral_refuses_bad_input():
    with pytest.raises(BadInputError, match="larger than"):
        SpectralClustering(20).fit(np.random.default_rng(0).standard_normal((10, 2)))
    with pytest.raises(BadInputError, match="NaN"):
        SpectralClustering(2).fit(np.array([[0.0, 1.0], [np.nan, 0.0], [1.0, 1.0], [2.0, 2.0]]))
    with pytest.raises(BadInputError, match="eigen_solver"):
        SpectralClustering(2, eigen_solver="magic").fit(
            np.random.default_rng(0).standard_normal((20, 2))
        )


def test_spectral_refuses_more_clusters_than_distinct_points():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]]), 20, axis=0)
    with pytest.raises(BadInputError, match="K=4 is larger than the 3 distinct points"):
        SpectralClustering(4, gpu=False).fit(X)
    sc = SpectralClustering(2, gpu=False, random_state=0).fit(X)
    assert sc.n_distinct_ == 3 and sc.embedding_.shape == (60, 2)
    assert len(np.unique(sc.labels_[:40])) == 1 and sc.labels_[0] != sc.labels_[-1]
