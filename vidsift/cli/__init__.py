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


def main() -> None:
    """Entry point: run the app, turning vidsift errors and warnings into one line on stderr."""
    if not os.environ.get("VIDSIFT_DEBUG"):
        warnings.showwarning = _warn_one_line
    try:
        app(standalone_mode=False)
    except VidsiftError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors and friends
        # by shape, not class: newer typer releases raise their vendored copy of click's
        # exceptions (typer._click), which are other classes than click's own
        kind = type(exc).__name__
        if kind == "Exit" and hasattr(exc, "exit_code"):
            sys.exit(exc.exit_code)
        if callable(getattr(exc, "show", None)) and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        if kind == "Abort":
            sys.exit(1)
        if os.environ.get("VIDSIFT_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc} (set VIDSIFT_DEBUG=1 for the traceback)", file=sys.stderr)
        sys.exit(1)
