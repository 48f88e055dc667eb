"""Transfer evaluation of frozen embeddings: few-shot probes and same / not-same similarity.

Two questions about an embedder, answered with labels (sub-folder names) that training never saw:

* **Probe** (:func:`linear_probe`): with ``shots`` labelled videos per class, how well do a k-NN
  classifier (k = 1 and 5, cosine) and a logistic regression (standardised features,
  scikit-learn) name the class of the *other* videos? The split is always **by video**: every
  frame of a video is on the same side, because neighbouring frames of one video are nearly
  identical and a frame-level split would score memorisation, not transfer. Accuracy is reported
  per frame and per video, the latter two ways: *vote* (majority of the video's frame
  predictions, ties broken by the mean predicted probability) and *mean* (the classifier trained
  on frames applied to the video's mean feature; for cosine k-NN the mean of the unit vectors).
  Mean ± std over ``repeats`` random splits, beside two chance levels: 1 / #classes, and the
  *majority rate* (share of the most frequent class among the test frames / videos: the best any
  constant guess can do on that test set).
* **Similarity** (:func:`similarity_roc`), the action-similarity protocol of ASLAN (Kliper-Gross
  et al. 2012) used by card D (Paul et al. 2018, Table 3 / Fig. 5): pairs of videos labelled
  *same* (one class) or *not same*; score = cosine distance of the two videos' mean embeddings;
  ROC curve and AUC over all pairs (``sklearn.metrics.roc_curve`` / ``roc_auc_score``); accuracy
  at the threshold that is best on a random half of the pairs, measured on the other half, mean ±
  std over ``repeats`` halvings. Pairs are balanced (as many same as not-same), so chance is 0.5.
  ASLAN's ten splits are also disjoint in actions; here the halves may share videos, which only
  leaks into the choice of one threshold.

All results are plain JSON-ready dicts (the CLI, the UI page and ``vidsift reproduce`` print or
store them). Bad input (no labels, one class, a class with too few videos) raises
``BadInputError`` saying what is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vidsift.discovery.scores import mean_std
from vidsift.discovery.validate import as_vectors
from vidsift.errors import BadInputError
from vidsift.training.data.labels import NO_LABELS, check_classes, is_missing, split_by_video

__all__ = [
    "CLASSIFIERS",
    "linear_probe",
    "pair_scores",
    "plot_roc",
    "sample_pairs",
    "similarity_roc",
    "video_labels_of",
    "video_means",
]

#: classifier name -> k of cosine k-NN, or None for logistic regression
CLASSIFIERS: dict[str, int | None] = {"knn1": 1, "knn5": 5, "logreg": None}
LEVELS = ("frame", "video_vote", "video_mean")


# ----------------------------------------------------------------------------- per-video labels


def video_labels_of(
    labels: Sequence[Any] | np.ndarray, video_ids: Sequence[Any] | np.ndarray
) -> tuple[dict[str, str], np.ndarray, str | None]:
    """Per-video labels from per-frame ``labels`` and ``video_ids``.

    Returns ``(video_label, mask, message)``: ``{video_id: label}`` for the labelled videos, the
    boolean mask of the frames that belong to them, and a note when some frames had no label
    (``None`` otherwise).

    Raises:
        BadInputError: lengths differ, no frame has a label, or one video's frames carry two
            labels (a video is one sample of one class).
    """
    lab = np.asarray(labels, dtype=object)
    vid = np.asarray(video_ids).astype(str)
    if lab.ndim != 1 or vid.ndim != 1 or len(lab) != len(vid):
        raise BadInputError(f"{len(lab)} labels for {len(vid)} video ids; they must align frame by frame")
    mask = np.array([not is_missing(x) for x in lab], dtype=bool)
    if not mask.any():
        raise BadInputError(NO_LABELS)
    out: dict[str, str] = {}
    for v, x in zip(vid[mask], lab[mask], strict=True):
        x = str(x)
        if out.setdefault(v, x) != x:
            raise BadInputError(
                f"video {v} has frames labelled {out[v]!r} and {x!r}; a video must have one label "
                "(its sub-folder): re-embed it after rescanning"
            )
    message = None
    if not mask.all():
        n_unlab = len(set(vid[~mask].tolist()) - set(out))
        message = f"{n_unlab} unlabelled video(s) ({int((~mask).sum())} frames) left out"
    return out, mask, message


# ----------------------------------------------------------------------------- probe


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _classifier(name: str, n_train: int, seed: int) -> Any:
    k = CLASSIFIERS[name]
    if k is not None:
        # brute-force cosine neighbours; k cannot exceed the number of training frames
        return KNeighborsClassifier(n_neighbors=min(k, n_train), metric="cosine", algorithm="brute")
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))


def _proba(clf: Any, X: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities [n, n_classes] in the global class order (codes 0..C-1)."""
    p = clf.predict_proba(X)
    out = np.zeros((len(X), n_classes))
    out[:, np.asarray(clf.classes_, dtype=np.int64)] = p
    return out


