"""Embedders: baseline values, ZCA, seeded random init, ensembles, checkpoints, name errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vidsift.embedder.baselines import PixelsEmbedder, ZCAEmbedder, fit_zca
from vidsift.embedder.registry import embed_image, embedder_from_manifest, get_embedder
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.video import open_video
from vidsift.video.clips import centred_clips
from vidsift.workspace import Workspace


def test_pixels_are_the_reader_downsampled_frames(tiny_video: Path) -> None:
    with open_video(tiny_video) as r:
        frames = r.get_frames([0, 5, 9], size=(16, 16))
    emb = get_embedder("pixels")
    assert (emb.dim, emb.unit, emb.input_size) == (768, "frame", (16, 16))
    out = emb.embed(frames)
    assert out.dtype == np.float32 and out.shape == (3, 768)
    np.testing.assert_array_equal(out, frames.reshape(3, -1).astype(np.float32) / 255)
    assert get_embedder("pixels@32").dim == 3 * 32 * 32


def test_fit_zca_whitens_the_corpus_to_identity_covariance() -> None:
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(48, 48))
    x = rng.normal(size=(4000, 48)) @ mix  # strongly correlated, full rank
    zca = fit_zca(x, eps=1e-8)
    cov = np.cov(zca.transform(x).astype(np.float64), rowvar=False)
    np.testing.assert_allclose(cov, np.eye(48), atol=1e-3)
    # ZCA (unlike PCA whitening) is symmetric: the closest whitening to the identity map
    np.testing.assert_allclose(zca.matrix, zca.matrix.T, atol=1e-5)


def test_fit_zca_on_uint8_frames_scales_to_unit_range() -> None:
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(3000, 4, 4, 3), dtype=np.uint8)
    zca = fit_zca(frames, eps=1e-8)
    z = zca.transform(frames.reshape(len(frames), -1) / 255.0)
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(48), atol=1e-3)
    with pytest.raises(BadInputError, match="eps must be positive"):
        fit_zca(frames, eps=0)


def test_zca_embedder_saves_and_reloads_its_whitening(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 256, size=(400, 4, 4, 3), dtype=np.uint8)
    path = tmp_path / "zca.npz"
    emb = ZCAEmbedder(side=4, path=path, eps=1e-3)
    with pytest.raises(WorkspaceError, match="not fitted"):
        emb.embed(frames[:2])
    emb.fit(frames)
    assert path.is_file() and emb.checkpoint_hash
    again = ZCAEmbedder(side=4, path=path, eps=1e-3)
    np.testing.assert_array_equal(again.embed(frames[:5]), emb.embed(frames[:5]))
    x = frames[:5].reshape(5, -1).astype(np.float32) / 255
    np.testing.assert_allclose(emb.embed(frames[:5]), (x - again._zca.mean) @ again._zca.matrix, rtol=1e-5, atol=1e-5)


def test_random_init_is_deterministic_and_leaves_global_rng_alone() -> None:
    x = np.random.default_rng(0).integers(0, 256, size=(3, 64, 64, 3), dtype=np.uint8)
    state = torch.get_rng_state()
    a = get_embedder("random:siamese")
    b = get_embedder("random:siamese")
    assert torch.equal(state, torch.get_rng_state())
    assert a.unit == "frame" and a.input_size == (64, 64) and a.layer == "fc6"
    np.testing.assert_array_equal(a.embed(x), b.embed(x))
    fc7 = get_embedder("random:siamese@fc7")
    assert fc7.dim != a.dim and fc7.manifest()["layer"] == "fc7"
    with pytest.raises(BadInputError, match="no layer 'fc9'"):
        get_embedder("random:siamese@fc9")
    with pytest.raises(BadInputError, match="unknown method"):
        get_embedder("random:nosuch")


def test_ensemble_concatenates_normalised_members() -> None:
    x = np.random.default_rng(0).integers(0, 256, size=(4, 20, 20, 3), dtype=np.uint8)
    ens = get_embedder("pixels+pixels@8")
    assert ens.dim == 768 + 192 and ens.input_size == (16, 16)
    out = ens.embed(x)
    np.testing.assert_allclose(np.linalg.norm(out[:, :768], axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out[:, 768:], axis=1), 1, rtol=1e-5)
    again = embedder_from_manifest(ens.manifest())
    np.testing.assert_array_equal(again.embed(x), out)
    with pytest.raises(BadInputError, match="mixes frame and clip"):
        get_embedder("pixels+random:c3d-siamese")


def test_unknown_embedder_lists_the_valid_forms() -> None:
    with pytest.raises(BadInputError, match=r"unknown embedder 'nope'; valid forms: pixels.*random:METHOD.*ckpt:NAME"):
        get_embedder("nope")
    with pytest.raises(BadInputError, match="must be an integer"):
        get_embedder("pixels@big")


def test_checkpoint_that_does_not_load_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(WorkspaceError) as info:
        get_embedder(str(bad))
    assert "not a vidsift checkpoint" in str(info.value) and "\n" not in str(info.value)
    ws = Workspace.at(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="no checkpoint 'missing'"):
        get_embedder("ckpt:missing", ws)


def _save_trained(ws: Workspace, name: str = "siamese-cpu") -> Path:
    from vidsift.training.checkpoint import save_checkpoint
    from vidsift.training.registry import get_method

    m = get_method("siamese")
    cfg = m.config("cpu", steps=1)
    torch.manual_seed(123)
    model = m.build_model(cfg)
    path = ws.run(name).checkpoint
    save_checkpoint(path, model, None, 1, cfg, {"loss": 0.5})
    return path


def test_trained_checkpoint_embeds_like_its_model(tmp_path: Path) -> None:
    from vidsift.training.checkpoint import load_model

    ws = Workspace.at(tmp_path / "ws")
    path = _save_trained(ws)
    x = np.random.default_rng(0).integers(0, 256, size=(3, 64, 64, 3), dtype=np.uint8)
    emb = get_embedder("ckpt:siamese-cpu@fc7", ws)
    loaded = load_model(path)
    with torch.inference_mode():
        want = loaded.method.features(loaded.model, loaded.method.preprocess(x, loaded.cfg), "fc7").numpy()
    np.testing.assert_allclose(emb.embed(x), want, rtol=1e-5, atol=1e-6)
    man = emb.manifest()
    assert man["checkpoint_hash"] == loaded.sha256 and man["kind"] == "checkpoint" and man["layer"] == "fc7"
    by_path = get_embedder(f"{path}@fc7", ws)
    np.testing.assert_array_equal(by_path.embed(x), emb.embed(x))
    # an image query goes through the same embedder, rebuilt from the manifest
    vec = embed_image(x[1], man, ws)
    assert vec.shape == (emb.dim,)
    # on CUDA, cuDNN convolutions run in TF32 by default and pick algorithms per batch size
    tol = dict(rtol=1e-2, atol=5e-3) if torch.cuda.is_available() else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vec, emb.embed(x[1:2])[0], **tol)
    # a store written by another version of the checkpoint is refused
    with pytest.raises(WorkspaceError, match="checkpoint_hash differs"):
        embedder_from_manifest({**man, "checkpoint_hash": "0" * 64}, ws)


def test_embed_image_resizes_and_clip_embedders_repeat_the_image(tmp_path: Path) -> None:
    from PIL import Image

    img = np.random.default_rng(0).integers(0, 256, size=(40, 60, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "q.png")
    pix = PixelsEmbedder()
    v = embed_image(tmp_path / "q.png", pix.manifest())
    assert v.shape == (768,) and v.dtype == np.float32
    c3d = get_embedder("random:c3d-siamese")
    assert c3d.unit == "clip" and c3d.clip_len == 8
    assert c3d.embed_image(img).shape == (c3d.dim,)
    with pytest.raises(BadInputError, match="clips of 8 frames"):
        c3d.embed(np.zeros((1, 4, 64, 64, 3), np.uint8))


def test_centred_clips_are_centred_and_clamped() -> None:
    assert centred_clips(np.array([0, 5, 9]), 4, 10).tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert centred_clips(np.array([1]), 4, 3).tolist() == [[0, 1, 2, 2]]
