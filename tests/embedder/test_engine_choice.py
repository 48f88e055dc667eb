"""How `vidsift embed` picks its engine when --workers is not given: in-process decoding for a
model far cheaper than decoding, a decoding process otherwise; decoder threads by frame size."""

from __future__ import annotations

import numpy as np
import pytest

from vidsift.embedder import extract as ex
from vidsift.embedder.extract import auto_workers, decoder_threads_for, extract
from vidsift.embedder.reader import VideoTask
from vidsift.workspace import Workspace


def task(h: int, w: int) -> VideoTask:
    return VideoTask(video_id="v", path="/v.mp4", size=(32, 32), source_size=(h, w))


def test_cheap_models_decode_in_process_and_costly_ones_get_a_worker(monkeypatch) -> None:
    tasks = [task(360, 640)]
    monkeypatch.setattr(ex, "decode_cost", lambda t: 1e-3)
    monkeypatch.setattr(ex, "model_cost", lambda emb, rows=1: 1e-5)
    assert auto_workers(object(), tasks) == 0
    monkeypatch.setattr(ex, "model_cost", lambda emb, rows=1: 5e-4)
    assert auto_workers(object(), tasks) == 1
    assert auto_workers(object(), []) == 1


def test_decoder_threads_follow_the_frame_size() -> None:
    assert decoder_threads_for(task(360, 640), workers=1) == 1  # small: the model keeps its core
    assert decoder_threads_for(task(720, 1280), workers=1) == 0  # HD: FFmpeg's choice
    assert decoder_threads_for(task(360, 640), workers=0) == 0  # decoding alone in this process


def test_the_chosen_engine_gives_the_same_store_as_a_worker(tmp_path) -> None:
    from vidsift.embedder.store import load_store
    from vidsift.video.synthetic.write import make_scene_videos

    make_scene_videos(tmp_path / "v", scenes=("astronaut",), videos_per_scene=2, shots_per_video=2,
                      frames_per_shot=6, size=(32, 48), fps=10.0)
    a, b = Workspace.at(tmp_path / "a"), Workspace.at(tmp_path / "b")
    ra = extract(a, tmp_path / "v", "pixels", progress=False, thumbnails=False)  # workers=None: chosen
    rb = extract(b, tmp_path / "v", "pixels", progress=False, thumbnails=False, workers=1)
    assert ra.workers == 0 and rb.workers == 1  # pixels is far cheaper than decoding
    sa, sb = load_store(a.embeddings("pixels")), load_store(b.embeddings("pixels"))
    assert sa.meta[["video_id", "frame", "time"]].equals(sb.meta[["video_id", "frame", "time"]])
    np.testing.assert_array_equal(sa.vectors, sb.vectors)


@pytest.mark.parametrize("workers", [0, 1])
def test_an_explicit_choice_is_kept(tmp_path, workers) -> None:
    from vidsift.video.synthetic.write import make_scene_videos

    make_scene_videos(tmp_path / "v", scenes=("coffee",), videos_per_scene=1, shots_per_video=1,
                      frames_per_shot=4, size=(32, 32), fps=10.0)
    r = extract(Workspace.at(tmp_path / "w"), tmp_path / "v", "pixels", progress=False, thumbnails=False, workers=workers)
    assert r.workers == workers


def test_model_streams_give_the_same_store_as_one_stream(tmp_path, monkeypatch) -> None:
    from vidsift.embedder.store import load_store
    from vidsift.video.synthetic.write import make_scene_videos

    make_scene_videos(tmp_path / "v", scenes=("astronaut", "coffee"), videos_per_scene=2, shots_per_video=2,
                      frames_per_shot=10, size=(32, 48), fps=10.0)
    stores = []
    for streams in (1, 2):
        monkeypatch.setattr(ex, "MODEL_STREAMS", streams)
        monkeypatch.setattr(ex.os, "cpu_count", lambda: 2)
        ws = Workspace.at(tmp_path / f"w{streams}")
        r = extract(ws, tmp_path / "v", "random:siamese", progress=False, thumbnails=False, workers=1, batch_size=8)
        assert r.streams == streams and r.frames == 80 and len(r.done) == 4
        stores.append(load_store(ws.embeddings("random:siamese")))
    assert stores[0].meta.equals(stores[1].meta)
    np.testing.assert_array_equal(stores[0].vectors, stores[1].vectors)  # the same bits
