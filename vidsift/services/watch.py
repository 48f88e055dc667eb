"""`vidsift update --watch`: poll a folder and run ``services.update.update_folder`` once it
has changed and held still. Apart from the update itself (imported when one runs), only the
file listing: the CLI imports this module to show the option's default, and stays light."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vidsift.catalog import find_videos
from vidsift.errors import BadInputError
from vidsift.workspace import WorkspaceLike

#: seconds between polls
DEFAULT_INTERVAL = 10.0


def folder_state(folder: str | Path) -> tuple[tuple[str, int, int], ...] | None:
    """(path, size, mtime in ns) of every video file under ``folder``; None when it is gone.
    Cheap (no file is opened): what ``watch`` compares between polls."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        return None
    out = []
    for p in find_videos(root):
        try:
            st = p.stat()
        except OSError:  # deleted between the listing and the stat
            continue
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def watch(
    ws: WorkspaceLike,
    folder: str | Path,
    embedders: Sequence[str] | None = None,
    *,
    interval: float = DEFAULT_INTERVAL,
    iterations: int | None = None,
    stop: Callable[[], bool] | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
    sleep: Callable[[float], None] | None = None,
    **options: Any,
) -> int:
    """Run :func:`update_folder` now, then poll the folder every ``interval`` seconds and run it
    again once the folder has changed and then held still for one poll (so a file still being
    copied is taken when complete, not probed half-written).

    Args:
        iterations: stop after this many polls (None: poll until ``stop`` or Ctrl-C).
        stop: polled before each wait; True ends the loop.
        on_update: called with each run's result.
        sleep: the wait (default ``time.sleep``; tests pass one that does not sleep).
        options: passed to :func:`update_folder` (``on_progress``, ``build_index``, ...).

    Returns:
        The number of updates run. ``KeyboardInterrupt`` propagates (the CLI exits 130); an
        interrupted update is finished by the next run.

    Raises:
        BadInputError: ``interval`` is not positive or ``iterations`` is negative, and whatever
            :func:`update_folder` raises.
    """
    if not (math.isfinite(float(interval)) and float(interval) > 0):
        raise BadInputError(f"--interval must be a positive number of seconds, got {interval}")
    if iterations is not None and int(iterations) < 0:
        raise BadInputError(f"iterations must be 0 or more, got {iterations}")

    from vidsift.services.update import update_folder

    def run() -> None:
        result = update_folder(ws, folder, embedders, **options)
        if on_update is not None:
            on_update(result)

    sleep = sleep or time.sleep
    last = folder_state(folder)  # what the last update saw (taken before it, so nothing is missed)
    run()
    runs, polls, previous = 1, 0, last
    while iterations is None or polls < int(iterations):
        if stop is not None and stop():
            break
        sleep(float(interval))
        polls += 1
        now = folder_state(folder)
        if now != last and now == previous:  # changed, and still since the last poll
            last = now
            run()
            runs += 1
        previous = now
    return runs


__all__ = ["DEFAULT_INTERVAL", "folder_state", "watch"]
