"""Input checks and the array-level evaluations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from vidsift.discovery.evaluate import (
    centre_distances,
    cluster,
    evaluate_discovery,
    evaluate_retrieval,
    evaluate_temporal_pr,
)
from vidsift.discovery.validate import check_k, usable_labels
from vidsift.errors import BadInputError
from vidsift.index.build import check_vectors
from vidsift.training.data.labels import NO_LABELS


def meta_for(paths: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"video_id": [p.split("/")[-1] for p in paths], "path": paths})


def test_nan_vectors_refused_naming_the_video():
    v = np.ones((4, 3), np.float32)
    v[2, 1] = np.nan
    v[3, 0] = np.inf
    meta = meta_for(["/d/a.mp4", "/d/a.mp4", "/d/b.mp4", "/d/c.mp4"])
    with pytest.raises(
        BadInputError, match=r"2 vectors of 2 videos \(/d/b.mp4, /d/c.mp4\) contain NaN or infinite"
    ):
        check_vectors(v, meta=meta)
    with pytest.raises(BadInputError, match="NaN"):
        check_vectors(v)


def test_k_larger_than_store_refused():
    with pytest.raises(
        BadInputError, match="^K=50 is larger than the 12 frames in the store; choose K <= 12$"
    ):
        check_k(50, 12)
    with pytest.raises(BadInputError, match="too small"):
        check_k(1, 12)
    with pytest.raises(BadInputError, match="integer"):
        check_k("many", 12)
    assert check_k(12, 12) == 12 and check_k("auto", 12) == "auto"


def test_store_with_one_frame_refused_clearly():
    with pytest.raises(BadInputError, match="only 1 frame; this needs at least 2"):
        check_vectors(np.ones((1, 4)), meta=meta_for(["/x.mp4"]), min_rows=2)
    with pytest.raises(BadInputError, match="only 1 frame"):
        check_k(2, 1)
    with pytest.raises(BadInputError, match="empty"):
        check_vectors(np.zeros((0, 4)), min_rows=2)


def test_vectors_shape_checked():
    with pytest.raises(BadInputError, match="2-D"):
        check_vectors(np.ones(5))
    with pytest.raises(BadInputError, match="metadata rows"):
        check_vectors(np.ones((3, 2)), meta=meta_for(["/a.mp4"]))


def test_usable_labels():
    assert usable_labels(None) == (None, None, NO_LABELS)
    assert usable_labels([None, float("nan"), None])[2] == NO_LABELS
    lab, mask, msg = usable_labels(["a", None, "b", "a"])
    assert lab.tolist() == ["a", "b", "a"] and mask.tolist() == [True, False, True, True]
    assert msg == "scored on the 3 of 4 frames that have a label"
    lab, mask, msg = usable_labels(["a", "a"])
    assert lab is None and "one label" in msg


@pytest.fixture(scope="module")
def labelled():
    X, y = make_blobs(240, 8, centers=4, cluster_std=0.5, random_state=0)
    return X.astype(np.float32), np.array([f"c{i}" for i in y], dtype=object)


def test_evaluate_discovery_kmeans_and_random(labelled):
    X, y = labelled
    res = evaluate_discovery(X, y, 4, "kmeans", repeats=3, seed=0)
    assert res["k"] == 4 and res["repeats"] == 3 and res["n_scored"] == 240
    assert res["conditional_entropy"]["mean"] == pytest.approx(0.0, abs=1e-9)
    assert res["purity"]["mean"] == 1.0 and res["nmi"]["mean"] == pytest.approx(1.0)
    assert res["random"]["mean"] == pytest.approx(math.log2(4), abs=0.15)
    assert res["message"] is None


def test_evaluate_discovery_spectral_auto_k(labelled):
    X, y = labelled
    res = evaluate_discovery(X, y, "auto", "spectral", repeats=3, seed=0, k_range=(2, 6))
    assert res["k"] == 4 and set(res["k_evidence"]) == set(range(2, 7))
    assert res["conditional_entropy"]["mean"] == pytest.approx(0.0, abs=1e-9)


def test_evaluate_discovery_without_labels_returns_none_with_message(labelled):
    X, _ = labelled
    res = evaluate_discovery(X, None, 4, repeats=2)
    assert res["conditional_entropy"] is None and res["random"] is None
    assert res["message"] == NO_LABELS
    with pytest.raises(BadInputError, match="K=500 is larger than the 240 frames"):
        evaluate_discovery(X, None, 500)
    with pytest.raises(BadInputError, match="algorithm"):
        evaluate_discovery(X, None, 4, "dbscan")


def test_evaluate_discovery_partial_labels(labelled):
    X, y = labelled
    y = y.copy()
    y[:40] = None
    res = evaluate_discovery(X, y, 4, repeats=2)
    assert res["n_scored"] == 200 and "200 of 240" in res["message"]


def test_evaluate_temporal_pr_and_retrieval(labelled):
    X, y = labelled
    scenes = np.repeat(np.arange(24), 10)
    # scenes inside a blob: sort rows by label so consecutive rows share a class
    order = np.argsort(y, kind="stable")
    res = evaluate_temporal_pr(X[order], scenes, max_k=40, repeats=3)
    assert len(res["precision"]) == 40 and res["n_queries"] == 24
    assert 0 <= res["random"]["auc"] < res["auc"] <= 1
    ret = evaluate_retrieval(X, y, k=20, repeats=3)
    assert ret["rate"] == pytest.approx(1.0)
    assert ret["random"]["mean"] == pytest.approx(59 / 239, abs=0.03)
    none = evaluate_retrieval(X, None)
    assert none["rate"] is None and none["message"] == NO_LABELS


def test_centre_distances_and_cluster(labelled):
    X, _ = labelled
    est = cluster(X, 4, "kmeans", seed=0)
    d = centre_distances(X, est.labels_)
    ref = np.linalg.norm(X - est.cluster_centers_[est.labels_], axis=1)
    np.testing.assert_allclose(d, ref, rtol=1e-3, atol=1e-4)
