"""Samplers: ``IterableDataset`` streams of whole training batches, decoded in DataLoader workers.

Every stream draws batch ``s`` (the global step) with its own generator
``np.random.default_rng([seed, rank, s])`` (see ``batch_rng``). Consequences:

* the stream does not depend on the number of DataLoader workers: worker ``w`` of ``W`` makes the
  batches of steps ``start + w, start + w + W, ...`` and the DataLoader hands them out round-robin,
  i.e. in step order;
* ``--resume`` at step ``s`` continues the very same stream (``configure(start_step=s)``), which is
  what makes a resumed run equal to an uninterrupted one;
* under DDP each rank draws different batches (``rank`` is part of the seed) of
  ``batch_size // world_size`` samples, so the global batch keeps the configured size.

Frame choice ("random frames of the training videos", Redondo-Cabrera et al. 4.1): a query frame is
uniform over all usable frames of all usable videos (so long videos give more samples than short
ones). Each stream returns the decoded batch as a dict of tensors; ``x`` holds all images of the
batch in blocks so that one forward pass serves the whole tuple (as in both papers):

==============  ====================================================  ===========================
stream          one sample                                            ``x`` blocks
==============  ====================================================  ===========================
PairStream      (V_i,t , V_i,t+w) positive, y = 1;                    [a; b], ``y`` [B]
                negative y = 0: ``other-video`` V_j,t' (j != i),
                ``same-video`` V_i,t' with |t - t'| > w (DrLIM/SFA),
                ``mu`` any frame of the concatenated long video
QuadrupletStream (V_i,t, V_i,t+w, V_i,t+n, V_j,t')                    [q; adj; far; neg]
TripletStream   (patch_t, tracked patch_t+k); negatives are taken     [anchor; positive],
                in the batch from other videos by the method          ``video`` [B]
==============  ====================================================  ===========================

"MU" (More Unsupervised, Redondo-Cabrera et al. 4.1.2): all videos are concatenated, in an order
fixed by the seed, into one long video. Positives and the t+n frame are taken in that long video
(so, rarely, a pair straddles the joint of two videos, as in the paper) and the negative is any
random frame of it outside the query's window (|t' - t| > w for pairs, > n for quadruplets), so it
may come from the query's own video.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from vidsift.errors import BadInputError
from vidsift.training.config import TrainConfig
from vidsift.training.data import tracker
from vidsift.training.data.source import FrameSource, resize_frames

if TYPE_CHECKING:  # pragma: no cover
    from vidsift.training.methods.base import Method


def batch_rng(seed: int, rank: int, step: int) -> np.random.Generator:
    """The generator of batch ``step`` on ``rank``: independent of workers and of resumption."""
    return np.random.default_rng([int(seed), int(rank), int(step)])


def fetch(
    source: FrameSource, videos: Sequence[str], frames: Sequence[int], size: tuple[int, int]
) -> np.ndarray:
    """Decode ``(videos[k], frames[k])`` for all k -> uint8 [N, H, W, 3], one call per video."""
    n = len(videos)
    out: np.ndarray | None = None
    order: dict[str, list[int]] = {}
    for k, vid in enumerate(videos):
        order.setdefault(vid, []).append(k)
    for vid, ks in order.items():
        got = source.get_frames(vid, [int(frames[k]) for k in ks], tuple(size))
        if out is None:
            out = np.empty((n, *got.shape[1:]), dtype=np.uint8)
        out[ks] = got
    assert out is not None
    return out


class LongVideo:
    """All videos of a source concatenated (in a seeded random order) into one long video."""

    def __init__(self, video_ids: Sequence[str], lengths: Sequence[int], seed: int) -> None:
        order = np.random.default_rng([int(seed), 7919]).permutation(len(video_ids))
        self.video_ids = [video_ids[i] for i in order]
        self.lengths = np.asarray([lengths[i] for i in order], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]])
        self.total = int(self.lengths.sum())

    def locate(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global frame numbers -> (video position in ``video_ids``, frame within that video)."""
        g = np.asarray(g, dtype=np.int64)
        v = np.searchsorted(self.starts, g, side="right") - 1
        return v, g - self.starts[v]


