"""Benchmark vidsift's index layer: overhead, exact search, approximate recall and speed.

Sections (one table each):

1. **exact**: on seeded random unit vectors, queries/s of ``VideoIndex.search`` against raw
   ``faiss.Index.search`` on the *same* index (ratio; aim >= 0.95), of ``VideoIndex.search``
   when every ``Hit`` is also materialised, and of numpy ``matmul + argpartition``.
2. **approximate**: on CLUSTERED synthetic data (uniform noise makes approximate recall
   meaningless, see ``perf-anchors.md``), IVF / IVF-PQ / HNSW against exact flat search:
   build time, queries/s, recall@k, speed-up over exact, bytes per vector (serialised index / N).

Timings are the best of ``--repeats`` runs (this kind of machine is noisy; compare ratios taken in
one run). Example::

    python -m bench.search --quick
    python -m bench.search --sizes 100000x256,1000000x256,100000x4096 --approx 1000000x256
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidsift.embedder.store import StoreData  # noqa: E402
from vidsift.index.build import IndexParams, choose_params, prepare_vectors  # noqa: E402
from vidsift.index.check import recall_at_k  # noqa: E402
from vidsift.index.video_index import VideoIndex  # noqa: E402

FRAMES_PER_VIDEO = 1000


def parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        n, d = part.lower().split("x")
        out.append((int(float(n)), int(d)))
    return out


def synthetic_store(vectors: np.ndarray) -> StoreData:
    """A StoreData over ``vectors``: videos of 1000 frames at 25 fps, shots of 50 frames."""
    n = len(vectors)
    rows = np.arange(n)
    frame = rows % FRAMES_PER_VIDEO
    video = np.char.add("v", (rows // FRAMES_PER_VIDEO).astype("U7"))
    meta = pd.DataFrame(
        {
            "video_id": video.astype(object),
            "path": np.char.add(np.char.add("/videos/", video), ".mp4").astype(object),
            "frame": frame,
            "time": frame / 25.0,
            "shot": frame // 50,
            "label": None,
        }
    )
    manifest = {"name": "bench", "dim": vectors.shape[1], "unit": "frame"}
    return StoreData(meta=meta, vectors=vectors, manifest=manifest)


def unit_vectors(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)
    faiss.normalize_L2(x)
    return x


def clustered(n: int, d: int, seed: int, centers: int | None = None, sub: int = 10) -> np.ndarray:
    """Two-level Gaussian blobs: random unit "scenes", each with ``sub`` "shots" of near-duplicate
    frames (like video embeddings: true neighbours are well separated from the rest)."""
    rng = np.random.default_rng(seed)
    centers = centers or max(10, n // 200)
    c = rng.standard_normal((centers, d), dtype=np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    shots = (
        c[:, None, :]
        + rng.standard_normal((centers, sub, d), dtype=np.float32) * np.float32(0.3 / np.sqrt(d))
    ).reshape(-1, d)
    x = shots[rng.integers(0, len(shots), n)]
    x += rng.standard_normal((n, d), dtype=np.float32) * np.float32(0.05 / np.sqrt(d))
    return np.ascontiguousarray(x)


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls."""
    return min(timed(fn) for _ in range(repeats))[0]


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call. CPU time is what the call itself cost,
    whatever else runs on the machine: the overhead ratios below use it."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def interleaved(fns: list[Callable[[], object]], repeats: int) -> list[tuple[float, float]]:
    """Best (wall, cpu) of each function, calls interleaved so load changes hit all alike."""
    runs: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(repeats):
        for r, fn in zip(runs, fns, strict=True):
            r.append(timed(fn))
    return [(min(w for w, _ in r), min(c for _, c in r)) for r in runs]


