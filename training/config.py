"""The frozen run configuration that every checkpoint carries (design decision 4).

``TrainConfig`` is the whole recipe of a run: the method, its preset, the seed, the optimiser,
the network input size, method hyper-parameters (``params``) and the catalog ids of the videos
it was trained on. ``to_dict`` gives plain JSON-able data (lists, numbers, strings) so it can be
stored inside a checkpoint that ``torch.load(..., weights_only=True)`` reads back, and
``from_dict`` rebuilds an equal config (tuples survive the round trip).

Method hyper-parameters are typed: each method declares a frozen dataclass of them (e.g.
``training.methods.siamese.SiameseParams``) whose defaults are the paper's values, and reads
``method.params(cfg).margin``. The config stores them as sorted ``(name, value)`` pairs (the
format every checkpoint already has); ``build_params`` turns those pairs (or a user's
``--param`` values) into the dataclass, refusing unknown names and converting or refusing values
of the wrong type.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from vidsift.errors import BadInputError

OPTIMIZERS = ("sgd", "adam", "adamw")
LR_SCHEDULES = ("constant", "cosine")  # training.schedule
PRESETS = ("cpu", "paper")


def _freeze(value: Any) -> Any:
    """Lists (from JSON) become tuples, recursively, so configs stay hashable and comparable."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    return value


def _thaw(value: Any) -> Any:
    """Tuples become lists for JSON / weights_only storage."""
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class TrainConfig:
    method: str
    preset: str = "cpu"  # "cpu" | "paper"
    seed: int = 0
    steps: int = 500
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 5e-4
    optimizer: str = "sgd"  # "sgd" | "adam" | "adamw"
    momentum: float = 0.9
    lr_schedule: str = "constant"  # "constant" | "cosine" (``training.schedule``)
    input_size: tuple[int, int] = (64, 64)  # (H, W) fed to the network
    clip_len: int = 1  # frames per sample (C3D: T)
    num_workers: int = 1  # DataLoader workers that decode
    log_every: int = 50
    checkpoint_every: int = 200
    params: tuple[tuple[str, Any], ...] = ()  # method hyper-parameters: method.params(cfg).margin
    data_ids: tuple[str, ...] = ()  # catalog ids of the videos trained on

    def __post_init__(self) -> None:
        # Normalise containers so that configs built from lists / dicts compare equal.
        object.__setattr__(self, "input_size", tuple(int(v) for v in self.input_size))
        object.__setattr__(self, "data_ids", tuple(str(v) for v in self.data_ids))
        params = self.params.items() if isinstance(self.params, dict) else self.params
        object.__setattr__(
            self, "params", tuple(sorted((str(k), _freeze(v)) for k, v in params))
        )
        if len(self.input_size) != 2 or min(self.input_size) <= 0:
            raise BadInputError(f"input_size must be (H, W) with positive sizes, got {self.input_size}")
        if self.steps <= 0:
            raise BadInputError(f"steps must be positive, got {self.steps}")
        if self.batch_size <= 0:
            raise BadInputError(f"batch size must be positive, got {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            raise BadInputError(
                f"unknown optimizer {self.optimizer!r}; use one of {', '.join(OPTIMIZERS)}"
            )
        if self.lr_schedule not in LR_SCHEDULES:
            raise BadInputError(
                f"unknown lr_schedule {self.lr_schedule!r}; use one of {', '.join(LR_SCHEDULES)}"
            )
        if self.clip_len <= 0 or self.num_workers < 0 or self.log_every <= 0:
            raise BadInputError("clip_len and log_every must be positive, num_workers >= 0")
        if self.checkpoint_every <= 0:
            raise BadInputError(f"checkpoint_every must be positive, got {self.checkpoint_every}")

    # -- method hyper-parameters -------------------------------------------------------------
    def p(self, name: str, default: Any = None) -> Any:
        """The stored hyper-parameter ``name`` (``default`` when the config does not set it), untyped.

        Methods read ``method.params(cfg)`` (typed, with the method's defaults) instead."""
        for key, value in self.params:
            if key == name:
                return value
        return default

    @property
    def params_dict(self) -> dict[str, Any]:
        return dict(self.params)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with fields changed; keys that are not fields update ``params``."""
        names = {f.name for f in dataclasses.fields(self)}
        fields_ = {k: v for k, v in changes.items() if k in names}
        extra = {k: v for k, v in changes.items() if k not in names}
        if extra or "params" in fields_:
            merged = dict(self.params)
            given = fields_.pop("params", ())
            merged.update(dict(given.items() if isinstance(given, dict) else given))
            merged.update(extra)
            fields_["params"] = tuple(merged.items())
        return dataclasses.replace(self, **fields_)

    # -- storage -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data (dict / list / str / int / float / bool / None) for JSON and checkpoints."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "params":
                out[f.name] = [[k, _thaw(v)] for k, v in value]
            else:
                out[f.name] = _thaw(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of ``to_dict``; unknown keys are refused so a foreign file is not half-read."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise BadInputError(f"config has unknown fields {unknown}; written by a newer vidsift?")
        kw = dict(data)
        if "params" in kw:
            kw["params"] = tuple((str(k), _freeze(v)) for k, v in kw["params"])
        for key in ("input_size", "data_ids"):
            if key in kw:
                kw[key] = tuple(kw[key])
        return cls(**kw)


# -- typed method hyper-parameters -------------------------------------------------------------

P = TypeVar("P")

#: field metadata of a hyper-parameter that no paper sets, so a config stores it only when a
#: preset or a user gives it (``backbone``: a switch for tests; ``augment`` / ``normalize`` of the
#: AlexNet methods: issue #19's generalisation levers), and configs of older runs stay the same
NOT_IN_PRESETS: Mapping[str, Any] = {"in_presets": False}

_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
_PLURAL_WORDS = {bool: "booleans", int: "whole numbers", float: "numbers", str: "strings"}


def in_presets(f: dataclasses.Field) -> bool:
    """Whether the presets store hyper-parameter ``f`` (see :data:`NOT_IN_PRESETS`)."""
    return bool(f.metadata.get("in_presets", True))


@functools.cache
def param_types(cls: type) -> dict[str, Any]:
    """Field name -> resolved type annotation of the hyper-parameter dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_PLURAL_WORDS.get(args[0], args[0])}"
        return f"a list of {len(args)} {_PLURAL_WORDS.get(args[0], args[0])}"
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    return _TYPE_WORDS.get(hint, str(hint))


