"""``slow-ae``: the slow-feature pooling auto-encoder of Goroshin et al. 2015 (card A).

Trained on pairs of temporally adjacent frames (t, t+1) with
L = sum_tau (||W_d h_tau - x_tau|| + alpha |h_tau|_1) + beta sum_i | ||h_t||_P_i - ||h_t'||_P_i |
(``training.losses.SlowFeatureAELoss``); ``beta=0`` is the no-slowness ablation.

Greedy layer-wise training (as in the paper): layer 1 for the first ``layer1_fraction`` of the
steps (default half), then layer 2 on the frozen (detached) layer-1 code z1, reconstructing z1.
In stage 2 layer 1 gets no gradient, so the optimiser leaves it untouched (no weight decay, no
momentum).

Input: colour frames (paper 32x32), scaled to [0, 1] by ``preprocess`` and ZCA-whitened inside
the model: the whitening mean and matrix are buffers fitted on ``zca_samples`` random training
frames before step 0 (``init_from_data``) and stored in the checkpoint, so the embedder applies
exactly the whitening used in training. ``zca=False`` skips it (x - 0.5).

Choices where the paper is silent or ambiguous (measured on generated scenes, see
docs/training.md):

* The reconstruction ``||W_d h - x||`` is read as the squared error (``squared_recon=True`` in
  both presets). The literal unsquared norm has a gradient of unit length whatever the error,
  so the per-element L1 sparsity and slowness terms outweigh it and switch code groups off:
  trained z2 neighbours were less often same-scene than at random init (by 0.32 on average
  over 5 scene sets at beta 2, by 0.10 at beta 0.5), against a gain of 0.15 with the squared
  error at beta 0.5.
* ZCA is rescaled to unit mean variance (``zca_unit_variance``; ``fit_zca``): with epsilon 0.01
  on [0, 1] pixels the whitened frames otherwise keep about 6 % of unit variance, which again
  hands the balance to the L1 terms.
* alpha (sparsity weight) 0.01, ZCA epsilon 0.01, Adam with lr 1e-3 and no weight decay, and
  decoder filters kept at L2 norm <= 1 after every step (``decoder_norm``; without it codes
  shrink towards zero while the decoder grows, which makes sparsity and slowness meaningless —
  the usual sparse-coding constraint).
* ``paper`` keeps the printed layer 2 (64 5x5 filters, 4x4 spatial pooling, no pooling across
  maps) and beta 2. ``cpu`` pools layer 2 across groups of 4 maps as well (``(64, 5, 4, 4)``),
  the mechanism the paper credits for invariance beyond translation: with single-map groups the
  slowness term switched off up to 60 % of the layer-2 units; and uses beta 0.5, since with
  squared errors of unit-variance frames beta 2 outweighs reconstruction (mean gain -0.003 vs
  0.15 over 5 scene sets).
* Before layer 2, z1 is divided by a fixed scale (its RMS on the first stage-2 batch, a buffer)
  so layer 2's reconstruction term does not vanish next to its sparsity/slowness terms whatever
  scale layer 1 ended at.

Layers: ``z1`` (16x16x16 = 4096 at 32x32) and ``z2`` (paper 64x4x4 = 1024, cpu 16x4x4 = 256);
default ``z2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vidsift.errors import BadInputError
from vidsift.training.config import TrainConfig
from vidsift.training.data.samplers import PairStream, fetch
from vidsift.training.data.source import FrameSource
from vidsift.training.losses import SlowFeatureAELoss
from vidsift.training.methods.base import Method
from vidsift.training.models import SlowAEOutput, SlowFeatureAE


class SlowAENet(nn.Module):
    """ZCA whitening (fixed buffers) + ``SlowFeatureAE``; ``phase`` picks the layer trained."""

    def __init__(
        self,
        input_size: tuple[int, int],
        layer1: tuple[int, ...],
        layer2: tuple[int, ...],
        zca: bool,
    ) -> None:
        super().__init__()
        self.ae = SlowFeatureAE(in_channels=3, layer1=layer1, layer2=layer2)
        self.zca = bool(zca)
        self.input_size = tuple(input_size)
        d = 3 * input_size[0] * input_size[1]
        if self.zca:
            self.register_buffer("zca_mean", torch.zeros(d))
            self.register_buffer("zca_matrix", torch.eye(d))
        # z1 is divided by this before layer 2 so that layer 2 sees unit-RMS input whatever
        # scale layer 1 ended at. Fitted on the first stage-2 batch (0 = not fitted yet); a
        # buffer, so it is saved in the checkpoint and DDP broadcasts rank 0's value.
        self.register_buffer("z1_scale", torch.zeros(()))
        self.phase = 2  # set by SlowAEMethod.begin_step during training

    def whiten(self, x: torch.Tensor) -> torch.Tensor:
        if not self.zca:
            return x - 0.5
        n = x.shape[0]
        flat = x.reshape(n, -1).float() - self.zca_mean
        return (flat @ self.zca_matrix).reshape(x.shape).to(x.dtype)

    def z1(self, x: torch.Tensor) -> torch.Tensor:
        first = self.ae.layers[0]
        return first.pool(first.encode(self.whiten(x)))

    def forward(self, x: torch.Tensor) -> SlowAEOutput:
        if self.phase == 1:
            return self.ae.layers[0](self.whiten(x))
        # greedy stage 2: layer 1 is frozen (no gradient flows into it)
        z1 = self.z1(x).detach()
        if self.z1_scale.item() == 0:
            self.z1_scale.fill_(float(z1.float().pow(2).mean().sqrt().clamp(min=1e-6)))
        return self.ae.layers[1](z1 / self.z1_scale)

    def features(self, x: torch.Tensor, layer: str) -> torch.Tensor:
        z1 = self.z1(x)
        if layer == "z1":
            return z1.flatten(1)
        second = self.ae.layers[1]
        scale = self.z1_scale.clamp(min=1e-6)  # unfitted (0) before stage 2 has run
        return second.pool(second.encode(z1 / scale)).flatten(1)


def fit_zca(x: np.ndarray, eps: float, unit_variance: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """ZCA of rows of ``x`` [N, D]: mean [D] and symmetric W [D, D] with cov(W(x - mean)) ~ I.

    W = U diag(1 / sqrt(s + eps)) U^T gives the whitened data the covariance
    U diag(s / (s + eps)) U^T, whose mean diagonal is mean(s / (s + eps)): far below 1 when most
    eigenvalues are below eps (smooth frames on a [0, 1] scale: about 0.06 at 16x16). With
    ``unit_variance`` W is rescaled by 1 / sqrt(mean(s / (s + eps))) so the whitened pixels have
    unit variance on average, as "ZCA-whitened" data has in the paper; the eps regulariser
    then only shapes the spectrum. Without it the frames are so small that the per-element L1
    terms of the loss outweigh reconstruction whatever alpha and beta are.
    """
    x = x.astype(np.float64)
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc / max(len(x) - 1, 1)
    s, u = np.linalg.eigh(cov)
    s = np.maximum(s, 0)
    w = (u * (1.0 / np.sqrt(s + eps))) @ u.T
    if unit_variance:
        w /= np.sqrt(max(float(np.mean(s / (s + eps))), 1e-12))
    return mean.astype(np.float32), w.astype(np.float32)


@dataclass(frozen=True)
class SlowAEParams:
    """Hyper-parameters of ``slow-ae`` (paper values; vidsift's reading where it is silent)."""

    layer1: tuple[int, int, int, int] = (64, 9, 4, 2)  # (filters, kernel, group, pool) (paper)
    layer2: tuple[int, int, int, int] = (64, 5, 1, 4)  # same for layer 2 (paper: 64 5x5, 4x4 pool)
    alpha: float = 0.01  # weight of the L1 sparsity term (not given; 0.01)
    beta: float = 2.0  # weight of the slowness term, 0 = no-slowness ablation (paper: 2)
    zca: bool = True  # ZCA-whiten the frames inside the model (paper: ZCA)
    zca_eps: float = 0.01  # ZCA regulariser on [0, 1] pixels (not given; 0.01)
    zca_samples: int = 10_000  # random training frames the ZCA is fitted on
    zca_unit_variance: bool = True  # rescale ZCA to unit mean variance (``fit_zca``)
    layer1_fraction: float = 0.5  # share of the steps that train layer 1 before layer 2 (half)
    w: int = 1  # frames between the two frames of a pair (paper: adjacent, 1)
    squared_recon: bool = True  # reconstruction term ||W_d h - x||^2, not ||W_d h - x||
    decoder_norm: bool = True  # project decoder filters to L2 norm <= 1 after every step


class SlowAEMethod(Method):
    NAME = "slow-ae"
    DESCRIPTION = (
        "Slow-feature pooling auto-encoder: reconstruction + sparsity + slowness of L2-pooled "
        "codes of adjacent frames, greedy two layers (Goroshin et al. 2015)"
    )
    SAMPLE = "pair"
    LAYERS = ("z1", "z2")
    DEFAULT_LAYER = "z2"
    FIND_UNUSED_PARAMETERS = True  # one layer at a time
    Params = SlowAEParams
    PRESETS = {
        "paper": {
            "steps": 20_000, "batch_size": 64, "lr": 1e-3, "optimizer": "adam", "weight_decay": 0.0,
            "input_size": (32, 32), "num_workers": 4, "log_every": 100, "checkpoint_every": 2_000,
        },
        # layer 2 also pools across groups of 4 maps, beta 0.5 (see the module docstring)
        "cpu": {
            "steps": 400, "batch_size": 32, "num_workers": 1, "log_every": 25,
            "checkpoint_every": 100, "layer1": (32, 9, 4, 2), "layer2": (64, 5, 4, 4),
            "beta": 0.5, "zca_samples": 2_000,
        },
    }

    def validate_config(self, cfg: TrainConfig) -> None:
        h, w = cfg.input_size
        p = self.params(cfg)
        l1, l2 = p.layer1, p.layer2
        if h % (l1[3] * l2[3]) or w % (l1[3] * l2[3]):
            raise BadInputError(
                f"slow-ae: input {h}x{w} must be divisible by the pooling sizes "
                f"({l1[3]} x {l2[3]}); use e.g. 32x32"
            )

    def build_model(self, cfg: TrainConfig) -> nn.Module:
        p = self.params(cfg)
        return SlowAENet(tuple(cfg.input_size), p.layer1, p.layer2, p.zca)

    def build_loss(self, cfg: TrainConfig) -> nn.Module:
        p = self.params(cfg)
        return SlowFeatureAELoss(alpha=p.alpha, beta=p.beta, squared_recon=p.squared_recon)

    def build_dataset(self, cfg: TrainConfig, source: FrameSource) -> PairStream:
        return PairStream(cfg, source, self, w=self.params(cfg).w, pos_fraction=1.0)

    def preprocess(self, frames: np.ndarray, cfg: TrainConfig) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(255.0)
        return x.permute(0, 3, 1, 2).contiguous()

    def init_from_data(self, model: nn.Module, cfg: TrainConfig, source: FrameSource) -> None:
        if not model.zca:
            return
        rng = np.random.default_rng([cfg.seed, 424242])
        ids = list(source.video_ids)
        lengths = np.asarray([source.num_frames(v) for v in ids], dtype=np.float64)
        p = self.params(cfg)
        n = int(min(p.zca_samples, lengths.sum()))
        vi = rng.choice(len(ids), size=n, p=lengths / lengths.sum())
        t = (rng.random(n) * lengths[vi]).astype(np.int64)
        frames = fetch(source, [ids[i] for i in vi], t, cfg.input_size)
        x = self.preprocess(frames, cfg).reshape(n, -1).numpy()
        mean, w = fit_zca(x, p.zca_eps, p.zca_unit_variance)
        dev = model.zca_mean.device
        model.zca_mean.copy_(torch.from_numpy(mean).to(dev))
        model.zca_matrix.copy_(torch.from_numpy(w).to(dev))

    def begin_step(self, model, loss_fn, step, cfg) -> None:
        switch = int(self.params(cfg).layer1_fraction * cfg.steps)
        model.phase = 1 if step < switch else 2

    def after_step(self, model, step, cfg) -> None:
        # Without a bound on the decoder, codes can shrink (less sparsity and slowness cost)
        # while the decoder grows to keep the reconstruction: the usual sparse-coding
        # degeneracy. As in sparse coding / PSD, each decoder filter (the image of one code map)
        # is projected back to L2 norm <= 1 after every step.
        if not self.params(cfg).decoder_norm:
            return
        layer = model.ae.layers[model.phase - 1]
        with torch.no_grad():
            w = layer.decoder.weight  # Conv2d [C, F, k, k] | ConvTranspose2d [F, C, k, k]
            dims = (0, 2, 3) if isinstance(layer.decoder, nn.Conv2d) else (1, 2, 3)
            norms = torch.linalg.vector_norm(w, dim=dims, keepdim=True).clamp(min=1.0)
            w.div_(norms)

    def step(self, model, loss_fn, batch):
        out = model(batch["x"])
        n = out.h.shape[0] // 2
        first = SlowAEOutput(*(t[:n].float() for t in out))
        second = SlowAEOutput(*(t[n:].float() for t in out))
        loss = loss_fn(first, second)
        with torch.no_grad():
            slow = (first.z - second.z).abs().flatten(1).sum(1).mean()
        return loss, {"slowness": slow}

    def features(self, model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        return model.features(x, self.check_layer(layer))
