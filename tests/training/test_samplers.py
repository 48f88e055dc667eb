"""Samplers: exact structure of pairs / quadruplets / MU / tracked triplets, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsift.errors import BadInputError
from vidsift.training.config import TrainConfig
from vidsift.training.data import tracker
from vidsift.training.data.samplers import (
    PairStream,
    QuadrupletStream,
    TripletStream,
    batch_rng,
)
from vidsift.training.data.source import ArrayFrameSource, resize_frames
from vidsift.video.synthetic import grating_videos, translating_sequence


def stamped_source(lengths: dict[str, int], size: int = 8) -> ArrayFrameSource:
    """Frames whose pixels encode (video number, frame index): R = video, G = frame."""
    arrays = {}
    for v, (vid, n) in enumerate(lengths.items()):
        a = np.zeros((n, size, size, 3), np.uint8)
        a[..., 0] = v
        a[..., 1] = np.arange(n)[:, None, None]
        arrays[vid] = a
    return ArrayFrameSource(arrays)


def cfg(**kw) -> TrainConfig:
    base = {"method": "test", "batch_size": 64, "input_size": (8, 8), "steps": 10}
    base.update(kw)
    return TrainConfig(**base)


def decoded(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(video number, frame index) of each uint8 image in a batch."""
    x = x.numpy()
    return x[:, 0, 0, 0].astype(int), x[:, 0, 0, 1].astype(int)


SRC = {"a": 30, "b": 45, "c": 25}


def test_adjacent_pairs_are_exactly_w_apart() -> None:
    for w in (1, 3):
        ds = PairStream(cfg(), stamped_source(SRC), w=w, pos_fraction=1.0)
        b = ds.batch(0)
        vid, fr = decoded(b["x"])
        n = len(b["y"])
        assert (b["y"] == 1).all()
        assert (vid[:n] == vid[n:]).all()
        assert (fr[n:] - fr[:n] == w).all()
        # the index arrays match the decoded pixels
        assert (b["frame"][:, 1] - b["frame"][:, 0] == w).all()


def test_other_video_negatives_come_from_another_video() -> None:
    ds = PairStream(cfg(), stamped_source(SRC), negatives="other-video", pos_fraction=0.5)
    b = ds.batch(3)
    vid, fr = decoded(b["x"])
    n = len(b["y"])
    neg = (b["y"] == 0).numpy()
    assert neg.sum() == n // 2
    assert (vid[:n][neg] != vid[n:][neg]).all()
    pos = ~neg
    assert (vid[:n][pos] == vid[n:][pos]).all() and (fr[n:][pos] - fr[:n][pos] == 1).all()


def test_non_adjacent_pairs_are_same_video_and_farther_than_w() -> None:
    w = 2
    ds = PairStream(cfg(), stamped_source(SRC), w=w, negatives="same-video", pos_fraction=0.25)
    for step in range(5):
        b = ds.batch(step)
        vid, fr = decoded(b["x"])
        n = len(b["y"])
        neg = (b["y"] == 0).numpy()
        assert (vid[:n] == vid[n:]).all()
        assert (np.abs(fr[n:][neg] - fr[:n][neg]) > w).all()


def test_far_frames_cover_both_sides() -> None:
    ds = PairStream(cfg(batch_size=400), stamped_source({"a": 12}), w=1, negatives="same-video", pos_fraction=0.0)
    s = ds.sample(np.random.default_rng(0), 400)
    d = s["frame"][:, 1] - s["frame"][:, 0]
    assert (np.abs(d) > 1).all() and (d > 0).any() and (d < 0).any()
    assert s["frame"].min() >= 0 and s["frame"].max() < 12


def test_quadruplet_structure() -> None:
    n = 20
    ds = QuadrupletStream(cfg(batch_size=40), stamped_source(SRC), n=n)
    b = ds.batch(1)
    vid, fr = decoded(b["x"])
    vid, fr = vid.reshape(4, -1), fr.reshape(4, -1)  # blocks q, adj, far, neg
    assert (vid[0] == vid[1]).all() and (vid[0] == vid[2]).all()
    assert (vid[3] != vid[0]).all()
    assert (fr[1] - fr[0] == 1).all() and (fr[2] - fr[0] == n).all()
    assert torch.equal(b["video"][:, 0], b["video"][:, 2])
    # every frame index is inside its video
    lengths = np.array(list(SRC.values()))
    assert (fr < lengths[vid]).all()


