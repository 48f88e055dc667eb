"""Section 6: transfer (Redondo-Cabrera tables 4-6, Paul table 3): linear probe and similarity
ROC of frozen features with one labelled video per scene, and fine-tuning from the unsupervised
checkpoint against random init."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidsift.reproduce.experiment import Experiment

#: (row label, embedder)
EMBEDDINGS: tuple[tuple[str, str], ...] = (
    ("pixels", "pixels"),
    ("random init", "random:siamese@fc6"),
    ("Siamese Ls", "ckpt:siamese@fc6"),
    ("Quadruplet Lq", "ckpt:quadruplet@fc6"),
)
FINETUNED = ("siamese", "quadruplet")  # training runs, in table order
SHOTS = 1  # labelled videos per scene


@dataclass(frozen=True)
class ProbeRow:
    label: str
    logreg_video: dict[
        str, float
    ]  # logistic-regression probe, video-level vote accuracy: mean, std
    knn1_frame: dict[str, float]  # 1-NN probe, frame accuracy: mean, std
    similarity_auc: float  # ROC AUC of same-scene vs other-scene video pairs


@dataclass(frozen=True)
class FinetuneRow:
    run: str
    pretrained: float  # video-level vote accuracy from the unsupervised checkpoint
    random_init: float


@dataclass(frozen=True)
class Transfer:
    probe: tuple[ProbeRow, ...]
    chance: float | None  # uniform chance of the probe (None when the probe gave none)
    epochs: int  # fine-tuning epochs
    finetune: tuple[FinetuneRow, ...]

    def probe_accuracy(self, label: str) -> float:
        return next(r.logreg_video["mean"] for r in self.probe if r.label == label)


def evaluate(exp: Experiment) -> Transfer:
    from vidsift.discovery.transfer import linear_probe, similarity_roc, video_means
    from vidsift.training.finetune import finetune

    chance = None
    probe = []
    for label, emb in EMBEDDINGS:
        d = exp.vectors(emb, "scenes")
        labels, vids = d.meta["label"].to_numpy(), d.meta["video_id"].to_numpy()
        p = linear_probe(d.vectors, labels, vids, shots=SHOTS, repeats=exp.s.repeats, seed=exp.seed)
        chance = p.get("chance")
        ids, means = video_means(d.vectors, vids)
        first_label = dict(zip(vids, labels, strict=True))
        sim = similarity_roc(means, np.array([first_label[i] for i in ids]), seed=exp.seed)
        probe.append(
            ProbeRow(
                label,
                p["accuracy"]["logreg"]["video_vote"],
                p["accuracy"]["knn1"]["frame"],
                sim["auc"],
            )
        )
    epochs = exp.s.finetune_epochs
    ft = []
    for run in FINETUNED:
        r = finetune(
            exp.ws,
            run,
            exp.folders["scenes"],
            shots=SHOTS,
            epochs=epochs,
            seed=exp.seed,
            overwrite=True,
            progress=False,
        )
        ft.append(FinetuneRow(run, r["pretrained"]["video_vote"], r["random_init"]["video_vote"]))
    uniform = chance.get("uniform", float("nan")) if chance else None
    return Transfer(tuple(probe), uniform, epochs, tuple(ft))
