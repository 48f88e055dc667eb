"""Decode speed of each video back-end on the same file, in one run (ratios, not absolute times).

    python -m bench.decode [--file PATH] [--repeats 3] [--random 60]

Prints frames/s for sequential decoding (full size and resized to 128x128) and for random access
(sorted batch of N random frames), per back-end, and the ratio of each to PyAV.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from vidsift.video import open_video
from vidsift.video.backends import BACKENDS
from vidsift.video.real import real_footage


def _time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(path: Path, repeats: int = 3, n_random: int = 60, seed: int = 0) -> list[dict]:
    rows = []
    with open_video(path) as r:
        n = r.info.num_frames
    rand = np.random.default_rng(seed).choice(n, size=min(n_random, n), replace=False)
    for name in sorted(BACKENDS):
        def seq(size=None, name=name):
            with open_video(path, name) as r:
                for _ in r.iter_frames(size=size):
                    pass

        def rnd(name=name):
            with open_video(path, name) as r:
                r.get_frames(rand, size=(128, 128))

        rows.append({"backend": name, "pattern": "sequential", "fps": n / _time(seq, repeats)})
        rows.append({"backend": name, "pattern": "sequential 128x128", "fps": n / _time(lambda: seq((128, 128)), repeats)})
        rows.append({"backend": name, "pattern": f"random {len(rand)} (sorted)", "fps": len(rand) / _time(rnd, repeats)})
    ref = {r["pattern"]: r["fps"] for r in rows if r["backend"] == "pyav"}
    for r in rows:
        r["vs_pyav"] = r["fps"] / ref[r["pattern"]] if r["pattern"] in ref else float("nan")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=None, help="video to decode (default: bikes.mp4)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--random", type=int, default=60)
    a = ap.parse_args()
    path = a.file or real_footage()["bikes.mp4"]
    rows = run(path, a.repeats, a.random)
    print(f"file: {path.name}   (median of {a.repeats} runs)")
    print(f"{'backend':8s} {'pattern':22s} {'frames/s':>9s} {'vs pyav':>8s}")
    for r in rows:
        print(f"{r['backend']:8s} {r['pattern']:22s} {r['fps']:9.1f} {r['vs_pyav']:8.2f}")


if __name__ == "__main__":
    main()
