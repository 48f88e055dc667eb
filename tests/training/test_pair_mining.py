"""Algorithm 1 pair mining and the F1/F2 volume transforms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vidsift.errors import BadInputError
from vidsift.training.data.pair_mining import (
    PairMiner,
    Volume,
    decode_pair,
    sample_pair_spec,
    volumes_overlap,
)
from vidsift.training.data.source import ArrayFrameSource
from vidsift.training.data.transforms import (
    ColorJitter,
    VolumeTransform,
    color_jitter,
    hflip,
    hsv_to_rgb,
    rgb_to_hsv,
    sample_negative_transform,
    sample_positive_transform,
)

SHAPE = (4, 8, 8)  # T, h, w

# -- overlap ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (Volume(0, 0, 0, 0), Volume(0, 0, 0, 0), True),  # identical
        (Volume(0, 0, 0, 0), Volume(0, 3, 7, 7), True),  # share one voxel (corner)
        (Volume(0, 0, 0, 0), Volume(0, 4, 0, 0), False),  # touching in time: [0,4) and [4,8)
        (Volume(0, 0, 0, 0), Volume(0, 0, 8, 0), False),  # touching in rows
        (Volume(0, 0, 0, 0), Volume(0, 0, 0, 8), False),  # touching in columns
        (Volume(0, 0, 0, 0), Volume(0, 2, 20, 0), False),  # same frames, boxes apart
        (Volume(0, 0, 0, 0), Volume(0, 10, 2, 2), False),  # same place, frames apart
        (Volume(0, 0, 0, 0), Volume(1, 0, 0, 0), False),  # another video
        (Volume(0, 5, 3, 3), Volume(0, 2, 0, 0), True),  # overlap on all three axes
    ],
)
def test_overlap_cases(a: Volume, b: Volume, overlap: bool) -> None:
    assert volumes_overlap(a, b, SHAPE) is overlap
    assert volumes_overlap(b, a, SHAPE) is overlap


def test_overlap_matches_voxel_sets() -> None:
    rng = np.random.default_rng(0)
    T, h, w = SHAPE
    for _ in range(200):
        t1, y1, x1, t2, y2, x2 = rng.integers(0, 12, size=6).tolist()
        a, b = Volume(0, t1, y1, x1), Volume(0, t2, y2, x2)
        grid = np.zeros((2, 24, 24, 24), bool)
        grid[0, t1 : t1 + T, y1 : y1 + h, x1 : x1 + w] = True
        grid[1, t2 : t2 + T, y2 : y2 + h, x2 : x2 + w] = True
        assert volumes_overlap(a, b, SHAPE) == bool((grid[0] & grid[1]).any())


# -- Algorithm 1 --------------------------------------------------------------------------------


def test_positives_never_overlap_and_negatives_cross_videos() -> None:
    miner = PairMiner([9, 30, 12, 8], frame_size=(12, 12), vol_shape=SHAPE)
    rng = np.random.default_rng(1)
    kinds = {"I": 0, "F1": 0, "F2": 0, "F1∘F2": 0}
    for _ in range(2000):
        s = miner.sample(rng, positive=True)
        assert s.label == 1 and s.first.video == s.second.video
        assert not volumes_overlap(s.first, s.second, SHAPE)
        kinds[s.transform.name] += 1
        n = miner.sample(rng, positive=False)
        assert n.label == -1 and n.first.video != n.second.video
        for v in (s.first, s.second, n.first, n.second):  # inside the video and the frame
            assert 0 <= v.t <= miner.lengths[v.video] - SHAPE[0]
            assert 0 <= v.y <= 12 - SHAPE[1] and 0 <= v.x <= 12 - SHAPE[2]
    # F uniform over {I, F1, F2, F1∘F2}
    assert all(400 < c < 600 for c in kinds.values()), kinds


def test_mined_positions_cover_every_start_and_transforms_follow_the_paper() -> None:
    # positions come from floor(u * hi): every start 0..L-T (and 0..H-h) must be reachable
    miner = PairMiner([10, 12], frame_size=(10, 12), vol_shape=SHAPE)
    rng = np.random.default_rng(5)
    pos = [miner.sample(rng, positive=True) for _ in range(3000)]
    neg = [miner.sample(rng, positive=False) for _ in range(3000)]
    for video, length in ((0, 10), (1, 12)):
        ts = {v.t for s in neg for v in (s.first, s.second) if v.video == video}
        assert ts == set(range(length - SHAPE[0] + 1))
    assert {v.y for s in neg for v in (s.first, s.second)} == set(range(10 - SHAPE[1] + 1))
    assert {v.x for s in neg for v in (s.first, s.second)} == set(range(12 - SHAPE[2] + 1))
    assert 0.45 < np.mean([s.first.video == 0 for s in neg]) < 0.55
    # negatives: F1 and F2 each half the time, independently; positives: F uniform over 4
    assert 0.45 < np.mean([s.transform.color is not None for s in neg]) < 0.55
    assert 0.45 < np.mean([s.transform.flip for s in neg]) < 0.55
    both = np.mean([s.transform.color is not None and s.transform.flip for s in neg])
    assert 0.2 < both < 0.3
    names = [s.transform.name for s in pos]
    assert all(650 < names.count(n) < 850 for n in ("I", "F1", "F2", "F1∘F2"))
    params = [s.transform.color for s in pos + neg if s.transform.color is not None]
    shift, power, scale = (
        np.array([getattr(p, a) for p in params]) for a in ("shift", "power", "scale")
    )
    assert -0.1 <= shift.min() and shift.max() <= 0.1 and abs(shift.mean()) < 0.01
    assert 0.5 <= power.min() and power.max() <= 2.0 and abs(power.mean() - 1.25) < 0.03
    assert 0.7 <= scale.min() and scale.max() <= 2.0 and abs(scale.mean() - 1.35) < 0.03


def test_negative_transform_each_half_the_time() -> None:
    rng = np.random.default_rng(2)
    ts = [sample_negative_transform(rng) for _ in range(4000)]
    assert 0.45 < np.mean([t.color is not None for t in ts]) < 0.55
    assert 0.45 < np.mean([t.flip for t in ts]) < 0.55
    ps = [sample_positive_transform(rng) for _ in range(4000)]
    both = np.mean([(t.color is not None) and t.flip for t in ps])
    assert 0.2 < both < 0.3


def test_batch_split_30_70() -> None:
    miner = PairMiner([40, 40, 40], frame_size=(8, 8), vol_shape=SHAPE)
    batch = miner.sample_batch(np.random.default_rng(0), 10)
    assert [s.label for s in batch] == [1, 1, 1] + [-1] * 7


def test_spatially_disjoint_positives_from_short_videos() -> None:
    # 5 frames < 2T: positives must be side by side in space (frames 16 wide hold two 8-wide boxes)
    miner = PairMiner([5, 5], frame_size=(8, 16), vol_shape=SHAPE)
    rng = np.random.default_rng(3)
    for _ in range(200):
        s = miner.sample(rng, positive=True)
        assert not volumes_overlap(s.first, s.second, SHAPE)
        assert abs(s.first.x - s.second.x) >= 8


def test_rejection_fallback_places_a_disjoint_pair() -> None:
    # exactly 2T frames and no spatial room: only t = (0, 4) or (4, 0) works (2 of 25 draws)
    miner = PairMiner([8, 8], frame_size=(8, 8), vol_shape=SHAPE, max_tries=1)
    rng = np.random.default_rng(4)
    for _ in range(100):
        s = miner.sample(rng, positive=True)
        assert {s.first.t, s.second.t} == {0, 4}


def test_short_videos_are_skipped_with_a_warning() -> None:
    with pytest.warns(
        UserWarning, match=r"skips 1 video\(s\) shorter than one volume \(4 frames\): b"
    ):
        miner = PairMiner({"a": 10, "b": 3, "c": 10}, frame_size=(8, 8), vol_shape=SHAPE)
    rng = np.random.default_rng(0)
    assert all(1 not in (s.first.video, s.second.video) for s in miner.sample_batch(rng, 50))


def test_bad_inputs() -> None:
    with pytest.raises(BadInputError, match="at least two videos"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            PairMiner([10, 2], frame_size=(8, 8), vol_shape=SHAPE)
    with pytest.raises(BadInputError, match="does not fit frames"):
        PairMiner([10, 10], frame_size=(6, 8), vol_shape=SHAPE)
    with pytest.raises(BadInputError, match="non-overlapping"):
        PairMiner([6, 6], frame_size=(8, 8), vol_shape=SHAPE)
    spec = sample_pair_spec(
        np.random.default_rng(0), [6, 6], (8, 8), SHAPE, positive=False, pos_ratio=0.0
    )
    assert spec.label == -1


def test_decode_pair_crops_and_transforms() -> None:
    rng = np.random.default_rng(0)
    videos = {f"v{i}": rng.integers(0, 256, size=(10, 12, 12, 3), dtype=np.uint8) for i in range(2)}
    src = ArrayFrameSource(videos)
    spec = PairMiner([10, 10], (12, 12), SHAPE).sample(rng, positive=False)
    spec = type(spec)(spec.first, spec.second, VolumeTransform(flip=True), -1)
    a, b = decode_pair(src, src.video_ids, spec, (12, 12), SHAPE)
    f, s = spec.first, spec.second
    np.testing.assert_array_equal(
        a, videos[src.video_ids[f.video]][f.t : f.t + 4, f.y : f.y + 8, f.x : f.x + 8]
    )
    raw = videos[src.video_ids[s.video]][s.t : s.t + 4, s.y : s.y + 8, s.x : s.x + 8]
    np.testing.assert_array_equal(b, raw[:, :, ::-1])


# -- transforms -----------------------------------------------------------------------------------


def _volume(seed: int = 0, shape=(3, 6, 5, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def test_flip_twice_is_identity_and_flips_columns() -> None:
    v = _volume()
    np.testing.assert_array_equal(hflip(hflip(v)), v)
    np.testing.assert_array_equal(hflip(v)[:, :, 0], v[:, :, -1])


def test_hsv_round_trip_matches_matplotlib() -> None:
    import matplotlib.colors as mcolors

    rgb = np.random.default_rng(1).random((50, 3))
    np.testing.assert_allclose(rgb_to_hsv(rgb), mcolors.rgb_to_hsv(rgb), atol=1e-12)
    np.testing.assert_allclose(hsv_to_rgb(rgb_to_hsv(rgb)), rgb, atol=1e-12)


def test_color_parameters_within_paper_ranges() -> None:
    rng = np.random.default_rng(2)
    params = [ColorJitter.sample(rng) for _ in range(2000)]
    shift = np.array([p.shift for p in params])
    power = np.array([p.power for p in params])
    scale = np.array([p.scale for p in params])
    assert shift.min() >= -0.1 and shift.max() <= 0.1
    assert power.min() >= 0.5 and power.max() <= 2.0
    assert scale.min() >= 0.7 and scale.max() <= 2.0
    assert shift.std() > 0.05 and power.std() > 0.4 and scale.std() > 0.3  # spread, not constant


def test_color_jitter_hand_numbers_and_same_for_every_frame() -> None:
    # one pixel, HSV (0.5, 0.5, 0.5): +0.05 -> (0.55, 0.55, 0.55); ^2 -> S, V = 0.3025; *2 -> 0.605
    p = ColorJitter(shift=0.05, power=2.0, scale=2.0)
    rgb = np.round(hsv_to_rgb(np.array([0.5, 0.5, 0.5])) * 255).astype(np.uint8)
    got = rgb_to_hsv(color_jitter(rgb[None, None, None], p)[0, 0, 0] / 255.0)
    np.testing.assert_allclose(got, [0.55, 0.605, 0.605], atol=0.01)
    # a volume whose frames are equal stays equal frame to frame (one transform per volume)
    frame = _volume(3, (1, 6, 5, 3))
    vol = np.repeat(frame, 4, axis=0)
    out = VolumeTransform(color=p, flip=True)(vol)
    assert out.shape == vol.shape and out.dtype == np.uint8
    for t in range(1, 4):
        np.testing.assert_array_equal(out[t], out[0])
    np.testing.assert_array_equal(out[0], color_jitter(hflip(frame), p)[0])
    # saturated values are clipped into range, not wrapped
    white = np.full((1, 1, 1, 3), 250, np.uint8)
    assert color_jitter(white, ColorJitter(0.1, 0.5, 2.0)).max() == 255
