"""Input checks for discovery: one readable line per problem, before any work starts.

* :func:`check_vectors` refuses NaN/inf vectors and names the videos they came from.
* :func:`check_k` refuses a K the store cannot support ("K=50 is larger than the 12 frames ...").
* :func:`usable_labels` turns a label column with gaps into (labels, message) so a score that
  needs labels returns ``None`` with a reason instead of crashing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from vidsift.errors import BadInputError

__all__ = ["as_vectors", "check_k", "check_vectors", "usable_labels", "NO_LABELS"]

NO_LABELS = (
    "no labels: put each class of videos in its own sub-folder (the folder name is the label) "
    "and rescan to get label-based scores"
)


def as_vectors(vectors: Any, what: str = "vectors") -> np.ndarray:
    """``vectors`` as a C-contiguous float32 [N, d] array, or BadInputError."""
    arr = np.asarray(vectors)
    if arr.ndim != 2:
        raise BadInputError(f"{what} must be a 2-D array [N, d], got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise BadInputError(f"{what} must be numeric, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_vectors(vectors: Any, meta: pd.DataFrame | None = None, min_rows: int = 2) -> np.ndarray:
    """Validate store vectors; return them as float32 [N, d].

    Raises:
        BadInputError: not 2-D, fewer than ``min_rows`` rows (a store with one frame cannot be
            clustered), rows not matching ``meta``, or NaN/inf values (the message names the
            videos, from ``meta['path']`` or ``meta['video_id']``).
    """
    arr = as_vectors(vectors)
    n = len(arr)
    if meta is not None and len(meta) != n:
        raise BadInputError(f"{n} vectors but {len(meta)} metadata rows; reload the store")
    if n == 0:
        raise BadInputError("the store is empty; run `vidsift embed` first")
    if n < min_rows:
        raise BadInputError(
            f"the store has only {n} frame{'s' if n != 1 else ''}; "
            f"this needs at least {min_rows}: embed more frames or videos"
        )
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        names: list[str] = []
        if meta is not None:
            col = (
                "path"
                if "path" in meta.columns
                else ("video_id" if "video_id" in meta.columns else None)
            )
            if col is not None:
                names = sorted({str(x) for x in meta[col].to_numpy()[bad]})
        where = (
            f" of {len(names)} video{'s' if len(names) != 1 else ''} ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
            if names
            else ""
        )
        raise BadInputError(
            f"{int(bad.sum())} vectors{where} contain NaN or infinite values; "
            "re-embed those videos (remove their shards and run `vidsift embed` again)"
        )
    return arr


def check_k(k: int | str, n: int, what: str = "frames in the store") -> int | str:
    """Validate a number of clusters K for N points; ``"auto"`` passes through.

    Raises:
        BadInputError: K not an integer >= 2, N < 2, or K > N.
    """
    if isinstance(k, str):
        if k == "auto":
            if n < 3:
                raise BadInputError(f"K='auto' needs at least 3 {what}, there are {n}")
            return k
        raise BadInputError(f"K must be an integer >= 2 or 'auto', got {k!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise BadInputError(f"K must be an integer >= 2 or 'auto', got {k!r}")
    k = int(k)
    if n < 2:
        noun = what.replace("frames", "frame", 1).replace("points", "point", 1) if n == 1 else what
        raise BadInputError(
            f"there {'is' if n == 1 else 'are'} only {n} {noun}; clustering needs at least 2"
        )
    if k < 2:
        raise BadInputError(f"K={k} is too small; choose K >= 2")
    if k > n:
        raise BadInputError(f"K={k} is larger than the {n} {what}; choose K <= {n}")
    return k


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def usable_labels(
    labels: Sequence[Any] | np.ndarray | None, n: int | None = None
) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
    """Split a label column into what a label-based score can use.

    Returns ``(labels, mask, message)``:
    * no labels at all -> ``(None, None, NO_LABELS)``;
    * some frames unlabelled -> labels of the labelled frames, the boolean mask of those frames
      and a message saying how many were scored;
    * a single class -> ``(None, None, message)`` (every clustering scores 0 bits: meaningless);
    * all labelled -> ``(labels, all-True mask, None)``.
    """
    if labels is None:
        return None, None, NO_LABELS
    arr = np.asarray(labels, dtype=object)
    if n is not None and len(arr) != n:
        raise BadInputError(f"{len(arr)} labels for {n} vectors; they must align row by row")
    mask = np.array([not _is_missing(x) for x in arr], dtype=bool)
    if not mask.any():
        return None, None, NO_LABELS
    kept = np.array([str(x) for x in arr[mask]], dtype=object)
    if len(set(kept.tolist())) < 2:
        return (
            None,
            None,
            f"only one label ({kept[0]!r}) among the frames: label-based scores need at least two classes",
        )
    message = None
    if not mask.all():
        message = f"scored on the {int(mask.sum())} of {len(arr)} frames that have a label"
    return kept, mask, message
