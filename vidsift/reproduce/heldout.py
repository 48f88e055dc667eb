"""Section 7: in-sample vs held-out (issue #19, design decision 10). Every frame encoder the
reproduction trained is scored on the videos it was trained on (in-sample: H(scene | cluster)
with K-means, temporal PR AUC) and on the held-out set of ``vidsift.services.heldout``
(unseen camera paths over twelve unseen photos, and the shipped real footage), beside raw
pixels and each run's own random init. The verdicts read the held-out columns only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vidsift.reproduce.experiment import Experiment

#: (row label, reproduction run, layer) of the frame methods whose checkpoints are scored
RUNS: tuple[tuple[str, str, str], ...] = (
    ("slow-AE z2", "slow-ae", "z2"),
    ("SFA / DrLIM fc6", "drlim", "fc6"),
    ("Siamese Ls fc6", "siamese", "fc6"),
    ("Quadruplet Lq fc6", "quadruplet", "fc6"),
    ("Triplet fc6", "triplet", "fc6"),
    ("InfoNCE pool", "infonce", "pool"),
)


@dataclass(frozen=True)
class HeldoutRow:
    label: str
    run: str | None  # reproduction run (None: pixels)
    role: str  # "baseline" | "init" | "trained"
    in_h: dict[str, float] | None  # in-sample H(scene | cluster), K-means
    in_pr: float | None  # in-sample temporal PR AUC
    held: dict[str, Any]  # services.heldout.summarise(...)["raw"]
    held_white: dict[str, Any]  # the same after PCA-whitening


@dataclass(frozen=True)
class Heldout:
    seeds: int
    k_in: int
    rows: tuple[HeldoutRow, ...]

    def row(self, run: str | None, role: str) -> HeldoutRow | None:
        return next((r for r in self.rows if r.run == run and r.role == role), None)


def evaluate(exp: Experiment) -> Heldout:
    from vidsift.discovery.evaluate import evaluate_discovery, evaluate_temporal_pr
    from vidsift.embedder.registry import get_embedder
    from vidsift.services.heldout import own_init, score_embedder, summarise

    quick = exp.s.steps < 50
    seeds = [exp.seed] if quick else [exp.seed, exp.seed + 1, exp.seed + 2]
    size = {"videos_per_scene": 1, "frames": 4, "spectral": False, "repeats": 1} if quick else {}
    k_in = len(exp.s.scenes)

    def in_sample(name: str) -> tuple[dict[str, float], float]:
        data = exp.vectors(name, "scenes")
        meta = data.meta
        h = evaluate_discovery(data.vectors, meta["label"].to_numpy(), k_in, "kmeans",
                               repeats=exp.s.repeats, seed=exp.seed)["conditional_entropy"]
        shots = (meta["video_id"].astype(str) + ":" + meta["shot"].astype(str)).to_numpy()
        return h, evaluate_temporal_pr(data.vectors, shots, repeats=1, seed=exp.seed)["auc"]

    def held(emb: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        s = summarise([score_embedder(emb, sd, **size) for sd in seeds])
        return s["raw"], s["white"]

    rows = []
    h, pr = in_sample("pixels")
    rows.append(HeldoutRow("pixels", None, "baseline", h, pr, *held(get_embedder("pixels", exp.ws))))
    for label, run, layer in RUNS:
        if not exp.ws.run(run).checkpoint.exists():
            continue
        emb = get_embedder(f"ckpt:{run}@{layer}", exp.ws)
        rows.append(HeldoutRow(f"{label}, random init", run, "init", None, None, *held(own_init(emb))))
        h, pr = in_sample(f"ckpt:{run}@{layer}")
        rows.append(HeldoutRow(f"{label}, trained", run, "trained", h, pr, *held(emb)))
    return Heldout(len(seeds), k_in, tuple(rows))
