"""Search results: :class:`Hit` (one neighbour) and :class:`Hits` (the neighbours of one query).

``Hits`` keeps the result columnar (row positions + distances as numpy arrays) and builds a
``Hit`` only when one is read, so a search over thousands of queries costs little more than the
FAISS call itself. It behaves as a read-only ``Sequence[Hit]``, nearest first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, overload

import numpy as np
import pandas as pd

from vidsift.video.segment import GroupBy, Segment, merge_frames


@dataclass(frozen=True, slots=True)
class Hit:
    """One neighbour. ``distance`` is ``1 - cos`` (cosine) or squared L2 (l2); smaller is nearer."""

    video_id: str
    path: str
    frame: int
    time: float
    shot: int
    label: str | None
    distance: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Columns:
    """The id map as numpy columns, sorted by id (ids are allocated increasingly).

    A snapshot: the index builds a new one after every add/remove, so ``Hits`` taken earlier stay
    valid.
    """

    ids: np.ndarray  # int64 [N], increasing
    video_id: np.ndarray  # object [N]
    path: np.ndarray  # object [N]
    frame: np.ndarray  # int64 [N]
    time: np.ndarray  # float64 [N]
    shot: np.ndarray  # int64 [N]
    label: np.ndarray  # object [N], None where unlabelled
    codes: np.ndarray  # int64 [N], video code (position in ``videos``)
    videos: list[str]
    code_of: dict[str, int]
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_idmap(cls, idmap: pd.DataFrame) -> Columns:
        codes, uniques = pd.factorize(idmap["video_id"], sort=True)
        videos = [str(v) for v in uniques]
        label = idmap["label"].to_numpy(dtype=object)
        label = np.where(pd.isna(label), None, label).astype(object)
        return cls(
            ids=idmap.index.to_numpy(dtype=np.int64),
            video_id=idmap["video_id"].to_numpy(dtype=object),
            path=idmap["path"].to_numpy(dtype=object),
            frame=idmap["frame"].to_numpy(dtype=np.int64),
            time=idmap["time"].to_numpy(dtype=np.float64),
            shot=idmap["shot"].to_numpy(dtype=np.int64),
            label=label,
            codes=codes.astype(np.int64),
            videos=videos,
            code_of={v: i for i, v in enumerate(videos)},
        )

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of ``ids`` (each present, or -1 which maps to row 0: mask those).

        A direct lookup, not a binary search: after a build ids are ``0..N-1`` (position = id);
        after removals a dense table over all ids ever allocated (4 bytes each) is used.
        """
        if len(self.ids) == 0:
            return np.zeros(np.shape(ids), np.int64)
        first, last = int(self.ids[0]), int(self.ids[-1])
        if last - first + 1 == len(self.ids):  # no gaps
            return np.clip(ids - first, 0, None) if first else np.maximum(ids, 0)
        table = self._cache.get("table")
        if table is None:
            table = np.zeros(last + 1, np.int32 if len(self.ids) < 2**31 else np.int64)
            table[self.ids] = np.arange(len(self.ids))
            self._cache["table"] = table
        return table[np.clip(ids, 0, last)]

    def _groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rows grouped by video once, frames sorted within each: (frame, ids, rows, starts).

        ``starts[c]:starts[c + 1]`` is video ``c``'s slice of the three arrays. Built in one
        O(N log N) pass (O(N) when rows are already in video/frame order, as after a build), so
        no later lookup scans all N rows.
        """
        groups = self._cache.get("groups")
        if groups is None:
            codes, frame = self.codes, self.frame
            in_order = len(codes) < 2 or bool(
                np.all(
                    (codes[1:] > codes[:-1])
                    | ((codes[1:] == codes[:-1]) & (frame[1:] >= frame[:-1]))
                )
            )
            rows = np.arange(len(codes)) if in_order else np.lexsort((frame, codes))
            starts = np.searchsorted(codes[rows], np.arange(len(self.videos) + 1))
            groups = (frame[rows], self.ids[rows], rows, starts)
            for a in groups:
                a.setflags(write=False)  # frames_of hands out views of these
            self._cache["groups"] = groups
        return groups

    def frames_of(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        """(sorted frame numbers, their ids) of one video (read-only views)."""
        frame, ids, _, starts = self._groups()
        lo, hi = starts[code], starts[code + 1]
        return frame[lo:hi], ids[lo:hi]

    def first_row(self, code: int) -> int:
        """The row position of one video's first indexed frame."""
        _, _, rows, starts = self._groups()
        return int(rows[starts[code]])

    def video_paths(self) -> dict[str, str]:
        """video id -> its path as stored (first row of the video)."""
        if "paths" not in self._cache:
            _, first = np.unique(self.codes, return_index=True)
            self._cache["paths"] = {str(self.video_id[i]): str(self.path[i]) for i in first}
        return self._cache["paths"]

    def label_codes(self) -> tuple[np.ndarray, list[str]]:
        """(per-row label code, sorted label names): code ``i`` is ``names[i]``, -1 no label."""
        cached = self._cache.get("labels")
        if cached is None:
            names = sorted({str(x) for x in self.label if x is not None})
            lookup = {x: i for i, x in enumerate(names)}
            codes = np.fromiter(
                (-1 if x is None else lookup[str(x)] for x in self.label), np.int64, len(self.label)
            )
            cached = self._cache["labels"] = (codes, names)
        return cached

    def row_span(self, code: int) -> float:
        """Seconds one indexed row of video ``code`` stands for: the median time between its
        rows (the store's frame stride), 0 for a video of one row. Cached per video."""
        spans = self._cache.setdefault("spans", {})
        if code not in spans:
            _, ids = self.frames_of(code)
            t = np.unique(self.time[self.positions(ids)])
            spans[code] = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
        return spans[code]

    def video_end(self, code: int) -> float:
        """The end of video ``code`` as far as the index knows: its last row's time + one span."""
        _, ids = self.frames_of(code)
        return float(self.time[self.positions(ids)].max()) + self.row_span(code)

    def hit(self, pos: int, distance: float) -> Hit:
        return Hit(
            video_id=str(self.video_id[pos]),
            path=str(self.path[pos]),
            frame=int(self.frame[pos]),
            time=float(self.time[pos]),
            shot=int(self.shot[pos]),
            label=self.label[pos],
            distance=float(distance),
        )


