"""The interface every decoding back-end implements.

A back-end only decodes: it yields the pictures its decoder outputs, in presentation order,
each with its presentation time in seconds (relative to the stream's first frame) and whether it
is a keyframe. Numbering frames, sampling and seeking plans are the job of ``video.reader``,
so every back-end is numbered the same way: by what decodes (``video.timeline``).
Frames are uint8 RGB arrays ``[H, W, 3]``; ``size`` is ``(H, W)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import numpy as np

from vidsift.video.info import VideoInfo


class Backend(ABC):
    NAME: str = ""

    def __init__(self, path: str) -> None:
        self.path = path

    @property
    @abstractmethod
    def info(self) -> VideoInfo:
        """Header data: the frame count and rate in it are estimates."""

    @abstractmethod
    def decode(self, from_seconds: float | None = None, keyframes_only: bool = False) -> Iterator[tuple[float, bool, Any]]:
        """Yield ``(seconds, is_keyframe, picture)`` from the first frame, or from the keyframe at
        or before ``from_seconds`` (a seek), to the end. ``picture`` goes to ``to_array``.

        Raises ``VideoError`` when the container stops being readable; pictures yielded before
        that are valid.
        """

    @abstractmethod
    def to_array(self, picture: Any, size: tuple[int, int] | None) -> np.ndarray:
        """RGB uint8 ``[H, W, 3]`` of a decoded picture, scaled to ``size`` when given."""

    def to_luma(self, picture: Any, size: tuple[int, int]) -> np.ndarray:
        """Grey uint8 ``[H, W]`` of a decoded picture at ``size`` (for shot detection).

        This default goes through RGB (BT.601 weights); back-ends that see the decoder's planes
        override it to read the luma plane directly.
        """
        rgb = self.to_array(picture, size).astype(np.float32)
        return np.clip(rgb @ np.float32([0.299, 0.587, 0.114]) + 0.5, 0, 255).astype(np.uint8)

    def set_threads(self, n: int) -> None:  # noqa: B027 - optional hook
        """Decoder threads for the passes to come (0: the library's own choice)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
