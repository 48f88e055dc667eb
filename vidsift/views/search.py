"""The Search view: a frame, a time or an image as the query; results as cards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from vidsift import ui_support as ui
from vidsift.errors import VidsiftError
from vidsift.services import contents, uploads
from vidsift.services import search as searching
from vidsift.services.indexes import frame_at_time, search_workspace
from vidsift.timecode import parse_time, timecode
from vidsift.views.common import (
    GRID_COLUMNS,
    cached_index,
    cached_videos,
    export_panel,
    keep_valid,
    player,
    show_thumb,
    shown_errors,
)
from vidsift.workspace import Workspace

QUERY_MODES = ("A frame of a video", "An image file")


def go_to_time(vi: Any, video_id: str) -> None:
    """Callback of "Go to time": the query becomes the indexed frame on screen at that time."""
    text = str(st.session_state.get("s_at") or "").strip()
    st.session_state["s_at_error"] = None
    if not text:
        return
    try:
        st.session_state["s_frame"] = frame_at_time(vi, video_id, parse_time(text))
    except VidsiftError as exc:
        st.session_state["s_at_error"] = str(exc)


def set_query(video_id: str, frame: int) -> None:
    """Callback of "Search from here" / "Pick": make (video, frame) the query."""
    st.session_state["s_mode"] = "A frame of a video"
    st.session_state["s_video"] = video_id
    st.session_state["s_frame"] = int(frame)


def set_player(path: str, time: float, title: str, video_id: str = "") -> None:
    st.session_state["s_play"] = {"path": path, "time": float(time), "title": title, "video_id": video_id}


def page_search(ws: Workspace) -> None:
    st.header("Search")
    names = contents.indexed_embedders(ws)
    if not names:
        missing = contents.stores(ws)
        if missing:
            st.info(f"Embeddings exist for {', '.join(missing)} but no index yet: build one on the Library page.")
        else:
            st.info("Nothing to search yet: scan and embed a folder of videos on the Library page.")
        return
    c1, c2 = st.columns([2, 1])
    keep_valid("s_emb", names)
    keep_valid("s_mode", QUERY_MODES)
    emb = c1.selectbox("Embedder", names, key="s_emb")
    c2.radio("Query", QUERY_MODES, key="s_mode", horizontal=True)
    version = contents.index_version(ws, emb)
    vi = cached_index(str(ws.root), emb, version)
    videos = cached_videos(str(ws.root), emb, version)
    by_id = {v.id: v for v in videos}
    frame_query = st.session_state["s_mode"] == "A frame of a video"

    o1, o2, o3, o4 = st.columns([1, 1, 1, 2])
    # defaults through session state, not value=: a shared link (url_state) may have set them
    st.session_state.setdefault("s_k", 12)
    st.session_state.setdefault("s_window", 0)
    st.session_state["s_k"] = min(max(int(st.session_state["s_k"]), 1), 200)
    st.session_state["s_only"] = [i for i in st.session_state.get("s_only", []) if i in by_id]
    k = o1.number_input("Results", min_value=1, max_value=200, key="s_k")
    o2.checkbox("Exclude the query's video", key="s_excl_video", disabled=not frame_query)
    o3.number_input("Exclude ± frames", min_value=0, max_value=100_000, key="s_window",
                    disabled=not frame_query, help="Leave out frames of the query's video this close to the query frame.")
    only = o4.multiselect("Only these videos", list(by_id), format_func=lambda i: by_id[i].title(), key="s_only",
                          placeholder="all videos")
    filters = filter_row(vi)
    if filters is None:
        return

    query: dict[str, Any]
    q_col, p_col = st.columns([3, 2])
    with q_col:
        if frame_query:
            if st.session_state.get("s_video") not in by_id:
                st.session_state["s_video"] = videos[0].id
            vid = st.selectbox("Video", list(by_id), format_func=lambda i: by_id[i].title(), key="s_video")
            v = by_id[vid]
            frames = v.frames
            cur = st.session_state.get("s_frame")
            if not isinstance(cur, int) or not frames[0] <= cur <= frames[-1]:
                st.session_state["s_frame"] = int(frames[0])
            if len(frames) > 1:
                st.slider("Frame", min_value=int(frames[0]), max_value=int(frames[-1]), step=ui.frame_step(frames), key="s_frame")
            st.text_input("Go to time", key="s_at", placeholder="12.5 or 00:00:12.500", on_change=go_to_time,
                          args=(vi, v.id), help="Jump the query to the indexed frame on screen at this time.")
            if st.session_state.get("s_at_error"):
                st.error(st.session_state["s_at_error"])
            frame = ui.snap_frame(frames, int(st.session_state["s_frame"]))
            strip = ui.strip_frames(frames, 8)
            cols = st.columns(len(strip))
            for col, f in zip(cols, strip, strict=True):
                with col:
                    show_thumb(ws, v.path, v.id, f)
                    st.button(f"#{f}", key=f"pick_{f}", on_click=set_query, args=(v.id, f), width="stretch",
                              type="primary" if f == frame else "secondary", help=f"search from frame {f}")
            qtime = searching.frame_time(vi, v.id, frame)
            st.markdown(f"**Query:** {v.name} · frame {frame} · {timecode(qtime)} ({qtime:.3f} s)")
            query = {"video": v.id, "frame": frame, "exclude_same_video": bool(st.session_state["s_excl_video"]),
                     "exclude_window": int(st.session_state["s_window"])}
            query_img = (v.path, v.id, frame)
        else:
            up = st.file_uploader(f"Image to search with (JPEG or PNG, up to {uploads.MAX_UPLOAD_MB} MB)",
                                  type=list(uploads.IMAGE_TYPES), max_upload_size=uploads.MAX_UPLOAD_MB, key="s_upload")
            if up is None:
                st.info("Upload an image to find the frames that look like it.")
                return
            img = uploads.load_upload(up.name, up.getvalue())
            st.image(img, width=200, caption=f"Query: {up.name}")
            query = {"image": img}
            query_img = None
    with p_col:
        if frame_query and query_img is not None:
            show_thumb(ws, *query_img, width=240)
        play = st.session_state.get("s_play")
        if play:
            st.caption(f"▶ {play['title']}")
            player(ws, play["path"], play.get("video_id", ""), float(play["time"]))

    with st.spinner("Searching…"):
        results = search_workspace(ws, emb, videos=only or None, k=int(k), **filters, **query)
    st.session_state["s_hits"] = results
    if filters.get("group"):
        segment_cards(ws, results, filters["group"], asked=int(k))
    else:
        frame_cards(ws, results)
    if results:
        with st.expander("Export these results (CSV, EDL, OTIO, contact sheet, clips)"), shown_errors():
            from vidsift.services.exports import segments_from_search

            export_panel(ws, segments_from_search(results), "s_export", f"{emb}-search")


GROUPS = {"segment": "moments (segments)", "shot": "shots", "video": "videos", "frame": "single frames"}


def filter_row(vi: Any) -> dict[str, Any] | None:
    """Grouping and filters (one validator each, shared with the CLI); None when one is invalid."""
    st.session_state.setdefault("s_group", "segment")  # moments, not 12 neighbouring frames of one shot
    keep_valid("s_group", GROUPS)
    st.session_state.setdefault("s_gap", searching.DEFAULT_GAP)
    labels = searching.indexed_labels(vi)
    st.session_state["s_labels"] = [x for x in st.session_state.get("s_labels", []) if x in labels]
    f1, f2, f3, f4, f5 = st.columns([1, 1, 2, 1, 1])
    group = f1.selectbox("Show", list(GROUPS), format_func=GROUPS.get, key="s_group",
                         help="moments: hits of one video within the gap merged into one result with start and end")
    f2.number_input("Gap (s)", min_value=0.0, max_value=3600.0, step=0.5, key="s_gap", disabled=group != "segment",
                    help="hits of one video this close in time join one moment")
    f3.multiselect("Labels", labels, key="s_labels", placeholder="all labels", disabled=not labels,
                   help="only videos with these labels (their sub-folder names)")
    f4.text_input("Time range", key="s_range", placeholder="10-20 or 0:10-0:20",
                  help="only frames in this range of their video: A-B, A- or -B (seconds or timecodes)")
    f5.text_input("Max distance", key="s_maxd", placeholder="none", help="leave out hits farther than this")
    out: dict[str, Any] = {"labels": st.session_state["s_labels"] or None}
    try:
        out["time_range"] = searching.check_time_range(st.session_state.get("s_range") or None)
        maxd = str(st.session_state.get("s_maxd") or "").strip()
        out["max_distance"] = searching.check_max_distance(maxd) if maxd else None
        if group != "frame":
            out["group"], out["gap"] = searching.check_group(group, st.session_state["s_gap"] if group == "segment" else None)
    except VidsiftError as exc:
        st.error(str(exc))
        return None
    return out


def card_grid(items: list[dict[str, Any]], card: Callable[[int, dict[str, Any]], None]) -> None:
    """``card(rank, item)`` for every item, in bordered cells of a ``GRID_COLUMNS``-wide grid."""
    for start in range(0, len(items), GRID_COLUMNS):
        cols = st.columns(GRID_COLUMNS)
        for i, (col, item) in enumerate(zip(cols, items[start : start + GRID_COLUMNS], strict=False), start=start):
            with col, st.container(border=True):
                card(i, item)


def _who(h: dict[str, Any]) -> tuple[str, str, float]:
    """(file name, " (label)" or "", distance) of a result."""
    return Path(h["path"]).name, f" ({h['label']})" if h.get("label") else "", float(h["distance"])


def frame_cards(ws: Workspace, hits: list[dict[str, Any]]) -> None:
    st.subheader(f"{len(hits)} nearest frames")

    def card(i: int, h: dict[str, Any]) -> None:
        name, label, dist = _who(h)
        show_thumb(ws, h["path"], h["video_id"], h["frame"])
        st.caption(f"**{i + 1}. {name}**{label} · {h['timecode']} ({h['time']:.3f} s) · frame {h['frame']} · "
                   f"shot {h['shot']} · d={dist:.4f}")
        st.button("Search from here", key=f"hit_{i}", on_click=set_query, args=(h["video_id"], h["frame"]),
                  width="stretch", help="make this frame the query")
        st.button("▶ Play", key=f"play_{i}", on_click=set_player,
                  args=(h["path"], h["time"], f"{name} at {h['timecode']}", h["video_id"]), width="stretch",
                  help="play the video from this frame's time")

    card_grid(hits, card)


def segment_cards(ws: Workspace, segments: list[dict[str, Any]], group: str, asked: int) -> None:
    """One card per moment: its best frame, start-end, how many hits it merges; play from its start."""
    st.subheader(f"{len(segments)} nearest {GROUPS[group]}")
    short = searching.fewer_than_asked(asked, len(segments), group)
    if short:
        st.caption(short)

    def card(i: int, g: dict[str, Any]) -> None:
        name, label, dist = _who(g)
        show_thumb(ws, g["path"], g["video_id"], g["best_frame"])
        st.caption(f"**{i + 1}. {name}**{label} · {g['start_timecode']}–{g['end_timecode']} "
                   f"({g['duration']:.2f} s) · {g['frames']} hits · best frame {g['best_frame']} · d={dist:.4f}")
        st.button("▶ Play from start", key=f"seg_play_{i}", on_click=set_player,
                  args=(g["path"], g["start"], f"{name} from {g['start_timecode']}", g["video_id"]), width="stretch",
                  help="play the video from the start of this moment")
        st.button("Search from best frame", key=f"seg_hit_{i}", on_click=set_query,
                  args=(g["video_id"], g["best_frame"]), width="stretch", help="make its best frame the query")

    card_grid(segments, card)
