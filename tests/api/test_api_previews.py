"""``GET /videos/{id}/clip`` says whether a browser plays the file, and ``/preview`` gives an
H.264 MP4 excerpt of what it cannot (an MPEG-TS camera file here)."""

from __future__ import annotations

import io

import av
from fastapi.testclient import TestClient

from vidsift.api.app import create_app
from vidsift.catalog import Catalog
from vidsift.video.scan import scan_folder
from vidsift.video.synthetic.scenes import scene_frames
from vidsift.video.writer import write_video
from vidsift.workspace import Workspace


def test_a_camera_file_gets_a_preview_url_and_an_mp4_excerpt(tmp_path) -> None:
    frames, _ = scene_frames("rocket", shots=2, frames_per_shot=40, size=(64, 96))  # 3.2 s
    write_video(tmp_path / "v" / "camera.ts", frames)
    write_video(tmp_path / "v" / "phone.mp4", frames)
    write_video(tmp_path / "elsewhere" / "secret.ts", frames[:30])
    (tmp_path / "v" / "link.ts").symlink_to(tmp_path / "elsewhere" / "secret.ts")
    ws = Workspace.at(tmp_path / "ws")
    with Catalog(ws.catalog_path) as cat:
        scan_folder(cat, tmp_path / "v")
    with TestClient(create_app(ws), raise_server_exceptions=False) as c:
        ids = {v["path"].rsplit("/", 1)[-1]: v["video_id"] for v in c.get("/videos").json()["items"]}
        mp4 = c.get(f"/videos/{ids['phone.mp4']}/clip", params={"at": 1, "seconds": 1}).json()
        assert mp4["playable"] is True and mp4["preview_url"] is None
        ts = c.get(f"/videos/{ids['camera.ts']}/clip", params={"at": 1, "seconds": 1}).json()
        assert ts["playable"] is False
        assert ts["preview_url"] == f"/videos/{ids['camera.ts']}/preview?start=0.500&end=1.500"
        got = c.get(ts["preview_url"])
        assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
        with av.open(io.BytesIO(got.content)) as m:
            s = m.streams.video[0]
            assert s.codec_context.name == "h264" and sum(1 for _ in m.decode(s)) == 25  # 1 s at 25 fps
        assert list((ws.root / "previews").iterdir())  # kept for the next request
        bad = c.get(f"/videos/{ids['camera.ts']}/preview", params={"start": 2, "end": 1})
        assert bad.status_code == 400 and "start < end" in bad.json()["error"]
        assert c.get("/videos/nope/preview", params={"start": 0, "end": 1}).status_code == 404
        out = c.get(f"/videos/{ids['link.ts']}/preview", params={"start": 0, "end": 1})  # as /media: not served
        assert out.status_code == 404 and "link out of its folder" in out.json()["error"]
