"""Learning-rate schedules of the trainer (``TrainConfig.lr_schedule``).

* ``constant``: lr(t) = lr, the papers' setting and every preset's.
* ``cosine``: lr(t) = lr * (1 + cos(pi * t / T)) / 2 for step t of T = ``cfg.steps``, from lr at
  the first step down to 0 at the last (Loshchilov & Hutter 2017, "SGDR", without restarts; the
  schedule of SimCLR and most self-supervised training). Not in the seed papers; offered as an
  issue #19 lever.

The rate is a function of the step alone, set before every optimiser step, so a resumed run
continues the same curve; resuming with more steps stretches it from there.
"""

from __future__ import annotations

import math

import torch

from vidsift.training.config import LR_SCHEDULES


def lr_at(schedule: str, base_lr: float, step: int, steps: int) -> float:
    """The learning rate of ``step`` (0-based) of ``steps``.

    Example:
        >>> [round(lr_at("cosine", 1.0, t, 4), 3) for t in range(4)]
        [1.0, 0.854, 0.5, 0.146]
    """
    if schedule == "constant":
        return float(base_lr)
    if schedule == "cosine":
        return float(base_lr) * 0.5 * (1.0 + math.cos(math.pi * step / max(1, steps)))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}; use one of {', '.join(LR_SCHEDULES)}")


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