def numpy_topk(x: np.ndarray, q: np.ndarray, k: int, chunk_bytes: int = 1 << 28) -> np.ndarray:
    """Exact top-k by inner product with matmul + argpartition, in query chunks."""
    step = max(1, chunk_bytes // (4 * len(x)))
    out = np.empty((len(q), k), np.int64)
    for s in range(0, len(q), step):
        sims = q[s : s + step] @ x.T
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        out[s : s + step] = np.take_along_axis(part, order, axis=1)
    return out


def bytes_per_vector(index: faiss.Index) -> float:
    return faiss.serialize_index(index).nbytes / max(1, index.ntotal)


def bench_exact(n: int, d: int, nq: int, k: int, repeats: int, seed: int, with_numpy: bool) -> dict:
    x = unit_vectors(n, d, seed)
    q = unit_vectors(nq, d, seed + 1)
    vi = VideoIndex.build(
        synthetic_store(x), IndexParams(kind="flat", metric="cosine"), use_gpu=False
    )
    raw_index, qn = vi.index, prepare_vectors(q, "cosine")
    vi.search(q[:10], k)  # warm caches (id-map columns)
    (raw, raw_cpu), (ours, ours_cpu), (mat, mat_cpu) = interleaved(
        [
            lambda: raw_index.search(qn, k),
            lambda: vi.search(q, k),
            lambda: [list(h) for h in vi.search(q, k)],
        ],
        repeats,
    )
    row = {
        "data": f"{n:,} x {d}",
        "faiss q/s": nq / raw,
        "ours q/s": nq / ours,
        "ratio": raw / ours,
        "ratio CPU": raw_cpu / ours_cpu,
        "ours+Hits q/s": nq / mat,
        "ratio+Hits CPU": raw_cpu / mat_cpu,
        "bytes/vec": bytes_per_vector(raw_index),
    }
    if with_numpy:
        t_np = best_of(lambda: numpy_topk(x, q, k), 1)
        row["numpy q/s"] = nq / t_np
        row["faiss/numpy"] = t_np / raw
        got = numpy_topk(x, q[:20], k)
        _, want = raw_index.search(qn[:20], k)
        row["numpy agrees"] = float(
            np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(got, want, strict=True)])
        )
    return row


