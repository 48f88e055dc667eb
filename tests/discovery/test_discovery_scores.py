"""Scores against hand-worked examples and library references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import homogeneity_score, normalized_mutual_info_score

from vidsift.discovery.scores import (
    conditional_entropy,
    contingency,
    entropy,
    mean_std,
    nmi,
    pr_auc,
    purity,
    random_baseline,
    random_retrieval_rate,
    retrieval_rate_at_k,
    temporal_pr,
    temporal_pr_random,
)
from vidsift.errors import BadInputError


def on_circle(degrees) -> np.ndarray:
    a = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


# ------------------------------------------------------------------ conditional entropy


def test_contingency_rows_are_labels_columns_clusters():
    table = contingency(["a", "a", "b", "c", "c"], [1, 1, 0, 0, 1])
    # rows a, b, c; columns cluster 0, 1
    assert table.tolist() == [[0, 2], [1, 0], [1, 1]]


def test_perfect_clustering_is_zero_bits_whatever_the_names():
    assert conditional_entropy([0, 0, 1, 1, 2], [7, 7, 3, 3, 9]) == 0.0


def test_one_cluster_two_balanced_labels_is_one_bit():
    assert conditional_entropy(["x", "y"] * 50, [0] * 100) == pytest.approx(1.0)


def test_splitting_a_class_costs_nothing():
    # H(X|Y) only penalises mixed clusters, not a class spread over several pure clusters
    assert conditional_entropy([0, 0, 0, 0], [0, 1, 2, 3]) == 0.0


def test_worked_3x2_example():
    # labels a,b,c; clusters 0,1; counts:   y=0  y=1
    #                                   a    2    0
    #                                   b    1    1
    #                                   c    1    2        N = 7, n_y0 = 4, n_y1 = 3
    # H(X|Y=0) = -(2/4 log2 2/4 + 1/4 log2 1/4 + 1/4 log2 1/4) = 0.5 + 0.5 + 0.5 = 1.5
    # H(X|Y=1) = -(1/3 log2 1/3 + 2/3 log2 2/3) = log2 3 - 2/3
    # H(X|Y) = 4/7 * 1.5 + 3/7 * (log2 3 - 2/3) = 4/7 + 3/7 log2 3 = 1.2506982...
    labels = ["a", "a", "b", "b", "c", "c", "c"]
    clusters = [0, 0, 0, 1, 0, 1, 1]
    assert contingency(labels, clusters).tolist() == [[2, 0], [1, 1], [1, 2]]
    expected = 4 / 7 + 3 / 7 * math.log2(3)
    assert expected == pytest.approx(1.2506982, abs=1e-6)
    assert conditional_entropy(labels, clusters) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identity_with_sklearn_homogeneity(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, 500)
    y = rng.integers(0, 4, 500)
    y[:200] = x[:200] % 4  # some structure, so homogeneity is not ~0
    h_x = entropy(x)
    assert conditional_entropy(x, y) == pytest.approx(h_x * (1 - homogeneity_score(x, y)), abs=1e-9)


def test_random_baseline_close_to_log2_k_on_balanced_labels():
    labels = np.repeat(np.arange(5), 2000)
    mean, std = random_baseline(labels, 5, repeats=10, seed=0)
    assert mean == pytest.approx(math.log2(5), abs=0.01)
    assert mean < math.log2(5)
    assert 0 < std < 0.01
    assert random_baseline(labels, 5, repeats=10, seed=0) == (mean, std)  # seeded


def test_purity_and_nmi_by_hand_and_reference():
    labels = ["a", "a", "b", "b", "c", "c", "c"]
    clusters = [0, 0, 0, 1, 0, 1, 1]
    assert purity(labels, clusters) == pytest.approx((2 + 2) / 7)
    assert nmi(labels, clusters) == pytest.approx(normalized_mutual_info_score(labels, clusters))
    assert purity([1, 1, 2], [0, 0, 1]) == 1.0


def test_mean_std():
    assert mean_std([1.0, 3.0]) == (2.0, 1.0)
    assert mean_std([4.0]) == (4.0, 0.0)
    with pytest.raises(BadInputError, match="no values"):
        mean_std([])


def test_misaligned_labels_refused():
    with pytest.raises(BadInputError, match="must align"):
        conditional_entropy([0, 1, 2], [0, 1])


# ------------------------------------------------------------------ temporal precision-recall


def test_temporal_pr_on_a_toy_ranking_worked_by_hand():
    # frame: 0    1     2     3     4     5
    # angle: 0°   10°   25°   15°   90°   100°
    # scene: A    A     A     B     B     B        middle frames: A -> row 1, B -> row 4
    # query row 1 (10°) ranks others: 3 (5°), 0 (10°), 2 (15°)  -> hit? no, yes, yes
    #   precision@1..3 = 0, 1/2, 2/3; recall (2 other A frames) = 0, 1/2, 1
    # query row 4 (90°) ranks others: 5 (10°), 2 (65°), 3 (75°)  -> yes, no, yes
    #   precision = 1, 1/2, 2/3; recall = 1/2, 1/2, 1
    # mean precision = 1/2, 1/2, 2/3; mean recall = 1/4, 1/2, 1
    # AUC from (0, 1/2): 1/4*1/2 + 1/4*1/2 + 1/2*(1/2 + 2/3)/2 = 13/24
    vectors = on_circle([0, 10, 25, 15, 90, 100])
    scenes = ["A", "A", "A", "B", "B", "B"]
    res = temporal_pr(vectors, scenes, max_k=3)
    np.testing.assert_allclose(res.precision, [1 / 2, 1 / 2, 2 / 3])
    np.testing.assert_allclose(res.recall, [1 / 4, 1 / 2, 1])
    assert res.auc == pytest.approx(13 / 24)
    assert res.n_queries == 2


def test_temporal_pr_perfect_metric_and_cosine_not_euclidean():
    # scale does not matter for cosine: scene 0 vectors far apart in norm, same direction
    vectors = np.concatenate(
        [on_circle([0, 1, 2]) * [[1], [50], [3]], on_circle([90, 91, 92])]
    ).astype(np.float32)
    res = temporal_pr(vectors, [0, 0, 0, 1, 1, 1], max_k=2)
    np.testing.assert_allclose(res.precision, [1, 1])
    np.testing.assert_allclose(res.recall, [0.5, 1])
    assert res.auc == pytest.approx(1.0)


def test_temporal_pr_skips_single_frame_scenes_and_caps_k():
    vectors = on_circle([0, 5, 40, 90])
    res = temporal_pr(vectors, ["a", "a", "b", "c"], max_k=40)
    assert res.n_queries == 1 and len(res.precision) == 3
    with pytest.raises(BadInputError, match="single frame"):
        temporal_pr(vectors, ["a", "b", "c", "d"])


def test_pr_auc_trapezoid_from_recall_zero():
    assert pr_auc(np.array([1.0, 1.0]), np.array([0.5, 1.0])) == pytest.approx(1.0)
    assert pr_auc(np.array([0.5]), np.array([0.5])) == pytest.approx(0.25)


def test_temporal_pr_random_matches_expectation():
    rng = np.random.default_rng(0)
    scenes = np.repeat(np.arange(50), 10)  # N = 500, m = 10
    rnd = temporal_pr_random(scenes, max_k=40, repeats=5, seed=0)
    n = len(scenes)
    np.testing.assert_allclose(rnd.recall, np.arange(1, 41) / (n - 1), rtol=0.3, atol=0.005)
    assert rnd.precision.mean() == pytest.approx(9 / (n - 1), abs=0.01)
    learned = temporal_pr(
        rng.standard_normal((n, 8)).astype(np.float32)
        + np.repeat(rng.standard_normal((50, 8)) * 5, 10, axis=0),
        scenes,
    )
    assert learned.auc > 10 * rnd.auc


# ------------------------------------------------------------------ retrieval rate


def test_retrieval_rate_by_hand():
    # angle: 0° x, 5° x, 20° y, 90° y, 95° x ; K = 2
    # row 0 -> 1 (5°), 2 (20°): x, y  1/2   row 1 -> 0, 2: 1/2   row 2 -> 1, 0: 0
    # row 3 -> 4, 2: x, y         1/2   row 4 -> 3, 2: y, y  0     mean = 1.5 / 5 = 0.3
    vectors = on_circle([0, 5, 20, 90, 95])
    labels = ["x", "x", "y", "y", "x"]
    assert retrieval_rate_at_k(vectors, labels, k=2) == pytest.approx(0.3)


def test_retrieval_rate_excluding_the_query_video_by_hand():
    # videos v1 | v2 v2 | v3 v3: a query never retrieves frames of its own video
    # row 0 (v1) -> 1, 2: x, y 1/2     row 1 (v2) -> 0, 3: x, y 1/2   row 2 (v2) -> 0, 3: x, y 1/2
    # row 3 (v3) -> 2, 1: y, x 1/2     row 4 (v3) -> 2, 1: y, x 1/2   mean = 0.5
    vectors = on_circle([0, 5, 20, 90, 95])
    labels = ["x", "x", "y", "y", "x"]
    groups = ["v1", "v2", "v2", "v3", "v3"]
    assert retrieval_rate_at_k(vectors, labels, k=2, exclude_same_group=groups) == pytest.approx(
        0.5
    )


def test_retrieval_rate_matches_brute_force_loop():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((120, 6)).astype(np.float32)
    labels = rng.integers(0, 3, 120)
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = u @ u.T
    np.fill_diagonal(sims, -np.inf)
    expected = np.mean([np.mean(labels[np.argsort(-sims[i])[:7]] == labels[i]) for i in range(120)])
    assert retrieval_rate_at_k(x, labels, k=7) == pytest.approx(expected)


def test_random_retrieval_rate_expectation():
    labels = np.repeat([0, 1], 100)
    mean, std = random_retrieval_rate(labels, k=20, repeats=5, seed=0)
    assert mean == pytest.approx(99 / 199, abs=0.02)
    assert std < 0.02
