"""Input checks for discovery: one readable line per problem, before any work starts.

* :func:`as_vectors` turns an estimator's input into a float32 [N, d] array (store vectors are
  checked by ``index.build.check_vectors``, the one check of embedding vectors).
* :func:`check_k` refuses a K the store cannot support ("K=50 is larger than the 12 frames ...").
* :func:`usable_labels` turns a label column with gaps into (labels, message) so a score that
  needs labels returns ``None`` with a reason instead of crashing (``NO_LABELS`` and the other
  label helpers live in ``training.data.labels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vidsift.errors import BadInputError
from vidsift.training.data.labels import NO_LABELS, is_missing

__all__ = ["as_vectors", "check_k", "usable_labels"]


def as_vectors(vectors: Any, what: str = "vectors") -> np.ndarray:
    """``vectors`` as a C-contiguous float32 [N, d] array, or BadInputError."""
    arr = np.asarray(vectors)
    if arr.ndim != 2:
        raise BadInputError(f"{what} must be a 2-D array [N, d], got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise BadInputError(f"{what} must be numeric, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float32)


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
    mask = np.array([not is_missing(x) for x in arr], dtype=bool)
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
