"""Load on `vidsift serve`: 1, 8 and 64 concurrent clients doing mixed searches over HTTP.

A workspace gets the video-shaped synthetic store of ``bench.ui_search`` (``--frames`` vectors
in videos of 1000 frames, dim ``--dim``) and its index (kind chosen by size: flat at 100k, IVF
at 1M). ``vidsift serve`` runs on it as a real process on 127.0.0.1 (a read token required, rate
limit off), and each client (a thread holding one keep-alive HTTP connection) sends, for
``--seconds`` per level, a mix of the searches a team makes:

* 40% ``video`` + ``at`` (a time in a random indexed video), k=10;
* 20% ``video`` + ``frame`` with ``exclude_window=10``;
* 20% a raw ``vector`` (a stored vector plus noise);
* 20% ``video`` + ``frame`` within two chosen ``videos``.

It prints requests/s, p50/p95/p99 latency (ms), errors (must be 0) and the ratio of the API's
requests/s to calling ``services.indexes.search_workspace`` directly in one process (one thread,
index loaded, the same mix): what the HTTP layer, JSON and the GIL-bound server cost.
The client threads share the machine with the server, as they would not in production.

    python -m bench.api_load                         # 100k frames
    python -m bench.api_load --million --workdir /tmp/ws1m
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ui_search import NAME, make_store  # noqa: E402
from vidsift.api.auth import create_token, tokens_path  # noqa: E402
from vidsift.embedder.store import MANIFEST, load_store, read_manifest  # noqa: E402
from vidsift.services.indexes import build_workspace_index, load_workspace_index, search_workspace  # noqa: E402
from vidsift.workspace import Workspace  # noqa: E402

FRAMES_PER_VIDEO = 1000


def percentiles(ms: list[float]) -> tuple[float, float, float]:
    if not ms:
        return (float("nan"),) * 3
    p = np.percentile(np.asarray(ms), [50, 95, 99])
    return float(p[0]), float(p[1]), float(p[2])


def prepare(ws: Workspace, frames: int, dim: int, seed: int) -> float:
    """Store + index of ``frames`` vectors (reused when there); returns the seconds it took."""
    t0 = time.perf_counter()
    store = ws.embeddings(NAME)
    videos = max(1, frames // FRAMES_PER_VIDEO)
    n = videos * FRAMES_PER_VIDEO
    reuse = (store / MANIFEST).exists() and read_manifest(store).get("dim") == dim \
        and len(load_store(store, with_vectors=False)) == n
    if not reuse:
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(ws.indexes(NAME), ignore_errors=True)
        make_store(ws, videos, FRAMES_PER_VIDEO, dim, seed)
    if not reuse or not (ws.indexes(NAME) / "meta.json").exists():
        build_workspace_index(ws, NAME, use_gpu=False)
    return time.perf_counter() - t0


class Mix:
    """The query mix, seeded: ``next(rng)`` -> a JSON body for POST /search."""

    def __init__(self, ws: Workspace, seed: int) -> None:
        vi = load_workspace_index(ws, NAME, use_gpu=False)
        self.videos = sorted(vi.videos)
        self.frames = {v: vi.columns.frames_of(vi.columns.code_of[v])[0] for v in self.videos}
        rng = np.random.default_rng(seed)
        picks = rng.choice(vi.ntotal, size=min(256, vi.ntotal), replace=False)
        data = load_store(ws.embeddings(NAME), self.videos[:8])
        self.vectors = data.vectors[rng.integers(0, len(data), 64)]
        self.vectors = self.vectors + 0.05 * rng.standard_normal(self.vectors.shape).astype(np.float32)
        del picks

    def body(self, rng: random.Random) -> dict:
        r = rng.random()
        vid = rng.choice(self.videos)
        frames = self.frames[vid]
        frame = int(frames[rng.randrange(len(frames))])
        if r < 0.4:
            return {"embedder": NAME, "video": vid, "at": round(frame / 25.0, 3), "k": 10}
        if r < 0.6:
            return {"embedder": NAME, "video": vid, "frame": frame, "k": 10, "exclude_window": 10}
        if r < 0.8:
            return {"embedder": NAME, "vector": self.vectors[rng.randrange(len(self.vectors))].tolist(), "k": 10}
        return {"embedder": NAME, "video": vid, "frame": frame, "k": 10,
                "videos": [vid, rng.choice(self.videos)]}


def library_direct(ws: Workspace, mix: Mix, seconds: float, seed: int) -> tuple[float, list[float], int]:
    """The same mix through ``search_workspace`` in this process, one call at a time."""
    rng = random.Random(seed)
    lat: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds
    t_start = time.perf_counter()
    while time.perf_counter() < end:
        q = dict(mix.body(rng))
        q.pop("embedder")
        if "vector" in q:
            q["vector"] = np.asarray(q["vector"], np.float32)
        t0 = time.perf_counter()
        try:
            search_workspace(ws, NAME, **q)
        except Exception:  # noqa: BLE001 - counted
            errors += 1
        lat.append((time.perf_counter() - t0) * 1000)
    return len(lat) / (time.perf_counter() - t_start), lat, errors


def api_level(port: int, token: str, mix: Mix, clients: int, seconds: float, seed: int) -> tuple[float, list[float], int]:
    lat: list[list[float]] = [[] for _ in range(clients)]
    errs = [0] * clients
    go = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        go.wait()
        while time.perf_counter() < deadline[0]:
            body = json.dumps(mix.body(rng))
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/search", body, headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200 or not data.startswith(b"["):
                    errs[i] += 1
            except (OSError, http.client.HTTPException):
                errs[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            lat[i].append((time.perf_counter() - t0) * 1000)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    t_start = time.perf_counter()
    go.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    flat = [x for xs in lat for x in xs]
    return len(flat) / elapsed, flat, sum(errs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(ws: Workspace, port: int) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "vidsift", "serve", "-w", str(ws.root), "--port", str(port),
                             "--rate", "0"], env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + 120
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"vidsift serve exited: {proc.stderr.read().decode()[-500:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("vidsift serve did not start in 120 s")


def warm(port: int, token: str, mix: Mix) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    rng = random.Random(0)
    for _ in range(5):  # the first search loads the index into the server
        conn.request("POST", "/search", json.dumps(mix.body(rng)),
                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        conn.getresponse().read()
    conn.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100_000, help="vectors in the store (videos of 1000 frames)")
    ap.add_argument("--million", action="store_true", help="1M frames")
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--clients", default="1,8,64", help="concurrency levels, comma separated")
    ap.add_argument("--seconds", type=float, default=10.0, help="per level")
    ap.add_argument("--workdir", default=None, help="keep the workspace here and reuse it")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    frames = 1_000_000 if args.million else args.frames
    tmp = None
    if args.workdir:
        ws = Workspace.at(args.workdir)
    else:
        tmp = tempfile.mkdtemp(prefix="vidsift-api-load-")
        ws = Workspace.at(tmp)
    try:
        t_prep = prepare(ws, frames, args.dim, args.seed)
        vi = load_workspace_index(ws, NAME, use_gpu=False)
        print(f"# {vi.ntotal} frames of dim {args.dim} in {len(vi.videos)} videos, {vi.params.kind} index "
              f"(store + index {t_prep:.0f}s); {os.cpu_count()} CPUs shared by server and clients")
        mix = Mix(ws, args.seed)
        lib_rps, lib_lat, lib_err = library_direct(ws, mix, args.seconds, args.seed)
        token, _ = create_token(tokens_path(ws), "read", note="bench.api_load")
        port = free_port()
        server = start_server(ws, port)
        rows = []
        try:
            warm(port, token, mix)
            for c in [int(x) for x in args.clients.split(",")]:
                rps, lat, err = api_level(port, token, mix, c, args.seconds, args.seed)
                rows.append((c, rps, *percentiles(lat), err, len(lat)))
        finally:
            server.terminate()
            server.wait(30)
        p50, p95, p99 = percentiles(lib_lat)
        print()
        print("| clients | requests/s | p50 ms | p95 ms | p99 ms | errors | requests | API / library |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| library, 1 thread | {lib_rps:.0f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {lib_err} | {len(lib_lat)} | 1.00 |")
        for c, rps, q50, q95, q99, err, n in rows:
            print(f"| {c} | {rps:.0f} | {q50:.1f} | {q95:.1f} | {q99:.1f} | {err} | {n} | {rps / lib_rps:.2f} |")
        if any(r[5] for r in rows):
            raise SystemExit("errors under load (must be 0)")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
