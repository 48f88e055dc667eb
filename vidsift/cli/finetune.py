"""`vidsift finetune`: a thin wrapper over ``training.finetune.finetune``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.cli.common import DEFAULT_WS, JsonOpt, WorkspaceOpt, emit, workspace


def finetune(
    checkpoint: Annotated[str, typer.Argument(help="Checkpoint file, run folder, or run name under <workspace>/checkpoints.")],
    folder: Annotated[Path, typer.Argument(help="Labelled videos: one sub-folder per class (scanned first).")],
    shots: Annotated[int, typer.Option("--shots", help="Training videos per class; the rest are the test set.")] = 5,
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training frames (clips).")] = 10,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate, the same for both runs.")] = 1e-4,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split, the data order and the random init.")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Frames (clips) per step.")] = 32,
    per_video: Annotated[int, typer.Option("--per-video", help="Frames (clips) sampled evenly from each video.")] = 16,
    layer: Annotated[str | None, typer.Option("--layer", help="Feature layer under the classifier (default: the method's).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier fine-tune run of this checkpoint.")] = False,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Fine-tune CHECKPOINT + a linear classifier on FOLDER's labelled videos, vs the same network from random init.

    Both runs get the same steps, learning rate and batches; test accuracy on held-out videos."""
    from vidsift.training.finetune import finetune as run

    res = run(
        workspace(ws), checkpoint, folder, shots=shots, epochs=epochs, lr=lr, seed=seed,
        batch_size=batch_size, per_video=per_video, layer=layer, overwrite=overwrite,
        progress=not as_json,
    )

    def human(r: dict[str, Any]) -> None:
        unit = "clip" if r["unit"] == "clip" else "frame"
        typer.echo(
            f"{r['method']}@{r['layer']}: {r['n_classes']} classes, {r['shots']} training videos per class "
            f"({r['n_train_videos']} train / {r['n_test_videos']} test videos), {r['steps']} steps"
        )
        typer.echo(f"{'test accuracy':<22}{unit:>10}{'video vote':>12}{'video mean':>12}")
        for name, key in (("pretrained (ours)", "pretrained"), ("random init", "random_init")):
            a = r[key]
            typer.echo(f"{name:<22}{a['frame']:>10.3f}{a['video_vote']:>12.3f}{a['video_mean']:>12.3f}")
        c = r["chance"]
        typer.echo(f"{'chance (1/C, majority)':<22}{c['uniform']:>10.3f}{c['majority_video']:>12.3f}")
        typer.echo(f"checkpoint {r['checkpoint']}\nlog {r['log']}")

    emit(res, as_json, human)


def register(app: typer.Typer) -> None:
    app.command("finetune")(finetune)
