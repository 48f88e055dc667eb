"""Near-duplicates: pairs of videos, or two stretches of one video, whose frames match in order.

A re-encode, a crop, a speed change or a trim of some footage shows the same frames in the same
order, so its frame embeddings trace a diagonal run through the frame-similarity matrix of the two
videos; two unrelated clips that happen to share a look match frames here and there, not along a
run. The method is the temporal-network alignment of partial-copy detection (Tan, Ngo, Tan & Wu,
"Scalable detection of partial near-duplicate videos by visual-temporal consistency", ACM MM
2009), in three steps, on plain arrays:

1. **Unit vectors** (:func:`unit_rows`): the store's vectors minus their mean, L2-normalised, so
   the threshold is a cosine distance ``1 - cos`` on one scale for every embedder (raw pixels are
   all positive: uncentred, two unrelated photos are already at cosine 0.8-0.9).
2. **Candidates and frame matches** (:func:`candidate_pairs`, :func:`peak_matches`): an exact
   FAISS inner-product kNN of every frame against the frames of the *other* videos (batched;
   ``k`` neighbours each, never a dense N x N matrix) nominates the pairs of videos that have
   frames within the threshold. Each nominated pair (and each video against itself) is then
   compared exactly, in row blocks: frame ``i`` of A matches frame ``j`` of B when their distance
   is at most the threshold and ``j`` is a peak of row ``i`` (more similar than B's frames just
   before and after it), so each occurrence of the footage gives one match per frame rather than a
   smear of neighbouring frames, and a copy that the kNN's ``k`` slots filled with better copies
   is still matched exactly. Inside one video the band ``|t_a - t_b| < min_seconds`` is excluded
   and counts as "more similar" in the peak test, so the slope of the trivial diagonal is no peak.
3. **Diagonal runs** (:func:`longest_chain`, :func:`find_duplicates`): the heaviest chain of
   matches whose times increase in A and do not decrease in B, each step at most ``max_gap``
   seconds in either video (dynamic programming over matches sorted by time; a match weighs
   how far inside the threshold it lies, so a long run of strong matches wins over footage that
   merely resembles the copy). A step may stay on one B frame (A slower) or jump frames of B
   (A faster), so speed changes and different frame rates are followed. A robust line fit then
   keeps the part of the run that follows one constant speed (so the run does not wander into
   slowly changing footage next to the copy), whose slope (seconds of B per second of A) must lie
   within ``1 / max_speed .. max_speed``. Runs are taken one after the other, removing each
   run's rectangle, so a video that holds the footage twice gives two pairs.

A run is reported when the longer of its two ranges lasts at least ``min_seconds`` (so a 2x
sped-up copy of ``min_seconds`` of footage counts), it has at least ``MIN_FRAMES`` matched frames,
its content changes (two of its frames in A are more than ``min_change`` apart: in a still the
order of the matches means nothing, and black frames or title cards would pair anything), and,
within one video, its two ranges do not overlap.

Each result is a :class:`DuplicatePair` of two ``video.segment.Segment``. Its ``score`` is the
mean cosine similarity of the matched frames times the fraction of A's frames in the range that
matched: 1.0 is a frame-exact copy of every frame, a crop of pixels scores about 0.7.

    >>> rng = np.random.default_rng(0)
    >>> walk = np.cumsum(rng.normal(size=(60, 16)), axis=0).astype(np.float32)
    >>> vectors = np.concatenate([walk, walk[10:50] + 0.05, rng.normal(size=(40, 16)) * 9])
    >>> ids = np.repeat(["a", "b", "c"], [60, 40, 40])
    >>> times = np.concatenate([np.arange(60), np.arange(40), np.arange(40)]) / 10.0
    >>> [(p.kind, p.a.video_id, p.a.start, p.b.video_id, p.b.start, p.matched_frames)
    ...  for p in find_duplicates(vectors, ids, times, threshold=0.2, min_seconds=2.0)]
    [('videos', 'a', 1.0, 'b', 0.0, 40)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from vidsift.errors import BadInputError
from vidsift.video.segment import Segment

__all__ = [
    "DEFAULT_K",
    "DEFAULT_MAX_GAP",
    "DEFAULT_MAX_SPEED",
    "DEFAULT_MIN_SECONDS",
    "DEFAULT_THRESHOLD",
    "KINDS",
    "MIN_FRAMES",
    "DuplicatePair",
    "candidate_pairs",
    "check_options",
    "find_duplicates",
    "longest_chain",
    "peak_matches",
    "unit_rows",
]

#: cosine distance (1 - cos of centred, normalised vectors) at or below which two frames match;
#: chosen on ``bench.duplicates`` (docs/duplicates.md): pixel crops of the same footage sit at
#: 0.2-0.4, unrelated footage at 0.7 and more
DEFAULT_THRESHOLD = 0.35
DEFAULT_MIN_SECONDS = 2.0
DEFAULT_K = 32  # kNN neighbours per frame when nominating pairs of videos
DEFAULT_MAX_GAP = 1.0  # seconds a run may skip in either video between two matched frames
DEFAULT_MAX_SPEED = 2.0  # runs may be up to 2x faster or slower in B than in A
DEFAULT_MIN_CHANGE = 0.05  # cosine distance a run's frames must span to count as moving footage
MIN_FRAMES = 3  # matched frames a reported run needs at least
PEAKS_PER_FRAME = 4  # matches kept per frame of A and pair of videos (the most similar peaks)
KINDS = ("videos", "within", "copy")
_BLOCK = 1 << 22  # similarity entries computed at once (16 MiB of float32)
_SLOPE_SLACK = 1.15  # the overall slope may exceed max_speed by frame rounding
_LINE_FRAMES = 2.5  # a run's matches lie within this many frame steps of its fitted line
_MAX_RUNS = 64  # runs tried per pair of videos (found or rejected) before giving up on it


@dataclass(frozen=True)
class DuplicatePair:
    """Two ranges that show the same footage in order: ``a`` in one video, ``b`` in another
    (``kind="videos"``) or later in the same one (``kind="within"``), or two files with the same
    bytes (``kind="copy"``: one content id, so one video, at two paths; whole, score 1).

    ``score``: mean cosine similarity of the matched frames x the fraction of ``a``'s frames that
    matched (1 = every frame an exact copy); ``matched_frames``: frames of ``a`` on the run.
    Both segments carry the pair's score, their matched frame count and their best-matching frame.
    """

    a: Segment
    b: Segment
    score: float
    kind: str
    matched_frames: int

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of one pair (``vidsift duplicates --json``, ``services.duplicates``)."""
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "score": float(self.score),
            "kind": self.kind,
            "matched_frames": int(self.matched_frames),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DuplicatePair:
        seg = {f for f in Segment.__dataclass_fields__}
        return cls(
            a=Segment(**{k: v for k, v in d["a"].items() if k in seg}),
            b=Segment(**{k: v for k, v in d["b"].items() if k in seg}),
            score=float(d["score"]),
            kind=str(d["kind"]),
            matched_frames=int(d["matched_frames"]),
        )


