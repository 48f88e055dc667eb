"""The evaluations the CLI and the Streamlit page run (design decision 8), on plain arrays.

Every result is a dict of plain numbers (JSON-ready) with the RANDOM baseline beside the
method, mean ± std over repeats:

* :func:`evaluate_discovery`: card B — cluster with K-means or spectral clustering ``repeats``
  times (seeds ``seed + r``), conditional entropy H(X|Y) (bits), purity and NMI of each run;
  RANDOM = uniform random assignment to the same K. For spectral clustering the affinity graph
  and eigenvectors are computed once (they do not depend on the seed except through the
  eigen solver's start vector) and only the final K-means step is repeated with each seed.
* :func:`evaluate_temporal_pr`: card A — temporal precision-recall (nearest 40) and its AUC,
  with a random ranking as baseline.
* :func:`evaluate_retrieval`: card C — retrieval rate@K with the random-ranking baseline.

Missing labels never crash a label-based score: the value is ``None`` and ``message`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vidsift.discovery.kmeans import KMeans
from vidsift.discovery.scores import (
    conditional_entropy,
    mean_std,
    nmi,
    purity,
    random_baseline,
    random_retrieval_rate,
    retrieval_rate_at_k,
    temporal_pr,
    temporal_pr_random,
)
from vidsift.discovery.spectral import SpectralClustering
from vidsift.discovery.validate import check_k, usable_labels
from vidsift.errors import BadInputError
from vidsift.index.build import check_vectors

__all__ = [
    "ALGORITHMS",
    "centre_distances",
    "cluster",
    "evaluate_discovery",
    "evaluate_retrieval",
    "evaluate_temporal_pr",
]

ALGORITHMS = {"kmeans": KMeans, "spectral": SpectralClustering}


def cluster(
    vectors: np.ndarray, k: int | str, algorithm: str = "kmeans", seed: int = 0, **params: Any
) -> KMeans | SpectralClustering:
    """Fit the named algorithm (``"kmeans"`` or ``"spectral"``) and return the fitted estimator."""
    if algorithm not in ALGORITHMS:
        raise BadInputError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    X = check_vectors(vectors, min_rows=2)
    k = check_k(k, len(X))
    return ALGORITHMS[algorithm](k, random_state=seed, **params).fit(X)


def centre_distances(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Euclidean distance of each vector to the mean of its cluster, float64 [N] (for export:
    the same definition for K-means and spectral clusters, in the embedding space)."""
    X = np.asarray(vectors, dtype=np.float64)
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    codes = codes.ravel()
    counts = np.bincount(codes).astype(np.float64)
    sums = np.zeros((len(counts), X.shape[1]))
    np.add.at(sums, codes, X)
    return np.linalg.norm(X - (sums / counts[:, None])[codes], axis=1)


def _ms(values: Sequence[float]) -> dict[str, float]:
    m, s = mean_std(values)
    return {"mean": m, "std": s}


MAX_REPEATS = 1000


def check_repeats(repeats: int) -> int:
    """``repeats`` as an int in [1, MAX_REPEATS]; each repeat is a full clustering or ranking, so
    an unbounded count (a typo such as 10**12) would run for ever instead of failing."""
    if isinstance(repeats, bool) or not isinstance(repeats, int | np.integer):
        raise BadInputError(f"repeats must be a whole number, got {repeats!r}")
    if not 1 <= repeats <= MAX_REPEATS:
        raise BadInputError(f"repeats must be between 1 and {MAX_REPEATS}, got {repeats}")
    return int(repeats)


