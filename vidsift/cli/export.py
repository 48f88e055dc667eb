"""`vidsift export SOURCE OUT_DIR`: editor-ready files (CSV, EDL, OTIO, contact sheet, clips with
audio) of search results, clusters or duplicate pairs (docs/export.md).

SOURCE is a JSON file printed by ``vidsift search --json`` or ``vidsift duplicates --json``, or the
word ``clusters`` (the last ``vidsift discover`` run of ``-e EMBEDDER``; ``--cluster N`` to pick).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.cli.common import DEFAULT_WS, JsonOpt, WorkspaceOpt, emit, workspace
from vidsift.errors import BadInputError


def export(
    source: Annotated[str, typer.Argument(help="JSON of `vidsift search --json` / `vidsift duplicates --json`, or 'clusters'.")],
    out_dir: Annotated[Path, typer.Argument(help="Folder to write into (must be empty unless --force).")],
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: csv,edl,otio,sheet,clips (or all).")] = "all",
    max_clips: Annotated[int | None, typer.Option("--max", help="Cut clips of the first N segments only (default: all).")] = None,
    template: Annotated[str, typer.Option("--template", help="Clip names: {video} {cluster} {start} {end} {index} {label} {video_id} {frame} {group}.")] = "{video}-{cluster}-{start}",
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty folder, replacing an earlier export's files.")] = False,
    pad: Annotated[float, typer.Option("--pad", help="Seconds added before and after each segment (handles).")] = 0.0,
    embedder: Annotated[str | None, typer.Option("--embedder", "-e", help="With SOURCE 'clusters': whose clusters.")] = None,
    cluster: Annotated[list[int] | None, typer.Option("--cluster", help="With 'clusters': only this cluster (repeatable).")] = None,
    by: Annotated[str, typer.Option("--by", help="With 'clusters': merge members per segment, shot or video.")] = "segment",
    gap: Annotated[float | None, typer.Option("--gap", help="Frames at most S seconds apart form one segment (clusters: default 1; search hits: merge when given).")] = None,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Write editor-ready files of search results, clusters or duplicates into OUT_DIR.

    Examples:
      vidsift search -e pixels --video a.mp4 --at 12 --json > hits.json
      vidsift export hits.json out/ --format csv,edl,otio
      vidsift export clusters out/ -e pixels --cluster 3 --max 20 --template "{cluster}-{index:03d}-{video}"
      vidsift duplicates -e pixels --json > dups.json && vidsift export dups.json out/
    """
    from vidsift.services.exports import (
        export_segments,
        segments_from_clusters,
        segments_from_file,
    )

    if source == "clusters":
        if not embedder:
            raise BadInputError("`vidsift export clusters` needs -e EMBEDDER: whose clusters to export")
        wsp = workspace(ws)
        segments = segments_from_clusters(wsp, embedder, cluster, by=by, gap=1.0 if gap is None else gap)
        kind = "clusters"
    else:
        if cluster or embedder:
            raise BadInputError("--cluster and -e go with SOURCE 'clusters'; a JSON file brings its own segments")
        kind, segments = segments_from_file(source, gap=gap)
        wsp = workspace(ws) if Path(ws).expanduser().is_dir() else None  # never create one just to export
    res = export_segments(wsp, segments, out_dir, formats=formats, max_clips=max_clips, template=template,
                          force=force, pad=pad, title=f"vidsift {kind}")
    res["source"] = kind

    def human(r: dict[str, Any]) -> None:
        typer.echo(f"{r['n_segments']} segments of {r['source']} -> {r['out_dir']}")
        for f in r["files"]:
            if not f.startswith("clips/"):
                typer.echo(f"  {f}")
        if "clips" in r["formats"]:
            typer.echo(f"  clips/: {r['n_clips']} clips ({r['n_copied']} stream-copied, {r['n_reencoded']} re-encoded)")
        for line in r["skipped"]:
            typer.echo(f"skipped {line}")
        for line in r["notes"]:
            typer.echo(f"note: {line}")

    emit(res, as_json, human)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