class BatchStream(IterableDataset, metaclass=ABCMeta):
    """Base stream: yields ``cfg.steps - start_step`` batches; subclasses implement ``make_batch``.

    ``preprocess`` is ``method.preprocess`` (run here, i.e. in the workers); without a method the
    batch holds the uint8 frames as a tensor (tests).
    """

    #: what the stream samples, for error messages ("quadruplets", "pairs", ...)
    WHAT = "samples"

    def __init__(
        self, cfg: TrainConfig, source: FrameSource, method: Method | None = None
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.source = source
        self.method = method
        self.seed = cfg.seed
        self.total_steps = cfg.steps
        self.start_step = 0
        self.rank = 0
        self.world_size = 1

    def configure(self, start_step: int = 0, rank: int = 0, world_size: int = 1) -> BatchStream:
        if self.cfg.batch_size % world_size:
            raise BadInputError(
                f"batch size {self.cfg.batch_size} does not split over {world_size} processes; "
                f"use a multiple of {world_size}"
            )
        self.start_step, self.rank, self.world_size = int(start_step), int(rank), int(world_size)
        return self

    @property
    def batch_size(self) -> int:
        return self.cfg.batch_size // self.world_size

    def __len__(self) -> int:
        return max(0, self.total_steps - self.start_step)

    def __iter__(self):
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        for step in range(self.start_step + wid, self.total_steps, nw):
            yield self.batch(step)

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        """The batch of ``step`` (deterministic)."""
        return self.make_batch(batch_rng(self.seed, self.rank, step), self.batch_size)

    @abstractmethod
    def make_batch(self, rng: np.random.Generator, n: int) -> dict[str, torch.Tensor]:
        ...

    # helpers
    #: a callable (uint8 frames, rng) -> uint8 frames applied to every fetched frame, or None
    augment: Any = None

    def _augmented(self, frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``frames`` through ``augment`` (drawing from the batch's ``rng``, after sampling)."""
        return frames if self.augment is None else self.augment(frames, rng)

    def prep(self, frames: np.ndarray) -> torch.Tensor:
        if self.method is None:
            return torch.from_numpy(np.ascontiguousarray(frames))
        return self.method.preprocess(frames, self.cfg)

    def _usable(self, min_len: int, min_videos: int, what: str) -> tuple[list[str], np.ndarray]:
        """Videos with more than ``min_len`` frames; ``BadInputError`` if fewer than needed."""
        ids = list(self.source.video_ids)
        lengths = [int(self.source.num_frames(v)) for v in ids]
        keep = [(v, n) for v, n in zip(ids, lengths, strict=True) if n > min_len]
        if len(keep) < min_videos:
            short = len(ids) - len(keep)
            raise BadInputError(
                f"{what} need at least {min_videos} video{'s' if min_videos > 1 else ''} longer "
                f"than {min_len} frame{'s' if min_len != 1 else ''}; found {len(keep)} "
                f"({len(ids)} video{'s' if len(ids) != 1 else ''} given, {short} too short)"
                + ("; add videos or lower the window" if ids else "; add videos")
            )
        return [v for v, _ in keep], np.asarray([n for _, n in keep], dtype=np.int64)


def _weighted_videos(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    p = weights / weights.sum()
    return rng.choice(len(weights), size=n, p=p)


def _other_video(rng: np.random.Generator, vi: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each video position in ``vi``, a different video (uniform over frames of the others)."""
    out = np.empty_like(vi)
    for k, i in enumerate(vi):
        w = lengths.astype(np.float64).copy()
        w[i] = 0.0
        out[k] = rng.choice(len(w), p=w / w.sum())
    return out


def _far_frame(rng: np.random.Generator, t: int, length: int, gap: int) -> int:
    """Uniform frame t' of [0, length) with |t' - t| > gap (caller checks one exists)."""
    left = max(0, t - gap)  # frames 0 .. t-gap-1
    right = max(0, length - (t + gap + 1))  # frames t+gap+1 .. length-1
    r = int(rng.integers(left + right))
    return r if r < left else t + gap + 1 + (r - left)


class PairStream(BatchStream):
    """Pairs of frames: adjacent positives (t, t+w) and negatives of the chosen kind.

    Params: ``w`` (adjacency window, default 1), ``pos_fraction`` (share of positive pairs,
    default 0.5; 1.0 = positives only, as for the slow-feature auto-encoder), ``negatives``:
    ``"other-video"`` (Ls), ``"same-video"`` (DrLIM/SFA: |t - t'| > w), ``"mu"`` (long video).
    """

    WHAT = "pairs"
    NEGATIVES = ("other-video", "same-video", "mu")

    def __init__(
        self,
        cfg: TrainConfig,
        source: FrameSource,
        method: Method | None = None,
        *,
        w: int = 1,
        pos_fraction: float = 0.5,
        negatives: str = "other-video",
        augment: Any = None,
    ) -> None:
        super().__init__(cfg, source, method)
        self.augment = augment  # e.g. training.data.augment.ViewAugment: each frame its own view
        if w < 1:
            raise BadInputError(f"adjacency window w must be >= 1, got {w}")
        if not 0.0 <= pos_fraction <= 1.0:
            raise BadInputError(f"pos_fraction must be in [0, 1], got {pos_fraction}")
        if negatives not in self.NEGATIVES:
            raise BadInputError(
                f"unknown negatives {negatives!r}; use one of {', '.join(self.NEGATIVES)}"
            )
        self.w, self.pos_fraction, self.negatives = int(w), float(pos_fraction), negatives
        has_neg = pos_fraction < 1.0
        if negatives == "mu":
            ids, lengths = self._usable(0, 1, "MU pairs")
            self.long = LongVideo(ids, lengths, cfg.seed)
            if self.long.total <= 2 * self.w + 1:
                raise BadInputError(
                    f"MU pairs need more than {2 * self.w + 1} frames in all; found {self.long.total}"
                )
        elif negatives == "same-video" and has_neg:
            # a non-adjacent frame must exist: length >= w + 2
            self.ids, self.lengths = self._usable(self.w + 1, 1, "non-adjacent pairs")
        elif has_neg:
            self.ids, self.lengths = self._usable(self.w, 2, "pairs with other-video negatives")
        else:
            self.ids, self.lengths = self._usable(self.w, 1, "adjacent pairs")

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Indices only: ``video`` [n, 2] (ids as positions), ``frame`` [n, 2], ``y`` [n]."""
        n_pos = int(round(n * self.pos_fraction))
        y = np.zeros(n, dtype=np.float32)
        y[:n_pos] = 1.0
        if self.negatives == "mu":
            lv = self.long
            g = np.empty((n, 2), dtype=np.int64)
            g[:n_pos, 0] = rng.integers(0, lv.total - self.w, size=n_pos)
            g[:n_pos, 1] = g[:n_pos, 0] + self.w
            for k in range(n_pos, n):
                t = int(rng.integers(lv.total))
                g[k] = (t, _far_frame(rng, t, lv.total, self.w))
            v, f = lv.locate(g)
            return {"video": v, "frame": f, "y": y, "global": g}
        starts = np.maximum(self.lengths - self.w, 0)
        vid = np.empty((n, 2), dtype=np.int64)
        frame = np.empty((n, 2), dtype=np.int64)
        vid[:n_pos, 0] = _weighted_videos(rng, starts.astype(np.float64), n_pos)
        vid[:n_pos, 1] = vid[:n_pos, 0]
        frame[:n_pos, 0] = (rng.random(n_pos) * starts[vid[:n_pos, 0]]).astype(np.int64)
        frame[:n_pos, 1] = frame[:n_pos, 0] + self.w
        n_neg = n - n_pos
        if n_neg:
            vi = _weighted_videos(rng, self.lengths.astype(np.float64), n_neg)
            ti = (rng.random(n_neg) * self.lengths[vi]).astype(np.int64)
            vid[n_pos:, 0], frame[n_pos:, 0] = vi, ti
            if self.negatives == "other-video":
                vj = _other_video(rng, vi, self.lengths)
                vid[n_pos:, 1] = vj
                frame[n_pos:, 1] = (rng.random(n_neg) * self.lengths[vj]).astype(np.int64)
            else:  # same-video, |t - t'| > w
                vid[n_pos:, 1] = vi
                frame[n_pos:, 1] = [
                    _far_frame(rng, int(t), int(self.lengths[v]), self.w)
                    for v, t in zip(vi, ti, strict=True)
                ]
        return {"video": vid, "frame": frame, "y": y}

    def video_id(self, pos: np.ndarray) -> list[str]:
        ids = self.long.video_ids if self.negatives == "mu" else self.ids
        return [ids[int(i)] for i in pos]

    def make_batch(self, rng: np.random.Generator, n: int) -> dict[str, torch.Tensor]:
        s = self.sample(rng, n)
        vids = self.video_id(np.concatenate([s["video"][:, 0], s["video"][:, 1]]))
        frames = np.concatenate([s["frame"][:, 0], s["frame"][:, 1]])
        x = self.prep(self._augmented(fetch(self.source, vids, frames, self.cfg.input_size), rng))
        return {
            "x": x,
            "y": torch.from_numpy(s["y"]),
            "video": torch.from_numpy(s["video"]),
            "frame": torch.from_numpy(s["frame"]),
        }


class QuadrupletStream(BatchStream):
    """Quadruplets (V_i,t, V_i,t+w, V_i,t+n, V_j,t') with j != i (or MU: a far frame of the long
    video). Params ``n`` (non-neighbour gap, paper 20), ``w`` (adjacency, 1), ``mu``."""

    WHAT = "quadruplets"

    def __init__(
        self,
        cfg: TrainConfig,
        source: FrameSource,
        method: Method | None = None,
        *,
        n: int = 20,
        w: int = 1,
        mu: bool = False,
        augment: Any = None,
    ) -> None:
        super().__init__(cfg, source, method)
        self.augment = augment  # e.g. training.data.augment.ViewAugment: each frame its own view
        if not 1 <= w < n:
            raise BadInputError(f"quadruplets need 1 <= w < n, got w={w}, n={n}")
        self.n, self.w, self.mu = int(n), int(w), bool(mu)
        if self.mu:
            ids, lengths = self._usable(0, 1, "MU quadruplets")
            self.long = LongVideo(ids, lengths, cfg.seed)
            if self.long.total <= 2 * self.n + 1:
                raise BadInputError(
                    f"MU quadruplets need more than {2 * self.n + 1} frames in all; found {self.long.total}"
                )
        else:
            self.ids, self.lengths = self._usable(self.n, 2, "quadruplets")

    def sample(self, rng: np.random.Generator, b: int) -> dict[str, np.ndarray]:
        """``video`` [b, 4] (positions), ``frame`` [b, 4]."""
        if self.mu:
            lv = self.long
            g = np.empty((b, 4), dtype=np.int64)
            g[:, 0] = rng.integers(0, lv.total - self.n, size=b)
            g[:, 1] = g[:, 0] + self.w
            g[:, 2] = g[:, 0] + self.n
            g[:, 3] = [_far_frame(rng, int(t), lv.total, self.n) for t in g[:, 0]]
            v, f = lv.locate(g)
            return {"video": v, "frame": f, "global": g}
        starts = (self.lengths - self.n).astype(np.float64)
        vi = _weighted_videos(rng, starts, b)
        t = (rng.random(b) * starts[vi]).astype(np.int64)
        vj = _other_video(rng, vi, self.lengths)
        tj = (rng.random(b) * self.lengths[vj]).astype(np.int64)
        video = np.stack([vi, vi, vi, vj], axis=1)
        frame = np.stack([t, t + self.w, t + self.n, tj], axis=1)
        return {"video": video, "frame": frame}

    def make_batch(self, rng: np.random.Generator, b: int) -> dict[str, torch.Tensor]:
        s = self.sample(rng, b)
        ids = self.long.video_ids if self.mu else self.ids
        order = s["video"].T.ravel()  # blocks: all queries, all adjacent, all far, all negatives
        vids = [ids[int(i)] for i in order]
        x = self.prep(self._augmented(fetch(self.source, vids, s["frame"].T.ravel(), self.cfg.input_size), rng))
        return {
            "x": x,
            "video": torch.from_numpy(np.ascontiguousarray(s["video"])),
            "frame": torch.from_numpy(np.ascontiguousarray(s["frame"])),
        }


class TripletStream(BatchStream):
    """Tracked patch pairs (patch_t, patch_t+k) for the triplet ranking loss (Wang & Gupta 2015).

    Frames are decoded at ``frame_size`` (H, W); a ``patch``-sized box is picked and followed for
    ``track_len`` frames, ``track_stride`` frames at a time, by block matching within ``radius``
    pixels (``training.data.tracker``). Both crops are resized to ``cfg.input_size``. Every batch
    holds at least two videos so each pair has in-batch negatives from another video.
    """

    WHAT = "triplets"

    def __init__(
        self,
        cfg: TrainConfig,
        source: FrameSource,
        method: Method | None = None,
        *,
        frame_size: tuple[int, int] = (64, 64),
        patch: int = 32,
        track_len: int = 8,
        track_stride: int = 1,
        radius: int = 4,
    ) -> None:
        super().__init__(cfg, source, method)
        fh, fw = int(frame_size[0]), int(frame_size[1])
        if not 0 < patch <= min(fh, fw):
            raise BadInputError(f"patch {patch} does not fit frames of {fh}x{fw}")
        if track_len < 1 or track_stride < 1 or track_len % track_stride:
            raise BadInputError(
                f"track_len ({track_len}) must be a positive multiple of track_stride ({track_stride})"
            )
        self.frame_size, self.patch = (fh, fw), int(patch)
        self.track_len, self.track_stride, self.radius = int(track_len), int(track_stride), int(radius)
        self.ids, self.lengths = self._usable(self.track_len, 2, "triplets")

    def sample(self, rng: np.random.Generator, b: int) -> dict[str, np.ndarray]:
        starts = (self.lengths - self.track_len).astype(np.float64)
        vi = _weighted_videos(rng, starts, b)
        if b > 1 and (vi == vi[0]).all():  # in-batch negatives need a second video
            vi[1] = _other_video(rng, vi[:1], self.lengths)[0]
        t = (rng.random(b) * starts[vi]).astype(np.int64)
        return {"video": vi, "frame": t}

    def mine(
        self, frames: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
        """frames uint8 [K+1, H, W, 3] (t, t+s, ..., t+k) -> (patch_t, patch_t+k, (y0, x0, y1, x1))."""
        gray = tracker.to_gray(frames)
        p = self.patch
        # keep the start away from the border by how far the patch may travel (capped so that
        # there is still room to choose), so a moving patch does not run into the frame edge
        room = min(self.frame_size) - p
        margin = min(self.radius * (len(frames) - 1), room // 2)
        y, x = tracker.pick_patch(gray[0], gray[1], p, rng, margin=margin)
        path = tracker.track(gray, y, x, p, self.radius)
        y1, x1 = path[-1]
        return frames[0, y : y + p, x : x + p], frames[-1, y1 : y1 + p, x1 : x1 + p], (y, x, y1, x1)

    def make_batch(self, rng: np.random.Generator, b: int) -> dict[str, torch.Tensor]:
        s = self.sample(rng, b)
        steps = np.arange(0, self.track_len + 1, self.track_stride)
        anchors, positives, boxes = [], [], []
        vids = [self.ids[int(i)] for i in s["video"]]
        for vid, t in zip(vids, s["frame"], strict=True):
            frames = self.source.get_frames(vid, (int(t) + steps).tolist(), self.frame_size)
            a, p, box = self.mine(frames, rng)
            anchors.append(a)
            positives.append(p)
            boxes.append(box)
        crops = np.stack(anchors + positives)
        crops = resize_frames(crops, self.cfg.input_size)
        return {
            "x": self.prep(crops),
            "video": torch.from_numpy(s["video"]),
            "frame": torch.from_numpy(np.stack([s["frame"], s["frame"] + self.track_len], 1)),
            "box": torch.tensor(boxes, dtype=torch.int64),
        }


def describe_stream(ds: Any) -> str:
    return f"{type(ds).__name__}({ds.WHAT}, batch {ds.cfg.batch_size})"


class TwoViewStream(BatchStream):
    """Two views of one video per sample, for contrastive (InfoNCE) training: frames t and t'
    of video i with |t - t'| <= ``max_gap`` (0: the same frame twice), each augmented on its own
    (``augment``, e.g. ``training.data.augment.ViewAugment``).

    The videos of a batch are all different while there are at least as many videos as samples
    (so no two rows of a batch are two clips of one video, which the loss would treat as a
    negative pair); with fewer videos they repeat, uniformly over frames. Videos of one subject
    may still meet in a batch: nothing here knows subjects.
    ``x`` is ``[view1; view2]`` (2N frames); ``video`` and ``frame`` are [N, 2].
    """

    WHAT = "view pairs"

    def __init__(
        self,
        cfg: TrainConfig,
        source: FrameSource,
        method: Method | None = None,
        *,
        max_gap: int = 8,
        augment: Any = None,
    ) -> None:
        super().__init__(cfg, source, method)
        if max_gap < 0:
            raise BadInputError(f"max_gap must be >= 0, got {max_gap}")
        self.max_gap = int(max_gap)
        self.augment = augment
        self.ids, self.lengths = self._usable(0, 2, "two-view pairs")

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        p = self.lengths.astype(np.float64) / self.lengths.sum()
        replace = n > len(self.ids)
        vi = rng.choice(len(self.ids), size=n, replace=replace, p=p)
        t = (rng.random(n) * self.lengths[vi]).astype(np.int64)
        gap = rng.integers(-self.max_gap, self.max_gap + 1, size=n)
        t2 = np.clip(t + gap, 0, self.lengths[vi] - 1)
        return {"video": np.stack([vi, vi], 1), "frame": np.stack([t, t2], 1)}

    def make_batch(self, rng: np.random.Generator, n: int) -> dict[str, torch.Tensor]:
        s = self.sample(rng, n)
        vids = [self.ids[int(i)] for i in np.concatenate([s["video"][:, 0], s["video"][:, 1]])]
        frames = fetch(self.source, vids, np.concatenate([s["frame"][:, 0], s["frame"][:, 1]]), self.cfg.input_size)
        if self.augment is not None:
            frames = self.augment(frames, rng)
        return {
            "x": self.prep(frames),
            "video": torch.from_numpy(s["video"]),
            "frame": torch.from_numpy(s["frame"]),
        }
