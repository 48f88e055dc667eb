"""Extraction: catalogued videos -> embedding store, resumable and pipelined (design decision 5).

    report = extract(ws, "clips/", "random:siamese", every=5)   # ExtractReport

Three stages, as in clip-retrieval: the reader (``embedder.reader.read_video``) decodes sampled
frames at the embedder's input size in ``workers`` processes ahead of the model; the mapper
(``Embedder.embed``) runs in this process on batches that span videos; the writer
(``embedder.writer.ShardWriter``) writes one Parquet shard per video, atomically. The Ray engine
(``embedder.ray_engine``) runs the same three stages as Ray Data operators.

Resume semantics: a shard exists only once complete, so a rerun (after a kill, a crash or a full
disk) skips finished videos and redoes the others from scratch: no duplicate, no missing frame.
A video that fails to decode is recorded in the catalog (``embed_status``) and the run goes on;
later runs skip it with a note unless ``retry_failed=True``. The store's manifest is checked
first: a store written by another embedder, or with another sampling, is refused.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.embedder.base import Embedder
from vidsift.embedder.reader import VideoTask, expected_rows, read_video
from vidsift.embedder.store import (
    FRAMES_LAYOUT,
    MANIFEST,
    TIME_LAYOUT,
    check_manifest,
    finished_videos,
    migrate_frames,
    migrate_times,
    read_manifest,
    write_manifest,
)
from vidsift.embedder.writer import ShardWriter
from vidsift.errors import BadInputError, VideoError, WorkspaceError
from vidsift.locks import job_lock
from vidsift.video.reader import check_sampling
from vidsift.workspace import Workspace

ENGINES = ("local", "ray")
ProgressFn = Callable[[int, int, int, int], None]  # (frames done, frames total, videos done, videos total)


@dataclass
class ExtractReport:
    """What one extraction run did. Paths are the catalog's (absolute) paths."""

    embedder: str
    store: str
    engine: str = "local"
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    partial: list[tuple[str, str]] = field(default_factory=list)  # kept what decoded; the note says what was lost
    previously_failed: list[tuple[str, str]] = field(default_factory=list)
    frames: int = 0
    seconds: float = 0.0
    dim: int = 0
    scan: dict[str, Any] | None = None
    model_seconds: float = 0.0  # time in Embedder.embed, summed over the model's streams
    wait_seconds: float = 0.0  # time the model process had nothing to embed (local engine)
    workers: int | None = None  # decoding processes the local engine used (chosen when not given)
    streams: int | None = None  # batches the local engine's model ran at a time (``model_plan``)
    pipeline_seconds: float = 0.0  # of ``seconds``: from the first video handed to the engine to the last shard
    migrated: dict[str, int] | None = None  # an old store's times rewritten as timestamps
    upright: dict[str, int] | None = None  # an old store's sideways videos re-embedded, rows sorted
    collapse: dict[str, Any] | None = None  # embedder.whitening.collapse_report of the store
    derived: dict[str, Any] | None = None  # white:NAME: what embedder.whitened_store.derive did

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def notes(self) -> list[str]:
        out = []
        if self.seconds > 1 and self.wait_seconds > 0.3 * self.seconds and self.engine == "local":
            out.append(
                f"decoding was the bottleneck: the model waited {100 * self.wait_seconds / self.seconds:.0f}% "
                "of the time; more --workers may help if cores are free"
            )
        if self.previously_failed:
            out.append(
                f"{len(self.previously_failed)} video(s) failed in an earlier run and were skipped; "
                "rerun with --retry-failed to try them again"
            )
        if self.upright and self.upright["re_embedded"]:
            out.append(
                f"{self.upright['re_embedded']} video(s) with a display rotation were embedded again: this "
                "store held their frames as stored (sideways); rebuild any index of this embedder"
            )
        if self.collapse and self.collapse.get("collapsed"):
            out.append("warning: " + self.collapse["message"])
        if self.derived and self.derived.get("refit"):
            out.append(
                f"whitening fitted on {self.derived['fitted_rows']} vectors of the store of {self.derived['from']!r} "
                f"({self.derived['reason']})"
                + ("" if self.derived["reason"] == "not derived yet" else f"; rebuild any index of {self.embedder!r}")
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = [{"path": p, "reason": r} for p, r in self.failed]
        d["partial"] = [{"path": p, "note": r} for p, r in self.partial]
        d["previously_failed"] = [{"path": p, "reason": r} for p, r in self.previously_failed]
        d["frames_per_second"] = round(self.frames_per_second, 1)
        d["notes"] = self.notes
        return d


# -- the run ---------------------------------------------------------------------------------
def extract(
    ws: Workspace | str | Path,
    folder: str | Path | None,
    embedder_name: str,
    every: int | None = None,
    fps: float | None = None,
    keyframes: bool = False,
    engine: str = "local",
    retry_failed: bool = False,
    batch_size: int = 64,
    workers: int | None = None,
    progress: bool = True,
    on_progress: ProgressFn | None = None,
    thumbnails: bool | None = None,
    device: str | None = None,
    rescan: bool = True,
) -> ExtractReport:
    """Embed the sampled frames of the videos of ``folder`` (scanned first), or of the whole
    catalog when ``folder`` is None, into ``ws.embeddings(embedder_name)``.

    Args:
        every / fps / keyframes: sample every N-th frame, F frames per second of presentation
            time, or the keyframes only (default: every frame). Reads are planned per file from
            the catalog's timeline: sequential with dropping, or seeks (``video.reader``).
        engine: ``"local"`` (worker processes + this process) or ``"ray"`` (Ray Data).
        workers: decoding processes (local; 0 decodes in this process) or model actors (Ray).
            None (default): the local engine chooses (``auto_workers``): in this process when
            the model costs far less than decoding (``pixels``), else one decoding process;
            Ray: 1.
        thumbnails: write a JPEG per embedded frame (default: on for frame embedders).
        rescan: False when the caller has just scanned ``folder`` (``vidsift update``): the
            catalog's rows under it are used as they are.

    Raises:
        BadInputError: bad options, unknown embedder, no videos, Ray not installed.
        WorkspaceError: a store from another embedder/sampling, a shard that cannot be written
            (shards written before stay), a checkpoint that does not load.
    """
    t0 = time.perf_counter()
    ws = ws if isinstance(ws, Workspace) else Workspace.at(ws)
    from vidsift.embedder import whitened_store

    if whitened_store.is_whitened(embedder_name):  # a derived store: embed with NAME, then whiten its store
        base = whitened_store.base_name(embedder_name)
        report = extract(
            ws, folder, base, every=every, fps=fps, keyframes=keyframes, engine=engine,
            retry_failed=retry_failed, batch_size=batch_size, workers=workers, progress=progress,
            on_progress=on_progress, thumbnails=thumbnails, device=device, rescan=rescan,
        )
        from vidsift.embedder.registry import embedder_from_manifest

        with job_lock(ws, f"embed-{embedder_name}"):
            return whitened_store.derive_into(
                report, ws, embedder_name, lambda m: embedder_from_manifest(m, ws, device=device)
            )
    if engine not in ENGINES:
        raise BadInputError(f"unknown engine {engine!r}; use {' or '.join(ENGINES)}")
    if int(batch_size) < 1:
        raise BadInputError(f"--batch-size must be at least 1, got {batch_size}")
    if workers is not None and int(workers) < 0:
        raise BadInputError(f"--workers must be 0 or more, got {workers}")
    every_n, fps_f = check_sampling(every, fps, keyframes)
    if engine == "ray":
        from vidsift.embedder.ray_engine import require_ray

        require_ray()

    from vidsift.embedder.registry import get_embedder

    emb = get_embedder(embedder_name, ws, batch_size=int(batch_size), device=device)
    # one run per store at a time: a second identical run waits, then skips what the first finished
    with job_lock(ws, f"embed-{emb.name}"):  # the wait is noted on stderr
        return _extract_locked(ws, folder, emb, every_n, fps_f, keyframes, engine, retry_failed,
                               batch_size, workers, progress, on_progress, thumbnails, device, t0, rescan)


def _extract_locked(
    ws: Workspace, folder: str | Path | None, emb: Embedder, every_n: int | None, fps_f: float | None,
    keyframes: bool, engine: str, retry_failed: bool, batch_size: int, workers: int | None, progress: bool,
    on_progress: ProgressFn | None, thumbnails: bool | None, device: str | None, t0: float,
    rescan: bool = True,
) -> ExtractReport:
    from vidsift.catalog import Catalog, scan_root
    from vidsift.video.scan import scan_folder
    from vidsift.video.timeline import Timeline

    cat = Catalog(ws.catalog_path)
    scan_report = None
    if folder is not None:
        if rescan:
            scan_report = scan_folder(cat, folder, progress=progress)
            where = scan_report.root
        else:
            where = str(scan_root(folder))
        records = cat.videos(status=None, root=where)
        if Path(folder).expanduser().is_file():  # one video
            one = str(Path(folder).expanduser().resolve())
            records = [r for r in records if r.path == one]
    else:
        records = cat.videos(status=None)
        where = str(ws.catalog_path)
    if not records:
        raise BadInputError(f"{where}: no videos to embed; run `vidsift scan DIR` or give a folder of videos")

    store_dir = ws.embeddings(emb.name)
    report = ExtractReport(embedder=emb.name, store=str(store_dir), engine=engine,
                           scan=scan_report.to_dict() if scan_report else None)
    sampling = {"every": every_n, "fps": fps_f} | ({"keyframes": True} if keyframes else {})
    existing = read_manifest(store_dir) if (store_dir / MANIFEST).exists() else None
    if existing is not None:
        _check_store(existing, emb, sampling, store_dir)  # before fitting anything
        if existing.get("time") != TIME_LAYOUT:  # written when times were frame / fps
            ids = finished_videos(store_dir)
            report.migrated = migrate_times(store_dir, {v: Timeline.from_catalog(cat, v) for v in ids})
            existing = read_manifest(store_dir)
        if existing.get("frames") != FRAMES_LAYOUT:  # written when frames were read as stored
            rotated = {r.id for r in cat.videos(status="ok") if r.rotation % 360}
            report.upright = migrate_frames(store_dir, rotated)
            existing = read_manifest(store_dir)
    emb.prepare(ws, cat.videos(status="ok"), progress=progress)
    manifest = {**emb.manifest(), "sampling": sampling, "time": TIME_LAYOUT, "frames": FRAMES_LAYOUT}
    if existing is not None:
        _check_store(existing, emb, sampling, store_dir)  # fitted state (ZCA hash) too
    else:
        try:
            write_manifest(store_dir, manifest)
        except OSError as exc:
            raise WorkspaceError(f"{store_dir}: cannot create the embedding store ({exc.strerror or exc})") from None
    report.dim = emb.dim

    finished = finished_videos(store_dir)
    statuses = cat.embed_status(emb.name)
    todo = []
    for r in records:
        if r.status != "ok":
            report.failed.append((r.path, r.error or "unreadable"))
        elif r.id in finished:
            report.skipped.append(r.path)
        elif statuses.get(r.id, ("", None))[0] == "error" and not retry_failed:
            report.previously_failed.append((r.path, statuses[r.id][1] or "failed"))
        else:
            todo.append(r)

    if thumbnails is None:
        thumbnails = emb.unit == "frame"
    chunk = max(1, min(int(batch_size), 64))
    timelines = {r.id: Timeline.from_catalog(cat, r.id) for r in todo}
    tasks = [
        VideoTask(
            video_id=r.id, path=r.path, size=tuple(emb.input_size), unit=emb.unit, clip_len=emb.clip_len,
            every=every_n, fps=fps_f, keyframes=bool(keyframes), chunk=chunk,
            thumbnails_dir=str(ws.thumbnails) if thumbnails else None, timeline=timelines[r.id],
            source_size=(int(r.height or 0), int(r.width or 0)),
        )
        for r in todo
    ]
    writer = ShardWriter(store_dir, emb.name, {r.id: r for r in todo}, cat, emb.dim)
    estimates = {r.id: expected_rows(timelines[r.id], r.num_frames, every_n, fps_f, bool(keyframes)) for r in todo}
    tracker = _Progress(estimates, emb.name, progress and bool(todo), on_progress, writer)
    t_pipe = time.perf_counter()
    try:
        if todo and engine == "local":
            run_local(emb, tasks, writer, int(batch_size), None if workers is None else int(workers), tracker)
        elif todo:
            from vidsift.embedder.ray_engine import run_ray

            run_ray(ws, manifest, tasks, writer, int(batch_size), max(1, int(workers or 1)), tracker, device=device)
        for vid in writer.open_videos():
            p = writer.pending[vid]
            writer.fail(vid, f"only {p.rows} of {p.expected} sampled frames arrived from the reader")
        writer.close()  # waits for the last shards; raises a write error
        report.pipeline_seconds = time.perf_counter() - t_pipe
    except BaseException:
        writer.abort()
        raise
    finally:
        tracker.close()
        cat.close()
    report.done = writer.done
    if tracker.batcher is not None:
        report.model_seconds, report.wait_seconds = tracker.batcher.seconds, tracker.batcher.waited
    report.workers, report.streams = tracker.workers, tracker.streams
    report.failed += writer.failed
    report.partial = writer.partial
    report.frames = writer.frames_written
    report.seconds = time.perf_counter() - t0
    if report.done:
        from vidsift.embedder.whitening import collapse_report

        # the spread of what this run embedded, so `vidsift embed` can warn when an encoder's
        # vectors all point one way (rows kept by the writer: no read-back of the store)
        report.collapse = collapse_report(writer.sampled_vectors())
    return report


def _check_store(existing: dict[str, Any], emb: Embedder, sampling: dict[str, Any], store_dir: Path) -> None:
    expected = emb.manifest()
    hint = f"; delete {store_dir} to re-embed with {emb.name!r}, or pick another --embedder"
    try:
        check_manifest(existing, {k: v for k, v in expected.items() if k != "checkpoint_hash" or v is not None},
                       what=f"the store {store_dir}")
    except WorkspaceError as exc:
        raise WorkspaceError(f"{exc}{hint}") from None
    for key in ("input_size", "clip_len", "preprocessing"):
        if key in existing and existing[key] != expected.get(key):
            raise WorkspaceError(
                f"the store {store_dir} was embedded with {key} {existing[key]!r}, not {expected.get(key)!r}{hint}"
            )
    old = existing.get("sampling")
    if old is not None and old != sampling:
        def fmt(s: dict[str, Any]) -> str:
            return f"--fps {s['fps']:g}" if s.get("fps") else f"--every {s.get('every', 1)}"

        raise WorkspaceError(
            f"the store {store_dir} was sampled with {fmt(old)}, this run asks for {fmt(sampling)}; "
            f"rerun with {fmt(old)} or delete the store to resample"
        )


class _Progress:
    """tqdm bar in frames (its rate is frames/s) plus the ``on_progress`` callback."""

    def __init__(self, estimates: dict[str, int], name: str, show: bool, fn: ProgressFn | None, writer: ShardWriter) -> None:
        self.estimates = dict(estimates)
        self.total, self.videos = sum(estimates.values()), len(estimates)
        self.fn, self.writer, self.frames = fn, writer, 0
        self.batcher: Batcher | None = None  # set by the local engine (timings for the report)
        self.workers: int | None = None  # decoding processes the local engine used
        self.streams: int | None = None  # model streams the local engine used
        self.bar = None
        if show:
            from vidsift.progress import progress_bar

            self.bar = progress_bar(total=self.total, desc=f"embed {name}", unit="frame", dynamic_ncols=True)

    def set_exact(self, video_id: str, rows: int) -> None:
        """The reader's exact row count replaces the estimate from the catalog."""
        delta = rows - self.estimates.get(video_id, rows)
        self.estimates[video_id] = rows
        if delta:
            self.total += delta
            if self.bar is not None:
                self.bar.total = self.total
                self.bar.refresh()

    def update(self, n: int) -> None:
        self.frames += n
        if self.bar is not None and n:
            self.bar.update(n)
            self.bar.set_postfix(videos=f"{len(self.writer.done)}/{self.videos}", refresh=False)
        if self.fn is not None:
            self.fn(self.frames, self.total, len(self.writer.done), self.videos)

    def close(self) -> None:
        if self.fn is not None and self.videos:
            self.fn(self.frames, self.total, len(self.writer.done), self.videos)  # after the last write
        if self.bar is not None:
            self.bar.set_postfix(videos=f"{len(self.writer.done)}/{self.videos}", refresh=True)
            self.bar.close()


# -- mapper: batches across videos --------------------------------------------------------------
class Batcher:
    """Collects reader chunks of any videos into model batches, then hands rows to the writer.

    With ``streams`` > 1 the model runs on that many threads, one batch each (torch on one
    intra-op thread per stream): a batch in flight never waits for another one, so a stream
    that shares its core with the decoder slows down alone, where one stream of two OpenMP
    threads stalls at every operator's barrier (docs/perf_decoding.md). Rows still reach the
    writer in the order the batches were made, and the vectors are the same bits.
    """

    def __init__(self, emb: Embedder, writer: ShardWriter, batch_size: int, tracker: _Progress,
                 streams: int = 1) -> None:
        from collections import deque

        self.emb, self.writer, self.batch_size, self.tracker = emb, writer, batch_size, tracker
        self.items: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
        self.rows = 0
        self.seconds = 0.0  # spent embedding (summed over streams)
        self.waited = 0.0  # spent waiting for the reader with nothing to embed
        self.streams = max(1, int(streams))
        self._pool: Any = None
        self._running: deque[tuple[Any, list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]]] = deque()
        if self.streams > 1:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.streams, thread_name_prefix="vidsift-model")

    @property
    def idle(self) -> bool:
        """Nothing held and no batch in flight: the model waits for the reader."""
        return not self.items and not self._running

    @property
    def free(self) -> bool:
        """A stream could start a batch now."""
        return len(self._running) < self.streams

    def add(self, video_id: str, frames: np.ndarray, times: np.ndarray, pixels: np.ndarray) -> None:
        self.items.append((video_id, frames, times, pixels))
        self.rows += len(frames)
        while self.rows >= self.batch_size:
            self.flush(self.batch_size)

    def flush(self, rows: int | None = None) -> None:
        """Start embedding the first ``rows`` rows held (all when None) as one batch. A chunk
        that straddles the boundary is split and its rest waits for the next batch: the model
        sees full batches, not a full one plus a short remainder whenever a video's last chunk
        is short (bench/extract.py's 2050 frames: 34 forward passes instead of 41;
        docs/perf_decoding.md). With one stream the batch is embedded and delivered here; with
        more, this waits only while every stream is busy (``drain`` waits for all)."""
        if not self.items:
            return
        if rows is None or rows >= self.rows:
            items, self.items, self.rows = self.items, [], 0
        else:
            items, left = [], rows
            while left > 0:
                vid, f, ts, p = self.items[0]
                if len(f) <= left:
                    items.append(self.items.pop(0))
                    left -= len(f)
                else:
                    items.append((vid, f[:left], ts[:left], p[:left]))
                    self.items[0] = (vid, f[left:], ts[left:], p[left:])
                    left = 0
            self.rows -= rows
        batch = np.concatenate([p for *_, p in items]) if len(items) > 1 else items[0][3]
        if self._pool is None:
            vectors, seconds = self._embed(batch)
            self.seconds += seconds
            self._deliver(items, vectors)
            return
        while not self.free:
            self._deliver_oldest()
        self._running.append((self._pool.submit(self._embed, batch), items))

    def collect(self) -> None:
        """Hand the rows of finished batches to the writer (in order; never waits)."""
        while self._running and self._running[0][0].done():
            self._deliver_oldest()

    def drain(self) -> None:
        """Embed everything held and wait until every row has reached the writer."""
        self.flush()
        while self._running:
            self._deliver_oldest()

    def close(self) -> None:
        """Stop the streams (after ``drain``, or on an error: batches in flight are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._running.clear()

    def _embed(self, batch: np.ndarray) -> tuple[np.ndarray, float]:
        t = time.perf_counter()
        vectors = self.emb.embed(batch)
        return vectors, time.perf_counter() - t

    def _deliver_oldest(self) -> None:
        future, items = self._running.popleft()
        vectors, seconds = future.result()  # a model error is raised here, in the engine's thread
        self.seconds += seconds
        self._deliver(items, vectors)

    def _deliver(self, items: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], vectors: np.ndarray) -> None:
        lo = 0
        for vid, frames, times, _ in items:
            self.writer.add(vid, frames, times, vectors[lo : lo + len(frames)])
            lo += len(frames)
        self.tracker.update(lo)


# -- local engine --------------------------------------------------------------------------------
def _mp_context() -> Any:
    # fork: workers start in milliseconds and inherit the imports; they never touch torch/CUDA.
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when its parent dies (a killed run leaves no orphans)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _reader_worker(wid: int, conn: Any, parent: int, current: Any) -> None:
    """Decode the videos the parent sends over ``conn`` (``None``: stop) and send back reader
    messages through a bounded queue of ``CHUNKS_AHEAD`` chunks and a sender thread, so decoding
    goes on while the parent is busy with the model. ``current[wid]`` (shared memory, written
    before a video is decoded) tells the parent which video a crash happened in."""
    import queue
    import threading

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    out: queue.Queue = queue.Queue(maxsize=CHUNKS_AHEAD)
    stop = object()

    def sender() -> None:
        while (msg := out.get()) is not stop:
            try:
                conn.send(msg)
            except OSError:  # the parent is gone
                os._exit(0)

    def put(msg: Any) -> None:
        while True:
            try:
                out.put(msg, timeout=1.0)
                return
            except queue.Full:
                if os.getppid() != parent:  # no PDEATHSIG on this OS and the parent died
                    os._exit(0)

    thread = threading.Thread(target=sender, name="vidsift-sender", daemon=True)
    thread.start()
    try:
        while (item := conn.recv()) is not None:
            i, task = item
            current[wid] = i
            try:
                for msg in read_video(task):
                    put(msg)
            except VideoError as exc:
                put(("error", task.video_id, exc.reason))
            except Exception as exc:  # noqa: BLE001 - one broken video must not stop the run
                put(("error", task.video_id, f"{type(exc).__name__}: {str(exc)[:200]}"))
            current[wid] = -1
    except (EOFError, OSError):
        os._exit(0)  # the parent is gone
    put(stop)
    thread.join()


def _handle(msg: tuple[Any, ...], batcher: Batcher, writer: ShardWriter, tracker: _Progress) -> None:
    """Apply one reader message (see ``embedder.reader``)."""
    kind, vid = msg[0], msg[1]
    if kind == "start":
        tracker.set_exact(vid, int(msg[2]))
        writer.start(vid, int(msg[2]))
    elif kind == "chunk":
        batcher.add(vid, msg[2], msg[3], msg[4])
    elif kind == "end":
        tracker.set_exact(vid, int(msg[2]))
        writer.end(vid, int(msg[2]), msg[3])  # its shard is written once its last rows leave the batcher
    elif kind == "error":
        writer.fail(vid, str(msg[2]))


def run_local(emb: Embedder, tasks: list[VideoTask], writer: ShardWriter, batch_size: int, workers: int | None,
              tracker: _Progress) -> None:
    """Reader processes -> queue -> model batches here -> shards. ``workers=0``: no processes;
    ``None``: chosen by ``auto_workers``. Decoder threads are sized by ``decoder_threads_for``,
    the model's streams and threads by ``model_plan``."""
    if workers is None:
        workers = auto_workers(emb, tasks)
    tracker.workers = workers
    tasks = [t if t.decoder_threads else replace(t, decoder_threads=decoder_threads_for(t, workers)) for t in tasks]
    streams, threads = model_plan(emb, workers)
    tracker.streams = streams
    batcher = tracker.batcher = Batcher(emb, writer, batch_size, tracker, streams=streams)
    old = _set_torch_threads(threads)
    try:
        if workers == 0:
            emb.to_device()
            for task in tasks:
                messages = read_video(task)
                while True:
                    try:
                        msg = next(messages)
                    except StopIteration:
                        break
                    except VideoError as exc:
                        writer.fail(task.video_id, exc.reason)
                        break
                    except Exception as exc:  # noqa: BLE001 - as in the worker processes
                        writer.fail(task.video_id, f"{type(exc).__name__}: {str(exc)[:200]}")
                        break
                    _handle(msg, batcher, writer, tracker)  # model errors are not the video's
            batcher.drain()
            return
        _run_pool(emb, tasks, writer, batcher, tracker, workers)
    finally:
        batcher.close()
        _set_torch_threads(old)


