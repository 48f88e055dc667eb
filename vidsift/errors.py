"""Errors that reach the user as one readable line.

Library code raises these with a message that names the file and says what to do; the CLI and the
Streamlit page print ``str(err)`` and never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class VidsiftError(Exception):
    """Base class: ``str(err)`` is the whole message a user sees."""

    exit_code = 2


class BadInputError(VidsiftError, ValueError):
    """An argument, a path or a file the user gave cannot be used."""


class VideoError(VidsiftError):
    """A video file cannot be read; the message starts with its path."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self) -> tuple:  # from a reader process to the engine, intact
        return (VideoError, (self.path, self.reason))


class NoVideoStreamError(VideoError):
    """The container was read and holds no video stream (an audio file, subtitles): a fact about
    the file, so no other back-end is tried."""

    def __init__(self, path: str | Path, kinds: list[str] | tuple[str, ...] = ()) -> None:
        self.kinds = tuple(kinds)
        only = f" (only {', '.join(kinds)})" if kinds else ""
        super().__init__(path, f"has no video stream{only}")

    def __reduce__(self) -> tuple:
        return (NoVideoStreamError, (self.path, self.kinds))


class WorkspaceError(VidsiftError):
    """Something in the workspace is missing, foreign or from another embedder/method."""