def test_mu_negatives_are_random_frames_of_the_long_video() -> None:
    src = stamped_source(SRC)
    ds = QuadrupletStream(cfg(batch_size=200), src, n=5, mu=True)
    s = ds.sample(np.random.default_rng(0), 200)
    g = s["global"]
    assert (g[:, 1] - g[:, 0] == 1).all() and (g[:, 2] - g[:, 0] == 5).all()
    assert (np.abs(g[:, 3] - g[:, 0]) > 5).all()
    # negatives are spread over the whole long video, own video included
    assert len(set(s["video"][:, 3].tolist())) == 3
    assert (s["video"][:, 3] == s["video"][:, 0]).any()
    # the decoded pixels agree with the long-video bookkeeping
    b = ds.batch(0)
    vid_px, fr_px = decoded(b["x"])
    order = {vid: k for k, vid in enumerate(src.video_ids)}
    names = [ds.long.video_ids[i] for i in b["video"].T.reshape(-1).tolist()]
    assert (vid_px == np.array([order[v] for v in names])).all()
    assert (fr_px == b["frame"].T.reshape(-1).numpy()).all()

    pairs = PairStream(cfg(batch_size=100), src, negatives="mu", pos_fraction=0.5)
    s = pairs.sample(np.random.default_rng(1), 100)
    neg = s["y"] == 0
    assert (np.abs(s["global"][neg, 1] - s["global"][neg, 0]) > 1).all()
    assert (s["global"][~neg, 1] - s["global"][~neg, 0] == 1).all()


def test_stream_is_a_function_of_seed_rank_and_step() -> None:
    src = stamped_source(SRC)
    a = PairStream(cfg(seed=3), src).batch(7)
    b = PairStream(cfg(seed=3), src).batch(7)
    c = PairStream(cfg(seed=4), src).batch(7)
    assert torch.equal(a["x"], b["x"]) and not torch.equal(a["x"], c["x"])
    other_rank = PairStream(cfg(seed=3), src).configure(0, rank=1, world_size=2).batch(7)
    assert other_rank["x"].shape[0] == a["x"].shape[0] // 2
    # iterating from a start step continues the stream exactly
    ds = PairStream(cfg(seed=3, steps=6), src).configure(start_step=4)
    got = [x["x"] for x in ds]
    assert len(got) == 2 and torch.equal(got[0], PairStream(cfg(seed=3), src).batch(4)["x"])
    assert batch_rng(1, 0, 2).integers(1 << 30) == batch_rng(1, 0, 2).integers(1 << 30)


def test_stream_is_independent_of_worker_count() -> None:
    from torch.utils.data import DataLoader

    src = stamped_source(SRC)
    ds = PairStream(cfg(steps=5, batch_size=8), src)
    plain = [b["x"] for b in DataLoader(ds, batch_size=None, num_workers=0)]
    two = [b["x"] for b in DataLoader(ds, batch_size=None, num_workers=2)]
    assert len(plain) == len(two) == 5
    assert all(torch.equal(p, q) for p, q in zip(plain, two, strict=True))


def test_too_few_or_too_short_videos_are_refused() -> None:
    with pytest.raises(BadInputError, match=r"quadruplets need at least 2 videos longer than 20 frames; found 1"):
        QuadrupletStream(cfg(), stamped_source({"a": 30, "b": 10, "c": 20}), n=20)
    with pytest.raises(BadInputError, match=r"pairs with other-video negatives need at least 2 videos"):
        PairStream(cfg(), stamped_source({"a": 30}))
    with pytest.raises(BadInputError, match=r"triplets need at least 2 videos longer than 8 frames"):
        TripletStream(cfg(), stamped_source({"a": 30, "b": 5}, size=64), track_len=8)
    with pytest.raises(BadInputError, match=r"non-adjacent pairs need at least 1 video longer than 2 frames"):
        PairStream(cfg(), stamped_source({"a": 2}), negatives="same-video")
    with pytest.raises(BadInputError, match="found 0"):
        PairStream(cfg(), ArrayFrameSource({}))
    # too-short videos are skipped when enough long ones remain
    ds = QuadrupletStream(cfg(), stamped_source({"a": 30, "b": 10, "c": 25}), n=20)
    assert ds.ids == ["a", "c"]


