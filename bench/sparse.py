"""Sparse sampling: ``--fps 1``, ``--fps 0.2`` and ``--keyframes`` against decoding every frame.

    python -m bench.sparse                 # generated 720p H.264 (60 s, 30 fps, GOP 250) + shipped footage
    python -m bench.sparse --seconds 20    # shorter generated video
    python -m bench.sparse --file clip.mp4

Each row reads the file through ``video.VideoReader`` with its timeline known (as ``vidsift
embed`` does after ``vidsift scan``), at the 128x128 input size, and prints wall time, sampled
frames/s and the speed-up over decoding every frame, all measured in this one run. "sequential"
forces the decode-forward-and-drop plan (no seeks) so the planned choice can be compared with it.
The last lines measure what a seek costs in frames decoded (``video.reader.SEEK_COST``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np

import vidsift.video.reader as reader_mod
from vidsift.video import open_video
from vidsift.video.real import real_footage

SIZE = (128, 128)


def make_hd(path: Path, seconds: int = 60, fps: int = 30, gop: int = 250) -> Path:
    """A 1280x720 H.264 video with a realistic GOP: a textured pan with noise (x264 ultrafast)."""
    rng = np.random.default_rng(0)
    tex = rng.integers(0, 255, (720 + 64, 1280 + 256, 3), dtype=np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 1280, 720, "yuv420p"
        s.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "preset": "ultrafast", "crf": "28"}
        for i in range(seconds * fps):
            x, y = (3 * i) % 256, (i // 4) % 64
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(tex[y : y + 720, x : x + 1280]), format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _time(fn, repeats: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), n


def run(path: Path, repeats: int = 3) -> list[dict]:
    with open_video(path) as r:
        timeline = r.timeline  # measured once, as the scan does

    def read(**kw) -> int:
        with open_video(path, timeline=timeline) as r:
            return sum(len(i) for i, _ in r.iter_frames(size=SIZE, batch=64, **kw))

    def sequential(**kw) -> int:
        old = reader_mod.SEEK_COST
        reader_mod.SEEK_COST = 10**12  # never seek: decode forward and drop
        try:
            return read(**kw)
        finally:
            reader_mod.SEEK_COST = old

    cases = [("every frame", read, {}), ("--fps 1", read, {"fps": 1.0}), ("--fps 1 sequential", sequential, {"fps": 1.0}),
             ("--fps 0.2", read, {"fps": 0.2}), ("--fps 0.2 sequential", sequential, {"fps": 0.2}),
             ("--keyframes", read, {"keyframes": True})]
    rows = []
    for name, fn, kw in cases:
        seconds, n = _time(lambda fn=fn, kw=kw: fn(**kw), repeats)
        rows.append({"file": path.name, "case": name, "frames": n, "seconds": seconds, "frames_per_s": n / seconds})
    base = rows[0]["seconds"]
    for row in rows:
        row["speedup"] = base / row["seconds"]
    return rows


def seek_cost(path: Path, probes: int = 12) -> float:
    """Seconds of one seek-and-decode of a keyframe, in units of one sequentially decoded frame."""
    with open_video(path) as r:
        tl = r.timeline
        t = time.perf_counter()
        for _ in r._from_start(lambda i, t: False, r._rgb(None)):
            pass
        per_frame = (time.perf_counter() - t) / tl.num_frames
        keys = tl.keyframes[1:][:probes]
        if not len(keys):
            return float("nan")
        t = time.perf_counter()
        for k in keys:
            for _ in r._run(int(k), [int(k)], None):
                pass
        per_seek = (time.perf_counter() - t) / len(keys)
    return per_seek / per_frame - 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, action="append", default=None, help="video(s) to read")
    ap.add_argument("--seconds", type=int, default=60, help="length of the generated 720p video")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = args.file
        if not files:
            t = time.perf_counter()
            files = [make_hd(Path(tmp) / "hd720_gop250.mp4", args.seconds)]
            print(f"generated {files[0].name} ({args.seconds} s, 1280x720, 30 fps, GOP 250) in {time.perf_counter() - t:.1f}s")
            real = real_footage()
            files += [real[n] for n in ("bikes.mp4", "bigbuckbunny.mp4") if n in real]
        print(f"{'file':22s} {'case':22s} {'frames':>7s} {'seconds':>8s} {'frames/s':>9s} {'speed-up':>9s}")
        for f in files:
            for row in run(Path(f), args.repeats):
                print(f"{row['file'][:22]:22s} {row['case']:22s} {row['frames']:7d} {row['seconds']:8.3f} "
                      f"{row['frames_per_s']:9.1f} {row['speedup']:8.1f}x")
        for f in files:
            print(f"seek cost in {Path(f).name}: {seek_cost(Path(f)):.1f} frames decoded (SEEK_COST = {reader_mod.SEEK_COST})")


if __name__ == "__main__":
    main()
