"""A file no back-end can open gives one line, and nothing else on the terminal.

decord's C++ logger and its FFmpeg print their own complaints to file descriptor 2 (below
Python's ``sys.stderr``, so pytest's capture cannot see them): the checks run in a subprocess and
read what reached its stderr."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vidsift.video.backends import BACKENDS

SCRIPT = """
import sys
from vidsift.errors import VideoError
from vidsift.video.reader import probe
for path in sys.argv[1:]:
    try:
        probe(path)
    except VideoError as exc:
        print(exc)
"""


def test_unreadable_files_print_one_line_each_and_no_library_noise(tmp_path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(3000))  # an MP4 start, no moov atom
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(text), str(cut)], capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [str(text), str(cut)]
    for line in lines:
        assert "Errno" not in line and line.count(str(tmp_path)) == 1  # the path once, at the start
        if "decord" in BACKENDS:
            assert "; decord: cannot open it" in line and "decord: decord" not in line


@pytest.mark.skipif("decord" not in BACKENDS, reason="decord is not installed")
def test_decord_alone_names_itself(tmp_path) -> None:
    from vidsift.errors import VideoError
    from vidsift.video.reader import open_video

    path = tmp_path / "notes.mp4"
    path.write_text("hello")
    with pytest.raises(VideoError, match=r"notes\.mp4: decord cannot open it$"):
        open_video(path, "decord")
