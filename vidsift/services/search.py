"""What a search starts from: the indexed videos and labels of an index and the checked search
options (grouping, time range, distance cut-off); an uploaded image is checked by
``services.uploads``.

The search itself, grouped and filtered too, is ``services.indexes.search_workspace``; the page
checks a text box with the same validator the CLI uses (one per kind of input):

    group, gap = check_group("segment", 2.0)        # BadInputError for "scene" or -1
    time_range = check_time_range("00:01:00-")      # (60.0, None); "" -> None (no filter)
    labels = indexed_labels(vi)                     # ["cats", "dogs"]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.errors import BadInputError
from vidsift.index.filters import (
    TimeRange,
    check_max_distance,
    format_time_range,
    parse_time_range,
)
from vidsift.video.segment import GROUP_BY

__all__ = [
    "DEFAULT_GAP",
    "GROUP_BY",
    "fewer_than_asked",
    "IndexedVideo",
    "check_group",
    "check_max_distance",
    "check_time_range",
    "format_time_range",
    "frame_time",
    "indexed_labels",
    "indexed_videos",
    "query_source",
]

#: seconds of silence between two hits of one video that still join one segment
DEFAULT_GAP = 1.0

@dataclass(frozen=True)
class IndexedVideo:
    """A video as the index knows it: id, path, label and its indexed frame numbers."""

    id: str
    path: str
    label: str | None
    frames: np.ndarray  # int64, sorted

    @property
    def name(self) -> str:
        return Path(self.path).name

    def title(self) -> str:
        return f"{self.name} ({self.label})" if self.label else self.name


def indexed_videos(vi: Any) -> list[IndexedVideo]:
    """The videos of a loaded ``VideoIndex``, sorted by path."""
    cols = vi.columns
    out = []
    for vid in cols.videos:
        code = cols.code_of[vid]
        frames = cols.frames_of(code)[0]
        row = cols.first_row(code)
        out.append(IndexedVideo(vid, str(cols.path[row]), cols.label[row], np.asarray(frames, np.int64)))
    return sorted(out, key=lambda v: (v.path, v.id))


def match_video(ref: str, paths: Mapping[str, str], local: bool = True) -> list[str]:
    """The ids among ``paths`` (id -> stored path) that ``ref`` names: its id; its stored path,
    as written or, when ``local``, the same file reached another way on this machine (a
    relative path, a link); else a unique id prefix (4+ characters); else a file name. One id
    is an answer, several are ambiguous, none is unknown (the caller words the error)."""
    text = str(ref)
    if text in paths:
        return [text]
    rules: list[Callable[[str], bool]] = [lambda p: p == text]
    if local:
        rules += [
            lambda p: os.path.abspath(os.path.expanduser(text)) == os.path.abspath(p),
            lambda p: Path(text).expanduser().resolve() == Path(p).resolve(),
        ]
    for rule in rules:
        found = [v for v, p in paths.items() if rule(p)]
        if len(found) == 1:
            return found
    found = [v for v in paths if len(text) >= 4 and v.startswith(text)]
    return found or [v for v, p in paths.items() if Path(p).name == Path(text).name]


def query_source(query: str | None, *, video: str | None = None, image: Path | None = None,
                 vector: Path | None = None) -> dict[str, Any]:
    """The query of ``vidsift search [QUERY] [--video | --image | --vector-file]`` as
    ``{"video": ..., "image": ..., "vector": ...}``: the options as given, or what a bare QUERY
    stands for: a ``.npy`` file is a vector, a file with a video extension or no file at all
    names a video (path, id or file name; ``match_video``), any other file is an image (what is
    not one is refused when read).

    Raises:
        BadInputError: QUERY given together with one of the options.
    """
    given = {"video": video, "image": image, "vector": vector}
    if query is None:
        return given
    if any(v is not None for v in given.values()):
        raise BadInputError(f"{query}: give the query once, as QUERY or as --video/--image/--vector-file")
    from vidsift.catalog import VIDEO_EXTENSIONS

    path = Path(query).expanduser()
    if path.is_file() and path.suffix.lower() == ".npy":
        return {"video": None, "image": None, "vector": path}
    if path.is_file() and path.suffix.lower() not in VIDEO_EXTENSIONS:
        return {"video": None, "image": path, "vector": None}
    return {"video": query, "image": None, "vector": None}


def fewer_than_asked(asked: int, got: int, group: str, gap: str = "the gap") -> str | None:
    """Why a grouped search gave fewer moments than asked (None when it did not): the nearest
    frames fall into only that many. ``gap``: how the face names the gap option."""
    if not 0 < got < asked:
        return None
    what = f"moments (hits at most {gap} apart are one)" if group == "segment" else f"{group}s"
    return f"{asked} asked: the nearest frames fall into only {got} {what}"


def indexed_labels(vi: Any) -> list[str]:
    """The labels of the indexed videos (from the catalog, as the id map holds them), sorted."""
    return list(vi.columns.label_codes()[1])


def check_group(group: str | None, gap: float | str | None = None) -> tuple[str | None, float]:
    """``(group, gap)`` checked: ``group`` one of segment, shot, video (or None: frames);
    ``gap`` seconds >= 0, only with ``segment`` (None: ``DEFAULT_GAP``).

    Raises:
        BadInputError: an unknown group, a negative / NaN / non-numeric gap, a gap without
            ``--group segment``.
    """
    if group is not None and group not in GROUP_BY:
        raise BadInputError(
            f"--group {group!r}: use one of {', '.join(GROUP_BY)} (or leave it out for single frames)"
        )
    if gap is None:
        return group, DEFAULT_GAP
    try:
        value = float(gap)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise BadInputError(f"--gap {gap!r}: give a number of seconds >= 0 (e.g. 1.0)")
    if group != "segment":
        raise BadInputError(
            f"--gap joins hits into segments; use it with --group segment (got --group {group or 'none'})"
        )
    return group, value


def check_time_range(text: str | TimeRange | None) -> TimeRange | None:
    """A time-range box: blank -> None (no filter), else :func:`index.filters.parse_time_range`.

    Raises:
        BadInputError: not ``A-B`` / ``A-`` / ``-B``, or a range that is empty or reversed.
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    return parse_time_range(text)


def frame_time(vi: Any, video_id: str, frame: int) -> float:
    """The time in seconds of an indexed frame, as stored in the index."""
    cols = vi.columns
    frames, ids = cols.frames_of(cols.code_of[str(video_id)])
    i = min(int(np.searchsorted(frames, int(frame))), len(frames) - 1)
    return float(cols.time[cols.positions(ids[i : i + 1])][0])


