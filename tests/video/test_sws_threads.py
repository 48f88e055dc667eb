"""The PyAV back-end converts small pictures on one libswscale thread and large ones on FFmpeg's
choice, and the pixels do not depend on it (the same bits as a conversion on FFmpeg's threads)."""

from __future__ import annotations

import av
import numpy as np
import pytest
from av.video.reformatter import VideoReformatter
from av_testdata import write_av_video

from vidsift.video.backends import pyav_backend
from vidsift.video.backends.pyav_backend import SWS_ONE_THREAD_PIXELS, PyAVBackend


class _Spy:
    """A ``VideoReformatter`` (a final extension type) that notes the threads it is asked for."""

    threads: list[int] = []

    def __init__(self) -> None:
        self._real = VideoReformatter()

    def reformat(self, frame, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201 - PyAV's signature
        _Spy.threads.append(kwargs.get("threads"))
        return self._real.reformat(frame, *args, **kwargs)


@pytest.mark.parametrize("side", [64, 720])  # 64x64 and 720x720 (over SWS_ONE_THREAD_PIXELS)
def test_threads_by_picture_size_and_same_pixels(tmp_path, monkeypatch, side: int) -> None:
    path = write_av_video(tmp_path / f"s{side}.mp4", frames=6, gop=3, audio=False, size=side)
    monkeypatch.setattr(pyav_backend, "VideoReformatter", _Spy)
    _Spy.threads = []
    backend = PyAVBackend(str(path))
    got_rgb, got_grey = [], []
    for _t, _key, picture in backend.decode():
        got_rgb.append(backend.to_array(picture, (48, 40)))
        got_grey.append(backend.to_luma(picture, (40, 36)) if side == 64 else backend.to_array(picture, None))
    backend.close()
    want = 1 if side * side <= SWS_ONE_THREAD_PIXELS else 0
    assert _Spy.threads and set(_Spy.threads) == {want}

    with av.open(str(path)) as c:  # the reference: every conversion on FFmpeg's own threads
        ref = list(c.decode(video=0))
    assert len(ref) == len(got_rgb) == 6
    for picture, rgb, other in zip(ref, got_rgb, got_grey, strict=True):
        assert np.array_equal(rgb, picture.reformat(width=40, height=48, format="rgb24", threads=0).to_ndarray())
        if side == 64:  # under twice the size: grey through libswscale
            assert np.array_equal(other, picture.reformat(width=36, height=40, format="gray", threads=0).to_ndarray())
        else:
            assert np.array_equal(other, picture.reformat(format="rgb24", threads=0).to_ndarray())
