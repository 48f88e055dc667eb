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

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from vidsift.timecode import timecode

GroupBy = Literal["segment", "shot", "video"]
GROUP_BY: tuple[str, ...] = ("segment", "shot", "video")


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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Segment:
        """The inverse of :meth:`to_dict` (derived keys such as timecodes are ignored).

        Raises:
            ValueError: a required field is missing or a value has the wrong type.
        """
        need = ("video_id", "path", "start", "end", "first_frame", "last_frame")
        missing = [k for k in need if d.get(k) is None]
        if missing:
            raise ValueError(f"segment lacks {', '.join(missing)}")

        def opt(key: str, kind: type) -> Any:
            v = d.get(key)
            return None if v is None else kind(v)

        try:
            return cls(
                video_id=str(d["video_id"]), path=str(d["path"]), start=float(d["start"]),
                end=float(d["end"]), first_frame=int(d["first_frame"]), last_frame=int(d["last_frame"]),
                best_frame=opt("best_frame", int), best_time=opt("best_time", float),
                distance=opt("distance", float), score=opt("score", float),
                group="" if d.get("group") is None else str(d["group"]), label=opt("label", str),
                frames=opt("frames", int),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"segment of {d.get('video_id')}: {exc}") from exc


def _row_span(times: np.ndarray) -> float:
    """The time one row stands for when nothing better is known: the median gap between rows."""
    gaps = np.diff(np.unique(times))
    return float(np.median(gaps)) if len(gaps) else 0.0


def merge_frames(
    rows: pd.DataFrame,
    by: GroupBy = "segment",
    gap: float = 1.0,
    span: Mapping[str, float] | None = None,
    video_end: Mapping[str, float] | None = None,
) -> list[Segment]:
    """Merge frame rows into segments: the one grouping behind search ``--group`` and cluster members.

    ``rows`` needs columns ``video_id, path, frame, time``; optional ``distance`` (smaller is
    better; picks the best frame and orders the result), ``score`` (higher is better), ``shot``
    (needed for ``by="shot"``), ``label`` and ``group`` (rows of different groups never merge).

    * ``by="segment"``: rows of one video whose times are at most ``gap`` seconds apart (after the
      previous row's span) join one segment;
    * ``by="shot"``: rows of one shot of one video form one segment;
    * ``by="video"``: all rows of one video form one segment.

    A row covers ``[time, time + span[video_id])`` (``span``: the time between the store's rows;
    default the median gap of that video's rows here), capped at ``video_end[video_id]``.
    Segments come best first: smallest distance, else highest score, else by video and start.

    Raises:
        ValueError: unknown ``by``, negative ``gap``, missing columns.
    """
    if by not in GROUP_BY:
        raise ValueError(f"group by {by!r}: expected one of {', '.join(GROUP_BY)}")
    if not gap >= 0:
        raise ValueError(f"gap must be >= 0 seconds, got {gap}")
    missing = [c for c in ("video_id", "path", "frame", "time") if c not in rows.columns]
    if by == "shot" and "shot" not in rows.columns:
        missing.append("shot")
    if missing:
        raise ValueError(f"rows lack column(s) {', '.join(missing)}")
    if rows.empty:
        return []
    df = rows.reset_index(drop=True)
    has_group = "group" in df.columns
    out: list[Segment] = []
    keys = ["video_id", "group"] if has_group else ["video_id"]
    for key, part in df.groupby(keys, sort=True):
        vid = str(key[0] if isinstance(key, tuple) else key)
        group = str(key[1]) if has_group and isinstance(key, tuple) else ""
        part = part.sort_values(["time", "frame"], kind="stable")
        t = part["time"].to_numpy(np.float64)
        step = float(span[vid]) if span is not None and vid in span else _row_span(t)
        end_cap = float(video_end[vid]) if video_end is not None and vid in video_end else np.inf
        if by == "video":
            run_id = np.zeros(len(part), np.int64)
        elif by == "shot":
            run_id = pd.factorize(part["shot"].to_numpy())[0]
        else:
            # a new run starts where the silence since the previous row's end exceeds the gap
            run_id = np.concatenate([[0], np.cumsum(np.diff(t) - step > gap + 1e-9)])
        for _, run in part.groupby(run_id, sort=False):
            out.append(_segment_of(run, vid, group, step, end_cap))
    if "distance" in df.columns:
        out.sort(key=lambda s: (np.inf if s.distance is None else s.distance, s.video_id, s.start))
    elif "score" in df.columns:
        out.sort(key=lambda s: (-(s.score if s.score is not None else -np.inf), s.video_id, s.start))
    else:
        out.sort(key=lambda s: (s.group, s.video_id, s.start))
    return out


def _segment_of(run: pd.DataFrame, vid: str, group: str, step: float, end_cap: float) -> Segment:
    t = run["time"].to_numpy(np.float64)
    f = run["frame"].to_numpy(np.int64)
    if "distance" in run.columns:
        best = int(np.argmin(run["distance"].to_numpy(np.float64)))
    elif "score" in run.columns:
        best = int(np.argmax(run["score"].to_numpy(np.float64)))
    else:
        best = 0
    label = run["label"].iloc[0] if "label" in run.columns else None
    start = float(t.min())
    end = max(start, min(float(t.max()) + step, end_cap))
    return Segment(
        video_id=vid,
        path=str(run["path"].iloc[0]),
        start=start,
        end=end,
        first_frame=int(f.min()),
        last_frame=int(f.max()),
        best_frame=int(f[best]),
        best_time=float(t[best]),
        distance=float(run["distance"].iloc[best]) if "distance" in run.columns else None,
        score=float(run["score"].iloc[best]) if "score" in run.columns else None,
        group=group,
        label=None if label is None or (isinstance(label, float) and np.isnan(label)) else str(label),
        frames=len(run),
    )
