"""The grey path of shot detection (``VideoReader.iter_luma``, ``Backend.to_luma``) and the
per-file libswscale context of the PyAV back-end: same frames, numbers and times as the RGB path."""

from __future__ import annotations

import av
import numpy as np
import pytest

from vidsift.errors import BadInputError
from vidsift.video import open_video
from vidsift.video.backends.pyav_backend import PyAVBackend, _spread


def _grey(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])


@pytest.mark.parametrize("name,size", [("bikes.mp4", (72, 128)), ("cityCC0.mpg", (72, 128)), ("carphone_pristine.mp4", (90, 100))])
def test_luma_matches_rgb_frames(real, name, size):
    """Same indices and timeline as ``iter_frames``; the grey picture is the RGB one's luma
    (sampled, not filtered, so pixels differ in detail: compare by correlation and mean level)."""
    with open_video(real[name]) as r:
        idx_l, luma = zip(*r.iter_luma(size, batch=16), strict=True)
        tl_luma = r.timeline
    with open_video(real[name]) as r:
        idx_rgb, rgb = zip(*r.iter_frames(size=size, batch=16), strict=True)
        tl_rgb = r.timeline
    luma, rgb = np.concatenate(luma), np.concatenate(rgb)
    assert np.array_equal(np.concatenate(idx_l), np.concatenate(idx_rgb))
    assert luma.shape == rgb.shape[:3] and luma.dtype == np.uint8
    assert np.array_equal(tl_luma.pts, tl_rgb.pts) and np.array_equal(tl_luma.keyframes, tl_rgb.keyframes)
    g = _grey(rgb).ravel()
    corr = np.corrcoef(luma.ravel().astype(np.float64), g)[0, 1]
    assert corr > 0.95 and abs(luma.mean() - g.mean()) < 12, (corr, luma.mean(), g.mean())


def test_luma_of_small_frames_goes_through_libswscale(tiny_video):
    with open_video(tiny_video) as r:
        h, w = r.info.height, r.info.width
        big = (h, w + 7)  # wider than the frame: no strided grid, libswscale scales
        frames = np.concatenate([f for _, f in r.iter_luma(big)])
    assert frames.shape[1:] == big and frames.dtype == np.uint8
    with open_video(tiny_video) as r:
        assert len(frames) == r.num_frames


def test_iter_luma_needs_a_size(real):
    with open_video(real["bikes.mp4"]) as r, pytest.raises(BadInputError, match="frame size"):
        next(r.iter_luma(None))


def test_spread_covers_the_frame():
    assert _spread(720, 144) == slice(2, 720, 5)
    pos = _spread(272, 144)
    assert len(pos) == 144 and pos[0] == 0 and pos[-1] == 271 and np.all(np.diff(pos) >= 1)


@pytest.mark.parametrize("size", [None, (16, 16), (72, 128), (33, 17)])
def test_reused_swscale_context_gives_the_same_pixels(real, size):
    """``to_array`` keeps one libswscale context per file; the pixels equal PyAV's per-frame
    ``VideoFrame.reformat`` (also when the wanted size changes between calls)."""
    path = str(real["bikes.mp4"])
    backend = PyAVBackend(path)
    try:
        with av.open(path) as c:
            for k, frame in enumerate(c.decode(video=0)):
                backend.to_array(frame, (8, 8))  # another size first: the context must follow
                got = backend.to_array(frame, size)
                if size is None:
                    want = frame.to_ndarray(format="rgb24")
                else:
                    want = frame.reformat(width=size[1], height=size[0], format="rgb24").to_ndarray()
                assert np.array_equal(got, want)
                if k == 3:
                    break
    finally:
        backend.close()


def test_decoder_threads_change_nothing_but_speed(real):
    """Extraction caps the decoder's threads (``decoder_threads``): frames, numbers and times
    are those of the default decoder, on the first pass and on a second one (a fresh demuxer)."""
    path = real["bikes.mp4"]
    with open_video(path) as r:
        want = [(i, t, f) for i, t, f in r.iter_timed(every=7, size=(24, 32))]
    with open_video(path, decoder_threads=1) as r:
        for _ in range(2):
            got = [(i, t, f) for i, t, f in r.iter_timed(every=7, size=(24, 32))]
            assert len(got) == len(want)
            for (i, t, f), (j, u, g) in zip(got, want, strict=True):
                assert np.array_equal(i, j) and np.array_equal(t, u) and np.array_equal(f, g)
