"""Volume transforms of Paul et al. (2018) pair mining: F1 (HSV colour jitter) and F2 (flip).

Both act on a whole spatio-temporal volume ``uint8 [T, H, W, 3]`` (RGB) with ONE set of
parameters, so every frame of the volume gets the same transform (the paper: "the same
transformation is carried out in all the images of the spatio-temporal volume").

F1, section 3 of the paper ("Color Transformations"), with three parameters drawn uniformly:

1. ``shift`` ~ U(-0.1, 0.1) added "to all the pixels of an image". The paper works in the HSV
   domain and names Saturation and Value explicitly only for steps 2 and 3, so step 1 is read
   literally: the same number is added to all three HSV channels of every pixel (hue wraps
   around, since it is an angle in [0, 1); S and V are clipped to [0, 1]).
2. ``power`` ~ U(0.5, 2): S <- S ** power and V <- V ** power (one number for both, "a random
   number").
3. ``scale`` ~ U(0.7, 2): S <- S * scale and V <- V * scale, then clipped to [0, 1].

F2 = X A with A the anti-diagonal matrix: a horizontal (left-right) flip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHIFT_RANGE = (-0.1, 0.1)
POWER_RANGE = (0.5, 2.0)
SCALE_RANGE = (0.7, 2.0)


@dataclass(frozen=True)
class ColorJitter:
    """The three parameters of F1 (see the module docstring)."""

    shift: float
    power: float
    scale: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> ColorJitter:
        return cls.from_uniforms(*rng.random(3).tolist())

    @classmethod
    def from_uniforms(cls, u0: float, u1: float, u2: float) -> ColorJitter:
        """The parameters from three U(0, 1) draws, each scaled to its range.

        Pair mining draws all the uniforms of a pair in one NumPy call (each call costs ~1-4 us,
        as much as the rest of a pair; ``bench/pair_mining.py``)."""
        return cls(
            shift=SHIFT_RANGE[0] + (SHIFT_RANGE[1] - SHIFT_RANGE[0]) * u0,
            power=POWER_RANGE[0] + (POWER_RANGE[1] - POWER_RANGE[0]) * u1,
            scale=SCALE_RANGE[0] + (SCALE_RANGE[1] - SCALE_RANGE[0]) * u2,
        )


@dataclass(frozen=True)
class VolumeTransform:
    """F applied to the second volume of a pair: optional F1 (``color``) then optional F2."""

    color: ColorJitter | None = None
    flip: bool = False

    @property
    def name(self) -> str:
        parts = (["F1"] if self.color is not None else []) + (["F2"] if self.flip else [])
        return "∘".join(parts) if parts else "I"

    def __call__(self, volume: np.ndarray) -> np.ndarray:
        out = volume
        if self.color is not None:
            out = color_jitter(out, self.color)
        if self.flip:
            out = hflip(out)
        return out


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """float RGB in [0, 1] ``[..., 3]`` -> HSV in [0, 1] ``[..., 3]`` (hue as a fraction of a turn)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(-1)
    c = v - rgb.min(-1)
    s = np.divide(c, v, out=np.zeros_like(v), where=v > 0)
    safe_c = np.where(c > 0, c, 1)
    # hue sector by the channel that holds the max: (g-b)/c, 2+(b-r)/c, 4+(r-g)/c
    h = np.where(
        v == r, (g - b) / safe_c, np.where(v == g, 2 + (b - r) / safe_c, 4 + (r - g) / safe_c)
    )
    h = np.where(c > 0, (h / 6) % 1, 0)
    return np.stack([h, s, v], -1).astype(rgb.dtype, copy=False)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """HSV in [0, 1] ``[..., 3]`` -> float RGB in [0, 1] ``[..., 3]``.

    Branch-free form: channel n in (5, 3, 1) is ``v - v s clip(min(k, 4 - k), 0, 1)`` with
    ``k = (n + 6 h) mod 6``.
    """
    h6 = (hsv[..., 0] % 1) * 6
    s, v = hsv[..., 1], hsv[..., 2]
    vs = v * s
    out = np.empty(hsv.shape, dtype=hsv.dtype)
    for ch, n in enumerate((5, 3, 1)):
        k = (h6 + n) % 6
        out[..., ch] = v - vs * np.clip(np.minimum(k, 4 - k), 0, 1)
    return out


def color_jitter(volume: np.ndarray, params: ColorJitter) -> np.ndarray:
    """F1 on a uint8 RGB volume ``[..., 3]`` -> uint8 of the same shape."""
    if volume.shape[-1] != 3:
        raise ValueError(f"expected RGB in the last axis, got shape {volume.shape}")
    hsv = rgb_to_hsv(volume.astype(np.float32) / 255.0)
    hsv += np.float32(params.shift)
    hsv[..., 0] %= 1.0
    sv = np.clip(hsv[..., 1:], 0.0, 1.0)
    sv = np.clip(sv**params.power * params.scale, 0.0, 1.0)
    hsv[..., 1:] = sv
    rgb = hsv_to_rgb(hsv)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def hflip(volume: np.ndarray) -> np.ndarray:
    """F2: flip every frame of ``[..., H, W, 3]`` left-right (a view; copy it before writing)."""
    return volume[..., ::-1, :]


def sample_positive_transform(rng: np.random.Generator) -> VolumeTransform:
    """F drawn uniformly from {I, F1, F2, F1∘F2} (second volume of a positive pair)."""
    u, c0, c1, c2 = rng.random(4).tolist()  # one call: see ColorJitter.from_uniforms
    k = int(u * 4)
    return VolumeTransform(color=ColorJitter.from_uniforms(c0, c1, c2) if k & 1 else None, flip=k >= 2)


def sample_negative_transform(rng: np.random.Generator) -> VolumeTransform:
    """F1 and F2 each with probability 1/2 (Algorithm 1: r ~ N(0, 1) > 0)."""
    uc, uf, c0, c1, c2 = rng.random(5).tolist()
    return VolumeTransform(color=ColorJitter.from_uniforms(c0, c1, c2) if uc < 0.5 else None, flip=uf < 0.5)


__all__ = [
    "ColorJitter",
    "VolumeTransform",
    "rgb_to_hsv",
    "hsv_to_rgb",
    "color_jitter",
    "hflip",
    "sample_positive_transform",
    "sample_negative_transform",
]
