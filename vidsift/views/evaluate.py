"""The Evaluate view: temporal precision-recall, discovery scores and transfer, embedders side by side."""

from __future__ import annotations

import streamlit as st

from vidsift.services import evaluate as evaluating
from vidsift.views.common import ProgressBar, store_names
from vidsift.workspace import Workspace


def page_evaluate(ws: Workspace) -> None:
    st.header("Evaluate")
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
