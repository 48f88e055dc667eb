"""`vidsift reproduce`: the seed papers' evaluations on vidsift's data, written as a results page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidsift.cli.common import DEFAULT_WS, JsonOpt, WorkspaceOpt, emit, workspace


def reproduce(
    quick: Annotated[bool, typer.Option("--quick", help="Tiny sizes (a test runs this).")] = False,
    out: Annotated[Path, typer.Option(help="Plots go here; the page is OUT.md.")] = Path("docs/results"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Train, embed and evaluate every method with fixed seeds; write OUT.md and PNG plots."""
    from vidsift.reproduce import reproduce as run

    md = run(out, workspace(ws), quick=quick, seed=seed, say=(lambda m: None) if as_json else (lambda m: typer.echo(f"· {m}")))
    emit({"results": str(md)}, as_json, lambda r: typer.echo(f"wrote {r['results']}"))


def register(app: typer.Typer) -> None:
    app.command()(reproduce)
