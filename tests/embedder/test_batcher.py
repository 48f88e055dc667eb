"""The extraction batcher: full model batches across chunk and video boundaries, rows kept in order."""

from __future__ import annotations

import numpy as np

from vidsift.embedder.extract import Batcher


class _Model:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def embed(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(len(batch))
        return batch.reshape(len(batch), -1)[:, :1].astype(np.float32)  # the first pixel


class _Writer:
    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[int, float, float]]] = {}

    def add(self, vid: str, frames: np.ndarray, times: np.ndarray, vectors: np.ndarray) -> None:
        for f, t, v in zip(frames.tolist(), times.tolist(), vectors[:, 0].tolist(), strict=True):
            self.rows.setdefault(vid, []).append((f, t, v))


class _Tracker:
    def __init__(self) -> None:
        self.frames = 0

    def update(self, n: int) -> None:
        self.frames += n


def _feed(b: Batcher, sizes: dict[str, list[int]]) -> None:
    for vid, chunks in sizes.items():
        start = 0
        for n in chunks:
            frames = np.arange(start, start + n)
            pixels = np.zeros((n, 2, 2, 3), np.uint8)
            pixels[:, 0, 0, 0] = frames + 50 * (ord(vid) - ord("a"))
            b.add(vid, frames, frames / 10.0, pixels)
            start += n


def test_batches_are_full_and_every_row_reaches_the_writer_in_order():
    model, writer, tracker = _Model(), _Writer(), _Tracker()
    b = Batcher(model, writer, 8, tracker)  # type: ignore[arg-type]
    sizes = {"a": [8, 8, 3], "b": [8, 5], "c": [2]}  # last chunks of a video are short
    _feed(b, sizes)
    b.flush()
    assert model.batches == [8, 8, 8, 8, 2]  # 34 rows: four full batches, then the rest
    assert tracker.frames == 34
    for vid, chunks in sizes.items():
        rows = writer.rows[vid]
        n = sum(chunks)
        assert [f for f, _, _ in rows] == list(range(n))
        assert [t for _, t, _ in rows] == [f / 10.0 for f in range(n)]
        assert [v for _, _, v in rows] == [f + 50 * (ord(vid) - ord("a")) for f in range(n)]


class _SlowModel(_Model):
    """Batches finish out of order: the first of each pair sleeps longest."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.lock = threading.Lock()
        self.calls = 0

    def embed(self, batch: np.ndarray) -> np.ndarray:
        import time

        with self.lock:
            self.calls += 1
            k = self.calls
        time.sleep(0.02 if k % 2 else 0.0)
        return batch.reshape(len(batch), -1)[:, :1].astype(np.float32)


def test_two_streams_deliver_the_same_rows_in_the_same_order_as_one() -> None:
    sizes = {"a": [8, 8, 3], "b": [8, 5], "c": [2], "d": [8, 8, 8]}
    got = []
    for streams in (1, 2):
        model, writer, tracker = _SlowModel(), _Writer(), _Tracker()
        b = Batcher(model, writer, 8, tracker, streams=streams)  # type: ignore[arg-type]
        _feed(b, sizes)
        b.drain()
        assert b.idle and tracker.frames == 58
        b.close()
        got.append(writer.rows)
    assert got[0] == got[1]
    assert list(got[1]) == ["a", "b", "c", "d"]  # videos reach the writer in the order they were batched
    assert [f for f, _, _ in got[1]["d"]] == list(range(24))


def test_a_model_error_in_a_stream_reaches_the_engine() -> None:
    class Broken(_Model):
        def embed(self, batch: np.ndarray) -> np.ndarray:
            raise RuntimeError("model exploded")

    b = Batcher(Broken(), _Writer(), 4, _Tracker(), streams=2)  # type: ignore[arg-type]
    try:
        _feed(b, {"a": [4, 4, 4]})  # the third batch waits for the first, whose error is raised here
        raise AssertionError("the error was lost")
    except RuntimeError as exc:
        assert "model exploded" in str(exc)
    finally:
        b.close()


def test_model_plan_runs_streams_only_beside_a_decoding_process(monkeypatch) -> None:
    import torch

    from vidsift.embedder import extract as ex

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(ex.os, "cpu_count", lambda: 2)
    assert ex.model_plan(object(), 0) == (1, None)  # decoding in this process: torch keeps its threads
    assert ex.model_plan(object(), 1) == (2, 1)  # two one-thread streams beside one decoder
    monkeypatch.setattr(ex.os, "cpu_count", lambda: 1)
    assert ex.model_plan(object(), 1) == (1, 1)
    monkeypatch.setattr(ex.os, "cpu_count", lambda: 16)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 16)
    assert ex.model_plan(object(), 2) == (2, 7)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert ex.model_plan(object(), 1) == (1, None)  # the model works on the GPU
