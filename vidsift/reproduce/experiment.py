"""The shared state of one reproduction: its data folders in the workspace, the training runs
of ``settings.RUNS`` and the embeddings every section reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidsift.reproduce.settings import RUNS, Settings, steps_of
from vidsift.workspace import Workspace


class Experiment:
    """Data, checkpoints and embeddings of one reproduction, made on first use and reused from
    the workspace after (``make_data`` and ``train_all`` skip what exists)."""

    def __init__(
        self,
        ws: Workspace,
        out: Path,
        settings: Settings,
        seed: int = 0,
        progress: Callable[[str], None] = print,
    ) -> None:
        self.ws, self.out, self.s, self.seed, self.say = ws, out, settings, seed, progress
        self.data = ws.samples / "reproduce"
        self.folders: dict[str, Path] = {}
        self.timings: dict[str, float] = {}
        self.planned: set[str] = set()  # every training run this reproduction uses

    @property
    def trained(self) -> int:
        """Training runs done by this invocation (the rest were reused)."""
        return sum(1 for k in self.timings if k.startswith("train "))

    def make_data(self) -> None:
        from vidsift.catalog import Catalog
        from vidsift.video.real import link_real
        from vidsift.video.synthetic.write import (
            make_drift_videos,
            make_scene_videos,
            make_shape_videos,
        )

        s = self.s
        self.folders["scenes"] = self.data / "scenes"
        self.folders["shapes"] = self.data / "shapes"
        if not (self.folders["scenes"] / "ground_truth.json").exists():
            make_scene_videos(
                self.folders["scenes"],
                scenes=s.scenes,
                videos_per_scene=s.videos_per_scene,
                shots_per_video=s.shots_per_video,
                frames_per_shot=s.frames_per_shot,
                size=s.size,
                seed=self.seed,
                motion=True,
                noise=0.04,
                illumination=0.25,
            )
        if not (self.folders["shapes"] / "ground_truth.json").exists():
            make_shape_videos(
                self.folders["shapes"],
                shapes=s.shapes,
                motions=s.motions,
                videos_per_class=s.videos_per_class,
                frames=s.shape_frames,
                size=s.size,
                seed=self.seed,
            )
        self.folders["drift"] = self.data / "drift"
        if not (self.folders["drift"] / "ground_truth.json").exists():
            make_drift_videos(
                self.folders["drift"], videos_per_class=s.drift_per_class, frames=32, seed=self.seed
            )
        if s.real:
            link_real(self.data / "real")
            self.folders["real"] = self.data / "real"
        from vidsift.video.scan import scan_folder

        cat = Catalog(self.ws.catalog_path)
        for folder in self.folders.values():
            scan_folder(cat, folder)
        cat.close()

    def overrides(self, method: str, extra: dict[str, Any]) -> dict[str, Any]:
        """The settings' overrides for every method, then for ``method``, then ``extra``."""
        o = dict(self.s.overrides.get("*", {}))
        o.update(self.s.overrides.get(method, {}))
        o.update(extra)
        return o

    def train_all(self) -> None:
        for name, method, dataset, extra in RUNS:
            self.train_run(name, method, dataset, extra, self.seed)

    def train_run(self, name: str, method: str, dataset: str, extra: dict[str, Any], seed: int) -> str:
        """Train ``name`` (a row of ``settings.RUNS``) with training seed ``seed`` unless its
        checkpoint exists; returns the run's name in the workspace (``name`` for the
        reproduction's own seed, ``name-seedN`` for the others)."""
        from vidsift.catalog import Catalog
        from vidsift.training.data.source import VideoFrameSource
        from vidsift.training.registry import get_method
        from vidsift.training.trainer import train

        run = name if seed == self.seed else f"{name}-seed{seed}"
        self.planned.add(run)
        out = self.ws.run(run)
        if out.checkpoint.exists():
            return run
        cat = Catalog(self.ws.catalog_path)
        try:
            recs = sorted(cat.videos(root=self.folders[dataset]), key=lambda r: r.id)
        finally:
            cat.close()
        steps = steps_of(name, self.s)
        cfg = get_method(method).config(
            "cpu", steps=steps, seed=seed, data_ids=tuple(r.id for r in recs), **self.overrides(method, extra)
        )
        src = VideoFrameSource([(r.id, r.path) for r in recs], num_frames={r.id: r.num_frames for r in recs})
        self.say(f"train {run} ({method}, {steps} steps, seed {seed})")
        t = time.perf_counter()
        train(cfg, src, out.path, progress=False, overwrite=True)
        self.timings[f"train {run}"] = time.perf_counter() - t
        return run

    def seed_runs(self, name: str) -> list[tuple[int, str]]:
        """``(training seed, run)`` for each of the ``settings.heldout_seeds`` training seeds of
        ``name`` (the reproduction's seed first), trained on first use."""
        row = next(r for r in RUNS if r[0] == name)
        seeds = [self.seed + i for i in range(self.s.heldout_seeds)]
        return [(sd, self.train_run(*row, seed=sd)) for sd in seeds]

    def embed(self, embedder: str, dataset: str) -> None:
        from vidsift.embedder.extract import extract

        t = time.perf_counter()
        extract(self.ws, self.folders[dataset], embedder, progress=False)
        key = f"embed {embedder} {dataset}"
        self.timings[key] = self.timings.get(key, 0) + time.perf_counter() - t

    def vectors(self, embedder: str, dataset: str):
        """The ``embedder`` vectors of ``dataset`` (extracted first if missing)."""
        from vidsift.services.discover import load_folder_embeddings

        self.embed(embedder, dataset)
        return load_folder_embeddings(self.ws, embedder, self.folders[dataset])
