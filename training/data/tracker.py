"""A small motion-based patch tracker that mines (patch_t, patch_t+k) positives for ``triplet``.

Wang & Gupta (2015) mine patches with SURF interest points whose Improved-Dense-Trajectory motion
exceeds 0.5 px, pick the 227x227 box holding most moving points, and follow it 30 frames with a
KCF tracker. vidsift stands in for that miner with something that needs no extra dependency and
runs inside DataLoader workers:

1. **Pick** — score every patch position of frame t by gradient energy (texture, so the patch can
   be tracked) times ``1 + motion energy`` (|I_{t+s} - I_t|, so the patch is likely to move);
   choose at random among the best few positions on a coarse grid.
2. **Follow** — block matching frame to frame (step ``stride`` frames): the patch of the previous
   frame is the template, the new position minimises the sum of squared differences (SSD) over a
   ``(2r+1)^2`` search window; the template is refreshed every step, as simple trackers do.
3. **Crop** the patch at t (query) and at its tracked position at t+k (positive).

No camera-motion compensation, no track rejection: good enough for the synthetic and
hand-held footage vidsift targets, and documented as a difference from the paper.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def to_gray(frames: np.ndarray) -> np.ndarray:
    """uint8 ``[..., H, W, 3]`` -> float32 ``[..., H, W]`` luma."""
    f = frames.astype(np.float32)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


def _box_sum(img: torch.Tensor, patch: int) -> torch.Tensor:
    """Sum of ``img`` [H, W] over every patch x patch window -> [H-p+1, W-p+1]."""
    ii = F.pad(img, (1, 0, 1, 0)).cumsum(0).cumsum(1)
    return ii[patch:, patch:] - ii[:-patch, patch:] - ii[patch:, :-patch] + ii[:-patch, :-patch]


def patch_scores(gray_t: np.ndarray, gray_next: np.ndarray | None, patch: int) -> np.ndarray:
    """Score of the patch whose top-left corner is (y, x): texture x (1 + motion)."""
    g = torch.from_numpy(np.ascontiguousarray(gray_t, dtype=np.float32))
    gy = torch.zeros_like(g)
    gx = torch.zeros_like(g)
    gy[1:-1] = (g[2:] - g[:-2]) / 2
    gx[:, 1:-1] = (g[:, 2:] - g[:, :-2]) / 2
    npix = float(patch * patch)
    texture = _box_sum(gx * gx + gy * gy, patch) / npix
    if gray_next is None:
        return texture.numpy()
    motion = _box_sum((torch.from_numpy(np.asarray(gray_next, dtype=np.float32)) - g).abs(), patch)
    return (texture * (1.0 + motion / npix)).numpy()


def pick_patch(
    gray_t: np.ndarray,
    gray_next: np.ndarray | None,
    patch: int,
    rng: np.random.Generator,
    top: int = 5,
    margin: int = 0,
) -> tuple[int, int]:
    """Top-left (y, x) of a textured, moving ``patch``-sized box in frame t.

    ``margin`` keeps the box that far from the border so it can move without leaving the frame.
    """
    scores = patch_scores(gray_t, gray_next, patch)
    h, w = scores.shape
    lo_y, hi_y = min(margin, h - 1), max(min(margin, h - 1) + 1, h - margin)
    lo_x, hi_x = min(margin, w - 1), max(min(margin, w - 1) + 1, w - margin)
    step = max(1, patch // 4)
    ys = np.arange(lo_y, hi_y, step)
    xs = np.arange(lo_x, hi_x, step)
    grid = scores[np.ix_(ys, xs)].ravel()
    k = min(top, grid.size)
    best = np.argpartition(-grid, k - 1)[:k]
    choice = best[rng.integers(k)]
    return int(ys[choice // xs.size]), int(xs[choice % xs.size])


def match_block(
    template: np.ndarray, frame: np.ndarray, y: int, x: int, radius: int
) -> tuple[int, int, float]:
    """Position within ``radius`` of (y, x) where ``frame`` best matches ``template`` (min SSD).

    Returns (y, x, mean squared difference). Ties go to the smallest displacement.
    """
    ph, pw = template.shape
    h, w = frame.shape
    y0, y1 = max(0, y - radius), min(h - ph, y + radius)
    x0, x1 = max(0, x - radius), min(w - pw, x + radius)
    # float64: SSD = sum R^2 - 2 sum RT + sum T^2 cancels badly in float32
    region = torch.from_numpy(np.ascontiguousarray(frame[y0 : y1 + ph, x0 : x1 + pw], dtype=np.float64))
    t = torch.from_numpy(np.ascontiguousarray(template, dtype=np.float64))
    cross = F.conv2d(region[None, None], t[None, None])[0, 0]
    energy = _box_sum_rect(region * region, ph, pw)
    ssd = energy - 2 * cross + (t * t).sum()
    ssd = ssd.numpy()
    dy = np.arange(y0, y1 + 1)[:, None] - y
    dx = np.arange(x0, x1 + 1)[None, :] - x
    # lexicographic: SSD (rounded against float noise), then displacement
    key = np.round(ssd, 4) + 1e-9 * (dy * dy + dx * dx)
    i, j = np.unravel_index(np.argmin(key), key.shape)
    return int(y0 + i), int(x0 + j), float(max(ssd[i, j], 0.0) / (ph * pw))


def _box_sum_rect(img: torch.Tensor, ph: int, pw: int) -> torch.Tensor:
    ii = F.pad(img, (1, 0, 1, 0)).cumsum(0).cumsum(1)
    return ii[ph:, pw:] - ii[:-ph, pw:] - ii[ph:, :-pw] + ii[:-ph, :-pw]


def track(
    gray: np.ndarray, y: int, x: int, patch: int, radius: int
) -> list[tuple[int, int]]:
    """Follow the ``patch`` box at (y, x) in ``gray[0]`` through ``gray[1:]`` frame to frame.

    Returns the top-left corner in every frame (the first is (y, x)).
    """
    path = [(int(y), int(x))]
    for k in range(1, len(gray)):
        template = gray[k - 1][y : y + patch, x : x + patch]
        y, x, _ = match_block(template, gray[k], y, x, radius)
        path.append((y, x))
    return path
