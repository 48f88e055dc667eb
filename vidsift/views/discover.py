"""The Discover view: cluster an embedder's frames, scores, galleries, the 2-D map, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from vidsift.errors import VidsiftError
from vidsift.services import discover as discovering
from vidsift.views.common import (
    ProgressBar,
    export_panel,
    keep_valid,
    shown_errors,
    store_names,
    thumbnail_grid,
)
from vidsift.workspace import Workspace


def page_discover(ws: Workspace) -> None:
    st.header("Discover")
    names = store_names(ws)
    if not names:
        return
    with st.container(border=True):
        c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
        keep_valid("d_emb", names)
        emb = c1.selectbox("Embedder", names, key="d_emb")
        # the controls start at the settings of the run shown below, not at defaults beside it
        shown = discovering.run_settings(discovering.load_last_run(ws, emb))
        algorithms = ["kmeans", "spectral"]
        algorithm = c2.selectbox("Algorithm", algorithms, key="d_alg", index=algorithms.index(shown["algorithm"]))
        auto = c3.checkbox("Auto K", value=shown["auto"], key="d_auto", help="choose the number of clusters from the data")
        k = c4.number_input("K", min_value=2, max_value=1000, value=shown["k"], key="d_k", disabled=auto)
        seed = c5.number_input("Seed", min_value=0, max_value=2**31 - 1, value=shown["seed"], key="d_seed")
        with_map = st.checkbox("Compute the 2-D map (UMAP; slower the first time)", value=True, key="d_with_map")
        if st.button("Run discovery", type="primary"):
            from vidsift.services.discover import run_discovery

            with shown_errors():
                bar = ProgressBar("starting…")
                run_discovery(ws, emb, algorithm=algorithm, k="auto" if auto else int(k), seed=int(seed),
                                    with_map=with_map, progress=False, on_progress=bar.fraction)
                bar.done()
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
        cluster_report_panel(ws, emb)
        editor_export(ws, emb)


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
    ids = [str(int(c)) for c in sizes["cluster"]]
    keep_valid("d_cluster", ["all", *ids])
    st.session_state.setdefault("d_cluster", "all")
    c0, c1, c2 = st.columns(3)
    chosen = c0.selectbox("Cluster", ["all", *ids], key="d_cluster",
                          help="one cluster (its link can be shared: the address bar names it) or all of them")
    if chosen == "all":
        n_clusters = c1.number_input("Clusters shown (largest first)", min_value=1, max_value=max(1, len(sizes)),
                                     value=min(10, len(sizes)), key="d_show")
        shown = sizes.head(int(n_clusters))
    else:
        shown = sizes[sizes["cluster"].astype(int) == int(chosen)]
    per = c2.number_input("Frames per cluster (nearest the centre)", min_value=1, max_value=60, value=8, key="d_per")
    for _, row in shown.iterrows():
        members = discovering.cluster_members(assign, int(row["cluster"]), int(per))
        labels = members["label"].dropna()
        top = f" · mostly '{labels.mode().iat[0]}'" if len(labels) else ""
        st.markdown(f"**Cluster {int(row['cluster'])}** — {int(row['size'])} frames{top}")
        thumbnail_grid(ws, members, lambda m: f"{Path(m['path']).name} {m['time']:.1f}s")
    if chosen != "all":
        cluster_segments_table(ws, int(chosen))


def cluster_segments_table(ws: Workspace, cluster: int) -> None:
    """The chosen cluster's frames as moments: adjacent frames of one video merged."""
    import pandas as pd

    from vidsift.services.exports import segments_from_clusters

    segs = segments_from_clusters(ws, st.session_state["d_emb"], clusters=[cluster])
    st.markdown(f"**{len(segs)} segments** (frames of one video at most 1 s apart merged)")
    st.dataframe(pd.DataFrame([{"video": Path(g.path).name, "start": d["start_timecode"], "end": d["end_timecode"],
                                "seconds": round(g.duration, 2), "frames": g.frames, "label": g.label}
                               for g in segs for d in [g.to_dict()]]), hide_index=True, width="stretch")


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


def cluster_report_panel(ws: Workspace, emb: str) -> None:
    from vidsift.workspace import safe_name

    st.subheader("Cluster report")
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


def editor_export(ws: Workspace, emb: str) -> None:
    from vidsift.services.exports import segments_from_clusters

    st.subheader("For a video editor")
    chosen = st.session_state.get("d_cluster", "all")
    which = None if chosen in (None, "all") else [int(chosen)]
    st.caption("Each cluster's frames merged into segments (adjacent frames of one video, gaps up to 1 s), "
               + ("all clusters." if which is None else f"cluster {chosen} (chosen in the galleries)."))
    segments = segments_from_clusters(ws, emb, clusters=which)
    export_panel(ws, segments, "d_edit", f"{emb}-clusters-" + ("all" if which is None else str(chosen)))
