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

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