def bench_approx(
    n: int, d: int, nq: int, k: int, repeats: int, seed: int, kinds: list[str], hnsw_max: int
) -> list[dict]:
    x = clustered(n, d, seed)
    pick = np.random.default_rng(seed + 2).choice(n, nq, replace=False)
    q = x[pick] + np.random.default_rng(seed + 3).standard_normal(
        (nq, d), dtype=np.float32
    ) * np.float32(0.05 / np.sqrt(d))
    store = synthetic_store(x)
    rows = []
    t0 = time.perf_counter()
    exact = VideoIndex.build(store, IndexParams(kind="flat"), use_gpu=False)
    build_exact = time.perf_counter() - t0
    qn = prepare_vectors(q, "cosine")
    t_exact = best_of(lambda: exact.index.search(qn, k), repeats)
    rows.append(
        {
            "kind": "flat (exact)",
            "data": f"{n:,} x {d}",
            "params": "-",
            "build s": build_exact,
            "q/s": nq / t_exact,
            "ours/raw CPU": 1.0,
            f"recall@{k}": 1.0,
            "speed-up": 1.0,
            "bytes/vec": bytes_per_vector(exact.index),
        }
    )
    for kind in kinds:
        if kind == "hnsw" and n > hnsw_max:
            print(
                f"  (hnsw skipped at {n:,}: build is slow on 2 cores; raise --hnsw-max to include it)",
                file=sys.stderr,
            )
            continue
        params = (
            choose_params(n, d, kind=kind)
            if kind != "hnsw"
            else IndexParams(kind="hnsw", hnsw_m=32, ef_search=64, ef_construction=64)
        )
        t0 = time.perf_counter()
        vi = VideoIndex.build(store, params, use_gpu=False)
        build_s = time.perf_counter() - t0
        vi.search(q[:10], k)  # warm caches (id-map columns)
        (t_raw, raw_cpu), (t_ours, ours_cpu) = interleaved(
            [lambda vi=vi: vi.index.search(qn, k), lambda vi=vi: vi.search(q, k)], repeats
        )
        recall = recall_at_k(vi, exact, q, k)
        desc = {
            "ivf": f"nlist={params.nlist} nprobe={params.nprobe}",
            "ivfpq": f"nlist={params.nlist} nprobe={params.nprobe} m={params.m}x{params.nbits}b",
            "hnsw": f"M={params.hnsw_m} efS={params.ef_search} efC={params.ef_construction}",
        }[kind]
        rows.append(
            {
                "kind": kind,
                "data": f"{n:,} x {d}",
                "params": desc,
                "build s": build_s,
                "q/s": nq / t_raw,
                "ours/raw CPU": raw_cpu / ours_cpu,
                f"recall@{k}": recall,
                "speed-up": t_exact / t_raw,
                "bytes/vec": bytes_per_vector(vi.index),
            }
        )
        del vi
        gc.collect()
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(dict.fromkeys(c for r in rows for c in r))

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print(f"\n### {title}\n")
    print("| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) + " |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="small sizes (about 3 minutes on 2 busy cores)"
    )
    ap.add_argument(
        "--sizes",
        help="exact-search sizes NxD, comma separated (default 100000x256,1000000x256,100000x4096)",
    )
    ap.add_argument(
        "--approx",
        help="clustered data NxD for IVF/IVF-PQ/HNSW (default 1000000x256; quick 50000x256)",
    )
    ap.add_argument("--kinds", default="ivf,ivfpq,hnsw", help="approximate kinds to measure")
    ap.add_argument(
        "--hnsw-max",
        type=int,
        default=200_000,
        help="skip HNSW above this many vectors (build ~210 s at 1M)",
    )
    ap.add_argument("--queries", type=int, help="queries per measurement (default 1000; quick 200)")
    ap.add_argument("-k", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--threads",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="threads for FAISS (OpenMP) and for numpy's BLAS",
    )
    ap.add_argument("--no-numpy", action="store_true", help="skip the numpy reference")
    ap.add_argument("--no-approx", action="store_true", help="skip the approximate-index table")
    ap.add_argument(
        "--blas-threshold",
        type=int,
        help="set faiss.cvar.distance_compute_blas_threshold (FAISS 1.15 flat search uses BLAS "
        "when nq*d >= this; its default 128000 is tuned for many threads)",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    sizes = parse_sizes(
        args.sizes
        or ("100000x256,20000x4096" if args.quick else "100000x256,1000000x256,100000x4096")
    )
    approx = (
        []
        if args.no_approx
        else parse_sizes(args.approx or ("50000x256" if args.quick else "1000000x256"))
    )
    nq = args.queries or (200 if args.quick else 1000)
    faiss.omp_set_num_threads(args.threads)
    if args.blas_threshold is not None:
        faiss.cvar.distance_compute_blas_threshold = args.blas_threshold
    try:  # numpy's BLAS gets the same thread count as FAISS, for a fair comparison
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass
    print(
        f"faiss {faiss.__version__}, {args.threads} thread(s) for FAISS and BLAS, {nq} queries, "
        f"k={args.k}, best of {args.repeats}, "
        f"blas threshold {faiss.cvar.distance_compute_blas_threshold}"
    )

    t0 = time.perf_counter()
    exact_rows = []
    for n, d in sizes:
        print(f"  exact {n:,} x {d} ...", file=sys.stderr, flush=True)
        exact_rows.append(bench_exact(n, d, nq, args.k, args.repeats, args.seed, not args.no_numpy))
    print_table(
        f"Exact search (random unit vectors, cosine, k={args.k}): "
        "VideoIndex.search vs raw FAISS vs numpy",
        exact_rows,
    )

    approx_rows = []
    for n, d in approx:
        print(f"  approximate {n:,} x {d} ...", file=sys.stderr, flush=True)
        approx_rows += bench_approx(
            n, d, nq, args.k, args.repeats, args.seed, args.kinds.split(","), args.hnsw_max
        )
    print_table(
        f"Approximate indexes on clustered data (cosine, k={args.k}); q/s of raw FAISS search",
        approx_rows,
    )
    cpu = time.process_time()
    wall = time.perf_counter() - t0
    print(
        f"\ntotal {wall:.0f} s wall, {cpu:.0f} s CPU (CPU/wall well below the thread count = a busy machine)"
    )


if __name__ == "__main__":
    main()
