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


def player(ws: Workspace, path: str, video_id: str, start: float, end: float | None = None) -> None:
    """A ``<video>`` from ``start`` (to ``end``): the file itself, or, for what a browser cannot
    play (MPEG-2, MPEG-TS, HEVC...), an H.264 excerpt cut once (``services.media.playback``)."""
    try:
        with st.spinner("Making a preview the browser can play…"):
            pb = media.playback(ws, path, video_id, start, end)
    except VidsiftError as exc:
        st.caption(f"{Path(path).name} cannot be played here: {exc}")
        return
    st.video(pb.path, start_time=pb.start, end_time=pb.end)
    if pb.preview:
        st.caption(f"a preview: {Path(path).name} is in a format the browser cannot play")


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


def export_panel(ws: Workspace, segments: Any, key: str, default_name: str) -> None:
    """Export ``segments`` (a list of ``Segment``) for an editor: CSV, EDL, OTIO, contact sheet,
    clips with audio, zipped for download (``vidsift export``; docs/export.md)."""
    from vidsift.services import exports
    from vidsift.workspace import safe_name

    if not segments:
        st.caption("nothing to export")
        return
    c1, c2, c3 = st.columns([2, 1, 2])
    formats = c1.multiselect("Formats", list(exports.FORMATS), default=["csv", "edl", "otio", "sheet"], key=f"{key}_fmt",
                             help="clips: cut with audio, stream-copied when a segment starts on a keyframe")
    max_clips = c2.number_input("Clips at most (0: all)", min_value=0, max_value=100_000, value=0, key=f"{key}_max")
    template = c3.text_input("Clip names", value=exports.DEFAULT_TEMPLATE, key=f"{key}_tpl",
                             help="fields: {video} {cluster} {start} {end} {index} {frame} {label}")
    # keyed by the default too: another selection (another cluster) proposes its own name
    name = st.text_input("Export name", value=safe_name(default_name), key=f"{key}_name_{safe_name(default_name)}")
    if st.button(f"Export {len(segments)} segments", key=f"{key}_go", disabled=not formats):
        with st.spinner("Exporting…"):
            summary, zip_path = exports.export_segments_zip(ws, segments, name, formats=formats,
                                                            max_clips=int(max_clips) or None, template=template)
        st.session_state[f"{key}_zip"] = str(zip_path)
        st.success(f"exported {summary['n_segments']} segments to {summary['out_dir']}: "
                   + ", ".join(summary["files"][:6]) + (" …" if len(summary["files"]) > 6 else ""))
        for line in summary["skipped"][:5]:
            st.warning(line)
    zip_path = st.session_state.get(f"{key}_zip")
    if zip_path and Path(zip_path).is_file():
        st.download_button("Download the zip", data=Path(zip_path).read_bytes(), file_name=Path(zip_path).name,
                           mime="application/zip", key=f"{key}_download")


def store_names(ws: Workspace) -> list[str]:
    """The embedders with a store; none: a hint to embed first (the views that need a store)."""
    from vidsift.services import contents

    names = contents.stores(ws)
    if not names:
        st.info("No embeddings yet: scan and embed a folder of videos on the Library page.")
    return names
