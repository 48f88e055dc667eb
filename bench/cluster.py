"""Clustering benchmark: our FAISS-based estimators against scikit-learn (design decision 7).

    python bench/cluster.py            # video-shaped spectral (2k, 20k vs scikit-learn; 100k),
                                       # blobs (5k, 20k vs scikit-learn; 100k), K-means 100k x 256
    python bench/cluster.py --quick    # smaller sizes (about a minute)
    python bench/cluster.py --big      # adds video chains at 1M frames (ours only)
    python bench/cluster.py --only video --sklearn-max 100000   # scikit-learn at 100k too
    python bench/cluster.py --only video   # one section: video | blobs | kmeans

Video-shaped data (issue #21): real frame embeddings are not blobs. Every video is a tight
temporal chain, so a k-NN graph falls apart into many components.

* **chains**: generated per-video random walks around class centres, 12 classes in 64-D: class
  centres N(0, 0.2^2 I); each video (24-72 frames, mean 48) gets its own offset N(0, 0.075^2 I)
  from its class centre and an AR(1) walk w_t = 0.97 w_{t-1} + N(0, 0.0375^2 I) around that,
  plus N(0, 0.01^2 I) frame noise. At 2304 frames (48 videos) the 10-NN graph has ~32
  components, the shape measured on 48 real camera-motion videos (27 components); a video's
  walk stays far tighter than the distance between videos of one class.
* **frames**: real frame embeddings of generated footage: ``video.synthetic.scene_frames``
  camera-motion videos (12 scenes x 4 videos x 3 shots x 16 frames at 64x64, pan / zoom / shake /
  illumination / noise), area-averaged to 16x16 and flattened (the ``pixels`` embedder's 768-D
  vectors), label = scene. Generated without an encode/decode round trip and cached in
  ``$TMPDIR/vidsift-bench-cluster``.

Every measurement runs in a fresh process (``multiprocessing`` spawn) so its peak memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own; "fit MB" is that peak minus the
resident size just before ``fit`` (the data already generated). Times are wall-clock seconds
of ``fit`` only. Quality: conditional entropy H(label | cluster) in bits on labelled blobs; the
spectral rows pass when ours is within 0.05 bits of scikit-learn's. Above 10k rows the spectral
rows also give "graph recall@10": the share of the exact 10 nearest neighbours (FAISS
``IndexFlatL2`` over all rows) of 300 seeded rows that are edges of the fitted graph, measured
after the fit (not timed); the chains section compares the temporal graph with the exact and
IVF graphs on the same rows. Compare ratios taken in one
run: shared machines are noisy (perf-anchors).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _limit_threads(threads: int) -> None:
    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(threads)
    threadpool_limits(threads)


CHAIN_CLASSES = 12


def video_chains(n: int, seed: int = 0, dim: int = 64) -> tuple[Any, Any]:
    """``n`` frames of generated video chains (module docstring): (float32 [n, dim], labels)."""
    import numpy as np
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    k = CHAIN_CLASSES
    centres = rng.standard_normal((k, dim)) * 0.2
    X = np.empty((n, dim), np.float32)
    y = np.empty(n, np.int64)
    pos = v = 0
    while pos < n:
        length = int(min(n - pos, rng.integers(24, 73)))
        c = v % k
        base = centres[c] + rng.standard_normal(dim) * (0.6 / 8)
        walk = lfilter([1.0], [1.0, -0.97], rng.standard_normal((length, dim)) * (0.3 / 8), axis=0)
        X[pos : pos + length] = base + walk + rng.standard_normal((length, dim)) * 0.01
        y[pos : pos + length] = c
        pos += length
        v += 1
    return X, y


def scene_frame_vectors(n_videos: int, seed: int = 0) -> tuple[Any, Any]:
    """Pixel embeddings (16x16x3 = 768-D) of generated camera-motion videos, cached on disk."""
    import tempfile

    import numpy as np

    cache = Path(tempfile.gettempdir()) / "vidsift-bench-cluster" / f"scenes-{n_videos}-{seed}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return z["X"], z["y"]
    from vidsift.video.synthetic import SCENES, scene_frames

    scenes = SCENES[:CHAIN_CLASSES]
    xs, ys = [], []
    for v in range(n_videos):
        label = v % len(scenes)
        frames, _ = scene_frames(
            scenes[label],
            seed=seed,
            index=v // len(scenes),
            shots=3,
            frames_per_shot=16,
            size=(64, 64),
        )
        small = frames.reshape(len(frames), 16, 4, 16, 4, 3).astype(np.float32).mean(axis=(2, 4))
        xs.append((small / 255.0).reshape(len(frames), -1))
        ys.append(np.full(len(frames), label, np.int64))
    X, y = np.concatenate(xs).astype(np.float32), np.concatenate(ys)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, X=X, y=y)
    tmp.replace(cache)
    return X, y


def _spectral_blobs(n: int, seed: int = 0) -> tuple[Any, Any]:
    """10 labelled Gaussian blobs in 16-D that touch (one connected k-NN graph at 20k points)."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n, 16, centers=10, cluster_std=2.5, center_box=(-6, 6), random_state=seed)
    return X.astype("float32"), y


