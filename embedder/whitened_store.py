"""``white:NAME``: a derived store, the store of NAME centred and PCA-whitened (issue #19 item 4).

    report = extract(ws, "clips/", "white:ckpt:infonce-cpu")   # embeds NAME first, then derives
    emb = get_embedder("white:ckpt:infonce-cpu", ws)             # NAME + the saved whitening

``vidsift embed FOLDER -e white:NAME`` (the one path) embeds FOLDER with NAME as usual
(resumable), then fits ``embedder.whitening.PCAWhitening`` (its defaults: 64 components, eps 0.1 of
the largest eigenvalue, L2-normalised) on NAME's whole store and writes every video's whitened
vectors as a store of its own, ``embeddings/white:NAME/``, with the same metadata rows. Search,
index, discovery and evaluation read it like any other store, unchanged.

Beside it: ``whitening.npz`` (the fitted state, written atomically) and a manifest whose
``checkpoint_hash`` digests the whitening and NAME's identity, and whose ``fitted_on`` records
which of NAME's videos it was fitted on. An image query on the store is embedded with NAME (its
manifest is nested under ``base``) and then whitened with the saved state
(``WhitenedEmbedder``, rebuilt by ``embedder.registry.embedder_from_manifest``).

Up to date: when NAME's store has gained or lost videos (or NAME's identity changed) since the
fit, the next ``vidsift embed -e white:NAME`` refits and rewrites every shard; the new
``checkpoint_hash`` makes an index built on the old whitening refuse to load ("rebuild") instead of
mixing two whitenings. ``whitened_status`` says whether a derived store is stale.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.atomic import atomic_write_bytes
from vidsift.embedder.base import Embedder
from vidsift.embedder.store import (
    IDENTITY_KEYS,
    MANIFEST,
    SHARDS,
    finished_videos,
    iter_store,
    load_store,
    read_manifest,
    remove_shard,
    shard_paths,
    write_manifest,
    write_shard,
)
from vidsift.embedder.whitening import PCAWhitening, collapse_report
from vidsift.errors import BadInputError, WorkspaceError

PREFIX = "white:"
WHITENING_FILE = "whitening.npz"
#: rows the whitening is fitted on at most (a seeded sample of a larger store)
FIT_MAX_ROWS = 200_000


def is_whitened(name: str) -> bool:
    return str(name).strip().startswith(PREFIX)


def base_name(name: str) -> str:
    """``white:NAME`` -> ``NAME``.

    Raises:
        BadInputError: nothing after the prefix.
    """
    base = str(name).strip()[len(PREFIX) :].strip()
    if not base:
        raise BadInputError(f"embedder {name!r}: name the store to whiten, e.g. white:pixels or white:ckpt:infonce-cpu")
    return base


class WhitenedEmbedder(Embedder):
    """NAME's embedder followed by a saved ``PCAWhitening``: how image queries on a ``white:``
    store are embedded. ``dim`` is the whitening's number of components."""

    kind = "whitened"

    def __init__(self, name: str, base: Embedder, whitening: PCAWhitening, path: str | Path | None = None) -> None:
        self.name = name
        self.base = base
        self.whitening = whitening
        self.path = Path(path) if path is not None else None
        self.dim = int(whitening.components_.shape[0])
        self.unit, self.input_size, self.clip_len = base.unit, tuple(base.input_size), base.clip_len
        self.layer, self.batch_size = base.layer, base.batch_size
        self.checkpoint_hash = _identity_hash(whitening, base.manifest())
        self.preprocessing = (
            f"{base.preprocessing}; centring + PCA-whitening ({self.dim} dims, eps {whitening.eps:g}) "
            f"fitted on the store of {base.name}, L2-normalised"
        )

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        return self.whitening.transform(self.base.embed(batch))

    def to_device(self) -> None:
        self.base.to_device()

    def _manifest_extra(self) -> dict[str, Any]:
        return {"base": self.base.manifest(), "whiten_eps": float(self.whitening.eps),
                "source": str(self.path) if self.path else None}


def _identity_hash(whitening: PCAWhitening, base_manifest: dict[str, Any]) -> str:
    ident = {k: base_manifest.get(k) for k in IDENTITY_KEYS}
    return hashlib.sha256((whitening.digest() + json.dumps(ident, sort_keys=True)).encode()).hexdigest()


def load_whitened(name: str, ws: Any, base: Embedder, manifest: dict[str, Any] | None = None) -> WhitenedEmbedder:
    """The ``white:`` embedder of workspace ``ws`` (its saved whitening), on top of ``base``.

    Raises:
        WorkspaceError: the whitening was never fitted here, or is gone.
    """
    path = ws.embeddings(name) / WHITENING_FILE if ws is not None else None
    if (path is None or not path.is_file()) and manifest and manifest.get("source"):
        path = Path(manifest["source"])
    if path is None or not path.is_file():
        raise WorkspaceError(
            f"{name}: no fitted whitening ({path}); run `vidsift embed FOLDER --embedder {name}` first"
        )
    return WhitenedEmbedder(name, base, PCAWhitening.load(path), path)


def _fingerprint(base_manifest: dict[str, Any], ids: set[str]) -> dict[str, Any]:
    h = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()
    return {"base": {k: base_manifest.get(k) for k in IDENTITY_KEYS}, "videos": len(ids), "videos_sha256": h}


