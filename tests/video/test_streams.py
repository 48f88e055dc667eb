"""Which stream is the video: cover art is not (``video.streams``)."""

from __future__ import annotations

import av

from vidsift.video.streams import stream_kinds, video_stream
from vidsift.video.synthetic.write import make_broken_files


def test_cover_art_is_not_the_video(tmp_path) -> None:
    files = make_broken_files(tmp_path)
    with av.open(str(files["cover_only"])) as c:
        assert c.streams.video and video_stream(c) is None
        assert stream_kinds(c) == ["audio", "cover art"]
    with av.open(str(files["audio_only"])) as c:
        assert video_stream(c) is None and stream_kinds(c) == ["audio"]
    with av.open(str(files["rotated"])) as c:
        assert video_stream(c) is c.streams.video[0]
