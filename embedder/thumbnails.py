"""Frame thumbnails: small JPEGs under ``<workspace>/thumbnails/<video_id>/<frame>.jpg``.

Extraction writes one per embedded frame (frame embedders, unless ``--no-thumbnails``); search
results and cluster galleries read them with ``thumbnail``, which decodes and caches a missing one
on demand. Thumbnails are a cache that can always be rebuilt from the video, so a file is written
to a temporary name and renamed (never half a JPEG) but not fsynced: thousands of fsyncs per
video would cost more than the decode.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.errors import BadInputError, WorkspaceError

THUMBNAIL_HEIGHT = 96
JPEG_QUALITY = 85


def thumbnail_path(root: str | Path, video_id: str, frame: int) -> Path:
    """``root/<video_id>/<frame>.jpg`` (``root`` is ``Workspace.thumbnails``)."""
    return Path(root) / video_id / f"{int(frame)}.jpg"


def thumbnail_size(
    width: int, height: int, target_height: int = THUMBNAIL_HEIGHT
) -> tuple[int, int]:
    """(H, W) of a thumbnail: ``target_height`` tall (never upscaled), aspect kept, W even."""
    h = min(int(target_height), int(height))
    w = max(2, int(round(width * h / max(1, height) / 2)) * 2)
    return max(1, h), w


def write_jpeg(path: Path, frame: np.ndarray, quality: int = JPEG_QUALITY, mkdir: bool = True) -> None:
    """Encode ``frame`` (uint8 [H, W, 3]) and put it at ``path`` by rename (atomic, no fsync)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buf, format="JPEG", quality=quality)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary name is unique per process; two processes writing one thumbnail both succeed
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(buf.getbuffer())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_jpeg(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def thumbnail(
    ws: Any, video_path: str | Path, video_id: str, frame: int, height: int = THUMBNAIL_HEIGHT
) -> np.ndarray:
    """The thumbnail of one frame as uint8 ``[h, w, 3]``; decoded and cached when missing.

    Raises:
        VideoError: the video cannot be read.
        BadInputError: the frame does not exist.
    """
    from vidsift.video import open_video

    root = ws.thumbnails if hasattr(ws, "thumbnails") else Path(ws) / "thumbnails"
    path = thumbnail_path(root, video_id, frame)
    if path.is_file():
        try:
            return read_jpeg(path)
        except OSError:
            pass  # damaged cache file: decode again below
    if int(frame) < 0:
        raise BadInputError(f"frame {frame} does not exist")
    with open_video(video_path) as r:
        size = thumbnail_size(r.info.display_width, r.info.height, height)
        img = r.get_frames([int(frame)], size=size)[0]
    try:
        write_jpeg(path, img)
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot write thumbnail ({exc.strerror})") from exc
    return read_jpeg(path)  # what later calls return from the cache
