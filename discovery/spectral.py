"""Spectral clustering (Ng, Jordan & Weiss 2001) on a sparse FAISS k-NN graph (design decision 7).

Steps, for N points x_i and K clusters (identical points are merged first, ``deduplicate``):

1. k-NN graph: the ``n_neighbors`` nearest other points of every point, from FAISS (exact
   ``IndexFlatL2`` up to ``exact_knn_max`` = 10k points; on the GPU when FAISS sees one). Above
   that, ``knn="auto"`` checks whether the rows are frames in time order (``rows_in_time_order``:
   the stores load rows by video, then frame) and then builds the graph from that order
   (``temporal_knn_graph``: a window of +-10 rows plus the non-local neighbours that every 4th
   row finds by search, shared with the rows around it); otherwise ``IndexIVFFlat`` with
   nlist = round(sqrt(N)) clamped to [16, 16384] and ``ivf_nprobe`` probes. Exact search grows
   as N^2 (100k x 16-D: 70 s vs 13 s for IVF on one thread, same clustering), and IVF over all
   rows did not finish within 190 s at 1M 64-D frames; the temporal graph took 11 s there with
   recall@10 0.98 against exact search (bench/cluster.py, docs/perf_clustering.md).
2. Gaussian kernel on the graph edges (d_ij = Euclidean distance):
   * self-tuning (Zelnik-Manor & Perona 2004, default): A_ij = exp(-d_ij^2 / (sigma_i sigma_j)),
     sigma_i = distance of x_i to its 7th nearest neighbour;
   * fixed bandwidth ``affinity_bandwidth=sigma``: A_ij = exp(-d_ij^2 / (2 sigma^2)).
   A_ii = 0. Symmetrised as W = (A + A^T) / 2 (as scikit-learn does for its k-NN graph).
3. If the graph has several connected components, they are joined (``connect_components``)
   along a minimum spanning tree of one representative per component (the member nearest the
   component mean; MST over a k-NN graph of the representatives) with weak edges
   w_e = 0.01 median(W) (d_min / d_e)^2, so nearer components merge first and the eigen
   solvers see one well-posed problem (exactly degenerate eigenvalues defeat Lanczos). A
   warning is raised when there are more components than K (some must then be merged); fewer
   is benign (the components are clusters). With ``connect_components=False`` the graph is
   left as is, with a warning.
4. Normalised affinity M = D^{-1/2} W D^{-1/2} (D = diag of row sums); the symmetric normalised
   Laplacian is L_sym = I - M, so the K smallest eigenvalues of L_sym are 1 - the K largest of M.
   Eigen solvers (``eigen_solver``):
   * ``"dense"``: ``numpy.linalg.eigh`` (tiny graphs);
   * ``"shift-invert"``: ``scipy.sparse.linalg.eigsh(L_sym, sigma=-delta, which="LM")`` with
     (L_sym + delta I)^{-1} applied through one sparse LU (``splu``, ``LU_ORDERING``),
     delta = ``SHIFT``. This is the solver for video-shaped graphs: every video is a tight
     temporal chain, the k-NN graph falls into many components, and the weak edges that join
     them leave many eigenvalues of L_sym within ~1e-9 of 0 and of each other. Lanczos on M
     sees relative gaps of ~1e-9 there and does not converge; after the shift-invert map
     lambda -> 1 / (lambda + delta) those same eigenvalues are the dominant, well-separated end of
     the spectrum and converge in a few iterations. Chains factorise with almost no fill
     (L + U ~ 2x the graph's non-zeros); a high-dimensional blob does not (~25x at 5k points,
     ~100x and 7 s at 20k), which is why scikit-learn's shift-invert stops at 100k blobs;
   * ``"arpack"``: ``scipy.sparse.linalg.eigsh(M, which="LA")`` — Lanczos on M, no shift-invert
     (no sparse LU): fast on one well-connected graph (blobs), hopeless on near-degenerate
     spectra;
   * ``"lobpcg"``: ``scipy.sparse.linalg.lobpcg`` on L_sym, no preconditioner (slow to converge
     on large graphs; a warning is raised when it does not);
   * ``"amg"``: LOBPCG on L_sym preconditioned by a pyamg smoothed-aggregation solver of
     L_sym + 1e-5 I (as scikit-learn's ``eigen_solver="amg"``);
   * ``"auto"``: dense for N <= 500; shift-invert when the graph factorises cheaply — always up
     to ``SMALL_GRAPH`` points, above that when a trial LU of a breadth-first piece of
     ``FILL_PROBE`` points has fill (L + U non-zeros / piece non-zeros) <= ``MAX_FILL``
     (chains: ~2, blobs: ~25) — else arpack (above ``arpack_max`` points, when set, amg if
     pyamg is importable). Measured on 100k connected blobs (1 thread): arpack 4 s, amg 29 s for
     the eigenvectors, same labels; on 100k frames of generated video chains (224 components)
     shift-invert takes ~1 s where arpack does not converge (``bench/cluster.py``). arpack and
     shift-invert fall back to amg / lobpcg, with a warning, if they do not converge.
5. U = the K top eigenvectors of M as columns; rows normalised to unit length:
   Y_i = U_i / ||U_i||.
6. K-means (FAISS, k-means++, ``n_init`` starts) on the rows of Y gives the labels.

``n_clusters="auto"``: the eigengap heuristic — compute the top K_max + 1 eigenvalues
lambda_1 >= lambda_2 >= ... of M and choose K = argmax_{K in k_range} (lambda_K - lambda_{K+1});
the gaps are kept in ``k_evidence_``.

Examples:
    >>> from sklearn.datasets import make_circles
    >>> X, y = make_circles(300, factor=0.4, noise=0.04, random_state=0)
    >>> sc = SpectralClustering(2, random_state=0).fit(X)
    >>> sc.labels_.shape
    (300,)
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import faiss
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh, lobpcg, splu
from sklearn.base import BaseEstimator, ClusterMixin

from vidsift.discovery.kmeans import KMeans, _seed, faiss_gpu_available
from vidsift.discovery.validate import as_vectors, check_k
from vidsift.errors import BadInputError

__all__ = ["ComponentsJoinedWarning", "SpectralClustering", "knn_graph", "self_tuning_affinity", "pyamg_available"]


class ComponentsJoinedWarning(UserWarning):
    """The k-NN graph had more components than clusters and some were merged whole. Expected on
    video (each video is its own chain); a fixed protocol such as the held-out scores ignores it."""


SELF_TUNING_NEIGHBOUR = 7  # Zelnik-Manor & Perona: sigma_i = distance to the 7th neighbour
EIGEN_SOLVERS = ("auto", "dense", "shift-invert", "arpack", "lobpcg", "amg")
SHIFT = 1e-10  # shift-invert around -SHIFT: L_sym + SHIFT I is positive definite, and
# SHIFT is below the smallest non-zero eigenvalues of joined video graphs (~1e-9 at 100k frames)
SMALL_GRAPH = 5000  # "auto" always uses shift-invert up to here (LU < 0.2 s even on blobs)
FILL_PROBE = 5000  # points in the breadth-first piece whose trial LU predicts the fill
MAX_FILL = 8.0  # largest predicted fill for which "auto" uses shift-invert (chains ~2, blobs ~25)
# Minimum degree on A^T + A: the ordering for a symmetric matrix. COLAMD (an unsymmetric
# ordering) gave fill 15 on the breadth-first probe of 1M joined chain frames, 1.5 with this,
# and 2.0 vs 1.3 on the whole 1M graph (3 s either way).
LU_ORDERING = "MMD_AT_PLUS_A"
TEMPORAL_WINDOW = 10  # rows on each side whose distance the temporal k-NN graph always checks
TEMPORAL_STRIDE = 4  # every 4th row searches non-local neighbours for the rows around it
TEMPORAL_SAMPLE_MAX = 65536  # ... or a wider stride, so that at most this many rows search


def pyamg_available() -> bool:
    try:
        import pyamg  # noqa: F401
    except ImportError:
        return False
    return True


def knn_graph(
    X: np.ndarray,
    k: int,
    method: str = "auto",
    exact_max: int = 10_000,
    nprobe: int = 16,
    seed: int = 0,
    gpu: bool = False,
    window: int = TEMPORAL_WINDOW,
    stride: int = TEMPORAL_STRIDE,
) -> tuple[np.ndarray, np.ndarray, str]:
    """The k nearest OTHER points of every row: (squared distances [N, k], indices [N, k], method).

    ``method``: ``"exact"`` (``IndexFlatL2``), ``"ivf"`` (``IndexIVFFlat``), ``"temporal"``
    (:func:`temporal_knn_graph`: rows are frames in time order) or ``"auto"``: exact up to
    ``exact_max`` rows, above that temporal when :func:`rows_in_time_order` says so, else ivf.
    The point itself is removed by index, not by position, so duplicate points are handled.
    Missing neighbours (IVF probing too few lists) have index -1. With ``gpu`` the index is
    moved to all GPUs FAISS sees.
    """
    n, d = X.shape
    if k < 1 or k >= n:
        raise BadInputError(f"n_neighbors={k} must be between 1 and N-1={n - 1}")
    if method == "auto":
        if n <= exact_max:
            method = "exact"
        else:
            method = "temporal" if rows_in_time_order(X, seed) else "ivf"
    if method == "temporal":
        d2, idx = temporal_knn_graph(X, k, window, stride, exact_max, nprobe, seed, gpu)
        return d2, idx, method
    if method == "exact":
        index: faiss.Index = faiss.IndexFlatL2(d)
        index.add(X)
    elif method == "ivf":
        nlist = int(np.clip(round(np.sqrt(n)), 16, 16384))
        quantizer = faiss.IndexFlatL2(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist)
        rng = np.random.default_rng(seed)
        train = X[rng.choice(n, size=min(n, 64 * nlist), replace=False)]
        index.cp.seed = seed
        index.train(train)
        index.add(X)
        index.nprobe = min(nprobe, nlist)
    else:
        raise BadInputError(f"knn must be 'auto', 'exact', 'ivf' or 'temporal', got {method!r}")
    if gpu:
        index = faiss.index_cpu_to_all_gpus(index)
    kk = k + 1
    d2 = np.empty((n, kk), dtype=np.float32)
    idx = np.empty((n, kk), dtype=np.int64)
    block = 65536
    for s in range(0, n, block):
        d2[s : s + block], idx[s : s + block] = index.search(X[s : s + block], kk)
    self_mask = idx == np.arange(n)[:, None]
    no_self = ~self_mask.any(axis=1)
    self_mask[no_self, -1] = True  # the query is not among its own k+1: drop the farthest
    # exactly one True per row, so the rest reshapes to [N, k] keeping the distance order
    d2 = d2[~self_mask].reshape(n, k)
    idx = idx[~self_mask].reshape(n, k)
    return np.maximum(d2, 0.0), idx, method


def rows_in_time_order(X: np.ndarray, seed: int = 0, probes: int = 1000, pool: int = 2048) -> bool:
    """Are consecutive rows near each other, as frames of a video in decode order are?

    For ``probes`` random rows i: is ||x_i - x_{i+1}|| below the distance from x_i to the
    nearest of ``pool`` random rows (i.e. is the next row among the ~N / ``pool`` nearest)?
    True when that holds for at least half of them. Measured: generated video chains 0.95,
    pixel embeddings of generated scene videos 0.81, the same rows shuffled 0.0, blobs (also
    sorted by label) <= 0.007. Costs ``probes`` x ``pool`` distances.
    """
    n, d = X.shape
    if n < 4:
        return False
    rng = np.random.default_rng(seed)
    i = rng.choice(n - 1, size=min(probes, n - 1), replace=False)
    nxt = ((X[i + 1] - X[i]).astype(np.float32) ** 2).sum(axis=1)
    index = faiss.IndexFlatL2(d)
    index.add(np.ascontiguousarray(X[rng.choice(n, size=min(pool, n), replace=False)]))
    d2, _ = index.search(np.ascontiguousarray(X[i]), 2)
    nearest = np.where(d2[:, 0] <= 0, d2[:, 1], d2[:, 0])  # x_i itself may be in the pool
    return bool(np.mean(nxt < nearest) >= 0.5)


def temporal_knn_graph(
    X: np.ndarray,
    k: int,
    window: int = TEMPORAL_WINDOW,
    stride: int = TEMPORAL_STRIDE,
    exact_max: int = 10_000,
    nprobe: int = 16,
    seed: int = 0,
    gpu: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate k-NN of frames stored in time order (rows of one video consecutive).

    Candidates for row i, then the k nearest of them by exact distance:

    * its temporal window: rows i - w .. i + w (w = max(``window``, k)); a window that runs
      into the next video only adds far candidates, which lose;
    * non-local candidates: rows go in groups of ``stride`` consecutive rows; the middle row
      of every group searches the middle rows of the other groups (:func:`knn_graph`, exact
      or IVF) for its 2 k + 2 w / stride + 1 nearest, and every row of the group takes every
      row of the groups found, outside its window (frames next to each other in time have
      their neighbours elsewhere next to each other too). One small matrix product per
      group. The stride widens so that at most ``TEMPORAL_SAMPLE_MAX`` rows search (1M
      frames: every 16th row).

    Cost: 2 w + (2 k + 2 w / stride + 1) x stride distances per row plus a k-NN search on
    N / ``stride`` rows, instead of a search over all N rows. Measured recall@10 against exact
    search over all rows (bench/cluster.py): generated chains 0.998 at 20k, 0.98 at 1M (99 % of
    their exact neighbours lie within 10 rows); pixel embeddings of generated scene videos,
    where 19 % of the neighbours are in other videos, 0.999 at 23k. IVF over all rows did not
    finish within 190 s at 1M. Returns (squared distances [N, k] ascending, indices [N, k]);
    missing neighbours (only when N is tiny) are -1 / inf.
    """
    n, d = X.shape
    w = int(max(window, k))
    if stride < 1:
        raise BadInputError(f"stride must be >= 1, got {stride}")
    # 1. window: for offset o, the distance of rows (i, i + o) serves both rows
    offs = np.arange(1, min(w, n - 1) + 1)
    wd2 = np.full((n, 2 * len(offs)), np.inf, dtype=np.float32)
    widx = np.full((n, 2 * len(offs)), -1, dtype=np.int64)
    rows = np.arange(n)
    block = 1 << 16
    for c, o in enumerate(offs):
        dist = np.empty(n - o, dtype=np.float32)
        for s in range(0, n - o, block):
            e = min(s + block, n - o)
            diff = X[s + o : e + o] - X[s:e]
            dist[s:e] = np.einsum("ij,ij->i", diff, diff)
        wd2[: n - o, 2 * c], widx[: n - o, 2 * c] = dist, rows[o:]
        wd2[o:, 2 * c + 1], widx[o:, 2 * c + 1] = dist, rows[: n - o]
    # 2. non-local: rows go in groups of ``stride``; the middle row of every group searches the
    # middle rows of the others (exact or IVF), and every row of the group is compared with
    # every row of the groups found, beyond its own window
    st = max(int(stride), -(-n // TEMPORAL_SAMPLE_MAX))
    groups = -(-n // st)
    sample = np.minimum(np.arange(groups) * st + st // 2, n - 1)
    kc = min(2 * k + 2 * (w // st) + 1, groups - 1)
    out_d2 = np.empty((n, k), dtype=np.float32)
    out_idx = np.empty((n, k), dtype=np.int64)
    if kc >= 1:
        _, near, _ = knn_graph(
            np.ascontiguousarray(X[sample]), kc, "ivf" if groups > exact_max else "exact",
            exact_max, nprobe, seed, gpu,
        )  # fmt: skip  # near[g]: groups whose middle row is near g's (-1: not found)
    else:
        near = np.full((groups, 0), -1, dtype=np.int64)
    kc = near.shape[1]
    xx = np.einsum("ij,ij->i", X, X)
    offs_g = np.arange(st)
    gb = max(1, min(block // st, (1 << 24) // max(1, kc * st * d)))  # groups per block (~64 MB)
    for g0 in range(0, groups, gb):
        g1 = min(g0 + gb, groups)
        r0, r1 = g0 * st, min(g1 * st, n)
        cand = (near[g0:g1, :, None] * st + offs_g).reshape(g1 - g0, kc * st)  # [g, kc st]
        bad = (near[g0:g1] < 0).repeat(st, axis=1) | (cand >= n)
        cand = np.where(bad, 0, cand)
        rows_x = X[r0:r1]
        if r1 - r0 < (g1 - g0) * st:  # the last group is short: pad with its last row
            rows_x = np.concatenate([rows_x, np.repeat(rows_x[-1:], (g1 - g0) * st - (r1 - r0), 0)])
        dots = np.matmul(rows_x.reshape(g1 - g0, st, d), X[cand].transpose(0, 2, 1))
        cd2 = xx[r0:r1, None] - 2.0 * dots.reshape(-1, kc * st)[: r1 - r0]
        cidx = np.repeat(cand, st, axis=0)[: r1 - r0]
        cd2 += xx[cidx]
        drop = np.repeat(bad, st, axis=0)[: r1 - r0] | (np.abs(cidx - rows[r0:r1, None]) <= w)
        cd2[drop] = np.inf  # missing, or in the window already (the row itself too)
        np.maximum(cd2, 0.0, out=cd2)
        # 3. the k nearest candidates of the block's rows, ascending
        bd2 = np.concatenate([wd2[r0:r1], cd2], axis=1)
        bidx = np.concatenate([widx[r0:r1], cidx], axis=1)
        part = np.argpartition(bd2, k - 1, axis=1)[:, :k] if bd2.shape[1] > k else None
        if part is not None:
            bd2 = np.take_along_axis(bd2, part, axis=1)
            bidx = np.take_along_axis(bidx, part, axis=1)
        order = np.argsort(bd2, axis=1, kind="stable")
        out_d2[r0:r1] = np.take_along_axis(bd2, order, axis=1)[:, :k]
        out_idx[r0:r1] = np.take_along_axis(bidx, order, axis=1)[:, :k]
    out_idx[~np.isfinite(out_d2)] = -1
    return out_d2, out_idx


def self_tuning_affinity(
    d2: np.ndarray, idx: np.ndarray, bandwidth: str | float = "self-tuning"
) -> np.ndarray:
    """Kernel values [N, k] for the edges (i, idx[i, j]) with squared distances d2.

    Self-tuning: A_ij = exp(-d_ij^2 / (sigma_i sigma_j)), sigma_i = d(x_i, 7th neighbour) (the
    last one when fewer neighbours were searched; when that is 0 because of duplicate points,
    the distance to the nearest non-identical neighbour); a fixed float sigma gives
    A_ij = exp(-d_ij^2 / (2 sigma^2)). Missing neighbours (-1) get 0.
    """
    valid = idx >= 0
    if bandwidth == "self-tuning":
        col = min(SELF_TUNING_NEIGHBOUR, d2.shape[1]) - 1
        dist = np.sqrt(np.where(valid, d2, 0.0).astype(np.float64))
        sigma = dist[:, col].copy()
        # Duplicates (frozen frames) make sigma_i = 0; use the distance to the nearest
        # non-identical neighbour instead, else the median positive distance, else 1.
        zero = sigma <= 0
        if zero.any():
            positive = dist > 0
            pos_all = dist[positive]
            fallback = float(np.median(pos_all)) if len(pos_all) else 1.0
            first = np.where(
                positive.any(axis=1), dist[np.arange(len(dist)), positive.argmax(axis=1)], fallback
            )
            sigma[zero] = first[zero]
        denom = sigma[:, None] * sigma[np.maximum(idx, 0)]
        a = np.exp(-d2 / denom)
    else:
        s = float(bandwidth)
        if not s > 0:
            raise BadInputError(
                f"affinity_bandwidth must be 'self-tuning' or a positive number, got {bandwidth!r}"
            )
        a = np.exp(-d2.astype(np.float64) / (2.0 * s * s))
    return np.where(valid, a, 0.0)


class SpectralClustering(ClusterMixin, BaseEstimator):
    """Ng-Jordan-Weiss spectral clustering on a sparse FAISS k-NN graph (module docstring).

    Parameters:
        n_clusters: K, or ``"auto"`` (eigengap over ``k_range``).
        n_neighbors: neighbours per point in the graph.
        affinity_bandwidth: ``"self-tuning"`` or a fixed sigma (float).
        eigen_solver: ``"auto"``, ``"dense"``, ``"shift-invert"``, ``"arpack"``, ``"lobpcg"`` or
            ``"amg"`` (pyamg).
        n_init: k-means starts on the spectral embedding.
        random_state: seed for the eigen solver start vectors and k-means.
        knn: ``"auto"``, ``"exact"``, ``"ivf"`` or ``"temporal"`` (rows are frames in time
            order; see :func:`knn_graph`).
        exact_knn_max: largest N that uses the exact graph under ``knn="auto"``.
        ivf_nprobe: lists probed by the IVF graph.
        arpack_max: ``None`` (arpack at every size under ``"auto"``) or the largest N that
            uses arpack before switching to amg.
        eigen_tol: solver tolerance (0 = machine precision for arpack; shift-invert uses 1e-9
            then, relative to 1 / (lambda + SHIFT): half the time, same subspace; lobpcg/amg 1e-5).
        connect_components: join a disconnected graph (True) or only warn (False).
        deduplicate: build the graph on distinct vectors only (identical frames, e.g. a frozen
            shot, would otherwise fill each other's neighbour lists and cut the graph); copies
            share their embedding row and label.
        k_range: (K_min, K_max) for ``n_clusters="auto"``.
        gpu: k-NN graph (and k-means) on the GPU: ``"auto"`` (when FAISS sees one), True, False.

    Attributes:
        labels_ (int64 [N]), affinity_matrix_ (sparse symmetric W, CSR), embedding_ (row-
        normalised eigenvectors [N, K]; the graph is over the ``n_distinct_`` distinct rows
        when ``deduplicate``), eigenvalues_ (top eigenvalues of M, descending),
        n_clusters_, k_evidence_ ({K: eigengap} or None), n_graph_components_ (before joining),
        eigen_solver_ and knn_ (what "auto" chose), timings_ ({step: seconds}).

    Raises:
        BadInputError: K > N, too few points for the graph, non-finite input, bad parameters.
    """

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        n_neighbors: int = 10,
        affinity_bandwidth: str | float = "self-tuning",
        eigen_solver: str = "auto",
        n_init: int = 10,
        random_state: int | None = 0,
        knn: str = "auto",
        exact_knn_max: int = 10_000,
        ivf_nprobe: int = 16,
        arpack_max: int | None = None,
        eigen_tol: float = 0.0,
        connect_components: bool = True,
        deduplicate: bool = True,
        k_range: tuple[int, int] = (2, 20),
        gpu: bool | str = "auto",
    ) -> None:
        self.n_clusters = n_clusters
        self.n_neighbors = n_neighbors
        self.affinity_bandwidth = affinity_bandwidth
        self.eigen_solver = eigen_solver
        self.n_init = n_init
        self.random_state = random_state
        self.knn = knn
        self.exact_knn_max = exact_knn_max
        self.ivf_nprobe = ivf_nprobe
        self.arpack_max = arpack_max
        self.eigen_tol = eigen_tol
        self.connect_components = connect_components
        self.deduplicate = deduplicate
        self.gpu = gpu
        self.k_range = k_range

    # ------------------------------------------------------------------ graph
    def _affinity(self, X: np.ndarray, seed: int) -> sp.csr_matrix:
        n = len(X)
        k_graph = int(self.n_neighbors)
        if k_graph < 1:
            raise BadInputError(f"n_neighbors must be >= 1, got {self.n_neighbors}")
        k_search = min(
            n - 1,
            max(k_graph, SELF_TUNING_NEIGHBOUR if self.affinity_bandwidth == "self-tuning" else 1),
        )
        t = time.perf_counter()
        gpu = faiss_gpu_available() if self.gpu == "auto" else bool(self.gpu)
        d2, idx, self.knn_ = knn_graph(
            X, k_search, self.knn, int(self.exact_knn_max), int(self.ivf_nprobe), seed, gpu
        )
        self.timings_["knn"] = time.perf_counter() - t
        t = time.perf_counter()
        a = self_tuning_affinity(d2, idx, self.affinity_bandwidth)
        a, idx = a[:, :k_graph], idx[:, :k_graph]
        valid = (idx >= 0) & (a > 0)
        rows = np.repeat(np.arange(n), idx.shape[1]).reshape(idx.shape)
        A = sp.csr_matrix((a[valid], (rows[valid], idx[valid])), shape=(n, n))
        W = ((A + A.T) * 0.5).tocsr()
        W.setdiag(0)
        W.eliminate_zeros()
        n_comp, comp = connected_components(W, directed=False)
        self.n_graph_components_ = int(n_comp)
        k_want = int(self.k_range[1]) if self.n_clusters == "auto" else int(self.n_clusters)
        if n_comp > 1:
            if self.connect_components:
                W = _join_components(X, W, comp, n_comp)
            # n_comp <= K is benign (the components are clusters); more means forced merges
            if n_comp > k_want and self.connect_components:
                warnings.warn(
                    f"the {_graph_name(k_graph)} graph has {n_comp} connected components, more than the "
                    f"{k_want} clusters; joined them with weak edges, so the nearest components share clusters",
                    ComponentsJoinedWarning,
                    stacklevel=3,
                )
            elif not self.connect_components:
                warnings.warn(
                    f"the {_graph_name(k_graph)} graph has {n_comp} connected components; "
                    "spectral embedding may not work as expected",
                    stacklevel=3,
                )
        self.timings_["affinity"] = time.perf_counter() - t
        return W

    # ------------------------------------------------------------------ eigen
    def _choose_solver(self, n: int, L: sp.csr_matrix | None = None) -> str:
        """The solver ``eigen_solver`` names; for ``"auto"`` see the module docstring (``L``,
        the graph's L_sym, lets "auto" probe whether a sparse LU is cheap)."""
        solver = self.eigen_solver
        if solver not in EIGEN_SOLVERS:
            raise BadInputError(
                f"eigen_solver must be one of {', '.join(EIGEN_SOLVERS)}, got {solver!r}"
            )
        if solver == "amg" and not pyamg_available():
            raise BadInputError("eigen_solver='amg' needs pyamg: pip install 'vidsift[amg]'")
        if solver == "auto":
            if n <= 500:
                return "dense"
            if L is not None and _cheap_to_factor(L):
                return "shift-invert"
            if self.arpack_max is None or n <= int(self.arpack_max) or not pyamg_available():
                return "arpack"
            return "amg"
        return solver

    def _eigen(
        self, W: sp.csr_matrix, nev: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``nev`` eigenpairs of M = D^-1/2 W D^-1/2, eigenvalues descending."""
        n = W.shape[0]
        deg = np.asarray(W.sum(axis=1)).ravel()
        isolated = deg <= 0
        dinv = 1.0 / np.sqrt(np.where(isolated, 1.0, deg))
        Dm = sp.diags(dinv)
        M = (Dm @ W @ Dm).tocsr()
        L = (sp.identity(n, format="csr") - M).tocsr()
        solver = self._choose_solver(n, L)
        if solver != "dense" and n < 5 * nev + 1:
            solver = "dense"  # iterative solvers are unreliable when nev is close to N
        self.eigen_solver_ = solver
        tol = float(self.eigen_tol)
        if solver == "dense":
            vals, vecs = np.linalg.eigh(M.toarray())
            vals, vecs = vals[::-1][:nev], vecs[:, ::-1][:, :nev]
        elif solver in ("arpack", "shift-invert"):
            v0 = rng.uniform(-1, 1, n)
            try:
                if solver == "arpack":
                    vals, vecs = eigsh(M, k=nev, which="LA", tol=tol, v0=v0)
                else:
                    # eigenvalues of L_sym nearest -SHIFT = the smallest; 1 - them = top of M
                    lu = splu(
                        (L + SHIFT * sp.identity(n, format="csr")).tocsc(), permc_spec=LU_ORDERING
                    )
                    op = LinearOperator((n, n), matvec=lu.solve, dtype=np.float64)
                    lvals, vecs = eigsh(
                        L, k=nev, sigma=-SHIFT, which="LM", OPinv=op, tol=tol or 1e-9, v0=v0
                    )
                    vals = 1.0 - lvals
            except (ArpackNoConvergence, RuntimeError):  # RuntimeError: splu found L singular
                fallback = "amg" if pyamg_available() else "lobpcg"
                warnings.warn(
                    f"{solver} did not converge; falling back to {fallback}", stacklevel=3
                )
                solver = self.eigen_solver_ = fallback
        if solver in ("lobpcg", "amg"):
            X0 = rng.standard_normal((n, nev + 1))
            X0[:, 0] = np.sqrt(np.maximum(deg, 0))  # the exact top eigenvector of M
            precond = None
            if solver == "amg":
                from pyamg import smoothed_aggregation_solver

                ml = smoothed_aggregation_solver((L + 1e-5 * sp.identity(n, format="csr")).tocsr())
                precond = ml.aspreconditioner()
                maxiter = 30  # preconditioned: the wanted vectors converge in ~20 iterations
            else:
                maxiter = 500
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # convergence checked below
                lvals, vecs = lobpcg(
                    L, X0, M=precond, tol=tol or 1e-5, largest=False, maxiter=maxiter
                )
            resid = np.linalg.norm(L @ vecs - vecs * lvals, axis=0)
            if np.max(resid[:nev]) > 1e-3:  # the extra (nev+1)-th vector may lag: not checked
                warnings.warn(
                    f"{solver} eigen solver did not converge (residual {np.max(resid[:nev]):.2g}); "
                    "the clustering may be poor: try eigen_solver='amg' or 'arpack'",
                    stacklevel=3,
                )
            vals = 1.0 - lvals
        order = np.argsort(-vals)[:nev]
        return np.asarray(vals)[order], np.asarray(vecs)[:, order]

    # ------------------------------------------------------------------ API
    def fit(self, X: Any, y: Any = None) -> SpectralClustering:
        """Cluster ``X`` [N, d]; returns ``self``."""
        X = as_vectors(X, "X")
        if not np.isfinite(X).all():
            raise BadInputError("X contains NaN or infinite values")
        n = len(X)
        k = check_k(self.n_clusters, n, what="points")
        if int(self.n_init) < 1:
            raise BadInputError(f"n_init must be >= 1, got {self.n_init}")
        self.n_features_in_ = X.shape[1]
        self.timings_: dict[str, float] = {}
        seed = _seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        inverse = None
        if self.deduplicate:
            Xu, inverse = _unique_rows(X)
            if len(Xu) == n:
                inverse = None
            else:
                X = Xu
        nu = len(X)
        if k != "auto":
            check_k(k, nu, what="distinct points")
        if nu < 3:
            raise BadInputError(f"spectral clustering needs at least 3 distinct points, got {nu}")
        self.n_distinct_ = nu
        W = self._affinity(X, seed)
        self.affinity_matrix_ = W
        self.k_evidence_: dict[int, float] | None = None
        t = time.perf_counter()
        if k == "auto":
            k_min, k_max = int(self.k_range[0]), min(int(self.k_range[1]), nu - 2)
            if k_min < 2 or k_min > k_max:
                raise BadInputError(
                    f"k_range {self.k_range} does not fit {nu} distinct points; use 2 <= K_min <= K_max <= N-2"
                )
            vals, vecs = self._eigen(W, k_max + 1, rng)
            gaps = {kk: float(vals[kk - 1] - vals[kk]) for kk in range(k_min, k_max + 1)}
            k = max(gaps, key=lambda kk: (gaps[kk], -kk))
            self.k_evidence_ = gaps
        else:
            vals, vecs = self._eigen(W, int(k), rng)
        self.timings_["eigen"] = time.perf_counter() - t
        self.eigenvalues_ = vals
        U = vecs[:, : int(k)]
        Y = U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)
        if inverse is not None:
            Y = Y[inverse]  # duplicates share their row; k-means then counts each copy
        self.embedding_ = np.ascontiguousarray(Y, dtype=np.float32)
        t = time.perf_counter()
        km = KMeans(int(k), n_init=int(self.n_init), random_state=seed, gpu=self.gpu).fit(
            self.embedding_
        )
        self.timings_["kmeans"] = time.perf_counter() - t
        self.labels_ = km.labels_
        self.n_clusters_ = int(k)
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X).labels_``."""
        return self.fit(X).labels_


def _unique_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows in first-seen order, inverse [N] with X == distinct[inverse])."""
    rows = np.ascontiguousarray(X).view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    order = np.argsort(first)  # keep first-seen order so results do not depend on byte sorting
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return X[first[order]], rank[inverse.ravel()]


def _cheap_to_factor(L: sp.csr_matrix) -> bool:
    """Will a sparse LU of ``L`` (+ SHIFT I) stay sparse? Always yes up to ``SMALL_GRAPH`` rows;
    above, a trial LU of a breadth-first piece of ``FILL_PROBE`` rows must have fill <=
    ``MAX_FILL`` (video chains ~2: their graphs are nearly one-dimensional; blobs in 16-D ~25,
    growing with N)."""
    n = L.shape[0]
    if n <= SMALL_GRAPH:
        return True
    piece = breadth_first_order(L, 0, directed=False, return_predecessors=False)[:FILL_PROBE]
    if len(piece) < FILL_PROBE // 2:  # node 0 sits in a tiny component: probe the first rows
        piece = np.arange(n)[:FILL_PROBE]
    piece = np.sort(piece)
    sub = (L[piece][:, piece] + SHIFT * sp.identity(len(piece), format="csr")).tocsc()
    lu = splu(sub, permc_spec=LU_ORDERING)
    return (lu.L.nnz + lu.U.nnz) / max(sub.nnz, 1) <= MAX_FILL


def _graph_name(k: int) -> str:
    return f"{k}-nearest-neighbour"


def _join_components(
    X: np.ndarray, W: sp.csr_matrix, comp: np.ndarray, n_comp: int
) -> sp.csr_matrix:
    """Add weak edges joining the graph's components along an MST of representatives."""
    n, d = X.shape
    counts = np.bincount(comp, minlength=n_comp).astype(np.float64)
    ind = sp.csr_matrix((np.ones(n), (comp, np.arange(n))), shape=(n_comp, n))
    means = np.asarray(ind @ X.astype(np.float64)) / counts[:, None]
    dist = ((X - means[comp]) ** 2).sum(axis=1)
    order = np.lexsort((dist, comp))
    first = np.searchsorted(comp[order], np.arange(n_comp))
    reps = order[first]  # member nearest its component mean
    R = np.ascontiguousarray(X[reps], dtype=np.float32)
    kk = min(n_comp - 1, 15)
    index = faiss.IndexFlatL2(d)
    index.add(R)
    d2, nb = index.search(R, kk + 1)
    rows = np.repeat(np.arange(n_comp), kk + 1)
    G = sp.coo_matrix(
        (np.sqrt(np.maximum(d2.ravel(), 0)) + 1e-12, (rows, nb.ravel())), shape=(n_comp, n_comp)
    ).tocsr()
    G.setdiag(0)
    G.eliminate_zeros()
    T = minimum_spanning_tree(G + G.T).tocoo()
    ea, eb, ed = list(T.row), list(T.col), list(T.data)
    # the k-NN graph of representatives may itself be split: chain what remains
    n_super, sup = connected_components(T, directed=False)
    if n_super > 1:
        heads = [int(np.flatnonzero(sup == s)[0]) for s in range(n_super)]
        for a, b in zip(heads[:-1], heads[1:], strict=True):
            ea.append(a)
            eb.append(b)
            ed.append(float(np.linalg.norm(R[a] - R[b])) + 1e-12)
    ed_arr = np.asarray(ed, dtype=np.float64)
    med = float(np.median(W.data)) if W.nnz else 1.0
    w = 0.01 * med * (ed_arr.min() / ed_arr) ** 2
    ia, ib = reps[np.asarray(ea)], reps[np.asarray(eb)]
    B = sp.csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([ia, ib]), np.concatenate([ib, ia]))), shape=(n, n)
    )
    return (W + B).tocsr()
