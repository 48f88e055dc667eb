"""The Ray Data engine writes the same shards as the local engine."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vidsift.embedder.extract import extract
from vidsift.embedder.store import load_store
from vidsift.errors import BadInputError
from vidsift.workspace import Workspace

HAS_RAY = importlib.util.find_spec("ray") is not None


@pytest.mark.skipif(not HAS_RAY, reason="ray[data] not installed (pip install 'vidsift[distributed]')")
def test_ray_engine_shards_equal_local_engine_shards(scenes: Path, tmp_path: Path) -> None:
    shutil.rmtree(scenes / "chelsea")  # two videos + the broken file
    local = Workspace.at(tmp_path / "local")
    ray_ws = Workspace.at(tmp_path / "ray")
    a = extract(local, scenes, "random:siamese", every=3, progress=False, thumbnails=False)
    b = extract(ray_ws, scenes, "random:siamese", every=3, engine="ray", batch_size=4, progress=False, thumbnails=False)
    assert sorted(a.done) == sorted(b.done) and len(b.done) == 2 and b.frames == a.frames
    assert [Path(p).name for p, _ in b.failed] == ["broken.mp4"]
    da = load_store(local.embeddings("random:siamese"))
    db = load_store(ray_ws.embeddings("random:siamese"))
    pd.testing.assert_frame_equal(da.meta, db.meta)
    np.testing.assert_allclose(da.vectors, db.vectors, rtol=1e-4, atol=1e-5)


def test_ray_missing_is_a_clear_error(monkeypatch, scenes: Path, tmp_path: Path) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(BadInputError, match=r"--engine ray needs pip install 'vidsift\[distributed\]'"):
        extract(Workspace.at(tmp_path / "ws"), scenes, "pixels", engine="ray", progress=False)
