"""Options and output helpers shared by every `vidsift` subcommand.

Subcommands are thin: parse options, call one library function, print. Errors derived from
``VidsiftError`` become one line on stderr and a non-zero exit (see ``vidsift.cli.main``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.errors import BadInputError
from vidsift.workspace import DEFAULT_WORKSPACE, WORKSPACE_ENV, Workspace

# One spelling per option across every command (issue #17, item 8): -w/--workspace (also read from
# $VIDSIFT_WORKSPACE, as the page does), -e/--embedder (always required: never a silent default),
# -k/--k = how many neighbours / results, --clusters = how many clusters.
WorkspaceOpt = Annotated[
    Path,
    typer.Option("--workspace", "-w", envvar=WORKSPACE_ENV,
                 help=f"Folder that holds everything vidsift writes (default ${WORKSPACE_ENV} or ./{DEFAULT_WORKSPACE})."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
EmbedderOpt = Annotated[
    str, typer.Option("--embedder", "-e", help="pixels, zca, random:METHOD, ckpt:NAME[@LAYER], PATH.pt, A+B (see `vidsift embedders`).")
]
DEFAULT_WS = Path(DEFAULT_WORKSPACE)


def no_k_for_clusters(k: str | None) -> None:
    """``--k`` means neighbours everywhere; a number of clusters given as ``--k`` is refused."""
    if k is not None:
        raise BadInputError(f"--k is the number of neighbours; give the number of clusters as --clusters {k}")


def workspace(path: Path) -> Workspace:
    return Workspace.at(path)


def note_line(note: str) -> str:
    """A report's note as printed: "note: ...", or as it is when it is already a warning."""
    return note if note.startswith("warning: ") else f"note: {note}"


def stage_printer(name: str, show: bool = True) -> Callable[[str, float], None] | None:
    """An ``on_progress(text, fraction)`` that prints each stage of a long job as one line on
    stderr ("discover: clustering 12288 frames..."), so minutes without a bar are not silent."""
    if not show:
        return None

    def say(text: str, _fraction: float) -> None:
        if text != "done":
            typer.echo(f"{name}: {text}...", err=True)

    return say


def emit(obj: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Print ``obj`` as JSON when asked, else through ``human`` (or as indented JSON)."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(obj, default=_default) + "\n")
    else:
        human(obj)


def _default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(o, Path):
        return str(o)
    return str(o)