def job(kind: str, n: int, threads: int, params: dict[str, Any]) -> dict[str, Any]:
    """One measurement, run inside a fresh process."""
    sys.path.insert(0, str(ROOT))
    _limit_threads(threads)
    import numpy as np

    from vidsift.discovery.scores import conditional_entropy

    out: dict[str, Any] = {}
    if kind.startswith("spectral"):
        data = params.pop("data", "blobs")
        if data == "chains":
            X, y = video_chains(n)
        elif data == "frames":
            X, y = scene_frame_vectors(n // 48)
        else:
            X, y = _spectral_blobs(n)
        k = len(set(y.tolist()))
        if kind == "spectral-ours":
            from vidsift.discovery.spectral import SpectralClustering

            est = SpectralClustering(k, random_state=0, **params)
        else:
            from sklearn.cluster import SpectralClustering as SkSpectral

            est = SkSpectral(
                k,
                affinity="nearest_neighbors",
                n_neighbors=10,
                random_state=0,
                n_jobs=threads,
                **params,
            )
    else:
        from sklearn.datasets import make_blobs

        d, k = params.pop("dim"), params.pop("k")
        X, y = make_blobs(n, d, centers=k, cluster_std=8.0, random_state=0)
        X = X.astype(np.float32)
        if kind == "kmeans-ours":
            from vidsift.discovery.kmeans import KMeans

            est = KMeans(k, n_init=1, random_state=0, **params)
        else:
            from sklearn.cluster import KMeans as SkKMeans

            est = SkKMeans(k, n_init=1, random_state=0, **params)
    import warnings

    before = _rss_mb()
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X)
    out["seconds"] = time.perf_counter() - t
    out["fallback"] = any("did not converge" in str(w.message) for w in caught)
    out["peak_mb"] = _peak_mb()
    out["fit_mb"] = max(0.0, _peak_mb() - before)
    out["ce"] = conditional_entropy(y, est.labels_)
    if hasattr(est, "inertia_"):
        out["inertia"] = float(est.inertia_)
    for attr in ("knn_", "eigen_solver_", "timings_", "n_graph_components_"):
        if hasattr(est, attr):
            out[attr.rstrip("_")] = getattr(est, attr)
    if kind == "spectral-ours" and len(X) > 10_000 and est.n_distinct_ == len(X):
        out["graph_recall"] = graph_recall(X, est.affinity_matrix_, k=10)
    return out


def graph_recall(X: Any, W: Any, k: int = 10, queries: int = 300, seed: int = 1) -> float:
    """Share of the exact k nearest neighbours (FAISS ``IndexFlatL2``) of ``queries`` seeded
    rows that are edges of the graph ``W`` (measured after the fit, not timed)."""
    import faiss
    import numpy as np

    rng = np.random.default_rng(seed)
    q = np.sort(rng.choice(len(X), size=queries, replace=False))
    index = faiss.IndexFlatL2(X.shape[1])
    index.add(X)
    _, nb = index.search(X[q], k + 1)
    hits = 0
    for row, i in zip(nb, q, strict=True):
        edges = set(W.indices[W.indptr[i] : W.indptr[i + 1]].tolist())
        hits += len(edges & set(row[row != i][:k].tolist()))
    return hits / (queries * k)


