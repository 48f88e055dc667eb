"""Where samplers get frames from: a ``FrameSource`` maps (video id, frame indices) to pixels.

Two implementations:

* ``VideoFrameSource`` decodes real files through ``video.open_video``. Readers are opened
  lazily and cached *per process*, so a source object can be pickled into DataLoader workers and
  each worker decodes with its own readers (decoders are not shareable across processes).
* ``ArrayFrameSource`` serves frames held in memory; tests and benchmarks use it to take
  decoding out of the picture.

Frames always come back as uint8 RGB ``[N, H, W, 3]`` at the requested ``size = (H, W)``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F

from vidsift.errors import BadInputError


@runtime_checkable
class FrameSource(Protocol):
    """What samplers draw from."""

    video_ids: list[str]

    def num_frames(self, video_id: str) -> int: ...

    def get_frames(
        self, video_id: str, indices: Sequence[int], size: tuple[int, int]
    ) -> np.ndarray: ...  # uint8 [N, H, W, 3]


def resize_frames(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 ``[N, h, w, 3]`` -> uint8 ``[N, H, W, 3]`` (bilinear, antialiased when shrinking).

    Returns the input unchanged when it already has the size, so in-memory sources are exact.
    """
    h, w = int(size[0]), int(size[1])
    if frames.shape[1] == h and frames.shape[2] == w:
        return frames
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    shrink = h < frames.shape[1] or w < frames.shape[2]
    y = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=shrink)
    return y.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


class ArrayFrameSource:
    """Frames held in memory: ``{video_id: uint8 [T, H, W, 3]}``."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        for vid, arr in arrays.items():
            arr = np.asarray(arr)
            if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
                raise BadInputError(
                    f"video {vid!r}: expected uint8 frames [T, H, W, 3], got {arr.dtype} {arr.shape}"
                )
            self._arrays[str(vid)] = arr
        self.video_ids = list(self._arrays)

    def num_frames(self, video_id: str) -> int:
        return int(self._arrays[video_id].shape[0])

    def get_frames(
        self, video_id: str, indices: Sequence[int], size: tuple[int, int]
    ) -> np.ndarray:
        arr = self._arrays[video_id]
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= arr.shape[0]):
            raise IndexError(f"video {video_id!r} has {arr.shape[0]} frames; asked for {idx.tolist()}")
        return resize_frames(arr[idx], size)


class VideoFrameSource:
    """Frames decoded from files through ``video.open_video``.

    ``videos`` are ``(id, path)`` pairs. Frame counts are what decodes: from ``num_frames`` (the
    catalog's decoded counts) when given, else measured by decoding on first use; never the
    header's estimate. ``timelines`` (the catalog's) let random access seek by timestamp
    without a first decoding pass. Readers are cached per process id so the
    object survives ``fork`` and pickling into DataLoader workers.

    Cache: random access into compressed video decodes up to a GOP per requested frame, which
    dominates when the network input is small. A video whose frames at the requested size fit
    in ``cache_mb`` (per process) is therefore decoded once, sequentially, and served from
    memory afterwards (least recently used videos are dropped first); larger videos are read
    frame by frame. ``cache_mb=0`` turns this off.
    """

    def __init__(
        self,
        videos: Sequence[tuple[str, str]],
        num_frames: Mapping[str, int] | None = None,
        backend: str = "auto",
        cache_mb: float = 256,
        timelines: Mapping[str, Any] | None = None,
    ) -> None:
        self._paths = {str(vid): str(path) for vid, path in videos}
        if len(self._paths) != len(videos):
            raise BadInputError("VideoFrameSource: video ids must be unique")
        self.video_ids = list(self._paths)
        self._num_frames = dict(num_frames or {})
        self._timelines = {k: v for k, v in (timelines or {}).items() if v is not None}
        self.backend = backend
        self._readers: dict[str, Any] = {}
        self._pid = os.getpid()
        self.cache_bytes = int(cache_mb * (1 << 20))
        self._cache: OrderedDict[tuple[str, tuple[int, int]], np.ndarray] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_readers"] = {}  # decoders never cross a process boundary
        state["_cache"] = OrderedDict()
        return state

    def path(self, video_id: str) -> str:
        return self._paths[video_id]

    def num_frames(self, video_id: str) -> int:
        if video_id not in self._num_frames:
            self._num_frames[video_id] = int(self._reader(video_id).num_frames)
        return self._num_frames[video_id]

    def _reader(self, video_id: str) -> Any:
        if self._pid != os.getpid():  # forked: the parent's readers are not ours
            self._readers = {}
            self._cache = OrderedDict()
            self._pid = os.getpid()
        reader = self._readers.get(video_id)
        if reader is None:
            from vidsift.video import (
                open_video,  # imported here so training/ imports without video/
            )

            reader = open_video(self._paths[video_id], backend=self.backend,
                                timeline=self._timelines.get(video_id))
            self._readers[video_id] = reader
        return reader

    def get_frames(
        self, video_id: str, indices: Sequence[int], size: tuple[int, int]
    ) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64)
        size = (int(size[0]), int(size[1]))
        whole = self._cached(video_id, size)
        if whole is not None:
            if idx.size and idx.max() >= len(whole):
                raise IndexError(
                    f"{self._paths[video_id]}: frame {int(idx.max())} asked for, {len(whole)} decode; "
                    "the frame count given for it is wrong (rescan the folder)"
                )
            return whole[idx]
        # decode each distinct frame once, in increasing order (cheapest for seeking decoders)
        uniq, inverse = np.unique(idx, return_inverse=True)
        frames = self._reader(video_id).get_frames(uniq.tolist(), size=tuple(size))
        frames = np.asarray(frames)
        if frames.shape[1:3] != tuple(size):
            frames = resize_frames(frames, size)
        return frames[inverse]

    def _cached(self, video_id: str, size: tuple[int, int]) -> np.ndarray | None:
        """All frames of the video at ``size`` if they fit the cache (decoded on first use)."""
        key = (video_id, size)
        reader = self._reader(video_id)  # also resets the cache after a fork
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        need = self.num_frames(video_id) * size[0] * size[1] * 3
        if need > self.cache_bytes:
            return None
        used = sum(a.nbytes for a in self._cache.values())
        while self._cache and used + need > self.cache_bytes:
            used -= self._cache.popitem(last=False)[1].nbytes
        parts = [np.asarray(f) for _, f in reader.iter_frames(size=size)]
        frames = np.concatenate(parts) if parts else np.empty((0, *size, 3), np.uint8)
        if frames.shape[1:3] != size:
            frames = resize_frames(frames, size)
        self._cache[key] = frames
        return frames

    def close(self) -> None:
        self._cache = OrderedDict()
        for reader in self._readers.values():
            close = getattr(reader, "close", None)
            if close is not None:
                close()
        self._readers = {}

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
