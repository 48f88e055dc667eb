"""The Library view: scan and embed a folder, the catalog's table, the stores and their indexes."""

from __future__ import annotations

import streamlit as st

from vidsift import ui_support as ui
from vidsift.services import contents, library
from vidsift.views.common import ProgressBar, shown_errors, thumb
from vidsift.workspace import Workspace


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
        b1, b2, b3, _ = st.columns([1.4, 1, 1, 2.6])
        embed_clicked = b1.button("Scan and embed", type="primary", width="stretch")
        scan_clicked = b2.button("Scan only", width="stretch", help="Add the folder's videos to the catalog without embedding.")
        update_clicked = b3.button(
            "Update", width="stretch",
            help="vidsift update: scan, embed what is new or changed, drop deleted videos from the stores and "
                 "indexes, and bring every index in step — for every embedder that has a store (or the one above).")
        folder = st.session_state.get("lib_folder", "")
        if update_clicked:
            with shown_errors():
                update_library(ws, folder, st.session_state.get("lib_embedder", "pixels"))
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
            failed = [r for r in rows if r["status"] != "ok"]
            if failed:
                with st.expander(f"{len(failed)} file(s) that could not be read"):
                    st.markdown("\n".join(f"- `{r['path']}`: {r['error']}" for r in failed))

    with shown_errors():
        index_section(ws)


def update_library(ws: Workspace, folder: str, embedder: str) -> None:
    from vidsift.services.update import update_folder

    if not str(folder).strip():
        st.error("give a folder of videos to update")
        return
    bar = ProgressBar("updating…")
    # the stores the workspace holds; on a fresh workspace, the embedder chosen above
    res = update_folder(ws, folder, None if contents.stores(ws) else [embedder], workers=0,
                        on_progress=lambda stage, done, total: bar.fraction(f"{stage}: {done}/{total}", done / max(total, 1)))
    bar.done()
    if res["nothing_to_do"]:
        st.success(f"{res['folder']}: already up to date")
    for name, r in res["embedders"].items():
        if res["nothing_to_do"]:
            break
        idx = r.get("index") or {}
        st.success(f"{name}: {len(r['added'])} added, {len(r['changed'])} changed, {len(r['removed'])} removed, "
                   f"{len(r['moved'])} moved, {r['unchanged']} unchanged; index {idx.get('action', 'none')}")
        for f in r["failed"]:
            st.warning(f"{f['path']}: {f['reason']}")


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
