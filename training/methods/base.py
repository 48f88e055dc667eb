"""The ``Method`` base class: everything the trainer, the embedder and the CLI need from a method.

A method bundles a model, a loss, a sampler (dataset), an optimiser, presets and the way frames
are turned into network input. The trainer runs one loop for all of them:

    cfg = method.config("cpu", steps=300)            # preset + overrides -> TrainConfig
    method.params(cfg).margin                        # typed hyper-parameters (method.Params)
    model, loss_fn = method.build_model(cfg), method.build_loss(cfg)
    method.init_from_data(model, cfg, source)        # e.g. fit ZCA (fresh runs only)
    for batch in DataLoader(method.build_dataset(cfg, source), batch_size=None):
        method.begin_step(model, loss_fn, step, cfg)  # e.g. greedy layer switch
        loss, metrics = method.step(model, loss_fn, batch)

Rules every method follows (so DDP, AMP and resume work the same for all):

* ``build_dataset`` returns an ``IterableDataset`` whose ``__iter__`` decodes frames and yields
  whole batches (dict of tensors, already ``preprocess``-ed); the trainer uses
  ``DataLoader(batch_size=None)``. Randomness comes only from ``training.data.rng`` seeded with
  ``cfg.seed``, the worker and the step offset, so a resumed run continues the same stream.
* ``step`` calls ``model(...)`` once (the DDP wrapper only syncs gradients through ``forward``);
  it must not move tensors between devices (the trainer already did).
* ``build_model(cfg)`` depends on ``cfg`` alone: ``training.checkpoint.load_model`` rebuilds the
  model from the config stored in the checkpoint, then loads the weights (buffers such as a ZCA
  matrix live in the state dict).
* ``features(model, x, layer)`` is for inference on the bare (unwrapped) model.

Hyper-parameters: ``Params`` is a frozen dataclass, one per method, in the method's module;
its defaults are the paper's values. ``PRESETS["paper"]`` gives the paper's run settings
(``TrainConfig`` fields), and every other preset (``cpu``) only what it changes from ``paper``:
``TrainConfig`` fields and hyper-parameter names side by side, as ``config`` takes overrides.

To add a method: subclass, set the class attributes, and add one line
``("vidsift.training.methods.my_module", "MyMethod")`` to ``training/registry.py``.
"""

from __future__ import annotations

import dataclasses
from abc import ABCMeta, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from vidsift.errors import BadInputError
from vidsift.training.config import PRESETS, TrainConfig, build_params, in_presets

if TYPE_CHECKING:  # pragma: no cover
    from vidsift.training.data.source import FrameSource


