"""Which stream of an opened PyAV container is the video: the first picture sequence, not a
song's cover art (a video stream marked ``attached_pic``). Used by every reader of containers
(the PyAV back-end, cutting clips, export's frame rates, the page's playability check)."""

from __future__ import annotations

from typing import Any


def is_cover(stream: Any) -> bool:
    """A still picture attached to the file (cover art), not frames."""
    return "attached_pic" in repr(getattr(stream, "disposition", None) or "").lower()


def video_stream(container: Any) -> Any | None:
    """The first video stream that is a picture sequence; None when there is none (an audio
    file, with or without its cover)."""
    return next((s for s in container.streams.video if not is_cover(s)), None)


def stream_kinds(container: Any) -> list[str]:
    """What a file without a video stream holds, in words ("audio", "cover art", "subtitle")."""
    return sorted({"cover art" if s.type == "video" and is_cover(s) else str(s.type) for s in container.streams})
