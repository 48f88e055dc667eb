"""Does the tiny C3D Siamese (Paul et al. 2018) beat its random init at video retrieval once the
per-video appearance shortcut is gone?

Trains the evidence network of ``tests/training/test_c3d.py`` (C3D width 0.125, f in R^64,
head 128 -> 32 -> 1, no dropout, Adam, batch 10, one thread) on mined pairs of moving-shape
videos and evaluates it and its random init (the same weights before training) on held-out
videos (``index0=100``):

* pair accuracy on 200 balanced mined pairs (chance 0.5);
* retrieval@1: nearest other video by cosine of the mean ``fc6`` / ``fc7`` feature of 10 random
  volumes (``video_embedding``), scored on the shape x motion class, on shape only and on motion
  only.

Videos: ``video.synthetic.shape_videos`` (shape and path fixed per video; background
texture, shape colour and gain redrawn every ``--segment`` frames), or with ``--orig``
``video.synthetic.shape_frame_videos`` (background and colour fixed per video), or with ``--drift``
``video.synthetic.drift_videos`` (grey camera pans whose only class cue is the direction
of motion; retrieval is then scored on that direction).

    python -m bench.c3d_nuisance --seeds 0 1 2                 # within-video nuisance, test config
    python -m bench.c3d_nuisance --orig                        # the test's videos
    python -m bench.c3d_nuisance --long --seeds 0 1            # 24x24 crops, 600 steps, 10/class
    python -m bench.c3d_nuisance --long --background black --no-recolor --gain 0   # no nuisance
    python -m bench.c3d_nuisance --drift --seeds 0 1 2 3 4 5    # the retrieval evidence test
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidsift.reproduce.recipes import (  # noqa: E402
    MOTION_RUN,
    nearest_videos,
    pair_accuracy,
    tiny_config,
    train_steps,
)
from vidsift.training.data.source import ArrayFrameSource  # noqa: E402
from vidsift.training.methods.c3d_siamese import C3DSiameseMethod  # noqa: E402
from vidsift.video.synthetic import (  # noqa: E402
    drift_videos,
    shape_frame_videos,
    shape_videos,
)

FRAMES = 24
KEYS = {
    "shape-motion": lambda label: label,
    "shape": lambda label: label.split("-", 1)[0],
    "motion": lambda label: label.split("-", 1)[1],
}


def _videos(args: argparse.Namespace, seed: int, index0: int, per_class: int):
    frame = (args.frame, args.frame)
    if args.drift:
        arrays, labels = drift_videos(
            per_class,
            args.frames,
            frame,
            seed=seed,
            index0=index0,
            speed=args.speed,
            blur=args.blur,
        )
    elif args.orig:
        arrays, labels = shape_frame_videos(per_class, args.frames, frame, seed=seed, index0=index0)
    else:
        arrays, labels = shape_videos(
            per_class,
            args.frames,
            frame,
            seed=seed,
            index0=index0,
            segment=args.segment,
            gain=args.gain,
            background=args.background,
            recolor=not args.no_recolor,
        )
    return ArrayFrameSource(arrays), labels


def retrieval(model, src, labels, layer: str, frame: int, keys=KEYS) -> dict[str, float]:
    """Retrieval@1 by cosine of mean ``layer`` features of 10 volumes, per label granularity."""
    nearest = nearest_videos(model, src, 10, seed=1, layer=layer, frame_size=(frame, frame))
    pairs = list(zip(src.video_ids, nearest, strict=True))
    return {
        name: float(np.mean([key(labels[v]) == key(labels[n]) for v, n in pairs]))
        for name, key in keys.items()
    }


def run(args: argparse.Namespace, seed: int) -> str:
    t0 = time.time()
    method = C3DSiameseMethod()
    cfg = tiny_config(
        steps=args.steps,
        input_size=(args.crop, args.crop),
        frame_size=(args.frame, args.frame),
        lr=args.lr,
        weight_decay=args.weight_decay,
        batch_size=args.batch,
        pos_ratio=args.pos_ratio,
        seed=seed,
    )
    train_src, _ = _videos(args, seed, 0, args.train_per_class)
    test_src, labels = _videos(args, seed, 100, args.test_per_class)
    torch.manual_seed(seed)
    model = method.build_model(cfg)
    init = copy.deepcopy(model)
    train_steps(method, model, cfg, train_src)
    frame, volume = (args.frame, args.frame), (cfg.clip_len, *cfg.input_size)
    keys = {"drift": KEYS["shape-motion"]} if args.drift else KEYS
    acc, acc0 = (pair_accuracy(m, test_src, frame, volume) for m in (model, init))
    n = len(labels)
    parts = [f"seed {seed}: pair acc {acc:.3f} (init {acc0:.3f})"]
    for layer in ("fc6", "fc7"):
        ours, base = (
            retrieval(m, test_src, labels, layer, args.frame, keys) for m in (model, init)
        )
        parts.append(layer + " " + ", ".join(f"{k} {ours[k]:.3f}/{base[k]:.3f}" for k in ours))
    chance = (args.test_per_class - 1) / (n - 1)
    parts.append(f"[{time.time() - t0:.0f} s; retrieval trained/init; class chance {chance:.3f}]")
    return " | ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--orig", action="store_true", help="video.synthetic.shape_frame_videos videos")
    ap.add_argument(
        "--drift",
        action="store_true",
        help="drift_videos (motion-only classes) with the evidence test's run: 1000 steps of 20 "
        "pairs, lr 1e-3, no weight decay, 8 training and 6 test videos per class, 32 frames",
    )
    ap.add_argument(
        "--long",
        action="store_true",
        help="24x24 whole-frame volumes, 600 steps, lr 1e-3, 50%% positives, 10 videos/class",
    )
    ap.add_argument("--steps", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--speed", type=float, default=1.5, help="drift_videos: pixels per frame")
    ap.add_argument("--blur", type=float, default=1.5, help="drift_videos: texture smoothing")
    ap.add_argument("--weight-decay", type=float)
    ap.add_argument("--segment", type=int, default=4)
    ap.add_argument("--gain", type=float, default=0.3)
    ap.add_argument("--background", choices=("texture", "black"), default="texture")
    ap.add_argument("--no-recolor", action="store_true")
    ap.add_argument("--test-per-class", type=int)
    args = ap.parse_args(argv)
    common = dict(weight_decay=5e-4, test_per_class=2, frames=FRAMES, batch=10)
    if args.drift:
        preset = dict(
            steps=MOTION_RUN["steps"],
            batch=MOTION_RUN["batch_size"],
            lr=MOTION_RUN["lr"],
            frame=24,
            crop=16,
            pos_ratio=0.3,
            train_per_class=8,
            weight_decay=MOTION_RUN["weight_decay"],
            test_per_class=6,
            frames=32,
        )
    elif args.long:
        preset = dict(
            common, steps=600, lr=1e-3, frame=24, crop=24, pos_ratio=0.5, train_per_class=10
        )
    else:
        preset = dict(
            common, steps=150, lr=3e-3, frame=24, crop=16, pos_ratio=0.3, train_per_class=3
        )
    for key, value in preset.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    torch.set_num_threads(1)
    kind = "drift_videos" if args.drift else "shape_frames" if args.orig else "shape_videos"
    print(f"{kind}: {vars(args)}", flush=True)
    for seed in args.seeds:
        print(run(args, seed), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
