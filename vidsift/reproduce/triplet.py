"""Section 3: triplet ranking with hard negatives (Wang & Gupta 2015), retrieval: rate@k of
cosine retrieval across videos on the scene videos."""

from __future__ import annotations

from dataclasses import dataclass

from vidsift.reproduce.experiment import Experiment

#: (row label, embedder)
EMBEDDINGS: tuple[tuple[str, str], ...] = (
    ("random init", "random:triplet@fc7"),
    ("triplet, random negatives", "ckpt:triplet-random@fc7"),
    ("triplet, hard negatives", "ckpt:triplet@fc7"),
    ("pixels", "pixels"),
)
K = 20


@dataclass(frozen=True)
class RetrievalRow:
    label: str
    rate: float  # share of the top k showing the query's scene
    random: dict[str, float]  # the same for random rankings: mean, std


@dataclass(frozen=True)
class Retrieval:
    k: int
    rows: tuple[RetrievalRow, ...]

    def rate(self, label: str) -> float:
        return next(r.rate for r in self.rows if r.label == label)


def evaluate(exp: Experiment) -> Retrieval:
    from vidsift.discovery.evaluate import evaluate_retrieval

    rows = []
    for label, emb in EMBEDDINGS:
        data = exp.vectors(emb, "scenes")
        res = evaluate_retrieval(
            data.vectors,
            data.meta["label"].to_numpy(),
            k=K,
            exclude_same_group=data.meta["video_id"].to_numpy(),
            repeats=exp.s.repeats,
            seed=exp.seed,
        )
        rows.append(RetrievalRow(label, res["rate"], res["random"]))
    return Retrieval(K, tuple(rows))
