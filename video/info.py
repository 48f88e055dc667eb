"""What a probe learns about a video file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from vidsift.catalog import VIDEO_EXTENSIONS  # noqa: F401 - re-exported: what counts as a video

# Frames larger than this (e.g. a corrupt header claiming 100000x100000) are refused before decoding.
MAX_PIXELS = 8192 * 8192
# Smaller frames carry nothing to embed (and crash decord 0.6.0): refused as broken.
MIN_SIDE = 8


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
    #: sample aspect ratio: how wide a stored pixel is shown (1440x1080 HDV and DVD's 720x480 are
    #: shown 16:9 with pixels 4/3 and 32/27 wide); 1.0 for square pixels or when not said
    sar: float = 1.0

    @property
    def display_width(self) -> int:
        """The width a player shows the frame at (its height is ``height``)."""
        return max(1, round(self.width * self.sar))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
