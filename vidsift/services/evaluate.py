"""The evaluation use case: every score by name (``EVALUATIONS``; ``heldout``, the scores on
unseen videos of unseen subjects, lives in ``vidsift.services.heldout``), one embedder at a time
(``evaluate_workspace``) or several side by side (``evaluate_embedders``: one failing
evaluation is reported, the rest go on), and the tables faces show of them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vidsift.discovery.evaluate import (
    cluster,
    evaluate_discovery,
    evaluate_retrieval,
    evaluate_temporal_pr,
)
from vidsift.discovery.transfer import (
    linear_probe,
    plot_roc,
    similarity_roc,
    video_labels_of,
    video_means,
)
from vidsift.discovery.validate import usable_labels
from vidsift.errors import BadInputError, VidsiftError
from vidsift.services.contents import no_store_message, stores
from vidsift.services.discover import load_folder_embeddings, plots_dir
from vidsift.services.heldout import heldout_scores
from vidsift.workspace import Workspace


def temporal_pr(ws: Workspace, embedder: str, repeats: int = 10, seed: int = 0) -> dict[str, Any]:
    """Goroshin's temporal precision-recall (middle frame of each shot, nearest 40), with RANDOM
    and the PR curves plotted under ``<ws>/plots/<embedder>/``."""
    from vidsift.discovery.plots import plot_pr_curves

    data = load_folder_embeddings(ws, embedder)
    meta = data.meta
    scenes = (meta["video_id"].astype(str) + ":" + meta["shot"].astype(str)).to_numpy()
    res = evaluate_temporal_pr(data.vectors, scenes, repeats=repeats, seed=seed)
    plot = plot_pr_curves({embedder: res.pop("pr"), "RANDOM": res.pop("random_pr")},
                          plots_dir(ws, embedder) / "temporal_pr.png")
    return {"embedder": embedder, "evaluation": "temporal-pr", **res, "plots": {"temporal_pr": str(plot)}}


def discovery_scores(
    ws: Workspace, embedder: str, k: int | None = None, algorithm: str = "kmeans", repeats: int = 10, seed: int = 0
) -> dict[str, Any]:
    """Conditional entropy H(label | cluster), purity and NMI with RANDOM (Redondo-Cabrera et al.);
    ``k`` defaults to the number of labels."""
    from vidsift.discovery.plots import plot_cluster_sizes

    data = load_folder_embeddings(ws, embedder)
    labels = data.meta["label"].to_numpy()
    lab, _, message = usable_labels(labels, len(data.meta))
    if lab is None:
        raise BadInputError(f"discovery scores need labels (sub-folder names); {message}")
    kk = k if k is not None else len(set(lab.tolist()))
    res = evaluate_discovery(data.vectors, labels, kk, algorithm, repeats=repeats, seed=seed)
    est = cluster(data.vectors, res["k"], algorithm, seed)
    plot = plot_cluster_sizes(est.labels_, plots_dir(ws, embedder) / f"{algorithm}_cluster_sizes.png")
    return {"embedder": embedder, "evaluation": "discovery", **res, "plots": {"cluster_sizes": str(plot)}}


def retrieval(
    ws: Workspace, embedder: str, k: int = 20, exclude_same_video: bool = True, repeats: int = 10, seed: int = 0
) -> dict[str, Any]:
    """Retrieval rate@K: the share of the top K with the query's label (Wang & Gupta)."""
    data = load_folder_embeddings(ws, embedder)
    meta = data.meta
    groups = meta["video_id"].to_numpy() if exclude_same_video else None
    res = evaluate_retrieval(data.vectors, meta["label"].to_numpy(), k=k or 20, exclude_same_group=groups,
                             repeats=repeats, seed=seed)
    if res["rate"] is None:
        raise BadInputError(f"retrieval rate needs labels (sub-folder names); {res['message']}")
    return {"embedder": embedder, "evaluation": "retrieval", "exclude_same_video": exclude_same_video, **res}


