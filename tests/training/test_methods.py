"""Every method learns something real on synthetic scenes with known structure.

Data: scenes are textured canvases; each video pans over one scene with a flickering gain/tint
(``video.synthetic.gratings``). For each method we train a small network (``backbone="small"``,
32x32 input) for a few hundred steps and check

(a) the loss falls: mean of the last 20 steps clearly below the first 20;
(b) nearest neighbours (cosine, frames of OTHER videos / shots only) come from the query's scene
    more often than with the same network at its random initialisation (same seed).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsift.training.data.source import ArrayFrameSource, resize_frames
from vidsift.training.registry import get_method
from vidsift.training.trainer import train
from vidsift.video.synthetic import grating_videos

SMALL = {"backbone": "small", "fc6": 128, "fc7": 32, "lr": 1e-3, "input_size": (32, 32),
         "num_workers": 0, "log_every": 50, "checkpoint_every": 1000}




def same_scene_rate(method, cfg, model, arrays, labels, layer=None) -> float:
    """Share of frames whose nearest neighbour in another video (or another shot) shows the
    same scene."""
    model.eval()
    feats, lab, group = [], [], []
    with torch.no_grad():
        for i, vid in enumerate(arrays):
            frames = resize_frames(arrays[vid], cfg.input_size)
            f = method.features(model, method.preprocess(frames, cfg), layer or method.DEFAULT_LAYER)
            feats.append(torch.nn.functional.normalize(f.float(), dim=1))
            lab.append(torch.as_tensor(labels[vid]))
            shot = np.concatenate([[0], np.cumsum(np.diff(labels[vid]) != 0)])
            group.append(torch.as_tensor(i * 1000 + shot))
    f, lab, group = torch.cat(feats), torch.cat(lab), torch.cat(group)
    sim = f @ f.T
    sim[group[:, None] == group[None, :]] = -2.0
    return float((lab[sim.argmax(1)] == lab).float().mean())


def run(name: str, tmp_path, steps: int = 300, data: dict | None = None, **overrides):
    arrays, labels = grating_videos(n_scenes=4, videos_per_scene=2, frames=40, size=32, seed=0, **(data or {}))
    method = get_method(name)
    cfg = method.config("cpu", steps=steps, **{**SMALL, **overrides})
    src = ArrayFrameSource(arrays)
    torch.manual_seed(cfg.seed)  # what train() does before building the model
    init = method.build_model(cfg)
    method.init_from_data(init, cfg, src)
    before = same_scene_rate(method, cfg, init, arrays, labels)
    res = train(cfg, src, tmp_path / name, progress=False)
    from vidsift.training.checkpoint import load_model

    after = same_scene_rate(method, cfg, load_model(res.checkpoint).model, arrays, labels)
    return res.losses, before, after


def assert_learns(losses, before, after, drop=0.5, gain=0.1) -> None:
    first, last = float(np.mean(losses[:20])), float(np.mean(losses[-20:]))
    print(f"loss {first:.4f} -> {last:.4f}; same-scene NN {before:.3f} -> {after:.3f}")
    assert last < drop * first, f"loss {first:.4f} -> {last:.4f}"
    assert after >= before + gain, f"same-scene NN rate {before:.3f} (random init) -> {after:.3f}"


def test_siamese_learns_scenes(tmp_path) -> None:
    losses, before, after = run("siamese", tmp_path, batch_size=16)
    assert_learns(losses, before, after)


def test_quadruplet_learns_scenes(tmp_path) -> None:
    losses, before, after = run("quadruplet", tmp_path, batch_size=8)
    assert_learns(losses, before, after)


def test_drlim_learns_scenes_on_scene_segmented_video(tmp_path) -> None:
    # DrLIM only contrasts frames of one video, so it separates scenes where a video holds
    # several (Goroshin's scene-segmented footage): 4 shots of different scenes per video.
    losses, before, after = run("drlim", tmp_path, batch_size=16, data={"shots": 4})
    assert_learns(losses, before, after, drop=0.7)


def test_triplet_learns_scenes_from_tracked_patches(tmp_path) -> None:
    losses, before, after = run(
        "triplet", tmp_path, batch_size=16, frame_size=(48, 48), patch=32, track_len=4,
        track_stride=2, radius=4, hard_start=1.0,  # random negatives only: a comparable loss
    )
    assert_learns(losses, before, after, drop=0.8)


def test_triplet_switches_to_hard_negatives() -> None:
    m = get_method("triplet")
    cfg = m.config("cpu", steps=100, hard_start=0.5)
    loss_fn = m.build_loss(cfg)
    m.begin_step(None, loss_fn, 49, cfg)
    assert loss_fn.mining == "random"
    m.begin_step(None, loss_fn, 50, cfg)
    assert loss_fn.mining == "topk"


SLOW = {"input_size": (16, 16), "layer1": (32, 5, 4, 2), "layer2": (64, 3, 4, 4),
        "zca_samples": 500, "batch_size": 16, "num_workers": 0, "log_every": 50}
# Translation is the nuisance slow pooled features can become invariant to (Goroshin et al.,
# section 4.1): finer gratings and no per-frame gain flicker, which a pooled L2 code cannot be
# invariant to (z scales with the gain) and which slowness could only meet by shrinking codes.
SLOW_SCENES = {"n_scenes": 4, "videos_per_scene": 2, "frames": 40, "size": 16, "flicker": 0.0,
               "speed": 1.0, "freq": (0.3, 1.0)}


def test_slow_ae_loss_falls_in_both_greedy_stages(tmp_path) -> None:
    arrays, _ = grating_videos(seed=0, **SLOW_SCENES)
    m = get_method("slow-ae")
    cfg = m.config("cpu", steps=300, **SLOW)
    res = train(cfg, ArrayFrameSource(arrays), tmp_path / "slow", progress=False)
    stage1, stage2 = res.losses[:150], res.losses[150:]
    assert np.mean(stage1[-20:]) < 0.5 * np.mean(stage1[:20])
    assert np.mean(stage2[-20:]) < 0.5 * np.mean(stage2[:20])
    # greedy: stage 2 left layer 1 alone
    from vidsift.training.checkpoint import load_model

    model = load_model(res.checkpoint).model
    assert model.z1_scale.item() > 0


def test_slow_ae_greedy_stage_two_freezes_layer_one() -> None:
    m = get_method("slow-ae")
    cfg = m.config("cpu", steps=4, **{**SLOW, "zca": False})
    model, loss_fn = m.build_model(cfg), m.build_loss(cfg)
    opt = m.build_optimizer(model, cfg)
    x = m.preprocess(np.random.default_rng(0).integers(0, 255, (8, 16, 16, 3), dtype=np.uint8), cfg)
    layer1 = {k: v.clone() for k, v in model.ae.layers[0].state_dict().items()}
    m.begin_step(model, loss_fn, 2, cfg)
    assert model.phase == 2
    loss, _ = m.step(model, loss_fn, {"x": x})
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    assert all(torch.equal(layer1[k], v) for k, v in model.ae.layers[0].state_dict().items())
    assert all(p.grad is None for p in model.ae.layers[0].parameters())


def test_slow_ae_learns_scenes(tmp_path) -> None:
    """Two greedy stages of 500 steps on three independently drawn scene sets (data seeds 0-2;
    the network seed is fixed): z2 neighbours come from the query's scene more often than at
    random init on every set, by 0.1 on average. The loss falls in both stages."""
    m = get_method("slow-ae")
    cfg = m.config("cpu", steps=1000, **SLOW)
    gains = []
    for seed in range(3):
        arrays, labels = grating_videos(seed=seed, **SLOW_SCENES)
        src = ArrayFrameSource(arrays)
        torch.manual_seed(cfg.seed)
        init = m.build_model(cfg)
        m.init_from_data(init, cfg, src)
        before = same_scene_rate(m, cfg, init, arrays, labels)
        res = train(cfg, src, tmp_path / f"slow{seed}", progress=False)
        from vidsift.training.checkpoint import load_model

        after = same_scene_rate(m, cfg, load_model(res.checkpoint).model, arrays, labels)
        for stage in (res.losses[:500], res.losses[500:]):
            assert np.mean(stage[-20:]) < 0.5 * np.mean(stage[:20])
        print(f"scene set {seed}: same-scene NN z2 {before:.3f} (random init) -> {after:.3f}")
        assert after > before, (seed, before, after)
        gains.append(after - before)
    assert np.mean(gains) >= 0.1, gains


@pytest.mark.parametrize("name", ["siamese-mu", "quadruplet-mu"])
def test_mu_variants_train(tmp_path, name) -> None:
    arrays, _ = grating_videos(n_scenes=2, videos_per_scene=2, frames=30, size=32, seed=0)
    m = get_method(name)
    cfg = m.config("cpu", steps=6, batch_size=4, **SMALL)
    res = train(cfg, ArrayFrameSource(arrays), tmp_path / name, progress=False)
    assert res.step == 6 and all(np.isfinite(res.losses))


def test_presets_follow_the_papers() -> None:
    # full field-by-field expectations of every preset: tests/training/test_method_params.py
    sia, quad, tri, slow = (get_method(n) for n in ("siamese", "quadruplet", "triplet", "slow-ae"))
    sia_cfg, quad_cfg, tri_cfg, slow_cfg = (m.config("paper") for m in (sia, quad, tri, slow))
    for cfg in (sia_cfg, quad_cfg, tri_cfg):
        assert cfg.input_size == (227, 227) and cfg.lr == 1e-3 and cfg.optimizer == "sgd"
        assert cfg.weight_decay == 5e-4
    s, q, t, a = sia.params(sia_cfg), quad.params(quad_cfg), tri.params(tri_cfg), slow.params(slow_cfg)
    assert (sia_cfg.batch_size, s.fc6, s.fc7, s.margin, s.w) == (120, 4096, 4096, 1.0, 1)
    assert (quad_cfg.batch_size, q.fc7, q.alpha, q.n) == (40, 1024, 0.5, 20)
    assert (tri_cfg.batch_size, t.fc7, t.margin, t.hard_negatives, t.track_len) == (100, 1024, 0.5, 4, 30)
    assert slow_cfg.input_size == (32, 32) and a.layer1 == (64, 9, 4, 2) and a.layer2 == (64, 5, 1, 4)
    assert a.beta == 2.0 and slow.params(slow.config("cpu", beta=0.0)).beta == 0.0
    for name in ("siamese", "quadruplet", "drlim", "triplet"):
        m = get_method(name)
        cpu = m.config("cpu")
        assert max(cpu.input_size) <= 64 and 8 <= cpu.batch_size <= 32 and m.params(cpu).fc6 <= 512
    m = get_method("siamese")
    assert m.LAYERS == ("fc6", "fc7") and m.DEFAULT_LAYER == "fc6"
    x = m.preprocess(np.zeros((2, 64, 64, 3), np.uint8), m.config("cpu"))
    assert x.shape == (2, 3, 64, 64) and x.dtype == torch.float32
