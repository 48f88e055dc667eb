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


class WorkspaceError(VidsiftError):
    """Something in the workspace is missing, foreign or from another embedder/method."""
