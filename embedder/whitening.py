"""Centring + PCA-whitening fitted on one store, and the collapse check of a store.

``PCAWhitening``: x -> L2n( diag((lambda + eps * lambda_max)^-1/2) U^T (x - mu) ), fitted per store.
Jégou & Chum, "Negative evidences and co-occurrences in image retrieval: the benefit of PCA and
whitening" (ECCV 2012): centre the vectors on their mean, project on the principal directions,
divide each by the square root of its variance (so directions that every vector shares no
longer dominate cosine similarity) and L2-normalise. ``eps`` (relative to the largest
eigenvalue) regularises the small eigenvalues, which pure whitening would blow up into noise;
``dim`` keeps the leading components only. Fitting needs no labels: it is fitted on the very
store it transforms, like the ZCA baseline.

``collapse_report``: how much spread a store has left: mean pairwise cosine similarity (on a
seeded sample) and the share of dimensions that never vary. A trained encoder whose vectors all
point one way (mean cosine 0.9999, most ReLU units dead) makes every search and clustering
meaningless; ``vidsift embed`` warns when ``collapsed`` is true.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.errors import BadInputError, WorkspaceError

#: defaults chosen on the IN-SAMPLE scenes only (pixels, random AlexNet; bench/heldout.py
#: --whitening-sweep): 64 components, eps = 0.1 of the largest eigenvalue. Full-rank whitening
#: (eps 1e-3) made clustering worse there: it amplifies the noise directions.
DEFAULT_DIM = 64
DEFAULT_EPS = 0.1
#: a store counts as collapsed above this mean pairwise cosine...
COLLAPSE_COSINE = 0.99
#: ...or when more than this share of its dimensions never varies
COLLAPSE_DEAD = 0.5


class PCAWhitening:
    """Centring + PCA-whitening + L2 normalisation (scikit-learn estimator contract).

    Parameters: ``dim`` (components kept, default 64; ``None``: all with non-zero variance),
    ``eps`` (added to every eigenvalue, times the largest one; default 0.1).
    Fitted: ``mean_`` [D], ``components_`` [d, D] (rows: principal directions),
    ``scale_`` [d] (1 / sqrt(lambda + eps lambda_max)), ``explained_variance_`` [d].

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 8)) * np.arange(1, 9) + 5.0
        >>> W = PCAWhitening(dim=None, eps=0.0).fit(X)
        >>> Z = W.transform(X, normalize=False)
        >>> bool(np.allclose(np.cov(Z.T, bias=True), np.eye(8), atol=1e-6))
        True

    Raises:
        BadInputError: fewer than 2 vectors, non-finite values, ``dim`` < 1 or ``eps`` < 0.
    """

    def __init__(self, dim: int | None = DEFAULT_DIM, eps: float = DEFAULT_EPS) -> None:
        self.dim = dim
        self.eps = eps

    def fit(self, X: np.ndarray) -> PCAWhitening:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) < 2:
            raise BadInputError(f"whitening needs a [N >= 2, D] array of vectors, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise BadInputError("whitening: the vectors hold NaN or infinite values; re-embed")
        if self.dim is not None and int(self.dim) < 1:
            raise BadInputError(f"whitening dim must be >= 1, got {self.dim}")
        if not (self.eps >= 0):
            raise BadInputError(f"whitening eps must be >= 0, got {self.eps}")
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        # SVD of the centred data: eigenvalues of the covariance are s^2 / N
        _, s, vt = np.linalg.svd(Xc, full_matrices=False)
        lam = s**2 / len(X)
        keep = lam > lam.max() * 1e-10 if lam.size and lam.max() > 0 else np.zeros_like(lam, bool)
        d = int(keep.sum())
        if self.dim is not None:
            d = min(d, int(self.dim))
        if d == 0:
            raise BadInputError("whitening: every vector of the store is the same (no variance); the encoder collapsed")
        self.components_ = vt[:d]
        self.explained_variance_ = lam[:d]
        self.scale_ = 1.0 / np.sqrt(lam[:d] + self.eps * lam[0])
        return self

    def transform(self, X: np.ndarray, normalize: bool = True) -> np.ndarray:
        """Whitened float32 vectors ``[N, d]``, L2-normalised unless ``normalize=False``."""
        Z = ((np.asarray(X, dtype=np.float64) - self.mean_) @ self.components_.T) * self.scale_
        if normalize:
            Z /= np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(Z, dtype=np.float32)

    def fit_transform(self, X: np.ndarray, normalize: bool = True) -> np.ndarray:
        return self.fit(X).transform(X, normalize=normalize)

    # -- saved beside a derived store (``embedder.whitened``) --------------------------------
    _ARRAYS = ("mean_", "components_", "scale_", "explained_variance_")

    def digest(self) -> str:
        """SHA-256 of the fitted whitening (not of a file, whose zip headers carry a date)."""
        h = hashlib.sha256()
        for name in self._ARRAYS:
            h.update(np.ascontiguousarray(getattr(self, name), dtype=np.float64).tobytes())
        h.update(np.float64(self.eps).tobytes())
        return h.hexdigest()

    def to_bytes(self) -> bytes:
        """The fitted state as ``.npz`` bytes (write them with ``vidsift.atomic``)."""
        buf = io.BytesIO()
        np.savez(buf, **{n: getattr(self, n) for n in self._ARRAYS}, eps=np.float64(self.eps),
                 dim=np.int64(-1 if self.dim is None else self.dim))
        return buf.getvalue()

    @classmethod
    def load(cls, path: str | Path) -> PCAWhitening:
        """A whitening saved with ``to_bytes``.

        Raises:
            WorkspaceError: the file is missing or unreadable.
        """
        try:
            with np.load(path) as z:
                dim = int(z["dim"])
                w = cls(dim=None if dim < 0 else dim, eps=float(z["eps"]))
                for name in cls._ARRAYS:
                    setattr(w, name, z[name].astype(np.float64))
        except (OSError, KeyError, ValueError) as exc:
            raise WorkspaceError(f"{path}: unreadable whitening ({exc}); delete it and re-embed to refit") from exc
        return w


def collapse_report(vectors: np.ndarray, sample: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Spread of a store: ``mean_cosine`` (pairwise, off-diagonal, on up to ``sample`` rows),
    ``dead_fraction`` (dimensions with zero variance), ``collapsed`` (either above its limit)
    and ``message`` (one line for the user, empty when not collapsed)."""
    X = np.asarray(vectors, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        return {"mean_cosine": None, "dead_fraction": None, "collapsed": False, "message": ""}
    if len(X) > sample:
        X = X[np.random.default_rng(seed).choice(len(X), sample, replace=False)]
    U = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    n = len(U)
    s = U.sum(axis=0)
    mean_cos = float((s @ s - (U * U).sum()) / (n * (n - 1)))
    dead = float(np.mean(X.std(axis=0) <= 1e-8 * max(float(np.abs(X).max()), 1e-30)))
    collapsed = mean_cos > COLLAPSE_COSINE or dead > COLLAPSE_DEAD
    message = ""
    if collapsed:
        message = (
            f"the vectors have collapsed (mean pairwise cosine {mean_cos:.4f}, "
            f"{dead:.0%} of {X.shape[1]} dimensions never vary): cosine search and clustering "
            "cannot tell frames apart; try the encoder's random init (random:METHOD) or pixels, "
            "retrain with the method's cpu preset, or whiten the store (docs/generalisation.md)"
        )
    return {"mean_cosine": mean_cos, "dead_fraction": dead, "collapsed": collapsed, "message": message}


__all__ = ["COLLAPSE_COSINE", "COLLAPSE_DEAD", "DEFAULT_DIM", "DEFAULT_EPS", "PCAWhitening", "collapse_report"]
