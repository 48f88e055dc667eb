"""``vidsift embed`` warns when a store has collapsed (all vectors one way, or most dimensions
dead), and stays quiet on a store with spread."""

from __future__ import annotations

import torch

from vidsift.embedder.extract import extract
from vidsift.training.checkpoint import save_checkpoint
from vidsift.training.registry import get_method


def _collapsed_checkpoint(path):
    """A siamese (small backbone) whose fc6 is a constant: every frame gets the same vector."""
    m = get_method("siamese")
    cfg = m.config("cpu", backbone="small", fc6=16, fc7=8, input_size=(32, 32), steps=1)
    model = m.build_model(cfg)
    with torch.no_grad():
        model.fc6.weight.zero_()
        model.fc6.bias.fill_(1.0)
    return save_checkpoint(path, model, None, 1, cfg)


def test_embed_warns_on_collapsed_store(scenes, ws, tmp_path) -> None:
    ckpt = _collapsed_checkpoint(tmp_path / "run" / "last.pt")
    report = extract(ws, scenes, str(ckpt), progress=False, thumbnails=False)
    assert report.collapse is not None and report.collapse["collapsed"]
    assert report.collapse["mean_cosine"] > 0.99
    warning = [n for n in report.notes if n.startswith("warning:")]
    assert warning and "collapsed" in warning[0] and "pixels" in warning[0]
    assert report.to_dict()["notes"] == report.notes


def test_embed_quiet_on_healthy_store(scenes, ws) -> None:
    report = extract(ws, scenes, "pixels", progress=False, thumbnails=False)
    assert report.collapse is not None and not report.collapse["collapsed"]
    assert not [n for n in report.notes if n.startswith("warning:")]
    again = extract(ws, scenes, "pixels", progress=False, thumbnails=False)  # nothing new embedded
    assert again.collapse is None


def test_the_writer_keeps_the_same_sample_whatever_order_videos_finish_in() -> None:
    import numpy as np

    from vidsift.embedder import writer as w

    rng = np.random.default_rng(0)
    vecs = {f"v{i:03d}": rng.normal(size=(100, 4)).astype(np.float32) for i in range(w.SAMPLE_VIDEOS + 5)}

    def sample(order):
        sw = w.ShardWriter("/nonexistent", "e", {}, None, 4, background=False)
        for vid in order:
            sw._keep_sample(vid, vecs[vid])  # noqa: SLF001 - the writer's own bookkeeping
        return sw.sampled_vectors()

    ids = sorted(vecs)
    a, b = sample(ids), sample(ids[::-1])
    assert np.array_equal(a, b)
    # the first SAMPLE_VIDEOS ids, every ceil(100 / SAMPLE_ROWS)-th row of each
    step = -(-100 // w.SAMPLE_ROWS)
    assert np.array_equal(a, np.concatenate([vecs[v][::step] for v in ids[: w.SAMPLE_VIDEOS]]))
