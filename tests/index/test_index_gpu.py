"""GPU FAISS gives the same exact results as CPU (opt-in: `pytest -m gpu`)."""

from __future__ import annotations

import numpy as np
import pytest
from index_testdata import blobs, store_data

from vidsift.index.build import IndexParams, build_index, gpu_available, prepare_vectors
from vidsift.index.video_index import VideoIndex

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not gpu_available(), reason="needs faiss-gpu and CUDA"),
]


@pytest.mark.parametrize(
    "params", [IndexParams(kind="flat"), IndexParams(kind="ivf", nlist=16, nprobe=16)]
)
def test_gpu_matches_cpu(params: IndexParams, tmp_path) -> None:
    x = blobs(4000, 32, centers=50)
    data = store_data({"a": 2000, "b": 2000}, x)
    gpu = VideoIndex.build(data, params, use_gpu=True)
    cpu = VideoIndex.build(data, params, use_gpu=False)
    q = x[::97]
    for g, c in zip(gpu.search(q, 10), cpu.search(q, 10), strict=True):
        assert [(h.video_id, h.frame) for h in g][:5] == [(h.video_id, h.frame) for h in c][:5]
        np.testing.assert_allclose(g.distances, c.distances, atol=1e-4)
    gpu.save(tmp_path)  # always a CPU index on disk
    back = VideoIndex.load(tmp_path, use_gpu=False)
    assert back.ntotal == 4000


def test_build_index_returns_cpu_index() -> None:
    import faiss

    x = blobs(2000, 16)
    index = build_index(x, IndexParams(kind="ivf", nlist=8, nprobe=8), use_gpu=True)
    faiss.serialize_index(index)  # would fail for a GPU index
    _, ids = index.search(prepare_vectors(x[:3], "cosine"), 1)
    assert ids[:, 0].tolist() == [0, 1, 2]
