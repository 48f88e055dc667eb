"""The Evaluate view: temporal precision-recall, discovery scores and transfer, embedders side by
side, on the workspace's videos; and the scores on unseen data (``services.heldout``)."""

from __future__ import annotations

import streamlit as st

from vidsift.services import evaluate as evaluating
from vidsift.views.common import ProgressBar, shown_errors, store_names
from vidsift.workspace import Workspace


def page_evaluate(ws: Workspace) -> None:
    st.header("Evaluate")
    in_sample, unseen = st.tabs(["This workspace's videos", "Unseen data"])
    with in_sample:
        _in_sample(ws)
    with unseen:
        _unseen(ws)


def _in_sample(ws: Workspace) -> None:
    st.caption("Temporal precision-recall (middle frame of each shot vs its nearest 40 frames; same shot = relevant) "
               "and, when videos carry labels, the conditional entropy H(label | cluster) — each beside the RANDOM baseline.")
    names = store_names(ws)
    if not names:
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


def _unseen(ws: Workspace) -> None:
    """Held-out scores: what decides whether a trained encoder is any good (design decision 10)."""
    from vidsift.services import heldout
    from vidsift.services.train import list_checkpoints

    st.caption("Scenes and real footage that no encoder here was trained or tuned on (12 held-out photos filmed by "
               "a wandering camera; bikes.mp4 and cityCC0.mpg), each checkpoint beside raw pixels and its own "
               "random init (init:NAME), mean ± std over held-out seeds. H(photo | cluster): lower is better "
               "(RANDOM ≈ 3.5 bits); temporal PR AUC: higher is better. See docs/generalisation.md.")
    names = [f"ckpt:{c['name']}" for c in list_checkpoints(ws)]
    if not names:
        st.info("No trained checkpoints here yet (train one on the Train page): pixels alone is scored.")
    chosen = st.multiselect("Checkpoints", names, default=names, key="e_h_embs",
                            help="pixels and each checkpoint's random init are added beside them")
    seeds = st.number_input("Held-out seeds (new camera paths each)", min_value=1, max_value=20, value=3,
                            key="e_h_seeds")
    if st.button("Score on unseen data", key="e_h_run"):
        bar = ProgressBar("held-out scores…")
        with shown_errors():
            st.session_state["e_heldout"] = heldout.heldout_table(ws, chosen, seeds=range(int(seeds)),
                                                                  on_progress=bar.fraction)
        bar.done()
    results = st.session_state.get("e_heldout")
    if not results:
        return
    import pandas as pd
    from plotly.subplots import make_subplots

    collapsed = [f"{n} (mean pairwise cosine {r['mean_cosine']:.4f})" for n, r in results.items() if r.get("collapsed")]
    if collapsed:
        st.warning("Vectors collapsed (nearly all alike), so these scores say little: " + ", ".join(collapsed))
    st.dataframe(pd.DataFrame(heldout.table_rows(results)), hide_index=True, width="stretch")
    fig = make_subplots(rows=2, cols=2, vertical_spacing=0.3, subplot_titles=[
        f"{title} ({'lower' if lower else 'higher'} is better)" for _, title, lower in heldout.METRICS])
    for i, (key, _, _) in enumerate(heldout.METRICS):
        shown = [(n, r["raw"][key]) for n, r in results.items() if (r.get("raw") or {}).get(key)]
        fig.add_bar(x=[n for n, _ in shown], y=[v["mean"] for _, v in shown],
                    error_y={"type": "data", "array": [v["std"] for _, v in shown]},
                    marker_color=[_ROLE_COLOURS.get(results[n].get("role"), "grey") for n, _ in shown],
                    showlegend=False, row=i // 2 + 1, col=i % 2 + 1)
    fig.update_layout(height=940, margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      title="Unseen data: encoders (red) beside pixels (grey) and their random init (blue)")
    fig.update_annotations(font_size=11)
    st.plotly_chart(fig, width="stretch", key="e_h_plot")


_ROLE_COLOURS = {"encoder": "#d33f49", "baseline": "#8c8c8c", "init": "#4c78a8"}
