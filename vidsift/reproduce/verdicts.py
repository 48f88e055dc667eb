"""Whether the numbers of each section support its paper's claim: one sentence per section,
computed from the section's rows (nothing here reads a file or trains)."""

from __future__ import annotations

import math

from vidsift.reproduce.c3d import RANDOM_INIT, TRAINED, C3DResults, VideoRetrieval
from vidsift.reproduce.heldout import Heldout
from vidsift.reproduce.redondo import Discovery
from vidsift.reproduce.slow_ae import TemporalCoherence
from vidsift.reproduce.transfer import Transfer
from vidsift.reproduce.triplet import Retrieval
from vidsift.reproduce.ul import RotatingPoints

#: a difference smaller than this is not read as a result
MARGIN = 0.02
#: a C3D win needs this much over both random init and chance
C3D_WIN = 0.05


def _compare(a: float, b: float, better: str, worse: str, margin: float = MARGIN) -> str:
    """Words for a vs b that do not read a difference inside ``margin`` as a result."""
    if abs(a - b) < margin:
        return f"no clear difference (within {margin})"
    return better if a > b else worse


def slow_ae(r: TemporalCoherence) -> str:
    says = []
    for d in r.datasets:
        pix = max(r.auc("pixels", d), r.auc("zca", d))
        ae = max(r.auc("ckpt:slow-ae@z1", d), r.auc("ckpt:slow-ae@z2", d))
        ab = max(r.auc("ckpt:slow-ae-beta0@z1", d), r.auc("ckpt:slow-ae-beta0@z2", d))
        says.append(
            f"{d}: best slow-AE layer {ae:.3f} vs best pixel space {pix:.3f} "
            f"({_compare(ae, pix, 'supports the claim', 'does not support the claim')}); "
            f"slowness β={r.beta:g} {ae:.3f} vs β=0 {ab:.3f} "
            f"({_compare(ae, ab, 'slowness helps', 'slowness does not help')})"
        )
    return "; ".join(says) + "."


def redondo(r: Discovery) -> str:
    lq, sfa, ls = (
        r.entropy(n, "fc6", "kmeans") for n in ("Quadruplet Lq", "SFA / DrLIM", "Siamese Ls")
    )
    trained = [row for row in r.rows if row.label != "pixels"]
    sc_le_km = sum(row.spectral["mean"] <= row.kmeans["mean"] + 1e-9 for row in trained)
    fc6_better = sum(
        r.entropy(row.label, "fc6", a) < r.entropy(row.label, "fc7", a)
        for row in trained
        if row.layer == "fc6"
        for a in ("kmeans", "spectral")
    )
    n_pairs = 2 * sum(1 for row in trained if row.layer == "fc6")
    below = all(max(row.kmeans["mean"], row.spectral["mean"]) < r.random["mean"] for row in r.rows)
    return (
        f"Lq fc6 (K-means) {lq:.3f} vs SFA {sfa:.3f} and Ls {ls:.3f}: "
        f"{'supported' if lq < min(sfa, ls) else 'not supported'}; spectral ≤ K-means in {sc_le_km} of "
        f"{len(trained)} rows; fc6 better than fc7 in {fc6_better} of {n_pairs}; "
        f"{'every embedding is below RANDOM' if below else 'some embedding is not below RANDOM'} "
        f"({r.random['mean']:.3f}). The random-init network is a strong baseline here: compare it with the trained rows."
    )


def triplet(r: Retrieval) -> str:
    hard, rnd, init = (
        r.rate("triplet, hard negatives"),
        r.rate("triplet, random negatives"),
        r.rate("random init"),
    )
    return (
        f"hard negatives {hard:.3f} vs random negatives {rnd:.3f} vs random init {init:.3f}: "
        + (
            "supported."
            if hard > rnd > init
            else "training helps (both beat random init) but hard negatives do not beat random negatives here."
            if min(hard, rnd) > init
            else "not supported."
        )
    )


