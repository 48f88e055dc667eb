"""Frame indices of clips (spatio-temporal volumes), shared by extraction and training.

A clip embedder stores each clip under the frame it is centred on, so clip and frame embedders
share one index; C3D training draws clips from a start frame. Both clamp to the video, and a
video shorter than the clip repeats its last frame.
"""

from __future__ import annotations

import numpy as np

from vidsift.errors import BadInputError


def centred_clips(centres: np.ndarray, clip_len: int, num_frames: int) -> np.ndarray:
    """``[N, T]`` frame indices of the clip centred on each frame, clamped inside the video.

    The clip starts ``T // 2`` frames before its centre and is shifted (not cut) at either end.

    Example:
        >>> centred_clips(np.array([0, 5, 9]), 4, 10).tolist()
        [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    """
    centres = np.asarray(centres, np.int64)
    start = np.clip(centres - clip_len // 2, 0, max(0, num_frames - clip_len))
    idx = start[:, None] + np.arange(clip_len, dtype=np.int64)[None, :]
    return np.minimum(idx, num_frames - 1)


def clip_from(start: int, clip_len: int, num_frames: int) -> np.ndarray:
    """Frame indices ``start .. start + clip_len - 1``, clamped to the video.

    Example:
        >>> clip_from(0, 8, 5).tolist()
        [0, 1, 2, 3, 4, 4, 4, 4]
    """
    if num_frames < 1 or clip_len < 1:
        raise BadInputError(f"need num_frames >= 1 and clip_len >= 1, got {num_frames}, {clip_len}")
    return np.clip(np.arange(start, start + clip_len), 0, num_frames - 1)
