"""Discovery: cluster an embedding store, score the clusters and the metric, map and export.

Estimators (scikit-learn contract): :class:`KMeans` (FAISS), :class:`SpectralClustering`
(Ng-Jordan-Weiss on a FAISS k-NN graph). Scores (exact formulas, :mod:`discovery.scores`):
conditional entropy, purity, NMI, retrieval rate@K, temporal precision-recall, RANDOM
baselines. Evaluations for the CLI/UI: :mod:`discovery.evaluate`. Figures, 2-D maps and export
live in :mod:`discovery.plots`, :mod:`discovery.projection` and :mod:`discovery.export` (import
them from there: they pull in matplotlib, umap and PIL).
"""

from vidsift.discovery.evaluate import (
    centre_distances,
    cluster,
    evaluate_discovery,
    evaluate_retrieval,
    evaluate_temporal_pr,
)
from vidsift.discovery.kmeans import KMeans
from vidsift.discovery.scores import (
    PRResult,
    conditional_entropy,
    contingency,
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
from vidsift.discovery.validate import check_k

__all__ = [
    "KMeans",
    "PRResult",
    "SpectralClustering",
    "centre_distances",
    "check_k",
    "cluster",
    "conditional_entropy",
    "contingency",
    "evaluate_discovery",
    "evaluate_retrieval",
    "evaluate_temporal_pr",
    "mean_std",
    "nmi",
    "purity",
    "random_baseline",
    "random_retrieval_rate",
    "retrieval_rate_at_k",
    "temporal_pr",
    "temporal_pr_random",
]
