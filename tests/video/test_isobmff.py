"""An MP4 cut short before its index gets a message that says so (``video.isobmff``)."""

from __future__ import annotations

import pytest
from vidsift_testdata import moving_gradient

from vidsift.errors import VideoError
from vidsift.video.isobmff import missing_index_reason
from vidsift.video.reader import probe
from vidsift.video.writer import write_video


@pytest.fixture(scope="module")
def mp4(tmp_path_factory):
    path = tmp_path_factory.mktemp("isobmff") / "whole.mp4"
    write_video(path, moving_gradient(30, 64, 64), fps=10)
    return path


def _boxes(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        out.append(data[pos + 4 : pos + 8])
        pos += int.from_bytes(data[pos : pos + 4], "big")
    return out


def test_a_whole_file_and_other_files_get_no_reason(mp4, tmp_path) -> None:
    assert missing_index_reason(mp4) is None
    text = tmp_path / "notes.mp4"
    text.write_text("hello, not a video")
    assert missing_index_reason(text) is None
    assert missing_index_reason(tmp_path / "absent.mp4") is None


def test_cut_inside_the_media_data(mp4, tmp_path) -> None:
    data = mp4.read_bytes()
    assert _boxes(data)[-1] == b"moov"  # written last, as cameras do
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: data.index(b"mdat") + 200])
    assert "ends inside its 'mdat' box, before its index" in missing_index_reason(cut)
    with pytest.raises(VideoError, match=r"cut\.mp4: .*not a readable video \(the file ends inside its 'mdat' box"):
        probe(cut)


def test_complete_boxes_without_an_index(mp4, tmp_path) -> None:
    data = mp4.read_bytes()
    no_moov = tmp_path / "no_moov.mp4"
    no_moov.write_bytes(data[: data.rindex(b"moov") - 4])  # every box whole, the index left out
    assert "it has no index (no 'moov' box)" in missing_index_reason(no_moov)
