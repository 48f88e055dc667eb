"""`vidsift train` and `vidsift methods`: thin wrappers over ``training.workspace`` / ``registry``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.cli.common import DEFAULT_WS, JsonOpt, WorkspaceOpt, emit, workspace
from vidsift.errors import BadInputError


def _params(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInputError(f"--param expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def train(
    method: Annotated[str, typer.Argument(help="Method name (see `vidsift methods`).")],
    folder: Annotated[Path, typer.Argument(help="Folder of videos to train on (scanned first).")],
    preset: Annotated[str, typer.Option("--preset", help="cpu (small, minutes) or paper (the papers' sizes).")] = "cpu",
    steps: Annotated[int | None, typer.Option("--steps", help="Training steps (default: the preset's).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run's last.pt (optimizer, RNG, data stream).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the run.")] = 0,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Samples (pairs, tuples) per step.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="DataLoader processes that decode.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Method parameter KEY=VALUE (JSON value), repeatable.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start over in a run folder that already holds a checkpoint.")] = False,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Train METHOD on the videos of FOLDER into <workspace>/checkpoints/METHOD-PRESET/."""
    from vidsift.services.train import train_workspace
    from vidsift.training.trainer import TrainingInterrupted

    try:
        result = train_workspace(
            workspace(ws), method, folder, preset=preset, steps=steps, resume=resume, seed=seed,
            progress=not as_json, overwrite=overwrite, batch_size=batch_size, num_workers=workers,
            **_params(param),
        )
    except TrainingInterrupted as exc:
        import shlex

        from vidsift.services.train_jobs import train_args

        again = train_args(workspace(ws), method, folder, preset, resume=True, steps=steps)
        kept = (f"{exc.checkpoint} holds step {exc.step}; go on with `vidsift {shlex.join(again)}`"
                if exc.checkpoint else "no checkpoint was written")
        print(f"\ninterrupted: {kept}", file=sys.stderr)
        sys.exit(130)
    out = {
        "method": method,
        "preset": preset,
        "step": result.step,
        "checkpoint": str(result.checkpoint),
        "log": str(result.log_path),
        "metrics": result.metrics,
    }

    def human(o: dict[str, Any]) -> None:
        loss = o["metrics"].get("loss")
        loss_s = f", loss {loss:.4f}" if isinstance(loss, float) else ""
        typer.echo(f"{o['method']} ({o['preset']}): step {o['step']}{loss_s} -> {o['checkpoint']}")

    emit(out, as_json, human)


def methods(as_json: JsonOpt = False) -> None:
    """List the training methods: name, unit, layers, description."""
    from vidsift.training.registry import METHODS

    rows = [m.describe() for m in METHODS.values()]

    def human(items: list[dict[str, Any]]) -> None:
        for r in items:
            layers = ",".join(r["layers"])
            typer.echo(f"{r['name']:14s} {r['unit']:5s} {layers:10s} {r['description']}")

    emit(rows, as_json, human)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("methods")(methods)