def whitened_status(ws: Any, name: str) -> dict[str, Any]:
    """Whether ``white:NAME``'s store is up to date with NAME's: ``{"exists", "stale", "reason"}``."""
    d, bd = ws.embeddings(name), ws.embeddings(base_name(name))
    if not (d / MANIFEST).is_file():
        return {"exists": False, "stale": True, "reason": "not derived yet"}
    if not (bd / MANIFEST).is_file():
        return {"exists": True, "stale": True, "reason": f"the store of {base_name(name)!r} is gone"}
    now = _fingerprint(read_manifest(bd), finished_videos(bd))
    was = read_manifest(d).get("fitted_on")
    if was != now:
        n = was.get("videos") if isinstance(was, dict) else "?"
        return {"exists": True, "stale": True,
                "reason": f"the store of {base_name(name)!r} changed since the fit ({n} -> {now['videos']} videos "
                          "or another embedder); rerun `vidsift embed --embedder " + name + "` to refit"}
    if not (d / WHITENING_FILE).is_file():
        return {"exists": True, "stale": True, "reason": "the whitening file is missing"}
    return {"exists": True, "stale": False, "reason": ""}


def _fit_sample(base_dir: Path, seed: int = 0) -> np.ndarray:
    """The base store's vectors, or a seeded sample of ``FIT_MAX_ROWS`` rows of a larger one."""
    total = len(load_store(base_dir, with_vectors=False))
    if total <= FIT_MAX_ROWS:
        return load_store(base_dir).vectors
    pick = np.sort(np.random.default_rng(seed).choice(total, FIT_MAX_ROWS, replace=False))
    out, start = [], 0
    for part in iter_store(base_dir):
        stop = start + len(part)
        sel = pick[(pick >= start) & (pick < stop)] - start
        out.append(part.vectors[sel])
        start = stop
    return np.concatenate(out)


def derive(ws: Any, name: str, base_embedder: Callable[[dict[str, Any]], Embedder]) -> dict[str, Any]:
    """Fit (when stale) and write the store of ``white:NAME`` from NAME's finished store.

    ``base_embedder`` rebuilds NAME's embedder from its store's manifest (for the derived
    manifest). The caller holds the ``embed-white:NAME`` job lock. Returns what it did: ``refit`` (bool),
    ``written`` / ``removed`` / ``kept`` (video ids), ``dim``, ``fitted_rows``.

    Raises:
        WorkspaceError: NAME has no store or no finished video; NaN vectors; a write that fails.
    """
    base = base_name(name)
    d, bd = ws.embeddings(name), ws.embeddings(base)
    base_manifest = read_manifest(bd)
    ids = finished_videos(bd)
    if not ids:
        raise WorkspaceError(f"{bd}: the store of {base!r} has no finished video to fit the whitening on")
    status = whitened_status(ws, name)
    out: dict[str, Any] = {"refit": status["stale"], "reason": status["reason"], "written": [], "removed": [],
                           "kept": [], "fitted_rows": 0}
    if status["stale"]:
        X = _fit_sample(bd)
        if len(X) < 2:
            raise WorkspaceError(f"{bd}: the store of {base!r} holds {len(X)} vector(s); whitening needs at least 2")
        w = PCAWhitening().fit(X)
        out["fitted_rows"] = len(X)
        # old shards were whitened with another fit: remove them first, so that a kill below
        # leaves a store the next run refits (its manifest still records the old fingerprint)
        if (d / SHARDS).is_dir():
            shutil.rmtree(d / SHARDS)
        try:
            d.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(d / WHITENING_FILE, w.to_bytes())
        except OSError as exc:
            raise WorkspaceError(f"{d}: cannot save the whitening ({exc.strerror or exc})") from None
        emb = WhitenedEmbedder(name, base_embedder(base_manifest), w, d / WHITENING_FILE)
        manifest = {**emb.manifest(), "sampling": base_manifest.get("sampling"), "time": base_manifest.get("time"),
                    "fitted_on": _fingerprint(base_manifest, ids)}
        write_manifest(d, manifest)
    else:
        w = PCAWhitening.load(d / WHITENING_FILE)
    have = finished_videos(d)
    for vid in sorted(have - ids):  # gone from NAME's store
        remove_shard(d, vid)
        out["removed"].append(vid)
    for vid in sorted(ids):
        if vid in have:
            out["kept"].append(vid)
            continue
        data = load_store(bd, [vid])
        write_shard(d, vid, data.meta, w.transform(data.vectors))
        out["written"].append(vid)
    out["dim"] = int(w.components_.shape[0])
    return out


def derive_into(report: Any, ws: Any, name: str, base_embedder: Callable[[dict[str, Any]], Embedder]) -> Any:
    """Derive ``white:NAME`` (``derive``) after ``report``, the ``ExtractReport`` of embedding the
    folder with NAME, and turn that report into the derived store's. The caller holds the
    ``embed-white:NAME`` job lock; ``base_embedder`` rebuilds NAME from its store's manifest."""
    did = derive(ws, name, base_embedder)
    paths = shard_paths(ws.embeddings(name), did["written"] + did["kept"])
    report.embedder, report.store, report.dim = name, str(ws.embeddings(name)), did["dim"]
    report.done = [paths.get(v, v) for v in did["written"]]
    report.skipped = [paths.get(v, v) for v in did["kept"]]
    report.derived = {"from": base_name(name), **{k: did[k] for k in ("refit", "reason", "fitted_rows")},
                      "removed": did["removed"]}
    if did["written"]:
        ids = sorted(finished_videos(ws.embeddings(name)))[:64]
        report.collapse = collapse_report(load_store(ws.embeddings(name), ids).vectors)
    return report


__all__ = ["FIT_MAX_ROWS", "PREFIX", "WHITENING_FILE", "WhitenedEmbedder", "base_name", "derive",
           "derive_into", "is_whitened", "load_whitened", "whitened_status"]
