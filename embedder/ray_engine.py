"""The Ray Data engine (``--engine ray``): the same reader / mapper / writer as Ray Data stages.

    ray.data.from_items(tasks)                       one row per video
      .map_batches(read_batches)                     reader: a generator, one batch per chunk of
                                                     sampled frames (Ray tasks, streaming)
      .map_batches(EmbedActor, concurrency=N,        mapper: an actor pool holding the model
                   num_gpus=1 if CUDA else 0)        (rebuilt from the store's manifest)
      .iter_batches()  -> ShardWriter on the driver  writer: the same atomic per-video shards

Rows come back in any order; the driver writes a video's shard once it holds all of its rows (the
reader tells how many). A shard is what the local engine would have written, so the two engines
resume each other's runs. On one machine Ray is started with ``num_cpus = max(2, N + 1)``; connect
to a cluster first (``ray.init(address=...)``) to spread decoding over many machines.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.embedder.reader import VideoTask, read_video
from vidsift.errors import BadInputError, VideoError
from vidsift.video.timeline import Timeline

INSTALL_HINT = "--engine ray needs pip install 'vidsift[distributed]'"


def require_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise BadInputError(INSTALL_HINT) from None
    return ray


def _task_to_json(task: VideoTask) -> str:
    d = {k: getattr(task, k) for k in task.__dataclass_fields__}
    d["timeline"] = base64.b64encode(task.timeline.to_bytes()).decode() if task.timeline is not None else None
    return json.dumps(d)


def _task_from_json(s: str) -> VideoTask:
    d = json.loads(s)
    d["size"] = tuple(d["size"])
    if d.get("timeline") is not None:
        d["timeline"] = Timeline.from_bytes(base64.b64decode(d["timeline"]))
    return VideoTask(**d)


def _row_shape(task: VideoTask) -> tuple[int, ...]:
    h, w = task.size
    return (h, w, 3) if task.unit == "frame" else (task.clip_len, h, w, 3)


def _marker(task: VideoTask, n: int, error: str) -> dict[str, np.ndarray]:
    """One row without pixels: an empty video (n = 0) or a failure (error)."""
    return {
        "video_id": np.array([task.video_id]),
        "frame": np.array([-1], np.int64),
        "time": np.array([0.0]),
        "n": np.array([n], np.int64),
        "error": np.array([error]),
        "pixels": np.zeros((1, *_row_shape(task)), np.uint8),
    }


def read_batches(batch: dict[str, np.ndarray]) -> Any:
    """Reader stage: for each video row, yield one batch per decoded chunk (streaming)."""
    for s in batch["task"]:
        task = _task_from_json(str(s))
        n = 0
        try:
            for msg in read_video(task):
                if msg[0] == "start":
                    n = int(msg[2])
                    if n == 0:
                        yield _marker(task, 0, "")
                elif msg[0] == "chunk":
                    b = len(msg[2])
                    yield {
                        "video_id": np.array([task.video_id] * b),
                        "frame": np.asarray(msg[2], np.int64),
                        "time": np.asarray(msg[3], np.float64),
                        "n": np.full(b, n, np.int64),
                        "error": np.array([""] * b),
                        "pixels": msg[4],
                    }
        except VideoError as exc:
            yield _marker(task, n, exc.reason)
        except Exception as exc:  # noqa: BLE001 - one broken video must not stop the run
            yield _marker(task, n, f"{type(exc).__name__}: {str(exc)[:200]}")


class EmbedActor:
    """Mapper stage: one model per actor, rebuilt from the manifest the driver wrote."""

    def __init__(self, manifest: dict[str, Any], ws_root: str, device: str | None, threads: int) -> None:
        from vidsift.embedder.registry import embedder_from_manifest
        from vidsift.workspace import Workspace

        try:
            import torch

            if not torch.cuda.is_available():
                torch.set_num_threads(max(1, threads))
        except ImportError:  # pragma: no cover
            pass
        self.emb = embedder_from_manifest(manifest, Workspace(Path(ws_root)), device=device)
        self.emb.to_device()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ok = (batch["frame"] >= 0) & (batch["error"] == "")
        vectors = np.zeros((len(ok), self.emb.dim), np.float32)
        if ok.any():
            vectors[ok] = self.emb.embed(np.asarray(batch["pixels"])[ok])
        return {k: batch[k] for k in ("video_id", "frame", "time", "n", "error")} | {"vector": vectors}


def run_ray(
    ws: Any, manifest: dict[str, Any], tasks: list[VideoTask], writer: Any, batch_size: int,
    actors: int, tracker: Any, device: str | None = None,
) -> None:
    """Run the three stages on Ray Data; shards are written by ``writer`` on the driver."""
    ray = require_ray()
    started = False
    if not ray.is_initialized():
        ray.init(
            num_cpus=max(2, actors + 1), include_dashboard=False, log_to_driver=False,
            logging_level="ERROR", configure_logging=True,
        )
        started = True
    try:
        import torch

        gpus = torch.cuda.device_count() if torch.cuda.is_available() and device != "cpu" else 0
    except ImportError:  # pragma: no cover
        gpus = 0
    try:
        ctx = ray.data.DataContext.get_current()
        for attr, value in (("enable_progress_bars", False), ("print_on_execution_start", False)):
            if hasattr(ctx, attr):
                setattr(ctx, attr, value)
        items = [{"task": _task_to_json(t)} for t in tasks]
        ds = ray.data.from_items(items, override_num_blocks=max(1, len(items)))
        ds = ds.map_batches(read_batches, batch_size=1, batch_format="numpy")
        ds = ds.map_batches(
            EmbedActor,
            fn_constructor_kwargs={"manifest": manifest, "ws_root": str(ws.root), "device": device,
                                   "threads": 1 if gpus == 0 else (os.cpu_count() or 1)},
            batch_size=batch_size,
            batch_format="numpy",
            concurrency=max(1, min(actors, gpus)) if gpus else max(1, actors),
            num_gpus=1 if gpus else 0,
        )
        seen: set[str] = set()
        failed: set[str] = set()
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            vids, frames, times, ns, errors, vectors = (
                batch[k] for k in ("video_id", "frame", "time", "n", "error", "vector"))
            added = 0
            for vid in dict.fromkeys(vids.tolist()):
                if vid in failed:
                    continue
                sel = vids == vid
                err = [e for e in errors[sel].tolist() if e]
                if err:
                    failed.add(vid)
                    writer.fail(vid, err[0])
                    continue
                if vid not in seen:
                    seen.add(vid)
                    n = int(ns[sel][0])
                    tracker.set_exact(vid, n)
                    writer.start(vid, n)
                    writer.end(vid)  # complete as soon as all n rows are in (now, if n == 0)
                keep = sel & (frames >= 0)
                if keep.any():
                    writer.add(vid, frames[keep], times[keep], vectors[keep])
                    added += int(keep.sum())
            tracker.update(added)
    finally:
        if started:
            ray.shutdown()
