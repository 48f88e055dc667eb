"""`vidsift discover` (the whole job on a folder) and `vidsift evaluate` (scores and plots)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidsift.cli.common import (
    DEFAULT_WS,
    EmbedderOpt,
    JsonOpt,
    WorkspaceOpt,
    emit,
    no_k_for_clusters,
    stage_printer,
    workspace,
)
from vidsift.errors import BadInputError

OldKOpt = Annotated[str | None, typer.Option("--k", hidden=True, help="Refused: use --clusters.")]


def _clusters(value: str) -> int | str:
    if value == "auto":
        return "auto"
    try:
        return int(value)
    except ValueError:
        raise BadInputError(f"--clusters must be an integer or 'auto', got {value!r}") from None


def discover(
    embedder: EmbedderOpt,
    folder: Annotated[Path | None, typer.Argument(
        help="Folder of videos, scanned and embedded first; leave it out to cluster what the workspace holds.")] = None,
    algorithm: Annotated[str, typer.Option(help="kmeans | spectral")] = "kmeans",
    clusters: Annotated[str, typer.Option("--clusters", help="Number of clusters, or 'auto'.")] = "auto",
    k: OldKOpt = None,
    export: Annotated[Path | None, typer.Option(help="Export clusters to this folder.")] = None,
    force: Annotated[bool, typer.Option(help="Allow a non-empty export folder.")] = False,
    clips: Annotated[bool, typer.Option(help="Also export a clip (with audio) per member segment.")] = False,
    max_clips: Annotated[int | None, typer.Option("--max-clips", help="At most N clips per cluster (default: all).")] = None,
    gap: Annotated[float, typer.Option("--gap", help="Member frames at most S seconds apart form one clip.")] = 1.0,
    every: Annotated[int | None, typer.Option(help="Embed every Nth frame.")] = None,
    fps: Annotated[float | None, typer.Option(help="Embed F frames per second.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    repeats: Annotated[int, typer.Option(help="Repeats for mean ± std of scores.")] = 10,
    no_map: Annotated[bool, typer.Option("--no-map", help="Skip the UMAP map (faster).")] = False,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Scan, embed (if needed), cluster, score (when labels exist) and optionally export FOLDER.

    Without FOLDER: every video the workspace holds for the embedder.

    For editor files (CSV, EDL, OTIO, contact sheet, named clips) of the clusters afterwards:
    `vidsift export clusters OUT -e EMBEDDER` (docs/export.md)."""
    from vidsift.services.discover import run_discovery

    no_k_for_clusters(k)
    if folder is None and (every is not None or fps is not None):
        raise BadInputError("--every / --fps choose the frames to embed: give the FOLDER to embed too")
    res = run_discovery(
        workspace(ws), embedder, folder=folder, algorithm=algorithm, k=_clusters(clusters), seed=seed,
        repeats=repeats, export=export, force=force, clips=clips, every=every, fps=fps,
        with_map=not no_map, progress=not as_json, max_clips=max_clips, clip_gap=gap,
        on_progress=stage_printer("discover", show=not as_json),
    )

    def human(r: dict) -> None:
        typer.echo(f"{r['n_frames']} frames of {r['n_videos']} videos, {r['algorithm']} K={r['k']}; sizes {r['sizes']}")
        s = r.get("scores")
        if s and s.get("conditional_entropy"):
            ce, rnd = s["conditional_entropy"], s["random"]
            typer.echo(f"conditional entropy H(label|cluster): {ce['mean']:.3f} ± {ce['std']:.3f} bits   RANDOM {rnd['mean']:.3f} ± {rnd['std']:.3f}")
            typer.echo(f"purity {s['purity']['mean']:.3f}   NMI {s['nmi']['mean']:.3f}")
        elif r.get("message"):
            typer.echo(r["message"])
        for name, p in r["plots"].items():
            typer.echo(f"plot {name}: {p}")
        if "export" in r:
            typer.echo(f"exported to {r['export'].get('out_dir', export)}")

    emit(res, as_json, human)


evaluate_app = typer.Typer(help="Scores of an embedder, with plots under the workspace.", no_args_is_help=True)


