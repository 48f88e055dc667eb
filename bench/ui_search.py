"""Search latency as the page sees it: from a query to the result rows, at 100k or 1M frames.

A workspace gets a synthetic embedding store shaped like video (``--videos`` x ``--frames``
unit vectors of ``--dim``: every video belongs to one of ``--classes`` classes, every shot of it
sits around its own point near the class centre and its frames are a temporal random walk around
that point, so nearest neighbours are temporal chains, as with real frame embeddings; written with
``embedder.store.write_shard`` + ``write_manifest``) and its index
(``services.indexes.build_workspace_index``, kind chosen by size unless ``--kind``). Then, for
``--queries`` random indexed frames, it times the call the Search page makes for each rerun:

* ``frame``: ``vidsift.services.indexes.search_workspace(video,
  frame, k)`` with the index already loaded (the page's ``st.cache_resource`` and the library's
  own cache);
* ``frame + window 10``: the same with ``exclude_window=10`` (over-fetch and filter);
* ``frame + other videos``: ``exclude_same_video=True`` (over-fetches the video's frames);
* ``frame, 1 video filter``: the page's "Only these videos" filter;
* ``vector``: a raw vector query (no frame lookup);
* ``raw faiss (floor)``: ``faiss.Index.search`` on the same index, what any caller pays.

It prints p50 / p95 / max in milliseconds, the p50 ratio to raw FAISS (stable on a busy machine,
unlike the absolute times), the one-off cold load of the index, and recall@k of the index
against exact search on the same queries (plain search, and the harder "other videos" search).
Example::

    python -m bench.ui_search                                  # 100k x 256, 200 queries
    python -m bench.ui_search --million --workdir /tmp/ws1m    # 1M x 256; keeps the workspace
    python -m bench.ui_search --dim 4096 --queries 100

``--filters`` times filtered search instead (issue #18): vector queries through
``search_workspace`` with no filter, 1% of the videos, one label (one class of 50), a time range
and half the videos, each by the default route (exact over the selection when it is small, see
``SUBSET_MAX_BYTES``) and forced through FAISS's ID selector; it prints the p50 ratio to the
unfiltered search and recall@k against exact search over the frames that pass::

    python -m bench.ui_search --filters --workdir /tmp/ws100k
    python -m bench.ui_search --filters --million --workdir /tmp/ws1m

With ``--workdir`` the store (and the index, unless ``--rebuild``) are reused when their shape
matches, so a second run measures the search alone. Writing the 1M store takes about a minute
and building its IVF index a few more on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidsift.embedder.store import MANIFEST, load_store, read_manifest, write_manifest, write_shard  # noqa: E402
from vidsift.services.indexes import (  # noqa: E402
    build_workspace_index,
    clear_cache,
    load_workspace_index,
    search_workspace,  # noqa: E402
)
from vidsift.workspace import Workspace  # noqa: E402

NAME = "synthetic"


def video_vectors(rng: np.random.Generator, centre: np.ndarray, frames: int, shot_len: int = 50,
                  shot_spread: float = 0.6, walk: float = 0.4, rho: float = 0.95) -> np.ndarray:
    """[frames, dim] unit vectors of one video: per shot a point near ``centre``, then an AR(1)
    random walk (step correlation ``rho``, stationary std ``walk``) around it."""
    from scipy.signal import lfilter

    dim = len(centre)
    shot = np.arange(frames) // shot_len
    points = centre + shot_spread * rng.standard_normal((shot.max() + 1, dim)).astype(np.float32)
    steps = rng.standard_normal((frames, dim)).astype(np.float32) * walk * np.sqrt(1 - rho**2)
    steps[0] /= np.sqrt(1 - rho**2)  # start the walk in its stationary state
    x = points[shot] + lfilter([1.0], [1.0, -rho], steps, axis=0).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def make_store(ws: Workspace, videos: int, frames: int, dim: int, seed: int = 0, classes: int = 50) -> None:
    """Video-shaped store: ``videos`` videos of ``frames`` frames, each video of one of ``classes``."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim)).astype(np.float32)
    store = ws.embeddings(NAME)
    write_manifest(store, {"name": NAME, "kind": "synthetic", "dim": dim, "unit": "frame",
                           "input_size": [16, 16], "layer": None, "checkpoint_hash": None, "preprocessing": ""})
    frame = np.arange(frames)
    for v in range(videos):
        cls = int(rng.integers(classes))
        x = video_vectors(rng, centres[cls], frames)
        vid = f"video{v:04d}"
        meta = pd.DataFrame({"video_id": vid, "path": f"/videos/{vid}.mp4", "frame": frame,
                             "time": frame / 25.0, "shot": frame // 50, "label": f"class{cls}"})
        write_shard(store, vid, meta, x)


def percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)), "max_ms": float(a.max())}


