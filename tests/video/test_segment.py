"""merge_frames: hand-listed rows with known runs, shots and groups."""

from __future__ import annotations

import pandas as pd
import pytest

from vidsift.video.segment import Segment, merge_frames


def rows(*items: tuple[str, int, float, float, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"video_id": v, "path": f"/v/{v}.mp4", "frame": f, "time": t, "distance": d, "shot": s} for v, f, t, d, s in items]
    )


def test_adjacent_hits_merge_and_gaps_split() -> None:
    # video a: frames every 0.5 s at 0..1.5 s, then 5.0 s; b: one frame
    df = rows(("a", 0, 0.0, 0.3, 0), ("a", 1, 0.5, 0.1, 0), ("a", 2, 1.0, 0.2, 0), ("a", 3, 1.5, 0.4, 0),
              ("a", 10, 5.0, 0.05, 1), ("b", 4, 2.0, 0.5, 0))
    segs = merge_frames(df, by="segment", gap=1.0, span={"a": 0.5, "b": 0.5})
    assert [(s.video_id, s.start, s.end, s.first_frame, s.last_frame, s.best_frame, s.frames) for s in segs] == [
        ("a", 5.0, 5.5, 10, 10, 10, 1),  # distance 0.05: best first
        ("a", 0.0, 2.0, 0, 3, 1, 4),  # best frame 1 (distance 0.1)
        ("b", 2.0, 2.5, 4, 4, 4, 1),
    ]
    assert segs[1].distance == pytest.approx(0.1)
    # a gap of 3 s joins everything in a: 1.5 + 0.5 -> 5.0 is 3.0 s of silence
    assert len(merge_frames(df, by="segment", gap=3.0, span={"a": 0.5, "b": 0.5})) == 2
    assert len(merge_frames(df, by="segment", gap=2.99, span={"a": 0.5, "b": 0.5})) == 3


def test_shot_video_and_groups() -> None:
    df = rows(("a", 0, 0.0, 0.3, 0), ("a", 9, 4.5, 0.2, 0), ("a", 10, 5.0, 0.1, 1), ("b", 0, 0.0, 0.9, 0))
    by_shot = merge_frames(df, by="shot", gap=0.0, span={"a": 0.5, "b": 0.5}, video_end={"a": 5.2})
    assert [(s.video_id, s.first_frame, s.last_frame, s.end) for s in by_shot] == [
        ("a", 10, 10, 5.2), ("a", 0, 9, 5.0), ("b", 0, 0, 0.5)]  # end capped at the video's end
    assert [s.frames for s in merge_frames(df, by="video")] == [3, 1]
    df["group"] = ["1", "2", "2", "1"]
    grouped = merge_frames(df.drop(columns="distance"), by="video")
    assert [(s.group, s.video_id, s.frames) for s in grouped] == [("1", "a", 1), ("1", "b", 1), ("2", "a", 2)]


def test_default_span_and_errors() -> None:
    df = rows(("a", 0, 0.0, 0.0, 0), ("a", 2, 0.08, 0.0, 0), ("a", 4, 0.16, 0.0, 0))
    (seg,) = merge_frames(df)
    assert seg.end == pytest.approx(0.24)  # median gap 0.08 after the last row
    assert merge_frames(df.iloc[:0]) == []
    with pytest.raises(ValueError, match="group by 'scene'"):
        merge_frames(df, by="scene")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gap must be"):
        merge_frames(df, gap=-1)
    with pytest.raises(ValueError, match="lack column"):
        merge_frames(df.drop(columns="shot"), by="shot")
    with pytest.raises(ValueError, match="ends"):
        Segment("v", "p", 2.0, 1.0, 0, 0)
