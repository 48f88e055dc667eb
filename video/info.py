"""What a probe learns about a video file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Frames larger than this (e.g. a corrupt header claiming 100000x100000) are refused before decoding.
MAX_PIXELS = 8192 * 8192
# Smaller frames carry nothing to embed (and crash decord 0.6.0): refused as broken.
MIN_SIDE = 8
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".3gp", ".ogv"}
)


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float
    num_frames: int
    width: int
    height: int
    duration: float
    codec: str
    rotation: int
    backend: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
