"""The evaluation fan-out: every score of several embedders, one failing embedder reported, not fatal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from vidsift.errors import VidsiftError
from vidsift.workspace import Workspace


def evaluate_embedders(
    ws: Workspace,
    embedders: Sequence[str],
    repeats: int = 5,
    seed: int = 0,
    on_progress: Callable[[str, float], None] | None = None,
    probe_shots: int = 1,
) -> dict[str, dict[str, Any]]:
    """Temporal PR and (when labels exist) discovery, linear-probe and similarity scores of each
    embedder.

    Returns ``{embedder: {"temporal_pr": dict | None, "discovery": dict | None, "errors":
    [str]}}``; an embedder that fails is reported in ``errors``, the others go on.
    """
    from vidsift.discovery.transfer import probe_workspace, similarity_workspace
    from vidsift.discovery.workflow import evaluate_workspace

    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(embedders):
        if on_progress:
            on_progress(f"evaluating {name}", i / max(len(embedders), 1))
        res: dict[str, Any] = {"temporal_pr": None, "discovery": None, "probe": None, "similarity": None, "errors": []}
        for what, key in (("temporal-pr", "temporal_pr"), ("discovery", "discovery")):
            try:
                res[key] = evaluate_workspace(ws, name, what, repeats=repeats, seed=seed)
            except VidsiftError as exc:
                res["errors"].append(f"{what}: {exc}")
        # transfer scores (need labelled videos: several per class); a failure is one warning
        for key, fn, kw in (("probe", probe_workspace, {"shots": probe_shots}), ("similarity", similarity_workspace, {})):
            try:
                res[key] = fn(ws, name, repeats=repeats, seed=seed, **kw)
            except VidsiftError as exc:
                res["errors"].append(f"{key}: {exc}")
        out[name] = res
    if on_progress:
        on_progress("done", 1.0)
    return out


def transfer_table(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per embedder: linear-probe accuracy (split by video) and same/not-same ROC AUC."""
    rows = []
    for name, r in results.items():
        p, sim = r.get("probe") or {}, r.get("similarity") or {}
        if not p and not sim:
            continue
        acc = p.get("accuracy", {})

        def ms(d: dict[str, Any] | None) -> str:
            return "" if not d else f"{d['mean']:.3f} ± {d['std']:.3f}"

        rows.append({
            "embedder": name,
            "probe logreg (video)": ms(acc.get("logreg", {}).get("video_vote")),
            "probe 1-NN (frame)": ms(acc.get("knn1", {}).get("frame")),
            "chance": f"{p['chance']['uniform']:.3f}" if p.get("chance") else "",
            "similarity ROC AUC": f"{sim['auc']:.3f}" if sim.get("auc") is not None else "",
        })
    return pd.DataFrame(rows)


def evaluation_table(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per embedder: temporal-PR AUC vs RANDOM, H(label|cluster) vs RANDOM, purity, NMI."""

    def ms(d: dict[str, Any] | None) -> str:
        return "" if not d else f"{d['mean']:.3f} ± {d['std']:.3f}"

    rows = []
    for name, r in results.items():
        pr, disc = r.get("temporal_pr") or {}, r.get("discovery") or {}
        rnd = pr.get("random") or {}
        rows.append({
            "embedder": name,
            "temporal PR AUC": pr.get("auc"),
            "RANDOM AUC": rnd.get("auc"),
            "K": disc.get("k"),
            "H(label|cluster) bits": ms(disc.get("conditional_entropy")),
            "RANDOM H": ms(disc.get("random")),
            "purity": ms(disc.get("purity")),
            "NMI": ms(disc.get("nmi")),
        })
    return pd.DataFrame(rows)
