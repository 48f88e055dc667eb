"""Grating videos: a window panning over coloured-grating canvases, with flickering gain and tint.

Each canvas (a "scene" in Goroshin et al.'s sense; here a sum of oriented coloured gratings with
canvas-specific orientations and frequencies, plus smooth noise) is the label. A video of a canvas
is a window panning smoothly over it, with a slowly drifting gain and colour tint that is the same
kind of nuisance for every canvas. Frames of one video change slowly (what temporal-coherence
methods exploit); the canvas is what two videos of the same canvas share; brightness and tint are
what a randomly initialised network mostly sees, so learning has room to help.

Not to be confused with ``video.synthetic.scenes`` (a camera over a photo): these are small and
fast, for training tests and benchmarks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grating_canvas", "grating_videos"]


def _smooth_walk(rng: np.random.Generator, n: int, dims: int, scale: float) -> np.ndarray:
    """A smooth random curve [n, dims] in roughly [-scale, scale]."""
    knots = max(2, n // 12 + 2)
    pts = rng.uniform(-scale, scale, size=(knots, dims))
    x = np.linspace(0, knots - 1, n)
    return np.stack([np.interp(x, np.arange(knots), pts[:, d]) for d in range(dims)], 1)


def grating_canvas(
    rng: np.random.Generator, size: int, freqs: tuple[float, float] = (0.05, 0.3)
) -> np.ndarray:
    """A float32 [size, size, 3] texture in [0, 1] with canvas-specific structure: three coloured
    gratings with frequencies drawn from ``freqs`` (radians per pixel) plus smooth noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    img = np.zeros((size, size, 3), np.float32)
    for _ in range(3):
        theta = rng.uniform(0, np.pi)
        freq = rng.uniform(*freqs)
        phase = rng.uniform(0, 2 * np.pi)
        color = rng.uniform(-1, 1, size=3).astype(np.float32)
        wave = np.sin(freq * (np.cos(theta) * xx + np.sin(theta) * yy) + phase)
        img += wave[..., None] * color
    # torch is imported here, not at module level: only this canvas needs it (a numpy bilinear
    # upsampling differs from torch's in the last float bit and would change the bytes)
    import torch
    import torch.nn.functional as F

    noise = torch.from_numpy(rng.normal(size=(1, 3, size // 4, size // 4)).astype(np.float32))
    noise = F.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)[0]
    img += 0.5 * noise.permute(1, 2, 0).numpy()
    img = (img - img.min()) / (img.max() - img.min() + 1e-6)
    return img


def grating_videos(
    n_scenes: int = 4,
    videos_per_scene: int = 2,
    frames: int = 40,
    size: int = 32,
    seed: int = 0,
    canvas: int | None = None,
    speed: float = 2.0,
    nuisance: float = 0.2,
    flicker: float = 0.5,
    shots: int = 1,
    freq: tuple[float, float] = (0.05, 0.3),
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``({video_id: uint8 [frames, size, size, 3]}, {video_id: int [frames] scene of each frame})``.

    ``n_scenes * videos_per_scene`` videos. With ``shots=1`` video ``s{s}v{k}`` shows scene ``s``
    throughout. With ``shots > 1`` every video is cut into that many equal shots, each of a
    different scene (a seeded random choice; the video id still names the scene of shot 0), as
    in Goroshin et al.'s scene-segmented footage.

    Within a shot the window pans about ``speed`` pixels a frame over the scene's canvas (by
    default only half a window larger than the frame, so all videos of a scene show much the same
    place); ``nuisance`` is the range of a slow gain/tint drift and ``flicker`` of an independent
    per-frame gain/tint jitter (a flickering camera: adjacent frames differ in it, so temporal
    coherence teaches invariance to it, while a random network is sensitive to it). ``freq`` is
    the range of the gratings' spatial frequencies in radians per canvas pixel (the default gives
    broad colour gradients; finer gratings make translation, not colour, what changes between
    adjacent frames).
    """
    rng = np.random.default_rng(seed)
    canvas = canvas or size + size // 2
    images = [grating_canvas(rng, canvas, freq) for _ in range(n_scenes)]
    arrays: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    bounds = np.linspace(0, frames, shots + 1).round().astype(int)
    for s in range(n_scenes):
        for k in range(videos_per_scene):
            scenes = [s] + [int(v) for v in rng.permutation([x for x in range(n_scenes) if x != s])]
            scenes = (scenes * shots)[:shots]
            gain = 1.0 + _smooth_walk(rng, frames, 1, nuisance)
            gain = gain * (1.0 + rng.uniform(-flicker, flicker, size=(frames, 1)))
            tint = _smooth_walk(rng, frames, 3, 0.5 * nuisance)
            tint = tint + rng.uniform(-0.5 * flicker, 0.5 * flicker, size=(frames, 3))
            out = np.empty((frames, size, size, 3), np.uint8)
            lab = np.empty(frames, np.int64)
            for shot, scene in enumerate(scenes):
                a, b = bounds[shot], bounds[shot + 1]
                pos = _pan(rng, b - a, canvas - size, speed)
                for t in range(a, b):
                    y, x = pos[t - a]
                    crop = images[scene][y : y + size, x : x + size]
                    crop = crop * gain[t, 0] + tint[t][None, None, :]
                    out[t] = np.clip(crop * 255.0, 0, 255).astype(np.uint8)
                lab[a:b] = scene
            vid = f"s{s}v{k}"
            arrays[vid] = out
            labels[vid] = lab
    return arrays, labels


def _pan(rng: np.random.Generator, n: int, room: int, speed: float) -> np.ndarray:
    """Integer top-left positions [n, 2] of a window panning in a straight line within
    ``[0, room]``, bouncing off the borders."""
    start = rng.uniform(0, room, size=2)
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction) + 1e-9
    pos = start[None] + speed * np.arange(n)[:, None] * direction[None]
    pos = np.abs(np.mod(pos, 2 * room)) if room > 0 else np.zeros_like(pos)
    pos = np.where(pos > room, 2 * room - pos, pos)
    return pos.round().astype(int)
