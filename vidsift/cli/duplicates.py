"""`vidsift duplicates`: pairs of videos, or two stretches of one video, whose frames match in order.

A thin face over ``vidsift.services.duplicates.find_duplicates`` (which also saves the result for
the page); bad options and unknown videos are one ``error:`` line and a non-zero exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.cli.common import DEFAULT_WS, EmbedderOpt, JsonOpt, WorkspaceOpt, emit, workspace
from vidsift.timecode import timecode

# the defaults of vidsift.discovery.duplicates, spelled out so that `vidsift --help` does not import
# numpy and FAISS (tests/discovery/test_duplicates.py checks that they agree)
HELP_THRESHOLD = 0.35
HELP_MIN_SECONDS = 2.0


def _range(seg: dict[str, Any]) -> str:
    return f"{timecode(seg['start'])}-{timecode(seg['end'])}"


def _print_table(res: dict[str, Any]) -> None:
    pairs = res["pairs"]
    rule = f"threshold {res['threshold']:g}, at least {res['min_seconds']:g} s"
    if not pairs:
        typer.echo(f"{res['embedder']}: no duplicates ({rule})")
        return
    typer.echo(f"{res['embedder']}: {len(pairs)} pair(s) of ranges matching in order ({rule})")
    rows = [
        (
            str(i),
            f"{p['score']:.3f}",
            p["kind"],
            str(p["matched_frames"]),
            Path(p["a"]["path"]).name or p["a"]["video_id"],
            _range(p["a"]),
            Path(p["b"]["path"]).name or p["b"]["video_id"],
            _range(p["b"]),
        )
        for i, p in enumerate(pairs, 1)
    ]
    head = ("#", "score", "kind", "frames", "video A", "range A", "video B", "range B")
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    right = {0, 1, 3}
    for r in [head, *rows]:
        typer.echo(
            "  ".join(
                v.rjust(w) if c in right else v.ljust(w)
                for c, (v, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )


def duplicates_cmd(
    embedder: EmbedderOpt,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help=f"Cosine distance (0-1) at or below which two frames match (default {HELP_THRESHOLD}; smaller is stricter).",
        ),
    ] = None,
    min_seconds: Annotated[
        float | None,
        typer.Option(
            "--min-seconds",
            help=f"Shortest run of frames matching in order, in seconds: the longer of the two ranges (default {HELP_MIN_SECONDS:g}).",
        ),
    ] = None,
    videos: Annotated[
        list[str] | None,
        typer.Option(
            "--videos",
            help="Compare only these videos (id or path), repeatable; one video finds its own repeats.",
        ),
    ] = None,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Find near-duplicates: re-encodes, crops, speed changes and trims of the same footage."""
    from vidsift.services.duplicates import find_duplicates

    res = find_duplicates(
        workspace(ws), embedder, threshold=threshold, min_seconds=min_seconds, videos=videos
    )
    emit(res, as_json, _print_table)


def register(app: typer.Typer) -> None:
    """Attach `duplicates` to the main app."""
    app.command("duplicates")(duplicates_cmd)
