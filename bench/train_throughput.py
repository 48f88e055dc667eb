"""Training throughput: how much does real decoding cost the training step?

For each method, three measurements of samples (pairs / tuples) per second:

* ``video``    — ``train()`` on ``VideoFrameSource`` over generated mp4 files: DataLoader workers
                 decode, sample and preprocess while the main process trains;
* ``memory``   — ``train()`` on ``ArrayFrameSource`` holding the same frames (no decoding);
* ``prebuilt`` — the bare step (forward, loss, backward, optimiser) on one batch already on the
                 device: the upper bound.

The first half of the steps is warm-up (worker start, cuDNN autotune); rates come from the
second half (one ``log.jsonl`` window). The overhead of the data pipeline is
``time/step(video) / time/step(prebuilt) - 1``; the goal is under 10 %, reached when enough
workers decode ahead of the model.

    python bench/train_throughput.py --quick
    python bench/train_throughput.py --preset paper --methods siamese quadruplet --workers 8
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from vidsift.training.data.source import ArrayFrameSource, VideoFrameSource
from vidsift.training.registry import get_method
from vidsift.training.trainer import train
from vidsift.video.synthetic import grating_videos
from vidsift.workspace import RunDir, read_log

METHODS = ("slow-ae", "siamese", "quadruplet", "drlim", "triplet")


def write_videos(out: Path, size: int, frames: int, n: int) -> dict[str, np.ndarray]:
    """``n`` scene videos written as mp4 (``video.writer.write_video``, else PyAV directly);
    returns the decoded frames of each (what ``memory`` trains on)."""
    arrays, _ = grating_videos(n_scenes=n, videos_per_scene=1, frames=frames, size=size, seed=0)
    try:
        from vidsift.video.writer import write_video
    except ImportError:  # pragma: no cover - video/ is part of the package
        write_video = _write_pyav
    decoded = {}
    for vid, a in arrays.items():
        path = out / f"{vid}.mp4"
        write_video(path, a, fps=25)
        decoded[vid] = path
    return decoded


def _write_pyav(path: Path, frames: np.ndarray, fps: int = 25) -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def rate_of(run_dir: Path) -> float:
    return float(read_log(RunDir(run_dir).log)[-1]["samples_per_s"])


def prebuilt_rate(method, cfg, batch: dict, device: torch.device, steps: int) -> float:
    torch.manual_seed(cfg.seed)
    model = method.build_model(cfg).to(device)
    loss_fn = method.build_loss(cfg).to(device)
    opt = method.build_optimizer(model, cfg)
    batch = {k: v.to(device) for k, v in batch.items()}
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else nullcontext
    warm = max(1, steps // 2)
    t0 = 0.0
    for i in range(steps):
        if i == warm:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        method.begin_step(model, loss_fn, i, cfg)
        with amp():
            loss, _ = method.step(model, loss_fn, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        method.after_step(model, i, cfg)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (steps - warm) * cfg.batch_size / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="cpu", choices=("cpu", "paper"))
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--steps", type=int, default=40, help="steps per measurement (half warm-up)")
    ap.add_argument("--quick", action="store_true", help="10 steps, small batches: a smoke run")
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: preset's)")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--video-size", type=int, default=None, help="side of the generated videos")
    ap.add_argument("--threads", type=int, default=None, help="torch threads of the main process")
    args = ap.parse_args(argv)
    steps = 10 if args.quick else args.steps
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    size = args.video_size or (256 if args.preset == "paper" else 96)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"cpu x{torch.get_num_threads()} threads"
    print(f"device: {name}; preset {args.preset}; {steps} steps (half warm-up); videos {size}x{size}")
    print(f"{'method':12s} {'batch':>5s} {'workers':>7s} {'video/s':>9s} {'memory/s':>9s} "
          f"{'prebuilt/s':>10s} {'overhead':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = write_videos(tmp, size, frames=60, n=4)
        video_src = VideoFrameSource(list(paths.items()))
        from vidsift.video import open_video

        arrays = {}
        for vid, p in paths.items():  # the very frames the video source decodes
            with open_video(p) as r:
                arrays[vid] = np.concatenate([f for _, f in r.iter_frames()])
        mem_src = ArrayFrameSource(arrays)
        for mname in args.methods:
            m = get_method(mname)
            over = {"steps": steps, "log_every": max(1, steps // 2), "checkpoint_every": 10**9}
            if args.workers is not None:
                over["num_workers"] = args.workers
            if args.batch_size:
                over["batch_size"] = args.batch_size
            elif args.quick:
                over["batch_size"] = 8
            if mname == "triplet" and args.preset == "cpu":
                over["frame_size"] = (size, size)
            cfg = m.config(args.preset, **over)
            train(cfg, video_src, tmp / f"{mname}-video", progress=False, overwrite=True)
            train(cfg, mem_src, tmp / f"{mname}-memory", progress=False, overwrite=True)
            v, mm = rate_of(tmp / f"{mname}-video"), rate_of(tmp / f"{mname}-memory")
            batch = m.build_dataset(cfg, mem_src).batch(0)
            pre = prebuilt_rate(m, cfg, batch, device, steps)
            overhead = pre / v - 1.0
            print(f"{mname:12s} {cfg.batch_size:5d} {cfg.num_workers:7d} {v:9.1f} {mm:9.1f} "
                  f"{pre:10.1f} {overhead:8.1%}")


if __name__ == "__main__":
    main()
