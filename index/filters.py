"""Which frames a search may return: a :class:`Filter` (videos, labels, a time range) becomes a
boolean mask over the id map's rows, then a FAISS ID selector, so the filter runs *inside* the
index search (``SearchParameters(sel=...)``) and ``k`` results come back whenever at least ``k``
frames pass it, instead of over-fetching and filtering in Python.

    >>> f = Filter(videos=("a1b2",), labels=("cats",), time_range=(10.0, None))
    >>> f.active, f.describe()
    (True, 'videos a1b2; labels cats; time 00:00:10.000-')

The validators of search inputs live here, one per kind, shared by the CLI, the page and the API:
:func:`parse_time_range` (``"A-B"`` text), :func:`check_max_distance`, :func:`videos_matching`
(a glob over ids, paths and file names), and :meth:`Filter.mask` (unknown labels / videos).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import faiss
import numpy as np

from vidsift.errors import BadInputError
from vidsift.index.hits import Columns
from vidsift.timecode import parse_time, timecode

#: ``(start, end)`` seconds, both included; ``None`` leaves that side open
TimeRange = tuple[float | None, float | None]

GLOB_CHARS = frozenset("*?[")


def parse_time_range(value: str | TimeRange | None) -> TimeRange | None:
    """``"A-B"`` -> ``(A, B)`` seconds; either side may be left open (``"-B"``, ``"A-"``).

    ``A`` and ``B`` are seconds (``12.5``, ``12.5s``) or timecodes (``00:00:12.500``, ``1:02``);
    times are never negative, so ``-`` is always the separator. A pair ``(A, B)`` (``None`` for
    an open side) is checked the same way. ``None`` means no time filter.

    Raises:
        BadInputError: an empty text, both sides open, a side that is not a time, or a range
            that ends at or before its start.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise BadInputError(
                "time range '' is empty; give START-END in seconds or timecodes, e.g. 10-20"
            )
        if text.count("-") != 1:
            raise BadInputError(
                f"time range {value!r}: give START-END in seconds or timecodes, e.g. 10-20, "
                "00:01:00-00:02:30, 30- (from 30 s on) or -1:00 (the first minute)"
            )
        a_text, b_text = (s.strip() for s in text.split("-"))
        start = parse_time(a_text) if a_text else None
        end = parse_time(b_text) if b_text else None
    else:
        try:
            a, b = value
        except (TypeError, ValueError):
            raise BadInputError(
                f"time range {value!r}: give a (start, end) pair of seconds or timecodes"
            ) from None
        start = None if a is None else parse_time(a)
        end = None if b is None else parse_time(b)
    if start is None and end is None:
        raise BadInputError(
            f"time range {value!r} is open on both sides; give a start, an end or both (e.g. 10-20)"
        )
    if start is not None and end is not None and end <= start:
        what = "is empty" if end == start else "is reversed"
        raise BadInputError(
            f"time range {value!r} {what}: it ends ({timecode(end)}) at or before it starts "
            f"({timecode(start)}); give START-END with END after START"
        )
    return start, end


def format_time_range(tr: TimeRange) -> str:
    """The text :func:`parse_time_range` reads back: ``00:00:10.000-00:00:20.000``, ``-...``."""
    a, b = tr
    return f"{timecode(a) if a is not None else ''}-{timecode(b) if b is not None else ''}"


def check_max_distance(value: float | str | None) -> float | None:
    """A distance cut-off: a finite number >= 0 (``1 - cos`` for cosine, squared L2 for l2).

    Raises:
        BadInputError: negative, NaN, infinite or not a number.
    """
    if value is None:
        return None
    try:
        d = float(value)
    except (TypeError, ValueError):
        d = math.nan
    if not math.isfinite(d) or d < 0:
        raise BadInputError(
            f"max distance {value!r} is not a distance; give a number >= 0 "
            "(cosine: 1 - cos, from 0 to 2; l2: squared Euclidean distance)"
        )
    return d


def is_glob(text: str) -> bool:
    return any(c in GLOB_CHARS for c in text)


def videos_matching(cols: Columns, pattern: str) -> list[str]:
    """Ids of the indexed videos whose id, stored path or file name matches the glob ``pattern``
    (``fnmatch``, case-sensitive; ``*`` also crosses ``/`` in paths), sorted.

    Raises:
        BadInputError: nothing matches (a few indexed ids and paths are named).
    """
    paths = cols.video_paths()
    found = sorted(
        v
        for v, p in paths.items()
        if fnmatch.fnmatchcase(v, pattern)
        or fnmatch.fnmatchcase(p, pattern)
        or fnmatch.fnmatchcase(PurePath(p).name, pattern)
    )
    if not found:
        example = ", ".join(f"{v} ({p})" for v, p in list(paths.items())[:3]) or "none"
        raise BadInputError(
            f"--videos {pattern!r} matches no indexed video id, path or file name "
            f"(indexed: {example}{', ...' if len(paths) > 3 else ''})"
        )
    return found


