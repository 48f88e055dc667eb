"""``vidsift evaluate heldout`` (``vidsift.services.heldout``): a checkpoint is scored on the
held-out photos and real footage beside pixels and its own random init."""

from __future__ import annotations

import numpy as np
import torch

from vidsift.embedder.registry import get_embedder
from vidsift.services.evaluate import evaluate_workspace
from vidsift.services.heldout import own_init, table_rows
from vidsift.training.data.source import ArrayFrameSource
from vidsift.training.registry import get_method
from vidsift.training.trainer import train
from vidsift.video.synthetic import grating_videos
from vidsift.workspace import Workspace

TINY = {"widths": (8, 8, 16, 16), "hidden": 16, "proj_dim": 8, "batch_size": 4, "steps": 2,
        "num_workers": 0, "seed": 3}


def _tiny_checkpoint(ws: Workspace) -> None:
    arrays, _ = grating_videos(n_scenes=2, videos_per_scene=2, frames=12, size=64, seed=0)
    m = get_method("infonce")
    train(m.config("cpu", **TINY), ArrayFrameSource(arrays), ws.checkpoints / "tiny", progress=False)


def test_own_init_is_where_training_started(tmp_path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    _tiny_checkpoint(ws)
    emb = get_embedder("ckpt:tiny", ws)
    init = own_init(emb)
    assert init.name == "init:tiny" and init.kind == "random" and init.layer == emb.layer
    torch.manual_seed(3)  # what the trainer does before building the model
    fresh = get_method("infonce").build_model(emb.cfg)
    for (k, a), b in zip(init.model.state_dict().items(), fresh.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=k)
    assert own_init(get_embedder("pixels")).name == "pixels"


def test_heldout_table_and_evaluation(tmp_path) -> None:
    from vidsift.services.heldout import heldout_table

    ws = Workspace.at(tmp_path / "ws")
    _tiny_checkpoint(ws)
    res = heldout_table(ws, ["ckpt:tiny"], seeds=[0], repeats=1, spectral=False, videos_per_scene=1, frames=4)
    assert list(res) == ["pixels", "init:tiny", "ckpt:tiny"]
    assert [r["role"] for r in res.values()] == ["baseline", "init", "encoder"]
    px = res["pixels"]["raw"]
    assert 0 <= px["h_kmeans"]["mean"] < np.log2(12) and px["h_spectral"] is None
    assert 0 < px["tpr_scenes"]["mean"] <= 1
    assert res["pixels"]["white"]["h_kmeans"] is not None
    rows = table_rows(res)
    assert rows[0]["embedder"] == "pixels"
    assert rows[0]["H(photo∣cluster) K-means"] == f"{px['h_kmeans']['mean']:.3f}"  # one seed: no "± 0.000"
    two = {**res["pixels"], "raw": {**px, "h_kmeans": {"mean": 1.0, "std": 0.25, "n": 2}}}
    assert table_rows({"pixels": two})[0]["H(photo∣cluster) K-means"] == "1.000 ± 0.250"
    one = evaluate_workspace(ws, "pixels", "heldout", n_seeds=1, repeats=1, spectral=False, videos_per_scene=1, frames=4)
    assert one["evaluation"] == "heldout" and one["seeds"] == 1
    assert one["raw"]["h_kmeans"]["mean"] == px["h_kmeans"]["mean"]


def test_clip_embedders_see_the_clip_centred_on_each_frame_inside_its_own_video() -> None:
    from vidsift.embedder.base import Embedder
    from vidsift.services.heldout import embed_frames

    class FirstLast(Embedder):
        """A clip's first and last frame value: shows which frames each clip holds."""
        name, dim, unit, input_size, clip_len = "first-last", 2, "clip", (2, 2), 3

        def _embed(self, batch: np.ndarray) -> np.ndarray:
            return batch[:, [0, -1], 0, 0, 0].astype(np.float32)

    # two videos of 4 and 2 frames, frame value = its global index
    frames = np.repeat(np.arange(6, dtype=np.uint8)[:, None, None, None], 2, 1).repeat(2, 2).repeat(3, 3)
    shots = np.array(["a:0", "a:0", "a:1", "a:1", "b:0", "b:0"])
    got = embed_frames(FirstLast(), frames, shots)
    # a: centred clips [0,1,2] [0,1,2] [1,2,3] [1,2,3]; b (shorter than a clip): [4,5,5] twice
    assert got.tolist() == [[0, 2], [0, 2], [1, 3], [1, 3], [4, 5], [4, 5]]


def test_the_protocol_keeps_quiet_about_joined_components() -> None:
    """The held-out spectral score clusters at the protocol's K, which the user cannot change:
    merging whole video chains is expected there, so the warning that would name it (once per
    seed and repeat, each with its own count) is not shown; a direct fit still warns."""
    import warnings

    import pytest

    from vidsift.discovery.spectral import ComponentsJoinedWarning, SpectralClustering
    from vidsift.services.heldout import score_vectors

    rng = np.random.default_rng(0)
    chains = [c * 40.0 + np.cumsum(rng.normal(scale=0.05, size=(30, 4)), axis=0) for c in range(8)]
    vecs = np.concatenate(chains)
    labels = np.repeat(np.arange(8) % 2, 30)  # 2 labels, 8 separate chains
    with pytest.warns(ComponentsJoinedWarning, match="8 connected components, more than the 2 clusters"):
        SpectralClustering(2, random_state=0).fit(vecs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = score_vectors(vecs, labels, np.repeat(np.arange(8), 30), None, None, repeats=1)
    assert out["h_spectral"] is not None and out["tpr_real"] is None
