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

from vidsift.workspace import DEFAULT_WORKSPACE, Workspace

WorkspaceOpt = Annotated[
    Path,
    typer.Option("--workspace", "-w", help="Folder that holds everything vidsift writes."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
DEFAULT_WS = Path(DEFAULT_WORKSPACE)


def workspace(path: Path) -> Workspace:
    return Workspace.at(path)


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
