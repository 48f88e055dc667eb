"""Media a face shows: thumbnails that never raise, and whether a browser can play a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidsift.errors import VidsiftError
from vidsift.workspace import Workspace


def safe_thumbnail(ws: Workspace, path: str, video_id: str, frame: int) -> np.ndarray | None:
    """The cached thumbnail of a frame, or ``None`` when it cannot be made (file gone...)."""
    from vidsift.embedder.thumbnails import thumbnail

    try:
        return thumbnail(ws, path, video_id, int(frame))
    except (VidsiftError, OSError, ValueError):
        return None


def playable(path: str) -> bool:
    """Whether a browser can play the file with ``<video>`` (MP4/WebM/Ogg/MOV containers)."""
    return Path(path).suffix.lower() in (".mp4", ".m4v", ".webm", ".ogg", ".ogv", ".mov") and Path(path).is_file()
