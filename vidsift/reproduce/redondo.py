"""Section 2: Siamese Ls / Quadruplet Lq (Redondo-Cabrera et al.), discovery by clustering:
H(scene | cluster) of K-means and spectral clustering on each embedding of the scene videos."""

from __future__ import annotations

from dataclasses import dataclass

from vidsift.reproduce.experiment import Experiment

#: (row label, embedder without layer, layers or None for a layerless embedder)
EMBEDDINGS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("pixels", "pixels", None),
    ("random-init AlexNet", "random:siamese", ("fc6", "fc7")),
    ("SFA / DrLIM", "ckpt:drlim", ("fc6", "fc7")),
    ("Siamese Ls", "ckpt:siamese", ("fc6", "fc7")),
    ("Quadruplet Lq", "ckpt:quadruplet", ("fc6", "fc7")),
    ("Lq MU", "ckpt:quadruplet-mu", ("fc6", "fc7")),
)


@dataclass(frozen=True)
class DiscoveryRow:
    label: str
    layer: str | None
    kmeans: dict[str, float]  # H(scene | cluster) over the runs: mean, std
    spectral: dict[str, float]


@dataclass(frozen=True)
class Discovery:
    k: int  # clusters = scenes
    repeats: int
    rows: tuple[DiscoveryRow, ...]
    random: dict[str, float]  # H(scene | random clusters): mean, std
    plot: str  # UMAP of Lq fc6, PNG file name under the plot folder

    def entropy(self, label: str, layer: str | None, algorithm: str) -> float:
        """Mean H(scene | cluster) of one row; ``algorithm`` is ``"kmeans"`` or ``"spectral"``."""
        row = next(r for r in self.rows if (r.label, r.layer) == (label, layer))
        return getattr(row, algorithm)["mean"]


def evaluate(exp: Experiment) -> Discovery:
    from vidsift.discovery.evaluate import evaluate_discovery
    from vidsift.discovery.plots import plot_map
    from vidsift.discovery.projection import umap_2d

    k = len(exp.s.scenes)
    rows = []
    random_row = None
    for label, base, layers in EMBEDDINGS:
        for layer in layers or (None,):
            emb = base if layer is None else f"{base}@{layer}"
            data = exp.vectors(emb, "scenes")
            labels = data.meta["label"].to_numpy()
            km = evaluate_discovery(
                data.vectors, labels, k, "kmeans", repeats=exp.s.repeats, seed=exp.seed
            )
            sc = evaluate_discovery(
                data.vectors, labels, k, "spectral", repeats=exp.s.repeats, seed=exp.seed
            )
            random_row = km["random"]
            rows.append(
                DiscoveryRow(label, layer, km["conditional_entropy"], sc["conditional_entropy"])
            )
    data = exp.vectors("ckpt:quadruplet@fc6", "scenes")
    coords, idx = umap_2d(data.vectors, seed=exp.seed)
    plot = "umap_quadruplet_fc6.png"
    plot_map(
        coords, data.meta["label"].to_numpy()[idx], exp.out / plot, "Lq fc6, coloured by scene"
    )
    return Discovery(k, exp.s.repeats, tuple(rows), random_row, plot)
