"""Video labels (sub-folder names) and the split by video that label-based work shares.

Fine-tuning (``training.finetune``), the few-shot probe and the similarity test
(``discovery.transfer``) and the label-based scores (``discovery.validate.usable_labels``) all
take labels from here, so "no labels", "too few classes" and "which videos train" read the same
everywhere:

* :data:`NO_LABELS` is the one message for a folder without labelled sub-folders;
* :func:`is_missing` says whether one label value is absent (``None``, NaN, ``pd.NA``);
* :func:`check_classes` refuses fewer than two classes or a class with too few videos;
* :func:`split_by_video` draws ``shots`` training videos per class, the rest for testing, so the
  frames of one video are never on both sides.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vidsift.errors import BadInputError

__all__ = ["NO_LABELS", "check_classes", "is_missing", "split_by_video"]

NO_LABELS = (
    "no labels: put each class of videos in its own sub-folder (the folder name is the label) "
    "and rescan to get label-based scores"
)


def is_missing(x: Any) -> bool:
    """True for an absent label: ``None``, NaN or ``pd.NA`` (a value pandas cannot test is present)."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def check_classes(
    video_label: dict[str, str], min_per_class: int, what: str = "the probe"
) -> list[str]:
    """The sorted class names; ``BadInputError`` unless there are >= 2 classes with at least
    ``min_per_class`` videos each."""
    if not video_label:
        raise BadInputError(NO_LABELS)
    counts: dict[str, int] = {}
    for lab in video_label.values():
        counts[lab] = counts.get(lab, 0) + 1
    classes = sorted(counts)
    if len(classes) < 2:
        raise BadInputError(
            f"{what} needs at least two classes (sub-folders of videos); found only {classes[0]!r} "
            f"with {counts[classes[0]]} video(s): add a second sub-folder and rescan"
        )
    small = [c for c in classes if counts[c] < min_per_class]
    if small:
        shown = ", ".join(f"{c!r} has {counts[c]}" for c in small[:5])
        raise BadInputError(
            f"{what} needs at least {min_per_class} videos per class ({min_per_class - 1} to train "
            f"on, at least 1 to test); {shown}: lower --shots or add videos to those classes"
        )
    return classes


def split_by_video(
    video_label: dict[str, str], shots: int, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    """``shots`` random videos of each class for training, the rest of the class for testing.

    Returns ``(train_ids, test_ids)``, disjoint by construction (and checked).
    """
    by_class: dict[str, list[str]] = {}
    for v in sorted(video_label):
        by_class.setdefault(video_label[v], []).append(v)
    train: list[str] = []
    test: list[str] = []
    for c in sorted(by_class):
        vids = by_class[c]
        order = rng.permutation(len(vids))
        train += [vids[i] for i in order[:shots]]
        test += [vids[i] for i in order[shots:]]
    if set(train) & set(test):  # an explicit check, not `assert`: it must survive python -O
        raise AssertionError("internal error: a video is on both sides of the split")
    return train, test
