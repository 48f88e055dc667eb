"""SimCLR-style view augmentation of frames (Chen et al. 2020, appendix A), seeded.

Each frame of a batch gets its own draw of, in this order (SimCLR's list without blur, which
matters little at 64x64):

1. random resized crop: area ``U(crop_min, 1)`` of the frame, aspect ratio log-uniform in
   [3/4, 4/3], resized back to the frame's size (bilinear);
2. horizontal flip with probability 1/2;
3. colour jitter with probability 0.8: brightness, contrast and saturation factors
   ``U(1 - jitter, 1 + jitter)`` in a random order is SimCLR's; vidsift applies them in a fixed
   order (brightness, contrast, saturation) and leaves hue alone (cheap, and hue shifts would
   erase the colour cue that tells many scenes apart);
4. greyscale with probability ``gray_p`` (0.2).

Randomness comes only from the ``numpy.random.Generator`` passed in (the batch's, see
``training.data.samplers.batch_rng``), so a resumed run sees the very same views.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from vidsift.errors import BadInputError

_GRAY = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


@dataclass(frozen=True)
class ViewAugment:
    """Strengths of the augmentation (SimCLR's defaults: crop from 8% of the area, jitter 0.8)."""

    crop_min: float = 0.3
    jitter: float = 0.4
    jitter_p: float = 0.8
    gray_p: float = 0.2
    flip: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.crop_min <= 1:
            raise BadInputError(f"crop_min must be in (0, 1], got {self.crop_min}")
        if not 0 <= self.jitter < 1:
            raise BadInputError(f"jitter must be in [0, 1), got {self.jitter}")
        if not (0 <= self.jitter_p <= 1 and 0 <= self.gray_p <= 1):
            raise BadInputError("jitter_p and gray_p are probabilities in [0, 1]")

    def __call__(self, frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """uint8 ``[N, H, W, 3]`` -> augmented uint8 ``[N, H, W, 3]`` (same size)."""
        n, h, w, _ = frames.shape
        if n == 0:
            return frames
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)
        # all draws first, in one fixed order, so the stream is independent of what is skipped
        area = rng.uniform(self.crop_min, 1.0, n)
        log_r = rng.uniform(math.log(3 / 4), math.log(4 / 3), n)
        pos = rng.random((n, 2))
        flip = rng.random(n) < 0.5
        do_jit = rng.random(n) < self.jitter_p
        fac = rng.uniform(1 - self.jitter, 1 + self.jitter, (n, 3))
        gray = rng.random(n) < self.gray_p
        out = torch.empty_like(x)
        for i in range(n):
            ratio = math.exp(log_r[i])
            ch = int(round(min(h, math.sqrt(area[i] * h * w / ratio))))
            cw = int(round(min(w, math.sqrt(area[i] * h * w * ratio))))
            ch, cw = max(ch, 2), max(cw, 2)
            y0 = int(pos[i, 0] * (h - ch + 1))
            x0 = int(pos[i, 1] * (w - cw + 1))
            crop = x[i : i + 1, :, y0 : y0 + ch, x0 : x0 + cw]
            v = F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False)
            if self.flip and flip[i]:
                v = v.flip(-1)
            if do_jit[i]:
                v = v * float(fac[i, 0])  # brightness
                mean = (v * _GRAY).sum(1, keepdim=True).mean()
                v = (v - mean) * float(fac[i, 1]) + mean  # contrast
                g = (v * _GRAY).sum(1, keepdim=True)
                v = (v - g) * float(fac[i, 2]) + g  # saturation
            if gray[i]:
                v = (v * _GRAY).sum(1, keepdim=True).expand(-1, 3, -1, -1)
            out[i] = v[0]
        y = out.clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return y.permute(0, 2, 3, 1).contiguous().numpy()


__all__ = ["ViewAugment"]
