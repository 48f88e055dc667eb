"""Benchmark ``vidsift duplicates``: precision and recall of near-duplicate pairs on generated
variants (re-encode, crop, 2x / 0.5x speed, 15 fps, trim) of a few source clips, unrelated clips
and a clip that repeats itself; the run time of the search, and of the search at scale.

The set is written by ``video.synthetic.variants.make_duplicate_variants`` and embedded with each
embedder (``pixels``, and ``zca`` fitted on the set); ``vidsift.services.duplicates.find_duplicates``
then runs at each threshold. A reported pair is correct when both videos show the same source
footage and its two ranges overlap the truth's shared ranges; recall counts the true pairs of
videos found (pairs whose speeds differ more than the search's 0.5x..2x range, fast vs slow, are
left out of the truth). The scale section times the search on a seeded store of ``--scale``
frames shaped like video (AR(1) walks, 768-D) with planted 4 s copies. Example::

    python -m bench.duplicates
    python -m bench.duplicates --embedders pixels --thresholds 0.2,0.35,0.5 --scale 0
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidsift.discovery.duplicates import (  # noqa: E402
    DEFAULT_MAX_SPEED,
    DEFAULT_MIN_SECONDS,
    DEFAULT_THRESHOLD,
    find_duplicates,
)
from vidsift.embedder.extract import extract  # noqa: E402
from vidsift.services.duplicates import find_duplicates as find_in_workspace  # noqa: E402
from vidsift.video.synthetic.variants import make_duplicate_variants, score_pairs  # noqa: E402

SOURCES = ("astronaut", "coffee", "chelsea")
UNRELATED = ("rocket", "coins", "horse", "grass")


def run_set(
    out: Path, embedders: list[str], thresholds: list[float], min_seconds: float
) -> list[dict]:
    folder, ws = out / "set", out / "ws"
    videos = make_duplicate_variants(
        folder, sources=SOURCES, unrelated=UNRELATED, repeat="camera", seconds=4.0, size=(64, 64)
    )
    truth = json.loads((folder / "ground_truth.json").read_text())
    print(f"{len(videos)} videos ({sum(v.num_frames for v in videos)} frames) in {folder}")
    rows = []
    for emb in embedders:
        extract(ws, folder, emb, progress=False, workers=0, thumbnails=False)
        for thr in thresholds:
            t0 = time.perf_counter()
            res = find_in_workspace(ws, emb, threshold=thr, min_seconds=min_seconds)
            dt = time.perf_counter() - t0
            r = score_pairs(res["pairs"], truth, folder, min_seconds, max_speed=DEFAULT_MAX_SPEED)
            rows.append({"embedder": emb, "threshold": thr, "seconds": dt, **r})
    return rows


def run_scale(frames: int, videos: int, dim: int, seed: int = 0) -> dict:
    """The search on a seeded store shaped like video: ``videos`` videos of AR(1) walks (step
    correlation 0.98, so frames 2 s apart are unrelated, as in footage; a plain random walk would
    keep resembling itself), every tenth video starting with a 4 s copy of the one before
    (so there is something to find), 25 fps. Returns the time and the pairs found."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    per = frames // videos
    noise = rng.normal(size=(videos, per, dim)).astype(np.float32)
    walks = lfilter([1.0], [1.0, -0.98], noise, axis=1).astype(np.float32)
    planted = 0
    for v in range(0, videos - 1, 10):  # video v+1 starts with 4 s of video v
        walks[v + 1, :100] = walks[v, 50:150] + rng.normal(scale=0.05, size=(100, dim))
        planted += 1
    vectors = walks.reshape(-1, dim)
    ids = np.repeat([f"v{v:05d}" for v in range(videos)], per)
    times = np.tile(np.arange(per) / 25.0, videos)
    t0 = time.perf_counter()
    pairs = find_duplicates(vectors, ids, times)
    dt = time.perf_counter() - t0
    found = sum(
        1
        for p in pairs
        if p.kind == "videos"
        and int(p.b.video_id[1:]) == int(p.a.video_id[1:]) + 1
        and int(p.a.video_id[1:]) % 10 == 0
        and p.a.first_frame < 150
        and p.b.first_frame < 100
    )
    return {
        "frames": len(vectors),
        "videos": videos,
        "dim": dim,
        "seconds": dt,
        "pairs": len(pairs),
        "planted": planted,
        "planted_found": found,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedders", default="pixels,zca")
    ap.add_argument("--thresholds", default=f"0.2,0.3,{DEFAULT_THRESHOLD},0.45,0.6")
    ap.add_argument("--min-seconds", type=float, default=DEFAULT_MIN_SECONDS)
    ap.add_argument(
        "--scale", type=int, default=20_000, help="frames of the timing-only store (0: skip)"
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="folder for the set (default: a temporary one)"
    )
    args = ap.parse_args(argv)
    embedders = [e.strip() for e in args.embedders.split(",") if e.strip()]
    thresholds = [float(t) for t in args.thresholds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        rows = run_set(out, embedders, thresholds, args.min_seconds)
    print(f"\nmin_seconds {args.min_seconds:g}, max speed ratio {DEFAULT_MAX_SPEED:g}")
    print(
        "| embedder | threshold | pairs reported | correct | true pairs | found | precision | recall | time (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['embedder']} | {r['threshold']:g} | {r['predicted']} | {r['correct']} | {r['true']} | "
            f"{r['found']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['seconds']:.2f} |"
        )
    for r in rows:
        if r["threshold"] == DEFAULT_THRESHOLD:
            print(
                f"\n{r['embedder']} at {r['threshold']:g}: missed {r['missed'] or 'none'}; false {r['false'] or 'none'}"
            )
    if args.scale:
        s = run_scale(args.scale, max(2, args.scale // 1000), 768)
        print(
            f"\nscale: {s['frames']} frames in {s['videos']} videos, dim {s['dim']}: {s['seconds']:.1f} s, "
            f"{s['pairs']} pairs, {s['planted_found']} of {s['planted']} planted copies"
        )


if __name__ == "__main__":
    main()
