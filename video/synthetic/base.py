"""What every synthetic generator shares: seed checks, keyed random generators, float -> uint8.

A generator's randomness comes from :func:`keyed_rng` with keys naming what is drawn (``"shape"``,
the shape, the motion, the video's index), so one video's pixels never depend on which other
videos were made before it.
"""

from __future__ import annotations

import zlib

import numpy as np

from vidsift.errors import BadInputError


def check_seed(seed: int) -> int:
    if int(seed) < 0:
        raise BadInputError(f"seed must be >= 0, got {seed}")
    return int(seed)


def keyed_rng(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator that depends only on the seed and stable keys (not on call order)."""
    ints = [check_seed(seed)]
    for k in keys:
        ints.append(zlib.crc32(k.encode()) if isinstance(k, str) else int(k))
    return np.random.default_rng(ints)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Frames in [0, 1] units to uint8 (rounded to nearest, clipped)."""
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
