"""Section 1: slow-feature pooling auto-encoder (Goroshin et al. 2015), temporal coherence:
temporal precision-recall AUC of each embedding on the scene videos (and real footage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vidsift.reproduce.experiment import Experiment

#: (row label, embedder)
EMBEDDINGS: tuple[tuple[str, str], ...] = (
    ("raw pixels", "pixels"),
    ("ZCA pixels", "zca"),
    ("slow AE layer 1 (z1)", "ckpt:slow-ae@z1"),
    ("slow AE layer 2 (z2)", "ckpt:slow-ae@z2"),
    ("β = 0 layer 1 (no slowness)", "ckpt:slow-ae-beta0@z1"),
    ("β = 0 layer 2 (no slowness)", "ckpt:slow-ae-beta0@z2"),
    ("DrLIM fc6", "ckpt:drlim@fc6"),
    ("random-init slow AE z2", "random:slow-ae@z2"),
)


@dataclass(frozen=True)
class AucRow:
    label: str
    embedder: str
    auc: dict[str, float]  # data set -> temporal PR AUC


@dataclass(frozen=True)
class TemporalCoherence:
    datasets: tuple[str, ...]
    rows: tuple[AucRow, ...]
    random_auc: dict[str, float]  # data set -> AUC of a random ranking
    beta: float  # the slowness weight of the ``slow-ae`` run
    plots: dict[str, str]  # data set -> PNG file name under the plot folder

    def auc(self, embedder: str, dataset: str) -> float:
        return next(r.auc[dataset] for r in self.rows if r.embedder == embedder)


def evaluate(exp: Experiment) -> TemporalCoherence:
    from vidsift.discovery.evaluate import evaluate_temporal_pr
    from vidsift.discovery.plots import plot_pr_curves
    from vidsift.training.registry import get_method

    datasets = tuple(d for d in ("scenes", "real") if d in exp.folders)
    curves: dict[str, dict[str, Any]] = {d: {} for d in datasets}
    randoms: dict[str, dict] = {}
    rows = []
    for label, emb in EMBEDDINGS:
        auc = {}
        for d in datasets:
            data = exp.vectors(emb, d)
            scenes = (
                data.meta["video_id"].astype(str) + ":" + data.meta["shot"].astype(str)
            ).to_numpy()
            res = evaluate_temporal_pr(data.vectors, scenes, repeats=exp.s.repeats, seed=exp.seed)
            curves[d][label] = res["pr"]
            randoms[d] = res
            auc[d] = res["auc"]
        rows.append(AucRow(label, emb, auc))
    plots = {}
    for d in datasets:
        curves[d]["RANDOM"] = randoms[d]["random_pr"]
        plots[d] = f"temporal_pr_{d}.png"
        plot_pr_curves(curves[d], exp.out / plots[d], title=f"Temporal precision-recall ({d})")
    beta = exp.overrides("slow-ae", {}).get("beta", get_method("slow-ae").config("cpu").p("beta"))
    return TemporalCoherence(
        datasets,
        tuple(rows),
        {d: randoms[d]["random"]["auc"] for d in datasets},
        float(beta),
        plots,
    )
