"""Few-shot probe on frozen embeddings: perfect / random embedders, the by-video split, errors."""

from __future__ import annotations

import numpy as np
import pytest
from transfer_testdata import frames

from vidsift.discovery.transfer import CLASSIFIERS, LEVELS, linear_probe
from vidsift.errors import BadInputError
from vidsift.training.data.labels import split_by_video


def test_perfect_embedder_scores_one():
    X, y, v = frames(kind="perfect")
    res = linear_probe(X, y, v, shots=2, repeats=5, seed=0)
    assert res["n_classes"] == 4 and res["n_train_videos"] == 8 and res["n_test_videos"] == 16
    for clf in CLASSIFIERS:
        for level in LEVELS:
            assert res["accuracy"][clf][level] == {"mean": 1.0, "std": 0.0}, (clf, level)
    assert res["chance"]["uniform"] == 0.25
    assert res["chance"]["majority"]["video"]["mean"] == pytest.approx(0.25)


@pytest.mark.parametrize("kind", ["random", "video"])
def test_unrelated_embedder_is_near_chance(kind):
    # "video": frames of one video cluster tightly, labels carry no signal. A frame-level split
    # would put each test frame's twin in the training set (1-NN ~ 1.0); by video it is chance.
    X, y, v = frames(n_classes=4, videos_per_class=12, frames_per_video=4, kind=kind, seed=1)
    res = linear_probe(X, y, v, shots=4, repeats=10, seed=0)
    for clf in CLASSIFIERS:
        assert abs(res["accuracy"][clf]["frame"]["mean"] - 0.25) < 0.1, (clf, res["accuracy"][clf])
        assert abs(res["accuracy"][clf]["video_mean"]["mean"] - 0.25) < 0.12, (clf, res["accuracy"][clf])


def test_split_is_by_video_over_all_repeats():
    X, y, v = frames(n_classes=3, videos_per_class=5, frames_per_video=3, kind="random")
    res = linear_probe(X, y, v, shots=2, repeats=8, seed=3, return_splits=True)
    label_of = dict(zip(v, y, strict=True))
    seen_train = set()
    for split in res["splits"]:
        train, test = set(split["train"]), set(split["test"])
        assert not train & test
        assert train | test == set(v)
        # frames: no frame of a training video is a test frame
        assert not (np.isin(v, list(train)) & np.isin(v, list(test))).any()
        counts = np.unique([label_of[t] for t in train], return_counts=True)[1]
        assert counts.tolist() == [2, 2, 2]
        seen_train.add(tuple(sorted(train)))
    assert len(seen_train) > 1  # the repeats draw different splits
    again = linear_probe(X, y, v, shots=2, repeats=8, seed=3, return_splits=True)
    assert again["splits"] == res["splits"]  # and the seed fixes them


def test_split_by_video_helper():
    labels = {f"v{i}": f"c{i % 2}" for i in range(10)}
    train, test = split_by_video(labels, 3, np.random.default_rng(0))
    assert len(train) == 6 and len(test) == 4 and not set(train) & set(test)


def test_unlabelled_videos_are_left_out_with_a_note():
    X, y, v = frames(n_classes=2, videos_per_class=4, kind="perfect")
    y = y.copy()
    y[v == "v000"] = None
    res = linear_probe(X, y, v, shots=2, repeats=2)
    assert res["n_videos"] == 7 and "1 unlabelled video" in res["message"]


def test_bad_inputs():
    X, y, v = frames(n_classes=3, videos_per_class=3, kind="perfect")
    with pytest.raises(BadInputError, match="no labels"):
        linear_probe(X, np.full(len(y), None), v, shots=1)
    with pytest.raises(BadInputError, match="at least two classes"):
        linear_probe(X, np.full(len(y), "only"), v, shots=1)
    with pytest.raises(BadInputError, match=r"at least 4 videos per class .*'class0' has 3.*lower --shots"):
        linear_probe(X, y, v, shots=3)
    with pytest.raises(BadInputError, match="--shots must be an integer >= 1"):
        linear_probe(X, y, v, shots=0)
    with pytest.raises(BadInputError, match="--repeats"):
        linear_probe(X, y, v, shots=1, repeats=0)
    mixed = y.copy()
    mixed[0] = "class1"  # one frame of v000 (class0) labelled otherwise
    with pytest.raises(BadInputError, match="v000 has frames labelled"):
        linear_probe(X, mixed, v, shots=1)
    with pytest.raises(BadInputError, match="must align"):
        linear_probe(X[:-1], y, v, shots=1)
