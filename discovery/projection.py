"""2-D maps of embeddings for the Discover page (card B's t-SNE plot; UMAP by default).

* :func:`umap_2d`: umap-learn with the cosine metric (the metric the scores use).
* :func:`tsne_2d`: scikit-learn t-SNE, cosine metric, PCA initialisation.

Large inputs are first sampled (``max_points``, seeded, sorted indices) — UMAP on 100k x 256
already takes about a minute and t-SNE is slower. Results can be cached in a file
(``cache_path``), written atomically; the cache holds the sample indices, the coordinates and
a key (method, parameters and a BLAKE2 hash of the input vectors), and is recomputed when the
key differs. The cache file is a NumPy archive (``numpy.savez`` format) whatever its suffix;
``.npz`` is the natural name.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.atomic import atomic_path
from vidsift.discovery.validate import as_vectors
from vidsift.errors import BadInputError

__all__ = ["cosine_knn", "project_2d", "sample_indices", "tsne_2d", "umap_2d"]


def sample_indices(n: int, max_points: int | None, seed: int = 0) -> np.ndarray:
    """All row indices when n <= max_points, else a seeded sorted sample of max_points."""
    if max_points is None or n <= max_points:
        return np.arange(n, dtype=np.int64)
    if max_points < 2:
        raise BadInputError(f"max_points must be >= 2, got {max_points}")
    return np.sort(
        np.random.default_rng(seed).choice(n, size=int(max_points), replace=False)
    ).astype(np.int64)


def _key(method: str, vectors: np.ndarray, params: dict[str, Any]) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(str(vectors.shape).encode())
    h.update(np.ascontiguousarray(vectors).view(np.uint8).data)
    return json.dumps({"method": method, "data": h.hexdigest(), **params}, sort_keys=True)


def _load_cache(path: Path, key: str) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            return z["coords"].astype(np.float32), z["index"].astype(np.int64)
    except (OSError, ValueError, KeyError):
        return None  # missing, foreign or corrupt: recompute


def _save_cache(path: Path, key: str, coords: np.ndarray, idx: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, key=np.array(key), coords=coords, index=idx)


def _cached(
    method: str,
    vectors: np.ndarray,
    params: dict[str, Any],
    cache_path: str | Path | None,
    compute: Any,
) -> tuple[np.ndarray, np.ndarray]:
    X = as_vectors(vectors)
    if len(X) < 3:
        raise BadInputError(f"a 2-D map needs at least 3 vectors, got {len(X)}")
    if not np.isfinite(X).all():
        raise BadInputError("vectors contain NaN or infinite values")
    key = _key(method, X, params) if cache_path is not None else ""
    if cache_path is not None:
        hit = _load_cache(Path(cache_path), key)
        if hit is not None:
            return hit
    idx = sample_indices(len(X), params["max_points"], params["seed"])
    coords = np.ascontiguousarray(compute(X[idx]), dtype=np.float32)
    if cache_path is not None:
        _save_cache(Path(cache_path), key, coords, idx)
    return coords, idx


def cosine_knn(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, None]:
    """UMAP's ``precomputed_knn`` for the cosine metric: each row's ``k`` nearest rows, itself
    first, and their distances 1 - cos, from exact FAISS search (``spectral.knn_graph``). Its
    own search (single-threaded NN-descent when seeded) took 26 s of a 31 s map of 12k x 512
    frames; this graph takes under 1 s and is exact."""
    from vidsift.discovery.spectral import knn_graph

    norms = np.linalg.norm(X, axis=1, keepdims=True)
    unit = np.ascontiguousarray(X / np.maximum(norms, 1e-12), dtype=np.float32)
    n = len(unit)
    d2, idx, _ = knn_graph(unit, k - 1, method="exact") if k > 1 else (np.zeros((n, 0)), np.zeros((n, 0), np.int64), "")
    own = np.arange(n, dtype=np.int64)[:, None]
    # |a - b|^2 = 2 - 2 cos for unit vectors
    dist = np.hstack([np.zeros((n, 1)), np.clip(d2 / 2.0, 0.0, 2.0)]).astype(np.float32)
    return np.hstack([own, idx.astype(np.int64)]), dist, None


def umap_2d(
    vectors: np.ndarray,
    max_points: int | None = 20000,
    seed: int = 0,
    cache_path: str | Path | None = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """UMAP (McInnes et al. 2018) to 2-D with the cosine metric.

    Returns ``(coords float32 [m, 2], sample_idx int64 [m])``: row j of ``coords`` is the map
    position of ``vectors[sample_idx[j]]``. Seeded (so single-threaded in umap-learn);
    ``low_memory=True``; the neighbour graph is FAISS's (``cosine_knn``). The first call in a
    process pays numba's JIT (~7 s).
    """
    params = {
        "max_points": max_points,
        "seed": int(seed),
        "n_neighbors": int(n_neighbors),
        "min_dist": float(min_dist),
        "knn": "faiss-exact",
    }

    def compute(X: np.ndarray) -> np.ndarray:
        import umap  # heavy import (numba): only when a map is asked for

        k = min(int(n_neighbors), len(X) - 1)
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=k,
            min_dist=float(min_dist),
            metric="cosine",
            random_state=int(seed),
            low_memory=True,
            init="spectral" if len(X) > 10 else "random",
            precomputed_knn=cosine_knn(X, k),
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*overridden to 1 by setting random_state.*")
            warnings.filterwarnings("ignore", message=".*is not an NNDescent object.*")  # no transform() here
            return reducer.fit_transform(X)

    return _cached("umap", vectors, params, cache_path, compute)


def tsne_2d(
    vectors: np.ndarray,
    max_points: int | None = 5000,
    seed: int = 0,
    cache_path: str | Path | None = None,
    perplexity: float = 30.0,
) -> tuple[np.ndarray, np.ndarray]:
    """t-SNE (van der Maaten & Hinton 2008) to 2-D, cosine metric, PCA init (scikit-learn).

    Same return value and caching as :func:`umap_2d`; perplexity is capped at (m - 1) / 3.
    """
    params = {"max_points": max_points, "seed": int(seed), "perplexity": float(perplexity)}

    def compute(X: np.ndarray) -> np.ndarray:
        from sklearn.manifold import TSNE

        perp = float(min(perplexity, max(1.0, (len(X) - 1) / 3)))
        return TSNE(
            2, perplexity=perp, metric="cosine", init="pca", random_state=int(seed)
        ).fit_transform(X)

    return _cached("tsne", vectors, params, cache_path, compute)


def project_2d(
    vectors: np.ndarray, method: str = "umap", **kwargs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch to :func:`umap_2d` (``"umap"``) or :func:`tsne_2d` (``"tsne"``)."""
    if method == "umap":
        return umap_2d(vectors, **kwargs)
    if method == "tsne":
        return tsne_2d(vectors, **kwargs)
    raise BadInputError(f"projection method must be 'umap' or 'tsne', got {method!r}")
