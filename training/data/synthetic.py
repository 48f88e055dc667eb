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


def scene_canvas(
    rng: np.random.Generator, size: int, freqs: tuple[float, float] = (0.05, 0.3)
) -> np.ndarray:
    """A float32 [size, size, 3] texture in [0, 1] with scene-specific structure: three coloured
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
    images = [scene_canvas(rng, canvas, freq) for _ in range(n_scenes)]
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


def shape_frame_videos(
    videos_per_class: int = 3,
    frames: int = 24,
    size: tuple[int, int] = (24, 24),
    seed: int = 0,
    index0: int = 0,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``video.generate.shape_frames`` for every shape x motion, in memory (background and colour
    fixed per video): ``({"<shape>-<motion>-<k>": uint8 [frames, H, W, 3]}, {id: "<shape>-<motion>"})``
    with ``k`` in ``index0 .. index0 + videos_per_class - 1``."""
    from video.generate import MOTIONS, SHAPES, shape_frames

    arrays: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    for shape in SHAPES:
        for motion in MOTIONS:
            for k in range(index0, index0 + videos_per_class):
                vid = f"{shape}-{motion}-{k}"
                arrays[vid], _ = shape_frames(
                    shape, motion, seed=seed, index=k, frames=frames, size=size
                )
                labels[vid] = f"{shape}-{motion}"
    return arrays, labels


def shape_videos(
    videos_per_class: int = 3,
    frames: int = 24,
    size: tuple[int, int] = (24, 24),
    seed: int = 0,
    index0: int = 0,
    shapes: tuple[str, ...] | None = None,
    motions: tuple[str, ...] | None = None,
    segment: int = 4,
    gain: float = 0.3,
    background: str = "texture",
    recolor: bool = True,
    noise: float = 0.03,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Moving-shape videos whose appearance nuisance changes WITHIN a video:
    ``({video_id: uint8 [frames, H, W, 3]}, {video_id: "<shape>-<motion>"})``.

    Video ``"<shape>-<motion>-<k>"`` for every shape x motion (default: all of
    ``video.generate.SHAPES`` / ``MOTIONS``) and ``k`` in ``index0 .. index0 + videos_per_class - 1``
    (a disjoint ``index0`` gives held-out videos of the same classes). The shape and its path
    (``video.generate``'s one back-and-forth cycle with a random phase) stay fixed for the whole
    video; every ``segment`` frames the nuisance is redrawn: the background (a new
    ``video.generate`` texture with ``background="texture"``, always black with ``"black"``),
    the shape's colour (a random hue with ``recolor``, else one red for every video) and a
    global gain in ``[1 - gain, 1 + gain]``. ``noise`` is per-pixel Gaussian noise of every frame.
    ``segment >= frames`` gives one draw per video, i.e. ``shape_frames``' per-video appearance.

    Why the nuisance varies within a video: in ``video.generate.shape_frames`` background and
    colour are fixed per video and differ between videos of one class, so "same video vs
    different video" (what Paul et al.'s pair mining teaches) is answered by appearance alone,
    which has nothing to do with the shape x motion label. Here two non-overlapping volumes of
    one video share only the shape and its motion (and path), as in :func:`scene_videos`, whose
    flickering gain/tint is a nuisance that within-video pairs can teach invariance to.
    Deterministic in ``seed`` and independent of call order (each video has its own generator).

    Raises:
        ValueError: ``segment``, ``frames`` or ``videos_per_class`` < 1, unknown ``background``.
    """
    import colorsys

    from video.generate import MOTIONS, SHAPES, _background, _rng, _shape_mask, _shape_path

    shapes = tuple(shapes or SHAPES)
    motions = tuple(motions or MOTIONS)
    h, w = int(size[0]), int(size[1])
    if min(segment, frames, videos_per_class) < 1:
        raise ValueError("segment, frames and videos_per_class must be >= 1")
    if background not in ("texture", "black"):
        raise ValueError(f"background must be 'texture' or 'black', got {background!r}")
    red = np.array(colorsys.hsv_to_rgb(0.0, 0.9, 0.95), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    arrays: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    for shape in shapes:
        for motion in motions:
            for k in range(index0, index0 + videos_per_class):
                rng = _rng(seed, "segmented-shape", shape, motion, k)
                r, cy, cx = _shape_path(rng, motion, frames, h, w)
                out = np.empty((frames, h, w, 3), np.uint8)
                for a in range(0, frames, segment):
                    if background == "texture":
                        bg = _background(rng, h, w)
                    else:
                        bg = np.zeros((h, w, 3), np.float32)
                    hue = rng.uniform(0, 1)
                    color = np.array(colorsys.hsv_to_rgb(hue, 0.9, 0.95), np.float32)
                    color = color if recolor else red
                    g = 1.0 + rng.uniform(-gain, gain)
                    for i in range(a, min(a + segment, frames)):
                        frame = bg.copy()
                        frame[_shape_mask(shape, yy, xx, cy[i], cx[i], r)] = color
                        frame *= g
                        if noise > 0:
                            frame += rng.normal(0.0, noise, frame.shape).astype(np.float32)
                        out[i] = np.clip(np.rint(frame * 255.0), 0, 255).astype(np.uint8)
                vid = f"{shape}-{motion}-{k}"
                arrays[vid] = out
                labels[vid] = f"{shape}-{motion}"
    return arrays, labels


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
