"""The `vidsift` command line. Each command group lives in its own module with ``register(app)``."""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from typing import Any

import typer

from vidsift.errors import VidsiftError

app = typer.Typer(
    name="vidsift",
    help="Learn video embeddings without labels; index, search, cluster and export video frames.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Order is the order of `vidsift --help`. A module that is absent (not built yet) is skipped.
_MODULES = (
    "core", "train", "jobs", "embed", "update", "index", "duplicates", "discover", "export", "finetune",
    "reproduce", "serve",
)

for _name in _MODULES:
    try:
        _mod = importlib.import_module(f"vidsift.cli.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"vidsift.cli.{_name}":
            raise
        continue
    _mod.register(app)


def _warn_one_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                   file: Any = None, line: str | None = None) -> None:
    """A warning as one line on stderr, what happened without the library's file and source
    line (``warnings.showwarning``'s signature), and once per command however many places
    raise it (repeated fits). VIDSIFT_DEBUG=1 keeps Python's own format."""
    text = str(message)
    if text in _WARNED:
        return
    _WARNED.add(text)
    print(f"warning: {text}", file=file or sys.stderr)


_WARNED: set[str] = set()


def _interrupted() -> None:
    """Ctrl-C: one line, and the shell's exit status for SIGINT. Work is written atomically per
    video, checkpoint or file, so what finished is kept and the same command goes on from it."""
    print("\ninterrupted: what finished is kept; run the same command again to go on", file=sys.stderr)
    sys.exit(130)


def main() -> None:
    """Entry point: run the app, turning vidsift errors and warnings into one line on stderr."""
    if not os.environ.get("VIDSIFT_DEBUG"):
        warnings.showwarning = _warn_one_line
    try:
        # without standalone mode typer *returns* an exit code (typer.Exit, and Ctrl-C as 130)
        code = app(standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool) and code:
            if code == 130:
                _interrupted()
            sys.exit(code)
    except VidsiftError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except Exception as exc:  # click usage errors and friends
        # by shape, not class: newer typer releases raise their vendored copy of click's
        # exceptions (typer._click), which are other classes than click's own
        kind = type(exc).__name__
        if kind == "Exit" and hasattr(exc, "exit_code"):
            sys.exit(exc.exit_code)
        if callable(getattr(exc, "show", None)) and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        if kind == "Abort":  # what click makes of Ctrl-C (and of an aborted prompt)
            _interrupted()
        if os.environ.get("VIDSIFT_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc} (set VIDSIFT_DEBUG=1 for the traceback)", file=sys.stderr)
        sys.exit(1)
