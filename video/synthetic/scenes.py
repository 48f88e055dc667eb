"""Scene videos: a simulated camera over one photo, with shots, before any encoding.

A camera pans, zooms and shakes over one photo that ships with scikit-image / scikit-learn /
matplotlib, with noise, a slow gain change and hard cuts between shots; the scene (the photo's
name) is the label of every frame. The writer (``video.synthetic.write.make_scene_videos``) puts
them in ``<scene>/`` folders, the label the catalog reads.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from vidsift.errors import BadInputError
from vidsift.video.synthetic.base import keyed_rng, to_uint8

__all__ = ["SCENES", "scene_frames"]

_SKIMAGE_SCENES = (
    "astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "moon", "page", "text",
    "clock", "horse", "hubble_deep_field", "retina", "immunohistochemistry", "cell", "brick",
    "grass", "gravel",
)
_SKLEARN_SCENES = ("china", "flower")
_MPL_SCENES = ("grace_hopper",)
#: Every scene name :func:`scene_frames` accepts (all ship inside installed packages).
SCENES: tuple[str, ...] = _SKIMAGE_SCENES + _SKLEARN_SCENES + _MPL_SCENES


def _sklearn_image(name: str) -> np.ndarray:
    """Read scikit-learn's sample photo from its package folder.

    ``sklearn.datasets.load_sample_images`` costs seconds of imports; the JPEGs sit in the
    installed package, so they are opened directly (falling back to the loader if moved).
    """
    import importlib.util

    from PIL import Image

    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "datasets" / "images" / f"{name}.jpg"
        if path.exists():
            with Image.open(path) as im:
                return np.asarray(im.convert("RGB"))
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    return np.asarray(bunch.images[[Path(f).stem for f in bunch.filenames].index(name)])


@functools.lru_cache(maxsize=32)
def _photo(scene: str) -> np.ndarray:
    """The named photo as uint8 RGB ``[h, w, 3]`` (read-only, cached)."""
    if scene in _SKIMAGE_SCENES:
        import skimage.data

        img = np.asarray(getattr(skimage.data, scene)())
    elif scene in _SKLEARN_SCENES:
        img = _sklearn_image(scene)
    elif scene in _MPL_SCENES:
        from matplotlib import cbook
        from PIL import Image

        with Image.open(cbook.get_sample_data(f"{scene}.jpg", asfileobj=False)) as im:
            img = np.asarray(im.convert("RGB"))
    else:
        raise BadInputError(f"unknown scene {scene!r}; valid scenes: {', '.join(SCENES)}")
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = np.ascontiguousarray(img[..., :3], dtype=np.uint8)
    img.setflags(write=False)
    return img


@functools.lru_cache(maxsize=64)
def _photo_for(scene: str, out_h: int, out_w: int) -> np.ndarray:
    """The photo as float32 in [0, 1], shrunk so the widest crop is at most ~3x the output.

    Sampling a 500-pixel crop straight down to 64 pixels would alias and shimmer as the camera
    moves; one anti-aliased (Lanczos) shrink per scene keeps bilinear sampling clean and cheap.
    """
    from PIL import Image

    img = _photo(scene)
    ph, pw = img.shape[:2]
    full = min(ph, pw * out_h / out_w)  # tallest crop with the output's aspect that fits
    scale = min(1.0, 3.0 * out_h / full)
    if scale < 1.0:
        shape = (max(2, round(pw * scale)), max(2, round(ph * scale)))
        img = np.asarray(Image.fromarray(img).resize(shape, Image.Resampling.LANCZOS))
    out = img.astype(np.float32) / 255.0
    out.setflags(write=False)
    return out


def _sample(img: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear sample of ``img`` on the separable grid ``ys x xs`` (pixel-centre coords)."""
    h, w = img.shape[:2]
    ys = np.clip(ys, 0, h - 1)
    xs = np.clip(xs, 0, w - 1)
    y0 = np.minimum(np.floor(ys).astype(np.int64), h - 2) if h > 1 else np.zeros(len(ys), int)
    x0 = np.minimum(np.floor(xs).astype(np.int64), w - 2) if w > 1 else np.zeros(len(xs), int)
    wy = (ys - y0).astype(np.float32)[:, None, None]
    wx = (xs - x0).astype(np.float32)[None, :, None]
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    rows = img[y0] * (1 - wy) + img[y1] * wy  # [H, w, 3]
    return rows[:, x0] * (1 - wx) + rows[:, x1] * wx


