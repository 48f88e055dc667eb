"""Measure how well an approximate index agrees with exact search (design decision 6).

``recall_at_k`` is the usual "k-recall@k": the mean fraction of the exact ``k`` nearest ids that
the index also returns in its top ``k``. An exact index scores 1.0 (up to ties).

Example::

    exact = build_index(x, replace(params, kind="flat"), ids)
    recall_at_k(approx, exact, queries, 40)      # e.g. 0.97
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import faiss
import numpy as np

from vidsift.embedder.store import StoreData
from vidsift.errors import BadInputError
from vidsift.index.build import build_index, check_vectors, prepare_vectors
from vidsift.index.video_index import VideoIndex


def _faiss_of(index: faiss.Index | VideoIndex) -> faiss.Index:
    return index._searcher() if isinstance(index, VideoIndex) else index


def recall_at_k(
    index: faiss.Index | VideoIndex,
    exact: faiss.Index | VideoIndex,
    queries: np.ndarray,
    k: int,
    metric: str | None = None,
) -> float:
    """Mean |top-k(index) ∩ top-k(exact)| / k over ``queries`` [Q, d].

    Both indexes must hold the same vectors under the same int64 ids. Queries are normalised
    first when ``metric`` is "cosine" (default: the ``VideoIndex``'s metric, else as given).

    Raises:
        BadInputError: a query dimension that differs from the indexes, or ``k < 1``.
    """
    if k < 1:
        raise BadInputError(f"k must be at least 1, got {k}")
    a, b = _faiss_of(index), _faiss_of(exact)
    if a.d != b.d:
        raise BadInputError(f"the two indexes have dims {a.d} and {b.d}")
    if metric is None:
        metric = next((i.params.metric for i in (index, exact) if isinstance(i, VideoIndex)), "l2")
    q = prepare_vectors(check_vectors(queries, a.d, "queries", allow_1d=True), metric)
    _, got = a.search(q, k)
    _, truth = b.search(q, k)
    hits = 0
    for g, t in zip(got, truth, strict=True):
        t = t[t >= 0]
        hits += len(np.intersect1d(g[g >= 0], t)) / max(1, min(k, len(t)))
    return hits / len(q)


def check_index(
    vindex: VideoIndex,
    data: StoreData | None = None,
    k: int = 40,
    n_queries: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Recall@k of ``vindex`` against exact search on queries sampled from the indexed vectors.

    ``data`` (the embedding store) gives the original vectors; without it they are reconstructed
    from the index (exact except for IVF-PQ, whose decoded vectors make the reference itself
    approximate). Returns ``{kind, metric, k, queries, recall, index_s, exact_s, speedup}``.

    Raises:
        BadInputError: an empty index.
    """
    if vindex.ntotal == 0:
        raise BadInputError("the index is empty; add videos before checking it")
    ids, vectors = _indexed_vectors(vindex, data)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(ids), size=min(n_queries, len(ids)), replace=False)
    queries = np.ascontiguousarray(vectors[pick])
    exact = build_index(vectors, replace(vindex.params, kind="flat"), ids, use_gpu=vindex.use_gpu)
    q = prepare_vectors(queries, vindex.params.metric)
    k = min(k, vindex.ntotal)
    t0 = time.perf_counter()
    vindex._searcher().search(q, k)
    t1 = time.perf_counter()
    exact.search(q, k)
    t2 = time.perf_counter()
    recall = recall_at_k(vindex, exact, queries, k, metric=vindex.params.metric)
    return {
        "embedder": vindex.name,
        "kind": vindex.params.kind,
        "metric": vindex.params.metric,
        "vectors": vindex.ntotal,
        "k": k,
        "queries": len(queries),
        "recall": round(float(recall), 4),
        "index_s": round(t1 - t0, 4),
        "exact_s": round(t2 - t1, 4),
        "speedup": round((t2 - t1) / max(t1 - t0, 1e-9), 2),
        "reference": "store vectors" if data is not None else "reconstructed vectors",
    }


def _indexed_vectors(vindex: VideoIndex, data: StoreData | None) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of every indexed frame, from the store when given, else from the index."""
    if data is not None:
        keys = vindex.idmap.reset_index()[["id", "video_id", "frame"]]
        meta = data.meta[["video_id", "frame"]].astype({"video_id": str}).reset_index(names="row")
        joined = keys.merge(meta, on=["video_id", "frame"], how="inner")
        if len(joined) == vindex.ntotal:
            return joined["id"].to_numpy(np.int64), np.ascontiguousarray(
                data.vectors[joined["row"].to_numpy()]
            )
    ids = vindex.idmap.index.to_numpy(np.int64)
    return ids, np.ascontiguousarray(vindex.index.reconstruct_batch(ids), dtype=np.float32)
