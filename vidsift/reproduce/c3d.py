"""Section 4: C3D Siamese with randomised pair mining (Paul et al. 2018): video retrieval of the
trained network against its random init on moving shapes and on drift videos, and the cost of
mining one pair."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from vidsift.reproduce.experiment import Experiment

#: Table 2 of the paper: seconds to mine one pair
PAPER_S_PER_PAIR = 1.8e-5
N_VOLUMES = 10  # volumes per video, mean-pooled (the paper's retrieval)


@dataclass(frozen=True)
class VideoRow:
    label: str
    accuracy: float  # nearest-neighbour retrieval accuracy
    entropy: dict[str, float]  # K-means H(class | cluster) over the runs: mean, std


@dataclass(frozen=True)
class VideoRetrieval:
    what: str  # what the label is
    rows: tuple[VideoRow, ...]  # random init, then trained
    chance: float  # 1 / classes
    random: dict[str, float]  # H(class | random clusters): mean, std

    def accuracy(self, label: str) -> float:
        return next(r.accuracy for r in self.rows if r.label == label)


@dataclass(frozen=True)
class PairMiningCost:
    cpu_s: float  # CPU seconds per mined pair
    wall_s: float


@dataclass(frozen=True)
class C3DResults:
    shapes: VideoRetrieval
    drift: VideoRetrieval
    mining: PairMiningCost


RANDOM_INIT, TRAINED = "C3D random init", "C3D Siamese (ours)"


def video_retrieval(exp: Experiment, run: str, dataset: str, what: str) -> VideoRetrieval:
    """NN retrieval and K-means H(label | cluster) of the mean fc7 of 10 volumes per video, for
    the trained ``run`` and the same network at its seeded random init."""
    import torch

    from vidsift.catalog import Catalog
    from vidsift.discovery.kmeans import KMeans
    from vidsift.discovery.scores import conditional_entropy, random_baseline
    from vidsift.training.checkpoint import load_model
    from vidsift.training.data.source import VideoFrameSource
    from vidsift.training.methods.c3d_siamese import video_embedding

    loaded = load_model(exp.ws.run(run).checkpoint)
    cfg = loaded.cfg
    torch.manual_seed(exp.seed)  # the random-init row must be the same network every run
    random_model = loaded.method.build_model(cfg)
    cat = Catalog(exp.ws.catalog_path)
    recs = sorted(cat.videos(root=exp.folders[dataset]), key=lambda r: r.id)
    cat.close()
    src = VideoFrameSource(
        [(r.id, r.path) for r in recs], num_frames={r.id: r.num_frames for r in recs}
    )
    labels = np.array([r.label for r in recs])
    k = len(set(labels.tolist()))
    frame_size = tuple(cfg.p("frame_size", cfg.input_size))
    rows = []
    for label, model in ((RANDOM_INIT, random_model), (TRAINED, loaded.model)):
        vec = np.stack(
            [
                video_embedding(
                    model, src, r.id, n_volumes=N_VOLUMES, seed=exp.seed, frame_size=frame_size
                )
                for r in recs
            ]
        )
        vec = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
        sim = vec @ vec.T
        np.fill_diagonal(sim, -np.inf)
        acc = float((labels[sim.argmax(1)] == labels).mean())
        ces = [
            conditional_entropy(labels, KMeans(k, random_state=exp.seed + r).fit(vec).labels_)
            for r in range(exp.s.repeats)
        ]
        rows.append(VideoRow(label, acc, {"mean": float(np.mean(ces)), "std": float(np.std(ces))}))
    rm, rs = random_baseline(labels, k, repeats=exp.s.repeats, seed=exp.seed)
    src.close()
    return VideoRetrieval(what, tuple(rows), 1 / k, {"mean": rm, "std": rs})


def mining_cost(n: int) -> PairMiningCost:
    """Seconds per pair of ``n`` pairs mined (indices and transform parameters only) for 1000
    videos of 100-750 frames, 16x112x112 volumes from 128x171 frames (the paper's Table 2)."""
    from vidsift.training.data.pair_mining import PairMiner

    lengths = np.random.default_rng(0).integers(100, 750, size=1000).tolist()
    miner = PairMiner(lengths, (128, 171), (16, 112, 112))
    rng = np.random.default_rng(0)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        miner.sample(rng)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return PairMiningCost(cpu_s=cpu / n, wall_s=wall / n)


def evaluate(exp: Experiment) -> C3DResults:
    return C3DResults(
        shapes=video_retrieval(exp, "c3d-siamese", "shapes", "shape-motion class"),
        drift=video_retrieval(exp, "c3d-siamese-drift", "drift", "direction of motion"),
        mining=mining_cost(exp.s.mining_pairs),
    )