def scene_frames(
    scene: str,
    seed: int = 0,
    index: int = 0,
    shots: int = 3,
    frames_per_shot: int = 20,
    size: tuple[int, int] = (64, 64),
    motion: bool = True,
    noise: float = 0.02,
    illumination: float = 0.15,
) -> tuple[np.ndarray, list[int]]:
    """Frames of one simulated-camera video over ``scene``'s photo, before any encoding.

    Kept separate from writing so determinism can be checked on exact arrays (encoders may
    differ between builds). Each shot starts at a new random crop (40-70% of the photo's height,
    far from where the last shot ended), then pans (0.3-1% of the crop a frame), zooms (up to
    0.4% a frame) and shakes slightly, all smoothly (``motion=False``: a still crop);
    the gain ramps between ``1 +- illumination`` and Gaussian noise of std ``noise`` (in [0, 1]
    units) is added. ``index`` picks one of several videos of the same scene and seed.
    Returns ``(uint8 [shots * frames_per_shot, H, W, 3], shot_starts)``.
    """
    if shots < 1 or frames_per_shot < 1:
        raise BadInputError("shots and frames_per_shot must be >= 1")
    out_h, out_w = (int(size[0]), int(size[1]))
    if out_h < 1 or out_w < 1:
        raise BadInputError(f"size must be positive (H, W), got {size}")
    if noise < 0 or not 0 <= illumination < 1:
        raise BadInputError("noise must be >= 0 and illumination in [0, 1)")
    img = _photo_for(scene, out_h, out_w)
    rng = keyed_rng(seed, "scene", scene, index)
    ph, pw = img.shape[:2]
    full = min(ph, pw * out_h / out_w)
    n = frames_per_shot
    t = np.arange(n, dtype=np.float64)
    ease = 0.5 - 0.5 * np.cos(np.pi * t / max(n - 1, 1))  # smooth start and stop

    out = np.empty((shots * n, out_h, out_w, 3), np.uint8)
    prev_end: np.ndarray | None = None
    for s in range(shots):
        frac = rng.uniform(0.4, 0.7)
        if motion:  # slow, camera-like rates per frame, so longer shots drift further
            zoom = rng.uniform(0.9, 1.1) * np.exp(rng.uniform(-0.004, 0.004) * t)
        else:
            zoom = np.ones(n)
        ch = np.minimum(frac * full * zoom, 0.98 * full)  # crop height per frame
        cw = ch * out_w / out_h
        # start centre: rejection-sample one far from the previous shot's last centre
        cmax = float(np.max(ch))
        lo = np.array([cmax / 2, cmax * out_w / out_h / 2])
        hi = np.maximum(np.array([ph, pw]) - lo, lo)
        for _ in range(32):
            c0 = rng.uniform(lo, hi)
            if prev_end is None or np.linalg.norm(c0 - prev_end) > 0.35 * cmax:
                break
        if motion:
            ang = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(0.003, 0.01) * cmax * (n - 1)
            c1 = np.clip(c0 + dist * np.array([np.sin(ang), np.cos(ang)]), lo, hi)
            centre = c0[None, :] + (c1 - c0)[None, :] * ease[:, None]
            freq = rng.uniform(0.03, 0.12, size=(2, 2))  # cycles per frame, two per axis
            phase = rng.uniform(0, 2 * np.pi, size=(2, 2))
            wave = np.sin(2 * np.pi * freq[None] * t[:, None, None] + phase[None]).sum(2)
            centre = centre + 0.006 * cmax * wave  # hand-held shake
        else:
            centre = np.repeat(c0[None, :], n, axis=0)
        g0, g1 = 1.0 + rng.uniform(-illumination, illumination, size=2)
        gain = g0 + (g1 - g0) * t / max(n - 1, 1)
        unit_y = (np.arange(out_h) + 0.5) / out_h - 0.5
        unit_x = (np.arange(out_w) + 0.5) / out_w - 0.5
        for i in range(n):
            ys = centre[i, 0] + unit_y * ch[i] - 0.5
            xs = centre[i, 1] + unit_x * cw[i] - 0.5
            frame = _sample(img, ys, xs) * np.float32(gain[i])
            if noise > 0:
                frame = frame + rng.normal(0.0, noise, frame.shape).astype(np.float32)
            out[s * n + i] = to_uint8(frame)
        prev_end = centre[-1]
    return out, [s * n for s in range(shots)]
