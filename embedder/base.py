"""The ``Embedder`` protocol (design decision 3): one interface for baselines and trained models.

Every embedder turns a batch of uint8 RGB frames ``[N, H, W, 3]`` (frame unit) or clips
``[N, T, H, W, 3]`` (clip unit) into float32 vectors ``[N, dim]``. Extraction decodes frames at
``input_size`` so no resizing happens in the model process; frames of another size are resized
(bilinear) before embedding, which is what an image query or an ensemble member gets.

``manifest()`` is the embedder's identity, written beside the vectors it produced
(``embeddings/<name>/manifest.json``). ``embedder.registry.embedder_from_manifest`` rebuilds the
same embedder from it, so an index can embed an image query the way its frames were embedded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.errors import BadInputError
from vidsift.video.resize import resize_frames

UNITS = ("frame", "clip")


class Embedder(ABC):
    """Frames (or clips) -> float32 vectors.

    Subclasses set ``name``, ``dim``, ``unit``, ``input_size`` (H, W), ``clip_len`` (1 for frame
    embedders), ``layer``, ``checkpoint_hash`` and ``preprocessing``, and implement ``_embed`` on
    uint8 input already at ``input_size``.
    """

    name: str
    dim: int
    unit: str = "frame"
    input_size: tuple[int, int]
    clip_len: int = 1
    layer: str | None = None
    checkpoint_hash: str | None = None
    preprocessing: str = ""
    kind: str = ""
    batch_size: int = 64

    # -- the one thing subclasses implement ------------------------------------------------
    @abstractmethod
    def _embed(self, batch: np.ndarray) -> np.ndarray:
        """uint8 ``[N, H, W, 3]`` / ``[N, T, H, W, 3]`` at ``input_size`` -> float32 ``[N, dim]``."""

    # -- public API --------------------------------------------------------------------------
    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Embed a batch; returns a C-contiguous float32 array ``[N, dim]``.

        Raises:
            BadInputError: wrong rank / dtype, or clips of the wrong length.
        """
        batch = self.check_batch(batch)
        if len(batch) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = [self._embed(batch[i : i + self.batch_size]) for i in range(0, len(batch), self.batch_size)]
        vec = np.ascontiguousarray(np.concatenate(out) if len(out) > 1 else out[0], dtype=np.float32)
        if vec.shape != (len(batch), self.dim):
            raise RuntimeError(f"embedder {self.name} returned {vec.shape}, expected ({len(batch)}, {self.dim})")
        return vec

    def check_batch(self, batch: np.ndarray) -> np.ndarray:
        """Validate and resize a batch to ``input_size`` (bilinear) when needed."""
        batch = np.asarray(batch)
        want = 4 if self.unit == "frame" else 5
        if batch.ndim != want or batch.shape[-1] != 3:
            shape = "[N, H, W, 3]" if self.unit == "frame" else f"[N, {self.clip_len}, H, W, 3]"
            raise BadInputError(f"embedder {self.name} takes uint8 {shape} batches, got shape {batch.shape}")
        if batch.dtype != np.uint8:
            raise BadInputError(f"embedder {self.name} takes uint8 frames, got {batch.dtype}")
        if self.unit == "clip" and batch.shape[1] != self.clip_len:
            raise BadInputError(f"embedder {self.name} takes clips of {self.clip_len} frames, got {batch.shape[1]}")
        h, w = self.input_size
        if batch.shape[-3:-1] != (h, w):
            if self.unit == "frame":
                batch = resize_frames(batch, (h, w))
            else:
                n, t = batch.shape[:2]
                batch = resize_frames(batch.reshape(n * t, *batch.shape[2:]), (h, w)).reshape(n, t, h, w, 3)
        return np.ascontiguousarray(batch)

    def embed_image(self, image: Any) -> np.ndarray:
        """One image (path, PIL image or uint8 ``[H, W, 3]``) -> float32 ``[dim]``.

        Clip embedders see the image repeated ``clip_len`` times (a still clip).
        """
        frame = load_image(image, self.input_size)
        batch = frame[None] if self.unit == "frame" else np.repeat(frame[None, None], self.clip_len, axis=1)
        return self.embed(batch)[0]

    def manifest(self) -> dict[str, Any]:
        """The identity written beside the vectors (``embeddings/<name>/manifest.json``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "dim": int(self.dim),
            "unit": self.unit,
            "input_size": [int(self.input_size[0]), int(self.input_size[1])],
            "clip_len": int(self.clip_len),
            "layer": self.layer,
            "checkpoint_hash": self.checkpoint_hash,
            "preprocessing": self.preprocessing,
            **self._manifest_extra(),
        }

    def _manifest_extra(self) -> dict[str, Any]:
        return {}

    def prepare(self, ws: Any, videos: list[Any], progress: bool = False) -> None:
        """Fit whatever the embedder learns from the corpus (ZCA) before extraction; default none."""
        return None

    def to_device(self) -> None:
        """Move weights to the best device (called in the process that runs the model)."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim} unit={self.unit} input={self.input_size}>"


def load_image(image: Any, size: tuple[int, int]) -> np.ndarray:
    """uint8 ``[H, W, 3]`` RGB at ``size`` from a path, a PIL image or an array (bilinear resize)."""
    from PIL import Image

    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise BadInputError(f"{path}: no such image file")
        try:
            with Image.open(path) as im:
                image = im.convert("RGB")
        except OSError as exc:
            raise BadInputError(f"{path}: not an image PIL can read ({exc})") from exc
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"), dtype=np.uint8)
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise BadInputError(f"an image must be [H, W, 3] RGB, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.nan_to_num(arr), 0, 255).round().astype(np.uint8)
    arr = np.ascontiguousarray(arr[:, :, :3])
    return resize_frames(arr[None], size)[0]
