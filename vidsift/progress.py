"""Progress bars for long work: live on a terminal, a line every 30 s in a log.

tqdm redraws up to ten times a second; written to a file or a CI log that is thousands of
lines (or one endless line of carriage returns). When the stream is not a terminal the bar
updates at most every ``LOG_INTERVAL`` seconds instead.
"""

from __future__ import annotations

import sys
from typing import Any

LOG_INTERVAL = 30.0


def progress_bar(iterable: Any = None, **kwargs: Any) -> Any:
    """``tqdm(iterable, **kwargs)`` that does not flood a log (see the module docstring)."""
    from tqdm import tqdm

    stream = kwargs.get("file") or sys.stderr
    if not getattr(stream, "isatty", lambda: False)():
        kwargs.setdefault("mininterval", LOG_INTERVAL)
        kwargs.setdefault("maxinterval", LOG_INTERVAL * 4)
        kwargs.setdefault("ncols", 100)
    return tqdm(iterable, **kwargs)