def convert_param(value: Any, hint: Any, where: str) -> Any:
    """``value`` as type ``hint`` (bool, int, float, str, ``Literal``, ``tuple[int, ...]`` or
    ``tuple[int, int]``); strings of numbers and whole floats are converted, anything else that
    does not fit raises ``BadInputError`` naming ``where`` (e.g. "siamese parameter margin")."""

    def refuse() -> BadInputError:
        return BadInputError(f"{where} must be {_describe(hint)}, got {value!r}")

    origin = typing.get_origin(hint)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise refuse()
    if hint is int:
        if isinstance(value, bool):
            raise refuse()
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise refuse() from None
        raise refuse()
    if hint is float:
        if isinstance(value, bool):
            raise refuse()
        if isinstance(value, numbers.Real):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise refuse() from None
        raise refuse()
    if hint is str:
        if isinstance(value, str):
            return value
        raise refuse()
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise refuse()
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            raise refuse()
        if len(args) == 2 and args[1] is Ellipsis:
            items = (args[0],) * len(value)
        elif len(value) == len(args):
            items = args
        else:
            raise refuse()
        try:
            return tuple(convert_param(v, t, where) for v, t in zip(value, items, strict=True))
        except BadInputError:
            raise refuse() from None
    raise TypeError(f"{where}: unsupported hyper-parameter type {hint!r}")


def build_params(cls: type[P], values: Mapping[str, Any], owner: str) -> P:
    """The hyper-parameter dataclass ``cls`` with ``values`` set (the rest: its defaults).

    Unknown names raise ``BadInputError`` listing the valid ones; values are converted to each
    field's type (``convert_param``). ``owner`` (the method name) goes into the messages.
    """
    types = param_types(cls)
    unknown = sorted(set(values) - set(types))
    if unknown:
        settings = [
            f.name
            for f in dataclasses.fields(TrainConfig)
            if f.name not in ("method", "preset", "params", "data_ids")
        ]
        raise BadInputError(
            f"unknown parameter(s) {unknown} for {owner!r}; its parameters are "
            f"{', '.join(sorted(types))}; run settings are {', '.join(settings)}"
        )
    return cls(**{k: convert_param(v, types[k], f"{owner} parameter {k}") for k, v in values.items()})


__all__ = [
    "TrainConfig",
    "OPTIMIZERS",
    "PRESETS",
    "NOT_IN_PRESETS",
    "build_params",
    "convert_param",
    "in_presets",
    "param_types",
]
