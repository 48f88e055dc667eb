"""Bad files: every generated broken kind plus seeded truncations and byte flips of real files.

Each case must end, quickly, either with valid probe data or with a one-line ``VideoError``
naming the file; a scan of a folder holding all of them still processes every good file.
240 mutated files in all (two seeds of 120), a few seconds.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from vidsift_testdata import moving_gradient

from vidsift.catalog import Catalog
from vidsift.errors import VideoError
from vidsift.video.scan import inspect_video, scan_folder
from vidsift.video.synthetic.write import make_broken_files
from vidsift.video.writer import write_video


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    kind = rng.integers(0, 4)
    n = len(data)
    if kind == 0:  # truncate anywhere
        return data[: int(rng.integers(0, n))]
    buf = bytearray(data)
    if kind == 1:  # flip bytes
        for pos in rng.integers(0, n, size=int(rng.integers(1, 64))):
            buf[pos] ^= int(rng.integers(1, 256))
        return bytes(buf)
    if kind == 2:  # overwrite a block with garbage
        start = int(rng.integers(0, n))
        length = int(rng.integers(1, 4096))
        buf[start : start + length] = rng.integers(0, 256, size=len(buf[start : start + length]), dtype=np.uint8).tobytes()
        return bytes(buf)
    # cut a hole out of the middle
    a, b = sorted(int(x) for x in rng.integers(0, n, size=2))
    return data[:a] + data[b:]


def make_cases(folder, sources, count, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    blobs = [p.read_bytes() for p in sources]
    paths = []
    for i in range(count):
        src = blobs[i % len(blobs)]
        p = folder / f"case_{i:03d}{'.mp4' if i % 3 else '.mpg'}"
        p.write_bytes(mutate(src, rng))
        paths.append(p)
    return paths


def check_cases(paths, per_file_limit=20.0):
    outcomes = {"ok": 0, "error": 0}
    for p in paths:
        t = time.monotonic()
        try:
            info = inspect_video(p, timeout=per_file_limit)
            assert info["num_frames"] > 0 and info["shots"][0] == 0
            outcomes["ok"] += 1
        except VideoError as exc:
            msg = str(exc)
            assert msg.startswith(str(p)) and "\n" not in msg, msg
            outcomes["error"] += 1
        assert time.monotonic() - t < per_file_limit + 5
    return outcomes


@pytest.fixture(scope="module")
def sources(real, tmp_path_factory):
    small = tmp_path_factory.mktemp("src") / "small.mp4"
    write_video(small, moving_gradient(20, 32, 48), fps=10)
    return [real["carphone_distorted.mp4"], small]


@pytest.mark.parametrize("seed", [0, 1])
def test_mutated_files_never_crash_or_hang(sources, tmp_path, seed):
    out = check_cases(make_cases(tmp_path / "fuzz", sources, 120, seed=seed))
    assert out["ok"] + out["error"] == 120 and out["error"] > 0


def test_scan_processes_all_good_files_among_broken(sources, tmp_path):
    folder = tmp_path / "mixed"
    make_cases(folder / "fuzz", sources, 12, seed=2)
    broken = make_broken_files(folder / "broken")
    good = []
    for i in range(3):
        p = folder / "good" / f"g{i}.mp4"
        write_video(p, moving_gradient(12, 32, 48, seed=i), fps=10)
        good.append(str(p))
    cat = Catalog(tmp_path / "catalog.sqlite")
    report = scan_folder(cat, folder)
    ok_paths = {v.path for v in cat.videos()}
    assert set(good) <= ok_paths
    rows = cat.videos(status=None)
    assert len(rows) >= 12 + len(broken) + 3 - 1  # identical mutations may share an id
    failed = {p for p, _ in report.failed}
    for kind in ("zero_bytes", "text", "no_frames", "tiny"):
        assert str(broken[kind]) in failed


def test_time_limit_stops_a_slow_decode(tmp_path, monkeypatch):
    import vidsift.video.shots as shots_mod

    p = tmp_path / "slow.mp4"
    write_video(p, moving_gradient(12, 32, 48), fps=10)

    def crawl(*a, **k):
        time.sleep(5)
        return [0]

    monkeypatch.setattr(shots_mod, "detect_shots", crawl)
    t = time.monotonic()
    with pytest.raises(VideoError, match="longer than 0.5s"):
        inspect_video(p, timeout=0.5)
    assert time.monotonic() - t < 3
