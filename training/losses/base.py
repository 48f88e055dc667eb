"""Base class and small helpers shared by the embedding losses.

Follows the pytorch-metric-learning layout: the public ``forward`` binds and validates its
inputs (shapes, dtypes, devices) and then calls one ``compute_loss`` that subclasses implement,
so every loss reports a bad call with the same kind of message.
"""

from __future__ import annotations

import math
from abc import ABCMeta, abstractmethod
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

REDUCTIONS = ("mean", "sum", "none")


def check_number(
    owner: str, name: str, value: object, *, minimum: float = 0.0, strict: bool = False
) -> float:
    """Return ``value`` as a float or raise ``ValueError`` saying what a valid value is.

    Raises:
        ValueError: ``value`` is not a finite real number, or is below ``minimum`` (or equal
            to it when ``strict``).
    """
    bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{owner}: {name} must be a finite number {bound}, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        raise ValueError(f"{owner}: {name} must be a finite number {bound}, got {value!r}")
    return value


def check_reduction(owner: str, reduction: object) -> str:
    """Raise ``ValueError`` unless ``reduction`` is one of "mean", "sum", "none"."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{owner}: reduction must be one of {', '.join(map(repr, REDUCTIONS))}, "
            f"got {reduction!r}"
        )
    return str(reduction)


def reduce(values: Tensor, reduction: str) -> Tensor:
    """Apply a "mean" | "sum" | "none" reduction to a per-sample loss vector."""
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def euclidean_distance(a: Tensor, b: Tensor, *, squared: bool, normalize: bool) -> Tensor:
    """Row-wise distance ``||a_i - b_i||`` (or its square), optionally on L2-normalised rows.

    Shapes: ``a``, ``b`` [N, D] -> [N]. The gradient of the (unsquared) norm at ``a_i == b_i`` is
    taken as 0, PyTorch's subgradient for ``vector_norm``.
    """
    if normalize:
        a = F.normalize(a, dim=1)
        b = F.normalize(b, dim=1)
    diff = a - b
    if squared:
        return diff.pow(2).sum(dim=1)
    return torch.linalg.vector_norm(diff, dim=1)


def check_binary_target(owner: str, name: str, target: Tensor, dtype: torch.dtype) -> Tensor:
    """Return ``target`` cast to ``dtype`` after checking every entry is 0 or 1.

    Raises:
        ValueError: an entry is neither 0 nor 1.
    """
    target = target.to(dtype=dtype)
    if bool(((target != 0) & (target != 1)).any()):
        raise ValueError(
            f"{owner}: {name} must hold only 1 (similar pair) and 0 (dissimilar pair); "
            f"got values {torch.unique(target).tolist()[:6]}"
        )
    return target


def shape_str(t: Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


class EmbeddingLoss(nn.Module, metaclass=ABCMeta):
    """Base class: ``forward(*embeddings, *targets)`` validates, then calls ``compute_loss``.

    Subclasses set ``EMBEDDINGS`` (names of the [N, D] float inputs, in positional order) and
    ``TARGETS`` (names of the [N] per-row inputs that follow, mapped to whether they are
    required), and implement ``compute_loss(*embeddings, **targets) -> Tensor``. Arguments may be
    given positionally (embeddings first, then targets in order) or by name.

    Raises:
        TypeError: an argument is missing, unknown, given twice, or not a tensor.
        ValueError: embeddings are not 2-D float tensors of one shape, dtype and device, or a
            target is not a 1-D tensor of length N on that device.
    """

    EMBEDDINGS: ClassVar[tuple[str, ...]] = ()
    TARGETS: ClassVar[dict[str, bool]] = {}

    def forward(self, *args: Tensor | None, **kwargs: Tensor | None) -> Tensor:
        embeddings, targets = self._bind(args, kwargs)
        self.check_embeddings(embeddings)
        first = next(iter(embeddings.values()))
        for name, value in targets.items():
            if value is not None:
                self._check_target(name, value, first)
        return self.compute_loss(*embeddings.values(), **targets)

    @abstractmethod
    def compute_loss(self, *embeddings: Tensor, **targets: Tensor | None) -> Tensor:
        ...

    # -- validation ------------------------------------------------------------------------
    @property
    def _owner(self) -> str:
        return type(self).__name__

    def _bind(
        self, args: tuple[Tensor | None, ...], kwargs: dict[str, Tensor | None]
    ) -> tuple[dict[str, Tensor], dict[str, Tensor | None]]:
        names = list(self.EMBEDDINGS) + list(self.TARGETS)
        signature = ", ".join(
            list(self.EMBEDDINGS) + [n if req else f"{n}=None" for n, req in self.TARGETS.items()]
        )
        if len(args) > len(names):
            raise TypeError(
                f"{self._owner}() takes {len(names)} inputs ({signature}), got {len(args)}"
            )
        bound: dict[str, Tensor | None] = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(
                    f"{self._owner}() got an unexpected input {name!r}; inputs are ({signature})"
                )
            if name in bound:
                raise TypeError(f"{self._owner}() got input {name!r} twice")
            bound[name] = value
        for name in self.EMBEDDINGS:
            if bound.get(name) is None:
                raise TypeError(f"{self._owner}() is missing input {name!r}; call ({signature})")
        for name, required in self.TARGETS.items():
            if required and bound.get(name) is None:
                raise TypeError(f"{self._owner}() is missing input {name!r}; call ({signature})")
        for name, value in bound.items():
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"{self._owner}: {name} must be a torch.Tensor, got {type(value).__name__}"
                )
        embeddings = {n: bound[n] for n in self.EMBEDDINGS}
        targets = {n: bound.get(n) for n in self.TARGETS}
        return embeddings, targets  # type: ignore[return-value]

    def check_embeddings(self, embeddings: dict[str, Tensor]) -> None:
        """Raise ``ValueError`` unless all embeddings are [N, D] float tensors that agree."""
        first_name, first = next(iter(embeddings.items()))
        for name, emb in embeddings.items():
            if emb.dim() != 2:
                raise ValueError(
                    f"{self._owner}: {name} must be a 2-D [N, D] embedding batch, got shape "
                    f"{shape_str(emb)}; flatten features first (x.flatten(1))"
                )
            if not emb.is_floating_point():
                raise ValueError(
                    f"{self._owner}: {name} must be a floating-point tensor, got {emb.dtype}"
                )
            if emb.shape[0] == 0:
                raise ValueError(f"{self._owner}: {name} is an empty batch (N = 0)")
            if emb.shape != first.shape:
                raise ValueError(
                    f"{self._owner}: {name} has shape {shape_str(emb)} but {first_name} has "
                    f"{shape_str(first)}; all embeddings must be [N, D] with the same N and D"
                )
            if emb.dtype != first.dtype:
                raise ValueError(
                    f"{self._owner}: {name} is {emb.dtype} but {first_name} is {first.dtype}; "
                    "cast all embeddings to one dtype"
                )
            if emb.device != first.device:
                raise ValueError(
                    f"{self._owner}: {name} is on {emb.device} but {first_name} is on "
                    f"{first.device}; move all inputs to one device"
                )

    def _check_target(self, name: str, target: Tensor, like: Tensor) -> None:
        if target.dim() != 1 or target.shape[0] != like.shape[0]:
            raise ValueError(
                f"{self._owner}: {name} must be a 1-D tensor with one entry per row "
                f"(shape [{like.shape[0]}]), got shape {shape_str(target)}"
            )
        if target.device != like.device:
            raise ValueError(
                f"{self._owner}: {name} is on {target.device} but the embeddings are on "
                f"{like.device}; move all inputs to one device"
            )
