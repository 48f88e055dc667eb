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


def test_batches_are_full_and_every_row_reaches_the_writer_in_order():
    model, writer, tracker = _Model(), _Writer(), _Tracker()
    b = Batcher(model, writer, 8, tracker)  # type: ignore[arg-type]
    sizes = {"a": [8, 8, 3], "b": [8, 5], "c": [2]}  # last chunks of a video are short
    for vid, chunks in sizes.items():
        start = 0
        for n in chunks:
            frames = np.arange(start, start + n)
            pixels = np.zeros((n, 2, 2, 3), np.uint8)
            pixels[:, 0, 0, 0] = frames + 100 * (ord(vid) - ord("a"))
            b.add(vid, frames, frames / 10.0, pixels)
            start += n
    b.flush()
    assert model.batches == [8, 8, 8, 8, 2]  # 34 rows: four full batches, then the rest
    assert tracker.frames == 34
    for vid, chunks in sizes.items():
        rows = writer.rows[vid]
        n = sum(chunks)
        assert [f for f, _, _ in rows] == list(range(n))
        assert [t for _, t, _ in rows] == [f / 10.0 for f in range(n)]
        assert [v for _, _, v in rows] == [f + 100 * (ord(vid) - ord("a")) for f in range(n)]
