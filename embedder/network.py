"""Embedders backed by a training method's network: a trained checkpoint or a random init.

``features = method.features(model, method.preprocess(frames, cfg), layer)`` under
``torch.inference_mode``, on CUDA when available, in batches of ``batch_size``. Networks with
convolutions run channels-last (``memory_format``): oneDNN's convolutions are 1.2-2x faster on
it than on channels-first tensors (AlexNet 1.2x, the small ResNet 1.35x, C3D 2x, one CPU
thread, ``docs/perf_decoding.md``); the values agree to float32 rounding. The random-init
baseline builds the method's model with a fixed seed (``torch.manual_seed(seed)`` in a forked RNG
state, so the caller's RNG is untouched): the same name gives the same weights on every machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vidsift.embedder.base import Embedder
from vidsift.errors import BadInputError, WorkspaceError

RANDOM_SEED = 0


def best_device(device: str | None = None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def memory_format_for(model: Any) -> Any:
    """``torch.channels_last(_3d)`` for a network with 2-D (3-D) convolutions, else ``None``
    (dense-only networks gain nothing from it)."""
    import torch
    from torch import nn

    kinds = {type(m) for m in model.modules()}
    if nn.Conv3d in kinds:
        return torch.channels_last_3d
    if nn.Conv2d in kinds:
        return torch.channels_last
    return None


class NetworkEmbedder(Embedder):
    """A method's network (trained or random) at one layer."""

    def __init__(
        self,
        name: str,
        method: Any,
        cfg: Any,
        model: Any,
        layer: str | None,
        kind: str,
        checkpoint_hash: str | None = None,
        source: str | None = None,
        step: int | None = None,
        seed: int | None = None,
        device: str | None = None,
        batch_size: int = 64,
    ) -> None:
        self.name = name
        self.method = method
        self.cfg = cfg
        self.memory_format = memory_format_for(model)
        self.model = model.eval() if self.memory_format is None else model.eval().to(memory_format=self.memory_format)
        try:
            self.layer = method.check_layer(layer)
        except BadInputError as exc:
            raise BadInputError(f"embedder {name!r}: {exc}") from None
        self.kind = kind
        self.checkpoint_hash = checkpoint_hash
        self.source = source
        self.step = step
        self.seed = seed
        self.unit = method.UNIT
        self.input_size = (int(cfg.input_size[0]), int(cfg.input_size[1]))
        self.clip_len = int(cfg.clip_len) if self.unit == "clip" else 1
        self.batch_size = int(batch_size)
        self.device = "cpu"
        self._want_device = device
        self.preprocessing = f"method {method.NAME} preprocess at {self.input_size[0]}x{self.input_size[1]}" + (
            f", clips of {self.clip_len}" if self.unit == "clip" else ""
        )
        self.dim = int(self._embed(self._dummy()).shape[1])

    def _dummy(self) -> np.ndarray:
        h, w = self.input_size
        shape = (1, h, w, 3) if self.unit == "frame" else (1, self.clip_len, h, w, 3)
        return np.zeros(shape, np.uint8)

    def to_device(self) -> None:
        dev = best_device(self._want_device)
        if dev != self.device:
            self.model.to(dev)
            self.device = dev

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            x = self.method.preprocess(batch, self.cfg)
            if self.memory_format is not None:
                x = x.contiguous(memory_format=self.memory_format)
            if self.device != "cpu":
                x = x.pin_memory().to(self.device, non_blocking=True)
            f = self.method.features(self.model, x, self.layer)
            return f.float().reshape(len(batch), -1).cpu().numpy()

    def _manifest_extra(self) -> dict[str, Any]:
        return {
            "method": self.method.NAME,
            "preset": getattr(self.cfg, "preset", None),
            "source": self.source,
            "step": self.step,
            "seed": self.seed,
        }


def random_embedder(
    name: str, method_name: str, layer: str | None = None, seed: int = RANDOM_SEED,
    preset: str = "cpu", device: str | None = None, batch_size: int = 64,
) -> NetworkEmbedder:
    """The method's network at a seeded random init (the 'random' baseline)."""
    import torch

    from vidsift.training.registry import get_method

    try:
        method = get_method(method_name)
    except BadInputError as exc:
        raise BadInputError(f"embedder {name!r}: {exc}") from None
    cfg = method.config(preset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = method.build_model(cfg)
    return NetworkEmbedder(
        name, method, cfg, model, layer, kind="random", checkpoint_hash=f"random-init:{method.NAME}:{preset}:seed{seed}",
        seed=seed, device=device, batch_size=batch_size,
    )


def checkpoint_embedder(
    name: str, path: str | Path, layer: str | None = None, device: str | None = None, batch_size: int = 64,
) -> NetworkEmbedder:
    """A trained checkpoint (``training.checkpoint.load_model``) at ``layer``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WorkspaceError(f"{path}: no checkpoint there; train first (vidsift train ...) or check the name")
    try:
        from vidsift.training.checkpoint import load_model
    except ImportError as exc:  # pragma: no cover - training is part of the package
        raise BadInputError(f"checkpoint embedders need the training package ({exc})") from exc
    try:
        loaded = load_model(path)
    except (WorkspaceError, BadInputError):
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to load is one line for the user
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise WorkspaceError(f"{path}: cannot load checkpoint ({type(exc).__name__}: {first})") from None
    return NetworkEmbedder(
        name, loaded.method, loaded.cfg, loaded.model, layer, kind="checkpoint",
        checkpoint_hash=loaded.sha256, source=str(path.resolve()), step=loaded.step,
        device=device, batch_size=batch_size,
    )
