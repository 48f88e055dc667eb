"""Same / not-same pairs (ASLAN protocol): AUC of perfect and random embedders, thresholds, pairs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from vidsift.discovery.transfer import best_threshold, sample_pairs, similarity_roc, video_means
from vidsift.errors import BadInputError


def _videos(kind: str, n: int = 200, classes: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    lab = np.array([f"c{i % classes}" for i in range(n)], dtype=object)
    if kind == "perfect":
        X = np.eye(classes)[np.arange(n) % classes] * 5 + rng.normal(size=(n, classes)) * 0.1
    else:
        X = rng.normal(size=(n, 8))
    return X, lab


def test_perfect_embedder_auc_one():
    X, lab = _videos("perfect")
    res = similarity_roc(X, lab, seed=0, pairs=1000)
    assert res["auc"] == 1.0
    assert res["accuracy"] == {"mean": 1.0, "std": 0.0}
    assert res["n_same"] == res["n_not_same"] == 500 and res["chance"] == 0.5
    assert res["roc"]["tpr"][-1] == 1.0 and res["roc"]["fpr"][0] == 0.0


def test_random_embedder_auc_half():
    X, lab = _videos("random")
    res = similarity_roc(X, lab, seed=0, pairs=3000)
    assert abs(res["auc"] - 0.5) < 0.1
    assert abs(res["accuracy"]["mean"] - 0.5) < 0.1


def test_pairs_are_distinct_balanced_and_correctly_flagged():
    codes = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    pairs, same = sample_pairs(codes, 20, np.random.default_rng(0))
    assert same.sum() == (~same).sum() == 10  # 3 + 1 + 6 = 10 same pairs exist: all taken
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs)
    assert np.array_equal(codes[pairs[:, 0]] == codes[pairs[:, 1]], same)


def test_best_threshold_matches_brute_force():
    rng = np.random.default_rng(1)
    d = np.round(rng.random(60), 2)  # ties included
    s = rng.random(60) < 0.5
    t, acc = best_threshold(d, s)
    brute = max(((d <= c) == s).mean() for c in np.r_[-1.0, d])
    assert acc == pytest.approx(brute) and ((d <= t) == s).mean() == pytest.approx(brute)


def test_auc_matches_sklearn_on_cosine_distances():
    X, lab = _videos("random", n=40)
    res = similarity_roc(X, lab, seed=2, pairs=200)
    # rebuild the same pairs and score them independently
    codes = np.unique(lab, return_inverse=True)[1].ravel()
    pairs, same = sample_pairs(codes, 200, np.random.default_rng([2, 7]))
    u = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos = (u[pairs[:, 0]] * u[pairs[:, 1]]).sum(1)
    assert res["auc"] == pytest.approx(roc_auc_score(same, cos))


def test_video_means():
    ids, means = video_means(np.array([[1.0, 0], [3, 0], [0, 2]]), ["b", "b", "a"])
    assert ids.tolist() == ["a", "b"] and means.tolist() == [[0, 2], [2, 0]]


def test_bad_inputs():
    X, lab = _videos("perfect", n=10)
    with pytest.raises(BadInputError, match="no labels"):
        similarity_roc(X, [None] * 10)
    with pytest.raises(BadInputError, match="at least two classes"):
        similarity_roc(X, ["a"] * 10)
    with pytest.raises(BadInputError, match="a class with at least two videos"):
        similarity_roc(X[:3], ["a", "b", "c"])
    with pytest.raises(BadInputError, match="must align"):
        similarity_roc(X, lab[:-1])