class Hits(Sequence[Hit]):
    """Neighbours of one query, nearest first. Read-only sequence of :class:`Hit`."""

    __slots__ = ("_cols", "positions", "distances")

    def __init__(self, cols: Columns, positions: np.ndarray, distances: np.ndarray) -> None:
        self._cols = cols
        self.positions = positions
        self.distances = distances

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, i: int) -> Hit: ...

    @overload
    def __getitem__(self, i: slice) -> list[Hit]: ...

    def __getitem__(self, i: int | slice) -> Hit | list[Hit]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._cols.hit(int(self.positions[i]), self.distances[i])

    def __iter__(self) -> Iterator[Hit]:
        cols = self._cols
        for p, d in zip(self.positions.tolist(), self.distances.tolist(), strict=True):
            yield cols.hit(p, d)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Hits({list(self)!r})"

    @property
    def ids(self) -> np.ndarray:
        """Index ids (int64) of the hits."""
        return self._cols.ids[self.positions]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [h.to_dict() for h in self]

    def segments(
        self,
        by: GroupBy = "segment",
        gap: float = 1.0,
        video_end: Mapping[str, float] | None = None,
    ) -> list[Segment]:
        """These hits merged into moments by :func:`video.segment.merge_frames`, best first.

        Each hit covers ``[time, time + span)``, ``span`` being its video's row spacing in the
        index (``Columns.row_span``: the store's stride, not the gaps between hits), capped at
        ``video_end[video_id]`` (the real duration, e.g. from the catalog) or else at the video's
        last indexed row + one span. ``frames`` of a segment counts the hits merged into it.

        Raises:
            ValueError: unknown ``by`` or a negative ``gap`` (from ``merge_frames``).
        """
        c = self._cols
        codes = np.unique(c.codes[self.positions])
        span = {c.videos[i]: c.row_span(int(i)) for i in codes}
        ends = {c.videos[i]: c.video_end(int(i)) for i in codes}
        for vid, end in (video_end or {}).items():
            # a duration from elsewhere (the catalog) caps only when it agrees with the index's
            # time base: not before the last indexed row
            if vid in ends and end is not None and float(end) >= ends[vid] - span[vid]:
                ends[vid] = min(ends[vid], float(end))
        return merge_frames(self.to_frame(), by=by, gap=gap, span=span, video_end=ends)

    def to_frame(self) -> pd.DataFrame:
        c, p = self._cols, self.positions
        return pd.DataFrame(
            {
                "video_id": c.video_id[p],
                "path": c.path[p],
                "frame": c.frame[p],
                "time": c.time[p],
                "shot": c.shot[p],
                "label": c.label[p],
                "distance": self.distances,
            }
        )
