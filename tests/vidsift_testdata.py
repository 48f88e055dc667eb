"""Tiny data builders shared by tests (a uniquely named module: `conftest` is ambiguous)."""

from __future__ import annotations

import numpy as np


def moving_gradient(n: int = 24, h: int = 32, w: int = 48, seed: int = 0) -> np.ndarray:
    """Frames whose content changes smoothly, so every frame is distinct."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(h, w, 3)).astype(np.float32)
    frames = [np.roll(base, shift=i, axis=1) for i in range(n)]
    return np.stack(frames).astype(np.uint8)
