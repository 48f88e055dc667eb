"""Clustering benchmark: our FAISS-based estimators against scikit-learn (design decision 7).

    python bench/cluster.py            # 5k, 20k (vs scikit-learn), 100k spectral; K-means 100k x 256
    python bench/cluster.py --quick    # 2k, 5k, 20k spectral; K-means 20k x 64 (about a minute)
    python bench/cluster.py --big      # adds spectral at 1M points

Every measurement runs in a fresh process (``multiprocessing`` spawn) so its peak memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own; "fit MB" is that peak minus the
resident size just before ``fit`` (the data already generated). Times are wall-clock seconds
of ``fit`` only. Quality: conditional entropy H(label | cluster) in bits on labelled blobs; the
spectral rows pass when ours is within 0.05 bits of scikit-learn's. Compare ratios taken in one
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

    from discovery.scores import conditional_entropy

    out: dict[str, Any] = {}
    if kind.startswith("spectral"):
        X, y = _spectral_blobs(n)
        if kind == "spectral-ours":
            from discovery.spectral import SpectralClustering

            est = SpectralClustering(10, random_state=0, **params)
        else:
            from sklearn.cluster import SpectralClustering as SkSpectral

            est = SkSpectral(
                10,
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
            from discovery.kmeans import KMeans

            est = KMeans(k, n_init=1, random_state=0, **params)
        else:
            from sklearn.cluster import KMeans as SkKMeans

            est = SkKMeans(k, n_init=1, random_state=0, **params)
    import warnings

    before = _rss_mb()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X)
    out["seconds"] = time.perf_counter() - t
    out["peak_mb"] = _peak_mb()
    out["fit_mb"] = max(0.0, _peak_mb() - before)
    out["ce"] = conditional_entropy(y, est.labels_)
    if hasattr(est, "inertia_"):
        out["inertia"] = float(est.inertia_)
    for attr in ("knn_", "eigen_solver_", "timings_", "n_graph_components_"):
        if hasattr(est, attr):
            out[attr.rstrip("_")] = getattr(est, attr)
    return out


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    ap.add_argument("--big", action="store_true", help="also spectral clustering at 1M points")
    ap.add_argument(
        "--threads", type=int, default=2, help="FAISS/BLAS threads in every measurement"
    )
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed per measurement")
    args = ap.parse_args(argv)

    compare = [2000, 5000] if args.quick else [5000, 20000]
    alone = [20000] if args.quick else [100000]
    if args.big:
        alone.append(1_000_000)
    km_n, km_d = (20000, 64) if args.quick else (100000, 256)
    km_k = 101

    print(
        f"# Clustering benchmark ({args.threads} thread(s); seconds of fit, fresh process each)\n"
    )
    print(
        "## Spectral clustering, 10 blobs in 16-D (ours: FAISS k-NN graph + self-tuning kernel + NJW)\n"
    )
    print(
        "| N | ours s | sklearn s | sklearn/ours | ours CE | sklearn CE | |ΔCE| <= 0.05 | ours: kNN, solver, components | ours fit MB | sklearn fit MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in compare:
        o = measure("spectral-ours", n, args.threads, args.timeout)
        s = measure("spectral-sklearn", n, args.threads, args.timeout)
        if "error" in o or "error" in s:
            print(
                f"| {n} | {o.get('error', _fmt(o.get('seconds')))} | {s.get('error', _fmt(s.get('seconds')))} | | | | | | | |"
            )
            continue
        ok = abs(o["ce"] - s["ce"]) <= 0.05
        print(
            f"| {n} | {o['seconds']:.2f} | {s['seconds']:.2f} | {s['seconds'] / o['seconds']:.1f}x | {o['ce']:.3f} | {s['ce']:.3f} | "
            f"{'yes' if ok else 'NO'} | {o['knn']}, {o['eigen_solver']}, {o['n_graph_components']} | {o['fit_mb']:.0f} | {s['fit_mb']:.0f} |",
            flush=True,
        )

    print("\n## Spectral clustering, ours alone\n")
    print(
        "| N | variant | s | kNN s | affinity s | eigen s | k-means s | CE | peak RSS MB | fit MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in alone:
        variants: list[tuple[str, dict[str, Any]]] = [("auto", {})]
        if n <= 100_000 and not args.quick:
            variants += [("exact kNN", {"knn": "exact"}), ("amg", {"eigen_solver": "amg"})]
        for name, params in variants:
            o = measure(
                "spectral-ours",
                n,
                args.threads,
                args.timeout * (4 if n >= 1_000_000 else 1),
                **params,
            )
            if "error" in o:
                print(f"| {n} | {name} | {o['error']} | | | | | | | |", flush=True)
                continue
            t = o["timings"]
            print(
                f"| {n} | {name} ({o['knn']}, {o['eigen_solver']}) | {o['seconds']:.2f} | {t['knn']:.2f} | {t['affinity']:.2f} | "
                f"{t['eigen']:.2f} | {t['kmeans']:.2f} | {o['ce']:.3f} | {o['peak_mb']:.0f} | {o['fit_mb']:.0f} |",
                flush=True,
            )

    print(
        f"\n## K-means, {km_n} x {km_d}, K = {km_k}, n_init = 1, k-means++ (inertia on all points)\n"
    )
    print("| variant | s | inertia | inertia / sklearn | sklearn s / ours s | CE |")
    print("|---|---|---|---|---|---|")
    sk = measure("kmeans-sklearn", km_n, args.threads, args.timeout, dim=km_d, k=km_k)
    rows = [
        ("sklearn KMeans", sk),
        (
            "ours (FAISS, all points)",
            measure("kmeans-ours", km_n, args.threads, args.timeout, dim=km_d, k=km_k),
        ),
        (
            "ours, FAISS random init",
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
