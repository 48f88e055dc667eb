"""The UL-layers paper's synthetic experiment (section 4.1, Fig. 2): 28 random 2-D points rotating
about their centroid, 5 degrees a frame; one fully connected layer 56 -> 2 followed by a UL layer,
trained online (one frame per SGD step) with the paper's settings: lr 0.01, momentum 0.9, weight
decay 0.1, mu 0.5, eps 0.001.

The sequence has ``2 * --frames`` frames: the network is trained on the first half only; sin and
cos of the angle are decoded from the 2-D output by linear regression fitted on the first half and
tested on the second (mean absolute error; predicting 0 gives about 0.64).

Tables:

1. error per epoch (train half / test half) and the largest principal angle between the FC
   weights and the top-2 principal directions of the clean sequence, for ``--noise-curve``;
2. test error after ``--epochs`` epochs vs noise 0-40 % (noise std as a fraction of the cloud's
   RMS spread, ``video.synthetic.rotating_points``), beside the random-init network (same seed),
   PCA to 2-D (fitted on the training half) and the closed-form solution (Eq. 5; chain graph plus
   5 nearest neighbours, on all frames -- it is transductive).

Note: with noise 0 every full-rank linear map of the frames is an affine function of (cos, sin),
so *any* network decodes the angle perfectly; the weight angle is the informative column there.

    python -m bench.ul_rotation            # 10 epochs, noise 0..40 %
    python -m bench.ul_rotation --quick
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidsift.reproduce.recipes import (  # noqa: E402
    closed_form_error,
    pca_error,
    top_directions,
    train_rotation,
)
from vidsift.video.synthetic import rotating_points  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument(
        "--frames", type=int, default=360, help="training frames (as many again for testing)"
    )
    ap.add_argument("--noise", default="0,0.1,0.2,0.3,0.4", help="noise levels for the noise table")
    ap.add_argument("--noise-curve", default="0,0.2", help="noise levels for the per-epoch table")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="3 epochs, 180 frames")
    args = ap.parse_args(argv)
    if args.quick:
        args.epochs, args.frames = 3, 180
    n = args.frames
    clean, _ = rotating_points(n_frames=2 * n, noise=0.0, seed=args.seed)
    subspace = top_directions(clean)
    t0 = time.perf_counter()

    for noise in [float(v) for v in args.noise_curve.split(",") if v]:
        X, angles = rotating_points(n_frames=2 * n, noise=noise, seed=args.seed)
        rows = train_rotation(
            X, angles, n_train=n, epochs=args.epochs, seed=args.seed, subspace=subspace
        )
        print(
            f"\nerror per epoch, noise {noise:.0%} (FC 56->2 + UL, lr 0.01, momentum 0.9, wd 0.1, mu 0.5, eps 0.001)"
        )
        print(f"{'epoch':>5s} {'train err':>10s} {'test err':>9s} {'W angle':>8s} {'J':>8s}")
        for r in rows:
            print(
                f"{r['epoch']:5d} {r['train_error']:10.4f} {r['test_error']:9.4f} "
                f"{r['weight_angle']:7.1f}° {r['objective']:8.3f}"
            )

    print(f"\ntest error after {args.epochs} epochs vs noise")
    print(f"{'noise':>6s} {'UL':>8s} {'random':>8s} {'PCA-2':>8s} {'closed':>8s} {'W angle':>8s}")
    for noise in [float(v) for v in args.noise.split(",") if v]:
        X, angles = rotating_points(n_frames=2 * n, noise=noise, seed=args.seed)
        rows = train_rotation(
            X, angles, n_train=n, epochs=args.epochs, seed=args.seed, subspace=subspace
        )
        rand = train_rotation(X, angles, n_train=n, epochs=0, seed=args.seed, train=False)[0]
        print(
            f"{noise:6.0%} {rows[-1]['test_error']:8.4f} {rand['test_error']:8.4f} "
            f"{pca_error(X, angles, n):8.4f} {closed_form_error(X, angles, n):8.4f} "
            f"{rows[-1]['weight_angle']:7.1f}°"
        )
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
