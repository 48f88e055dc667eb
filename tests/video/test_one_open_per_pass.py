"""Reading a video from the start opens it once: the origin probe's frames start the first pass
(``PyAVBackend.origin``), so the times are what a separate probe gave and nothing is decoded
twice. Seeks, keyframe passes and second passes still get a fresh demuxer."""

from __future__ import annotations

import av
import numpy as np
import pytest
from av_testdata import write_av_video

from vidsift.video.backends import pyav_backend
from vidsift.video.backends.pyav_backend import REORDER, PyAVBackend
from vidsift.video.reader import VideoReader


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = av.open

    def counted(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - av.open's signature
        seen.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pyav_backend.av, "open", counted)
    return seen


def _reference(path) -> tuple[float, np.ndarray]:  # noqa: ANN001
    """Origin and times the way the back-end measured them before: a separate open."""
    with av.open(str(path)) as c:
        pics = list(c.decode(video=0))
    stamps = [float(p.pts * p.time_base) for p in pics]
    origin = min(stamps[:REORDER])
    return origin, np.asarray(sorted(stamps)) - origin


@pytest.mark.parametrize("bframes", [0, 2])
def test_a_pass_from_the_start_opens_the_file_once(tmp_path, opens: list[str], bframes: int) -> None:
    path = write_av_video(tmp_path / "v.mp4", frames=30, gop=10, bframes=bframes, audio=False)
    origin, times = _reference(path)
    opens.clear()
    with VideoReader(path, decoder_threads=1) as r:  # no timeline: measured on the way (the scan)
        got = [t for _, t, _ in r._from_start(lambda i, t: True, r._rgb((16, 16)))]  # noqa: SLF001
        assert len(opens) == 1
        assert r.timeline.origin == pytest.approx(origin)
        np.testing.assert_allclose(got, times, atol=1e-9)
        # a second pass, from the start again, gets a fresh demuxer and the same times
        again = [t for _, t, _ in r._from_start(lambda i, t: True, r._rgb((16, 16)))]  # noqa: SLF001
        assert len(opens) == 2 and again == got


def test_seeks_and_keyframe_passes_reopen(tmp_path, opens: list[str]) -> None:
    path = write_av_video(tmp_path / "v.mp4", frames=40, gop=10, audio=False)
    _, times = _reference(path)
    opens.clear()
    b = PyAVBackend(str(path))
    assert b.origin() == pytest.approx(0.0) and len(opens) == 1
    keys = [t for t, key, _ in b.decode(keyframes_only=True)]
    assert len(opens) == 2 and keys == pytest.approx([0.0, 0.4, 0.8, 1.2])
    seeked = [t for t, _, _ in b.decode(from_seconds=float(times[20]))]
    assert len(opens) == 3 and seeked == pytest.approx(list(times[20:]))
    b.close()


def test_a_short_video_is_all_in_the_probe(tmp_path, opens: list[str]) -> None:
    path = write_av_video(tmp_path / "v.mp4", frames=REORDER - 3, gop=2, audio=False)
    _, times = _reference(path)
    opens.clear()
    b = PyAVBackend(str(path))
    got = [t for t, _, _ in b.decode()]
    assert len(opens) == 1 and got == pytest.approx(list(times))
    b.close()


def test_stamps_are_the_fractions_float_to_the_bit() -> None:
    from fractions import Fraction
    from types import SimpleNamespace

    from vidsift.video.backends.pyav_backend import _seconds

    rng = np.random.default_rng(0)
    bases = [Fraction(1, 90000), Fraction(1, 30000), Fraction(1001, 30000), Fraction(1, 1000), Fraction(1, 25),
             Fraction(1, 12800), Fraction(1, 44100), Fraction(3, 7)]
    for tb in bases:
        for pts in [0, 1, -3, *rng.integers(0, 2**40, 200).tolist()]:
            assert _seconds(SimpleNamespace(pts=int(pts), time_base=tb)) == float(int(pts) * tb)
    assert _seconds(SimpleNamespace(pts=None, time_base=Fraction(1, 25))) is None
    assert _seconds(SimpleNamespace(pts=5, time_base=None)) is None
