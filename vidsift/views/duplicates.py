"""The Duplicates view: find near-duplicate videos and repeated segments, play each pair side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from vidsift.services import duplicates as dups
from vidsift.views.common import (
    export_panel,
    keep_valid,
    player,
    show_thumb,
    shown_errors,
    store_names,
)
from vidsift.workspace import Workspace


def page_duplicates(ws: Workspace) -> None:
    st.header("Duplicates")
    st.caption("Pairs of videos (or two ranges of one video) whose frames match in time order for at least the "
               "minimum length: re-encodes, crops, speed changes, trims, repeats. docs/duplicates.md")
    names = store_names(ws)
    if not names:
        return
    keep_valid("u_emb", names)
    with st.container(border=True):
        c1, c2, c3 = st.columns([2, 1, 1])
        emb = c1.selectbox("Embedder", names, key="u_emb")
        thr = c2.number_input("Threshold (cosine distance)", min_value=0.01, max_value=1.0, step=0.05,
                              value=float(dups.DEFAULT_THRESHOLD), key="u_thr",
                              help="two frames match at or below this distance (centred, normalised vectors)")
        min_s = c3.number_input("Minimum seconds", min_value=0.1, max_value=3600.0, step=0.5,
                                value=float(dups.DEFAULT_MIN_SECONDS), key="u_min")
        if st.button("Find duplicates", type="primary"):
            with shown_errors(), st.spinner("Comparing videos…"):
                dups.find_duplicates(ws, emb, threshold=float(thr), min_seconds=float(min_s))
                st.session_state.pop("u_pair", None)
    result = dups.load_duplicates(ws, emb)
    if result is None:
        st.info(f"No duplicates search for {emb} yet: press **Find duplicates**.")
        return
    pairs = result["pairs"]
    st.subheader(f"{len(pairs)} pair{'' if len(pairs) == 1 else 's'} (threshold {result['threshold']:.2f}, at least {result['min_seconds']:g} s)")
    if not pairs:
        st.success("No two ranges match: no duplicates at this threshold.")
        return
    import pandas as pd

    st.dataframe(pd.DataFrame([_row(i, p) for i, p in enumerate(pairs, start=1)]), hide_index=True, width="stretch")
    n = len(pairs)
    if not isinstance(st.session_state.get("u_pair"), int) or not 1 <= st.session_state["u_pair"] <= n:
        st.session_state["u_pair"] = 1
    i = st.number_input("Pair", min_value=1, max_value=n, step=1, key="u_pair", help="the pair to play side by side")
    side_by_side(ws, pairs[int(i) - 1])
    with st.expander("Export these pairs (CSV, EDL, OTIO, contact sheet, clips)"), shown_errors():
        from vidsift.services.exports import segments_from_duplicates

        export_panel(ws, segments_from_duplicates(result), "u_export", f"{emb}-duplicates")


def _row(i: int, p: dict[str, Any]) -> dict[str, Any]:
    a, b = p["a"], p["b"]
    return {"pair": i, "score": round(float(p["score"]), 3), "kind": p["kind"], "frames": p["matched_frames"],
            "video A": Path(a["path"]).name, "range A": f"{a['start_timecode']}–{a['end_timecode']}",
            "video B": Path(b["path"]).name, "range B": f"{b['start_timecode']}–{b['end_timecode']}"}


def side_by_side(ws: Workspace, pair: dict[str, Any]) -> None:
    """The pair's two ranges, each as its best frame and a player limited to the range."""
    st.markdown(f"**score {float(pair['score']):.3f}** · {pair['matched_frames']} matched frames · {pair['kind']}")
    for col, side in zip(st.columns(2), ("a", "b"), strict=True):
        seg = pair[side]
        with col, st.container(border=True):
            name = Path(seg["path"]).name
            st.caption(f"**{side.upper()}: {name}** · {seg['start_timecode']}–{seg['end_timecode']} ({seg['duration']:.2f} s)")
            if seg.get("best_frame") is not None:
                show_thumb(ws, seg["path"], seg["video_id"], int(seg["best_frame"]), width=240)
            player(ws, seg["path"], seg["video_id"], float(seg["start"]), float(seg["end"]))