@dataclass(frozen=True)
class Filter:
    """Frames a search may return: all conditions must hold (an empty condition is no condition).

    ``videos``: video ids (already resolved from paths or globs); ``labels``: catalog labels (the
    id map's ``label`` column); ``time_range``: the frame's presentation time in its video, in
    seconds, both ends included. Hashable, so an index can keep the mask of the last filter (the
    page repeats a search with the same filter).
    """

    videos: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None
    time_range: TimeRange | None = None

    def __post_init__(self) -> None:
        # canonical form: sorted unique tuples, so equal filters hash equal
        if self.videos is not None:
            object.__setattr__(self, "videos", tuple(sorted({str(v) for v in self.videos})))
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(sorted({str(x) for x in self.labels})))
        if self.time_range is not None:
            object.__setattr__(self, "time_range", parse_time_range(tuple(self.time_range)))

    @classmethod
    def of(
        cls,
        videos: Collection[str] | None = None,
        labels: Collection[str] | None = None,
        time_range: str | TimeRange | None = None,
    ) -> Filter:
        """A filter from loose inputs; an empty collection means no condition."""
        return cls(
            videos=tuple(videos) if videos else None,
            labels=tuple(labels) if labels else None,
            time_range=parse_time_range(time_range),
        )

    @property
    def active(self) -> bool:
        return bool(self.videos) or bool(self.labels) or self.time_range is not None

    def describe(self) -> str:
        parts = []
        if self.videos:
            parts.append("videos " + ", ".join(self.videos[:5]) + (", ..." if len(self.videos) > 5 else ""))
        if self.labels:
            parts.append("labels " + ", ".join(self.labels))
        if self.time_range is not None:
            parts.append("time " + format_time_range(self.time_range))
        return "; ".join(parts) or "no filter"

    def to_dict(self) -> dict[str, Any]:
        return {
            "videos": list(self.videos) if self.videos else None,
            "labels": list(self.labels) if self.labels else None,
            "time_range": list(self.time_range) if self.time_range is not None else None,
        }

    def mask(self, cols: Columns, what: str = "the index") -> np.ndarray:
        """bool [rows of ``cols``]: the rows that pass (every row when the filter is not active).

        Raises:
            BadInputError: a video that is not in ``cols``, or an unknown label (the known labels
                are listed).
        """
        keep = np.ones(len(cols.ids), bool)
        if self.videos:
            unknown = [v for v in self.videos if v not in cols.code_of]
            if unknown:
                raise BadInputError(
                    f"video(s) {', '.join(unknown[:5])} not in {what}; give ids or paths of indexed "
                    "videos (`vidsift index add` indexes newly embedded ones)"
                )
            allowed = np.zeros(len(cols.videos), bool)
            allowed[[cols.code_of[v] for v in self.videos]] = True
            keep &= allowed[cols.codes]
        if self.labels:
            codes, names = cols.label_codes()
            unknown = [x for x in self.labels if x not in names]
            if unknown:
                known = ", ".join(names) if names else "none: no indexed video has a label"
                raise BadInputError(
                    f"label(s) {', '.join(unknown)} not in {what}; known labels: {known}"
                )
            wanted = np.zeros(len(names) + 1, bool)  # the last slot is "no label" (code -1)
            wanted[[names.index(x) for x in self.labels]] = True
            keep &= wanted[codes]
        if self.time_range is not None:
            start, end = self.time_range
            if start is not None:
                keep &= cols.time >= start - 1e-9
            if end is not None:
                keep &= cols.time <= end + 1e-9
        return keep


@dataclass(frozen=True, eq=False)
class Selection:
    """The rows a filter keeps, as index ids, and the FAISS selector over them.

    ``bitmap`` backs the selector's memory (FAISS holds a raw pointer): it lives as long as this
    object, which the caller keeps for the duration of every search that uses ``selector``.
    """

    ids: np.ndarray  # int64, increasing
    selector: faiss.IDSelector | None
    bitmap: np.ndarray | None

    @property
    def rows(self) -> int:
        return len(self.ids)


def selection(ids: np.ndarray, id_bound: int) -> Selection:
    """A selector for the index ids ``ids`` (increasing, each < ``id_bound``).

    Ids are allocated increasingly and never reused, so a bitmap over ``0..id_bound`` (one bit
    per id ever allocated: 125 KB at 1M frames) answers ``is_member`` with one load, cheaper than
    ``IDSelectorBatch``'s hash set; a contiguous run of ids (one video after a build, or a time
    range of one video) becomes an ``IDSelectorRange``, which flat indexes scan as a slice.
    """
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if len(ids) == 0:
        return Selection(ids, None, None)
    lo, hi = int(ids[0]), int(ids[-1])
    if hi - lo + 1 == len(ids):
        sel = faiss.IDSelectorRange(lo, hi + 1)
        return Selection(ids, sel, None)
    bits = np.zeros(max(id_bound, hi + 1), bool)
    bits[ids] = True
    bitmap = np.packbits(bits, bitorder="little")  # id i is bit i % 8 of byte i // 8
    sel = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
    return Selection(ids, sel, bitmap)