def _evaluate(what: str, embedder: str, ws: Path, as_json: bool, **kw) -> None:
    from vidsift.services.evaluate import evaluate_workspace

    res = evaluate_workspace(workspace(ws), embedder, what, **kw)
    emit(res, as_json, _print_scores)


def _print_scores(r: dict, indent: str = "") -> None:
    """Scalars and mean ± std pairs, one per line; curves (lists) are left to --json and the plots."""
    for key, value in r.items():
        if isinstance(value, dict) and set(value) >= {"mean", "std"} and not isinstance(value["mean"], list | dict):
            typer.echo(f"{indent}{key}: {value['mean']:.4f} ± {value['std']:.4f}")
        elif isinstance(value, dict):
            typer.echo(f"{indent}{key}:")
            _print_scores(value, indent + "  ")
        elif isinstance(value, float):
            typer.echo(f"{indent}{key}: {value:.4f}")
        elif value is not None and not isinstance(value, list | tuple):
            typer.echo(f"{indent}{key}: {value}")


@evaluate_app.command("temporal-pr")
def evaluate_temporal_pr(embedder: EmbedderOpt, ws: WorkspaceOpt = DEFAULT_WS, as_json: JsonOpt = False) -> None:
    """Temporal precision-recall (Goroshin et al.): middle frame of each shot vs the nearest 40."""
    _evaluate("temporal-pr", embedder, ws, as_json)