def exact_recall(x: np.ndarray, meta: pd.DataFrame, qs: list[tuple[str, int]], got: list[list[dict]],
                 k: int, other_videos: bool) -> float:
    """Mean share of the exact top-``k`` (video, frame) pairs found in ``got`` (one list per query)."""
    key = pd.MultiIndex.from_arrays([meta["video_id"].astype(str), meta["frame"].to_numpy()])
    rows = key.get_indexer(pd.MultiIndex.from_tuples(qs))
    vids = meta["video_id"].astype(str).to_numpy()
    total = 0.0
    for start in range(0, len(qs), 50):  # [50, N] scores at a time
        scores = x[rows[start:start + 50]] @ x.T
        for j, s in enumerate(scores):
            i = start + j
            if other_videos:
                s[vids == qs[i][0]] = -np.inf
            top = np.argpartition(-s, k)[:k]
            truth = {(vids[r], int(meta["frame"].iat[r])) for r in top}
            total += len(truth & {(h["video_id"], h["frame"]) for h in got[i]}) / k
    return total / len(qs)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=100)
    ap.add_argument("--frames", type=int, default=1000, help="frames per video")
    ap.add_argument("--million", action="store_true", help="1000 videos x 1000 frames (1M vectors)")
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("-k", type=int, default=12, help="results per query (the page's default)")
    ap.add_argument("--recall-k", type=int, default=10, help="k of the printed recall")
    ap.add_argument("--kind", default="auto", help="index kind: auto | flat | ivf | ivfpq | hnsw")
    ap.add_argument("--nprobe", type=int, default=None, help="override the chosen nprobe (IVF)")
    ap.add_argument("--workdir", default=None, help="keep the workspace here and reuse it")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the index even if one is there")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--filters", action="store_true",
                    help="time filtered vs unfiltered search (videos, label, time range) instead")
    args = ap.parse_args(argv)
    if args.million:
        args.videos, args.frames = 1000, 1000

    tmp = None
    if args.workdir is None:
        tmp = tempfile.mkdtemp(prefix="vidsift-ui-bench-")
    root = Path(args.workdir or tmp)
    try:
        run(args, Workspace.at(root))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, ws: Workspace) -> None:
    store = ws.embeddings(NAME)
    n = args.videos * args.frames
    t0 = time.perf_counter()
    reuse = (store / MANIFEST).exists() and read_manifest(store).get("dim") == args.dim \
        and len(load_store(store, with_vectors=False)) == n
    if not reuse:
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(ws.indexes(NAME), ignore_errors=True)
        make_store(ws, args.videos, args.frames, args.dim, args.seed)
    t_store = time.perf_counter() - t0
    t0 = time.perf_counter()
    built = args.rebuild or not reuse or not ws.indexes(NAME).exists()
    if built:
        build_workspace_index(ws, NAME, kind=args.kind, use_gpu=False, nprobe=args.nprobe)
    t_build = time.perf_counter() - t0
    clear_cache()
    t0 = time.perf_counter()
    vi = load_workspace_index(ws, NAME, use_gpu=False)
    t_load = time.perf_counter() - t0
    if args.nprobe is not None and not built:
        from dataclasses import replace

        from vidsift.index.build import apply_search_params

        vi.params = replace(vi.params, nprobe=args.nprobe)
        apply_search_params(vi.index, vi.params)
    p = vi.params
    extra = f", nlist {p.nlist}, nprobe {p.nprobe}" if p.kind in ("ivf", "ivfpq") else ""
    print(f"index: {p.kind} ({p.metric}{extra}), {vi.ntotal} vectors x {vi.dim}, {len(vi.videos)} videos; "
          f"store {'reused' if reuse else 'written'} in {t_store:.1f} s, index "
          f"{'built' if built else 'reused'} in {t_build:.1f} s, cold load {t_load * 1000:.0f} ms")

    rng = np.random.default_rng(args.seed + 1)
    videos = vi.videos
    qs = [(videos[rng.integers(len(videos))], int(rng.integers(args.frames))) for _ in range(args.queries)]
    if args.filters:
        run_filters(args, ws, vi, qs)
        return
    cases = {
        "frame": lambda v, f: search_workspace(ws, NAME, k=args.k, video=v, frame=f),
        "frame + window 10": lambda v, f: search_workspace(ws, NAME, k=args.k, video=v, frame=f, exclude_window=10),
        "frame + other videos": lambda v, f: search_workspace(ws, NAME, k=args.k, video=v, frame=f, exclude_same_video=True),
        "frame, 1 video filter": lambda v, f: search_workspace(ws, NAME, k=args.k, video=v, frame=f,
                                                      videos=[videos[(videos.index(v) + 1) % len(videos)]]),
        "vector": lambda v, f: search_workspace(ws, NAME, k=args.k, vector=vi.vector_of(v, f)),
        "raw faiss (floor)": lambda v, f: vi.index.search(vi.vector_of(v, f)[None], args.k)[1][0],
    }
    for fn in cases.values():
        fn(*qs[0])  # warm: the index is cached, as on the page after the first rerun
    # round-robin over the cases so that a busy machine slows them all alike
    ms: dict[str, list[float]] = {name: [] for name in cases}
    short = dict.fromkeys(cases, 0)  # queries answered with fewer than k rows
    for v, f in qs:
        for name, fn in cases.items():
            t0 = time.perf_counter()
            hits = fn(v, f)
            ms[name].append((time.perf_counter() - t0) * 1000)
            short[name] += len(hits) < args.k
    rows = [{"query": name, **percentiles(t), "short": short[name]} for name, t in ms.items()]
    df = pd.DataFrame(rows)
    df["p50 vs raw"] = df["p50_ms"] / df.loc[df["query"] == "raw faiss (floor)", "p50_ms"].iat[0]
    print(f"{args.queries} queries, k={args.k} (milliseconds from query to result rows; "
          f"short: answers with fewer than k rows):")
    print(df.to_string(index=False, float_format=lambda x: f"{x:8.2f}"))

    data = load_store(store)
    x = np.ascontiguousarray(data.vectors, dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    kr = args.recall_k
    plain = [search_workspace(ws, NAME, k=kr, video=v, frame=f) for v, f in qs]
    other = [search_workspace(ws, NAME, k=kr, video=v, frame=f, exclude_same_video=True) for v, f in qs]
    print(f"recall@{kr} vs exact ({p.kind}, {len(qs)} query frames): "
          f"frame {exact_recall(x, data.meta, qs, plain, kr, False):.4f}, "
          f"other videos {exact_recall(x, data.meta, qs, other, kr, True):.4f}")


def run_filters(args: argparse.Namespace, ws: Workspace, vi, qs: list[tuple[str, int]]) -> None:
    """Filtered vs unfiltered vector search: p50/p95, ratio to unfiltered, recall vs exact."""
    from vidsift.index import video_index
    from vidsift.index.filters import Filter

    rng = np.random.default_rng(args.seed + 2)
    videos = vi.videos
    few = sorted(rng.choice(videos, max(1, len(videos) // 100), replace=False).tolist())
    label = vi.columns.label[vi.columns.first_row(vi.columns.code_of[qs[0][0]])]
    seconds = args.frames / 25.0
    window = f"{seconds * 0.25:g}-{seconds * 0.5:g}"  # a quarter of every video
    filters = {
        "none": {},
        f"1% of videos ({len(few)})": {"videos": few},
        f"one label ({label})": {"labels": [label]},
        f"time range {window} s": {"time_range": window},
        f"half the videos ({len(videos[::2])})": {"videos": videos[::2]},
    }
    default_bytes = video_index.SUBSET_MAX_BYTES
    queries = [vi.vector_of(v, f) for v, f in qs]
    cases = []
    for fname, kw in filters.items():
        filt = Filter.of(**kw)
        rows = vi.candidates(filt)
        if not kw:
            cases.append((fname, "none", kw, default_bytes, filt, rows))
        elif rows * vi.dim * 4 <= default_bytes:  # the default route, then FAISS's for comparison
            cases.append((fname, "exact subset", kw, default_bytes, filt, rows))
            cases.append((fname, "faiss selector", kw, 0, filt, rows))
        else:
            cases.append((fname, "faiss selector", kw, default_bytes, filt, rows))
    rows_out = []
    x = None
    for fname, route, kw, limit, filt, rows in cases:
        video_index.SUBSET_MAX_BYTES = limit
        vi._subset = None  # the exact route's first query pays the read-back; counted below
        search_workspace(ws, NAME, k=args.k, vector=queries[0], **kw)
        ms, short = [], 0
        for q in queries:
            t0 = time.perf_counter()
            got = search_workspace(ws, NAME, k=args.k, vector=q, **kw)
            ms.append((time.perf_counter() - t0) * 1000)
            short += len(got) < min(args.k, rows)
        hits = vi.search(np.stack(queries), args.recall_k, filter=filt if kw else None)
        if x is None:
            data = load_store(ws.embeddings(NAME))
            x = np.ascontiguousarray(data.vectors, dtype=np.float32)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
        keep = filt.mask(vi.columns) if kw else np.ones(vi.ntotal, bool)
        ids = vi.columns.ids[keep]  # = store rows: the index was built from this store in order
        scores = np.stack(queries) @ x[ids].T
        recall = 0.0
        for i, h in enumerate(hits):
            kk = min(args.recall_k, len(ids))
            truth = ids[np.argpartition(-scores[i], kk - 1)[:kk]]
            recall += len(set(truth.tolist()) & set(h.ids.tolist())) / kk
        rows_out.append({"filter": fname, "route": route, "frames passing": rows, **percentiles(ms),
                         "short": short, f"recall@{args.recall_k}": recall / len(hits)})
    video_index.SUBSET_MAX_BYTES = default_bytes
    df = pd.DataFrame(rows_out)
    df.insert(4, "p50 vs none", df["p50_ms"] / df["p50_ms"].iat[0])
    print(f"{len(queries)} vector queries, k={args.k}, through search_workspace (milliseconds; "
          f"short: fewer than min(k, passing) rows):")
    print(df.to_string(index=False, float_format=lambda v: f"{v:8.3f}"))


if __name__ == "__main__":
    main()
