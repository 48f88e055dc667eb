"""`vidsift embed` and `vidsift embedders`: thin wrappers over ``embedder.extract`` / ``registry``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.cli.common import (
    DEFAULT_WS,
    EmbedderOpt,
    JsonOpt,
    WorkspaceOpt,
    emit,
    note_line,
    workspace,
)


class Engine(StrEnum):
    local = "local"
    ray = "ray"


def embed(
    embedder: EmbedderOpt,
    folder: Annotated[
        Path | None, typer.Argument(help="Folder of videos (scanned first); omit to embed the whole catalog.")
    ] = None,
    fps: Annotated[float | None, typer.Option("--fps", help="Sample F frames per second.")] = None,
    every: Annotated[int | None, typer.Option("--every", help="Sample every N-th frame (default 1).")] = None,
    keyframes: Annotated[bool, typer.Option("--keyframes", help="Embed the keyframes only (fastest; decodes nothing else).")] = False,
    engine: Annotated[Engine, typer.Option("--engine", help="local processes, or Ray Data.")] = Engine.local,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Retry videos that failed in an earlier run.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Frames per model batch.")] = 64,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Decoding processes (local) or model actors (ray); default: chosen from the "
                                       "model's cost (in-process decoding for cheap models such as pixels)."),
    ] = None,
    no_thumbnails: Annotated[bool, typer.Option("--no-thumbnails", help="Do not write a JPEG per embedded frame.")] = False,
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, cuda:1 (default: CUDA when available).")] = None,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Embed the sampled frames of every video into the workspace's store (resumable)."""
    from vidsift.embedder.extract import extract

    report = extract(
        workspace(ws), folder, embedder, every=every, fps=fps, keyframes=keyframes, engine=engine.value,
        retry_failed=retry_failed, batch_size=batch_size, workers=workers, progress=not as_json,
        thumbnails=False if no_thumbnails else None, device=device,
    )

    def human(r: Any) -> None:
        typer.echo(
            f"{r.embedder} (dim {r.dim}): {len(r.done)} embedded, {len(r.skipped)} already done, "
            f"{len(r.failed)} failed; {r.frames} frames in {r.seconds:.1f}s "
            f"({r.frames_per_second:.0f} frames/s) -> {r.store}"
        )
        for path, reason in r.failed:
            typer.echo(f"  failed: {path}: {reason}")
        for path, note in r.partial:
            typer.echo(f"  kept what decoded: {path}: {note}")
        for path, reason in r.previously_failed:
            typer.echo(f"  skipped (failed before): {path}: {reason}")
        for note in r.notes:
            typer.echo(note_line(note))

    emit(report.to_dict() if as_json else report, as_json, human)


def embedders(ws: WorkspaceOpt = DEFAULT_WS, as_json: JsonOpt = False) -> None:
    """List the embedder names this workspace accepts, and the stores already embedded."""
    from vidsift.embedder.registry import available_embedders

    items = available_embedders(workspace(ws))

    def human(rows: list[dict[str, Any]]) -> None:
        typer.echo(f"{'name':28s} {'unit':6s} {'dim':>6s}  {'stored':>14s}  description")
        for e in rows:
            stored = e.get("stored")
            s = f"{stored['videos']} videos" if stored else "-"
            layers = f" [layers: {', '.join(e['layers'])}]" if e.get("layers") else ""
            typer.echo(
                f"{e['name']:28s} {(e.get('unit') or '-'):6s} {str(e.get('dim') or '-'):>6s}  {s:>14s}  "
                f"{e.get('description', '')}{layers}"
            )

    emit(items, as_json, human)


def register(app: typer.Typer) -> None:
    app.command()(embed)
    app.command()(embedders)
