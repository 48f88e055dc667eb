"""Drift videos: grey camera pans over a fresh blob texture per video; the label is the direction
of motion and nothing else (see :func:`drift_videos`)."""

from __future__ import annotations

import numpy as np

__all__ = ["DRIFTS", "drift_videos"]


#: drift classes of :func:`drift_videos`: (dy, dx) direction of the window, |dx| signed at random
DRIFTS: dict[str, tuple[int, int]] = {
    "up": (-1, 0),
    "down": (1, 0),
    "sideways": (0, 1),
    "up-diagonal": (-1, 1),
    "down-diagonal": (1, 1),
}


def drift_videos(
    videos_per_class: int = 8,
    frames: int = 32,
    size: tuple[int, int] = (24, 24),
    seed: int = 0,
    index0: int = 0,
    speed: float = 1.5,
    blur: float = 1.5,
    contrast: float = 50.0,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Grey "camera pan" videos whose class is the direction of motion and nothing else:
    ``({video_id: uint8 [frames, H, W, 3]}, {video_id: drift})`` with drift in :data:`DRIFTS`.

    Video ``"<drift>-<k>"`` for every drift and ``k`` in ``index0 .. index0 + videos_per_class - 1``
    (a disjoint ``index0`` gives held-out videos). Each video is a window moving ``speed`` pixels
    a frame in a straight line over its own large blob texture (white noise smoothed by a
    Gaussian of ``blur`` pixels, standardised, grey level 128 + ``contrast`` x texture), sampled
    with sub-pixel (bilinear) accuracy. Every texture comes from the same distribution, and the
    window travels ``speed`` x gap pixels between two volumes, so two non-overlapping volumes
    of one video share their motion, not their pixels: "same video vs different video" (what Paul
    et al.'s pair mining asks) is then answered by motion, which is also the label.

    The horizontal sign (left or right) is drawn per video and is not part of the class: Algorithm
    1 flips the second volume of a positive pair with probability 1/2 (F2), so a same-video
    signal can only ever teach flip-invariant motion. ``up`` and ``down`` stay apart (F2 is a
    left-right flip). Deterministic in ``seed`` (each video has its own generator).

    Raises:
        ValueError: ``frames``, ``videos_per_class`` < 1, a size under 8 pixels or ``speed`` < 0.
    """
    from scipy.ndimage import gaussian_filter

    h, w = int(size[0]), int(size[1])
    if min(frames, videos_per_class) < 1:
        raise ValueError("frames and videos_per_class must be >= 1")
    if min(h, w) < 8 or speed < 0:
        raise ValueError(
            f"drift videos need a size of at least 8x8 and speed >= 0, got {size}, {speed}"
        )
    travel = speed * (frames - 1)
    arrays: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    for c, (name, (dy, dx)) in enumerate(DRIFTS.items()):
        unit = np.array([dy, dx], np.float64) / np.hypot(dy, dx)
        for k in range(index0, index0 + videos_per_class):
            rng = np.random.default_rng([int(seed), c, int(k)])
            step = unit * speed * np.array([1.0, rng.choice([-1.0, 1.0])])
            big_h, big_w = h + int(np.ceil(travel)) + 2, w + int(np.ceil(travel)) + 2
            tex = gaussian_filter(rng.normal(size=(big_h, big_w)), blur)
            tex = (tex - tex.mean()) / (tex.std() + 1e-12)
            # start where the whole path stays inside the texture
            y0 = 0.5 + (travel if step[0] < 0 else 0.0) * abs(unit[0])
            x0 = 0.5 + (travel if step[1] < 0 else 0.0) * abs(unit[1])
            out = np.empty((frames, h, w, 3), np.uint8)
            for t in range(frames):
                y, x = y0 + step[0] * t, x0 + step[1] * t
                iy, ix = int(np.floor(y)), int(np.floor(x))
                fy, fx = y - iy, x - ix
                p = tex[iy : iy + h + 1, ix : ix + w + 1]
                img = (1 - fy) * ((1 - fx) * p[:-1, :-1] + fx * p[:-1, 1:]) + fy * (
                    (1 - fx) * p[1:, :-1] + fx * p[1:, 1:]
                )
                grey = np.clip(np.rint(128.0 + contrast * img), 0, 255).astype(np.uint8)
                out[t] = grey[..., None]
            vid = f"{name}-{k}"
            arrays[vid], labels[vid] = out, name
    return arrays, labels