def probe_workspace(
    ws: Any, embedder: str, shots: int = 5, repeats: int = 10, seed: int = 0, folder: str | Path | None = None
) -> dict[str, Any]:
    """``vidsift evaluate probe``: :func:`linear_probe` on the store of ``embedder`` in ``ws``
    (restricted to the videos catalogued under ``folder`` when given)."""

    data = load_folder_embeddings(ws, embedder, folder)
    meta = data.meta
    res = linear_probe(data.vectors, meta["label"].to_numpy(), meta["video_id"].to_numpy(), shots=shots, repeats=repeats, seed=seed)
    return {"embedder": embedder, "evaluation": "probe", **res}

def similarity_workspace(
    ws: Any, embedder: str, pairs: int = 1000, repeats: int = 10, seed: int = 0, folder: str | Path | None = None
) -> dict[str, Any]:
    """``vidsift evaluate similarity``: :func:`similarity_roc` on the video means of the store of
    ``embedder``; the ROC curve goes to ``<ws>/plots/<embedder>/similarity_roc.png``."""

    data = load_folder_embeddings(ws, embedder, folder)
    meta = data.meta
    video_label, mask, message = video_labels_of(meta["label"].to_numpy(), meta["video_id"].to_numpy())
    ids, means = video_means(data.vectors[mask], meta["video_id"].to_numpy()[mask])
    res = similarity_roc(means, [video_label[i] for i in ids], seed=seed, pairs=pairs, repeats=repeats)
    path = plot_roc(
        {embedder: (np.asarray(res["roc"]["fpr"]), np.asarray(res["roc"]["tpr"]), res["auc"])},
        plots_dir(ws, embedder) / "similarity_roc.png",
        f"{embedder}: same / not-same video pairs",
    )
    return {"embedder": embedder, "evaluation": "similarity", **res, "message": message, "plots": {"similarity_roc": str(path)}}

#: Every evaluation by name: ``function(workspace, embedder, **options) -> dict``. The CLI
#: (``vidsift evaluate NAME``), the page (``evaluate_embedders``) and the API use this one list.
EVALUATIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "temporal-pr": temporal_pr,
    "discovery": discovery_scores,
    "retrieval": retrieval,
    "probe": probe_workspace,
    "similarity": similarity_workspace,
    # trained elsewhere, scored on unseen videos of unseen photos + real footage (issue #19)
    "heldout": heldout_scores,
}
#: what ``evaluate_embedders`` runs for each embedder (retrieval repeats discovery's question;
#: heldout embeds its own data set, so it runs only when asked: ``vidsift evaluate heldout``)
FANOUT = ("temporal-pr", "discovery", "probe", "similarity")


def evaluate_workspace(ws: Workspace, embedder: str, what: str, **options: Any) -> dict[str, Any]:
    """Run the evaluation ``what`` (a name of ``EVALUATIONS``) on the store of ``embedder``.

    Raises:
        BadInputError: an unknown evaluation or option, or what the evaluation refuses.
    """
    fn = EVALUATIONS.get(what)
    if fn is None:
        raise BadInputError(f"unknown evaluation {what!r}; choose {', '.join(EVALUATIONS)}")
    accepted = set(inspect.signature(fn).parameters) - {"ws", "embedder"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise BadInputError(f"evaluation {what!r} takes no option {unknown[0]!r}; it takes {', '.join(sorted(accepted))}")
    return fn(ws, embedder, **options)


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

    out: dict[str, dict[str, Any]] = {}
    have = set(stores(ws))
    for i, name in enumerate(embedders):
        if on_progress:
            on_progress(f"evaluating {name}", i / max(len(embedders), 1))
        res: dict[str, Any] = {what.replace("-", "_"): None for what in FANOUT} | {"errors": []}
        out[name] = res
        if name not in have:  # one line, not the same one from each evaluation
            res["errors"].append(no_store_message(ws, name))
            continue
        for what in FANOUT:
            options = {"shots": probe_shots} if what == "probe" else {}
            try:
                res[what.replace("-", "_")] = evaluate_workspace(ws, name, what, repeats=repeats, seed=seed, **options)
            except VidsiftError as exc:  # labels missing, too few videos...: one line, the rest go on
                res["errors"].append(f"{what}: {exc}")
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
    table = pd.DataFrame(rows)
    return table.astype({"K": "Int64"})  # an integer, and blank (not NaN) where an embedder has none
