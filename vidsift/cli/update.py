"""`vidsift update FOLDER`: scan, embed what is new or changed, drop what is gone, update the
indexes; ``--watch`` repeats whenever the folder changes. A thin wrapper over
``vidsift.services.update`` (the page's Library calls the same ``update_folder``)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.cli.common import DEFAULT_WS, JsonOpt, WorkspaceOpt, emit, note_line, workspace
from vidsift.services.watch import DEFAULT_INTERVAL


def _index_text(ix: dict[str, Any]) -> str:
    if ix["action"] == "built":
        return f"index built ({ix['videos']} videos, {ix['vectors']} vectors)"
    if ix["action"] == "updated":
        moved = f", {ix['moved_videos']} moved" if ix.get("moved_videos") else ""
        return (f"index +{ix['added_videos']} -{ix['removed_videos']} videos{moved} "
                f"-> {ix['videos']} videos, {ix['vectors']} vectors")
    if ix["action"] == "unchanged":
        return f"index up to date ({ix['videos']} videos)"
    return "no index"


def _human(r: dict[str, Any], stamp: bool = False) -> None:
    s = r["scan"]
    when = time.strftime("[%H:%M:%S] ") if stamp else ""
    failed = f", {len(s['failed'])} unreadable" if s["failed"] else ""
    typer.echo(
        f"{when}{r['folder']}: {len(s['added'])} new, {len(s['updated'])} changed, {len(s['moved'])} moved, "
        f"{len(s['removed'])} gone, {s['unchanged']} unchanged file(s){failed}"
    )
    shown = {f["path"] for e in r["embedders"].values() for f in e["failed"]}
    for f in s["failed"]:
        if f["path"] not in shown:  # not catalogued, so no embedder lists it (a name that is not text)
            typer.echo(f"  unreadable: {f['path']}: {f['reason']}")
    for name, e in r["embedders"].items():
        typer.echo(
            f"  {name}: {len(e['added'])} added, {len(e['changed'])} changed, {len(e['removed'])} removed, "
            f"{len(e['moved'])} moved, {e['unchanged']} unchanged, {len(e['failed'])} failed; {_index_text(e['index'])}"
        )
        for f in e["failed"]:
            typer.echo(f"    failed: {f['path']}: {f['reason']}")
        for path in e["index"].get("stale_videos", []):
            typer.echo(f"    note: indexed video {path} has no shard in the store (not under this folder)")
        for note in e["notes"]:
            typer.echo(f"    {note_line(note)}")
    typer.echo(f"{'nothing to do' if r['nothing_to_do'] else 'updated'} in {r['seconds']:.1f}s")


def update(
    folder: Annotated[Path, typer.Argument(help="Folder of videos to bring the workspace in line with.")],
    embedder: Annotated[
        list[str] | None,
        typer.Option("--embedder", "-e", help="Embedder to update, repeatable (default: every embedder "
                     "with a store in the workspace; a new one gets a store)."),
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Keep polling the folder; update whenever it changed (Ctrl-C stops).")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls with --watch.")] = DEFAULT_INTERVAL,
    build_index: Annotated[
        bool, typer.Option("--build-index/--no-build-index", help="Build the index of a store that has none.")
    ] = True,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Decoding processes while embedding (default: chosen as by embed).")
    ] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, cuda:1 (default: CUDA when available).")] = None,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Scan FOLDER, embed new and changed videos, drop deleted ones from stores and indexes.

    Resumable: rerun after an interruption to finish."""
    from vidsift.services.update import update_folder
    from vidsift.services.watch import watch as watch_folder

    options: dict[str, Any] = {"build_index": build_index, "progress": not as_json, "workers": workers,
                               "device": device}
    runs = 0

    def show(result: dict[str, Any]) -> None:
        nonlocal runs
        runs += 1
        emit(result, as_json, lambda r: _human(r, stamp=watch))
        if watch and runs == 1:
            print(f"watching {result['folder']} every {interval:g}s; Ctrl-C to stop", file=sys.stderr)

    try:
        if watch:
            watch_folder(workspace(ws), folder, embedder, interval=interval, on_update=show, **options)
        else:
            show(update_folder(workspace(ws), folder, embedder, **options))
    except KeyboardInterrupt:
        what = f"stopped watching after {runs} update(s)" if watch else "interrupted"
        print(f"{what}; run `vidsift update` again to finish any update cut short", file=sys.stderr)
        sys.exit(130)


def register(app: typer.Typer) -> None:
    app.command()(update)
