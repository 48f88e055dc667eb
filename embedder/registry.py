"""Embedder names -> embedders, and back from a store's manifest.

Names (``vidsift embedders`` lists what this workspace offers)::

    pixels | pixels@S          raw RGB at S x S (default 16 -> 768 floats in [0, 1])
    zca | zca@S                ZCA-whitened pixels, fitted on the catalogued videos
    random:METHOD[@LAYER]      METHOD's network at a fixed-seed random init (cpu preset)
    ckpt:NAME[@LAYER]          the workspace checkpoint checkpoints/NAME/last.pt
    PATH/TO/FILE.pt[@LAYER]    any checkpoint file
    A+B[+C...]                 ensemble: L2-normalised features of A, B, ... concatenated
    white:NAME                 NAME's store centred + PCA-whitened (a derived store; fitted by
                               ``vidsift embed FOLDER -e white:NAME``, see embedder.whitened_store)

Example::

    emb = get_embedder("random:siamese@fc7", ws)
    vecs = emb.embed(frames)                        # uint8 [N, 64, 64, 3] -> float32 [N, 128]
    same = embedder_from_manifest(emb.manifest(), ws)
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.embedder.base import Embedder
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.workspace import Workspace

FORMS = (
    "pixels, pixels@S (e.g. pixels@32), zca, zca@S, random:METHOD[@LAYER], ckpt:NAME[@LAYER] "
    "(a checkpoint in the workspace), PATH/TO/checkpoint.pt[@LAYER], A+B (ensemble), "
    "white:NAME (NAME's store centred + PCA-whitened; vidsift embed FOLDER -e white:NAME)"
)


def _split_layer(spec: str) -> tuple[str, str | None]:
    if "@" in spec:
        base, layer = spec.rsplit("@", 1)
        if layer and "/" not in layer and os.sep not in layer:
            return base, layer
    return spec, None


def _side(name: str, prefix: str, default: int) -> int:
    if name == prefix:
        return default
    raw = name[len(prefix) + 1 :]
    try:
        return int(raw)
    except ValueError:
        raise BadInputError(f"embedder {name!r}: the size after '@' must be an integer, e.g. {prefix}@32") from None


def _as_ws(ws: Workspace | str | Path | None) -> Workspace | None:
    if ws is None or isinstance(ws, Workspace):
        return ws
    return Workspace.at(ws)


def _looks_like_path(spec: str) -> bool:
    return spec.endswith((".pt", ".pth")) or "/" in spec or os.sep in spec or Path(spec).expanduser().is_file()


def workspace_checkpoints(ws: Workspace | None) -> list[str]:
    """Names ``NAME`` with a ``checkpoints/NAME/last.pt`` in the workspace."""
    if ws is None:
        return []
    return [r.name for r in ws.runs() if r.has_checkpoint]


def get_embedder(
    name: str | dict[str, Any],
    ws: Workspace | str | Path | None = None,
    *,
    batch_size: int | None = None,
    device: str | None = None,
) -> Embedder:
    """The embedder called ``name`` (or the one a store's manifest describes, when a dict).

    Raises:
        BadInputError: an unknown name (the message lists the valid forms), a bad size or layer.
        WorkspaceError: a checkpoint that is missing or does not load.
    """
    if isinstance(name, dict):
        return embedder_from_manifest(name, ws, device=device, batch_size=batch_size)
    ws = _as_ws(ws)
    spec = str(name).strip()
    if not spec:
        raise BadInputError(f"empty embedder name; valid forms: {FORMS}")
    kw: dict[str, Any] = {"batch_size": batch_size} if batch_size else {}

    if spec.startswith("white:"):  # before "+": white:A+B whitens the ensemble A+B
        from vidsift.embedder.whitened_store import base_name, load_whitened

        base = get_embedder(base_name(spec), ws, batch_size=batch_size, device=device)
        return load_whitened(spec, ws, base)

    if "+" in spec and not Path(spec).expanduser().exists():
        from vidsift.embedder.ensemble import EnsembleEmbedder

        parts = [p.strip() for p in spec.split("+")]
        if any(not p for p in parts):
            raise BadInputError(f"embedder {spec!r}: an ensemble is NAME+NAME (e.g. pixels+random:siamese)")
        return EnsembleEmbedder(spec, [get_embedder(p, ws, batch_size=batch_size, device=device) for p in parts])

    if spec == "pixels" or spec.startswith("pixels@"):
        from vidsift.embedder.baselines import DEFAULT_PIXELS, PixelsEmbedder

        return PixelsEmbedder(_side(spec, "pixels", DEFAULT_PIXELS), name=spec, **kw)

    if spec == "zca" or spec.startswith("zca@"):
        from vidsift.embedder.baselines import DEFAULT_PIXELS, ZCA_FILE, ZCAEmbedder

        path = ws.embeddings(spec) / ZCA_FILE if ws is not None else None
        return ZCAEmbedder(_side(spec, "zca", DEFAULT_PIXELS), name=spec, path=path, **kw)

    if spec.startswith("random:"):
        from vidsift.embedder.network import random_embedder

        method, layer = _split_layer(spec[len("random:") :])
        if not method:
            raise BadInputError(f"embedder {spec!r}: name a method, e.g. random:siamese; {_methods_hint()}")
        return random_embedder(spec, method, layer, device=device, **kw)

    if spec.startswith("ckpt:"):
        from vidsift.embedder.network import checkpoint_embedder

        ckpt, layer = _split_layer(spec[len("ckpt:") :])
        if ws is None:
            raise BadInputError(f"embedder {spec!r} names a workspace checkpoint; give the workspace (-w)")
        path = ws.run(ckpt).checkpoint
        if not path.is_file():
            have = workspace_checkpoints(ws)
            raise WorkspaceError(
                f"{path}: no checkpoint {ckpt!r} in the workspace; "
                + (f"available: {', '.join('ckpt:' + h for h in have)}" if have else "train one first (vidsift train ...)")
            )
        return checkpoint_embedder(spec, path, layer, device=device, **kw)

    if _looks_like_path(spec):
        from vidsift.embedder.network import checkpoint_embedder

        path_s, layer = (spec, None) if Path(spec).expanduser().is_file() else _split_layer(spec)
        return checkpoint_embedder(spec, path_s, layer, device=device, **kw)

    raise BadInputError(f"unknown embedder {spec!r}; valid forms: {FORMS}; {_methods_hint()}")


def _methods_hint() -> str:
    try:
        from vidsift.training.registry import method_names

        return "methods: " + ", ".join(method_names())
    except Exception:  # noqa: BLE001 - the hint is optional
        return "methods: see `vidsift embedders`"


def embedder_from_manifest(
    manifest: dict[str, Any],
    ws: Workspace | str | Path | None = None,
    *,
    device: str | None = None,
    batch_size: int | None = None,
) -> Embedder:
    """Rebuild the embedder that wrote a store, and check that it is still the same one.

    Workspace files (``ckpt:`` checkpoints, the ZCA whitening) are looked up in ``ws`` first, then
    at the absolute ``source`` path the manifest recorded.

    Raises:
        WorkspaceError: its checkpoint / whitening is gone or changed since the store was written.
    """
    from vidsift.embedder.store import check_manifest

    ws = _as_ws(ws)
    name = str(manifest.get("name", ""))
    kind = manifest.get("kind")
    kw: dict[str, Any] = {"batch_size": batch_size} if batch_size else {}
    if kind == "ensemble" and manifest.get("members"):
        from vidsift.embedder.ensemble import EnsembleEmbedder

        emb: Embedder = EnsembleEmbedder(
            name, [embedder_from_manifest(m, ws, device=device, batch_size=batch_size) for m in manifest["members"]]
        )
    elif kind == "whitened" and manifest.get("base"):
        from vidsift.embedder.whitened_store import load_whitened

        base = embedder_from_manifest(manifest["base"], ws, device=device, batch_size=batch_size)
        emb = load_whitened(name, ws, base, manifest)
    elif kind == "pixels":
        from vidsift.embedder.baselines import PixelsEmbedder

        emb = PixelsEmbedder(int(manifest["side"]), name=name, **kw)
    elif kind == "zca":
        from vidsift.embedder.baselines import ZCA_FILE, ZCAEmbedder

        path = ws.embeddings(name) / ZCA_FILE if ws is not None else None
        if (path is None or not path.is_file()) and manifest.get("source"):
            path = Path(manifest["source"])
        if path is None or not path.is_file():
            raise WorkspaceError(f"{name}: the ZCA whitening this store was built with is gone ({path}); re-embed")
        emb = ZCAEmbedder(int(manifest["side"]), name=name, path=path, eps=float(manifest.get("eps", 1e-2)), **kw)
    elif kind == "random":
        from vidsift.embedder.network import random_embedder

        emb = random_embedder(
            name, str(manifest["method"]), manifest.get("layer"), seed=int(manifest.get("seed") or 0),
            preset=str(manifest.get("preset") or "cpu"), device=device, **kw,
        )
    elif kind == "checkpoint":
        from vidsift.embedder.network import checkpoint_embedder

        path: Path | None = None
        if ws is not None and name.startswith("ckpt:"):
            path = ws.run(_split_layer(name[len("ckpt:") :])[0]).checkpoint
        if (path is None or not path.is_file()) and manifest.get("source"):
            path = Path(manifest["source"])
        if path is None or not path.is_file():
            raise WorkspaceError(f"{name}: the checkpoint this store was built with is gone ({path})")
        emb = checkpoint_embedder(name, path, manifest.get("layer"), device=device, **kw)
    else:
        emb = get_embedder(name, ws, batch_size=batch_size, device=device)
    check_manifest(manifest, emb.manifest(), what=f"the store of {name!r}")
    return emb


@functools.lru_cache(maxsize=4)
def _cached(manifest_json: str, ws_root: str | None) -> Embedder:
    emb = embedder_from_manifest(json.loads(manifest_json), Workspace(Path(ws_root)) if ws_root else None)
    emb.to_device()
    return emb


def embed_image(image: Any, manifest: dict[str, Any], ws: Workspace | str | Path | None = None) -> np.ndarray:
    """Embed one image (path, PIL image, uint8 array) as the store's embedder would: float32 [dim].

    The rebuilt embedder is cached (a few per process), so repeated queries do not reload it.
    """
    ws = _as_ws(ws)
    emb = _cached(json.dumps(manifest, sort_keys=True, default=str), str(ws.root) if ws else None)
    return emb.embed_image(image)


def available_embedders(ws: Workspace | str | Path | None = None) -> list[dict[str, Any]]:
    """What ``--embedder`` accepts here: baselines, random inits, workspace checkpoints, stores."""
    ws = _as_ws(ws)
    out: list[dict[str, Any]] = [
        {"name": "pixels", "kind": "pixels", "unit": "frame", "dim": 768,
         "description": "raw RGB at 16x16 in [0, 1]; pixels@S for S x S (dim 3 S^2)"},
        {"name": "zca", "kind": "zca", "unit": "frame", "dim": 768,
         "description": "ZCA-whitened 16x16 pixels, fitted on the catalogued videos; zca@S"},
    ]
    try:
        from vidsift.training.registry import METHODS
    except ImportError:  # pragma: no cover
        METHODS = {}
    for mname, m in METHODS.items():
        out.append({
            "name": f"random:{mname}", "kind": "random", "unit": m.UNIT, "dim": None,
            "layers": list(m.LAYERS), "default_layer": m.DEFAULT_LAYER,
            "description": f"{mname} network at a fixed-seed random init (cpu preset)",
        })
    for ck in workspace_checkpoints(ws):
        run = ws.run(ck)  # type: ignore[union-attr]
        info: dict[str, Any] = {"name": f"ckpt:{run.name}", "kind": "checkpoint", "unit": None, "dim": None,
                                "path": str(run.checkpoint)}
        try:
            method = json.loads(run.config.read_text()).get("method")
            m = METHODS.get(method)
            if m is not None:
                info.update(unit=m.UNIT, layers=list(m.LAYERS), default_layer=m.DEFAULT_LAYER)
            info["description"] = f"trained {method} checkpoint"
        except (OSError, ValueError, AttributeError):
            info["description"] = "checkpoint (config.json unreadable)"
        out.append(info)
    if ws is not None and (ws.root / "embeddings").is_dir():
        from vidsift.embedder.store import MANIFEST, finished_videos

        stores = {}
        for d in sorted((ws.root / "embeddings").iterdir()):
            mf = d / MANIFEST
            if mf.is_file():
                try:
                    man = json.loads(mf.read_text())
                except (OSError, ValueError):
                    continue
                stores[man.get("name")] = {"dim": man.get("dim"), "videos": len(finished_videos(d)), "store": str(d)}
        for e in out:
            if e["name"] in stores:
                e["stored"] = stores.pop(e["name"])
        for sname, s in stores.items():
            out.append({"name": sname, "kind": "store", "unit": None, "dim": s["dim"], "stored": s,
                        "description": "embedded store in this workspace"})
    return out