def check_options(
    threshold: float,
    min_seconds: float,
    max_gap: float = DEFAULT_MAX_GAP,
    max_speed: float = DEFAULT_MAX_SPEED,
    k: int = DEFAULT_K,
) -> None:
    """Reject options the search cannot use, with the accepted range in the message.

    Raises:
        BadInputError: threshold outside (0, 1), negative min_seconds, max_gap <= 0,
            max_speed < 1, k < 1.
    """
    if not (isinstance(threshold, int | float) and 0.0 < float(threshold) < 1.0):
        raise BadInputError(
            f"threshold {threshold} is out of range: it is a cosine distance between normalised "
            f"frame vectors; give --threshold between 0 and 1 (default {DEFAULT_THRESHOLD}; smaller is stricter)"
        )
    if not (
        isinstance(min_seconds, int | float) and math.isfinite(min_seconds) and min_seconds >= 0
    ):
        raise BadInputError(
            f"min-seconds {min_seconds} is negative or not a number; give --min-seconds 0 or more "
            f"(default {DEFAULT_MIN_SECONDS})"
        )
    if not (math.isfinite(max_gap) and max_gap > 0):
        raise BadInputError(f"max_gap must be a positive number of seconds, got {max_gap}")
    if not (math.isfinite(max_speed) and max_speed >= 1):
        raise BadInputError(f"max_speed must be 1 or more (2 allows 0.5x..2x), got {max_speed}")
    if int(k) < 1:
        raise BadInputError(f"k must be at least 1, got {k}")


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` minus their mean row, each row scaled to length 1 (zero rows stay zero).

    Centring puts every embedder on one scale: unrelated frames land near cosine 0, whatever the
    embedder's offset (pixels are all positive). The mean is that of the rows given, so the
    result of a search depends a little on which videos take part.
    """
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise TypeError(f"vectors must be 2-D [N, dim], got shape {x.shape}")
    if len(x) == 0:
        return np.zeros_like(x)
    x = x - x.mean(axis=0, dtype=np.float64).astype(np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def candidate_pairs(
    unit: np.ndarray,
    starts: Sequence[int],
    threshold: float,
    k: int = DEFAULT_K,
    batch_size: int = 4096,
    min_votes: int = 2,
) -> list[tuple[int, int]]:
    """Pairs ``(v, w)``, ``v < w``, of videos worth comparing frame by frame.

    ``unit`` holds the unit rows of all videos, video ``v`` in rows ``starts[v]:starts[v+1]``
    (``starts`` has one more entry than there are videos). Every frame is searched against the
    frames of the other videos (FAISS exact inner product, ``batch_size`` queries at a time); a pair is nominated when at least ``min_votes`` of
    these neighbour links, counted in both directions, are within ``threshold``. The own video
    is left out by searching the rows before it and after it (``faiss.knn``, BLAS) and merging.
    """
    import faiss

    unit = np.ascontiguousarray(unit, dtype=np.float32)
    n = len(unit)
    nv = len(starts) - 1
    if nv < 2:
        return []
    owner = np.repeat(np.arange(nv), np.diff(np.asarray(starts)))
    smin = np.float32(1.0 - threshold)
    votes: dict[int, int] = {}
    for v in range(nv):
        lo, hi = int(starts[v]), int(starts[v + 1])
        if hi == lo or n - (hi - lo) < 1:
            continue
        # the other videos are rows [0, lo) and [hi, n): two contiguous views, searched with
        # faiss.knn (BLAS; an ID selector would make FAISS fall back to a much slower loop)
        parts = [(0, unit[:lo]), (hi, unit[hi:])]
        for q0 in range(lo, hi, batch_size):
            q = unit[q0 : min(hi, q0 + batch_size)]
            sims, idx = [], []
            for off, base in parts:
                if len(base):
                    d, i = faiss.knn(
                        q, base, min(int(k), len(base)), metric=faiss.METRIC_INNER_PRODUCT
                    )
                    sims.append(d)
                    idx.append(np.where(i >= 0, i + off, -1))
            sim, ids = np.concatenate(sims, axis=1), np.concatenate(idx, axis=1)
            if sim.shape[1] > k:  # the k best of the two halves
                top = np.argpartition(-sim, int(k) - 1, axis=1)[:, : int(k)]
                sim, ids = np.take_along_axis(sim, top, 1), np.take_along_axis(ids, top, 1)
            hit = ids[(sim >= smin) & (ids >= 0)]
            if len(hit):
                w, counts = np.unique(owner[hit], return_counts=True)
                for ww, c in zip(w.tolist(), counts.tolist(), strict=True):
                    key = min(v, ww) * nv + max(v, ww)
                    votes[key] = votes.get(key, 0) + c
    return sorted((key // nv, key % nv) for key, c in votes.items() if c >= min_votes)


def peak_matches(
    ua: np.ndarray,
    ub: np.ndarray,
    threshold: float,
    *,
    same: bool = False,
    times: np.ndarray | None = None,
    min_seconds: float = 0.0,
    per_frame: int = PEAKS_PER_FRAME,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame matches ``(i, j, similarity)`` between unit rows ``ua`` (video A) and ``ub`` (B).

    ``j`` matches ``i`` when ``ua[i] . ub[j] >= 1 - threshold`` and ``j`` is a peak of row ``i``
    (at least as similar as ``j - 1``, more than ``j + 1``); of those, the ``per_frame`` most
    similar are kept. ``same=True`` compares a video with itself (``ub is ua``): only ``j`` at
    least ``min_seconds`` after ``i`` (by ``times``) can match, and the excluded band counts as
    more similar than anything in the peak test. Computed in row blocks of at most ``_BLOCK``
    entries.
    """
    na, nb = len(ua), len(ub)
    if na == 0 or nb == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    if same and times is None:
        raise ValueError("same=True needs the frame times")
    smin = np.float32(1.0 - threshold)
    rows = max(1, _BLOCK // nb)
    out_i, out_j, out_s = [], [], []
    for r0 in range(0, na, rows):
        r1 = min(na, r0 + rows)
        sim = ua[r0:r1] @ ub.T
        cmp = sim
        valid = sim >= smin
        if same:
            assert times is not None
            dt = times[None, :] - times[r0:r1, None]
            band = np.abs(dt) < min_seconds
            cmp = np.where(band, np.float32(np.inf), sim)
            valid &= dt >= max(min_seconds, 1e-9)
        pad = np.full((r1 - r0, 1), -np.inf, np.float32)
        left = np.concatenate([pad, cmp[:, :-1]], axis=1)
        right = np.concatenate([cmp[:, 1:], pad], axis=1)
        peaks = np.where(valid & (sim >= left) & (sim > right), sim, -np.inf)
        if per_frame < nb:
            top = np.argpartition(-peaks, per_frame - 1, axis=1)[:, :per_frame]
        else:
            top = np.broadcast_to(np.arange(nb), (r1 - r0, nb))
        vals = np.take_along_axis(peaks, top, axis=1)
        ii, cc = np.nonzero(np.isfinite(vals))
        out_i.append(ii + r0)
        out_j.append(top[ii, cc])
        out_s.append(vals[ii, cc])
    return (
        np.concatenate(out_i).astype(np.int64),
        np.concatenate(out_j).astype(np.int64),
        np.concatenate(out_s).astype(np.float32),
    )


def longest_chain(
    ta: np.ndarray,
    tb: np.ndarray,
    weight: np.ndarray,
    max_gap: float = DEFAULT_MAX_GAP,
    max_speed: float | None = None,
    slack: float = 0.0,
    max_stall: int | None = None,
) -> np.ndarray:
    """Indices of the heaviest chain of matches, in order: times strictly increasing in A,
    not decreasing in B, each step at most ``max_gap`` seconds in both.

    With ``max_speed``, each step's B time also lies within ``dta / max_speed - slack`` and
    ``dta * max_speed + slack`` (``slack``: about one frame, for rounding), and with ``max_stall``
    the chain stays on one B time for at most that many steps in a row: without these, a chain
    could crawl along B's first or last frame through footage that merely resembles it.

    Dynamic programming over the matches sorted by ``ta`` (one vectorised step per distinct A
    time), with one state per number of steps the chain has just stayed on its B time. The best
    chain ending at a match is its weight plus the best compatible chain before it. ``weight``
    must be positive. Empty input gives an empty chain.

    >>> longest_chain(np.array([0., 1, 2, 2, 3]), np.array([5., 6, 7, 1, 8]), np.ones(5)).tolist()
    [0, 1, 2, 4]
    >>> longest_chain(np.arange(4.), np.zeros(4), np.ones(4), max_stall=1).tolist()
    [0, 1]
    """
    n = len(ta)
    if n == 0:
        return np.zeros(0, np.int64)
    stalls = n if max_stall is None else max(0, int(max_stall))
    stalls = min(stalls, n)
    order = np.lexsort((tb, ta))
    a, b, w = ta[order], tb[order], np.asarray(weight, np.float64)[order]
    best = np.full((stalls + 1, n), -np.inf)
    best[0] = w
    prev = np.full((stalls + 1, n), -1, np.int64)  # flat index state * n + match of the step before
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    ends = np.r_[starts[1:], n]
    lows = np.searchsorted(a, a[starts] - max_gap - 1e-9, side="left")
    for s0, s1, lo in zip(starts.tolist(), ends.tolist(), lows.tolist(), strict=True):
        if lo >= s0:
            continue
        rows = np.arange(s1 - s0)
        db = b[s0:s1, None] - b[None, lo:s0]
        da = a[s0:s1, None] - a[None, lo:s0]
        ok = (db >= 0) & (db <= max_gap + 1e-9)
        if max_speed is not None:
            ok &= (db >= da / max_speed - slack - 1e-9) & (db <= da * max_speed + slack + 1e-9)
        move = ok & (db > 0)
        stay = ok & (db == 0)
        # a step that moves on in B may follow any state
        states = np.argmax(best[:, lo:s0], axis=0)
        top = best[states, np.arange(lo, s0)]
        cand = np.where(move, top[None, :], -np.inf)
        k = np.argmax(cand, axis=1)
        v = cand[rows, k]
        got = np.isfinite(v)
        best[0, s0:s1][got] = w[s0:s1][got] + v[got]
        prev[0, s0:s1][got] = states[k[got]] * n + lo + k[got]
        # a step that stays on its B time follows a chain that has stayed one step less
        for st in range(1, stalls + 1):
            cand = np.where(stay, best[st - 1, None, lo:s0], -np.inf)
            k = np.argmax(cand, axis=1)
            v = cand[rows, k]
            got = np.isfinite(v)
            if not got.any():
                break
            best[st, s0:s1][got] = w[s0:s1][got] + v[got]
            prev[st, s0:s1][got] = (st - 1) * n + lo + k[got]
    chain = []
    flat = int(np.argmax(best))
    while flat >= 0:
        chain.append(flat % n)
        flat = int(prev[flat // n, flat % n])
    return order[np.array(chain[::-1], np.int64)]


@dataclass(frozen=True)
class _Video:
    """One video's rows: ids, frames and times of the store, plus the unit vectors."""

    video_id: str
    path: str
    label: str | None
    frames: np.ndarray
    times: np.ndarray
    unit: np.ndarray

    @property
    def step(self) -> float:
        """The typical time between two stored frames (0 for a single frame)."""
        return max(float(np.median(np.diff(self.times))), 0.0) if len(self.times) > 1 else 0.0

    def end_of(self, row: int) -> float:
        """The exclusive end of a range whose last row is ``row`` (the next row's time)."""
        if row + 1 < len(self.times):
            return float(self.times[row + 1])
        return float(self.times[row]) + self.step

    def segment(self, r0: int, r1: int, best: int, score: float, matched: int) -> Segment:
        return Segment(
            video_id=self.video_id,
            path=self.path,
            start=float(self.times[r0]),
            end=self.end_of(r1),
            first_frame=int(self.frames[r0]),
            last_frame=int(self.frames[r1]),
            best_frame=int(self.frames[best]),
            best_time=float(self.times[best]),
            score=round(float(score), 6),
            label=self.label,
            frames=int(matched),
        )


def _straight(
    ta: np.ndarray, tb: np.ndarray, w: np.ndarray, tol: float, max_gap: float
) -> np.ndarray:
    """Indices of the part of a run (times in order) that follows one constant speed.

    The heaviest chain may wander off the copy at its ends (footage that changes slowly after
    the copy keeps matching B's last frames) or take a detour in between. A line
    ``tb = c + slope * ta`` is fitted robustly (slope: median of the slopes between points half
    the run apart; then least squares on the points within ``tol`` seconds of it), and the
    heaviest stretch of points within ``tol`` of it, with no gap above ``max_gap``, is kept.
    """
    n = len(ta)
    if n < 3:
        return np.arange(n)
    h = max(1, n // 2)
    da, db = ta[h:] - ta[:-h], tb[h:] - tb[:-h]
    ok = da > 0
    slope = float(np.median(db[ok] / da[ok])) if ok.any() else 1.0
    c = float(np.median(tb - slope * ta))
    for _ in range(2):
        inl = np.abs(tb - (c + slope * ta)) <= tol
        if inl.sum() < 3 or np.ptp(ta[inl]) <= 0:
            break
        slope, c = np.polyfit(ta[inl], tb[inl], 1)
    inl = np.flatnonzero(np.abs(tb - (c + slope * ta)) <= tol)
    if len(inl) == 0:
        return inl
    cuts = (
        np.flatnonzero((np.diff(ta[inl]) > max_gap + 1e-9) | (np.diff(tb[inl]) > max_gap + 1e-9))
        + 1
    )
    pieces = np.split(inl, cuts)
    return max(pieces, key=lambda p: float(w[p].sum()))


def _trim(chain: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Drop the ends of a run that stay on B's first or last frame.

    B's edge frames have a neighbour on one side only, so they are peaks for every frame of A
    that runs up to the copy (or on after it); without this a run would stretch into A's
    unrelated frames next to the copy. A copy at half speed loses one frame at each end.
    """
    lo, hi = 0, len(chain)
    while hi - lo > 1 and j[chain[lo]] == j[chain[lo + 1]]:
        lo += 1
    while hi - lo > 1 and j[chain[hi - 1]] == j[chain[hi - 2]]:
        hi -= 1
    return chain[lo:hi]


def _runs(
    va: _Video,
    vb: _Video,
    kind: str,
    threshold: float,
    min_seconds: float,
    max_gap: float,
    max_speed: float,
    min_change: float,
) -> list[DuplicatePair]:
    same = kind == "within"
    i, j, s = peak_matches(
        va.unit,
        vb.unit,
        threshold,
        same=same,
        times=va.times if same else None,
        min_seconds=min_seconds,
    )
    if len(i) < MIN_FRAMES:
        return []
    ta, tb = va.times[i], vb.times[j]
    tol = _LINE_FRAMES * max(va.step, vb.step)
    slack = max(va.step, vb.step)
    # A slower than B by up to max_speed: B's frame may repeat this many times in a row
    stall = math.ceil(max_speed * vb.step / va.step - 1e-9) - 1 if va.step > 0 else 0
    # weight of a match: how far inside the threshold it is (0..1], so a run along weak matches
    # (footage that merely resembles the copy) does not outweigh a shorter run of strong ones
    margin = (s - (1.0 - threshold)) / threshold + 1e-3
    alive = np.ones(len(i), bool)
    pairs: list[DuplicatePair] = []
    for _ in range(_MAX_RUNS):
        idx = np.flatnonzero(alive)
        if len(idx) < MIN_FRAMES:
            break
        heaviest = idx[longest_chain(ta[idx], tb[idx], margin[idx], max_gap, max_speed, slack, stall)]
        chain = _trim(heaviest[_straight(ta[heaviest], tb[heaviest], margin[heaviest], tol, max_gap)], j)
        if len(chain) < MIN_FRAMES:  # no stretch of it keeps one speed: not a copy, but the next run may be
            alive[heaviest] = False
            continue
        ci, cj = i[chain], j[chain]
        a0, a1, b0, b1 = int(ci[0]), int(ci[-1]), int(cj.min()), int(cj.max())
        dur_a = va.end_of(a1) - float(va.times[a0])
        dur_b = vb.end_of(b1) - float(vb.times[b0])
        if len(chain) < MIN_FRAMES or max(dur_a, dur_b) < min_seconds - 1e-9:
            break  # the heaviest run left is too short: so is every other
        rect = (
            (ta >= va.times[a0])
            & (ta <= va.times[a1])
            & (tb >= vb.times[b0])
            & (tb <= vb.times[b1])
        )
        alive &= ~rect
        alive[chain] = False
        slope = dur_b / dur_a if dur_a > 0 else math.inf
        change = 1.0 - float(np.min(va.unit[ci] @ va.unit[ci[0]]))
        overlap = same and vb.times[b0] < va.end_of(a1) - 1e-9
        if (
            not (1 / (max_speed * _SLOPE_SLACK) <= slope <= max_speed * _SLOPE_SLACK)
            or change < min_change
            or overlap
        ):
            continue
        matched = len(np.unique(ci))
        sims = s[chain]
        score = float(sims.mean()) * matched / (a1 - a0 + 1)
        best = int(np.argmax(sims))
        pairs.append(
            DuplicatePair(
                a=va.segment(a0, a1, int(ci[best]), score, matched),
                b=vb.segment(b0, b1, int(cj[best]), score, matched),
                score=round(score, 6),
                kind=kind,
                matched_frames=matched,
            )
        )
    return pairs


def find_duplicates(
    vectors: np.ndarray,
    video_ids: Sequence[str] | np.ndarray,
    times: Sequence[float] | np.ndarray,
    frames: Sequence[int] | np.ndarray | None = None,
    paths: Sequence[str] | np.ndarray | None = None,
    labels: Sequence[str | None] | np.ndarray | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_seconds: float = DEFAULT_MIN_SECONDS,
    k: int = DEFAULT_K,
    max_gap: float = DEFAULT_MAX_GAP,
    max_speed: float = DEFAULT_MAX_SPEED,
    min_change: float = DEFAULT_MIN_CHANGE,
    batch_size: int = 4096,
    copies: Mapping[str, Sequence[tuple[str, str | None]]] | None = None,
) -> list[DuplicatePair]:
    """Every pair of ranges whose frames match in order for ``min_seconds`` or more, best first.

    Args:
        vectors: float ``[N, dim]``, one row per stored frame (any embedder; centred and
            normalised here).
        video_ids, times: per row, the video and the frame's time in seconds; a video's rows
            must be contiguous (as ``embedder.store.load_store`` returns them), in time order.
        frames, paths, labels: per row, the frame number (default: the row's index within its
            video), the file path and the catalog label, copied into the segments.
        threshold: cosine distance at or below which two frames match, in (0, 1).
        min_seconds: the longer of a pair's two ranges lasts at least this; inside one video
            the two ranges are also at least this far apart.
        k: neighbours per frame when nominating pairs of videos (:func:`candidate_pairs`).
        max_gap: seconds a run may skip in either video; max_speed: allowed speed ratio.
        min_change: cosine distance a run's frames in A must span (stills are not reported).
        copies: video id -> ``(path, label)`` of other files with the same bytes (the catalog's
            ``Catalog.copies``, whose files are one video): each is a ``"copy"`` pair of the whole
            video, score 1, without comparing frames.

    Returns:
        ``DuplicatePair`` records sorted by score, highest first; each segment's ``group`` is the
        pair's rank (``"1"``, ``"2"``, ...). ``kind="videos"`` pairs have ``a`` in the video that
        comes first in row order.

    Raises:
        BadInputError: an option out of range (:func:`check_options`).
        TypeError / ValueError: arrays of the wrong shape, rows of a video not contiguous.
    """
    check_options(threshold, min_seconds, max_gap, max_speed, k)
    vectors = np.asarray(vectors)
    if vectors.ndim != 2:
        raise TypeError(f"vectors must be 2-D [N, dim], got shape {vectors.shape}")
    n = len(vectors)
    ids = np.asarray(video_ids).astype(str)
    t = np.asarray(times, dtype=np.float64)
    if len(ids) != n or len(t) != n:
        raise ValueError(f"{n} vectors but {len(ids)} video ids and {len(t)} times")
    if n == 0:
        return []
    change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.r_[0, change, n]
    names = ids[starts[:-1]]
    if len(set(names.tolist())) != len(names):
        raise ValueError("each video's rows must be contiguous (sort by video id, then time)")
    fr = (
        np.asarray(frames, np.int64)
        if frames is not None
        else np.concatenate(
            [np.arange(b - a) for a, b in zip(starts[:-1], starts[1:], strict=True)]
        )
    )
    unit = unit_rows(vectors)
    videos = []
    for v, (a, b) in enumerate(zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)):
        if np.any(np.diff(t[a:b]) < 0):
            raise ValueError(f"the rows of video {names[v]} are not in time order")
        videos.append(
            _Video(
                video_id=str(names[v]),
                path=str(paths[a]) if paths is not None else "",
                label=None
                if labels is None or labels[a] is None or labels[a] != labels[a]
                else str(labels[a]),
                frames=fr[a:b],
                times=t[a:b],
                unit=unit[a:b],
            )
        )
    opts = dict(
        threshold=float(threshold),
        min_seconds=float(min_seconds),
        max_gap=float(max_gap),
        max_speed=float(max_speed),
        min_change=float(min_change),
    )
    pairs: list[DuplicatePair] = []
    for v in videos:
        for path, label in (copies or {}).get(v.video_id, ()):
            if path != v.path:
                whole = v.segment(0, len(v.times) - 1, 0, 1.0, len(v.times))
                pairs.append(DuplicatePair(a=whole, b=replace(whole, path=str(path), label=label), score=1.0,
                                           kind="copy", matched_frames=len(v.times)))
        pairs += _runs(v, v, "within", **opts)
    for v, w in candidate_pairs(unit, starts.tolist(), threshold, k=k, batch_size=batch_size):
        pairs += _runs(videos[v], videos[w], "videos", **opts)
    pairs.sort(
        key=lambda p: (
            -p.score,
            -p.matched_frames,
            p.a.video_id,
            p.a.start,
            p.b.video_id,
            p.b.start,
        )
    )
    return [
        replace(p, a=replace(p.a, group=str(r)), b=replace(p.b, group=str(r)))
        for r, p in enumerate(pairs, 1)
    ]
