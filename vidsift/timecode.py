"""Times as people type and read them: seconds and ``HH:MM:SS.mmm`` (PySceneDetect's convention).

    >>> parse_time("00:01:02.500"), parse_time("1:02.5"), parse_time("62.5"), parse_time("62.5s")
    (62.5, 62.5, 62.5, 62.5)
    >>> timecode(62.5)
    '00:01:02.500'
"""

from __future__ import annotations

import math
import re

from vidsift.errors import BadInputError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_time(text: str | float | int) -> float:
    """Seconds from ``12.5``, ``12.5s``, ``MM:SS(.mmm)`` or ``HH:MM:SS(.mmm)``; never negative.

    Raises:
        BadInputError: anything else, with the accepted forms in the message.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        s = str(text).strip().lower().removesuffix("s").strip()
        m = _CLOCK.match(s)
        try:
            if m:
                hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), float(m.group(3))
                if minutes >= 60 or seconds >= 60:
                    raise ValueError
                value = hours * 3600 + minutes * 60 + seconds
            else:
                value = float(s)
        except ValueError:
            value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise BadInputError(
            f"time {text!r} is not a time; give seconds (12.5) or a timecode (00:00:12.500)"
        )
    return value


def timecode(seconds: float) -> str:
    """``HH:MM:SS.mmm`` of a non-negative number of seconds (rounded to the millisecond)."""
    ms = int(round(max(0.0, float(seconds)) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