class Method(metaclass=ABCMeta):
    NAME: str = ""
    DESCRIPTION: str = ""
    UNIT: str = "frame"  # "frame" | "clip"
    LAYERS: tuple[str, ...] = ()
    DEFAULT_LAYER: str = ""
    #: what one training sample is ("pair", "quadruplet", ...), shown by ``vidsift methods``
    SAMPLE: str = ""
    #: DDP must look for parameters without gradients (e.g. greedy layer-wise training)
    FIND_UNUSED_PARAMETERS: bool = False
    #: the method's hyper-parameters: a frozen dataclass whose defaults are the paper's values
    #: (``None``: untyped, names taken from the presets' ``"params"`` dicts, read with ``cfg.p``)
    Params: ClassVar[type | None] = None
    #: preset name -> settings. ``"paper"``: the paper's run (``TrainConfig`` fields; its
    #: hyper-parameters are the ``Params`` defaults); any other preset: what it changes from
    #: ``"paper"``. Keys that are not ``TrainConfig`` fields (or a ``"params"`` dict) set
    #: hyper-parameters, as in ``config``.
    PRESETS: dict[str, dict[str, Any]] = {"cpu": {}, "paper": {}}

    # -- configuration -----------------------------------------------------------------------
    def config(self, preset: str = "cpu", **overrides: Any) -> TrainConfig:
        """The preset's config with ``overrides`` applied.

        Keys that are ``TrainConfig`` fields set the field; any other key (or a ``params``
        dict) sets a method hyper-parameter, e.g. ``method.config("cpu", steps=50, margin=2.0)``.
        ``None`` values are ignored so CLI options that were not given do not override. Unknown
        hyper-parameter names and values of the wrong type raise ``BadInputError``.
        """
        if preset not in self.PRESETS:
            raise BadInputError(
                f"unknown preset {preset!r} for {self.NAME!r}; use one of {', '.join(self.PRESETS) or ', '.join(PRESETS)}"
            )
        given = {k: v for k, v in overrides.items() if v is not None}
        layers = [self.PRESETS[preset], given]
        if preset != "paper":
            layers.insert(0, self.PRESETS.get("paper", {}))
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        fields_: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for layer in layers:
            for key, value in layer.items():
                if key == "params":
                    params.update(dict(value))
                elif key in names:
                    fields_[key] = value
                else:
                    params[key] = value
        fields_.pop("method", None)
        fields_.pop("preset", None)
        cfg = TrainConfig(
            method=self.NAME, preset=preset, params=self._stored_params(params), **fields_
        )
        self.validate_config(cfg)
        return cfg

    def _stored_params(self, given: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        """What a config stores: every ``Params`` field (typed) except those the presets leave
        unset and nobody gave; untyped methods store ``given`` as it is."""
        if self.Params is None:
            unknown = set(given) - set(self.known_params())
            if self.known_params() and unknown:
                raise BadInputError(
                    f"unknown parameter(s) {sorted(unknown)} for {self.NAME!r}; "
                    f"known: {', '.join(sorted(self.known_params()))}"
                )
            return tuple(given.items())
        typed = build_params(self.Params, given, self.NAME)
        return tuple(
            (f.name, getattr(typed, f.name))
            for f in dataclasses.fields(self.Params)
            if in_presets(f) or f.name in given
        )

    def params(self, cfg: TrainConfig) -> Any:
        """``cfg``'s hyper-parameters as this method's ``Params`` (names the config does not
        store get the ``Params`` defaults); ``BadInputError`` for unknown names or bad values."""
        if self.Params is None:
            raise TypeError(f"method {self.NAME!r} has no typed Params; read cfg.p(name)")
        return build_params(self.Params, dict(cfg.params), self.NAME)

    def known_params(self) -> tuple[str, ...]:
        """Hyper-parameter names this method reads (empty: accept anything)."""
        if self.Params is not None:
            return tuple(sorted(f.name for f in dataclasses.fields(self.Params)))
        names: set[str] = set()
        for preset in self.PRESETS.values():
            names.update(preset.get("params", {}))
        return tuple(sorted(names))

    def validate_config(self, cfg: TrainConfig) -> None:  # noqa: B027 - optional hook
        """Raise ``BadInputError`` for a config this method cannot train with."""

    # -- building blocks (subclasses implement) ----------------------------------------------
    @abstractmethod
    def build_model(self, cfg: TrainConfig) -> nn.Module:
        ...

    @abstractmethod
    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        ...

    @abstractmethod
    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> torch.utils.data.IterableDataset:
        ...

    @abstractmethod
    def step(
        self, model: nn.Module, loss_fn: nn.Module, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        ...

    def preprocess(self, frames: np.ndarray, cfg: TrainConfig) -> torch.Tensor:
        """uint8 [N,H,W,3] (or [N,T,H,W,3]) -> float network input; default: [0,1] then
        per-channel standardisation with ImageNet statistics, channels first."""
        x = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(255.0)
        x = x.movedim(-1, -3) if self.UNIT == "frame" else x.permute(0, 4, 1, 2, 3)
        shape = (1, 3, 1, 1) if self.UNIT == "frame" else (1, 3, 1, 1, 1)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(shape)
        std = torch.tensor([0.229, 0.224, 0.225]).view(shape)
        return ((x - mean) / std).contiguous()

    @abstractmethod
    def features(self, model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        ...

    # -- optional hooks ----------------------------------------------------------------------
    def build_optimizer(self, model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
        params = [p for p in model.parameters() if p.requires_grad]
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(
                params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
            )
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    def init_from_data(self, model: nn.Module, cfg: TrainConfig, source: FrameSource) -> None:  # noqa: B027 - optional hook
        """Fit data-dependent buffers (e.g. ZCA) before step 0 of a fresh run."""

    def begin_step(self, model: nn.Module, loss_fn: nn.Module, step: int, cfg: TrainConfig) -> None:  # noqa: B027 - optional hook
        """Called before every step (0-based) with the bare model, e.g. to switch greedy phases."""

    def after_step(self, model: nn.Module, step: int, cfg: TrainConfig) -> None:  # noqa: B027 - optional hook
        """Called after every optimiser step (0-based) with the bare model, e.g. to project
        weights back onto a constraint set."""

    def check_layer(self, layer: str | None) -> str:
        """``layer`` (or the default) if this method has it, else ``BadInputError``."""
        layer = layer or self.DEFAULT_LAYER
        if layer not in self.LAYERS:
            raise BadInputError(
                f"method {self.NAME!r} has no layer {layer!r}; use one of {', '.join(self.LAYERS)}"
            )
        return layer

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.NAME,
            "unit": self.UNIT,
            "sample": self.SAMPLE,
            "layers": list(self.LAYERS),
            "default_layer": self.DEFAULT_LAYER,
            "presets": list(self.PRESETS),
            "description": self.DESCRIPTION,
        }

    def __repr__(self) -> str:
        return f"<method {self.NAME}>"


def as_tuple(value: Sequence[int] | int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value),)
