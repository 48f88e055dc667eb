"""Baseline embedders: raw pixels and ZCA-whitened pixels.

``pixels@S`` is the frame decoded at S x S (the reader's own resize), flattened in H, W, C order
and scaled to [0, 1]: ``dim = 3 S^2`` (768 for the default S = 16). It is the "raw pixels"
baseline that every learned embedding must beat.

``zca@S`` is the same vector whitened with ZCA (Bell & Sejnowski 1997; as used on image patches
by Coates & Ng 2011): ``z = (x - mean) W`` with ``W = U diag(1 / sqrt(s + eps)) U^T`` from the
eigen-decomposition ``cov = U diag(s) U^T`` of the corpus covariance, so the whitened corpus has
(nearly, ``eps`` regularises tiny eigenvalues) identity covariance while staying as close as
possible to the original pixels. The whitening is fitted once on a sample of frames of the
catalogued videos and saved as ``embeddings/<name>/zca.npz``; its SHA-256 is the store's
``checkpoint_hash``, so a refit is refused by an existing store instead of silently mixing.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.atomic import atomic_write_bytes
from vidsift.embedder.base import Embedder
from vidsift.errors import BadInputError, VideoError, WorkspaceError

DEFAULT_PIXELS = 16
DEFAULT_ZCA_EPS = 1e-2
ZCA_FILE = "zca.npz"
ZCA_MAX_FRAMES = 5000


class PixelsEmbedder(Embedder):
    """Downsampled RGB frames as vectors in [0, 1]."""

    kind = "pixels"

    def __init__(self, side: int = DEFAULT_PIXELS, name: str | None = None, batch_size: int = 256) -> None:
        if not 1 <= side <= 256:
            raise BadInputError(f"pixels@{side}: the side must be 1..256 (e.g. pixels@16 -> 768 floats)")
        self.side = int(side)
        self.name = name or ("pixels" if side == DEFAULT_PIXELS else f"pixels@{side}")
        self.input_size = (self.side, self.side)
        self.dim = 3 * self.side * self.side
        self.preprocessing = f"resize {side}x{side} (reader), flatten HWC, /255"
        self.batch_size = batch_size

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        return batch.reshape(len(batch), -1).astype(np.float32) / np.float32(255.0)

    def _manifest_extra(self) -> dict[str, Any]:
        return {"side": self.side}


@dataclass(frozen=True)
class ZCA:
    """A fitted whitening: ``z = (x - mean) @ matrix``; x are flattened pixels in [0, 1]."""

    mean: np.ndarray  # float32 [D]
    matrix: np.ndarray  # float32 [D, D], symmetric
    eps: float
    n_frames: int

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, np.float32) - self.mean) @ self.matrix

    def digest(self) -> str:
        """SHA-256 of the whitening itself (not of the file, whose zip headers carry a date)."""
        h = hashlib.sha256()
        for a in (self.mean, self.matrix, np.float64(self.eps)):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, mean=self.mean, matrix=self.matrix, eps=np.float64(self.eps), n_frames=np.int64(self.n_frames))
        return buf.getvalue()

    @classmethod
    def load(cls, path: str | Path) -> ZCA:
        try:
            with np.load(path) as z:
                return cls(z["mean"].astype(np.float32), z["matrix"].astype(np.float32), float(z["eps"]), int(z["n_frames"]))
        except (OSError, KeyError, ValueError) as exc:
            raise WorkspaceError(f"{path}: unreadable ZCA whitening ({exc}); delete it and re-embed to refit") from exc


def fit_zca(frames: np.ndarray, eps: float = DEFAULT_ZCA_EPS) -> ZCA:
    """Fit ZCA whitening on a corpus.

    Args:
        frames: uint8 frames ``[N, H, W, 3]`` (scaled to [0, 1]) or float vectors ``[N, D]``.
        eps: added to every eigenvalue of the covariance; small eps -> closer to identity.

    Returns:
        ``ZCA`` such that ``np.cov(zca.transform(x), rowvar=False)`` is ``U diag(s/(s+eps)) U^T``,
        i.e. the identity up to ``eps`` on a full-rank corpus.

    Raises:
        BadInputError: fewer than 2 samples or a non-positive ``eps``.

    Example:
        >>> z = fit_zca(np.random.default_rng(0).normal(size=(2000, 12)), eps=1e-6)
        >>> bool(np.allclose(np.cov(z.transform(np.random.default_rng(0).normal(size=(2000, 12))), rowvar=False), np.eye(12), atol=1e-3))
        True
    """
    if not eps > 0:
        raise BadInputError(f"ZCA eps must be positive, got {eps}")
    x = np.asarray(frames)
    x = x.reshape(len(x), -1).astype(np.float64)
    if np.asarray(frames).dtype == np.uint8:
        x /= 255.0
    if len(x) < 2:
        raise BadInputError(f"ZCA needs at least 2 frames to fit, got {len(x)}")
    mean = x.mean(axis=0)
    cov = np.cov(x - mean, rowvar=False)
    s, u = np.linalg.eigh(np.atleast_2d(cov))
    s = np.clip(s, 0.0, None)
    w = (u * (1.0 / np.sqrt(s + eps))) @ u.T
    return ZCA(mean.astype(np.float32), ((w + w.T) / 2).astype(np.float32), float(eps), len(x))


class ZCAEmbedder(PixelsEmbedder):
    """ZCA-whitened downsampled pixels; the whitening file lives in the workspace."""

    kind = "zca"

    def __init__(
        self,
        side: int = DEFAULT_PIXELS,
        name: str | None = None,
        path: str | Path | None = None,
        eps: float = DEFAULT_ZCA_EPS,
        batch_size: int = 256,
    ) -> None:
        super().__init__(side, name or ("zca" if side == DEFAULT_PIXELS else f"zca@{side}"), batch_size)
        self.eps = float(eps)
        self.path = Path(path) if path is not None else None
        self.preprocessing = f"resize {side}x{side} (reader), flatten HWC, /255, ZCA (eps {self.eps:g})"
        self._zca: ZCA | None = None
        if self.path is not None and self.path.is_file():
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        self._zca = ZCA.load(self.path)
        if self._zca.mean.shape != (self.dim,):
            raise WorkspaceError(
                f"{self.path}: whitening is for dim {self._zca.mean.shape[0]}, not {self.dim} ({self.name}); delete it to refit"
            )
        self.checkpoint_hash = self._zca.digest()

    @property
    def fitted(self) -> bool:
        return self._zca is not None

    def fit(self, frames: np.ndarray) -> None:
        """Fit on ``frames`` and save the whitening (atomically) at ``self.path``."""
        zca = fit_zca(frames, self.eps)
        if self.path is not None:
            try:
                atomic_write_bytes(self.path, zca.to_bytes())
            except OSError as exc:
                raise WorkspaceError(f"{self.path}: cannot save the ZCA whitening ({exc.strerror})") from exc
            self._load()
        else:
            self._zca = zca
            self.checkpoint_hash = zca.digest()

    def prepare(self, ws: Any, videos: list[Any], progress: bool = False) -> None:
        """Fit on a sample of the catalogued videos' frames unless already fitted."""
        if self.fitted:
            return
        frames = sample_corpus(videos, self.input_size, ZCA_MAX_FRAMES, progress=progress)
        if len(frames) < 2:
            raise WorkspaceError(
                f"{self.name}: no frames to fit the ZCA whitening on; scan some videos first (vidsift scan DIR)"
            )
        self.fit(frames)

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        if self._zca is None:
            where = f" ({self.path} is missing)" if self.path else ""
            raise WorkspaceError(
                f"{self.name}: the ZCA whitening is not fitted{where}; run `vidsift embed DIR --embedder {self.name}` first"
            )
        return self._zca.transform(super()._embed(batch))

    def _manifest_extra(self) -> dict[str, Any]:
        return {"side": self.side, "eps": self.eps, "source": str(self.path) if self.path else None}


def sample_corpus(
    videos: list[Any], size: tuple[int, int], max_frames: int = ZCA_MAX_FRAMES, progress: bool = False
) -> np.ndarray:
    """Evenly spaced frames of the given catalog records (``.path``, ``.num_frames``), uint8.

    Videos that fail to decode are skipped (extraction reports them)."""
    from vidsift.video import open_video

    videos = [v for v in videos if getattr(v, "status", "ok") == "ok" and v.num_frames > 0]
    if not videos:
        return np.zeros((0, *size, 3), np.uint8)
    per_video = max(1, math.ceil(max_frames / len(videos)))
    out: list[np.ndarray] = []
    it: Any = videos
    if progress:
        from vidsift.progress import progress_bar

        it = progress_bar(videos, desc="fit ZCA", unit="video", leave=False)
    for v in it:
        step = max(1, v.num_frames // per_video)
        try:
            with open_video(v.path) as r:
                for _, frames in r.iter_frames(every=step, size=size, batch=256):
                    out.append(frames)
        except VideoError:
            continue
    return np.concatenate(out) if out else np.zeros((0, *size, 3), np.uint8)