def _worker(conn: Any, kind: str, n: int, threads: int, params: dict[str, Any]) -> None:
    try:
        conn.send(job(kind, n, threads, params))
    except BaseException as exc:  # report, never hang the parent
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def measure(kind: str, n: int, threads: int, timeout: float, **params: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(child, kind, n, threads, params))
    proc.start()
    child.close()
    if parent.poll(timeout):
        result = parent.recv()
    else:
        proc.kill()
        result = {"error": f"did not finish in {timeout:.0f} s"}
    proc.join()
    return result


def _fmt(x: Any, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def _compare_rows(
    data: str, sizes: list[int], args: argparse.Namespace, sk_max: int, **params: Any
) -> None:
    """Ours vs scikit-learn, one row per size (scikit-learn only up to ``sk_max`` points)."""
    print(
        "| N | ours s | sklearn s | sklearn/ours | ours CE | sklearn CE | ΔCE (ours - sklearn) | "
        "ours: kNN, solver, components, fallback | ours graph recall@10 | ours peak RSS MB | "
        "ours fit MB | sklearn fit MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        o = measure("spectral-ours", n, args.threads, args.timeout, data=data, **params)
        s = (
            measure("spectral-sklearn", n, args.threads, args.timeout, data=data)
            if n <= sk_max
            else {"error": "not run"}
        )
        if "error" in o:
            print(
                f"| {n} | {o['error']} | {s.get('error', _fmt(s.get('seconds')))} | | | | | | | | | |"
            )
            continue
        t = o["timings"]
        ours = (
            f"{o['knn']}, {o['eigen_solver']}, {o['n_graph_components']}, "
            f"{'FALLBACK' if o['fallback'] else 'no'}; kNN {t['knn']:.2f} + graph "
            f"{t['affinity']:.2f} + eigen {t['eigen']:.2f} + k-means {t['kmeans']:.2f} s"
        )
        mem = f"{_fmt(o.get('graph_recall'), '.3f')} | {o['peak_mb']:.0f} | {o['fit_mb']:.0f}"
        if "error" in s:
            print(
                f"| {n} | {o['seconds']:.2f} | {s['error']} | | {o['ce']:.3f} | | | {ours} | "
                f"{mem} | |",
                flush=True,
            )
            continue
        print(
            f"| {n} | {o['seconds']:.2f} | {s['seconds']:.2f} | {s['seconds'] / o['seconds']:.1f}x | "
            f"{o['ce']:.3f} | {s['ce']:.3f} | {o['ce'] - s['ce']:+.3f} | {ours} | "
            f"{mem} | {s['fit_mb']:.0f} |",
            flush=True,
        )


def _alone_rows(
    data: str,
    sizes: list[int],
    args: argparse.Namespace,
    variants: bool,
    extra: list[tuple[str, dict[str, Any], int]] | None = None,
) -> None:
    """Ours alone, one row per size and variant (``extra``: (name, params, largest N))."""
    print(
        "| N | variant | s | kNN s | affinity s | eigen s | k-means s | CE | components | "
        "graph recall@10 | peak RSS MB | fit MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        rows: list[tuple[str, dict[str, Any]]] = [("auto", {})]
        if variants and n <= 100_000:
            rows += [("exact kNN", {"knn": "exact"}), ("amg", {"eigen_solver": "amg"})]
        rows += [(name, params) for name, params, n_max in extra or [] if n <= n_max]
        for name, params in rows:
            o = measure("spectral-ours", n, args.threads, args.timeout, data=data, **params)
            if "error" in o:
                print(f"| {n} | {name} | {o['error']} | | | | | | | | | |", flush=True)
                continue
            t = o["timings"]
            fb = ", FALLBACK" if o["fallback"] else ""
            print(
                f"| {n} | {name} ({o['knn']}, {o['eigen_solver']}{fb}) | {o['seconds']:.2f} | "
                f"{t['knn']:.2f} | {t['affinity']:.2f} | {t['eigen']:.2f} | {t['kmeans']:.2f} | "
                f"{o['ce']:.3f} | {o['n_graph_components']} | {_fmt(o.get('graph_recall'), '.3f')} | "
                f"{o['peak_mb']:.0f} | {o['fit_mb']:.0f} |",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    ap.add_argument("--big", action="store_true", help="also video chains at 1M frames")
    ap.add_argument(
        "--sklearn-max",
        type=int,
        default=25000,
        help="largest video-shaped N also run with scikit-learn (its kNN graph grows as N^2)",
    )
    ap.add_argument(
        "--only", choices=("video", "blobs", "kmeans"), default=None, help="run one section"
    )
    ap.add_argument(
        "--threads", type=int, default=2, help="FAISS/BLAS threads in every measurement"
    )
    ap.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds allowed per measurement (300 = the 1M goal of 5 min)",
    )
    args = ap.parse_args(argv)
    run = {"video", "blobs", "kmeans"} if args.only is None else {args.only}

    print(
        f"# Clustering benchmark ({args.threads} thread(s); seconds of fit, fresh process each)\n"
    )
    if "video" in run:
        chains = [2304, 20000] if args.quick else [2304, 20000, 100_000]
        if args.big:
            chains.append(1_000_000)
        sk_max = args.sklearn_max
        print(
            "## Spectral clustering, video-shaped data: generated chains, 12 classes, 64-D "
            "(goals: <= 1 s at 2k, >= 10x scikit-learn at 20k with CE no worse, <= 10 s at 100k, "
            "< 5 min and < 8 GB at 1M)\n"
        )
        _compare_rows("chains", chains, args, sk_max)
        print(
            "\n## The same chains, ours with other k-NN graphs (exact: FAISS IndexFlatL2 over all "
            "rows; ivf: IndexIVFFlat over all rows, the graph before the temporal one)\n"
        )
        _alone_rows(
            "chains",
            [20000] if args.quick else [20000, 100_000],
            args,
            variants=False,
            extra=[("exact kNN", {"knn": "exact"}, 20000), ("ivf kNN", {"knn": "ivf"}, 100_000)],
        )
        print(
            "\n## Spectral clustering, real frame embeddings of generated footage "
            "(scene videos, 12 scenes, pixels 16x16 = 768-D)\n"
        )
        _compare_rows("frames", [2304] if args.quick else [2304, 23040], args, sk_max)
        print()

    if "blobs" in run:
        compare = [2000, 5000] if args.quick else [5000, 20000]
        alone = [20000] if args.quick else [100000]
        print(
            "## Spectral clustering, 10 blobs in 16-D (ours: FAISS k-NN graph + self-tuning kernel + NJW)\n"
        )
        _compare_rows("blobs", compare, args, max(compare))
        print("\n## Spectral clustering on blobs, ours alone\n")
        _alone_rows("blobs", alone, args, variants=not args.quick)
        print()

    if "kmeans" not in run:
        return 0
    km_n, km_d = (20000, 64) if args.quick else (100000, 256)
    km_k = 101
    print(
        f"## K-means, {km_n} x {km_d}, K = {km_k}, n_init = 1, k-means++ (inertia on all points; "
        "goal at 100k x 256: >= 5x scikit-learn, inertia within 1 %)\n"
    )
    print("| variant | s | inertia | inertia / sklearn | sklearn s / ours s | CE |")
    print("|---|---|---|---|---|---|")
    sk = measure("kmeans-sklearn", km_n, args.threads, args.timeout, dim=km_d, k=km_k)
    rows = [
        ("sklearn KMeans", sk),
        (
            "ours (k-means++, Lloyd with Hamerly bounds, all points)",
            measure("kmeans-ours", km_n, args.threads, args.timeout, dim=km_d, k=km_k),
        ),
        (
            "ours, random init",
            measure(
                "kmeans-ours", km_n, args.threads, args.timeout, dim=km_d, k=km_k, init="random"
            ),
        ),
        (
            "FAISS defaults-like (random init, 256 pts/centroid, 25 it)",
            measure(
                "kmeans-ours",
                km_n,
                args.threads,
                args.timeout,
                dim=km_d,
                k=km_k,
                init="random",
                max_points_per_centroid=256,
                max_iter=25,
            ),
        ),
    ]
    for name, r in rows:
        if "error" in r:
            print(f"| {name} | {r['error']} | | | | |", flush=True)
            continue
        ratio = r["inertia"] / sk["inertia"] if "inertia" in sk else None
        speed = sk["seconds"] / r["seconds"] if "seconds" in sk else None
        print(
            f"| {name} | {r['seconds']:.2f} | {r['inertia']:.4g} | {_fmt(ratio, '.4f')} | {_fmt(speed, '.1f')} | {r['ce']:.3f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
