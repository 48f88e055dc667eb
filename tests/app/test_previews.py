"""What the page plays: the file itself when a browser can (H.264 / VP9 in MP4, WebM, MOV), else an
H.264 MP4 excerpt cut once into ``<workspace>/previews`` (MPEG-2 program streams, MPEG-TS from
cameras, HEVC from phones)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from vidsift.services import media
from vidsift.video.synthetic.scenes import scene_frames
from vidsift.video.writer import encoder_available, write_video
from vidsift.workspace import Workspace


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    frames, _ = scene_frames("coffee", shots=2, frames_per_shot=50, size=(64, 96))  # 4 s at 25 fps
    out = tmp_path_factory.mktemp("clips")
    made = {"h264.mp4": write_video(out / "h264.mp4", frames), "h264.ts": write_video(out / "h264.ts", frames)}
    if encoder_available("mpeg2video"):
        made["mpeg2.mpg"] = write_video(out / "mpeg2.mpg", frames, codec="mpeg2video")
    if encoder_available("libx265"):
        made["hevc.mp4"] = write_video(out / "hevc.mp4", frames, codec="libx265")
    return made


def _codec_and_seconds(path: str) -> tuple[str, float]:
    with av.open(path) as c:
        s = c.streams.video[0]
        pts = [f.pts * f.time_base for f in c.decode(s)]
        return s.codec_context.name, float(max(pts) - min(pts)) + 1 / 25


def test_a_file_the_browser_plays_is_played_itself(clips: dict[str, Path], tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    pb = media.playback(ws, str(clips["h264.mp4"]), "v1", 1.5, 3.0)
    assert pb == media.Playback(str(clips["h264.mp4"]), 1.5, 3.0, preview=False)
    assert not (ws.root / "previews").exists()


@pytest.mark.parametrize("name", ["h264.ts", "mpeg2.mpg", "hevc.mp4"])
def test_what_it_cannot_play_becomes_an_h264_excerpt_once(clips: dict[str, Path], tmp_path: Path, name: str) -> None:
    if name not in clips:
        pytest.skip("encoder not in this PyAV build")
    ws = Workspace.at(tmp_path / "ws")
    assert not media.playable(str(clips[name]))
    pb = media.playback(ws, str(clips[name]), "3f2a9c1d", 1.0, 3.0)
    assert pb.preview and (pb.start, pb.end) == (0.0, None)
    assert Path(pb.path).parent == ws.root / "previews" and Path(pb.path).suffix == ".mp4"
    codec, seconds = _codec_and_seconds(pb.path)
    assert codec == "h264" and seconds == pytest.approx(2.0, abs=0.05)
    assert media.playable(pb.path)
    made = Path(pb.path).stat().st_mtime_ns
    assert media.playback(ws, str(clips[name]), "3f2a9c1d", 1.0, 3.0) == pb  # cut once, then kept
    assert Path(pb.path).stat().st_mtime_ns == made
    # no end: PREVIEW_SECONDS on, cut at the file's end (4 s)
    rest = media.playback(ws, str(clips[name]), "3f2a9c1d", 2.5)
    assert _codec_and_seconds(rest.path)[1] == pytest.approx(1.5, abs=0.05)


def test_a_preview_name_stays_inside_the_folder(clips: dict[str, Path], tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    pb = media.playback(ws, str(clips["h264.ts"]), "../../etc/x", 0.0, 1.0)
    assert Path(pb.path).resolve().parent == (ws.root / "previews").resolve()


def test_an_unreadable_file_is_one_error(tmp_path: Path) -> None:
    from vidsift.errors import VidsiftError

    bad = tmp_path / "bad.mpg"
    bad.write_bytes(np.random.default_rng(0).integers(0, 255, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(VidsiftError, match="bad.mpg"):
        media.playback(Workspace.at(tmp_path / "ws"), str(bad), "v", 0.0)
