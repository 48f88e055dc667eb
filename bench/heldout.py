"""Generalisation of every frame method (issue #19): train on in-sample scenes, score on held-out
videos of held-out subjects, beside raw pixels and each run's own random init.

For each seed and method: train the method's ``cpu`` preset exactly as a user runs it (default
steps, no options) on the in-sample scene videos (``video.synthetic.heldout.IN_SAMPLE_SCENES``,
reproduce's six photos, 3 camera paths x 3 shots x 20 frames, 64x64, generated with that seed;
in memory, no codec), then score

* in-sample: the training videos themselves: H(photo | cluster) with K-means (K = 6) and
  temporal PR AUC over their shots;
* held-out (``vidsift.services.heldout``): twelve unseen photos x 3 new camera paths x 2 shots
  x 16 frames (K = 12, K-means and spectral) and the shipped real footage with known shots
  (bikes.mp4, cityCC0.mpg), temporal PR AUC;

each on raw vectors and after per-set centring + PCA-whitening (``embedder.whitening``). Mean ±
std over seeds (training seed = held-out camera seed). Results go to ``--out`` (JSON, written
after every run, so an interrupted bench keeps what it measured) and a markdown table on stdout.

    python -m bench.heldout                                  # 5 methods x 3 seeds, ~45 min on 1 core
    python -m bench.heldout --methods infonce --seeds 0      # one run
    python -m bench.heldout --table vidsift-workspace/bench/heldout.json   # print the table of a finished run
    python -m bench.heldout --whitening-sweep                # the in-sample choice of whitening
    python -m bench.heldout --select --methods quadruplet --seeds 0 --out sel.json   # levers, in-sample validation split

Nothing here is tuned on held-out numbers: presets and whitening defaults were chosen on
in-sample scores only (``--whitening-sweep`` prints the in-sample sweep that chose them).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidsift.embedder.network import checkpoint_embedder
from vidsift.embedder.registry import get_embedder
from vidsift.embedder.whitening import PCAWhitening
from vidsift.services.heldout import METRICS, own_init, score_embedder, score_vectors
from vidsift.training.data.source import ArrayFrameSource
from vidsift.training.registry import get_method
from vidsift.training.trainer import train
from vidsift.video.synthetic.heldout import IN_SAMPLE_SCENES
from vidsift.video.synthetic.scenes import scene_frames

METHODS = ("slow-ae", "siamese", "quadruplet", "drlim", "triplet", "ul", "infonce")  # C3D: clips; reproduce section 7
IN_METRICS = (("h_in", "in-sample H K-means (K=6)", True), ("tpr_in", "in-sample temporal PR AUC", False))


def in_sample(seed: int, size: tuple[int, int] = (64, 64)) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The training videos of ``seed`` (dict for the trainer) and their labels / shot ids."""
    videos, labels, shots = {}, [], []
    for scene in IN_SAMPLE_SCENES:
        for k in range(3):
            frames, _ = scene_frames(scene, seed=seed, index=k, shots=3, frames_per_shot=20, size=size)
            vid = f"{scene}_{k}"
            videos[vid] = frames
            labels += [scene] * len(frames)
            shots += [f"{vid}:{i // 20}" for i in range(len(frames))]
    return videos, np.asarray(labels), np.asarray(shots)


def score_in_sample(emb: Any, seed: int) -> dict[str, Any]:
    videos, labels, shots = in_sample(seed)
    vecs = emb.embed(np.concatenate(list(videos.values())))
    out = {}
    for variant, v in (("raw", vecs), ("white", PCAWhitening().fit_transform(vecs))):
        s = score_vectors(v, labels, shots, None, None, repeats=3, seed=seed, spectral=False)
        out[variant] = {"h_in": s["h_kmeans"], "tpr_in": s["tpr_scenes"]}
    return out


def run_one(method: str, seed: int, work: Path, steps: int | None) -> dict[str, Any]:
    """Train ``method``'s cpu preset on the in-sample videos of ``seed``; score it and its init."""
    videos, _, _ = in_sample(seed)
    m = get_method(method)
    cfg = m.config("cpu", seed=seed, num_workers=0, steps=steps)
    t0 = time.perf_counter()
    res = train(cfg, ArrayFrameSource(videos), work / f"{method}-{seed}", progress=False, overwrite=True)
    took = time.perf_counter() - t0
    emb = checkpoint_embedder(f"ckpt:{method}-{seed}", res.checkpoint)
    out: dict[str, Any] = {"train_s": took, "steps": cfg.steps, "layer": emb.layer,
                           "loss_first": float(np.mean(res.losses[:25])), "loss_last": float(np.mean(res.losses[-25:]))}
    for role, e in (("trained", emb), ("init", own_init(emb))):
        r = score_embedder(e, seed)
        r["in"] = score_in_sample(e, seed)
        out[role] = r
    return out


