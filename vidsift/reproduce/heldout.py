"""Section 7: in-sample vs held-out (issue #19, design decision 10). Every frame encoder the
reproduction trained is scored on the videos it was trained on (in-sample: H(scene | cluster)
with K-means, temporal PR AUC) and on the held-out set of ``vidsift.services.heldout``
(unseen camera paths over twelve unseen photos, and the shipped real footage), beside raw
pixels and each run's own random init. The verdicts read the held-out columns only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vidsift.discovery.scores import mean_std
from vidsift.reproduce.experiment import Experiment

#: (row label, reproduction run, layer) of the methods whose checkpoints are scored; each is
#: trained with ``settings.heldout_seeds`` training seeds (``Experiment.seed_runs``)
RUNS: tuple[tuple[str, str, str], ...] = (
    ("slow-AE z2", "slow-ae", "z2"),
    ("SFA / DrLIM fc6", "drlim", "fc6"),
    ("Siamese Ls fc6", "siamese", "fc6"),
    ("Quadruplet Lq fc6", "quadruplet", "fc6"),
    ("Triplet fc6", "triplet", "fc6"),
    ("UL layers fc", "ul", "fc"),
    ("C3D Siamese fc6 (trained on shapes)", "c3d-siamese", "fc6"),
    ("InfoNCE pool", "infonce", "pool"),
)


@dataclass(frozen=True)
class HeldoutRow:
    label: str
    run: str | None  # reproduction run (None: pixels)
    role: str  # "baseline" | "init" | "trained"
    in_h: dict[str, float] | None  # in-sample H(class | cluster), K-means: mean ± std over seeds
    in_pr: dict[str, float] | None  # in-sample temporal PR AUC: mean ± std over seeds
    held: dict[str, Any]  # services.heldout.summarise(...)["raw"]
    held_white: dict[str, Any]  # the same after PCA-whitening


@dataclass(frozen=True)
class Heldout:
    seeds: int
    k_in: int
    rows: tuple[HeldoutRow, ...]

    def row(self, run: str | None, role: str) -> HeldoutRow | None:
        return next((r for r in self.rows if r.run == run and r.role == role), None)


def _ms(vals: list[float]) -> dict[str, float]:
    m, sd = mean_std(vals)
    return {"mean": m, "std": sd, "n": len(vals)}


def evaluate(exp: Experiment) -> Heldout:
    from vidsift.discovery.evaluate import evaluate_discovery, evaluate_temporal_pr
    from vidsift.embedder.registry import get_embedder
    from vidsift.reproduce.settings import RUNS as TRAINING_RUNS
    from vidsift.services.heldout import own_init, score_embedder, summarise

    quick = exp.s.steps < 50
    seeds = [exp.seed + i for i in range(exp.s.heldout_seeds)]
    size = {"videos_per_scene": 1, "frames": 4, "spectral": False, "repeats": 1} if quick else {}
    dataset_of = {name: dataset for name, _, dataset, _ in TRAINING_RUNS}

    def in_sample(name: str, dataset: str) -> tuple[float, float]:
        """H(class | cluster) with K = the data set's classes, and temporal PR over its shots."""
        data = exp.vectors(name, dataset)
        meta = data.meta
        labels = meta["label"].to_numpy()
        h = evaluate_discovery(data.vectors, labels, len(set(labels)), "kmeans",
                               repeats=exp.s.repeats, seed=exp.seed)["conditional_entropy"]["mean"]
        shot = meta["shot"].astype(str) if "shot" in meta else "0"
        shots = (meta["video_id"].astype(str) + ":" + shot).to_numpy()
        return h, evaluate_temporal_pr(data.vectors, shots, repeats=1, seed=exp.seed)["auc"]

    def held(per_seed: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
        s = summarise(per_seed)
        return s["raw"], s["white"]

    rows = []
    px = get_embedder("pixels", exp.ws)
    h, pr = in_sample("pixels", "scenes")
    rows.append(HeldoutRow("pixels", None, "baseline", _ms([h]), _ms([pr]),
                           *held([score_embedder(px, sd, **size) for sd in seeds])))
    for label, run, layer in RUNS:
        if run not in dataset_of:
            continue
        trained, init, hs, prs = [], [], [], []
        for sd, name in exp.seed_runs(run):
            emb = get_embedder(f"ckpt:{name}@{layer}", exp.ws)
            # training seed = held-out camera seed, as in bench.heldout
            trained.append(score_embedder(emb, sd, **size))
            init.append(score_embedder(own_init(emb), sd, **size))
            h, pr = in_sample(f"ckpt:{name}@{layer}", dataset_of[run])
            hs.append(h)
            prs.append(pr)
        rows.append(HeldoutRow(f"{label}, random init", run, "init", None, None, *held(init)))
        rows.append(HeldoutRow(f"{label}, trained", run, "trained", _ms(hs), _ms(prs), *held(trained)))
    return Heldout(len(seeds), len(exp.s.scenes), tuple(rows))
