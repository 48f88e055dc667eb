"""What every view of the page shares: one-line errors, the cached index, thumbnails, progress bars."""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from vidsift.errors import VidsiftError
from vidsift.services import media
from vidsift.services import search as searching
from vidsift.workspace import Workspace

log = logging.getLogger("vidsift.app")

GRID_COLUMNS = 4


@contextlib.contextmanager
def shown_errors() -> Iterator[None]:
    """Show library errors as one line; anything else as one line too (traceback to the log)."""
    try:
        yield
    except VidsiftError as exc:
        st.error(str(exc))
    except Exception as exc:  # noqa: BLE001 - a page must never show a traceback
        log.error("unexpected error in the page:\n%s", traceback.format_exc())
        st.error(f"unexpected error: {type(exc).__name__}: {exc} (details in the server log)")


@st.cache_resource(max_entries=8, show_spinner="Loading the index…")
def cached_index(root: str, embedder: str, version: tuple[int, int] | None) -> Any:
    """The saved index; ``version`` (meta.json mtime/size) invalidates it when rebuilt."""
    from vidsift.services.indexes import load_workspace_index

    return load_workspace_index(Workspace(Path(root)), embedder)


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_videos(root: str, embedder: str, version: tuple[int, int] | None) -> list[searching.IndexedVideo]:
    return searching.indexed_videos(cached_index(root, embedder, version))


@st.cache_data(max_entries=5000, show_spinner=False)
def thumb(root: str, path: str, video_id: str, frame: int) -> np.ndarray | None:
    return media.safe_thumbnail(Workspace(Path(root)), path, video_id, int(frame))


def show_thumb(ws: Workspace, path: str, video_id: str, frame: int, caption: str | None = None, width: int | str = "stretch") -> None:
    img = thumb(str(ws.root), str(path), str(video_id), int(frame))
    if img is None:
        st.caption("(no thumbnail: video unreadable)")
    else:
        st.image(img, caption=caption, width=width)


class ProgressBar:
    """An ``st.progress`` bar that library ``on_progress`` callbacks can drive."""

    def __init__(self, text: str = "starting…") -> None:
        self.bar = st.progress(0.0, text=text)

    def fraction(self, text: str, frac: float) -> None:
        self.bar.progress(float(min(max(frac, 0.0), 1.0)), text=text)

    def frames(self, done: int, total: int, videos_done: int, videos: int) -> None:
        frac = done / total if total else 1.0
        self.fraction(f"{done}/{total} frames, {videos_done}/{videos} videos", frac)

    def scan(self, i: int, n: int, path: str) -> None:
        self.fraction(f"scanning {i + 1}/{n}: {Path(path).name}", (i + 1) / max(n, 1))

    def done(self) -> None:
        self.bar.empty()


def thumbnail_grid(ws: Workspace, rows, caption) -> None:
    """Thumbnails of the frames in ``rows`` (a DataFrame), captioned by ``caption(row)``."""
    images, captions = [], []
    for _, m in rows.iterrows():
        img = thumb(str(ws.root), m["path"], m["video_id"], int(m["frame"]))
        if img is not None:
            images.append(img)
            captions.append(caption(m))
    if images:
        st.image(images, caption=captions, width=110)


def keep_valid(key: str, options: Any) -> None:
    """Drop a session value that is not among a widget's options (a stale or hand-edited link)."""
    if key in st.session_state and st.session_state[key] not in list(options):
        del st.session_state[key]
