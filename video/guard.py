"""A time limit for decoding, so a pathological file cannot hang a scan or an extraction.

Uses an interval timer (SIGALRM) in the main thread: decoding returns to Python between frames,
where the signal handler raises. In other threads (the UI's workers) the limit is not enforced.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from vidsift.errors import VideoError


@contextlib.contextmanager
def time_limit(seconds: float | None, path: str | Path) -> Iterator[None]:
    """Raise ``VideoError(path, "decoding took longer than Ns")`` when the block runs too long.

    An alarm already armed by someone else (a test runner's timeout) is restored afterwards with
    the time it had left.
    """
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _raise(signum, frame):  # noqa: ARG001
        raise VideoError(path, f"decoding took longer than {seconds:g}s; the file may be corrupt")

    start = time.monotonic()
    old_handler = signal.signal(signal.SIGALRM, _raise)
    old_left, _ = signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_left > 0:
            signal.setitimer(signal.ITIMER_REAL, max(1e-3, old_left - (time.monotonic() - start)))
