"""A store written before frames were read as a player shows them: the next ``vidsift embed``
embeds its rotated videos again (their vectors were of sideways frames) and puts rows that sparse
MPEG-PS/TS reads left out of time order back in order; nothing else is touched."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vidsift.embedder.extract import extract
from vidsift.embedder.store import FRAMES_LAYOUT, load_store, shard_path
from vidsift.video.synthetic.scenes import scene_frames
from vidsift.video.writer import write_video
from vidsift.workspace import Workspace


def test_the_next_embed_brings_an_old_store_up_to_date(tmp_path) -> None:
    frames, _ = scene_frames("astronaut", shots=1, frames_per_shot=20, size=(48, 64))
    write_video(tmp_path / "v" / "phone.mov", frames, rotation=90)
    write_video(tmp_path / "v" / "plain.mp4", frames)
    ws = Workspace.at(tmp_path / "ws")
    first = extract(ws, tmp_path / "v", "pixels", progress=False, workers=0)
    assert sorted(first.done) and first.upright is None
    store = ws.embeddings("pixels")
    fresh = load_store(store)
    ids = {p.rsplit("/", 1)[-1]: v for v, p in zip(fresh.meta["video_id"], fresh.meta["path"], strict=True)}

    # make it look like an old store: no "frames" mark, the rotated video embedded sideways, the
    # other's rows out of order
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["frames"] == FRAMES_LAYOUT
    del manifest["frames"]
    (store / "manifest.json").write_text(json.dumps(manifest))
    phone = shard_path(store, ids["phone.mov"])
    t = pq.read_table(phone)
    sideways = np.zeros((t.num_rows, 768), np.float32)
    pq.write_table(t.set_column(t.schema.get_field_index("vector"), "vector",
                                pa.FixedSizeListArray.from_arrays(pa.array(sideways.ravel()), 768)), phone)
    plain = shard_path(store, ids["plain.mp4"])
    t = pq.read_table(plain)
    pq.write_table(t.take(pa.array([3, 0, 1, 2] + list(range(4, t.num_rows)))), plain)

    again = extract(ws, tmp_path / "v", "pixels", progress=False, workers=0)
    assert again.upright == {"re_embedded": 1, "sorted": 1}
    assert [d.rsplit("/", 1)[-1] for d in again.done] == ["phone.mov"]  # only the rotated one
    assert any("display rotation were embedded again" in n for n in again.notes)
    now = load_store(store)
    for vid in ids.values():
        rows = now.meta["video_id"] == vid
        assert list(now.meta["frame"][rows]) == sorted(now.meta["frame"][rows])
        assert np.array_equal(now.vectors[rows.to_numpy()], fresh.vectors[(fresh.meta["video_id"] == vid).to_numpy()])
    assert json.loads((store / "manifest.json").read_text())["frames"] == FRAMES_LAYOUT
    third = extract(ws, tmp_path / "v", "pixels", progress=False, workers=0)
    assert third.upright is None and not third.done  # marked: nothing more to do
