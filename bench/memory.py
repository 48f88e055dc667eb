"""Peak memory of `vidsift embed` on long videos: it must stay flat (frames are streamed).

    python -m bench.memory [--minutes 1 10] [--size 120x160]

Writes a video of each length (25 fps, generated), embeds it with `pixels` in a fresh process and
prints the peak resident set size of the largest process (``ru_maxrss`` of the children, i.e. the
main process or one decoding worker, whichever is larger).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WRAP = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def long_video(path: Path, frames: int, size: tuple[int, int], fps: float = 25.0) -> Path:
    """A moving texture, written in chunks so the generator itself stays small."""
    import av

    h, w = size
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(h, 2 * w, 3), dtype=np.uint8)
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=int(fps))
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": "23", "g": "50"}
        for i in range(frames):
            x = i % w
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(base[:, x : x + w]), format="rgb24")
            for packet in s.encode(frame):
                out.mux(packet)
        for packet in s.encode():
            out.mux(packet)
    return path


def peak_rss_mb(cmd: list[str]) -> float:
    out = subprocess.run([sys.executable, "-c", WRAP, *cmd], check=True, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, nargs="+", default=[1, 10])
    ap.add_argument("--size", default="120x160")
    a = ap.parse_args()
    h, w = (int(v) for v in a.size.split("x"))
    print(f"{'video':>10s} {'frames':>7s} {'peak RSS MB':>12s} {'embed s':>8s}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in a.minutes:
            folder = Path(tmp) / f"v{minutes:g}"
            folder.mkdir()
            n = int(minutes * 60 * 25)
            long_video(folder / "long.mp4", n, (h, w))
            t = time.perf_counter()
            rss = peak_rss_mb([sys.executable, "-m", "vidsift", "embed", str(folder), "--embedder", "pixels",
                               "--no-thumbnails", "-w", str(Path(tmp) / f"ws{minutes:g}")])
            print(f"{minutes:>8g} m {n:7d} {rss:12.1f} {time.perf_counter() - t:8.1f}")


if __name__ == "__main__":
    main()
