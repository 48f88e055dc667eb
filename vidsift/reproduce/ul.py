"""Section 5: unsupervised-learning layers on rotating points (the UL-layers paper, section
4.1): angle decoding error per epoch, and after training against noise beside its baselines."""

from __future__ import annotations

from dataclasses import dataclass

from vidsift.reproduce.experiment import Experiment
from vidsift.reproduce.recipes import closed_form_error, pca_error, top_directions, train_rotation

NOISE = 0.2  # noise of the per-epoch table
NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4)


@dataclass(frozen=True)
class EpochRow:
    epoch: int
    test_error: float
    weight_angle: float  # degrees between the FC weights and the top-2 PCs of the clean sequence


@dataclass(frozen=True)
class NoiseRow:
    noise: float
    ul: float  # test error after training
    random_init: float
    pca: float
    closed_form: float


@dataclass(frozen=True)
class RotatingPoints:
    noise: float
    epochs: int
    per_epoch: tuple[EpochRow, ...]
    per_noise: tuple[NoiseRow, ...]


def evaluate(exp: Experiment) -> RotatingPoints:
    from vidsift.video.synthetic import rotating_points

    n, epochs, seed = exp.s.ul_frames, exp.s.ul_epochs, exp.seed
    clean, _ = rotating_points(n_frames=2 * n, noise=0.0, seed=seed)
    sub = top_directions(clean)
    X, angles = rotating_points(n_frames=2 * n, noise=NOISE, seed=seed)
    per_epoch = [
        EpochRow(r["epoch"], r["test_error"], r["weight_angle"])
        for r in train_rotation(X, angles, n_train=n, epochs=epochs, seed=seed, subspace=sub)
    ]
    per_noise = []
    for noise in NOISE_LEVELS:
        X, angles = rotating_points(n_frames=2 * n, noise=noise, seed=seed)
        ul = train_rotation(X, angles, n_train=n, epochs=epochs, seed=seed)[-1]["test_error"]
        rnd = train_rotation(X, angles, n_train=n, epochs=0, seed=seed, train=False)[0][
            "test_error"
        ]
        per_noise.append(
            NoiseRow(noise, ul, rnd, pca_error(X, angles, n), closed_form_error(X, angles, n))
        )
    return RotatingPoints(NOISE, epochs, tuple(per_epoch), tuple(per_noise))