def _video_vote(pred: np.ndarray, proba: np.ndarray, groups: np.ndarray, n_groups: int, n_classes: int) -> np.ndarray:
    """Majority vote of frame predictions per group; ties broken by the mean probability."""
    votes = np.zeros((n_groups, n_classes))
    np.add.at(votes, (groups, pred), 1.0)
    mean_p = np.zeros((n_groups, n_classes))
    np.add.at(mean_p, groups, proba)
    mean_p /= np.maximum(np.bincount(groups, minlength=n_groups), 1)[:, None]
    return np.argmax(votes + 1e-3 * mean_p, axis=1)


def _group_means(X: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    sums = np.zeros((n_groups, X.shape[1]))
    np.add.at(sums, groups, X)
    return sums / np.maximum(np.bincount(groups, minlength=n_groups), 1)[:, None]


def _majority(codes: np.ndarray, n_classes: int) -> float:
    return float(np.bincount(codes, minlength=n_classes).max() / max(len(codes), 1))


def _ms(values: Sequence[float]) -> dict[str, float]:
    m, s = mean_std(values)
    return {"mean": m, "std": s}


def linear_probe(
    vectors: np.ndarray,
    labels: Sequence[Any] | np.ndarray,
    video_ids: Sequence[Any] | np.ndarray,
    shots: int = 5,
    repeats: int = 10,
    seed: int = 0,
    return_splits: bool = False,
) -> dict[str, Any]:
    """Few-shot classification on frozen embeddings, split by video.

    Args:
        vectors: float [N, d], one row per frame.
        labels: [N] class of each frame (its video's sub-folder); ``None``/NaN = unlabelled
            (those videos are left out, with a note in ``message``).
        video_ids: [N] the video each frame comes from.
        shots: labelled training videos per class; the other videos of the class are tested.
        repeats: random splits (``numpy.random.default_rng([seed, r])``), mean ± std.
        return_splits: also return ``splits``, the ``{"train": [...], "test": [...]}`` video
            ids of every repeat.

    Returns:
        ``{"classes", "n_classes", "n_videos", "n_frames", "shots", "repeats", "seed",
        "n_train_videos", "n_test_videos", "accuracy": {clf: {level: {"mean", "std"}}},
        "chance": {"uniform", "majority": {"frame": {...}, "video": {...}}}, "message"}`` with
        ``clf`` in ``knn1, knn5, logreg`` and ``level`` in ``frame, video_vote, video_mean``.

    Raises:
        BadInputError: no labels, fewer than two classes, a class with fewer than ``shots + 1``
            videos, bad ``shots`` / ``repeats``, or vectors that do not align with the labels.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> vids = np.repeat(np.arange(8), 5); labs = vids % 2
        >>> X = np.eye(4)[labs] * 10 + rng.normal(size=(40, 4))
        >>> linear_probe(X, labs, vids, shots=2, repeats=2)["accuracy"]["knn1"]["frame"]["mean"]
        1.0
    """
    if isinstance(shots, bool) or int(shots) != shots or shots < 1:
        raise BadInputError(f"--shots must be an integer >= 1, got {shots!r}")
    if repeats < 1:
        raise BadInputError(f"--repeats must be >= 1, got {repeats}")
    X = as_vectors(vectors)
    if len(X) != len(np.asarray(labels, dtype=object)):
        raise BadInputError(f"{len(X)} vectors but {len(labels)} labels; they must align row by row")
    if not np.isfinite(X).all():
        raise BadInputError("vectors contain NaN or infinite values; re-embed those videos")
    video_label, mask, message = video_labels_of(labels, video_ids)
    classes = check_classes(video_label, shots + 1)
    code_of = {c: i for i, c in enumerate(classes)}
    C = len(classes)

    X = X[mask].astype(np.float64)
    vid = np.asarray(video_ids).astype(str)[mask]
    y = np.array([code_of[video_label[v]] for v in vid], dtype=np.int64)
    Xu = _unit(X)

    acc: dict[str, dict[str, list[float]]] = {c: {lv: [] for lv in LEVELS} for c in CLASSIFIERS}
    maj_f: list[float] = []
    maj_v: list[float] = []
    splits: list[dict[str, list[str]]] = []
    n_train_v = n_test_v = 0
    for r in range(repeats):
        rng = np.random.default_rng([int(seed), r])
        train_ids, test_ids = split_by_video(video_label, int(shots), rng)
        tr = np.isin(vid, train_ids)
        te = np.isin(vid, test_ids)
        # frames of one video never on both sides (the whole point of a by-video split)
        if (tr & te).any() or set(vid[tr]) & set(vid[te]):
            raise AssertionError("internal error: frames of one video on both sides of the split")
        if return_splits:
            splits.append({"train": sorted(train_ids), "test": sorted(test_ids)})
        n_train_v, n_test_v = len(train_ids), len(test_ids)
        test_vids, groups = np.unique(vid[te], return_inverse=True)
        groups = groups.ravel()
        G = len(test_vids)
        yv = np.array([code_of[video_label[v]] for v in test_vids], dtype=np.int64)
        maj_f.append(_majority(y[te], C))
        maj_v.append(_majority(yv, C))
        for name, k in CLASSIFIERS.items():
            Xs = Xu if k is not None else X
            clf = _classifier(name, int(tr.sum()), int(seed)).fit(Xs[tr], y[tr])
            proba = _proba(clf, Xs[te], C)
            pred = np.argmax(proba, axis=1) if k is None else np.asarray(clf.predict(Xs[te]), dtype=np.int64)
            acc[name]["frame"].append(float((pred == y[te]).mean()))
            vote = _video_vote(pred, proba, groups, G, C)
            acc[name]["video_vote"].append(float((vote == yv).mean()))
            means = _group_means(Xs[te], groups, G)
            if k is not None:
                means = _unit(means)
            acc[name]["video_mean"].append(float((np.asarray(clf.predict(means)) == yv).mean()))

    out: dict[str, Any] = {
        "classes": classes,
        "n_classes": C,
        "n_videos": len(video_label),
        "n_frames": int(len(X)),
        "shots": int(shots),
        "repeats": int(repeats),
        "seed": int(seed),
        "n_train_videos": n_train_v,
        "n_test_videos": n_test_v,
        "accuracy": {c: {lv: _ms(v) for lv, v in levels.items()} for c, levels in acc.items()},
        "chance": {"uniform": 1.0 / C, "majority": {"frame": _ms(maj_f), "video": _ms(maj_v)}},
        "message": message,
    }
    if return_splits:
        out["splits"] = splits
    return out




# ----------------------------------------------------------------------------- similarity


def video_means(
    vectors: np.ndarray, video_ids: Sequence[Any] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean embedding of each video: ``(ids [V] sorted, means float64 [V, d])``."""
    X = as_vectors(vectors).astype(np.float64)
    vid = np.asarray(video_ids).astype(str)
    if len(vid) != len(X):
        raise BadInputError(f"{len(X)} vectors but {len(vid)} video ids; they must align row by row")
    ids, groups = np.unique(vid, return_inverse=True)
    return ids, _group_means(X, groups.ravel(), len(ids))


#: enumerate candidate pairs up to this many, sample by rejection beyond
_ENUMERATE = 2_000_000


def sample_pairs(codes: np.ndarray, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n_pairs // 2`` distinct same-class pairs and as many distinct not-same pairs.

    Returns ``(pairs int64 [P, 2] with i < j, same bool [P])``; balanced: both kinds are cut to
    the smaller of what exists and ``n_pairs // 2``. Uniform over the pairs of each kind.
    """
    codes = np.asarray(codes, dtype=np.int64)
    V = len(codes)
    members = [np.flatnonzero(codes == c) for c in range(int(codes.max()) + 1)]
    n_same_all = sum(len(m) * (len(m) - 1) // 2 for m in members)
    n_all = V * (V - 1) // 2
    n_diff_all = n_all - n_same_all
    half = min(int(n_pairs) // 2, n_same_all, n_diff_all)
    if half < 1:
        raise BadInputError(
            f"similarity needs at least one same-class and one different-class pair of videos "
            f"and --pairs >= 2; got {n_same_all} same, {n_diff_all} different, --pairs {n_pairs}"
        )

    def pick(candidates: np.ndarray) -> np.ndarray:
        return candidates[np.sort(rng.choice(len(candidates), size=half, replace=False))]

    if n_same_all <= _ENUMERATE:
        cand = []
        for m in members:
            i, j = np.triu_indices(len(m), 1)
            cand.append(np.stack([m[i], m[j]], 1))
        same_pairs = pick(np.concatenate(cand))
    else:
        sizes = np.array([len(m) * (len(m) - 1) / 2 for m in members])
        same_pairs = _rejection(rng, half, lambda n: _draw_same(members, sizes, n, rng))
    if n_all <= _ENUMERATE:
        i, j = np.triu_indices(V, 1)
        keep = codes[i] != codes[j]
        diff_pairs = pick(np.stack([i[keep], j[keep]], 1))
    else:
        diff_pairs = _rejection(rng, half, lambda n: _draw_diff(codes, n, rng))
    pairs = np.concatenate([same_pairs, diff_pairs]).astype(np.int64)
    same = np.r_[np.ones(len(same_pairs), bool), np.zeros(len(diff_pairs), bool)]
    return pairs, same


def _draw_same(members: list[np.ndarray], sizes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    cls = rng.choice(len(members), size=n, p=sizes / sizes.sum())
    out = np.empty((n, 2), np.int64)
    for r, c in enumerate(cls):
        out[r] = rng.choice(members[c], size=2, replace=False)
    return out


def _draw_diff(codes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    ij = rng.integers(0, len(codes), size=(4 * n, 2))
    return ij[codes[ij[:, 0]] != codes[ij[:, 1]]]


def _rejection(rng: np.random.Generator, n: int, draw: Any) -> np.ndarray:
    """Distinct unordered pairs from ``draw`` until ``n`` (pairs are plentiful on this path)."""
    seen: dict[tuple[int, int], None] = {}
    for _ in range(1000):
        for a, b in draw(n):
            if a != b:
                seen.setdefault((min(a, b), max(a, b)), None)
            if len(seen) == n:
                return np.array(list(seen), dtype=np.int64)
    return np.array(list(seen), dtype=np.int64)


def pair_scores(means: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Cosine distance 1 - cos(a, b) of each pair of video means."""
    u = _unit(np.asarray(means, dtype=np.float64))
    return 1.0 - np.einsum("ij,ij->i", u[pairs[:, 0]], u[pairs[:, 1]])


def best_threshold(dist: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The distance threshold t (predict *same* when d <= t) with the best accuracy on these
    pairs: ``(t, accuracy)``. Candidates are midpoints between consecutive sorted distances and
    the two ends; ties go to the smallest t."""
    order = np.argsort(dist, kind="stable")
    d, s = dist[order], same[order].astype(np.int64)
    n = len(d)
    # accuracy when the first k sorted pairs are called "same" (k = 0..n)
    correct = np.r_[0, np.cumsum(s)] + (np.sum(1 - s) - np.r_[0, np.cumsum(1 - s)])
    # only cut between different distances
    valid = np.r_[True, d[1:] > d[:-1], True]
    correct = np.where(valid, correct, -1)
    k = int(np.argmax(correct))
    if k == 0:
        t = float(d[0]) - 1e-9
    elif k == n:
        t = float(d[-1])
    else:
        t = float((d[k - 1] + d[k]) / 2)
    return t, float(correct[k] / n)


def similarity_roc(
    video_vectors: np.ndarray,
    video_labels: Sequence[Any] | np.ndarray,
    seed: int = 0,
    pairs: int = 1000,
    repeats: int = 10,
) -> dict[str, Any]:
    """Same / not-same classification of video pairs by cosine distance (ASLAN protocol).

    Args:
        video_vectors: float [V, d], one (mean) embedding per video.
        video_labels: [V] class of each video; ``None`` = unlabelled (left out).
        seed: seeds the pair sample and the validation / test halvings.
        pairs: pairs to draw (half same, half not-same; fewer when fewer exist).
        repeats: random halvings for the thresholded accuracy.

    Returns:
        ``{"auc", "n_pairs", "n_same", "n_not_same", "n_videos", "classes", "accuracy":
        {"mean", "std"}, "val_accuracy": {...}, "threshold": {...}, "chance": 0.5,
        "roc": {"fpr": [...], "tpr": [...], "thresholds": [...]}}``; ``threshold`` is the
        cosine distance below which a pair is called *same*; ``roc`` thresholds are similarities
        (1 - distance).

    Raises:
        BadInputError: no labels, fewer than two classes, no class with two videos, shapes
            that do not align.
    """
    X = as_vectors(video_vectors, "video vectors")
    lab = np.asarray(video_labels, dtype=object)
    if len(lab) != len(X):
        raise BadInputError(f"{len(X)} video vectors but {len(lab)} labels; they must align")
    if not np.isfinite(X).all():
        raise BadInputError("video vectors contain NaN or infinite values; re-embed those videos")
    if repeats < 1:
        raise BadInputError(f"--repeats must be >= 1, got {repeats}")
    keep = np.array([not is_missing(x) for x in lab], dtype=bool)
    if not keep.any():
        raise BadInputError(NO_LABELS)
    classes = check_classes({str(i): str(x) for i, x in enumerate(lab) if keep[i]}, 1, "similarity")
    code_of = {c: i for i, c in enumerate(classes)}
    codes = np.array([code_of[str(x)] for x in lab[keep]], dtype=np.int64)
    Xk = X[keep].astype(np.float64)
    if max(np.bincount(codes)) < 2:
        raise BadInputError(
            "similarity needs a class with at least two videos (to make 'same' pairs); "
            "every class has one: add videos"
        )
    rng = np.random.default_rng([int(seed), 7])
    pr, same = sample_pairs(codes, pairs, rng)
    dist = pair_scores(Xk, pr)
    sim = 1.0 - dist
    auc = float(roc_auc_score(same, sim))
    fpr, tpr, thr = roc_curve(same, sim)
    accs, vals, ts = [], [], []
    n = len(pr)
    for r in range(repeats):
        # stratified halves: each kind split in two, so both halves stay balanced
        r_rng = np.random.default_rng([int(seed), 8, r])
        val = np.zeros(n, bool)
        for kind in (True, False):
            idx = np.flatnonzero(same == kind)
            val[r_rng.permutation(idx)[: len(idx) // 2]] = True
        test = ~val
        if not test.any() or not val.any():
            val = test = np.ones(n, bool)  # 2 pairs: no halves to speak of
        t, a_val = best_threshold(dist[val], same[val])
        accs.append(float(((dist[test] <= t) == same[test]).mean()))
        vals.append(a_val)
        ts.append(t)
    return {
        "classes": classes,
        "n_videos": int(keep.sum()),
        "n_pairs": int(n),
        "n_same": int(same.sum()),
        "n_not_same": int((~same).sum()),
        "seed": int(seed),
        "repeats": int(repeats),
        "auc": auc,
        "accuracy": _ms(accs),
        "val_accuracy": _ms(vals),
        "threshold": _ms(ts),
        "chance": 0.5,
        "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": np.nan_to_num(thr, posinf=2.0).tolist()},
    }


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], path: str | Path, title: str = "Same / not-same ROC") -> Path:
    """ROC curves ``{name: (fpr, tpr, auc)}`` with the chance diagonal, written atomically."""
    from matplotlib.figure import Figure

    from vidsift.discovery.plots import _save

    if not curves:
        raise BadInputError("no ROC curves to plot")
    fig = Figure(figsize=(5, 4.6))
    ax = fig.add_subplot()
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8, label="chance (AUC 0.5)")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


