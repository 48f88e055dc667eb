"""The quirks corpus has the quirks it claims, checked with PyAV and :func:`decoder_truth` only."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest
from quirks import EXPECTED, QUIRKS, SKIPPED, decoder_truth, make_quirks

MADE = [name for name in QUIRKS if name not in SKIPPED]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return make_quirks(tmp_path_factory.mktemp("quirks"))


def _need(corpus: dict[str, Path], name: str) -> Path:
    if name in SKIPPED:
        pytest.skip(f"{name}: {SKIPPED[name]}")
    return corpus[name]


def _luma(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray").astype(np.float32) for f in container.decode(video=0)]


def test_names_and_expectations_agree():
    assert set(EXPECTED) == set(QUIRKS)
    assert set(SKIPPED) <= set(QUIRKS)


@pytest.mark.parametrize("name", MADE)
def test_truth_matches_construction(corpus, name):
    exp, truth = EXPECTED[name], decoder_truth(corpus[name])
    assert truth.count == exp["frames"] == len(truth.pts)
    assert truth.header_frames == exp["header_frames"]
    assert (truth.width, truth.height) == exp["size"]
    assert truth.codec == exp["codec"]
    assert truth.pix_fmt == exp["pix_fmt"]
    assert truth.start == pytest.approx(exp["start"], abs=1e-6)
    times = exp.get("times", np.arange(exp["frames"]) / 25)
    if times is not None:
        np.testing.assert_allclose(truth.pts, times, atol=1e-6)
    assert truth.pts.dtype == np.float64 and truth.pts[0] == 0.0


@pytest.mark.parametrize("name", MADE)
def test_frame_index_is_burned_in_and_content_has_no_cut(corpus, name):
    frames = _luma(corpus[name])
    # the top-left block holds 16 + 6 * i as brightness (i = the index the frame was written at)
    mark = max(2, min(frames[0].shape) // 4)
    seen = np.array([f[mark // 2, mark // 2] for f in frames])
    np.testing.assert_allclose(seen, 16 + 6 * (np.arange(len(frames)) % 40), atol=3)
    if len(frames) < 3:
        return
    diffs = np.array([np.abs(b - a).mean() for a, b in zip(frames, frames[1:], strict=False)])
    cut = EXPECTED[name].get("cut_frame")
    if cut is None:
        assert diffs.max() < 3 * np.median(diffs) + 1, f"{name} looks like it has a cut: {diffs}"
    else:
        others = np.delete(diffs, cut - 1)
        assert diffs[cut - 1] > 4 * others.max(), f"no hard cut at frame {cut}: {diffs}"


def test_generation_is_deterministic(corpus, tmp_path):
    again = make_quirks(tmp_path)
    for name, path in corpus.items():
        assert (
            hashlib.sha256(path.read_bytes()).digest()
            == hashlib.sha256(again[name].read_bytes()).digest()
        ), name


def test_vfr_spacing_is_irregular_and_not_the_average_rate(corpus):
    path = _need(corpus, "vfr.mp4")
    steps = np.round(np.diff(decoder_truth(path).pts) * 30).astype(int)
    assert set(steps) == {1, 2, 3, 5}
    with av.open(str(path)) as container:
        rate = container.streams.video[0].average_rate
    assert not np.allclose(np.diff(decoder_truth(path).pts), 1 / float(rate), atol=1e-3)


def test_start_offset_first_pts_is_ten_seconds(corpus):
    path = _need(corpus, "start_offset.ts")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert container.format.name == "mpegts"
        assert float(stream.start_time * stream.time_base) == pytest.approx(10.0, abs=1e-3)
        first = next(p for p in container.demux(stream) if p.pts is not None)
        assert float(first.pts * first.time_base) == pytest.approx(10.0, abs=0.1)
    assert decoder_truth(path).start == pytest.approx(10.0, abs=1e-6)


def test_odd_size_decodes_at_the_odd_size(corpus):
    with av.open(str(_need(corpus, "odd_size.mkv"))) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (33, 25)
    assert frame.format.name == "yuv420p"  # odd size with 4:2:0 chroma (planes round up)
    assert frame.to_ndarray(format="rgb24").shape == (25, 33, 3)


def test_ten_bit_decodes_as_ten_bit(corpus):
    with av.open(str(_need(corpus, "ten_bit.mp4"))) as container:
        frame = next(container.decode(video=0))
    assert frame.format.name == "yuv420p10le"
    assert frame.format.components[0].bits == 10


def test_gray_decodes_as_one_plane_without_chroma(corpus):
    # FFV1 gray comes back as FFmpeg's "gray" (8-bit, one plane); to_ndarray is [H, W]
    with av.open(str(_need(corpus, "gray.mkv"))) as container:
        frame = next(container.decode(video=0))
    assert frame.format.name == "gray"
    assert len(frame.planes) == 1
    assert not any(c.is_chroma for c in frame.format.components)
    assert frame.to_ndarray().shape == (48, 64)


def test_yuv444_is_not_subsampled(corpus):
    with av.open(str(_need(corpus, "yuv444.mp4"))) as container:
        frame = next(container.decode(video=0))
    assert frame.format.name == "yuv444p"
    assert all(c.width == frame.width for c in frame.format.components)


def test_bframes_have_dts_order_different_from_pts_order(corpus):
    with av.open(str(_need(corpus, "bframes.mp4"))) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.has_b_frames > 0
        packets = [(p.dts, p.pts) for p in container.demux(stream) if p.size]
    dts, pts = zip(*packets, strict=True)
    assert list(dts) == sorted(dts)
    assert list(pts) != sorted(pts)


def test_bframes_in_avi_give_decoder_pts_out_of_order(corpus):
    path = _need(corpus, "bframes.avi")
    truth, exp = decoder_truth(path), EXPECTED["bframes.avi"]
    assert not np.all(np.diff(truth.pts) > 0)
    # the decoder's times are the display times in the wrong order, shifted by the first one
    np.testing.assert_allclose(
        np.sort(truth.pts + truth.start), np.array(exp["display_times"]) + 1 / 25, atol=1e-6
    )
    # ... while the frames themselves come out in display order (burned-in index 0, 1, 2, ...)
    frames = _luma(path)
    mark = max(2, min(frames[0].shape) // 4)
    seen = np.rint([(f[mark // 2, mark // 2] - 16) / 6 for f in frames])
    np.testing.assert_array_equal(seen, np.arange(exp["frames"]))


def test_two_video_streams_first_is_default(corpus):
    second = EXPECTED["two_video_streams.mkv"]["second_stream"]
    with av.open(str(_need(corpus, "two_video_streams.mkv"))) as container:
        first, other = container.streams.video
        assert first.index == 0 and first.disposition & av.stream.Disposition.default
        assert not other.disposition & av.stream.Disposition.default
        assert (other.codec_context.width, other.codec_context.height) == second["size"]
        assert other.codec_context.name == second["codec"]
        assert sum(1 for _ in container.decode(other)) == second["frames"]


def test_audio_comes_first_and_lasts_as_long_as_the_video(corpus):
    path = _need(corpus, "with_audio.mp4")
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        assert container.streams[0].type == "audio"
        rate = audio.codec_context.sample_rate
        seconds = sum(f.samples for f in container.decode(audio)) / rate
    assert seconds == pytest.approx(EXPECTED["with_audio.mp4"]["audio_seconds"], abs=0.1)
    assert seconds == pytest.approx(decoder_truth(path).count / 25, abs=0.1)


def test_one_frame(corpus):
    assert decoder_truth(_need(corpus, "one_frame.mp4")).count == 1


def test_vp9_in_webm(corpus):
    with av.open(str(_need(corpus, "vp9.webm"))) as container:
        assert "webm" in container.format.name
        assert container.streams.video[0].codec_context.name == "vp9"


def test_mjpeg_in_avi(corpus):
    with av.open(str(_need(corpus, "mjpeg.avi"))) as container:
        assert container.format.name == "avi"
        assert container.streams.video[0].codec_context.name == "mjpeg"


def test_hd1080(corpus):
    truth = decoder_truth(_need(corpus, "hd1080.mp4"))
    assert (truth.width, truth.height) == (1920, 1080)


@pytest.mark.parametrize("name", ["header_overcount.avi", "header_overcount.mp4"])
def test_header_overcounts_decoded_frames(corpus, name):
    truth = decoder_truth(_need(corpus, name))
    assert truth.header_frames > truth.count
    assert truth.count == EXPECTED[name]["frames"]


def test_mp4_overcount_is_an_edit_list_not_a_missing_packet(corpus):
    with av.open(str(_need(corpus, "header_overcount.mp4"))) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert len(packets) == EXPECTED["header_overcount.mp4"]["packets"]
    assert packets[-1].is_discard