def evaluate_discovery(
    vectors: np.ndarray,
    labels: Sequence[Any] | np.ndarray | None,
    k: int | str,
    algorithm: str = "kmeans",
    repeats: int = 10,
    seed: int = 0,
    fitted: Any = None,
    **params: Any,
) -> dict[str, Any]:
    """Card B's table row for one embedding: H(X|Y) mean ± std for the algorithm and RANDOM.

    ``fitted``: the estimator ``cluster(vectors, k, algorithm, seed, **params)`` already returned,
    used as the first run instead of fitting the same thing again.

    Returns ``{"algorithm", "k", "repeats", "n_frames", "n_scored",
    "conditional_entropy": {"mean", "std"}, "random": {"mean", "std"}, "purity": {...},
    "nmi": {...}, "log2_k", "k_evidence", "message"}``; the label-based entries are ``None``
    (with ``message``) when the frames carry no labels. With partial labels, clustering uses
    all frames and scores use the labelled ones.
    """
    repeats = check_repeats(repeats)
    X = check_vectors(vectors, min_rows=2)
    k = check_k(k, len(X))
    if algorithm not in ALGORITHMS:
        raise BadInputError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    lab, mask, message = usable_labels(labels, len(X))

    runs: list[np.ndarray] = []
    first = fitted if fitted is not None else ALGORITHMS[algorithm](k, random_state=seed, **params).fit(X)
    runs.append(first.labels_)
    k_used = int(first.n_clusters_)
    for r in range(1, repeats):
        if algorithm == "spectral":
            runs.append(
                KMeans(k_used, n_init=first.n_init, random_state=seed + r)
                .fit(first.embedding_)
                .labels_
            )
        else:
            runs.append(
                ALGORITHMS[algorithm](k_used, random_state=seed + r, **params).fit(X).labels_
            )

    out: dict[str, Any] = {
        "algorithm": algorithm,
        "k": k_used,
        "repeats": repeats,
        "n_frames": len(X),
        "n_scored": 0,
        "log2_k": float(np.log2(k_used)),
        "k_evidence": first.k_evidence_,
        "conditional_entropy": None,
        "random": None,
        "purity": None,
        "nmi": None,
        "message": message,
    }
    if lab is None:
        return out
    out["n_scored"] = len(lab)
    out["conditional_entropy"] = _ms([conditional_entropy(lab, run[mask]) for run in runs])
    out["purity"] = _ms([purity(lab, run[mask]) for run in runs])
    out["nmi"] = _ms([nmi(lab, run[mask]) for run in runs])
    rm, rs = random_baseline(lab, k_used, repeats=repeats, seed=seed)
    out["random"] = {"mean": rm, "std": rs}
    return out


def evaluate_temporal_pr(
    vectors: np.ndarray,
    scene_ids: Sequence[Any] | np.ndarray,
    max_k: int = 40,
    repeats: int = 10,
    seed: int = 0,
) -> dict[str, Any]:
    """Card A's temporal coherence: PR over the nearest ``max_k`` and its AUC, vs a random ranking.

    ``scene_ids`` must be unique across videos (e.g. ``video_id + ":" + shot``). Returns
    ``{"auc", "precision", "recall", "n_queries", "random": {"auc", "auc_std", "precision",
    "recall"}, "pr": PRResult, "random_pr": PRResult}`` (the two ``PRResult`` objects are for
    :func:`discovery.plots.plot_pr_curves`; drop them before JSON).
    """
    repeats = check_repeats(repeats)
    X = check_vectors(vectors, min_rows=2)
    res = temporal_pr(X, scene_ids, max_k=max_k)
    rnd = temporal_pr_random(scene_ids, max_k=max_k, repeats=repeats, seed=seed)
    d = res.to_dict()
    return {
        "auc": d["auc"],
        "precision": d["precision"],
        "recall": d["recall"],
        "n_queries": d["n_queries"],
        "max_k": len(d["precision"]),
        "random": {k: v for k, v in rnd.to_dict().items() if k != "n_queries"},
        "pr": res,
        "random_pr": rnd,
    }


def evaluate_retrieval(
    vectors: np.ndarray,
    labels: Sequence[Any] | np.ndarray | None,
    k: int = 20,
    exclude_same_group: Sequence[Any] | np.ndarray | None = None,
    repeats: int = 10,
    seed: int = 0,
) -> dict[str, Any]:
    """Card C's retrieval rate@K (cosine) with the random-ranking baseline (mean ± std).

    Returns ``{"k", "rate", "random": {"mean", "std"}, "n_scored", "message"}``; ``rate`` and
    ``random`` are ``None`` without labels. Unlabelled frames are left out of both queries and
    candidates.
    """
    repeats = check_repeats(repeats)
    X = check_vectors(vectors, min_rows=2)
    lab, mask, message = usable_labels(labels, len(X))
    out: dict[str, Any] = {
        "k": int(k),
        "rate": None,
        "random": None,
        "n_scored": 0,
        "message": message,
    }
    if lab is None:
        return out
    groups = None if exclude_same_group is None else np.asarray(exclude_same_group)[mask]
    out["n_scored"] = len(lab)
    out["rate"] = retrieval_rate_at_k(X[mask], lab, k=k, exclude_same_group=groups)
    m, s = random_retrieval_rate(lab, k=k, exclude_same_group=groups, repeats=repeats, seed=seed)
    out["random"] = {"mean": m, "std": s}
    return out
