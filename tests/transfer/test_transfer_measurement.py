"""The numbers in docs/transfer.md: unsupervised siamese vs the same network at random init, on
generated scene videos (6 scenes x 6 videos). Opt-in (``-m slow``), about a minute on one core.

Prints a table; asserts only that everything ran and that the probes of a labelled scene set
beat chance for at least one embedder -- NOT that unsupervised pre-training wins (it does not,
robustly, at this toy scale; see docs/transfer.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsift.embedder.extract import extract
from vidsift.services.evaluate import probe_workspace, similarity_workspace
from vidsift.services.train import train_workspace
from vidsift.training.checkpoint import save_checkpoint
from vidsift.training.finetune import finetune
from vidsift.training.registry import get_method
from vidsift.video.synthetic.write import make_scene_videos
from vidsift.workspace import Workspace

SCENES = ("astronaut", "coffee", "rocket", "chelsea", "camera", "horse")
SMALL = {"input_size": (32, 32), "backbone": "small", "fc6": 64, "fc7": 16, "num_workers": 0}


@pytest.mark.slow
def test_pretrained_vs_random_init(tmp_path):
    vids = tmp_path / "scenes"
    make_scene_videos(vids, scenes=SCENES, videos_per_scene=6, size=(32, 32), frames_per_shot=8)
    ws = Workspace.at(tmp_path / "ws")
    train_workspace(ws, "siamese", vids, steps=300, batch_size=16, progress=False, log_every=50, checkpoint_every=300, **SMALL)
    m = get_method("siamese")
    cfg = m.config("cpu", **SMALL)
    torch.manual_seed(0)
    save_checkpoint(ws.run("siamese-random").checkpoint, m.build_model(cfg), None, 0, cfg)

    lines = ["embedder | probe logreg video_mean (2 shots) | knn1 frame | similarity AUC | pair acc"]
    best = 0.0
    for name in ("pixels", "ckpt:siamese-cpu", "ckpt:siamese-random"):
        extract(ws, vids, name, every=2, workers=0, progress=False, thumbnails=False)
        p = probe_workspace(ws, name, shots=2, repeats=10)
        s = similarity_workspace(ws, name, pairs=600)
        lr, k1 = p["accuracy"]["logreg"]["video_mean"], p["accuracy"]["knn1"]["frame"]
        best = max(best, lr["mean"])
        lines.append(
            f"{name} | {lr['mean']:.3f} ± {lr['std']:.3f} | {k1['mean']:.3f} ± {k1['std']:.3f} | "
            f"{s['auc']:.3f} | {s['accuracy']['mean']:.3f} ± {s['accuracy']['std']:.3f}"
        )
    lines.append(f"chance 1/C = {1 / len(SCENES):.3f}")

    lines.append("seed | finetune pretrained frame / video_mean | random init frame / video_mean")
    gains = []
    for seed in range(5):
        r = finetune(ws, "siamese-cpu", vids, shots=2, epochs=10, lr=1e-3, per_video=8, seed=seed, overwrite=True, progress=False)
        a, b = r["pretrained"], r["random_init"]
        gains.append(a["video_mean"] - b["video_mean"])
        lines.append(f"{seed} | {a['frame']:.3f} / {a['video_mean']:.3f} | {b['frame']:.3f} / {b['video_mean']:.3f}")
    lines.append(f"video_mean gain: {np.mean(gains):+.3f} ± {np.std(gains):.3f} over 5 seeds")
    print("\n" + "\n".join(lines))
    assert best > 1 / len(SCENES)
