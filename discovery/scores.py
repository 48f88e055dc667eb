"""Scores for discovered clusters and learned metrics (design decision 8), each an exact formula.

Notation: N frames, X = true label (class), Y = cluster; n_xy = contingency count.

* Conditional entropy (card B, Redondo-Cabrera et al.), in bits::

      H(X|Y) = sum_y p(y) sum_x p(x|y) log2(1 / p(x|y)) = -sum_{x,y} (n_xy/N) log2(n_xy / n_y)

  0 for clusters that are pure, log2(#classes) at most; lower is better. RANDOM baseline: every
  frame assigned to one of K clusters uniformly at random, mean ± std over repeats (close to
  H(X), i.e. log2 K for K balanced classes).
* Purity = (1/N) sum_y max_x n_xy.  NMI = scikit-learn ``normalized_mutual_info_score``
  (arithmetic mean normalisation).
* Retrieval rate@K (card C, Wang & Gupta): cosine similarity; for each query frame, the share of
  its K nearest other frames that carry the query's label; averaged over queries.
* Temporal precision-recall (card A, Goroshin et al. 2015, section 5): see :func:`temporal_pr`.

All functions are pure: arrays in, numbers out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from vidsift.errors import BadInputError

__all__ = [
    "PRResult",
    "conditional_entropy",
    "contingency",
    "entropy",
    "mean_std",
    "nmi",
    "pr_auc",
    "purity",
    "random_baseline",
    "random_retrieval_rate",
    "retrieval_rate_at_k",
    "temporal_pr",
    "temporal_pr_random",
]


# ----------------------------------------------------------------------------- contingency based


def _encode(labels: Sequence[Any] | np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise BadInputError(f"{what} must be 1-D, got shape {arr.shape}")
    if arr.dtype == object:
        arr = arr.astype(str)
    classes, codes = np.unique(arr, return_inverse=True)
    return classes, codes.ravel()


def contingency(
    labels_true: Sequence[Any] | np.ndarray, labels_pred: Sequence[Any] | np.ndarray
) -> np.ndarray:
    """Contingency table n_xy: int64 [n_classes, n_clusters].

    Rows are the sorted distinct true labels X, columns the sorted distinct predicted clusters
    Y; entry (x, y) counts the frames with label x put in cluster y (as scikit-learn's
    ``contingency_matrix``).
    """
    _, x = _encode(labels_true, "labels_true")
    _, y = _encode(labels_pred, "labels_pred")
    if len(x) != len(y):
        raise BadInputError(f"{len(x)} true labels but {len(y)} cluster labels; they must align")
    if len(x) == 0:
        raise BadInputError("no frames to score")
    table = np.zeros((x.max() + 1, y.max() + 1), dtype=np.int64)
    np.add.at(table, (x, y), 1)
    return table


def entropy(labels: Sequence[Any] | np.ndarray) -> float:
    """H(X) = -sum_x p(x) log2 p(x), in bits."""
    _, codes = _encode(labels, "labels")
    p = np.bincount(codes) / len(codes)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _ce_from_table(table: np.ndarray) -> float:
    n = table.sum()
    n_y = table.sum(axis=0, keepdims=True)
    nz = table > 0
    ratio = np.where(nz, table / np.maximum(n_y, 1), 1.0)
    return float(-(table[nz] / n * np.log2(ratio[nz])).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def conditional_entropy(
    labels_true: Sequence[Any] | np.ndarray, clusters: Sequence[Any] | np.ndarray
) -> float:
    """H(X|Y) in bits, X = true label, Y = cluster.

    H(X|Y) = sum_y p(y) sum_x p(x|y) log2(1/p(x|y)) = -sum_{x,y} (n_xy / N) log2(n_xy / n_y).
    Equals H(X) (1 - homogeneity) with scikit-learn's ``homogeneity_score``.

    Examples:
        >>> conditional_entropy([0, 0, 1, 1], [0, 0, 1, 1])
        0.0
        >>> conditional_entropy([0, 0, 1, 1], [0, 0, 0, 0])
        1.0
    """
    return _ce_from_table(contingency(labels_true, clusters))


def purity(labels_true: Sequence[Any] | np.ndarray, clusters: Sequence[Any] | np.ndarray) -> float:
    """Purity = (1/N) sum_y max_x n_xy, in [0, 1]; 1 when every cluster holds one class."""
    table = contingency(labels_true, clusters)
    return float(table.max(axis=0).sum() / table.sum())


def nmi(labels_true: Sequence[Any] | np.ndarray, clusters: Sequence[Any] | np.ndarray) -> float:
    """Normalised mutual information I(X;Y) / mean(H(X), H(Y)) (scikit-learn, arithmetic)."""
    _, x = _encode(labels_true, "labels_true")
    _, y = _encode(clusters, "clusters")
    if len(x) != len(y):
        raise BadInputError(f"{len(x)} true labels but {len(y)} cluster labels; they must align")
    return float(normalized_mutual_info_score(x, y))


def mean_std(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(mean, population standard deviation) of ``values``; std is 0 for a single value."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise BadInputError("mean_std of no values")
    return float(arr.mean()), float(arr.std())


def random_baseline(
    labels_true: Sequence[Any] | np.ndarray, n_clusters: int, repeats: int = 10, seed: int = 0
) -> tuple[float, float]:
    """RANDOM baseline of card B: H(X|Y) for Y drawn uniformly from K clusters, (mean, std).

    Each repeat assigns every frame to one of ``n_clusters`` clusters with probability 1/K
    (``numpy.random.default_rng(seed + r)``). For K balanced classes and N >> K^2 the mean is
    close to log2 K (slightly below: with finite N random clusters are not perfectly mixed).
    """
    if n_clusters < 1 or repeats < 1:
        raise BadInputError(
            f"random_baseline needs n_clusters >= 1 and repeats >= 1, got {n_clusters}, {repeats}"
        )
    _, x = _encode(labels_true, "labels_true")
    values = []
    for r in range(repeats):
        y = np.random.default_rng(seed + r).integers(0, n_clusters, size=len(x))
        values.append(conditional_entropy(x, y))
    return mean_std(values)


# ----------------------------------------------------------------------------- neighbour based


def _unit(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise BadInputError(f"vectors must be 2-D [N, d], got shape {v.shape}")
    if not np.isfinite(v).all():
        raise BadInputError("vectors contain NaN or infinite values")
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.ascontiguousarray(v / np.maximum(norms, 1e-12), dtype=np.float32)


def _cosine_topk(
    unit: np.ndarray, queries: np.ndarray, k: int, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Indices [Q, k] of the k most cosine-similar rows of ``unit`` to rows ``queries``.

    The query row itself is never returned; nor, when ``exclude`` (group ids [N]) is given, any
    row of the query's group. Exact (FAISS ``IndexFlatIP``); rows with fewer candidates than k
    are padded with -1.
    """
    n = len(unit)
    index = faiss.IndexFlatIP(unit.shape[1])
    index.add(unit)
    out = np.full((len(queries), k), -1, dtype=np.int64)
    if exclude is None:
        extra = 1
        group = None
    else:
        _, group = np.unique(np.asarray(exclude).astype(str), return_inverse=True)
        group = group.ravel()
        extra = int(np.bincount(group).max())
    kk = min(n, k + extra)
    # FAISS search in blocks keeps the [Q, kk] result small.
    block = max(1, min(len(queries), 2**22 // max(kk, 1)))
    for start in range(0, len(queries), block):
        q = queries[start : start + block]
        _, idx = index.search(unit[q], kk)
        keep = (idx != q[:, None]) & (idx >= 0)
        if group is not None:
            keep &= group[np.maximum(idx, 0)] != group[q][:, None]
        for row in range(len(q)):
            sel = idx[row][keep[row]][:k]
            out[start + row, : len(sel)] = sel
    return out


def retrieval_rate_at_k(
    vectors: np.ndarray,
    labels: Sequence[Any] | np.ndarray,
    k: int = 20,
    exclude_same_group: Sequence[Any] | np.ndarray | None = None,
) -> float:
    """Retrieval rate@K (card C): mean over queries of (#top-K neighbours with the query's label) / K.

    Every frame is a query; neighbours are the K most cosine-similar OTHER frames (the query is
    excluded; with ``exclude_same_group`` = e.g. video ids, frames of the query's own video are
    excluded too, so the score measures class retrieval rather than near-duplicate frames).
    A query with fewer than K candidates is scored on the ones it has.
    """
    unit = _unit(vectors)
    _, lab = _encode(labels, "labels")
    n = len(unit)
    if len(lab) != n:
        raise BadInputError(f"{len(lab)} labels for {n} vectors; they must align")
    if k < 1 or n < 2:
        raise BadInputError(
            f"retrieval rate needs k >= 1 and at least 2 frames, got k={k}, {n} frames"
        )
    nn = _cosine_topk(unit, np.arange(n), min(k, n - 1), exclude_same_group)
    valid = nn >= 0
    hits = (lab[np.maximum(nn, 0)] == lab[:, None]) & valid
    counts = valid.sum(axis=1)
    ok = counts > 0
    if not ok.any():
        raise BadInputError(
            "no query has any candidate neighbour (every frame is in its own excluded group)"
        )
    return float((hits.sum(axis=1)[ok] / counts[ok]).mean())


def random_retrieval_rate(
    labels: Sequence[Any] | np.ndarray,
    k: int = 20,
    exclude_same_group: Sequence[Any] | np.ndarray | None = None,
    repeats: int = 10,
    seed: int = 0,
) -> tuple[float, float]:
    """RANDOM baseline of retrieval rate@K: a random ranking, (mean, std) over repeats.

    Each repeat draws, for every query, K candidates uniformly (with replacement, which has the
    same expectation as a random ranking) among the frames the metric may return. The
    expectation is mean_q (n_label(q) - 1) / (N - 1) without group exclusion.
    """
    _, lab = _encode(labels, "labels")
    n = len(lab)
    if n < 2:
        raise BadInputError("retrieval rate needs at least 2 frames")
    if exclude_same_group is None:
        group = np.arange(n)
    else:
        _, group = np.unique(np.asarray(exclude_same_group).astype(str), return_inverse=True)
        group = group.ravel()
    values = []
    for r in range(repeats):
        rng = np.random.default_rng(seed + r)
        cand = rng.integers(0, n, size=(n, k))
        bad = group[cand] == group[:, None]
        for _ in range(100):  # rejection sampling of excluded candidates
            if not bad.any():
                break
            cand[bad] = rng.integers(0, n, size=int(bad.sum()))
            bad = group[cand] == group[:, None]
        ok = ~bad.any(axis=1)
        values.append(float((lab[cand[ok]] == lab[ok][:, None]).mean()))
    return mean_std(values)


@dataclass
class PRResult:
    """An averaged precision-recall curve over the nearest 1..K neighbours.

    ``precision[k-1]``, ``recall[k-1]``: mean over queries at cut-off k; ``auc``: area under
    the averaged curve (see :func:`temporal_pr`); ``auc_std``: std of the AUC over repeats
    (random baselines only, else 0).
    """

    precision: np.ndarray
    recall: np.ndarray
    auc: float
    n_queries: int
    auc_std: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": [float(x) for x in self.precision],
            "recall": [float(x) for x in self.recall],
            "auc": float(self.auc),
            "auc_std": float(self.auc_std),
            "n_queries": int(self.n_queries),
        }


def pr_auc(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under a PR curve given at cut-offs k = 1..K.

    The curve starts at (recall 0, precision@1) and joins (recall@k, precision@k) with straight
    lines; the area is the trapezoid rule over recall:
    AUC = sum_{k=1..K} (R_k - R_{k-1}) (P_k + P_{k-1}) / 2 with R_0 = 0, P_0 = P_1.
    Averaged recall never decreases with k, so this is well defined; AUC <= R_K <= 1.
    """
    p = np.concatenate([[precision[0]], precision]).astype(np.float64)
    r = np.concatenate([[0.0], recall]).astype(np.float64)
    return float((np.diff(r) * (p[1:] + p[:-1]) / 2).sum())


def _scene_queries(
    scene_ids: Sequence[Any] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scene code per frame [N], query row per usable scene [Q], scene size of each query [Q])."""
    arr = np.asarray(scene_ids)
    if arr.ndim != 1:
        raise BadInputError(f"scene_ids must be 1-D, got shape {arr.shape}")
    if arr.dtype == object:
        arr = arr.astype(str)
    _, code = np.unique(arr, return_inverse=True)
    code = code.ravel()
    order = np.argsort(code, kind="stable")  # rows of each scene, in row (time) order
    sizes = np.bincount(code)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    usable = sizes >= 2
    # Middle frame of a scene of m frames (in row order): the (m // 2)-th, 0-based.
    queries = order[starts[usable] + sizes[usable] // 2]
    return code, queries, sizes[usable]


def temporal_pr(
    vectors: np.ndarray, scene_ids: Sequence[Any] | np.ndarray, max_k: int = 40
) -> PRResult:
    """Temporal coherence precision-recall of Goroshin et al. (2015), section 5.

    ``scene_ids`` [N] names each frame's scene (a shot of one video; ids must differ between
    videos, e.g. ``f"{video_id}:{shot}"``); within a scene, rows are in time order. For every
    scene with at least 2 frames, the query is its middle frame (the (m // 2)-th of m, 0-based);
    all OTHER frames are ranked by cosine similarity to it. For k = 1..K (K = ``max_k``, 40 in
    the paper, capped at N - 1)::

        precision@k = |top-k ∩ scene| / k
        recall@k    = |top-k ∩ scene| / (m - 1)        (the scene's other frames)

    Both are averaged over queries; ``auc`` = :func:`pr_auc` of the averaged curve (trapezoid
    over recall from (0, precision@1)). Scenes of one frame have nothing to retrieve and are
    skipped.

    Raises:
        BadInputError: shapes disagree or no scene has 2 frames.
    """
    unit = _unit(vectors)
    code, queries, sizes = _scene_queries(scene_ids)
    if len(code) != len(unit):
        raise BadInputError(f"{len(code)} scene ids for {len(unit)} vectors; they must align")
    if len(queries) == 0:
        raise BadInputError(
            "every scene has a single frame; temporal PR needs scenes of 2 or more frames"
        )
    k = min(max_k, len(unit) - 1)
    nn = _cosine_topk(unit, queries, k)
    hits = code[nn] == code[queries][:, None]
    cum = np.cumsum(hits, axis=1)
    ks = np.arange(1, k + 1)
    precision = (cum / ks).mean(axis=0)
    recall = (cum / (sizes - 1)[:, None]).mean(axis=0)
    return PRResult(precision, recall, pr_auc(precision, recall), len(queries))


def temporal_pr_random(
    scene_ids: Sequence[Any] | np.ndarray, max_k: int = 40, repeats: int = 10, seed: int = 0
) -> PRResult:
    """Temporal PR of a random ranking (the chance level), averaged over ``repeats``.

    Each repeat ranks, for every query, K frames drawn without replacement from the other
    N - 1 frames. Expected precision@k = mean_q (m_q - 1) / (N - 1), recall@k = k / (N - 1).
    ``auc`` is the mean AUC over repeats, ``auc_std`` its std.
    """
    code, queries, sizes = _scene_queries(scene_ids)
    n = len(code)
    if len(queries) == 0:
        raise BadInputError(
            "every scene has a single frame; temporal PR needs scenes of 2 or more frames"
        )
    k = min(max_k, n - 1)
    ks = np.arange(1, k + 1)
    precisions, recalls, aucs = [], [], []
    for r in range(repeats):
        rng = np.random.default_rng(seed + r)
        nn = np.empty((len(queries), k), dtype=np.int64)
        for i, q in enumerate(queries):
            pick = rng.choice(n - 1, size=k, replace=False)
            nn[i] = pick + (pick >= q)  # skip the query itself
        cum = np.cumsum(code[nn] == code[queries][:, None], axis=1)
        p = (cum / ks).mean(axis=0)
        rc = (cum / (sizes - 1)[:, None]).mean(axis=0)
        precisions.append(p)
        recalls.append(rc)
        aucs.append(pr_auc(p, rc))
    auc, auc_std = mean_std(aucs)
    return PRResult(
        np.mean(precisions, axis=0), np.mean(recalls, axis=0), auc, len(queries), auc_std
    )
