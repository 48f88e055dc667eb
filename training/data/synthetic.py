"""Small synthetic "scene" videos with known structure, for tests and benchmarks.

Each scene is a large textured canvas (a sum of oriented gratings with scene-specific
orientations and frequencies, plus smooth noise). A video of a scene is a window panning smoothly
over the canvas, with a slowly drifting gain and colour tint that is the same kind of nuisance
for every scene. Frames of one video change slowly (what temporal-coherence methods exploit);
the scene is what two videos of the same scene share; brightness and tint are what a randomly
initialised network mostly sees, so learning has room to help.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _smooth_walk(rng: np.random.Generator, n: int, dims: int, scale: float) -> np.ndarray:
    """A smooth random curve [n, dims] in roughly [-scale, scale]."""
    knots = max(2, n // 12 + 2)
    pts = rng.uniform(-scale, scale, size=(knots, dims))
    x = np.linspace(0, knots - 1, n)
    return np.stack([np.interp(x, np.arange(knots), pts[:, d]) for d in range(dims)], 1)


def scene_canvas(rng: np.random.Generator, size: int) -> np.ndarray:
    """A float32 [size, size, 3] texture in [0, 1] with scene-specific structure."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    img = np.zeros((size, size, 3), np.float32)
    for _ in range(3):
        theta = rng.uniform(0, np.pi)
        freq = rng.uniform(0.05, 0.3)
        phase = rng.uniform(0, 2 * np.pi)
        color = rng.uniform(-1, 1, size=3).astype(np.float32)
        wave = np.sin(freq * (np.cos(theta) * xx + np.sin(theta) * yy) + phase)
        img += wave[..., None] * color
    noise = torch.from_numpy(rng.normal(size=(1, 3, size // 4, size // 4)).astype(np.float32))
    noise = F.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)[0]
    img += 0.5 * noise.permute(1, 2, 0).numpy()
    img = (img - img.min()) / (img.max() - img.min() + 1e-6)
    return img


def scene_videos(
    n_scenes: int = 4,
    videos_per_scene: int = 2,
    frames: int = 40,
    size: int = 32,
    seed: int = 0,
    canvas: int | None = None,
    speed: float = 1.0,
    nuisance: float = 0.6,
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """``({video_id: uint8 [frames, size, size, 3]}, {video_id: scene})``.

    The window pans about ``speed`` pixels a frame; ``nuisance`` is the range of the gain/tint
    drift (0 = none).
    """
    rng = np.random.default_rng(seed)
    canvas = canvas or 3 * size
    arrays: dict[str, np.ndarray] = {}
    labels: dict[str, int] = {}
    for s in range(n_scenes):
        img = scene_canvas(rng, canvas)
        for k in range(videos_per_scene):
            # a smooth pan that stays inside the canvas
            start = rng.uniform(0, canvas - size, size=2)
            direction = rng.normal(size=2)
            direction /= np.linalg.norm(direction) + 1e-9
            pos = start[None] + speed * np.arange(frames)[:, None] * direction[None]
            pos = np.abs(np.mod(pos, 2 * (canvas - size)))  # bounce off the borders
            pos = np.where(pos > canvas - size, 2 * (canvas - size) - pos, pos).round().astype(int)
            gain = 1.0 + _smooth_walk(rng, frames, 1, nuisance)
            tint = _smooth_walk(rng, frames, 3, 0.5 * nuisance)
            out = np.empty((frames, size, size, 3), np.uint8)
            for t in range(frames):
                y, x = pos[t]
                crop = img[y : y + size, x : x + size]
                crop = crop * gain[t, 0] + tint[t][None, None, :]
                out[t] = np.clip(crop * 255.0, 0, 255).astype(np.uint8)
            vid = f"s{s}v{k}"
            arrays[vid] = out
            labels[vid] = s
    return arrays, labels


def translating_sequence(
    frames: int = 10,
    size: tuple[int, int] = (64, 64),
    velocity: tuple[int, int] = (1, 2),
    seed: int = 0,
) -> np.ndarray:
    """uint8 [frames, H, W, 3]: a random texture whose content moves by ``velocity`` (dy, dx)
    pixels a frame (frame t = big texture cropped at offset t * velocity), for tracker tests."""
    rng = np.random.default_rng(seed)
    h, w = size
    vy, vx = velocity
    big = rng.integers(0, 256, size=(h + abs(vy) * frames + 1, w + abs(vx) * frames + 1, 3))
    big = big.astype(np.uint8)
    oy = abs(vy) * frames if vy > 0 else 0
    ox = abs(vx) * frames if vx > 0 else 0
    out = np.empty((frames, h, w, 3), np.uint8)
    for t in range(frames):
        # content moving by +v means the window moves by -v over the texture
        y, x = oy - vy * t, ox - vx * t
        out[t] = big[y : y + h, x : x + w]
    return out
