"""Choose and build a FAISS index for frame embeddings (design decision 6).

Plain functions on C-contiguous float32 arrays, in the style of faiss ``contrib``:

* :func:`choose_params` picks the index from the data size: exact (flat) up to
  ``FLAT_THRESHOLD`` vectors, then IVF, and IVF-PQ when the raw vectors would not fit the memory
  budget. HNSW is available on request.
* :func:`build_index` trains and fills the index with int64 ids, so vectors can later be removed
  by id (``IndexIDMap2`` around flat and HNSW; IVF keeps its own ids plus a hash-table direct map,
  because ``IndexIDMap2`` around an IVF index goes out of sync on ``remove_ids``).

Metric ``cosine`` means: L2-normalise vectors and queries, then inner product; distances reported
to users are ``1 - cos``. Metric ``l2`` reports *squared* Euclidean distances, as FAISS does.

Example::

    params = choose_params(len(x), x.shape[1])          # flat below 200k vectors
    index = build_index(x, params, ids=np.arange(len(x)))
    dist, ids = index.search(prepare_queries(q, params.metric), 10)
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import faiss
import numpy as np
import pandas as pd

from vidsift.errors import BadInputError

log = logging.getLogger(__name__)

KINDS = ("flat", "ivf", "ivfpq", "hnsw")
METRICS = ("cosine", "l2")
FLAT_THRESHOLD = 200_000
DEFAULT_MEMORY_BUDGET = 4 << 30  # bytes of raw float32 vectors before auto switches to IVF-PQ
MIN_POINTS_PER_CENTROID = 39  # below this FAISS k-means warns and centroids are poor

UseGpu = bool | Literal["auto"]


@dataclass(frozen=True)
class IndexParams:
    """How an index is built and searched. Stored in the index's ``meta.json``.

    ``nlist``/``nprobe`` apply to ``ivf`` and ``ivfpq``; ``m``/``nbits`` (PQ sub-quantizers and
    bits per code) to ``ivfpq``; ``hnsw_m``/``ef_search``/``ef_construction`` to ``hnsw``.

    Raises:
        BadInputError: an unknown kind or metric, or a non-positive size.
    """

    kind: str = "flat"
    metric: str = "cosine"
    nlist: int = 0
    nprobe: int = 0
    m: int = 0
    nbits: int = 8
    hnsw_m: int = 32
    ef_search: int = 64
    ef_construction: int = 80

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadInputError(
                f"unknown index kind {self.kind!r}; use one of {', '.join(KINDS)} or auto"
            )
        if self.metric not in METRICS:
            raise BadInputError(f"unknown metric {self.metric!r}; use cosine or l2")
        if self.kind in ("ivf", "ivfpq"):
            if self.nlist < 1 or self.nprobe < 1:
                raise BadInputError(
                    f"{self.kind} needs nlist >= 1 and nprobe >= 1 (got {self.nlist}, {self.nprobe})"
                )
        if self.kind == "ivfpq" and (self.m < 1 or not 1 <= self.nbits <= 16):
            raise BadInputError(
                f"ivfpq needs m >= 1 and 1 <= nbits <= 16 (got m={self.m}, nbits={self.nbits})"
            )
        if self.kind == "hnsw" and (
            self.hnsw_m < 2 or self.ef_search < 1 or self.ef_construction < 1
        ):
            raise BadInputError("hnsw needs hnsw_m >= 2, ef_search >= 1 and ef_construction >= 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IndexParams:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)

    @property
    def faiss_metric(self) -> int:
        return faiss.METRIC_INNER_PRODUCT if self.metric == "cosine" else faiss.METRIC_L2


def _largest_divisor_at_most(d: int, cap: int) -> int:
    cap = max(1, min(d, cap))
    return next(m for m in range(cap, 0, -1) if d % m == 0)


def choose_params(
    n: int,
    d: int,
    kind: str = "auto",
    metric: str = "cosine",
    memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET,
    flat_threshold: int = FLAT_THRESHOLD,
    **overrides: int | None,
) -> IndexParams:
    """Pick index parameters for ``n`` vectors of dimension ``d``.

    ``auto``: flat (exact) up to ``flat_threshold`` vectors; above it IVF with
    ``nlist ~ 4 sqrt(n)`` and ``nprobe = max(8, nlist / 16)``; IVF-PQ when ``n * d * 4`` bytes
    exceed ``memory_budget_bytes`` (PQ code size chosen to fit the budget, at most 64 bytes).
    ``overrides`` (``nlist``, ``nprobe``, ``m``, ``nbits``, ``hnsw_m``, ``ef_search``,
    ``ef_construction``) replace the chosen values; ``None`` means "keep".

    Raises:
        BadInputError: unknown kind/metric/override, or sizes the data cannot support.
    """
    if n < 1 or d < 1:
        raise BadInputError(f"cannot index {n} vectors of dimension {d}; embed some videos first")
    if kind == "auto":
        if n <= flat_threshold:
            kind = "flat"
        elif n * d * 4 > memory_budget_bytes:
            kind = "ivfpq"
        else:
            kind = "ivf"
    if kind not in KINDS:
        raise BadInputError(f"unknown index kind {kind!r}; use auto, {', '.join(KINDS)}")
    unknown = set(overrides) - (set(IndexParams.__dataclass_fields__) - {"kind", "metric"})
    if unknown:
        raise BadInputError(f"unknown index option(s) {sorted(unknown)}")
    values: dict[str, Any] = {"kind": kind, "metric": metric}
    if kind in ("ivf", "ivfpq"):
        nlist = max(1, min(int(round(4 * math.sqrt(n))), n // MIN_POINTS_PER_CENTROID))
        values["nlist"] = nlist
        values["nprobe"] = min(nlist, max(8, nlist // 16))
    if kind == "ivfpq":
        nbits = 8
        while nbits > 4 and (1 << nbits) * MIN_POINTS_PER_CENTROID > n:
            nbits -= 1
        per_vector = max(1, memory_budget_bytes // n - 8)  # 8 bytes of id per vector
        values["nbits"] = nbits
        values["m"] = _largest_divisor_at_most(d, min(64, per_vector * 8 // nbits))
    values.update({k: v for k, v in overrides.items() if v is not None})
    if kind in ("ivf", "ivfpq") and overrides.get("nprobe") is None:
        values["nprobe"] = min(values["nlist"], values["nprobe"])
    return IndexParams(**values)


def check_vectors(
    x: Any,
    d: int | None = None,
    what: str = "vectors",
    owner: str = "the index",
    *,
    meta: pd.DataFrame | None = None,
    min_rows: int = 0,
    allow_1d: bool = False,
) -> np.ndarray:
    """Return ``x`` as a C-contiguous float32 [N, d] array, or raise a clear error.

    The one check of embedding vectors, shared by the index (vectors to add, queries) and by
    discovery (a store's vectors before clustering and scoring).

    Args:
        x: the vectors [N, d]; with ``allow_1d`` a [d] array is one vector (a query).
        d: the dimension they must have (``owner``'s, named in the message), or None.
        what: what they are, for messages ("queries", "the query vector", ...).
        meta: the store's metadata rows aligned with ``x``: the NaN message then names the
            videos (``path``, else ``video_id``).
        min_rows: the fewest rows the caller can work with (clustering needs 2).

    Raises:
        BadInputError: non-numeric, not 2-D, rows not matching ``meta``, an empty store or fewer
            than ``min_rows`` rows, a dimension other than ``d`` (both dims named), NaN/inf.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise BadInputError(f"{what} must be a numeric [N, dim] array ({exc})") from exc
    if not np.issubdtype(arr.dtype, np.number):
        raise BadInputError(f"{what} must be numeric, got dtype {arr.dtype}")
    if allow_1d and arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise BadInputError(f"{what} must be a 2-D array [N, dim], got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    n = len(arr)
    if meta is not None and len(meta) != n:
        raise BadInputError(f"{n} vectors but {len(meta)} metadata rows; reload the store")
    if n < min_rows:
        if n == 0:
            raise BadInputError("the store is empty; run `vidsift embed` first")
        raise BadInputError(
            f"the store has only {n} frame{'s' if n != 1 else ''}; "
            f"this needs at least {min_rows}: embed more frames or videos"
        )
    if d is not None and arr.shape[1] != d:
        raise BadInputError(
            f"{what} {'has' if n == 1 else 'have'} dim {arr.shape[1]} but {owner} has dim {d}; "
            f"embed {'it' if n == 1 else 'them'} with the index's embedder"
        )
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        videos = _videos_of(meta, bad)
        if videos:
            raise BadInputError(
                f"{int(bad.sum())} {what}{videos} contain NaN or infinite values; "
                "re-embed those videos (remove their shards and run `vidsift embed` again)"
            )
        raise BadInputError(
            f"{what} contain NaN or infinite values ({int(bad.sum())} of {n} rows); "
            "recompute them, or re-embed the videos they came from"
        )
    return arr


def _videos_of(meta: pd.DataFrame | None, rows: np.ndarray) -> str:
    """`` of 2 videos (/d/b.mp4, /d/c.mp4)``: the videos of the ``rows`` mask, or ``""``."""
    col = next((c for c in ("path", "video_id") if meta is not None and c in meta.columns), None)
    if col is None:
        return ""
    names = sorted({str(v) for v in meta[col].to_numpy()[rows]})
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return f" of {len(names)} video{'s' if len(names) != 1 else ''} ({shown})"


def prepare_vectors(x: np.ndarray, metric: str) -> np.ndarray:
    """A float32 copy of ``x`` ready for the index: L2-normalised for cosine, unchanged for l2."""
    out = np.array(x, dtype=np.float32, order="C", copy=True)
    if metric == "cosine":
        faiss.normalize_L2(out)
    return out


def to_user_distance(raw: np.ndarray, metric: str) -> np.ndarray:
    """FAISS scores -> distances users see: ``1 - cos`` for cosine, squared L2 for l2; never
    below 0 (a frame's own vector scores a cosine of 1 + 1e-7 in float32, shown as -1.2e-07)."""
    return np.maximum((1.0 - raw) if metric == "cosine" else raw, 0.0, dtype=np.float32)


@functools.cache
def gpu_available() -> bool:
    """True when FAISS was built with GPU support, sees a GPU, and torch sees CUDA too."""
    try:
        if not hasattr(faiss, "index_cpu_to_all_gpus") or faiss.get_num_gpus() < 1:
            return False
    except Exception:  # noqa: BLE001 - a broken GPU runtime means "no GPU"
        return False
    try:
        import torch
    except ImportError:
        return True
    return bool(torch.cuda.is_available())


def resolve_gpu(use_gpu: UseGpu) -> bool:
    """``"auto"`` -> GPU when present; ``True`` without a GPU is an error."""
    if use_gpu == "auto":
        return gpu_available()
    if use_gpu and not gpu_available():
        raise BadInputError(
            "no GPU visible to FAISS (is faiss-gpu installed?); use use_gpu='auto' or False"
        )
    return bool(use_gpu)


def to_gpu(index: faiss.Index) -> faiss.Index | None:
    """A GPU copy of ``index`` for search, or ``None`` where FAISS cannot move it (HNSW, some PQ)."""
    if isinstance(index, faiss.IndexIDMap2) and isinstance(
        faiss.downcast_index(index.index), faiss.IndexHNSW
    ):
        return None  # HNSW has no GPU implementation; the cloner would return a CPU copy
    try:
        return faiss.index_cpu_to_all_gpus(index)
    except RuntimeError as exc:
        log.warning(
            "searching on CPU: FAISS could not move the %s index to GPU (%s)",
            type(index).__name__,
            exc,
        )
        return None


def _empty_index(params: IndexParams, d: int) -> faiss.Index:
    metric = params.faiss_metric
    if params.kind == "flat":
        return (
            faiss.IndexFlatIP(d) if metric == faiss.METRIC_INNER_PRODUCT else faiss.IndexFlatL2(d)
        )
    if params.kind == "hnsw":
        inner = faiss.IndexHNSWFlat(d, params.hnsw_m, metric)
        inner.hnsw.efConstruction = params.ef_construction
        inner.hnsw.efSearch = params.ef_search
        return inner
    quantizer = (
        faiss.IndexFlatIP(d) if metric == faiss.METRIC_INNER_PRODUCT else faiss.IndexFlatL2(d)
    )
    if params.kind == "ivf":
        ivf = faiss.IndexIVFFlat(quantizer, d, params.nlist, metric)
    else:
        if d % params.m:
            raise BadInputError(
                f"ivfpq needs m dividing the dimension: {params.m} does not divide {d}"
            )
        ivf = faiss.IndexIVFPQ(quantizer, d, params.nlist, params.m, params.nbits, metric)
    ivf.own_fields = True
    quantizer.this.disown()  # the IVF index owns and frees its quantizer
    ivf.nprobe = params.nprobe
    return ivf


def apply_search_params(index: faiss.Index, params: IndexParams) -> None:
    """Set ``nprobe`` / ``efSearch`` on a CPU or GPU index (through any id-map wrapper)."""
    if params.kind in ("ivf", "ivfpq"):
        faiss.ParameterSpace().set_index_parameter(index, "nprobe", params.nprobe)
    elif params.kind == "hnsw":
        faiss.ParameterSpace().set_index_parameter(index, "efSearch", params.ef_search)


def _check_training_size(params: IndexParams, n: int) -> None:
    if params.kind in ("ivf", "ivfpq") and n < params.nlist:
        raise BadInputError(
            f"{params.kind} with nlist={params.nlist} needs at least {params.nlist} vectors, got {n}; "
            "lower --nlist or use --kind flat"
        )
    if params.kind == "ivfpq" and n < (1 << params.nbits):
        raise BadInputError(
            f"ivfpq with nbits={params.nbits} needs at least {1 << params.nbits} vectors, got {n}; "
            "lower nbits or use --kind ivf"
        )


def build_index(
    vectors: np.ndarray,
    params: IndexParams,
    ids: np.ndarray | None = None,
    use_gpu: UseGpu = "auto",
) -> faiss.Index:
    """Train and fill a CPU FAISS index over ``vectors`` [N, d] with int64 ``ids``.

    ``vectors`` are normalised here for cosine (the caller's array is not modified). With a GPU
    (``use_gpu`` "auto" and one present, or True) IVF indexes are trained and filled on the GPU
    and copied back; the returned index is always a CPU index, ready for ``faiss.write_index``.

    Raises:
        BadInputError: empty data, ids of the wrong length, too few vectors to train IVF/PQ.
    """
    x = prepare_vectors(check_vectors(vectors), params.metric)
    n = len(x)
    if n == 0:
        raise BadInputError("no vectors to index; embed some videos first")
    ids = np.arange(n, dtype=np.int64) if ids is None else np.ascontiguousarray(ids, dtype=np.int64)
    if ids.shape != (n,):
        raise BadInputError(f"ids {ids.shape} do not match {n} vectors")
    return _build([(x, ids)], params, x.shape[1], x, resolve_gpu(use_gpu))


def build_index_batches(
    batches: Iterable[tuple[np.ndarray, np.ndarray]],
    params: IndexParams,
    dim: int,
    training: np.ndarray | None = None,
    use_gpu: UseGpu = "auto",
) -> faiss.Index:
    """Like :func:`build_index`, but filled batch by batch (``(vectors, ids)`` pairs), so the
    whole data set never has to be in memory at once. IVF kinds are trained on ``training``
    (a sample of the vectors) first.

    Raises:
        BadInputError: IVF without (enough) training vectors, batches of the wrong dimension.
    """
    xt = None
    if params.kind in ("ivf", "ivfpq"):
        if training is None:
            raise BadInputError(f"{params.kind} needs training vectors")
        xt = prepare_vectors(check_vectors(training, dim, "training vectors"), params.metric)

    def prepared() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for x, ids in batches:
            x = prepare_vectors(check_vectors(x, dim), params.metric)
            ids = np.ascontiguousarray(ids, dtype=np.int64)
            if ids.shape != (len(x),):
                raise BadInputError(f"ids {ids.shape} do not match {len(x)} vectors")
            yield x, ids

    return _build(prepared(), params, dim, xt, resolve_gpu(use_gpu))


def _build(
    batches: Iterable[tuple[np.ndarray, np.ndarray]],
    params: IndexParams,
    d: int,
    training: np.ndarray | None,
    gpu: bool,
) -> faiss.Index:
    """Build from already prepared (normalised, float32, contiguous) batches."""
    core = _empty_index(params, d)
    if params.kind in ("ivf", "ivfpq"):
        assert training is not None
        _check_training_size(params, len(training))
        target = to_gpu(core) if gpu else None
        work = target if target is not None else core
        work.train(training)
        for x, ids in batches:
            work.add_with_ids(x, ids)
        if target is not None:
            core = faiss.index_gpu_to_cpu(target)
            apply_search_params(core, params)
        # Hash-table direct map: reconstruct(id) and remove_ids with arbitrary int64 ids.
        core.set_direct_map_type(faiss.DirectMap.Hashtable)
        return core
    index = faiss.IndexIDMap2(core)
    core.this.disown()
    index.own_fields = True
    for x, ids in batches:  # flat add is a copy; HNSW graph building has no GPU version
        index.add_with_ids(x, ids)
    return index
