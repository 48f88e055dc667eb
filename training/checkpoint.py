"""Checkpoints: weights + frozen config + optimiser + RNG + metrics in one file (decision 4).

A checkpoint is a plain dict saved with ``torch.save`` and always read back with
``torch.load(..., weights_only=True)``: everything in it is tensors, numbers, strings, lists and
dicts, so loading never runs pickled code. Layout (``FORMAT_VERSION`` 1):

    {"format_version": 1, "method": "siamese", "config": TrainConfig.to_dict(),
     "model": state_dict, "optimizer": state_dict | None, "step": int,
     "rng": {"torch": ByteTensor, "cuda": [ByteTensor...], "numpy": {...}, "python": [...]},
     "metrics": {"loss": ..., ...}, "vidsift_version": "0.1.0"}

Files are written atomically (a crash leaves the previous checkpoint) and ``config.json`` with the
same config is written beside them for people and other tools. ``load_model`` rebuilds the model
from the stored config alone (nanoGPT style), so a checkpoint is self-contained.
"""

from __future__ import annotations

import hashlib
import pickle
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vidsift.atomic import atomic_path, atomic_write_json
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.training.config import TrainConfig
from vidsift.workspace import RunDir

FORMAT_VERSION = 1


# -- RNG state as weights_only-loadable data --------------------------------------------------
def rng_state() -> dict[str, Any]:
    """The torch / CUDA / numpy / python global RNG states, as tensors, lists and numbers."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": [int(version), [int(v) for v in internal], gauss],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of ``rng_state``. Works whatever device the checkpoint was loaded to: generator
    states must be CPU byte tensors (a ``map_location="cuda"`` load moves them to the GPU)."""
    torch.set_rng_state(state["torch"].cpu())
    npst = state["numpy"]
    np.random.set_state(
        (
            npst["kind"],
            npst["keys"].cpu().numpy().astype(np.uint32),
            int(npst["pos"]),
            int(npst["has_gauss"]),
            float(npst["cached_gaussian"]),
        )
    )
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        cuda = [t.cpu() for t in state["cuda"]]
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


def bare_model(model: nn.Module) -> nn.Module:
    """The module under DDP / torch.compile wrappers."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, nn.Module):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def _plain(obj: Any) -> Any:
    """Metrics as plain numbers/strings/lists (numpy scalars and tensors converted)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, torch.Tensor) and obj.numel() == 1:
        return obj.item()
    return obj


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    step: int,
    cfg: TrainConfig,
    metrics: dict[str, Any] | None = None,
    rng_state: dict[str, Any] | None = None,
) -> Path:
    """Write the checkpoint atomically, and ``config.json`` beside it; returns ``path``."""
    from vidsift import __version__ as version

    path = Path(path)
    state = {k: v.detach().cpu() for k, v in bare_model(model).state_dict().items()}
    payload = {
        "format_version": FORMAT_VERSION,
        "method": cfg.method,
        "config": cfg.to_dict(),
        "model": state,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "step": int(step),
        "rng": rng_state if rng_state is not None else globals()["rng_state"](),
        "metrics": _plain(dict(metrics or {})),
        "vidsift_version": str(version),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    atomic_write_json(RunDir(path.parent).config, cfg.to_dict())
    return path


def load_checkpoint(
    path: str | Path, method: str | None = None, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint (``weights_only=True``) and check it; ``WorkspaceError`` otherwise.

    ``method``: refuse a checkpoint trained with another method.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkspaceError(f"{path}: no checkpoint there; train first (vidsift train ...)")
    try:
        ck = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkspaceError(
            f"{path}: not a vidsift checkpoint: it holds pickled Python objects, which are never "
            f"loaded ({first[:160]})"
        ) from None
    except Exception as exc:  # not a torch file at all, truncated zip, ...
        raise WorkspaceError(
            f"{path}: not a vidsift checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''})"
        ) from None
    if not isinstance(ck, dict) or "format_version" not in ck or "config" not in ck:
        raise WorkspaceError(f"{path}: not a vidsift checkpoint (no format_version/config)")
    version = ck["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise WorkspaceError(
            f"{path}: checkpoint format {version} was written by a newer vidsift "
            f"(this one reads up to {FORMAT_VERSION}); upgrade vidsift"
        )
    if method is not None and ck.get("method") != method:
        raise WorkspaceError(
            f"{path}: checkpoint is for {ck.get('method')!r}, not {method!r}; "
            f"use a checkpoint of {method!r} or pick method {ck.get('method')!r}"
        )
    return ck


def config_of(ck: dict[str, Any], path: str | Path = "checkpoint") -> TrainConfig:
    try:
        return TrainConfig.from_dict(ck["config"])
    except (BadInputError, TypeError) as exc:
        raise WorkspaceError(f"{path}: stored config cannot be read: {exc}") from None


@dataclass
class LoadedModel:
    method: Any  # training.methods.base.Method
    cfg: TrainConfig
    model: nn.Module
    step: int
    sha256: str
    metrics: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.cfg.method


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_model(
    path: str | Path, map_location: str | torch.device = "cpu", method: str | None = None
) -> LoadedModel:
    """Rebuild the exact trained model from the checkpoint's config and weights (eval mode)."""
    from vidsift.training.registry import get_method

    ck = load_checkpoint(path, method=method, map_location=map_location)
    cfg = config_of(ck, path)
    try:
        m = get_method(cfg.method)
    except BadInputError as exc:
        raise WorkspaceError(f"{path}: {exc}") from None
    model = m.build_model(cfg)
    try:
        model.load_state_dict(ck["model"])
    except RuntimeError as exc:
        raise WorkspaceError(
            f"{path}: weights do not fit the model its config describes ({str(exc).splitlines()[0]})"
        ) from None
    model.to(map_location).eval()
    return LoadedModel(
        method=m, cfg=cfg, model=model, step=int(ck["step"]), sha256=file_sha256(path),
        metrics=ck.get("metrics"),
    )