def test_tracker_follows_a_translating_patch_exactly() -> None:
    seq = translating_sequence(frames=9, size=(64, 64), velocity=(1, 2), seed=1)
    gray = tracker.to_gray(seq)
    path = tracker.track(gray, 20, 12, patch=16, radius=4)
    assert path == [(20 + t, 12 + 2 * t) for t in range(9)]
    # moving up-left, larger steps than 1 px, still exact within the search radius
    seq = translating_sequence(frames=6, size=(64, 64), velocity=(-3, -2), seed=2)
    path = tracker.track(tracker.to_gray(seq), 40, 40, patch=12, radius=4)
    assert path == [(40 - 3 * t, 40 - 2 * t) for t in range(6)]


def test_tracked_triplet_crops_show_the_same_content() -> None:
    seq = translating_sequence(frames=9, size=(64, 64), velocity=(1, 1), seed=3)
    other = translating_sequence(frames=9, size=(64, 64), velocity=(0, -1), seed=4)
    src = ArrayFrameSource({"a": seq, "b": other})
    ds = TripletStream(cfg(input_size=(16, 16), batch_size=4), src,
                       frame_size=(64, 64), patch=16, track_len=8, track_stride=2, radius=4)
    b = ds.batch(0)
    boxes = b["box"].numpy()
    for k, v in enumerate(b["video"].tolist()):
        vel = (1, 1) if ds.ids[v] == "a" else (0, -1)
        y0, x0, y1, x1 = boxes[k]
        assert (y1 - y0, x1 - x0) == (8 * vel[0], 8 * vel[1])
    n = len(b["video"])
    assert torch.equal(b["x"][:n], b["x"][n:])  # content identical after tracking
    assert len(set(b["video"].tolist())) == 2  # in-batch negatives exist


def test_pick_patch_prefers_texture_and_motion() -> None:
    frame = np.zeros((48, 48), np.float32)
    nxt = frame.copy()
    frame[30:42, 30:42] = np.random.default_rng(0).uniform(0, 255, (12, 12))
    nxt[31:43, 31:43] = frame[30:42, 30:42]
    y, x = tracker.pick_patch(frame, nxt, 12, np.random.default_rng(0), top=1)
    assert abs(y - 30) <= 3 and abs(x - 30) <= 3


def test_resize_and_synthetic_scenes() -> None:
    arrays, labels = grating_videos(n_scenes=2, videos_per_scene=2, frames=6, size=16)
    assert set(arrays) == {"s0v0", "s0v1", "s1v0", "s1v1"}
    assert arrays["s0v0"].shape == (6, 16, 16, 3) and (labels["s1v1"] == 1).all()
    small = resize_frames(arrays["s0v0"], (8, 8))
    assert small.shape == (6, 8, 8, 3) and small.dtype == np.uint8
    multi, lab = grating_videos(n_scenes=3, videos_per_scene=1, frames=9, size=8, shots=3)
    assert sorted(set(lab["s0v0"].tolist())) == [0, 1, 2]


def test_video_source_cache_gives_the_frames_random_access_gives(tmp_path) -> None:
    import pickle

    from vidsift.training.data.source import VideoFrameSource

    write_video = pytest.importorskip("vidsift.video.writer").write_video
    arrays, _ = grating_videos(n_scenes=2, videos_per_scene=1, frames=20, size=32, seed=0)
    pairs = []
    for vid, a in arrays.items():
        write_video(tmp_path / f"{vid}.mp4", a, fps=25)
        pairs.append((vid, str(tmp_path / f"{vid}.mp4")))
    cached, direct = VideoFrameSource(pairs), VideoFrameSource(pairs, cache_mb=0)
    idx = [7, 2, 2, 19, 0]
    for vid in arrays:
        assert cached.num_frames(vid) == 20
        for size in ((32, 32), (16, 24)):
            got = cached.get_frames(vid, idx, size)
            assert got.shape == (5, *size, 3) and np.array_equal(got, direct.get_frames(vid, idx, size))
    assert len(cached._cache) == 4 and not direct._cache
    clone = pickle.loads(pickle.dumps(cached))  # what a DataLoader worker receives
    assert not clone._cache and not clone._readers
    assert np.array_equal(clone.get_frames("s0v0", idx, (32, 32)), direct.get_frames("s0v0", idx, (32, 32)))
