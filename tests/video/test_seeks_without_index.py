"""Sampled reads of containers without a seek index (MPEG program and transport streams, as DVD,
broadcast and AVCHD cameras write): a seek there goes by bytes and the decoder starts at the next
keyframe it meets, so it lands after the frames it was sent for. The reader then seeks one
keyframe earlier (and keeps doing so for that file) instead of decoding the file again from the
start on every miss; the frames come out in order, each the same as a full decode gives it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidsift.video import reader as reader_module
from vidsift.video.reader import MAX_SEEK_BACK, open_video
from vidsift.video.synthetic.scenes import scene_frames
from vidsift.video.writer import encoder_available, write_video

CASES = [("program.mpg", "mpeg2video"), ("transport.ts", "auto"), ("indexed.mp4", "auto")]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    frames, _ = scene_frames("astronaut", shots=3, frames_per_shot=40, size=(96, 128))
    out = tmp_path_factory.mktemp("seeks")
    made = {}
    for name, codec in CASES:
        if codec != "auto" and not encoder_available(codec):
            continue
        made[name] = write_video(out / name, frames, codec=codec, gop=12)
    return made


@pytest.mark.parametrize("name", [c[0] for c in CASES])
@pytest.mark.parametrize("fps", [1.0, 0.5])
def test_sampled_frames_come_in_order_without_rereading_from_the_start(
    files: dict[str, Path], name: str, fps: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name not in files:
        pytest.skip("no MPEG-2 encoder in this PyAV build")
    path = files[name]
    with open_video(path) as r:
        timeline = r.timeline
        whole = np.concatenate([f for _, f in r.iter_frames(size=(16, 16))])

    starts: list[int] = []
    real = reader_module.VideoReader._from_start

    def counted(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        starts.append(kwargs.get("stop"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(reader_module.VideoReader, "_from_start", counted)
    with open_video(path, timeline=timeline) as r:
        want = r.sample_indices(1, fps, 0, None)
        got = [(int(i), f) for idx, frames in r.iter_frames(fps=fps, size=(16, 16)) for i, f in zip(idx, frames, strict=True)]
        back = r._seek_back
    assert [i for i, _ in got] == list(want)  # in order: a late seek gave them out of order
    assert all(np.array_equal(f, whole[i]) for i, f in got)
    assert starts == [1]  # only the plan's own first run (frame 0) reads from the start
    assert back <= MAX_SEEK_BACK
    if name == "indexed.mp4":
        assert back == 0  # an mp4's index lands every seek where it is sent
