"""K-means on FAISS with the scikit-learn estimator contract (card B: "cluster with K-means").

Objective (Lloyd):  minimise  inertia = sum_i min_c ||x_i - mu_c||^2  over ALL N points.

FAISS ``Kmeans`` is fast but its defaults trade quality for speed (perf-anchors: it subsamples
to 256 points per centroid and starts from random points, 15 % worse inertia than scikit-learn
at 100k x 256). Here:

* ``max_points_per_centroid`` is raised to N so every point is used (set an int to subsample);
* initialisation is greedy k-means++ (D^2 sampling with 2 + log K trials per centre, the
  algorithm of scikit-learn's ``kmeans_plusplus``, here in float32 with one matrix product per
  centre: 2.4x faster than scikit-learn's on 20000 x 256, which upcasts to float64) on a sample
  of max(20000, 100 K) points, fed to FAISS as initial centroids — FAISS's own plain k-means++
  gave 15-20 % worse inertia on blobs;
* small problems (N d K < ``SMALL_WORK`` per iteration, e.g. the spectral embedding of a few
  thousand frames) run FAISS and BLAS on one thread: OpenMP threads spinning on a shared 2-core
  machine made 10 starts on 2304 x 12 take 3-8 s instead of 0.05 s;
* ``n_init`` runs with seeds ``random_state + r``; the run with the lowest inertia on all
  points wins (the same choice as FAISS ``nredo``, but measured after the final assignment);
* Lloyd iterations on all points (``lloyd``: FAISS exact assignment, one float32 BLAS product
  per iteration, means by one sparse product) stop with scikit-learn's rules: no label
  changed, or the summed squared centre shift <= ``tol`` x the mean feature variance, or
  ``max_iter``. FAISS's own ``Kmeans`` (relative objective change) is used only on the GPU or
  when ``max_points_per_centroid`` subsamples;
* the GPU is used when FAISS sees one (``gpu="auto"``).

``n_clusters="auto"`` tries every K in ``k_range`` and keeps the one with the highest silhouette
score s = mean_i (b_i - a_i) / max(a_i, b_i) on a seeded sample of ``silhouette_sample`` points;
the scores are kept in ``k_evidence_`` ({K: silhouette}).

Examples:
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(300, 8, centers=3, random_state=0)
    >>> km = KMeans(3, random_state=0).fit(X)
    >>> km.labels_.shape, km.cluster_centers_.shape
    ((300,), (3, 8))
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import faiss
import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from vidsift.discovery.validate import as_vectors, check_k
from vidsift.errors import BadInputError

__all__ = ["KMeans", "faiss_gpu_available", "kmeans_plusplus"]

SMALL_WORK = 1e8  # N * d * K below which FAISS runs on one thread (see the module docstring)


@contextmanager
def _faiss_threads(n: int) -> Iterator[None]:
    """Run the block with FAISS on ``n`` OpenMP threads, then restore the previous count."""
    before = faiss.omp_get_max_threads()
    if n >= before:
        yield
        return
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def kmeans_plusplus(X: np.ndarray, k: int, seed: int, n_trials: int | None = None) -> np.ndarray:
    """Greedy k-means++ seeds (Arthur & Vassilvitskii 2007; scikit-learn's greedy variant):
    float32 [k, d] rows of ``X``.

    The first centre is a uniform draw; each next one is the best of ``n_trials`` (default
    2 + floor(ln k)) candidates drawn with probability proportional to D(x)^2, the squared
    distance to the nearest chosen centre, "best" meaning the lowest potential sum_x D(x)^2
    after adding it. Distances use ||x||^2 - 2 x.c + ||c||^2 in float32 (one [n_trials, N]
    matrix product per centre); the potentials are summed in float64.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = len(X)
    rng = np.random.default_rng(seed)
    trials = int(n_trials) if n_trials else 2 + int(np.log(k))
    xx = np.einsum("ij,ij->i", X, X)
    centers = np.empty((k, X.shape[1]), dtype=np.float32)
    first = int(rng.integers(n))
    centers[0] = X[first]
    closest = np.maximum(xx - 2.0 * (X @ X[first]) + xx[first], 0.0)
    pot = float(closest.sum(dtype=np.float64))
    for c in range(1, k):
        if pot <= 0:  # fewer distinct points than centres: repeat a point
            centers[c] = X[int(rng.integers(n))]
            continue
        cum = np.cumsum(closest, dtype=np.float64)
        cand = np.minimum(np.searchsorted(cum, rng.random(trials) * cum[-1]), n - 1)
        d = X[cand] @ X.T
        d *= -2.0
        d += xx[None, :]
        d += xx[cand][:, None]
        np.maximum(d, 0.0, out=d)
        np.minimum(d, closest[None, :], out=d)
        pots = d.sum(axis=1, dtype=np.float64)
        best = int(np.argmin(pots))
        pot, closest = float(pots[best]), d[best]
        centers[c] = X[cand[best]]
    return centers


def _init_centers(X: np.ndarray, k: int, seed: int, init: str, init_sample: int) -> np.ndarray:
    """Starting centres: greedy k-means++ on a seeded sample of max(init_sample, 100 K) rows
    (FAISS's own KMEANS_PLUS_PLUS, plain D^2 sampling, measured 15-20 % worse inertia than
    scikit-learn on blobs; this matches it), or K distinct random rows (``"random"``)."""
    n = len(X)
    rng = np.random.default_rng(seed)
    if init == "random":
        return np.ascontiguousarray(
            X[np.sort(rng.choice(n, size=k, replace=False))], dtype=np.float32
        )
    m = min(n, max(int(init_sample), 100 * k))
    sample = X if m >= n else X[np.sort(rng.choice(n, size=m, replace=False))]
    return kmeans_plusplus(sample, k, seed)


def sklearn_tol(X: np.ndarray, tol: float) -> float:
    """scikit-learn's absolute tolerance: ``tol`` x the mean variance of the features."""
    return float(tol * X.var(axis=0).mean())  # float32: a tolerance needs no more


def lloyd(
    X: np.ndarray, centers: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Lloyd iterations from ``centers`` with scikit-learn's stopping rules: stop when no label
    changes (strict convergence) or when the summed squared centre shift is <= ``tol``
    (absolute, :func:`sklearn_tol`), or after ``max_iter``. Returns (centres float32 [K, d],
    iterations, labels [N], squared distances [N] to those centres).

    Same labels as plain Lloyd, fewer distances: Hamerly's bounds (Hamerly 2010, "Making
    k-means even faster") keep, per point, an upper bound u on the distance to its centre and a
    lower bound l on the distance to any other; after the centres move by delta_c, u grows by
    delta of its centre and l shrinks by the largest delta of the others, and only points with
    u > l are measured again (exactly: :func:`_assign2`, float32 BLAS). Cluster sums are
    updated with the points that changed cluster. An empty cluster takes the point farthest
    from its centre (scikit-learn relocates empty clusters the same way).
    """
    import scipy.sparse as sp

    X = np.ascontiguousarray(X, dtype=np.float32)
    n, d = X.shape
    k = len(centers)
    centers = np.ascontiguousarray(centers, dtype=np.float32)

    def grouped(rows: np.ndarray | None, lab: np.ndarray) -> np.ndarray:
        """Per-cluster sums of X[rows] (all rows when None), float64 [K, d]."""
        m = sp.csr_matrix(
            (np.ones(len(lab), np.float32), (lab, np.arange(len(lab)))), shape=(k, len(lab))
        )
        return np.asarray(m @ (X if rows is None else X[rows]), dtype=np.float64)

    labels, d1, d2 = _assign2(X, centers)
    upper, lower = np.sqrt(d1), np.sqrt(d2)  # float32
    sums, counts = grouped(None, labels), np.bincount(labels, minlength=k)
    it = 0
    for it in range(1, int(max_iter) + 1):
        new = np.empty_like(centers)
        full = counts > 0
        new[full] = (sums[full] / counts[full, None]).astype(np.float32)
        empty = np.flatnonzero(~full)
        if len(empty):
            far = np.argsort(-upper, kind="stable")[: len(empty)]
            new[empty] = X[far]
        delta = np.sqrt(((new.astype(np.float64) - centers) ** 2).sum(axis=1))
        centers = new
        if float((delta**2).sum()) <= tol:
            break
        # bounds after the move (a small margin covers float32 rounding: only more checks)
        order = np.argsort(-delta)
        top, runner = delta[order[0]], (delta[order[1]] if k > 1 else 0.0)
        upper += delta[labels].astype(np.float32)
        lower -= np.where(labels == order[0], runner, top).astype(np.float32)
        check = np.flatnonzero(upper * (1 + 1e-5) + 1e-6 >= lower)
        if len(check):
            lab, c1, c2 = _assign2(X[check], centers)
            moved = check[lab != labels[check]]
            old = labels[moved]
            labels[check], upper[check], lower[check] = lab, np.sqrt(c1), np.sqrt(c2)
        else:
            moved = check
        if not len(moved):
            return centers, it, labels, _own_d2(X, centers, labels)  # strict convergence
        sums += grouped(moved, labels[moved]) - grouped(moved, old)
        counts += np.bincount(labels[moved], minlength=k) - np.bincount(old, minlength=k)
    labels, d2 = assign(X, centers)  # the labels of the final centres (scikit-learn does too)
    return centers, it, labels, d2


def _own_d2(
    X: np.ndarray, centers: np.ndarray, labels: np.ndarray, block: int = 65536
) -> np.ndarray:
    """||x_i - c_{labels_i}||^2 for every row (float32), by differences."""
    out = np.empty(len(X), dtype=np.float32)
    for s in range(0, len(X), block):
        diff = X[s : s + block] - centers[labels[s : s + block]]
        out[s : s + block] = np.einsum("ij,ij->i", diff, diff)
    return out


def faiss_gpu_available() -> bool:
    """True when the installed FAISS was built with GPU support and sees a GPU."""
    try:
        return int(faiss.get_num_gpus()) > 0
    except AttributeError:  # faiss-cpu builds without the symbol
        return False


def _seed(random_state: int | None) -> int:
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    return int(random_state) % (2**31 - 1)


def assign(X: np.ndarray, centers: np.ndarray, block: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre of each row: (labels int64 [N], squared distances float32 [N]), exact.

    ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2 with one float32 BLAS product per block of rows
    (numpy's BLAS, not FAISS's OpenMP search: with other jobs on the two cores, FAISS on two
    OpenMP threads took 0.47-0.53 s per 100k x 256 x 101 assignment, 0.13-0.15 s on one, and
    numpy 0.15 s on either)."""
    labels, d2, _ = _assign2(X, centers, block, second=False)
    return labels, d2


def _assign2(
    X: np.ndarray, centers: np.ndarray, block: int = 8192, second: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, squared distance to the nearest centre, to the second nearest) of every row;
    the third is empty unless ``second`` (or when there is one centre: inf)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    C = np.ascontiguousarray(centers, dtype=np.float32)
    cc = np.einsum("ij,ij->i", C, C)
    n = len(X)
    labels = np.empty(n, dtype=np.int64)
    d1 = np.empty(n, dtype=np.float32)
    d2 = np.full(n if second else 0, np.inf, dtype=np.float32)
    for s in range(0, n, block):
        xb = X[s : s + block]
        D = xb @ C.T
        D *= -2.0
        D += cc
        xx = np.einsum("ij,ij->i", xb, xb)
        lab = D.argmin(axis=1)
        labels[s : s + block] = lab
        d1[s : s + block] = np.take_along_axis(D, lab[:, None], axis=1)[:, 0] + xx
        if second and len(C) > 1:
            np.put_along_axis(D, lab[:, None], np.inf, axis=1)
            d2[s : s + block] = D.min(axis=1) + xx
    return labels, np.maximum(d1, 0.0), np.maximum(d2, 0.0)


class KMeans(ClusterMixin, BaseEstimator):
    """K-means on FAISS; see the module docstring for the algorithm and its choices.

    Parameters:
        n_clusters: K, or ``"auto"`` (silhouette over ``k_range``).
        n_init: independent k-means++ starts; the lowest inertia wins (sklearn's ``"auto"``
            also runs 1 start for k-means++).
        max_iter: Lloyd iterations at most per start.
        tol: stop a start when the summed squared centre shift is <= tol x the mean feature
            variance (scikit-learn's rule; on FAISS's GPU / subsampling path: when the
            objective improves by less than this fraction).
        init: ``"k-means++"`` (greedy, scikit-learn's ``kmeans_plusplus``) or ``"random"``
            (FAISS's default: K random points).
        init_sample: k-means++ seeds are drawn from a seeded sample of max(init_sample, 100 K)
            points (all points when fewer); Lloyd iterations always use all points.
        k_range: (K_min, K_max) tried when ``n_clusters="auto"``.
        silhouette_sample: points the silhouette is computed on (seeded sample).
        max_points_per_centroid: ``None`` uses all points; an int lets FAISS subsample.
        gpu: ``"auto"`` (when FAISS sees a GPU), True or False.
        random_state: seed (int) or ``None`` for a fresh one.

    Attributes:
        cluster_centers_ (float32 [K, d]), labels_ (int64 [N]), inertia_ (sum of squared
        distances of ALL points to their centre), n_clusters_ (K used), k_evidence_
        ({K: silhouette} or ``None``), n_iter_ (iterations of the kept start), fit_time_ (s).

    Raises:
        BadInputError: K > N, K < 2, non-finite input, bad parameters.
    """

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        n_init: int = 1,
        max_iter: int = 100,
        tol: float = 1e-4,
        init: str = "k-means++",
        k_range: tuple[int, int] = (2, 20),
        silhouette_sample: int = 2000,
        init_sample: int = 20_000,
        max_points_per_centroid: int | None = None,
        gpu: bool | str = "auto",
        random_state: int | None = 0,
        verbose: bool = False,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.k_range = k_range
        self.silhouette_sample = silhouette_sample
        self.init_sample = init_sample
        self.max_points_per_centroid = max_points_per_centroid
        self.gpu = gpu
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ helpers
    def _check_params(self) -> None:
        if int(self.n_init) < 1:
            raise BadInputError(f"n_init must be >= 1, got {self.n_init}")
        if int(self.max_iter) < 1:
            raise BadInputError(f"max_iter must be >= 1, got {self.max_iter}")
        if self.init not in ("k-means++", "random"):
            raise BadInputError(f"init must be 'k-means++' or 'random', got {self.init!r}")
        if self.tol < 0:
            raise BadInputError(f"tol must be >= 0, got {self.tol}")

    def _use_gpu(self) -> bool:
        if self.gpu == "auto":
            return faiss_gpu_available()
        return bool(self.gpu)

    def _one_start(
        self, X: np.ndarray, k: int, seed: int
    ) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        """(centres, iterations, labels, squared distances) of one start."""
        n, d = X.shape
        if self.max_points_per_centroid is None and not self._use_gpu():
            init = _init_centers(X, k, seed, self.init, int(self.init_sample))
            return lloyd(X, init, int(self.max_iter), sklearn_tol(X, float(self.tol)))
        mppc = n if self.max_points_per_centroid is None else int(self.max_points_per_centroid)
        params: dict[str, Any] = {
            "niter": int(self.max_iter),
            "nredo": 1,
            "seed": seed,
            "max_points_per_centroid": max(1, mppc),
            "min_points_per_centroid": 1,
            "verbose": bool(self.verbose),
        }
        init_centroids = None
        if self.init == "k-means++":
            init_centroids = _init_centers(X, k, seed, self.init, int(self.init_sample))
        if hasattr(faiss.ClusteringParameters(), "early_stop_threshold"):
            params["early_stop_threshold"] = float(self.tol)
        if self._use_gpu():
            params["gpu"] = True
        km = faiss.Kmeans(d, k, **params)
        km.train(X, init_centroids=init_centroids)
        centers = np.ascontiguousarray(km.centroids, dtype=np.float32)
        return (centers, len(km.obj), *assign(X, centers))

    def _fit_k(self, X: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, float, int]:
        best: tuple[np.ndarray, np.ndarray, float, int] | None = None
        small = len(X) * X.shape[1] * k < SMALL_WORK and not self._use_gpu()
        with (
            _faiss_threads(1 if small else faiss.omp_get_max_threads()),
            threadpool_limits(1 if small else None),
        ):
            for r in range(int(self.n_init)):
                centers, n_iter, labels, d2 = self._one_start(X, k, (seed + r) % (2**31 - 1))
                inertia = float(d2.astype(np.float64).sum())
                if best is None or inertia < best[2]:
                    best = (centers, labels, inertia, n_iter)
        assert best is not None
        return best

    # ------------------------------------------------------------------ API
    def fit(self, X: Any, y: Any = None) -> KMeans:
        """Cluster ``X`` [N, d]; returns ``self``."""
        self._check_params()
        t0 = time.perf_counter()
        X = as_vectors(X, "X")
        if not np.isfinite(X).all():
            raise BadInputError("X contains NaN or infinite values")
        n = len(X)
        k = check_k(self.n_clusters, n, what="points")
        seed = _seed(self.random_state)
        self.n_features_in_ = X.shape[1]
        self.k_evidence_: dict[int, float] | None = None
        if k == "auto":
            k_min, k_max = int(self.k_range[0]), min(int(self.k_range[1]), n - 1)
            if k_min < 2 or k_min > k_max:
                raise BadInputError(
                    f"k_range {self.k_range} does not fit {n} points; use 2 <= K_min <= K_max < N"
                )
            rng = np.random.default_rng(seed)
            sample = rng.choice(n, size=min(n, int(self.silhouette_sample)), replace=False)
            evidence: dict[int, float] = {}
            fits = {}
            for kk in range(k_min, k_max + 1):
                fit = self._fit_k(X, kk, seed)
                lab = fit[1][sample]
                n_lab = len(np.unique(lab))
                evidence[kk] = (
                    float(silhouette_score(X[sample], lab)) if 2 <= n_lab < len(sample) else -1.0
                )
                fits[kk] = fit
            k = max(evidence, key=lambda kk: (evidence[kk], -kk))
            self.k_evidence_ = evidence
            centers, labels, inertia, n_iter = fits[k]
        else:
            centers, labels, inertia, n_iter = self._fit_k(X, int(k), seed)
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_clusters_ = int(k)
        self.n_iter_ = n_iter
        self.fit_time_ = time.perf_counter() - t0
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest learned centre for each row of ``X``."""
        if not hasattr(self, "cluster_centers_"):
            raise BadInputError("this KMeans is not fitted yet; call fit first")
        X = as_vectors(X, "X")
        if X.shape[1] != self.cluster_centers_.shape[1]:
            raise BadInputError(
                f"X has dim {X.shape[1]} but the model was fitted on dim {self.cluster_centers_.shape[1]}"
            )
        return assign(X, self.cluster_centers_)[0]

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each row of ``X`` to every centre, [N, K]."""
        if not hasattr(self, "cluster_centers_"):
            raise BadInputError("this KMeans is not fitted yet; call fit first")
        X = as_vectors(X, "X").astype(np.float64)
        c = self.cluster_centers_.astype(np.float64)
        d2 = (X**2).sum(1)[:, None] - 2 * X @ c.T + (c**2).sum(1)[None, :]
        return np.sqrt(np.maximum(d2, 0.0))
