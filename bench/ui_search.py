"""Search latency as the page sees it: from a query to the result rows, on a 100k-frame index.

A temporary workspace gets a synthetic embedding store (``--videos`` x ``--frames`` seeded unit
vectors of ``--dim``, clustered so neighbours are meaningful, written with
``embedder.store.write_shard`` + ``write_manifest``) and its index
(``index.workspace.build_workspace_index``, kind chosen by size unless ``--kind``). Then, for
``--queries`` random indexed frames, it times the call the Search page makes for each rerun:

* ``frame``: ``vidsift.ui_support.search`` -> ``index.workspace.search_workspace(video, frame,
  k)`` with the index already loaded (the page's ``st.cache_resource`` and the library's own cache);
* ``frame + window``: the same with ``exclude_window=10`` (over-fetch and filter);
* ``frame + other videos``: ``exclude_same_video=True`` (over-fetches the video's frames);
* ``frame, 1 video filter``: the page's "Only these videos" filter (repeated over-fetch);
* ``vector``: a raw vector query (no frame lookup);
* ``raw faiss (floor)``: ``faiss.Index.search`` on the same index, what any caller pays.

It prints p50 / p95 / max in milliseconds, the p50 ratio to raw FAISS (stable on a busy machine,
unlike the absolute times) and the one-off cold load of the index. Example::

    python -m bench.ui_search                       # 100k x 256, 200 queries
    python -m bench.ui_search --dim 4096 --queries 100
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidsift.embedder.store import write_manifest, write_shard  # noqa: E402
from vidsift.services import search as searching
from vidsift.services.indexes import build_workspace_index, clear_cache, load_workspace_index  # noqa: E402
from vidsift.workspace import Workspace  # noqa: E402

NAME = "synthetic"


def make_store(ws: Workspace, videos: int, frames: int, dim: int, seed: int = 0) -> None:
    """Clustered unit vectors: each shot of 50 frames drifts around one of 200 centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, dim)).astype(np.float32)
    store = ws.embeddings(NAME)
    write_manifest(store, {"name": NAME, "kind": "synthetic", "dim": dim, "unit": "frame",
                           "input_size": [16, 16], "layer": None, "checkpoint_hash": None, "preprocessing": ""})
    for v in range(videos):
        frame = np.arange(frames)
        shot = frame // 50
        centre = centres[rng.integers(0, len(centres), size=shot.max() + 1)][shot]
        x = centre + 0.3 * rng.standard_normal((frames, dim)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        vid = f"video{v:04d}"
        meta = pd.DataFrame({"video_id": vid, "path": f"/videos/{vid}.mp4", "frame": frame,
                             "time": frame / 25.0, "shot": shot, "label": None})
        write_shard(store, vid, meta, x)


def percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)), "max_ms": float(a.max())}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=100)
    ap.add_argument("--frames", type=int, default=1000, help="frames per video")
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("-k", type=int, default=12, help="results per query (the page's default)")
    ap.add_argument("--kind", default="auto", help="index kind: auto | flat | ivf | ivfpq | hnsw")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vidsift-ui-bench-") as tmp:
        ws = Workspace.at(tmp)
        t0 = time.perf_counter()
        make_store(ws, args.videos, args.frames, args.dim, args.seed)
        t_store = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = build_workspace_index(ws, NAME, kind=args.kind, use_gpu=False)
        t_build = time.perf_counter() - t0
        clear_cache()
        t0 = time.perf_counter()
        vi = load_workspace_index(ws, NAME, use_gpu=False)
        t_load = time.perf_counter() - t0
        print(f"index: {summary['kind']} ({summary['metric']}), {summary['vectors']} vectors x {summary['dim']}, "
              f"{summary['videos']} videos; store written in {t_store:.1f} s, index built in {t_build:.1f} s, "
              f"cold load {t_load * 1000:.0f} ms")

        rng = np.random.default_rng(args.seed + 1)
        videos = [f"video{v:04d}" for v in range(args.videos)]
        qs = [(videos[rng.integers(len(videos))], int(rng.integers(args.frames))) for _ in range(args.queries)]
        cases = {
            "frame": lambda v, f: searching.search(ws, NAME, k=args.k, video=v, frame=f),
            "frame + window 10": lambda v, f: searching.search(ws, NAME, k=args.k, video=v, frame=f, exclude_window=10),
            "frame + other videos": lambda v, f: searching.search(ws, NAME, k=args.k, video=v, frame=f, exclude_same_video=True),
            "frame, 1 video filter": lambda v, f: searching.search(ws, NAME, k=args.k, video=v, frame=f,
                                                          videos=[videos[(videos.index(v) + 1) % len(videos)]]),
            "vector": lambda v, f: searching.search(ws, NAME, k=args.k, vector=vi.vector_of(v, f)),
            "raw faiss (floor)": lambda v, f: vi.index.search(vi.vector_of(v, f)[None], args.k)[1][0],
        }
        for fn in cases.values():
            fn(*qs[0])  # warm: the index is cached, as on the page after the first rerun
        # round-robin over the cases so that a busy machine slows them all alike
        ms: dict[str, list[float]] = {name: [] for name in cases}
        for v, f in qs:
            for name, fn in cases.items():
                t0 = time.perf_counter()
                hits = fn(v, f)
                ms[name].append((time.perf_counter() - t0) * 1000)
                assert len(hits) == args.k, (name, len(hits))
        rows = [{"query": name, **percentiles(t)} for name, t in ms.items()]
        df = pd.DataFrame(rows)
        df["p50 vs raw"] = df["p50_ms"] / df.loc[df["query"] == "raw faiss (floor)", "p50_ms"].iat[0]
        print(f"{args.queries} queries, k={args.k} (milliseconds from query to result rows):")
        print(df.to_string(index=False, float_format=lambda x: f"{x:8.2f}"))


if __name__ == "__main__":
    main()
