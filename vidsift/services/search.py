"""What a search starts from: the indexed videos of an index and the checked image upload.

The search itself, within chosen videos too, is ``services.indexes.search_workspace``."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.errors import BadInputError

#: largest image a person may upload to search with (the server limit is set by `vidsift app`)
MAX_UPLOAD_MB = 10


IMAGE_TYPES = ("jpg", "jpeg", "png")


#: an uploaded image with more pixels than this is refused (decompression bombs)
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class IndexedVideo:
    """A video as the index knows it: id, path, label and its indexed frame numbers."""

    id: str
    path: str
    label: str | None
    frames: np.ndarray  # int64, sorted

    @property
    def name(self) -> str:
        return Path(self.path).name

    def title(self) -> str:
        return f"{self.name} ({self.label})" if self.label else self.name


def indexed_videos(vi: Any) -> list[IndexedVideo]:
    """The videos of a loaded ``VideoIndex``, sorted by path."""
    cols = vi.columns
    out = []
    for vid in cols.videos:
        code = cols.code_of[vid]
        frames = cols.frames_of(code)[0]
        row = cols.first_row(code)
        out.append(IndexedVideo(vid, str(cols.path[row]), cols.label[row], np.asarray(frames, np.int64)))
    return sorted(out, key=lambda v: (v.path, v.id))


def frame_time(vi: Any, video_id: str, frame: int) -> float:
    """The time in seconds of an indexed frame, as stored in the index."""
    cols = vi.columns
    frames, ids = cols.frames_of(cols.code_of[str(video_id)])
    i = min(int(np.searchsorted(frames, int(frame))), len(frames) - 1)
    return float(cols.time[cols.positions(ids[i : i + 1])][0])


def load_upload(name: str, data: bytes, max_bytes: int = MAX_UPLOAD_MB * 1_000_000) -> Any:
    """An uploaded JPEG/PNG as an RGB PIL image, checked before it is decoded.

    Raises:
        BadInputError: another file type, more than ``max_bytes``, a file that is not really a
            JPEG/PNG, or an image of more than ``MAX_IMAGE_PIXELS`` pixels.
    """
    from PIL import Image

    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in IMAGE_TYPES:
        raise BadInputError(f"{name}: only JPEG or PNG images can be searched with (got '.{ext}')")
    if len(data) > max_bytes:
        raise BadInputError(
            f"{name} is {len(data) / 1e6:.1f} MB; images up to {max_bytes / 1e6:.0f} MB are accepted, use a smaller one"
        )
    try:
        im = Image.open(io.BytesIO(data))
        fmt = im.format
        w, h = im.size
    except (OSError, Image.DecompressionBombError) as exc:
        raise BadInputError(f"{name}: not a readable JPEG or PNG image ({exc})") from exc
    if fmt not in ("JPEG", "PNG"):
        raise BadInputError(f"{name}: the file holds a {fmt} image, not JPEG or PNG")
    if w * h > MAX_IMAGE_PIXELS:
        raise BadInputError(f"{name}: {w}x{h} pixels is too large; use an image under {MAX_IMAGE_PIXELS // 1_000_000} megapixels")
    try:
        return im.convert("RGB")
    except OSError as exc:
        raise BadInputError(f"{name}: the image is damaged ({exc})") from exc
