"""Thumbnails of frame embedders come from the decode that feeds the model: the same JPEGs as a
separate decode at the thumbnail size, the same embeddings as without thumbnails, one pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidsift.catalog import Catalog
from vidsift.embedder.extract import extract
from vidsift.embedder.store import load_store
from vidsift.embedder.thumbnails import thumbnail, thumbnail_path
from vidsift.video import open_video
from vidsift.video.scan import scan_folder
from vidsift.video.synthetic.write import make_scene_videos
from vidsift.workspace import Workspace


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("thumbs")
    make_scene_videos(root, scenes=("astronaut", "coffee"), videos_per_scene=1, shots_per_video=2,
                      frames_per_shot=12, size=(144, 192), fps=10.0, seed=0)
    return root


def test_a_second_size_is_a_second_conversion_of_the_same_pictures(videos: Path) -> None:
    path = next(videos.rglob("*.mp4"))
    with open_video(path) as r:
        plain = list(r.iter_timed(every=3, size=(16, 16), batch=5))
        twice = list(r.iter_timed(every=3, size=(16, 16), batch=5, extra_size=(96, 128)))
        big = list(r.iter_timed(every=3, size=(96, 128), batch=5))
    assert len(plain) == len(twice) == len(big) and all(len(b) == 4 for b in twice)
    for (i0, t0, f0), (i1, t1, f1, x1), (i2, _, f2) in zip(plain, twice, big, strict=True):
        np.testing.assert_array_equal(i0, i1)
        np.testing.assert_array_equal(t0, t1)
        np.testing.assert_array_equal(f0, f1)  # the model's input is the same bits
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(x1, f2)  # and the thumbnails are what a decode at that size gives
        assert x1.shape[1:] == (96, 128, 3)


def test_extraction_decodes_each_video_once_with_thumbnails(videos: Path, tmp_path: Path, monkeypatch) -> None:
    from vidsift.video.backends import pyav_backend

    passes: list[str] = []
    real = pyav_backend.PyAVBackend.decode

    def counted(self, *args, **kwargs):
        passes.append(self.path)
        return real(self, *args, **kwargs)

    a, b = Workspace.at(tmp_path / "a"), Workspace.at(tmp_path / "b")
    extract(a, videos, "pixels", every=2, progress=False, thumbnails=False, workers=0)
    scan_folder(Catalog(b.catalog_path), videos)  # the scan's own pass, before counting
    monkeypatch.setattr(pyav_backend.PyAVBackend, "decode", counted)
    report = extract(b, None, "pixels", every=2, progress=False, thumbnails=True, workers=0)
    assert len(passes) == len(report.done) == 2  # one pass per video, thumbnails included
    sa, sb = load_store(a.embeddings("pixels")), load_store(b.embeddings("pixels"))
    assert sa.meta.equals(sb.meta)
    np.testing.assert_array_equal(sa.vectors, sb.vectors)

    fresh = Workspace.at(tmp_path / "fresh")
    for row in sb.meta.itertuples():
        written = thumbnail_path(b.thumbnails, row.video_id, row.frame)
        assert written.is_file()
        # the same JPEG as one decoded on demand into another workspace
        thumbnail(fresh, row.path, row.video_id, int(row.frame))
        assert written.read_bytes() == thumbnail_path(fresh.thumbnails, row.video_id, row.frame).read_bytes()
