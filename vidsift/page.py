"""vidsift's Streamlit page: ``streamlit run app.py`` or ``vidsift app``.

Five pages (sidebar): Library, Search, Discover, Evaluate, Train. The page only lays out widgets
and calls library functions (design decision 9): the catalog, ``embedder.extract``,
the use cases of ``vidsift.services`` and ``vidsift.ui_support``. Errors from the library
(``VidsiftError``) are shown as one line with ``st.error``, never as a traceback.

How things are kept between reruns:

* the loaded FAISS index: ``st.cache_resource`` keyed by (workspace, embedder, mtime/size of the
  index's ``meta.json``), so a rebuilt index is picked up at the next rerun;
* thumbnails: ``st.cache_data`` (they also live as JPEGs under ``<workspace>/thumbnails``);
* the query (video, frame), the player position and the last results: ``st.session_state``.

Clicking a search result: every result has a "Search from here" button; its callback writes the
result's video and frame into the query widgets' state before the rerun, so the page then shows
(and searches from) the new query.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from vidsift import ui_support as ui
from vidsift.errors import VidsiftError
from vidsift.services import contents, library, media, train_jobs
from vidsift.services import discover as discovering
from vidsift.services import evaluate as evaluating
from vidsift.services import search as searching
from vidsift.services.indexes import frame_at_time, search_workspace
from vidsift.timecode import parse_time, timecode
from vidsift.workspace import Workspace, read_log

log = logging.getLogger("vidsift.app")

PAGES = ("Library", "Search", "Discover", "Evaluate", "Train")
GRID_COLUMNS = 4


# ------------------------------------------------------------------------------- helpers
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


# ------------------------------------------------------------------------------- sidebar
def sidebar() -> tuple[Workspace | None, str]:
    st.sidebar.title("vidsift")
    if "ws_path" not in st.session_state:
        st.session_state["ws_path"] = contents.default_workspace()
    st.sidebar.text_input(
        "Workspace folder", key="ws_path",
        help="Everything vidsift writes lives here (catalog, embeddings, indexes, exports).",
    )
    page = st.sidebar.radio("Page", PAGES, key="page")
    ws = None
    try:
        ws = contents.open_workspace(st.session_state["ws_path"])
    except VidsiftError as exc:
        st.sidebar.error(str(exc))
    if ws is not None:
        st.sidebar.caption(f"`{ws.root}`")
    return ws, page


# ------------------------------------------------------------------------------- Library
def page_library(ws: Workspace) -> None:
    st.header("Library")
    st.caption("The videos in the catalog. Scan a folder to add videos, embed them, then build an index to search.")

    with st.container(border=True):
        st.subheader("Add videos")
        if "lib_folder" not in st.session_state:
            with shown_errors():
                st.session_state["lib_folder"] = library.default_folder(ws)
        st.text_input("Folder of videos", key="lib_folder", placeholder="/path/to/videos",
                      help="Sub-folder names become labels (used by the scores).")
        c1, c2, c3 = st.columns([2, 1, 1])
        with shown_errors():
            from vidsift.embedder.registry import available_embedders

            names = [e["name"] for e in available_embedders(ws) if e.get("kind") != "store"]
            c1.selectbox("Embedder", names, key="lib_embedder",
                         accept_new_options=True,
                         help="pixels / zca are baselines; random:METHOD an untrained network; ckpt:NAME a trained "
                              "checkpoint. Type another name, e.g. pixels@32 or pixels+random:siamese.")
        c2.number_input("Every Nth frame", min_value=1, max_value=1000, value=1, key="lib_every")
        c3.checkbox("Build the index", value=True, key="lib_build", help="Build (or rebuild) the search index after embedding.")
        b1, b2, _ = st.columns([1, 1, 4])
        embed_clicked = b1.button("Scan and embed", type="primary", width="stretch")
        scan_clicked = b2.button("Scan only", width="stretch", help="Add the folder's videos to the catalog without embedding.")
        folder = st.session_state.get("lib_folder", "")
        if scan_clicked:
            with shown_errors():
                bar = ProgressBar("scanning…")
                report, _ = library.scan(ws, folder, on_file=bar.scan)
                bar.done()
                st.success(
                    f"scanned {report.root}: {len(report.added)} added, {len(report.updated)} updated, "
                    f"{len(report.moved)} moved, {len(report.removed)} removed, {len(report.unchanged)} unchanged, "
                    f"{len(report.failed)} failed"
                )
                for path, reason in report.failed:
                    st.warning(f"{path}: {reason}")
        if embed_clicked:
            with shown_errors():
                embed_folder(ws, folder, st.session_state.get("lib_embedder", "pixels"),
                             int(st.session_state["lib_every"]), bool(st.session_state["lib_build"]))

    with shown_errors():
        rows = library.library_rows(ws)
        if not rows:
            st.info("The catalog is empty: give a folder of videos above and press **Scan only** or **Scan and embed**.")
        else:
            ok = sum(r["status"] == "ok" for r in rows)
            st.subheader(f"{len(rows)} files ({ok} readable, {len(rows) - ok} with errors)")
            max_thumbs = 200
            for r in rows[:max_thumbs]:
                img = thumb(str(ws.root), r["path"], r["video_id"], 0) if r["status"] == "ok" else None
                r["thumbnail"] = ui.image_data_url(img)
            import pandas as pd

            df = pd.DataFrame(rows)[["thumbnail", "name", "label", "duration", "frames", "fps", "size",
                                     "shots", "status", "error", "embedded", "video_id", "path"]]
            st.dataframe(
                df, hide_index=True, width="stretch",
                column_config={
                    "thumbnail": st.column_config.ImageColumn("frame 0", width="small"),
                    "duration": st.column_config.NumberColumn("duration (s)", format="%.2f"),
                    "shots": st.column_config.NumberColumn("shots"),
                    "embedded": st.column_config.TextColumn("embedded with"),
                },
            )
            if len(rows) > max_thumbs:
                st.caption(f"thumbnails shown for the first {max_thumbs} files")

    with shown_errors():
        index_section(ws)


def embed_folder(ws: Workspace, folder: str, embedder: str, every: int, build: bool) -> None:
    from vidsift.embedder.extract import extract
    from vidsift.services.indexes import build_workspace_index

    if not str(folder).strip():
        st.error("give a folder of videos to embed")
        return
    bar = ProgressBar("scanning and embedding…")
    # workers=0: decode in this process; forking worker processes from the threaded server is unsafe
    report = extract(ws, folder, embedder, every=every if every > 1 else None, progress=False,
                     on_progress=bar.frames, workers=0)
    bar.done()
    st.success(f"{embedder}: {len(report.done)} videos embedded ({report.frames} frames), "
               f"{len(report.skipped)} already done, {len(report.failed)} failed")
    for path, reason in report.failed:
        st.warning(f"{path}: {reason}")
    for note in report.notes:
        st.info(note)
    if build:
        with st.spinner("Building the index…"):
            summary = build_workspace_index(ws, report.embedder)
        st.success(f"index of {summary['embedder']}: {summary['vectors']} vectors from {summary['videos']} videos ({summary['kind']})")


def index_section(ws: Workspace) -> None:
    names = contents.stores(ws)
    if not names:
        return
    st.subheader("Embeddings and indexes")
    indexed = set(contents.indexed_embedders(ws))
    for name in names:
        c1, c2 = st.columns([3, 1])
        n_videos, _ = contents.store_version(ws, name)
        c1.markdown(f"**{name}** — {n_videos} videos embedded — " + ("index built" if name in indexed else "*no index yet*"))
        if c2.button("Rebuild index" if name in indexed else "Build index", key=f"build_{name}"):
            from vidsift.services.indexes import build_workspace_index

            with shown_errors(), st.spinner(f"Building the index of {name}…"):
                s = build_workspace_index(ws, name)
                st.success(f"index of {name}: {s['vectors']} vectors, {s['videos']} videos ({s['kind']})")


# ------------------------------------------------------------------------------- Search
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


def set_player(path: str, time: float, title: str) -> None:
    st.session_state["s_play"] = {"path": path, "time": float(time), "title": title}


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
    emb = c1.selectbox("Embedder", names, key="s_emb")
    c2.radio("Query", ["A frame of a video", "An image file"], key="s_mode", horizontal=True)
    version = contents.index_version(ws, emb)
    vi = cached_index(str(ws.root), emb, version)
    videos = cached_videos(str(ws.root), emb, version)
    by_id = {v.id: v for v in videos}
    frame_query = st.session_state["s_mode"] == "A frame of a video"

    o1, o2, o3, o4 = st.columns([1, 1, 1, 2])
    k = o1.number_input("Results", min_value=1, max_value=200, value=12, key="s_k")
    o2.checkbox("Exclude the query's video", key="s_excl_video", disabled=not frame_query)
    o3.number_input("Exclude ± frames", min_value=0, max_value=100_000, value=0, key="s_window",
                    disabled=not frame_query, help="Leave out frames of the query's video this close to the query frame.")
    only = o4.multiselect("Only these videos", list(by_id), format_func=lambda i: by_id[i].title(), key="s_only",
                          placeholder="all videos")

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
            up = st.file_uploader(f"Image to search with (JPEG or PNG, up to {searching.MAX_UPLOAD_MB} MB)",
                                  type=list(searching.IMAGE_TYPES), max_upload_size=searching.MAX_UPLOAD_MB, key="s_upload")
            if up is None:
                st.info("Upload an image to find the frames that look like it.")
                return
            img = searching.load_upload(up.name, up.getvalue())
            st.image(img, width=200, caption=f"Query: {up.name}")
            query = {"image": img}
            query_img = None
    with p_col:
        if frame_query and query_img is not None:
            show_thumb(ws, *query_img, width=240)
        play = st.session_state.get("s_play")
        if play:
            st.caption(f"▶ {play['title']}")
            if media.playable(play["path"]):
                st.video(play["path"], start_time=float(play["time"]))
            else:
                st.caption(f"{Path(play['path']).name} cannot be played in the browser (only MP4/WebM/MOV).")

    with st.spinner("Searching…"):
        hits = search_workspace(ws, emb, videos=only or None, k=int(k), **query)
    st.session_state["s_hits"] = hits
    st.subheader(f"{len(hits)} nearest frames")
    for start in range(0, len(hits), GRID_COLUMNS):
        cols = st.columns(GRID_COLUMNS)
        for i, (col, h) in enumerate(zip(cols, hits[start : start + GRID_COLUMNS], strict=False), start=start):
            with col, st.container(border=True):
                name = Path(h["path"]).name
                show_thumb(ws, h["path"], h["video_id"], h["frame"])
                label = f" ({h['label']})" if h.get("label") else ""
                dist = max(float(h["distance"]), 0.0)  # 1 - cos can round to -0.0000
                st.caption(f"**{i + 1}. {name}**{label} · {h['timecode']} ({h['time']:.3f} s) · frame {h['frame']} · "
                           f"shot {h['shot']} · d={dist:.4f}")
                st.button("Search from here", key=f"hit_{i}", on_click=set_query, args=(h["video_id"], h["frame"]),
                          width="stretch", help="make this frame the query")
                st.button("▶ Play", key=f"play_{i}", on_click=set_player,
                          args=(h["path"], h["time"], f"{name} at {h['timecode']}"), width="stretch",
                          help="play the video from this frame's time")


# ------------------------------------------------------------------------------- Discover
def page_discover(ws: Workspace) -> None:
    st.header("Discover")
    names = contents.stores(ws)
    if not names:
        st.info("No embeddings yet: scan and embed a folder of videos on the Library page.")
        return
    with st.container(border=True):
        c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
        emb = c1.selectbox("Embedder", names, key="d_emb")
        algorithm = c2.selectbox("Algorithm", ["kmeans", "spectral"], key="d_alg")
        auto = c3.checkbox("Auto K", value=True, key="d_auto", help="choose the number of clusters from the data")
        k = c4.number_input("K", min_value=2, max_value=1000, value=8, key="d_k", disabled=auto)
        seed = c5.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="d_seed")
        with_map = st.checkbox("Compute the 2-D map (UMAP; slower the first time)", value=True, key="d_with_map")
        if st.button("Run discovery", type="primary"):
            from vidsift.services.discover import run_discovery

            with shown_errors():
                bar = ProgressBar("starting…")
                res = run_discovery(ws, emb, algorithm=algorithm, k="auto" if auto else int(k), seed=int(seed),
                                    with_map=with_map, progress=False, on_progress=bar.fraction)
                bar.done()
                res["seed"] = int(seed)
                discovering.save_last_run(ws, emb, res)
                st.session_state.pop("d_zip", None)

    try:
        assign = discovering.load_assignments(ws, emb)
    except VidsiftError:
        st.info(f"No clusters for {emb} yet: press **Run discovery**.")
        return
    last = discovering.load_last_run(ws, emb) or {}
    sizes = discovering.cluster_sizes(assign)
    st.subheader(f"{len(sizes)} clusters of {len(assign)} frames"
                 + (f" ({last.get('algorithm')}, seed {last.get('seed', 0)})" if last else ""))
    show_scores(last)

    import plotly.express as px

    fig = px.bar(sizes.assign(cluster=sizes["cluster"].astype(str)), x="cluster", y="size",
                 labels={"size": "frames"}, height=260)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_type="category")
    st.plotly_chart(fig, width="stretch", key="d_sizes")

    tab_gallery, tab_map, tab_export = st.tabs(["Cluster galleries", "2-D map", "Export"])
    with tab_gallery, shown_errors():
        gallery(ws, assign, sizes)
    with tab_map, shown_errors():
        cluster_map(ws, emb, int(last.get("seed", 0)))
    with tab_export, shown_errors():
        export_panel(ws, emb)


def show_scores(last: dict[str, Any]) -> None:
    scores = last.get("scores")
    if scores and scores.get("conditional_entropy"):
        ce, rnd = scores["conditional_entropy"], scores["random"]
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("H(label | cluster), bits", f"{ce['mean']:.3f} ± {ce['std']:.3f}", help="lower is better; 0 = pure clusters")
        c2.metric("RANDOM baseline, bits", f"{rnd['mean']:.3f} ± {rnd['std']:.3f}", help="random assignment to the same K")
        c3.metric("purity", f"{scores['purity']['mean']:.3f}")
        c4.metric("NMI", f"{scores['nmi']['mean']:.3f}")
    elif last.get("message"):
        st.caption(f"No scores: {last['message']}")


def gallery(ws: Workspace, assign: Any, sizes: Any) -> None:
    c1, c2 = st.columns(2)
    n_clusters = c1.number_input("Clusters shown (largest first)", min_value=1, max_value=max(1, len(sizes)),
                                 value=min(10, len(sizes)), key="d_show")
    per = c2.number_input("Frames per cluster (nearest the centre)", min_value=1, max_value=60, value=8, key="d_per")
    for _, row in sizes.head(int(n_clusters)).iterrows():
        members = discovering.cluster_members(assign, int(row["cluster"]), int(per))
        labels = members["label"].dropna()
        top = f" · mostly '{labels.mode().iat[0]}'" if len(labels) else ""
        st.markdown(f"**Cluster {int(row['cluster'])}** — {int(row['size'])} frames{top}")
        thumbnail_grid(ws, members, lambda m: f"{Path(m['path']).name} {m['time']:.1f}s")


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


def cluster_map(ws: Workspace, emb: str, seed: int) -> None:
    if not discovering.map_cache_exists(ws, emb) and not st.checkbox("Compute the map now", key="d_map_now"):
        st.info("The map was not computed in the last run; tick the box to compute it (UMAP).")
        return
    import plotly.express as px

    with st.spinner("Projecting to 2-D…"):
        df = discovering.cluster_map(ws, emb, seed)
    df["video"] = df["path"].map(lambda p: Path(p).name)
    df["frame id"] = df["video_id"].astype(str) + ":" + df["frame"].astype(str)
    df["cluster "] = df["cluster"].astype(str)
    colour_by = "cluster "
    if df["label"].notna().any():
        colour_by = "label" if st.radio("Colour by", ["cluster", "label"], horizontal=True, key="d_colour") == "label" else "cluster "
    order = sorted(df[colour_by].dropna().unique(), key=lambda c: (len(str(c)), str(c)))
    fig = px.scatter(
        df, x="x", y="y", color=colour_by, custom_data=["row"], category_orders={colour_by: order},
        hover_data={"frame id": True, "video": True, "frame": True, "time": ":.2f", "label": True, "cluster": True,
                    "x": False, "y": False, "row": False, colour_by: False},
        height=560,
    )
    fig.update_traces(marker={"size": 5})
    fig.update_layout(dragmode="lasso", margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_visible=False, yaxis_visible=False)
    st.caption("Draw a lasso (or a box) around points to see their frames.")
    event = st.plotly_chart(fig, width="stretch", key="d_map", on_select="rerun", selection_mode=("lasso", "box", "points"))
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    rows = sorted({int(p["customdata"][0] if isinstance(p.get("customdata"), list) else p["customdata"]) for p in points if "customdata" in p})
    if rows:
        sel = df.iloc[rows]
        st.markdown(f"**{len(sel)} frames selected**")
        thumbnail_grid(ws, sel.head(40), lambda m: f"{m['video']} {m['time']:.1f}s (c{m['cluster']})")
        st.dataframe(sel[["video", "frame", "time", "shot", "label", "cluster"]], hide_index=True, width="stretch")


def export_panel(ws: Workspace, emb: str) -> None:
    from vidsift.workspace import safe_name

    st.caption(f"Writes clusters.csv, clusters.json and per-cluster thumbnails + contact sheets to `{ws.exports}/NAME`, then zips it.")
    name = st.text_input("Export name", value=safe_name(f"{emb}-clusters"), key="d_export_name")
    if st.button("Export"):
        with st.spinner("Exporting…"):
            summary, zip_path = discovering.export_zip(ws, emb, name)
        st.session_state["d_zip"] = str(zip_path)
        st.success(f"exported {summary['n_clusters']} clusters ({summary['n_frames']} frames, {summary['n_thumbnails']} thumbnails) to {summary['out_dir']}")
        for s in summary["skipped"][:5]:
            st.warning(s)
    zip_path = st.session_state.get("d_zip")
    if zip_path and Path(zip_path).is_file():
        st.download_button("Download the zip", data=Path(zip_path).read_bytes(), file_name=Path(zip_path).name,
                           mime="application/zip", key="d_download")


# ------------------------------------------------------------------------------- Evaluate
def page_evaluate(ws: Workspace) -> None:
    st.header("Evaluate")
    st.caption("Temporal precision-recall (middle frame of each shot vs its nearest 40 frames; same shot = relevant) "
               "and, when videos carry labels, the conditional entropy H(label | cluster) — each beside the RANDOM baseline.")
    names = contents.stores(ws)
    if not names:
        st.info("No embeddings yet: scan and embed a folder of videos on the Library page.")
        return
    chosen = st.multiselect("Embedders", names, default=names, key="e_embs")
    repeats = st.number_input("Repeats (mean ± std)", min_value=1, max_value=50, value=5, key="e_repeats")
    if st.button("Evaluate", type="primary", disabled=not chosen):
        bar = ProgressBar("evaluating…")
        st.session_state["e_results"] = evaluating.evaluate_embedders(ws, chosen, repeats=int(repeats), on_progress=bar.fraction)
        bar.done()
    results = st.session_state.get("e_results")
    if not results:
        return
    for name, r in results.items():
        for err in r["errors"]:
            st.warning(f"{name}: {err}")
    import plotly.graph_objects as go

    fig = go.Figure()
    random_shown = False
    for name, r in results.items():
        pr = r.get("temporal_pr")
        if not pr:
            continue
        fig.add_scatter(x=pr["recall"], y=pr["precision"], mode="lines+markers", marker={"size": 4},
                        name=f"{name} (AUC {pr['auc']:.3f})")
        if not random_shown:
            rnd = pr["random"]
            fig.add_scatter(x=rnd["recall"], y=rnd["precision"], mode="lines", line={"dash": "dash", "color": "grey"},
                            name=f"RANDOM (AUC {rnd['auc']:.3f})")
            random_shown = True
    if fig.data:
        fig.update_layout(xaxis_title="recall", yaxis_title="precision", yaxis_range=[0, 1.02], height=420,
                          title="Temporal precision-recall", margin={"l": 10, "r": 10, "t": 40, "b": 10})
        st.plotly_chart(fig, width="stretch", key="e_pr")
    st.dataframe(evaluating.evaluation_table(results), hide_index=True, width="stretch")

    transfer = evaluating.transfer_table(results)
    if len(transfer):
        st.subheader("Transfer: few labels")
        st.caption("Linear probe on frozen features, 1 labelled video per class for training and the rest for testing "
                   "(split by video); similarity: same-label vs other-label video pairs scored by cosine distance.")
        st.dataframe(transfer, hide_index=True, width="stretch")
        roc = go.Figure()
        for name, r in results.items():
            sim = r.get("similarity")
            if sim and sim.get("roc"):
                roc.add_scatter(x=sim["roc"]["fpr"], y=sim["roc"]["tpr"], mode="lines", name=f"{name} (AUC {sim['auc']:.3f})")
        if roc.data:
            roc.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": "grey"}, name="chance")
            roc.update_layout(xaxis_title="false positive rate", yaxis_title="true positive rate", height=380,
                              title="Same / not-same ROC", margin={"l": 10, "r": 10, "t": 40, "b": 10})
            st.plotly_chart(roc, width="stretch", key="e_roc")


# ------------------------------------------------------------------------------- Train
def page_train(ws: Workspace) -> None:
    st.header("Train")
    from vidsift.training.registry import METHODS

    if not METHODS:
        st.error("no training methods are installed")
        return
    with st.container(border=True):
        c1, c2 = st.columns([2, 1])
        method = c1.selectbox("Method", list(METHODS), key="t_method")
        c1.caption(getattr(METHODS[method], "DESCRIPTION", ""))
        preset = c2.radio("Preset", ["cpu", "paper"], key="t_preset", horizontal=True,
                          help="cpu: small inputs, minutes on a laptop; paper: the paper's sizes (GPU)")
        if "t_folder" not in st.session_state:
            with shown_errors():
                st.session_state["t_folder"] = library.default_folder(ws)
        c3, c4 = st.columns([2, 1])
        c3.text_input("Folder of videos to train on", key="t_folder", help="Scanned into the catalog first.")
        steps = c4.number_input("Steps (0: the preset's)", min_value=0, max_value=10_000_000, value=0, step=100, key="t_steps")
        run = ws.training_run(method, preset)
        how = "new run"
        if run.has_checkpoint:
            how = st.radio(f"`{run.name}` already holds a checkpoint",
                           ["resume it", "start over"], key="t_how", horizontal=True)
        if st.button("Start training", type="primary"):
            with shown_errors():
                job = train_jobs.start_training(ws, method, st.session_state["t_folder"], preset, steps=int(steps) or None,
                                        resume=how == "resume it", overwrite=how == "start over")
                st.success(f"started {method} ({preset}), pid {job.pid}; writing to {job.run_dir}")
    jobs = train_jobs.training_jobs(ws)
    running = any(train_jobs.job_state(j) == "running" for j in jobs)
    st.fragment(run_every=2.0 if running else None)(training_view)(str(ws.root))


def training_view(root: str) -> None:
    ws = Workspace(Path(root))
    jobs = {Path(j.run_dir).name: j for j in train_jobs.training_jobs(ws)}
    runs = train_jobs.training_runs(ws)
    names = list(dict.fromkeys([*jobs, *(r.name for r in runs)]))
    if not names:
        st.info("No training runs yet.")
        return
    import pandas as pd
    import plotly.express as px

    from vidsift.services.train import list_checkpoints

    info = {c["name"]: c for c in list_checkpoints(ws)}
    for name in names:
        job = jobs.get(name)
        state = train_jobs.job_state(job) if job else "from the command line"
        with st.container(border=True):
            c1, c2 = st.columns([4, 1])
            c1.markdown(f"**{name}** — {state}")
            if job is not None and state == "running":
                c2.button("Stop", key=f"stop_{name}", on_click=train_jobs.stop_training, args=(job,), type="primary")
            run = job.run if job else ws.run(name)
            df = pd.DataFrame(read_log(run.log))
            if len(df) and "loss" in df:
                last = df.iloc[-1]
                total = info.get(name, {}).get("steps")
                st.caption(f"step {int(last['step'])}" + (f" of {total}" if total else "") + f", loss {float(last['loss']):.4f}"
                           + (f" — embed with `ckpt:{name}`" if run.has_checkpoint else ""))
                # a fine-tune log holds two runs over the same steps: one line each
                fig = px.line(df, x="step", y="loss", color="run" if "run" in df else None, markers=True, height=260)
                fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10})
                st.plotly_chart(fig, width="stretch", key=f"loss_{name}")
            else:
                st.caption("no loss logged yet")
            if job is not None:
                out = train_jobs.tail(job.output, 15)
                if out:
                    with st.expander("output"):
                        st.code(out, language=None)


# ------------------------------------------------------------------------------- main
def main() -> None:
    st.set_page_config(page_title="vidsift", page_icon="🎞️", layout="wide")
    ws, page = sidebar()
    if ws is None:
        st.info("Choose a workspace folder in the sidebar.")
        return
    render = {"Library": page_library, "Search": page_search, "Discover": page_discover,
              "Evaluate": page_evaluate, "Train": page_train}[page]
    with shown_errors():
        render(ws)


main()
