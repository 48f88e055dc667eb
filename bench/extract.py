"""Extraction pipeline efficiency: does decoding overlap the model?

On the same videos (generated scene videos + bikes.mp4), in one run, for each embedder:

* decode-only  frames/s of the reader stage alone (``embedder.reader.read_video``, one process,
               frames at the embedder's input size, no thumbnails), measured twice a run: with
               FFmpeg's own thread choice and with the decoder threads the pipeline gives it
               (``embedder.extract.decoder_threads_for``). When the two are the same decoder
               (in-process ``pixels``, HD frames) the baseline is their mean; else the one that
               is faster over all runs (``decode_baseline`` in ``--json``)
* model-only   frames/s of ``Embedder.embed`` on those frames held in memory, batch ``--batch-size``,
               run as the pipeline runs it (``embedder.extract.model_plan``): beside a decoding
               process, ``MODEL_STREAMS`` batches at a time on one-thread streams (2 cores); all
               cores for one stream when the engine decodes in-process
* end-to-end   frames/s of ``embedder.extract.extract`` (local engine, ``--workers``: default
               the engine's own choice, ``auto_workers``; shards written, no thumbnails), after
               the catalog scan; ``engine`` says which workers it ran with
* efficiency   end-to-end / min(decode-only, model-only); 1.0 = the slower stage never waits
* pipeline     efficiency of the pipeline alone: frames / ``ExtractReport.pipeline_seconds``
               (from the first video handed to the engine to the last shard written) over the same
               min; the rest of end-to-end is fixed cost (embedder, catalog, manifest, the
               collapse report read back from the store), ~0.1 s a run here
* + thumbnails end-to-end frames/s with a JPEG thumbnail per frame (the decoded picture converted a
               second time, at 96 px)
* CPU bound    the highest efficiency the cores allow: decode-only and model-only CPU seconds
               per frame (process time, all threads) c_d + c_m; no pipeline on C cores beats
               C / (c_d + c_m) frames/s. Below 1 when both stages are CPU-bound and together need
               more than C cores at the slower stage's rate
* of attainable  end-to-end / (min(decode-only, model-only) x CPU bound): the efficiency against
               the rate the cores allow. On 2 cores the model's streams and the decoder share the
               cores, so min(decode-only, model-only) — each measured with the machine to itself —
               is not reachable by any pipeline; this column is what is left to gain
* model beside decoder  model-only frames/s while a forked process decodes the same videos
               over and over beside it (rows where the engine runs a reader process)
* contention bound  min(decode-only, model beside decoder) / min(decode-only, model-only): the
               efficiency the slower stage allows when the other one runs on the other core at
               full speed (a pessimistic bound: in the pipeline the faster stage idles part of
               the time)
* machine      share of the cores this process gets when it asks for all of them: ``cores``
               processes spinning together against one alone (1.0 on a quiet machine; other
               load lowers it). A pipeline of single-threaded stages on all cores cannot beat it,
               while each stage measured alone is slowed less: read efficiency against it
* model idle   share of the end-to-end run the model process waited for frames
* one model stream  end-to-end frames/s with the model on one stream (rows where it runs two)
* workers 0 / 1  end-to-end frames/s with ``workers=0`` (decode and model in turn, one process)
               and ``workers=1`` (one decoding process), whatever the engine would choose

Rates are medians of ``--repeats`` runs; the three measures are taken back to back in each run
and the efficiency is the median of the per-run ratios, so that load from other processes hits
numerator and denominator alike. ``--quick``: small scene videos, one repeat. ``--no-extras``
skips the thumbnails, workers 0 / 1 and one-stream columns.

    python bench/extract.py --quick
    python bench/extract.py --embedders pixels random:siamese --repeats 3 --json
    python bench/extract.py --hd 20 --hd-only --repeats 3     # a 720p H.264 file, GOP 250
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def make_videos(root: Path, quick: bool) -> Path:
    from vidsift.video.real import real_footage
    from vidsift.video.synthetic.write import make_scene_videos

    folder = root / "videos"
    if quick:
        make_scene_videos(folder / "scenes", scenes=("astronaut", "coffee"), videos_per_scene=2,
                          shots_per_video=2, frames_per_shot=25, size=(96, 128), seed=0)
    else:
        make_scene_videos(folder / "scenes", videos_per_scene=3, frames_per_shot=50, size=(96, 128), seed=0)
    bikes = real_footage().get("bikes.mp4")
    if bikes is not None:
        shutil.copy(bikes, folder / "bikes.mp4")
    return folder


def tasks_for(ws: Any, emb: Any) -> list[Any]:
    from vidsift.catalog import Catalog
    from vidsift.embedder.reader import VideoTask
    from vidsift.video.timeline import Timeline

    cat = Catalog(ws.catalog_path)
    # with the catalog's timelines, as extract() reads: without one the reader decodes every
    # file twice (once to measure the timeline), which halved decode-only on long files
    return [
        VideoTask(video_id=r.id, path=r.path, size=tuple(emb.input_size), unit=emb.unit, clip_len=emb.clip_len,
                  chunk=64, timeline=Timeline.from_catalog(cat, r.id), source_size=(r.height, r.width))
        for r in cat.videos()
    ]


def with_decoder_threads(tasks: list[Any], workers: int | None) -> list[Any]:
    """The tasks with the decoder threads the pipeline gives them (``None``: FFmpeg's choice)."""
    from dataclasses import replace

    from vidsift.embedder.extract import decoder_threads_for

    return [replace(t, decoder_threads=0 if workers is None else decoder_threads_for(t, workers)) for t in tasks]


def decode_only(tasks: list[Any]) -> tuple[float, list[np.ndarray]]:
    from vidsift.embedder.reader import read_video

    chunks: list[np.ndarray] = []
    t, cpu = time.perf_counter(), time.process_time()
    for task in tasks:
        for msg in read_video(task):
            if msg[0] == "chunk":
                chunks.append(msg[4])  # ("chunk", video_id, frames, times, pixels)
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
    LAST_CPU["decode"] = cpu / max(1, sum(len(c) for c in chunks))
    return sum(len(c) for c in chunks) / dt, chunks


def _spin(seconds: float, out: Any) -> None:
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(1000):
            pass
        n += 1
    out.put(n / seconds)


def machine_share(cores: int, seconds: float = 0.3) -> float:
    """Rate of ``cores`` busy processes together over one alone (see ``machine`` above)."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    q = ctx.Queue()

    def run(k: int) -> list[float]:
        procs = [ctx.Process(target=_spin, args=(seconds, q)) for _ in range(k)]
        for p in procs:
            p.start()
        rates = [q.get() for _ in procs]
        for p in procs:
            p.join()
        return rates

    alone = run(1)[0]
    return min(1.0, statistics.mean(run(cores)) / alone)


#: CPU seconds per frame of the last decode-only / model-only measure (all threads of this process)
LAST_CPU: dict[str, float] = {}


def cpu_bound(decode_fps: float, model_fps: float, cores: int, cpu_decode: float, cpu_model: float) -> float:
    """The highest efficiency the cores allow: decoding and the model together need
    c_d + c_m CPU seconds per frame (measured alone), so no pipeline on ``cores`` cores beats
    cores / (c_d + c_m) frames/s; returned as a share of min(decode-only, model-only)."""
    need = cpu_decode + cpu_model
    if need <= 0:
        return 1.0
    return min(1.0, cores / need / min(decode_fps, model_fps))


def model_only(emb: Any, chunks: list[np.ndarray], batch_size: int, streams: int = 1) -> float:
    """frames/s of ``emb.embed`` on batches of ``batch_size``, ``streams`` batches at a time
    (threads, as the pipeline's ``Batcher`` runs them)."""
    from concurrent.futures import ThreadPoolExecutor

    frames = np.concatenate(chunks)
    batches = [frames[i : i + batch_size] for i in range(0, len(frames), batch_size)]
    with ThreadPoolExecutor(max(1, streams)) as pool:
        list(pool.map(emb.embed, batches[: max(1, streams)]))  # warm-up (allocations, lazy init)
        t, cpu = time.perf_counter(), time.process_time()
        if streams > 1:
            list(pool.map(emb.embed, batches))
        else:
            for b in batches:
                emb.embed(b)
        LAST_CPU["model"] = (time.process_time() - cpu) / len(frames)
        return len(frames) / (time.perf_counter() - t)


def _decode_loop(tasks: list[Any], stop: Any) -> None:
    from vidsift.embedder.reader import read_video

    while not stop.is_set():
        for task in tasks:
            for _ in read_video(task):
                if stop.is_set():
                    return


def model_beside_decoder(emb: Any, chunks: list[np.ndarray], batch_size: int, tasks: list[Any],
                         streams: int = 1) -> float:
    """model-only frames/s while a forked process decodes ``tasks`` over and over beside it (as
    the pipeline's reader worker does, at full speed): what the two stages leave each other of
    the shared caches and memory bandwidth on this machine."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    stop = ctx.Event()
    proc = ctx.Process(target=_decode_loop, args=(tasks, stop), daemon=True)
    proc.start()
    saved = dict(LAST_CPU)
    try:
        time.sleep(0.2)  # the decoder is up to speed
        return model_only(emb, chunks, batch_size, streams)
    finally:
        LAST_CPU.update(saved)
        stop.set()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()


def end_to_end(ws: Any, name: str, batch_size: int, workers: int, thumbnails: bool = False) -> Any:
    from vidsift.embedder.extract import extract

    shutil.rmtree(ws.embeddings(name), ignore_errors=True)
    from vidsift.catalog import Catalog

    cat = Catalog(ws.catalog_path)
    cat._db.execute("DELETE FROM embed_status")  # noqa: SLF001 - bench resets its own scratch catalog
    cat._db.commit()  # noqa: SLF001
    shutil.rmtree(ws.thumbnails, ignore_errors=True)
    return extract(ws, None, name, batch_size=batch_size, workers=workers, progress=False, thumbnails=thumbnails)


def one_stream(ws: Any, name: str, batch_size: int, workers: int | None) -> float:
    """end-to-end frames/s with the model on one stream (``MODEL_STREAMS = 1``): what the
    streams gain, in the same run."""
    from vidsift.embedder import extract as ex

    saved = ex.MODEL_STREAMS
    ex.MODEL_STREAMS = 1
    try:
        return end_to_end(ws, name, batch_size, workers).frames_per_second
    finally:
        ex.MODEL_STREAMS = saved


def make_hd_folder(root: Path, seconds: int) -> Path:
    """One generated 1280x720 H.264 file, GOP 250 (``bench.sparse.make_hd``)."""
    if __package__ in (None, ""):  # run as `python bench/extract.py`: make `bench` importable
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.sparse import make_hd

    folder = root / "hd"
    folder.mkdir(parents=True, exist_ok=True)
    make_hd(folder / f"hd720_gop250_{seconds}s.mp4", seconds=seconds)
    return folder


def bench(names: list[str], quick: bool, repeats: int, batch_size: int, workers: int | None, hd: int = 0,
          small: bool = True, extras: bool = True) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="vidsift-bench-") as tmp:
        root = Path(tmp)
        sets = []
        if small:
            sets.append(("small", make_videos(root, quick)))
        if hd:
            sets.append((f"720p {hd}s", make_hd_folder(root, hd)))
        for label, folder in sets:
            rows += bench_folder(root / f"ws-{len(rows)}", label, folder, names, repeats, batch_size, workers,
                                 extras)
    return rows


def bench_folder(ws_dir: Path, label: str, folder: Path, names: list[str], repeats: int, batch_size: int,
                 workers: int | None, extras: bool = True) -> list[dict[str, Any]]:
    import torch

    from vidsift.catalog import Catalog
    from vidsift.embedder.extract import auto_workers, model_plan
    from vidsift.embedder.registry import get_embedder
    from vidsift.video.scan import scan_folder
    from vidsift.workspace import Workspace

    rows = []
    ws = Workspace.at(ws_dir)
    scan_folder(Catalog(ws.catalog_path), folder)
    for name in names:
        emb = get_embedder(name, ws, batch_size=batch_size)
        tasks = tasks_for(ws, emb)
        used = auto_workers(emb, tasks) if workers is None else workers  # what extract() will run with
        dec_own, dec_rule, cpu_own, cpu_rule, mod, cpu_mod, e2e, pipe_s, n_rows = ([] for _ in range(9))
        thumbs, serial, one, single, idle, engines, share, beside = ([] for _ in range(8))
        threads = torch.get_num_threads()
        streams, per_stream = model_plan(emb, used)  # the model as the pipeline runs it
        model_threads = per_stream or threads
        own_tasks, rule_tasks = with_decoder_threads(tasks, None), with_decoder_threads(tasks, used)
        for _ in range(repeats):
            share.append(machine_share(os.cpu_count() or 1))
            d, chunks = decode_only(own_tasks)
            dec_own.append(d)
            cpu_own.append(LAST_CPU["decode"])
            dec_rule.append(decode_only(rule_tasks)[0])
            cpu_rule.append(LAST_CPU["decode"])
            torch.set_num_threads(model_threads)
            try:
                mod.append(model_only(emb, chunks, batch_size, streams))
                cpu_mod.append(LAST_CPU["model"])
                if used > 0:  # a reader process beside the model
                    beside.append(model_beside_decoder(emb, chunks, batch_size, rule_tasks, streams))
            finally:
                torch.set_num_threads(threads)
            rep = end_to_end(ws, name, batch_size, workers)
            e2e.append(rep.frames_per_second)
            pipe_s.append(rep.pipeline_seconds)
            n_rows.append(rep.frames)
            engines.append(rep.workers)
            idle.append(rep.wait_seconds / rep.seconds)
            if extras:
                thumbs.append(end_to_end(ws, name, batch_size, workers, thumbnails=True).frames_per_second)
                serial.append(end_to_end(ws, name, batch_size, 0).frames_per_second)
                one.append(end_to_end(ws, name, batch_size, 1).frames_per_second)
                if streams > 1:
                    single.append(one_stream(ws, name, batch_size, workers))
        # The decode-only baseline, per run. The two passes of a run are two samples of one
        # decoder when the pipeline gives it FFmpeg's own threads (``workers=0``, HD frames):
        # their mean, since the larger of two samples of the same thing is biased upwards (two
        # passes differ by up to 30 % here). When the thread counts differ, the decoder that is
        # faster over all runs (median) is the baseline: the pipeline cannot lower its own
        # denominator by giving the decoder a worse thread count.
        same = [t.decoder_threads for t in own_tasks] == [t.decoder_threads for t in rule_tasks]
        if same:
            dec = [(a + b) / 2 for a, b in zip(dec_own, dec_rule, strict=True)]
            cpu_dec = [(a + b) / 2 for a, b in zip(cpu_own, cpu_rule, strict=True)]
        elif statistics.median(dec_own) >= statistics.median(dec_rule):
            dec, cpu_dec = dec_own, cpu_own
        else:
            dec, cpu_dec = dec_rule, cpu_rule
        cores = os.cpu_count() or 1
        bound = [cpu_bound(d, m, cores, c_d, c_m) for d, m, c_d, c_m in zip(dec, mod, cpu_dec, cpu_mod, strict=True)]
        pipe = [n / s / min(d, m) if s else 0.0 for n, s, d, m in zip(n_rows, pipe_s, dec, mod, strict=True)]
        # of what the cores allow: the slower stage's rate capped by the CPU bound's rate
        attain = [x / (min(d, m) * b) for x, d, m, b in zip(e2e, dec, mod, bound, strict=True)]
        frames = sum(len(c) for c in chunks)
        runs = [x / min(a, b) for a, b, x in zip(dec, mod, e2e, strict=True)]
        rows.append({
            "set": label, "embedder": name, "input": f"{emb.input_size[0]}x{emb.input_size[1]}", "dim": emb.dim,
            "videos": len(tasks), "frames": frames, "workers": sorted(set(engines)),
            "decode_only_fps": statistics.median(dec), "decode_only_ffmpeg_threads_fps": statistics.median(dec_own),
            "decode_only_pipeline_threads_fps": statistics.median(dec_rule),
            "model_only_fps": statistics.median(mod), "model_threads": model_threads, "model_streams": streams,
            "end_to_end_fps": statistics.median(e2e),
            "efficiency": statistics.median(runs), "efficiency_runs": [round(r, 3) for r in runs],
            "efficiency_of_medians": statistics.median(e2e) / min(statistics.median(dec), statistics.median(mod)),
            "decode_baseline": "mean of both passes" if same else (
                "FFmpeg threads" if dec is dec_own else "pipeline threads"),
            "with_thumbnails_fps": statistics.median(thumbs) if thumbs else None,
            "no_workers_fps": statistics.median(serial) if serial else None,
            "one_worker_fps": statistics.median(one) if one else None,
            "one_stream_fps": statistics.median(single) if single else None,
            "model_idle": statistics.median(idle), "cpu_bound": statistics.median(bound),
            "model_beside_decoder_fps": statistics.median(beside) if beside else None,
            "contention_bound": (statistics.median([min(a, b) / min(a, c) for a, b, c in zip(dec, beside, mod, strict=True)])
                                 if beside else None),
            "of_attainable": statistics.median(attain), "of_attainable_runs": [round(x, 3) for x in attain],
            "pipeline_efficiency": statistics.median(pipe), "pipeline_efficiency_runs": [round(x, 3) for x in pipe],
            "machine_share": statistics.median(share), "machine_share_runs": [round(x, 2) for x in share],
        })
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    out = ["| videos | embedder | input | frames | decode-only f/s (FFmpeg threads / pipeline's) | model-only f/s | model beside decoder f/s | end-to-end f/s | workers | efficiency: median of runs (runs) | of medians | pipeline (runs) | CPU bound | of attainable (runs) | contention bound | machine | model idle | + thumbnails f/s | workers 0 f/s | workers 1 f/s | one model stream f/s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        runs = ", ".join(f"{x:.2f}" for x in r["efficiency_runs"])
        mb = "-" if r["model_beside_decoder_fps"] is None else f"{r['model_beside_decoder_fps']:.0f}"
        cb = "-" if r["contention_bound"] is None else f"{r['contention_bound']:.2f}"
        out.append(
            f"| {r['set']} | {r['embedder']} | {r['input']} | {r['frames']} | {r['decode_only_fps']:.0f} "
            f"({r['decode_only_ffmpeg_threads_fps']:.0f} / {r['decode_only_pipeline_threads_fps']:.0f}) | "
            f"{r['model_only_fps']:.0f} | {mb} | {r['end_to_end_fps']:.0f} | {'/'.join(map(str, r['workers']))} | "
            f"{r['efficiency']:.2f} ({runs}) | {r['efficiency_of_medians']:.2f} | "
            f"{r['pipeline_efficiency']:.2f} ({', '.join(f'{x:.2f}' for x in r['pipeline_efficiency_runs'])}) | "
            f"{r['cpu_bound']:.2f} | {r['of_attainable']:.2f} ({', '.join(f'{x:.2f}' for x in r['of_attainable_runs'])}) | {cb} | {r['machine_share']:.2f} | "
            f"{100 * r['model_idle']:.0f}% | "
            + " | ".join("-" if r[k] is None else f"{r[k]:.0f}"
                         for k in ("with_thumbnails_fps", "no_workers_fps", "one_worker_fps", "one_stream_fps")) + " |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small videos, one repeat")
    ap.add_argument("--embedders", nargs="+", default=["pixels", "random:siamese"])
    ap.add_argument("--repeats", type=int, default=None, help="runs per measure (default 3, 1 with --quick)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=None,
                    help="decoding processes for end-to-end (default: extract()'s own choice)")
    ap.add_argument("--hd", type=int, default=0, metavar="SECONDS",
                    help="also measure a generated 1280x720 H.264 file (GOP 250) of this many seconds")
    ap.add_argument("--hd-only", action="store_true", help="with --hd: skip the small videos")
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    ap.add_argument("--no-extras", action="store_true",
                    help="skip the thumbnails and workers 0 / 1 columns (more repeats in the same time)")
    args = ap.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    rows = bench(args.embedders, args.quick, repeats, args.batch_size, args.workers, args.hd,
                 small=not (args.hd and args.hd_only), extras=not args.no_extras)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"cores: {os.cpu_count()}, workers: {'auto' if args.workers is None else args.workers}, batch: {args.batch_size}, repeats: {repeats}")
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
