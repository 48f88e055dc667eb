"""A moment of one video: a time range, the record that search groups, duplicates and exports share.

Times are presentation timestamps in seconds from the video's first decoded frame (decision 2);
``start`` is the first frame's time and ``end`` is exclusive: the time of the frame after the last
one (PySceneDetect's convention), or the video's end when the range runs to the last frame.
Frames are decode-order indices, ``first_frame`` and ``last_frame`` both included.

    >>> s = Segment("v1", "/f/a.mp4", 2.0, 4.5, 50, 111, best_frame=60, distance=0.25, group="3")
    >>> s.duration, s.to_dict()["start_timecode"], s.to_dict()["end_timecode"]
    (2.5, '00:00:02.000', '00:00:04.500')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from vidsift.timecode import timecode


@dataclass(frozen=True)
class Segment:
    """``[start, end)`` seconds of ``video_id``; ``best_*`` is its most relevant frame.

    ``distance`` is the best (smallest) query distance for search results and None otherwise;
    ``score`` is a similarity or match quality where higher is better (duplicates); ``group``
    names what the segment belongs to (a cluster id, a query, a duplicate pair) and is what
    export file-name templates call ``{cluster}``; ``label`` is the video's catalog label.
    """

    video_id: str
    path: str
    start: float
    end: float
    first_frame: int
    last_frame: int
    best_frame: int | None = None
    best_time: float | None = None
    distance: float | None = None
    score: float | None = None
    group: str = ""
    label: str | None = None
    frames: int | None = None  # hits or matched frames merged into it (None: not counted)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"segment of {self.video_id} ends ({self.end}) before it starts ({self.start})")
        if self.last_frame < self.first_frame:
            raise ValueError(f"segment of {self.video_id}: last frame {self.last_frame} < first {self.first_frame}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (CLI ``--json``, API): the fields plus timecodes and the duration."""
        d = asdict(self)
        d["start_timecode"] = timecode(self.start)
        d["end_timecode"] = timecode(self.end)
        d["duration"] = round(self.duration, 6)
        if self.best_time is not None:
            d["best_timecode"] = timecode(self.best_time)
        return d
