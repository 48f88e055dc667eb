"""The interface every decoding back-end implements.

A back-end only knows how to decode; choosing one per file and per access pattern is the job of
``video.reader``. All frames are uint8 RGB arrays ``[H, W, 3]``; ``size`` is ``(H, W)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import numpy as np

from video.info import VideoInfo


class Backend(ABC):
    NAME: str = ""

    def __init__(self, path: str) -> None:
        self.path = path

    @property
    @abstractmethod
    def info(self) -> VideoInfo: ...

    @abstractmethod
    def iter_range(
        self, start: int, stop: int, size: tuple[int, int] | None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Decode frames ``start <= i < stop`` in order, yielding ``(index, frame)``."""

    @abstractmethod
    def get_frames(self, indices: Sequence[int], size: tuple[int, int] | None) -> np.ndarray:
        """Frames at ``indices`` (any order, repeats allowed), as ``[N, H, W, 3]``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