@evaluate_app.command("discovery")
def evaluate_discovery(
    embedder: EmbedderOpt,
    algorithm: Annotated[str, typer.Option(help="kmeans | spectral")] = "kmeans",
    clusters: Annotated[int | None, typer.Option("--clusters", help="Clusters (default: number of labels).")] = None,
    k: OldKOpt = None,
    repeats: Annotated[int, typer.Option(help="Repeats for mean ± std.")] = 10,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Conditional entropy H(label|cluster) in bits with the RANDOM baseline (Redondo-Cabrera et al.)."""
    no_k_for_clusters(k)
    _evaluate("discovery", embedder, ws, as_json, k=clusters, algorithm=algorithm, repeats=repeats)


@evaluate_app.command("retrieval")
def evaluate_retrieval(
    embedder: EmbedderOpt,
    k: Annotated[int, typer.Option("-k", "--k", help="Top K neighbours.")] = 20,
    same_video: Annotated[bool, typer.Option("--same-video/--other-videos", help="Count neighbours from the query's own video.")] = False,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Retrieval rate@K: share of the top K with the query's label (Wang & Gupta)."""
    _evaluate("retrieval", embedder, ws, as_json, k=k, exclude_same_video=not same_video)


@evaluate_app.command("probe")
def evaluate_probe(
    embedder: EmbedderOpt,
    shots: Annotated[int, typer.Option("--shots", help="Labelled training videos per class; the rest are tested.")] = 5,
    repeats: Annotated[int, typer.Option(help="Random splits for mean ± std.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Few-shot k-NN (k=1, 5; cosine) and logistic-regression accuracy on frozen embeddings, split by video."""
    from vidsift.services.evaluate import evaluate_workspace

    res = evaluate_workspace(workspace(ws), embedder, "probe", shots=shots, repeats=repeats, seed=seed)

    def human(r: dict) -> None:
        typer.echo(f"{r['embedder']}: {r['n_classes']} classes, {r['shots']} training videos per class, {r['repeats']} splits")
        typer.echo(f"{'accuracy':<10}{'frame':>16}{'video vote':>16}{'video mean':>16}")
        for clf, levels in r["accuracy"].items():
            typer.echo(f"{clf:<10}" + "".join(f"{levels[lv]['mean']:>9.3f} ± {levels[lv]['std']:.3f}" for lv in ("frame", "video_vote", "video_mean")))
        maj = r["chance"]["majority"]
        typer.echo(f"chance: 1/C {r['chance']['uniform']:.3f}, majority {maj['frame']['mean']:.3f} (frames) {maj['video']['mean']:.3f} (videos)")
        if r.get("message"):
            typer.echo(r["message"])

    emit(res, as_json, human)


@evaluate_app.command("similarity")
def evaluate_similarity(
    embedder: EmbedderOpt,
    pairs: Annotated[int, typer.Option("--pairs", help="Video pairs, half same-class, half not.")] = 1000,
    repeats: Annotated[int, typer.Option(help="Validation/test halvings for mean ± std.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Same / not-same video pairs by cosine distance of mean embeddings: ROC AUC and accuracy (ASLAN protocol)."""
    from vidsift.services.evaluate import evaluate_workspace

    res = evaluate_workspace(workspace(ws), embedder, "similarity", pairs=pairs, repeats=repeats, seed=seed)

    def human(r: dict) -> None:
        typer.echo(f"{r['embedder']}: {r['n_pairs']} pairs ({r['n_same']} same, {r['n_not_same']} not) of {r['n_videos']} videos")
        typer.echo(f"ROC AUC {r['auc']:.3f}   accuracy {r['accuracy']['mean']:.3f} ± {r['accuracy']['std']:.3f} (chance {r['chance']:.1f})")
        typer.echo(f"plot similarity_roc: {r['plots']['similarity_roc']}")

    emit(res, as_json, human)


@evaluate_app.command("heldout")
def evaluate_heldout(
    embedder: Annotated[list[str], typer.Option("--embedder", "-e", help="Embedder to score; repeat for several.")],
    seeds: Annotated[int, typer.Option("--seeds", help="Held-out seeds (new camera paths each) for mean ± std.")] = 3,
    repeats: Annotated[int, typer.Option(help="K-means repeats per seed.")] = 3,
    whitened: Annotated[bool, typer.Option("--whitened", help="Also show the scores after PCA-whitening.")] = False,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Scores on videos AND photos no encoder saw, beside pixels and each checkpoint's random init.

    12 held-out photos and the real footage (docs/generalisation.md)."""
    from vidsift.services.heldout import heldout_table, table_rows

    results = heldout_table(workspace(ws), embedder, seeds=range(seeds), repeats=repeats,
                            on_progress=stage_printer("evaluate heldout", show=not as_json))

    def human(r: dict) -> None:
        import pandas as pd

        for variant in ("raw", "white") if whitened else ("raw",):
            if variant == "white":
                typer.echo("\nafter centring + PCA-whitening (64 dims, fitted per set):")
            typer.echo(pd.DataFrame(table_rows(r, variant)).to_string(index=False))
        for name, res in r.items():
            if res.get("collapsed"):
                typer.echo(f"warning: {name}: vectors collapsed (mean pairwise cosine {res['mean_cosine']:.4f})")

    emit(results, as_json, human)


@evaluate_app.command("all")
def evaluate_all(
    embedder: Annotated[list[str], typer.Option("--embedder", "-e", help="Embedder to score; repeat for several.")],
    repeats: Annotated[int, typer.Option(help="Repeats for mean ± std.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    shots: Annotated[int, typer.Option("--shots", help="Labelled videos per class for the linear probe.")] = 1,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Every score (temporal PR, discovery, probe, similarity) of several embedders side by side.

    As the page's Evaluate view shows them; an embedder that fails is reported, the rest go on."""
    from vidsift.services.evaluate import evaluate_embedders, evaluation_table, transfer_table

    results = evaluate_embedders(workspace(ws), embedder, repeats=repeats, seed=seed, probe_shots=shots,
                                 on_progress=stage_printer("evaluate all", show=not as_json))

    def human(r: dict) -> None:
        table = evaluation_table(r)
        table["K"] = table["K"].astype("string").fillna("")  # Int64's <NA> ignores na_rep
        typer.echo(table.to_string(index=False, na_rep="", float_format="{:.3f}".format))
        transfer = transfer_table(r)
        if len(transfer):
            typer.echo("")
            typer.echo(transfer.to_string(index=False))
        for name, res in r.items():
            for err in res["errors"]:
                typer.echo(f"note: {name}: {err}")

    emit(results, as_json, human)


def register(app: typer.Typer) -> None:
    app.command()(discover)
    app.add_typer(evaluate_app, name="evaluate")
