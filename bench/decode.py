"""Decode speed in one run (ratios, not absolute times): raw decoding against what vidsift does
with the frames, and each video back-end against PyAV.

    python -m bench.decode [--file PATH ...] [--hd SECONDS] [--repeats 3] [--random 60] [--backends]

Per file, ratios to ``raw decode`` (PyAV decoding every frame, no conversion, the decoder's
limit):

* scan           what ``vidsift scan`` does per file: shot detection on the luma plane, which
                 also records the timeline (``video.shots.detect_shots`` on a fresh reader)
* scan, RGB      the same signal from RGB 72x128 frames (``iter_frames``), as before 0.2: the
                 "before" column of docs/perf_decoding.md
* embed --every 1  the extraction reader (``embedder.reader.read_video``) at the pixels
                 embedder's 16x16, every frame, timeline known (as after a scan)
* embed --every 1 + thumbnails  the same with a JPEG thumbnail per frame, as ``vidsift embed``
                 does by default for frame embedders
* embed --fps 1  the same, one frame a second (the read plan decodes forward or seeks)

``--hd S`` adds a generated 1280x720 H.264 file of S seconds with a realistic GOP (250, x264
ultrafast: ``bench.sparse.make_hd``). ``--backends`` adds the old table: sequential / 128x128 /
random access per back-end and its ratio to PyAV.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import av
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


def raw_decode(path: Path) -> int:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"  # as the PyAV back-end decodes
        return sum(1 for _ in c.decode(s))


def scan_luma(path: Path) -> None:
    from vidsift.video.shots import detect_shots

    with open_video(path) as r:
        detect_shots(r)
        _ = r.timeline


def scan_rgb(path: Path) -> None:
    """The RGB signal the scan used before the luma path (kept here as the baseline)."""
    from vidsift.video.shots import SIZE, boundaries_from_differences

    with open_video(path) as r:
        diffs: list[float] = []
        prev = None
        for _, frames in r.iter_frames(size=SIZE, batch=32):
            f = frames.astype(np.float32)
            if prev is not None:
                diffs.append(float(np.abs(f[0] - prev).mean()))
            if len(f) > 1:
                diffs.extend(np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3)).tolist())
            prev = f[-1]
        boundaries_from_differences(np.asarray(diffs))
        _ = r.timeline


def embed_read(path: Path, timeline, fps: float | None, thumbnails: bool = False) -> None:
    from vidsift.embedder.reader import VideoTask, read_video

    with tempfile.TemporaryDirectory(prefix="vidsift-thumbs-") as tmp:
        task = VideoTask(video_id="v", path=str(path), size=(16, 16), fps=fps, timeline=timeline,
                         thumbnails_dir=tmp if thumbnails else None)
        for _ in read_video(task):
            pass


def pipeline(path: Path, repeats: int) -> list[dict]:
    n = raw_decode(path)
    with open_video(path) as r:
        timeline = r.timeline
    with open_video(path, timeline=timeline) as r:
        n_fps1 = len(r.sample_indices(fps=1.0))
    rows = [
        {"pattern": "raw decode", "frames": n, "seconds": _time(lambda: raw_decode(path), repeats)},
        {"pattern": "scan (luma)", "frames": n, "seconds": _time(lambda: scan_luma(path), repeats)},
        {"pattern": "scan, RGB (before)", "frames": n, "seconds": _time(lambda: scan_rgb(path), repeats)},
        {"pattern": "embed --every 1 16x16", "frames": n, "seconds": _time(lambda: embed_read(path, timeline, None), repeats)},
        {"pattern": "embed --every 1 16x16 + thumbnails", "frames": n,
         "seconds": _time(lambda: embed_read(path, timeline, None, thumbnails=True), repeats)},
        {"pattern": "embed --fps 1 16x16", "frames": n_fps1, "seconds": _time(lambda: embed_read(path, timeline, 1.0), repeats)},
    ]
    raw = rows[0]["seconds"]
    for row in rows:
        row["vs_raw"] = raw / row["seconds"]  # speed relative to decoding every frame
    return rows


def backends(path: Path, repeats: int = 3, n_random: int = 60, seed: int = 0) -> list[dict]:
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
    ap.add_argument("--file", type=Path, action="append", default=None,
                    help="video to decode (repeatable; default: bikes.mp4 and cityCC0.mpg)")
    ap.add_argument("--hd", type=int, default=0, metavar="SECONDS",
                    help="add a generated 1280x720 H.264 file (GOP 250) of this many seconds")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--random", type=int, default=60)
    ap.add_argument("--backends", action="store_true", help="also compare the back-ends (old table)")
    a = ap.parse_args()
    shipped = real_footage()
    paths = a.file or [p for k, p in shipped.items() if k in ("bikes.mp4", "cityCC0.mpg")]
    with tempfile.TemporaryDirectory(prefix="vidsift-decode-") as tmp:
        if a.hd:
            from bench.sparse import make_hd

            paths = [*paths, make_hd(Path(tmp) / f"hd720_gop250_{a.hd}s.mp4", seconds=a.hd)]
        print(f"median of {a.repeats} runs; vs raw = speed / speed of raw decoding (1.0 = the decoder's limit)")
        print(f"{'file':24s} {'pattern':24s} {'frames':>6s} {'seconds':>8s} {'vs raw':>7s}")
        for path in paths:
            for r in pipeline(path, a.repeats):
                print(f"{path.name:24s} {r['pattern']:24s} {r['frames']:6d} {r['seconds']:8.3f} {r['vs_raw']:7.2f}")
        if a.backends:
            for path in paths:
                print(f"\nfile: {path.name}")
                print(f"{'backend':8s} {'pattern':22s} {'frames/s':>9s} {'vs pyav':>8s}")
                for r in backends(path, a.repeats, a.random):
                    print(f"{r['backend']:8s} {r['pattern']:22s} {r['fps']:9.1f} {r['vs_pyav']:8.2f}")


if __name__ == "__main__":
    main()
