"""`vidsift jobs ...`: training runs in the background, as the page's Train view starts them.

    vidsift jobs start quadruplet data/scenes --preset cpu --steps 300   # returns at once
    vidsift jobs list                                                   # state, step, loss
    vidsift jobs log quadruplet-cpu                                     # last output lines
    vidsift jobs stop quadruplet-cpu

Thin wrappers over ``vidsift.services.train_jobs`` (the page calls the same functions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.cli.common import DEFAULT_WS, JsonOpt, WorkspaceOpt, emit, workspace
from vidsift.errors import BadInputError

jobs_app = typer.Typer(help="Training jobs in the background (what the page's Train view runs).", no_args_is_help=True)


def _row(job: Any) -> dict[str, Any]:
    from vidsift.services.train_jobs import job_state
    from vidsift.workspace import read_log

    log = read_log(job.log)
    last = log[-1] if log else {}
    return {"name": Path(job.run_dir).name, "method": job.method, "preset": job.preset, "pid": job.pid,
            "state": job_state(job), "step": last.get("step"), "loss": last.get("loss"),
            "folder": job.folder, "run_dir": job.run_dir, "output": str(job.output)}


def _job(ws: Path, name: str) -> Any:
    from vidsift.services.train_jobs import training_jobs

    jobs = {Path(j.run_dir).name: j for j in training_jobs(workspace(ws))}
    if name not in jobs:
        known = ", ".join(jobs) or "none"
        raise BadInputError(f"no background job {name!r} in this workspace (jobs: {known})")
    return jobs[name]


@jobs_app.command("start")
def start(
    method: Annotated[str, typer.Argument(help="Method (see `vidsift methods`).")],
    folder: Annotated[Path, typer.Argument(help="Folder of videos to train on.")],
    preset: Annotated[str, typer.Option("--preset", help="cpu or paper.")] = "cpu",
    steps: Annotated[int | None, typer.Option("--steps", help="Training steps (default: the preset's).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run's last.pt.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start over in a run folder that holds a checkpoint.")] = False,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Start `vidsift train` in the background and return; follow it with `vidsift jobs list`."""
    from vidsift.services.train_jobs import start_training

    job = start_training(workspace(ws), method, folder, preset=preset, resume=resume, steps=steps, overwrite=overwrite)
    emit(_row(job), as_json, lambda r: typer.echo(f"started {r['name']} (pid {r['pid']}); output: {r['output']}"))


@jobs_app.command("list")
def list_jobs(ws: WorkspaceOpt = DEFAULT_WS, as_json: JsonOpt = False) -> None:
    """Background training jobs of this workspace, newest first."""
    from vidsift.services.train_jobs import training_jobs

    rows = [_row(j) for j in training_jobs(workspace(ws))]

    def human(rows: list[dict[str, Any]]) -> None:
        typer.echo(f"{'name':24s} {'state':9s} {'step':>6s} {'loss':>9s}  pid")
        for r in rows:
            loss = f"{r['loss']:.4f}" if r["loss"] is not None else "-"
            typer.echo(f"{r['name']:24s} {r['state']:9s} {str(r['step'] if r['step'] is not None else '-'):>6s} {loss:>9s}  {r['pid']}")

    emit(rows, as_json, human)


@jobs_app.command("log")
def log(
    name: Annotated[str, typer.Argument(help="Job name (the run folder, e.g. quadruplet-cpu).")],
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many lines.")] = 20,
    ws: WorkspaceOpt = DEFAULT_WS,
) -> None:
    """The last lines the job printed."""
    from vidsift.services.train_jobs import tail

    typer.echo(tail(_job(ws, name).output, lines))


@jobs_app.command("stop")
def stop(
    name: Annotated[str, typer.Argument(help="Job name (the run folder, e.g. quadruplet-cpu).")],
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Stop a job: it finishes the step in flight and checkpoints it (SIGTERM; SIGKILL after 10 s)."""
    from vidsift.services.train_jobs import stop_training

    state = stop_training(_job(ws, name))
    emit({"name": name, "state": state}, as_json, lambda r: typer.echo(f"{r['name']}: {r['state']}"))


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
