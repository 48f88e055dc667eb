"""Algorithm 1 of Paul et al. (2018): online, randomised mining of Siamese s-t volume pairs.

A spatio-temporal (s-t) volume is a box of ``vol_shape = (T, h, w)`` cut out of a video whose
frames are decoded at ``frame_size = (H, W)``; it is placed at a uniformly random frame ``t`` and
pixel offset ``(y, x)`` (``STVolume`` of the paper).

* **positive** (y = +1): a video ``m ~ U`` and two volumes of it; if they intersect
  (``S1 ∩ S2 ≠ Φ``) the whole draw is repeated ("Goto Step 5"). The second volume is transformed
  by ``F`` drawn uniformly from {I, F1, F2, F1∘F2}.
* **negative** (y = -1): two different videos ``m ≠ n``, one volume of each; F1 and F2 are each
  applied to the second volume with probability 1/2.

Volumes are sets of voxels, so two volumes of one video intersect exactly when their frame
ranges AND their row ranges AND their column ranges all intersect; ranges are half-open
(``[t, t + T)``), so volumes that only touch (one ends at frame 16, the other starts at 16) are
disjoint. Volumes of different videos never intersect.

Mining (:class:`PairMiner`, :func:`sample_pair_spec`) only draws indices and transform
parameters and is separate from decoding (:func:`decode_pair`) so the cost the paper reports
(1.8e-5 s per pair) can be measured on its own (``bench/pair_mining.py``). Each draw takes its
uniforms in one ``rng.random(n)`` call and turns them into integers in plain Python
(``floor(u * hi)``, uniform on ``[0, hi)``): one ``rng.integers`` call with an array of bounds
costs ~4 us, more than the rest of a pair, so a pair costs 3 NumPy calls instead of 6-9.

Choices the paper leaves open:

* Videos shorter than one volume (``T`` frames) cannot give any volume and are skipped with a
  warning; fewer than two usable videos is a ``BadInputError`` (no negatives exist).
* Positives are drawn among videos that can hold two disjoint volumes (``>= 2T`` frames, or
  frames at least twice the volume in height or width). If rejection keeps failing for
  ``max_tries`` draws, a disjoint pair is placed directly: two temporally disjoint volumes in a
  video with ``>= 2T`` frames (random order), else two spatially disjoint boxes.
* A batch follows Algorithm 1: ``N_p = round(p B)`` positives first, then ``B - N_p`` negatives
  (``p = 0.3``, the paper's 30/70 split).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vidsift.errors import BadInputError
from vidsift.training.config import TrainConfig
from vidsift.training.data.samplers import BatchStream
from vidsift.training.data.source import FrameSource
from vidsift.training.data.transforms import (
    VolumeTransform,
    sample_negative_transform,
    sample_positive_transform,
)


@dataclass(frozen=True)
class Volume:
    """An s-t volume: video ``video`` (index into the miner's list), first frame ``t``, top row
    ``y``, left column ``x``; its extent is the miner's ``vol_shape``."""

    video: int
    t: int
    y: int
    x: int


@dataclass(frozen=True)
class PairSpec:
    """One mined pair before decoding: ``transform`` applies to ``second``; ``label`` is +1/-1."""

    first: Volume
    second: Volume
    transform: VolumeTransform
    label: int


def _ranges_intersect(a: int, b: int, length: int) -> bool:
    """Do ``[a, a + length)`` and ``[b, b + length)`` share an integer?"""
    return a < b + length and b < a + length


def volumes_overlap(a: Volume, b: Volume, vol_shape: Sequence[int]) -> bool:
    """True when the two volumes share at least one voxel (same video and every axis overlaps)."""
    T, h, w = (int(v) for v in vol_shape)
    return (
        a.video == b.video
        and _ranges_intersect(a.t, b.t, T)
        and _ranges_intersect(a.y, b.y, h)
        and _ranges_intersect(a.x, b.x, w)
    )


def _as_lengths(video_lengths: Sequence[int] | Mapping[str, int]) -> list[int]:
    values = video_lengths.values() if isinstance(video_lengths, Mapping) else video_lengths
    return [int(v) for v in values]


class PairMiner:
    """Draws :class:`PairSpec` s following Algorithm 1 from videos of known lengths.

    ``video_lengths`` are frame counts (a sequence, or a mapping whose order gives the indices
    used in :class:`Volume`); ``names`` (optional) label videos in messages. Validation and the
    table of usable videos are computed once here, so :meth:`sample` is cheap.

    Raises:
        BadInputError: a volume larger than the frames, fewer than two videos with at least
            ``T`` frames, no video that can hold two disjoint volumes, or ``pos_ratio``
            outside [0, 1].
    """

    def __init__(
        self,
        video_lengths: Sequence[int] | Mapping[str, int],
        frame_size: Sequence[int],
        vol_shape: Sequence[int],
        pos_ratio: float = 0.3,
        max_tries: int = 100,
        names: Sequence[str] | None = None,
    ) -> None:
        lengths = _as_lengths(video_lengths)
        if names is None and isinstance(video_lengths, Mapping):
            names = [str(k) for k in video_lengths]
        names = list(names) if names is not None else [f"#{i}" for i in range(len(lengths))]
        if len(frame_size) != 2 or len(vol_shape) != 3:
            raise BadInputError(
                f"frame_size must be (H, W) and vol_shape (T, h, w), got {tuple(frame_size)} and {tuple(vol_shape)}"
            )
        H, W = (int(v) for v in frame_size)
        T, h, w = (int(v) for v in vol_shape)
        if min(T, h, w) <= 0:
            raise BadInputError(f"vol_shape must be positive, got {(T, h, w)}")
        if h > H or w > W:
            raise BadInputError(
                f"volume of {h}x{w} pixels does not fit frames of {H}x{W}; "
                "decode frames larger or use a smaller input size"
            )
        if not 0.0 <= pos_ratio <= 1.0:
            raise BadInputError(f"pos_ratio must be in [0, 1], got {pos_ratio}")
        self.frame_size, self.vol_shape = (H, W), (T, h, w)
        self.pos_ratio, self.max_tries = float(pos_ratio), int(max_tries)
        short = [n for n, L in zip(names, lengths, strict=True) if L < T]
        if short:
            shown = ", ".join(short[:5]) + (f" and {len(short) - 5} more" if len(short) > 5 else "")
            warnings.warn(
                f"pair mining skips {len(short)} video(s) shorter than one volume ({T} frames): {shown}",
                stacklevel=2,
            )
        self.usable = np.array([i for i, L in enumerate(lengths) if L >= T], dtype=np.int64)
        if len(self.usable) < 2:
            raise BadInputError(
                f"pair mining needs at least two videos with >= {T} frames (volumes of {T} frames); "
                f"got {len(self.usable)} of {len(lengths)}; add videos or use a shorter clip_len"
            )
        self.lengths = np.asarray(lengths, dtype=np.int64)
        spatial_room = H >= 2 * h or W >= 2 * w
        self.positive_videos = np.array(
            [i for i in self.usable if spatial_room or lengths[i] >= 2 * T], dtype=np.int64
        )
        if self.pos_ratio > 0 and len(self.positive_videos) == 0:
            raise BadInputError(
                f"no video can hold two non-overlapping volumes: need >= {2 * T} frames, or frames "
                f"at least twice the volume size ({h}x{w} in {H}x{W}); use a shorter clip_len"
            )
        # per-video upper bounds (exclusive) for (t, y, x)
        self._hi = np.stack(
            [
                self.lengths - T + 1,
                np.full_like(self.lengths, H - h + 1),
                np.full_like(self.lengths, W - w + 1),
            ],
            axis=1,
        )
        # plain-Python copies for the per-pair draws (indexing NumPy arrays costs ~100 ns a time)
        self._hi_list: list[tuple[int, int, int]] = [tuple(r) for r in self._hi.tolist()]
        self._usable_list: list[int] = self.usable.tolist()
        self._positive_list: list[int] = self.positive_videos.tolist()

    # -- drawing -----------------------------------------------------------------------------
    def _positive_volumes(self, rng: np.random.Generator) -> tuple[Volume, Volume]:
        T, h, w = self.vol_shape
        videos, his, n_pos = self._positive_list, self._hi_list, len(self._positive_list)
        for _ in range(self.max_tries):
            u0, u1, u2, u3, u4, u5, u6 = rng.random(7).tolist()
            m = videos[int(u0 * n_pos)]
            ht, hy, hx = his[m]
            t1, y1, x1 = int(u1 * ht), int(u2 * hy), int(u3 * hx)
            t2, y2, x2 = int(u4 * ht), int(u5 * hy), int(u6 * hx)
            # one video: the volumes overlap iff every axis overlaps (volumes_overlap, inlined)
            if not (t1 < t2 + T and t2 < t1 + T and y1 < y2 + h and y2 < y1 + h and x1 < x2 + w and x2 < x1 + w):
                return Volume(m, t1, y1, x1), Volume(m, t2, y2, x2)
        return self._placed_disjoint(rng)

    def _placed_disjoint(self, rng: np.random.Generator) -> tuple[Volume, Volume]:
        """Fallback when rejection keeps failing: place a disjoint pair directly."""
        T, h, w = self.vol_shape
        H, W = self.frame_size
        m = int(self.positive_videos[rng.integers(len(self.positive_videos))])
        L = int(self.lengths[m])
        ys = rng.integers(0, H - h + 1, size=2).tolist()
        xs = rng.integers(0, W - w + 1, size=2).tolist()
        if L >= 2 * T:
            t1 = int(rng.integers(0, L - 2 * T + 1))
            t2 = int(rng.integers(t1 + T, L - T + 1))
            pair = (Volume(m, t1, ys[0], xs[0]), Volume(m, t2, ys[1], xs[1]))
        else:  # frames are at least twice the volume along one axis
            ts = rng.integers(0, L - T + 1, size=2).tolist()
            if H >= 2 * h:
                y1 = int(rng.integers(0, H - 2 * h + 1))
                y2 = int(rng.integers(y1 + h, H - h + 1))
                pair = (Volume(m, ts[0], y1, xs[0]), Volume(m, ts[1], y2, xs[1]))
            else:
                x1 = int(rng.integers(0, W - 2 * w + 1))
                x2 = int(rng.integers(x1 + w, W - w + 1))
                pair = (Volume(m, ts[0], ys[0], x1), Volume(m, ts[1], ys[1], x2))
        return pair if rng.random() < 0.5 else (pair[1], pair[0])

    def _negative_volumes(self, rng: np.random.Generator) -> tuple[Volume, Volume]:
        usable, his, k = self._usable_list, self._hi_list, len(self._usable_list)
        u0, u1, u2, u3, u4, u5, u6, u7 = rng.random(8).tolist()
        i = int(u0 * k)
        j = int(u1 * (k - 1))
        j += j >= i  # n ~ U([1, N] - m)
        m, n = usable[i], usable[j]
        hm, hn = his[m], his[n]
        return (
            Volume(m, int(u2 * hm[0]), int(u3 * hm[1]), int(u4 * hm[2])),
            Volume(n, int(u5 * hn[0]), int(u6 * hn[1]), int(u7 * hn[2])),
        )

    def sample(self, rng: np.random.Generator, positive: bool | None = None) -> PairSpec:
        """One pair; ``positive=None`` draws the kind with probability ``pos_ratio``."""
        if positive is None:
            positive = bool(rng.random() < self.pos_ratio)
        if positive:
            a, b = self._positive_volumes(rng)
            return PairSpec(a, b, sample_positive_transform(rng), +1)
        a, b = self._negative_volumes(rng)
        return PairSpec(a, b, sample_negative_transform(rng), -1)

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> list[PairSpec]:
        """Algorithm 1: ``round(p B)`` positives, then the negatives."""
        if batch_size <= 0:
            raise BadInputError(f"batch_size must be positive, got {batch_size}")
        n_pos = int(round(self.pos_ratio * batch_size))
        return [self.sample(rng, positive=i < n_pos) for i in range(batch_size)]


def sample_pair_spec(
    rng: np.random.Generator,
    video_lengths: Sequence[int] | Mapping[str, int],
    frame_size: Sequence[int],
    vol_shape: Sequence[int],
    positive: bool | None = None,
    pos_ratio: float = 0.3,
) -> PairSpec:
    """One pair drawn by Algorithm 1 (convenience wrapper; build a :class:`PairMiner` once when
    drawing many, it validates the video table only once)."""
    return PairMiner(video_lengths, frame_size, vol_shape, pos_ratio).sample(rng, positive)


def crop_volume(frames: np.ndarray, volume: Volume, vol_shape: Sequence[int]) -> np.ndarray:
    """Spatial crop of already-decoded frames ``[T, H, W, 3]`` -> ``[T, h, w, 3]``."""
    _, h, w = (int(v) for v in vol_shape)
    return frames[:, volume.y : volume.y + h, volume.x : volume.x + w]


def decode_volume(
    source: FrameSource,
    video_ids: Sequence[str],
    volume: Volume,
    frame_size: Sequence[int],
    vol_shape: Sequence[int],
) -> np.ndarray:
    """Decode a volume's frames from a ``FrameSource`` and crop it: uint8 ``[T, h, w, 3]``."""
    T = int(vol_shape[0])
    frames = source.get_frames(
        video_ids[volume.video], range(volume.t, volume.t + T), tuple(int(v) for v in frame_size)
    )
    return crop_volume(frames, volume, vol_shape)


def decode_pair(
    source: FrameSource,
    video_ids: Sequence[str],
    spec: PairSpec,
    frame_size: Sequence[int],
    vol_shape: Sequence[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Both volumes of ``spec`` as uint8 ``[T, h, w, 3]``, the second one transformed."""
    v1 = decode_volume(source, video_ids, spec.first, frame_size, vol_shape)
    v2 = decode_volume(source, video_ids, spec.second, frame_size, vol_shape)
    return np.ascontiguousarray(v1), np.ascontiguousarray(spec.transform(v2))


class VolumePairStream(BatchStream):
    """Batches of mined s-t volume pairs (Algorithm 1), decoded in DataLoader workers.

    Frames are decoded at ``frame_size`` and volumes of ``(cfg.clip_len, *cfg.input_size)`` are
    cut from them, so no resize happens after cropping. Batch: ``x1``, ``x2`` (preprocessed
    volumes, ``[B, 3, T, h, w]`` with a method; uint8 ``[B, T, h, w, 3]`` without), ``y`` float
    +1/-1 ``[B]``, ``video`` ``[B, 2]`` (positions in ``ids``), ``frame`` ``[B, 2]`` (first
    frame of each volume).
    """

    WHAT = "s-t volume pairs"

    def __init__(
        self,
        cfg: TrainConfig,
        source: FrameSource,
        method=None,
        *,
        frame_size: Sequence[int] | None = None,
        pos_ratio: float = 0.3,
    ) -> None:
        super().__init__(cfg, source, method)
        self.ids = list(source.video_ids)
        self.frame_size = tuple(int(v) for v in (frame_size or cfg.input_size))
        self.vol_shape = (cfg.clip_len, *cfg.input_size)
        lengths = [int(source.num_frames(v)) for v in self.ids]
        self.miner = PairMiner(lengths, self.frame_size, self.vol_shape, pos_ratio, names=self.ids)

    def make_batch(self, rng: np.random.Generator, n: int) -> dict[str, torch.Tensor]:
        specs = self.miner.sample_batch(rng, n)
        firsts, seconds = [], []
        for spec in specs:
            a, b = decode_pair(self.source, self.ids, spec, self.frame_size, self.vol_shape)
            firsts.append(a)
            seconds.append(b)
        return {
            "x1": self.prep(np.stack(firsts)),
            "x2": self.prep(np.stack(seconds)),
            "y": torch.tensor([s.label for s in specs], dtype=torch.float32),
            "video": torch.tensor(
                [[s.first.video, s.second.video] for s in specs], dtype=torch.int64
            ),
            "frame": torch.tensor([[s.first.t, s.second.t] for s in specs], dtype=torch.int64),
        }


__all__ = [
    "VolumePairStream",
    "Volume",
    "PairSpec",
    "PairMiner",
    "volumes_overlap",
    "sample_pair_spec",
    "crop_volume",
    "decode_volume",
    "decode_pair",
]
