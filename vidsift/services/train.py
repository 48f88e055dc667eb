"""Training inside a workspace: scan a folder into the catalog, train on its videos, list runs.

``train_workspace(ws, "siamese", "videos/")`` writes ``<ws>/checkpoints/siamese-cpu/`` with
``last.pt``, ``config.json`` and ``log.jsonl`` (the embedder finds it as ``ckpt:siamese-cpu``).
The catalog ids of the videos trained on are stored in the config (``data_ids``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from vidsift.errors import BadInputError
from vidsift.locks import job_lock
from vidsift.training.config import TrainConfig
from vidsift.training.data.source import VideoFrameSource
from vidsift.training.registry import get_method
from vidsift.training.trainer import TrainResult, train
from vidsift.workspace import RunDir, Workspace, read_log


def _run_lock(ws: Workspace, name: str) -> contextlib.AbstractContextManager[Any]:
    """One trainer per run folder: a second one waits. The ranks of one ``torchrun`` launch are one
    trainer: rank 0 holds the lock for all (the others locking too would wait on rank 0 while rank
    0 waits for them at the first all-reduce)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and int(os.environ.get("RANK", "0")) != 0:
        return contextlib.nullcontext()
    return job_lock(ws, f"train-{name}")


def _saved_config(run: RunDir) -> TrainConfig | None:
    try:
        return TrainConfig.from_dict(json.loads(run.config.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def train_workspace(
    ws: Workspace,
    method: str,
    folder: str | Path,
    preset: str = "cpu",
    steps: int | None = None,
    resume: bool = False,
    seed: int = 0,
    progress: bool = True,
    overwrite: bool = False,
    **overrides: Any,
) -> TrainResult:
    """Scan ``folder`` into the catalog and train ``method`` on its readable videos.

    ``overrides`` are ``TrainConfig`` fields (``batch_size=16``) or method parameters
    (``margin=2.0``); ``None`` values are ignored. With ``resume`` the run's stored config is
    kept and only ``steps`` (and the runtime fields) may change.
    """
    from vidsift.catalog import Catalog
    from vidsift.video.scan import scan_folder
    from vidsift.video.timeline import Timeline

    m = get_method(method)  # unknown method: BadInputError before any scanning
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise BadInputError(f"{folder}: no such folder of videos to train on")
    cat = Catalog(ws.catalog_path)
    try:
        report = scan_folder(cat, folder)
        records = cat.videos(status="ok", root=folder)
        unreadable = [(r.path, r.error) for r in cat.videos(status="error", root=folder)]
        # frame counts and timelines are the decoder's (header counts over-count real files)
        timelines = {r.id: Timeline.from_catalog(cat, r.id) for r in records}
    finally:
        cat.close()
    if not records:
        failed = f" ({len(report.failed)} could not be read)" if report.failed else ""
        raise BadInputError(f"{folder}: no readable videos to train on{failed}")
    for path, reason in unreadable:  # one broken video is left out; the run goes on
        print(f"note: left out {path}: {reason}", file=sys.stderr)
    records = sorted(records, key=lambda r: r.id)
    data_ids = tuple(r.id for r in records)
    run = ws.training_run(method, preset)
    with _run_lock(ws, run.name):
        saved = _saved_config(run) if resume else None
        if saved is not None and run.checkpoint.exists():
            given = {k: v for k, v in overrides.items() if v is not None}
            cfg = saved.replace(data_ids=data_ids, **given)
            if steps is not None:
                cfg = cfg.replace(steps=steps)
        else:
            cfg = m.config(preset, steps=steps, seed=seed, data_ids=data_ids, **overrides)
        source = VideoFrameSource(
            [(r.id, r.path) for r in records], num_frames={r.id: int(r.num_frames) for r in records},
            timelines=timelines,
        )
        return train(cfg, source, run.path, resume=resume, progress=progress, overwrite=overwrite)


def list_checkpoints(ws: Workspace) -> list[dict[str, Any]]:
    """The training runs in the workspace: name, method, preset, step, steps, loss, path."""
    rows: list[dict[str, Any]] = []
    for run in ws.runs():
        if not run.has_checkpoint:
            continue
        ck = run.checkpoint
        cfg = _saved_config(run)
        log = read_log(run.log)
        last = log[-1] if log else {}
        rows.append({
            "name": run.name,
            "method": cfg.method if cfg else None,
            "preset": cfg.preset if cfg else None,
            "step": last.get("step"),
            "steps": cfg.steps if cfg else None,
            "loss": last.get("loss"),
            "videos": len(cfg.data_ids) if cfg else None,
            "path": str(ck),
            "modified": ck.stat().st_mtime,
        })
    return rows