def _c3d_retrieval(r: VideoRetrieval, where: str) -> str:
    ours, init = r.accuracy(TRAINED), r.accuracy(RANDOM_INIT)
    ok = ours > init + C3D_WIN and ours > r.chance + C3D_WIN
    return (
        f"video retrieval {ours:.3f} (Siamese) vs {init:.3f} (random init), chance {r.chance:.3f}: "
        f"{'supported' if ok else 'not supported'} on {where}"
    )


def c3d(r: C3DResults) -> str:
    cpu = r.mining.cpu_s
    return (
        f"{_c3d_retrieval(r.shapes, 'moving shapes')}; {_c3d_retrieval(r.drift, 'drift videos')} "
        f"(a win needs {C3D_WIN} over both random init and chance); mining {cpu:.1e} s per pair vs "
        f"1.8e-05 ({'same order' if cpu < 1e-4 else 'slower'}). Decoding and the colour transform, not mining, limit the pair rate."
    )


def ul(r: RotatingPoints) -> str:
    first, last = r.per_epoch[0].test_error, r.per_epoch[-1].test_error
    errs = [row.ul for row in r.per_noise]
    smooth = all(b >= a - 1e-4 for a, b in zip(errs, errs[1:], strict=False))
    return (
        f"error {first:.3f} at init -> {last:.3f} after {len(r.per_epoch) - 1} epochs "
        f"({'supported' if last < first / 5 else 'not supported'}); "
        f"error vs noise {'grows smoothly' if smooth else 'is not monotonic'} ({', '.join(f'{e:.3f}' for e in errs)})."
    )


def transfer(r: Transfer) -> str:
    best = max(r.probe_accuracy("Siamese Ls"), r.probe_accuracy("Quadruplet Lq"))
    init = r.probe_accuracy("random init")
    gains = [row.pretrained - row.random_init for row in r.finetune]
    return (
        f"probe accuracy of the best trained network {best:.3f} vs random init {init:.3f}: "
        f"{'supported' if best > init else 'not supported'} on this data; fine-tuning gain over random "
        f"init {', '.join(f'{g:+.3f}' for g in gains)} (Ls, Lq): "
        f"{'supported' if min(gains) > 0 else 'not supported' if max(gains) <= 0 else 'mixed'}."
    )


def heldout(r: Heldout) -> str:
    """Per trained encoder, on the HELD-OUT columns only: does it beat raw pixels and its own
    random init in clustering the unseen photos (H, lower is better) and in temporal PR on the
    real footage (higher is better)? "Beats" means by ``MARGIN`` and by more than the spread
    over training seeds of the difference (the two stds added in quadrature)."""
    px = r.row(None, "baseline")
    if px is None:
        return ""

    def val(row, key):
        v = row.held.get(key) if row is not None else None
        return None if v is None else v["mean"]

    def std(row, key):
        v = row.held.get(key) if row is not None else None
        return 0.0 if v is None else v["std"]

    says = []
    for row in r.rows:
        if row.role != "trained":
            continue
        init = r.row(row.run, "init")
        parts = []
        for key, what, lower in (("h_kmeans", "H(photo | cluster)", True), ("tpr_real", "real-footage PR AUC", False)):
            mine, p, i = val(row, key), val(px, key), val(init, key)
            if mine is None or p is None or i is None:
                continue

            def beats(other, row=row, lower: bool = lower, key: str = key) -> bool:
                # by MARGIN and by more than the seeds' spread of the difference
                diff = val(other, key) - val(row, key) if lower else val(row, key) - val(other, key)
                return diff >= max(MARGIN, math.hypot(std(row, key), std(other, key)))

            verdict = (
                "beats pixels and its random init" if beats(px) and beats(init)
                else "beats its random init, not pixels" if beats(init)
                else "beats pixels, not its random init" if beats(px)
                else "beats neither pixels nor its random init"
            )
            parts.append(f"{what} {mine:.3f} vs pixels {p:.3f}, init {i:.3f}: {verdict}")
        says.append(f"{row.label.removesuffix(', trained')}: " + "; ".join(parts))
    return "Held out: " + ". ".join(says) + "." if says else ""