def run_pixels(seed: int) -> dict[str, Any]:
    e = get_embedder("pixels")
    r = score_embedder(e, seed)
    r["in"] = score_in_sample(e, seed)
    return r


def _ms(vals: list[float]) -> str:
    vals = [v for v in vals if v is not None]
    if not vals:
        return ""
    return f"{np.mean(vals):.3f} ± {np.std(vals):.3f}"


def table(results: dict[str, Any], variant: str = "raw") -> str:
    """Markdown: one row per embedder, in-sample then held-out columns, mean ± std over seeds."""
    cols = [t for _, t, _ in IN_METRICS] + [t for _, t, _ in METRICS]
    lines = ["| embedder | seeds | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]
    rows: dict[str, list[dict[str, Any]]] = {}
    for _, per in sorted(results.get("pixels", {}).items()):
        rows.setdefault("pixels", []).append(per)
    for method in results.get("methods", {}):
        for role in ("init", "trained"):
            key = f"{method} ({'random init' if role == 'init' else 'trained, cpu preset'})"
            for per in results["methods"][method].values():
                rows.setdefault(key, []).append(per[role])
    for name, runs in rows.items():
        cells = [_ms([r["in"][variant][k] for r in runs]) for k, _, _ in IN_METRICS]
        cells += [_ms([r[variant][k] for r in runs]) for k, _, _ in METRICS]
        lines.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Results of several runs (e.g. one process per seed) as one."""
    out: dict[str, Any] = {"pixels": {}, "methods": {}}
    for part in parts:
        out["pixels"].update(part.get("pixels", {}))
        for method, per in part.get("methods", {}).items():
            out["methods"].setdefault(method, {}).update(per)
    return out


#: the in-sample validation split (model selection, ``--select``): train on the first four
#: in-sample photos (3 paths each), validate on all six photos over two camera paths never
#: trained on (index 3, 4); the last two photos (horse, camera) are subjects the encoder never saw
SELECT_TRAIN_SCENES = IN_SAMPLE_SCENES[:4]
SELECT_VAL_INDEX = (3, 4)
#: the levers tried per AlexNet method (``--select``), as parameter overrides of the cpu preset
LEVERS: dict[str, dict[str, Any]] = {
    "preset": {},
    "augment": {"augment": True},
    "normalize": {"normalize": True},
    "augment+normalize": {"augment": True, "normalize": True},
    "augment+normalize, lr 3e-4": {"augment": True, "normalize": True, "lr": 3e-4},
    "fn_filter": {"fn_filter": True},
    "fn_filter+normalize": {"fn_filter": True, "normalize": True},
    "cosine": {"lr_schedule": "cosine"},
    "fn_filter+cosine": {"fn_filter": True, "lr_schedule": "cosine"},
}
#: ``--val-unseen``: validate on photos the encoder never trained on only: the two in-sample
#: photos outside SELECT_TRAIN_SCENES and three shipped photos in neither set (never scored)
SELECT_VAL_UNSEEN = IN_SAMPLE_SCENES[4:] + ("page", "text", "cell")


def select_split(seed: int, unseen: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """In-sample only: (training videos, validation frames, their photo labels, their shot ids).
    ``unseen``: the validation photos are ``SELECT_VAL_UNSEEN`` (none trained on)."""
    videos = {}
    for scene in SELECT_TRAIN_SCENES:
        for k in range(3):
            videos[f"{scene}_{k}"] = scene_frames(scene, seed=seed, index=k, shots=3, frames_per_shot=20)[0]
    frames, labels, shots = [], [], []
    for scene in SELECT_VAL_UNSEEN if unseen else IN_SAMPLE_SCENES:
        for k in SELECT_VAL_INDEX:
            f, _ = scene_frames(scene, seed=seed, index=k, shots=3, frames_per_shot=20)
            frames.append(f)
            labels += [scene] * len(f)
            shots += [f"{scene}_{k}:{i // 20}" for i in range(len(f))]
    return videos, np.concatenate(frames), np.asarray(labels), np.asarray(shots)


def select(methods: list[str], seed: int, work: Path, checkpoints: tuple[int, ...] = (100, 200, 300),
           levers: list[str] | None = None, unseen: bool = False) -> dict[str, Any]:
    """Model selection on the in-sample validation split only: every lever of ``LEVERS`` for each
    method, scored after each of ``checkpoints`` steps (one run, resumed), beside pixels and init.
    Nothing held out is looked at."""
    videos, vframes, vlabels, vshots = select_split(seed, unseen)

    def val(e: Any) -> dict[str, float]:
        s = score_vectors(e.embed(vframes), vlabels, vshots, None, None, repeats=3, seed=seed, spectral=False)
        return {"h_val": s["h_kmeans"], "tpr_val": s["tpr_scenes"]}

    out: dict[str, Any] = {"pixels": val(get_embedder("pixels")), "methods": {}, "unseen": unseen}
    print(f"pixels: {out['pixels']}", flush=True)
    for method in methods:
        m = get_method(method)
        res: dict[str, Any] = {}
        for lever, over in LEVERS.items():
            if levers and lever not in levers:
                continue
            row: dict[str, Any] = {}
            run = work / f"{method}-{lever.replace(' ', '').replace(',', '_')}"
            for i, steps in enumerate(checkpoints):
                cfg = m.config("cpu", seed=seed, num_workers=0, steps=steps, **over)
                t0 = time.perf_counter()
                # a schedule's horizon is the run's steps: each step count is its own run
                fresh = i == 0 or "lr_schedule" in over
                r = train(cfg, ArrayFrameSource(videos), run, progress=False, overwrite=fresh, resume=not fresh)
                emb = checkpoint_embedder(f"ckpt:{method}", r.checkpoint)
                if i == 0:
                    row["init"] = val(own_init(emb))
                row[str(steps)] = {**val(emb), "train_s": time.perf_counter() - t0}
                print(f"{method} [{lever}] {steps} steps: {row[str(steps)]} (init {row['init']})", flush=True)
            res[lever] = row
        out["methods"][method] = res
    return out


def whitening_sweep() -> None:
    """In-sample only: clustering and temporal PR of pixels / random AlexNet under whitening
    settings (the sweep that chose ``embedder.whitening``'s defaults)."""
    videos, labels, shots = in_sample(0)
    frames = np.concatenate(list(videos.values()))
    for name in ("pixels", "random:quadruplet"):
        v = get_embedder(name).embed(frames)
        s = score_vectors(v, labels, shots, None, None, spectral=False)
        print(f"{name} raw: H {s['h_kmeans']:.3f} PR {s['tpr_scenes']:.3f}")
        for dim in (None, 128, 64, 32):
            for eps in (1e-3, 1e-2, 1e-1):
                s = score_vectors(PCAWhitening(dim, eps).fit_transform(v), labels, shots, None, None, spectral=False)
                print(f"  dim {dim} eps {eps:g}: H {s['h_kmeans']:.3f} PR {s['tpr_scenes']:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=None, help="override the preset's steps (default: the preset's)")
    ap.add_argument("--out", type=Path, default=Path("vidsift-workspace/bench/heldout.json"))
    ap.add_argument("--table", type=Path, nargs="+", default=None,
                    help="print the tables of saved runs (several files: merged, e.g. one per seed) and stop")
    ap.add_argument("--whitening-sweep", action="store_true")
    ap.add_argument("--select", action="store_true",
                    help="model selection on the in-sample validation split only (LEVERS x 100/200/300 steps)")
    ap.add_argument("--levers", nargs="+", default=None, help=f"--select: these levers only ({', '.join(LEVERS)})")
    ap.add_argument("--val-unseen", action="store_true",
                    help="--select: validate on photos never trained on only (SELECT_VAL_UNSEEN)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message=".*connected components.*")
    if args.whitening_sweep:
        whitening_sweep()
        return 0
    if args.select:
        with tempfile.TemporaryDirectory(prefix="vidsift-select-") as tmp:
            res = select(args.methods, args.seeds[0], Path(tmp), levers=args.levers, unseen=args.val_unseen)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1))
        return 0
    if args.table is not None:
        results = merge([json.loads(p.read_text()) for p in args.table])
        print(table(results, "raw"), "\n\nwhitened (per-set centring + PCA-whitening, 64 dims):\n")
        print(table(results, "white"))
        return 0
    results: dict[str, Any] = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results.setdefault("pixels", {})
    results.setdefault("methods", {})
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        args.out.write_text(json.dumps(results, indent=1))

    with tempfile.TemporaryDirectory(prefix="vidsift-heldout-") as tmp:
        for seed in args.seeds:
            if str(seed) not in results["pixels"]:
                results["pixels"][str(seed)] = run_pixels(seed)
                save()
            for method in args.methods:
                done = results["methods"].setdefault(method, {})
                if str(seed) in done and args.steps is None:
                    continue
                t0 = time.perf_counter()
                done[str(seed)] = run_one(method, seed, Path(tmp), args.steps)
                save()
                r = done[str(seed)]
                print(f"seed {seed} {method}: train {r['train_s']:.0f}s, total {time.perf_counter() - t0:.0f}s; "
                      f"held-out H km {r['trained']['raw']['h_kmeans']:.3f} (init {r['init']['raw']['h_kmeans']:.3f}), "
                      f"real PR {r['trained']['raw']['tpr_real']:.3f} (init {r['init']['raw']['tpr_real']:.3f})",
                      flush=True)
    print(table(results, "raw"))
    print("\nwhitened:\n")
    print(table(results, "white"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
