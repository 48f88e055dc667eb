"""Naive references for the loss tests: plain Python floats, one tuple at a time."""

from __future__ import annotations

import math

import torch


def _vec(t: torch.Tensor) -> list[float]:
    return [float(v) for v in t]


def _unit(v: list[float]) -> list[float]:
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def _euclid(a: list[float], b: list[float], squared: bool = False, normalize: bool = False):
    if normalize:
        a, b = _unit(a), _unit(b)
    s = sum((x - y) ** 2 for x, y in zip(a, b, strict=True))
    return s if squared else math.sqrt(s)


def _cos_dist(a: list[float], b: list[float]) -> float:
    return 1.0 - sum(x * y for x, y in zip(_unit(a), _unit(b), strict=True))


def _seeded(*shape: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype)