#: model streams beside decoding processes on a CPU with two or more cores (``model_plan``)
MODEL_STREAMS = 2


def model_plan(emb: Embedder, workers: int) -> tuple[int, int | None]:
    """(streams, torch threads per stream) for the model beside ``workers`` decoding processes.

    On a CPU with decoding processes the model runs ``MODEL_STREAMS`` batches at a time, each on
    (cores - workers) // streams intra-op threads, at least one: on two cores, two one-thread
    streams beside one decoder use the core the decoder leaves idle most of the time (small
    set, random:siamese: 2050 frames model-only 2280-2380 frames/s against 1030-1250 with one
    stream; docs/perf_decoding.md). In-process decoding (``workers=0``), a GPU or one core: one
    stream, and torch keeps its threads (``None``)."""
    if workers == 0 or "torch" not in sys.modules:
        return 1, None
    import torch

    if torch.cuda.is_available():  # the model's work is on the GPU: as before, one stream
        return 1, None
    cores = os.cpu_count() or 1
    streams = MODEL_STREAMS if cores >= 2 else 1
    return streams, max(1, min(torch.get_num_threads(), (cores - workers) // streams))


def _set_torch_threads(n: int | None) -> int | None:
    """Set torch's intra-op threads (None: leave them); returns the previous count, or None."""
    if n is None or "torch" not in sys.modules:
        return None
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    return old


#: the model counts as cheap, and decoding runs in this process (``workers=0``), when one frame
#: through it costs less than this share of decoding one: a worker process and its pipe then cost
#: more than the overlap saves (docs/perf_decoding.md: pixels 3654-3772 frames/s in-process
#: against 3054-3465 with a worker; random:siamese, model/decode ~0.3-3, gains 8-20 % from one)
CHEAP_MODEL = 0.1
#: decoding cost per frame, seconds: fixed + per source megapixel (bench/extract.py, 2 cores:
#: 96x128 frames ~0.25 ms, 1280x720 ~2.5 ms). Only the order of magnitude matters here.
DECODE_FIXED_S, DECODE_PER_MPIXEL_S = 0.2e-3, 2.5e-3
#: source frames of at most this many pixels get one decoder thread beside a model
SMALL_FRAME_PIXELS = 640 * 360


def decode_cost(task: VideoTask) -> float:
    """Estimated seconds of decoding per sampled frame of ``task`` (from its source size and
    how many frames are decoded per sampled one)."""
    h, w = task.source_size or (0, 0)
    per_frame = DECODE_FIXED_S + DECODE_PER_MPIXEL_S * (h * w) / 1e6
    tl = task.timeline
    if tl is None or task.keyframes:
        return per_frame
    rows = expected_rows(tl, tl.num_frames, task.every, task.fps)
    return per_frame * max(1.0, tl.num_frames / max(1, rows))


def model_cost(emb: Embedder, rows: int = 1) -> float:
    """Seconds per frame (or clip) of ``emb.embed`` on a batch of zeros (best of two). One row:
    the shape the embedder was built with, so the probe sets up no new kernels (a first call at
    a new batch shape before the run changed torch vectors by ~5e-8; with one row they are the
    same bits as without the probe)."""
    h, w = emb.input_size
    shape = (rows, h, w, 3) if emb.unit == "frame" else (rows, emb.clip_len, h, w, 3)
    batch = np.zeros(shape, np.uint8)
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        emb.embed(batch)
        best = min(best, time.perf_counter() - t)
    return best / rows


def auto_workers(emb: Embedder, tasks: list[VideoTask]) -> int:
    """Decoding processes for ``workers=None``: 0 (decode and embed in turn, in this process)
    when the model's measured cost per frame is below ``CHEAP_MODEL`` of the estimated decoding
    cost, else 1. A model on a GPU keeps the worker (its CPU cost is not what the probe sees)."""
    if not tasks:
        return 1
    if "torch" in sys.modules:
        import torch

        if torch.cuda.is_available():
            return 1
    decode = sum(decode_cost(t) for t in tasks) / len(tasks)
    return 0 if model_cost(emb) < CHEAP_MODEL * decode else 1


def decoder_threads_for(task: VideoTask, workers: int) -> int:
    """FFmpeg threads for ``task``'s decoder: with the model beside it (``workers`` > 0), one
    thread for small frames (the model keeps its core; on them frame threads cost more than they
    give: decode-only is as fast with one); larger frames, or decoding alone in this process
    (``workers=0``): 0, FFmpeg's choice (HD decoding needs its threads; 2 was not faster)."""
    if workers == 0 or not task.source_size:
        return 0
    h, w = task.source_size
    return 1 if 0 < h * w <= SMALL_FRAME_PIXELS else 0


#: videos handed to a worker ahead of the one it reads, so it never waits for the parent
AHEAD = 2
#: chunks a worker may decode ahead of what the parent has received
CHUNKS_AHEAD = 4


def _run_pool(emb: Embedder, tasks: list[VideoTask], writer: ShardWriter, batcher: Batcher, tracker: _Progress, workers: int) -> None:
    """``workers`` reader processes, each with its own pipe; the parent hands out videos, runs
    the model on what comes back, and notices a worker that dies: the video it was decoding
    fails, its other unfinished videos (whose messages may be lost) are read again by a new one."""
    from collections import deque
    from multiprocessing.connection import wait

    ctx = _mp_context()
    todo = deque(range(len(tasks)))
    conns: dict[int, Any] = {}
    procs: dict[int, Any] = {}
    queued: dict[int, deque[int]] = {}  # per worker: videos sent and not finished, in order
    stopped: set[int] = set()  # workers told to exit
    current = ctx.Array("i", [-1] * (workers + 100), lock=False)
    respawns = 0

    def feed(wid: int) -> None:
        while todo and len(queued[wid]) < AHEAD:
            i = todo.popleft()
            queued[wid].append(i)
            conns[wid].send((i, tasks[i]))
        if not todo and not queued[wid] and wid not in stopped:
            stopped.add(wid)
            with contextlib.suppress(OSError):
                conns[wid].send(None)

    def spawn() -> None:
        wid = len(procs)
        mine, theirs = ctx.Pipe(duplex=True)
        current[wid] = -1
        p = ctx.Process(target=_reader_worker, args=(wid, theirs, os.getpid(), current), daemon=True,
                        name=f"vidsift-reader-{wid}")
        p.start()
        theirs.close()
        procs[wid], conns[wid], queued[wid] = p, mine, deque()
        feed(wid)

    def receive(wid: int) -> bool:
        """Handle one message from ``wid``; False at end of stream."""
        try:
            msg = conns[wid].recv()
        except (EOFError, OSError):
            return False
        _handle(msg, batcher, writer, tracker)
        if msg[0] in ("end", "error"):
            with contextlib.suppress(ValueError):
                queued[wid].remove(next(i for i in queued[wid] if tasks[i].video_id == msg[1]))
            for w in list(conns):
                feed(w)
        return True

    def gone(wid: int) -> None:
        nonlocal respawns
        while conns[wid].poll(0) and receive(wid):  # what it sent before dying still counts
            pass
        p = procs[wid]
        p.join(timeout=5)
        conns.pop(wid).close()
        left = queued.pop(wid)
        if not left:
            return
        culprit = current[wid]
        batcher.drain()  # rows of the videos below reach the writer before they are reset
        again = []
        for i in left:
            vid = tasks[i].video_id
            if i == culprit:
                writer.fail(vid, f"the decoding process died (exit code {p.exitcode})")
            else:
                writer.pending.pop(vid, None)  # partial rows, if any: read it again from the start
                again.append(i)
        todo.extendleft(reversed(again))
        if todo and respawns < 100:
            respawns += 1
            spawn()
        elif todo:
            for i in todo:
                writer.fail(tasks[i].video_id, "not read: decoding processes keep dying")
            todo.clear()

    for _ in range(max(1, min(workers, len(tasks)))):
        spawn()
    emb.to_device()
    try:
        while conns:
            batcher.collect()
            t = time.perf_counter()
            idle = batcher.idle
            # held rows and a free stream: look again soon (to flush a short batch); batches in
            # flight: soon enough to hand their rows on; else block until a reader sends
            timeout = 0.002 if batcher.items and batcher.free else 0.01 if not batcher.idle else 1.0
            ready = wait([*conns.values(), *(procs[w].sentinel for w in conns)], timeout=timeout)
            if idle:
                batcher.waited += time.perf_counter() - t
            if not ready:
                if batcher.items and batcher.free:
                    batcher.flush()  # nothing ready to add: keep the model busy with what is here
                continue
            for wid in list(conns):
                if conns[wid] in ready:
                    receive(wid)  # one message per worker per round: fair, and bounded
            for wid in list(conns):
                if procs[wid].sentinel in ready or not procs[wid].is_alive():
                    gone(wid)
        batcher.drain()
    finally:
        for p in procs.values():
            if p.is_alive():
                p.terminate()
        for p in procs.values():
            p.join(timeout=5)
        for c in conns.values():
            c.close()


__all__ = ["ENGINES", "ExtractReport", "extract", "run_local"]
