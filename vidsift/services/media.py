"""Media a face shows: thumbnails that never raise, whether a browser can play a file, and a
short H.264 preview of what it cannot play (MPEG-2, MPEG-TS, HEVC, ProRes...)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
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


#: containers and video codecs every current browser plays in ``<video>``
BROWSER_CONTAINERS = (".mp4", ".m4v", ".webm", ".ogg", ".ogv", ".mov")
BROWSER_CODECS = ("h264", "vp8", "vp9", "av1", "theora")
#: a preview runs from the moment asked for to this many seconds later, when no end is given
PREVIEW_SECONDS = 10.0
#: and is at most this long (a whole duplicate range can be long)
PREVIEW_MAX_SECONDS = 60.0


def playable(path: str) -> bool:
    """Whether a browser can play the file itself with ``<video>``: a browser's container and
    video codec (an iPhone's HEVC ``.mov`` or a camera's MPEG-TS cannot be played)."""
    p = Path(path)
    if p.suffix.lower() not in BROWSER_CONTAINERS or not p.is_file():
        return False
    st = p.stat()
    return _video_codec(str(p), st.st_size, st.st_mtime_ns) in BROWSER_CODECS


@functools.lru_cache(maxsize=1024)
def _video_codec(path: str, _size: int, _mtime: int) -> str | None:
    """The first video stream's codec name (cached per file version: the page reruns often)."""
    import av

    from vidsift.video.streams import video_stream

    try:
        with av.open(path, metadata_errors="ignore") as c:
            v = video_stream(c)
            return v.codec_context.name if v is not None else None
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class Playback:
    """What a face hands to a ``<video>``: a file, and where in it to start (and stop)."""

    path: str
    start: float
    end: float | None
    preview: bool  # a re-encoded excerpt, not the file itself


def playback(ws: Workspace, path: str, video_id: str, start: float, end: float | None = None) -> Playback:
    """The file itself when a browser can play it, else an H.264 MP4 excerpt of ``[start,
    end)`` (``end`` None: ``PREVIEW_SECONDS`` on; at most ``PREVIEW_MAX_SECONDS``), cut with
    its audio once and kept under ``<workspace>/previews``.

    Raises:
        VidsiftError: the source cannot be read or the excerpt cannot be written.
    """
    start = max(0.0, float(start))
    if playable(path):
        return Playback(path, start, end, preview=False)
    stop = start + PREVIEW_SECONDS if end is None else float(end)
    stop = min(max(stop, start + 0.04), start + PREVIEW_MAX_SECONDS)
    target = ws.root / "previews" / f"{_safe(video_id)}-{round(start * 1000)}-{round(stop * 1000)}.mp4"
    if not target.is_file():
        from vidsift.video.cut import cut

        cut(path, target, start, stop, mode="reencode")
    return Playback(str(target), 0.0, None, preview=True)


def _safe(video_id: str) -> str:
    """A video id as a file name part (ids are hex; anything else cannot leave the folder)."""
    return "".join(ch if ch.isalnum() else "_" for ch in str(video_id))[:64] or "video"
