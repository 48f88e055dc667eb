"""video.cut: a range cut with its audio, stream-copied on a keyframe and re-encoded otherwise.

The clips are 64x64, 25 fps, keyframe every 10 frames (0.4 s), with a stereo AAC tone; frame i
has red = 4 i, so the first frame of a cut tells which frame it starts on.
"""

from __future__ import annotations

import av
import pytest
from av_testdata import SAMPLE_RATE, stream_durations, write_av_video

from vidsift.errors import BadInputError, VideoError
from vidsift.video.cut import clip_suffix, cut, plan_cut

FRAME = 1 / 25
AUDIO_PACKET = 1024 / SAMPLE_RATE


@pytest.fixture(scope="module")
def av_clip(tmp_path_factory):
    return write_av_video(tmp_path_factory.mktemp("cut") / "tone.mp4", frames=40, gop=10)


@pytest.fixture(scope="module")
def bframe_clip(tmp_path_factory):
    return write_av_video(tmp_path_factory.mktemp("cutb") / "bframes.mp4", frames=40, gop=10, bframes=2)


def check_output(path, start: float, end: float, first_frame: int) -> dict[str, float]:
    d = stream_durations(path)
    with av.open(str(path)) as c:
        assert len(c.streams.video) == 1 and len(c.streams.audio) == 1
    assert d["frames"] == round((end - start) / FRAME)
    assert abs(d["video"] - (end - start)) <= FRAME + 1e-6
    assert abs(d["audio"] - (end - start)) <= AUDIO_PACKET + 1e-6
    assert abs(d["first_red"] - 4 * first_frame) <= 8  # lossy coding moves colours a little
    return d


def test_cut_on_a_keyframe_is_a_stream_copy(av_clip, tmp_path):
    plan = plan_cut(av_clip, 0.4, 0.8)
    assert plan.mode == "copy" and "keyframe at 0.400" in plan.reason
    res = cut(av_clip, tmp_path / "k.mp4", 0.4, 0.8)
    assert res.mode == "copy" and res.frames == 10 and res.audio
    check_output(res.path, 0.4, 0.8, first_frame=10)


def test_cut_off_a_keyframe_is_re_encoded(av_clip, tmp_path):
    res = cut(av_clip, tmp_path / "r.mp4", 0.48, 1.0)
    assert res.mode == "reencode" and "after the keyframe at 0.400" in res.reason
    assert res.frames == 13
    check_output(res.path, 0.48, 1.0, first_frame=12)


def test_forced_modes(av_clip, tmp_path):
    res = cut(av_clip, tmp_path / "f.mkv", 0.4, 0.8, mode="reencode")
    assert res.mode == "reencode" and res.reason == "re-encoding was asked for"
    check_output(res.path, 0.4, 0.8, first_frame=10)
    with pytest.raises(BadInputError, match="cannot stream-copy"):
        cut(av_clip, tmp_path / "g.mp4", 0.44, 0.8, mode="copy")
    assert not (tmp_path / "g.mp4").exists()


def test_b_frames_that_need_a_frame_after_the_range_force_a_re_encode(bframe_clip, tmp_path):
    # display I0 B1 B2 P3 ...: a range ending after B-frames whose reference is outside it
    plan = plan_cut(bframe_clip, 0.4, 0.72)
    assert plan.mode == "reencode" and "B-frames" in plan.reason
    res = cut(bframe_clip, tmp_path / "b.mp4", 0.4, 0.72)
    check_output(res.path, 0.4, 0.72, first_frame=10)
    # ending on a keyframe is clean: copied
    res = cut(bframe_clip, tmp_path / "c.mp4", 0.4, 0.8)
    assert res.mode == "copy"
    check_output(res.path, 0.4, 0.8, first_frame=10)


def test_range_is_clamped_to_the_video_and_validated(av_clip, tmp_path):
    res = cut(av_clip, tmp_path / "tail.mp4", 1.2, 9.0)
    assert (res.mode, res.start, res.frames) == ("copy", 1.2, 10)
    assert res.end == pytest.approx(1.6)
    check_output(res.path, 1.2, 1.6, first_frame=30)
    with pytest.raises(BadInputError, match="is empty"):
        cut(av_clip, tmp_path / "e.mp4", 1.0, 1.0)
    with pytest.raises(BadInputError, match="no frame in"):
        cut(av_clip, tmp_path / "e.mp4", 5.0, 6.0)
    with pytest.raises(BadInputError, match=r"write \.mp4"):
        cut(av_clip, tmp_path / "e.avi", 0.0, 1.0)
    with pytest.raises(VideoError, match="no such file"):
        cut(tmp_path / "gone.mp4", tmp_path / "e.mp4", 0.0, 1.0)
    assert not list(tmp_path.glob("e.*")) and not list(tmp_path.glob(".*"))


def test_video_without_audio(tmp_path):
    src = write_av_video(tmp_path / "mute.mp4", frames=20, gop=5, audio=False)
    res = cut(src, tmp_path / "m.mp4", 0.2, 0.6)
    assert res.mode == "copy" and not res.audio
    with av.open(str(res.path)) as c:
        assert len(c.streams.video) == 1 and not c.streams.audio
    res = cut(src, tmp_path / "n.mp4", 0.24, 0.6)
    assert res.mode == "reencode" and stream_durations(res.path)["frames"] == 9


def test_clip_suffix():
    assert [clip_suffix(p) for p in ("a.mp4", "b.MOV", "c.mkv", "d.avi", "e")] == [".mp4", ".mov", ".mkv", ".mkv", ".mkv"]
