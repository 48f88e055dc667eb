"""``video.timeline``: sampling by presentation time, the read plan, lookups, storage."""

from __future__ import annotations

import numpy as np
import pytest

from vidsift.video.timeline import (
    SampleSelector,
    Timeline,
    iter_reads,
    plan_reads,
    sample_by_every,
    sample_by_rate,
)

VFR = np.array([0.0, 0.5, 3.0, 3.5, 3.6, 6.0])  # a frame held 2.5 s, then a burst


def test_sample_by_rate_takes_the_first_frame_at_or_after_each_tick_once() -> None:
    # ticks 0, 1, 2, ..., 6: t=1, 2, 3 all fall to the frame at 3.0 (taken once); 4, 5, 6 -> 6.0
    assert sample_by_rate(VFR, 1.0).tolist() == [0, 2, 5]
    assert sample_by_rate(VFR, 2.0).tolist() == [0, 1, 2, 3, 5]
    assert sample_by_rate(VFR, 1.0, start=1, stop=5).tolist() == [2]
    assert sample_by_rate(np.arange(30) / 30, 10.0).tolist() == list(range(0, 30, 3))


@pytest.mark.parametrize("fps", [0.5, 1.0, 2.0, 7.0])
def test_streaming_selector_agrees_with_the_planned_sample(fps: float) -> None:
    rng = np.random.default_rng(0)
    pts = np.cumsum(rng.choice([0.01, 0.04, 0.2, 1.3], size=200))
    pts -= pts[0]
    sel = SampleSelector(fps=fps)
    streamed = [i for i, t in enumerate(pts) if sel.take(i, float(t))]
    assert streamed == sample_by_rate(pts, fps).tolist()
    sel = SampleSelector(every=7, start=3, stop=50)
    assert [i for i, t in enumerate(pts) if sel.take(i, float(t))] == sample_by_every(200, 7, 3, 50).tolist()


def test_lookups() -> None:
    tl = Timeline(VFR, np.array([0, 3]))
    assert [tl.frame_at(t) for t in (-1, 0.0, 0.49, 0.5, 2.9, 3.55, 99)] == [0, 0, 0, 1, 1, 3, 5]
    assert tl.index_of(3.5) == 3 and tl.index_of(3.4) is None
    assert [tl.keyframe_before(i) for i in range(6)] == [0, 0, 0, 3, 3, 3]
    assert tl.duration == 6.0 and tl.end == pytest.approx(6.0 + 1 / tl.rate())


def test_plan_seeks_only_when_cheaper_than_decoding_forward() -> None:
    # keyframes every 100 frames; a seek costs 10 frames
    tl = Timeline(np.arange(1000) / 25, np.arange(0, 1000, 100))
    # 5 -> 20: forward (15 < 10 + 20); 20 -> 450: seek to 400 (10 + 50 < 430); 460: forward
    assert plan_reads(np.array([5, 20, 450, 460]), tl, 10) == [(0, [5, 20]), (400, [450, 460])]
    # dense wanted frames never seek
    assert plan_reads(np.arange(0, 1000, 2), tl, 10) == [(0, list(range(0, 1000, 2)))]
    assert [tl.keyframe_before(450, back) for back in (0, 1, 4, 9)] == [400, 300, 0, 0]


def test_runs_start_as_far_back_as_the_reader_asks_when_they_start() -> None:
    """A reader that learnt its seeks land late asks for earlier keyframes from the next run on."""
    tl = Timeline(np.arange(1000) / 25, np.arange(0, 1000, 100))
    back = {"n": 0}
    runs = []
    for first, wanted in iter_reads(np.array([5, 450, 850]), tl, 10, lambda: back["n"]):
        runs.append((first, wanted))
        back["n"] = 1  # what the reader does after a seek that landed late
    assert runs == [(0, [5]), (300, [450]), (700, [850])]


def test_storage_round_trip() -> None:
    tl = Timeline(VFR, np.array([0, 3]), origin=600.25, complete=False)
    back = Timeline.from_bytes(tl.to_bytes(), problem="stopped")
    assert np.array_equal(back.pts, VFR) and back.keyframes.tolist() == [0, 3]
    assert (back.origin, back.complete, back.problem) == (600.25, False, "stopped")
