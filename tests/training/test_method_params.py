"""Typed method hyper-parameters: one frozen dataclass per method, presets unchanged.

``TODAY`` is every preset's config as ``method.config(preset)`` built it before the parameters
were typed (dumped field by field, with the Python type of each value, from the untyped code):
the typed dataclasses and the ``cpu``-as-overrides presets must rebuild exactly these.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from vidsift.errors import BadInputError
from vidsift.training.config import NOT_IN_PRESETS, TrainConfig, build_params, in_presets
from vidsift.training.registry import METHODS, get_method

# method/preset -> (TrainConfig fields except params, params), as the untyped code built them
# fmt: off
TODAY = {
    "infonce/cpu": (
        {"batch_size": 32, "checkpoint_every": 100, "clip_len": 1, "data_ids": (), "input_size": (64, 64), "log_every": 25, "lr": 0.001, "lr_schedule": "constant", "method": "infonce", "momentum": 0.9, "num_workers": 1, "optimizer": "adamw", "preset": "cpu", "seed": 0, "steps": 300, "weight_decay": 1e-06},
        {"blocks": (1, 1, 1, 1), "crop_min": 0.3, "gray_p": 0.2, "hidden": 512, "jitter": 0.4, "max_gap": 8, "proj_dim": 128, "temperature": 0.1, "widths": (64, 128, 256, 512)},
    ),
    "infonce/paper": (
        {"batch_size": 256, "checkpoint_every": 2000, "clip_len": 1, "data_ids": (), "input_size": (112, 112), "log_every": 100, "lr": 0.001, "lr_schedule": "constant", "method": "infonce", "momentum": 0.9, "num_workers": 8, "optimizer": "adamw", "preset": "paper", "seed": 0, "steps": 50000, "weight_decay": 1e-06},
        {"blocks": (2, 2, 2, 2), "crop_min": 0.08, "gray_p": 0.2, "hidden": 512, "jitter": 0.8, "max_gap": 8, "proj_dim": 128, "temperature": 0.1, "widths": (64, 128, 256, 512)},
    ),
    "c3d-siamese/cpu": (
        {"batch_size": 10, "checkpoint_every": 200, "clip_len": 8, "data_ids": (), "input_size": (64, 64), "log_every": 50, "lr": 0.001, "lr_schedule": "constant", "method": "c3d-siamese", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "cpu", "seed": 0, "steps": 500, "weight_decay": 0.0005},
        {"dropout": 0.0, "frame_size": (72, 96), "hidden": 64, "margin": 1.0, "out_dim": 512, "pos_ratio": 0.3, "width": 0.25},
    ),
    "c3d-siamese/paper": (
        {"batch_size": 10, "checkpoint_every": 200, "clip_len": 16, "data_ids": (), "input_size": (112, 112), "log_every": 50, "lr": 0.0001, "lr_schedule": "constant", "method": "c3d-siamese", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "paper", "seed": 0, "steps": 100000, "weight_decay": 0.0005},
        {"dropout": 0.5, "frame_size": (128, 171), "hidden": 64, "margin": 1.0, "out_dim": 2048, "pos_ratio": 0.3, "width": 1.0},
    ),
    "drlim/cpu": (
        {"batch_size": 32, "checkpoint_every": 100, "clip_len": 1, "data_ids": (), "input_size": (64, 64), "log_every": 25, "lr": 0.0001, "lr_schedule": "constant", "method": "drlim", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "cpu", "seed": 0, "steps": 300, "weight_decay": 0.0005},
        {"dropout": 0.0, "fc6": 512, "fc7": 128, "margin": 1.0, "pos_fraction": 0.5, "w": 1},
    ),
    "drlim/paper": (
        {"batch_size": 120, "checkpoint_every": 2000, "clip_len": 1, "data_ids": (), "input_size": (227, 227), "log_every": 100, "lr": 0.001, "lr_schedule": "constant", "method": "drlim", "momentum": 0.9, "num_workers": 8, "optimizer": "sgd", "preset": "paper", "seed": 0, "steps": 50000, "weight_decay": 0.0005},
        {"dropout": 0.5, "fc6": 4096, "fc7": 4096, "margin": 1.0, "pos_fraction": 0.5, "w": 1},
    ),
    "quadruplet-mu/cpu": (
        {"batch_size": 16, "checkpoint_every": 100, "clip_len": 1, "data_ids": (), "input_size": (64, 64), "log_every": 25, "lr": 0.0001, "lr_schedule": "constant", "method": "quadruplet-mu", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "cpu", "seed": 0, "steps": 300, "weight_decay": 0.0005},
        {"alpha": 0.5, "dropout": 0.0, "fc6": 512, "fc7": 128, "n": 10, "w": 1},
    ),
    "quadruplet-mu/paper": (
        {"batch_size": 40, "checkpoint_every": 2000, "clip_len": 1, "data_ids": (), "input_size": (227, 227), "log_every": 100, "lr": 0.001, "lr_schedule": "constant", "method": "quadruplet-mu", "momentum": 0.9, "num_workers": 8, "optimizer": "sgd", "preset": "paper", "seed": 0, "steps": 50000, "weight_decay": 0.0005},
        {"alpha": 0.5, "dropout": 0.5, "fc6": 4096, "fc7": 1024, "n": 20, "w": 1},
    ),
    "quadruplet/cpu": (
        {"batch_size": 16, "checkpoint_every": 100, "clip_len": 1, "data_ids": (), "input_size": (64, 64), "log_every": 25, "lr": 0.0001, "lr_schedule": "constant", "method": "quadruplet", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "cpu", "seed": 0, "steps": 300, "weight_decay": 0.0005},
        {"alpha": 0.5, "dropout": 0.0, "fc6": 512, "fc7": 128, "n": 10, "w": 1},
    ),
    "quadruplet/paper": (
        {"batch_size": 40, "checkpoint_every": 2000, "clip_len": 1, "data_ids": (), "input_size": (227, 227), "log_every": 100, "lr": 0.001, "lr_schedule": "constant", "method": "quadruplet", "momentum": 0.9, "num_workers": 8, "optimizer": "sgd", "preset": "paper", "seed": 0, "steps": 50000, "weight_decay": 0.0005},
        {"alpha": 0.5, "dropout": 0.5, "fc6": 4096, "fc7": 1024, "n": 20, "w": 1},
    ),
    "siamese-mu/cpu": (
        {"batch_size": 32, "checkpoint_every": 100, "clip_len": 1, "data_ids": (), "input_size": (64, 64), "log_every": 25, "lr": 0.0001, "lr_schedule": "constant", "method": "siamese-mu", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "cpu", "seed": 0, "steps": 300, "weight_decay": 0.0005},
        {"dropout": 0.0, "fc6": 512, "fc7": 128, "margin": 1.0, "pos_fraction": 0.5, "w": 1},
    ),
    "siamese-mu/paper": (
        {"batch_size": 120, "checkpoint_every": 2000, "clip_len": 1, "data_ids": (), "input_size": (227, 227), "log_every": 100, "lr": 0.001, "lr_schedule": "constant", "method": "siamese-mu", "momentum": 0.9, "num_workers": 8, "optimizer": "sgd", "preset": "paper", "seed": 0, "steps": 50000, "weight_decay": 0.0005},
        {"dropout": 0.5, "fc6": 4096, "fc7": 4096, "margin": 1.0, "pos_fraction": 0.5, "w": 1},
    ),
    "siamese/cpu": (
        {"batch_size": 32, "checkpoint_every": 100, "clip_len": 1, "data_ids": (), "input_size": (64, 64), "log_every": 25, "lr": 0.0001, "lr_schedule": "constant", "method": "siamese", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "cpu", "seed": 0, "steps": 300, "weight_decay": 0.0005},
        {"dropout": 0.0, "fc6": 512, "fc7": 128, "margin": 1.0, "pos_fraction": 0.5, "w": 1},
    ),
    "siamese/paper": (
        {"batch_size": 120, "checkpoint_every": 2000, "clip_len": 1, "data_ids": (), "input_size": (227, 227), "log_every": 100, "lr": 0.001, "lr_schedule": "constant", "method": "siamese", "momentum": 0.9, "num_workers": 8, "optimizer": "sgd", "preset": "paper", "seed": 0, "steps": 50000, "weight_decay": 0.0005},
        {"dropout": 0.5, "fc6": 4096, "fc7": 4096, "margin": 1.0, "pos_fraction": 0.5, "w": 1},
    ),
    "slow-ae/cpu": (
        {"batch_size": 32, "checkpoint_every": 100, "clip_len": 1, "data_ids": (), "input_size": (32, 32), "log_every": 25, "lr": 0.001, "lr_schedule": "constant", "method": "slow-ae", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "cpu", "seed": 0, "steps": 400, "weight_decay": 0.0},
        {"alpha": 0.01, "beta": 0.5, "decoder_norm": True, "layer1": (32, 9, 4, 2), "layer1_fraction": 0.5, "layer2": (64, 5, 4, 4), "squared_recon": True, "w": 1, "zca": True, "zca_eps": 0.01, "zca_samples": 2000, "zca_unit_variance": True},
    ),
    "slow-ae/paper": (
        {"batch_size": 64, "checkpoint_every": 2000, "clip_len": 1, "data_ids": (), "input_size": (32, 32), "log_every": 100, "lr": 0.001, "lr_schedule": "constant", "method": "slow-ae", "momentum": 0.9, "num_workers": 4, "optimizer": "adam", "preset": "paper", "seed": 0, "steps": 20000, "weight_decay": 0.0},
        {"alpha": 0.01, "beta": 2.0, "decoder_norm": True, "layer1": (64, 9, 4, 2), "layer1_fraction": 0.5, "layer2": (64, 5, 1, 4), "squared_recon": True, "w": 1, "zca": True, "zca_eps": 0.01, "zca_samples": 10000, "zca_unit_variance": True},
    ),
    "triplet/cpu": (
        {"batch_size": 32, "checkpoint_every": 100, "clip_len": 1, "data_ids": (), "input_size": (64, 64), "log_every": 25, "lr": 0.0001, "lr_schedule": "constant", "method": "triplet", "momentum": 0.9, "num_workers": 1, "optimizer": "adam", "preset": "cpu", "seed": 0, "steps": 300, "weight_decay": 0.0005},
        {"dropout": 0.0, "fc6": 512, "fc7": 128, "frame_size": (96, 96), "hard_negatives": 4, "hard_start": 0.5, "margin": 0.5, "patch": 64, "radius": 8, "track_len": 8, "track_stride": 2},
    ),
    "triplet/paper": (
        {"batch_size": 100, "checkpoint_every": 2000, "clip_len": 1, "data_ids": (), "input_size": (227, 227), "log_every": 100, "lr": 0.001, "lr_schedule": "constant", "method": "triplet", "momentum": 0.9, "num_workers": 8, "optimizer": "sgd", "preset": "paper", "seed": 0, "steps": 50000, "weight_decay": 0.0005},
        {"dropout": 0.5, "fc6": 4096, "fc7": 1024, "frame_size": (448, 600), "hard_negatives": 4, "hard_start": 0.5, "margin": 0.5, "patch": 227, "radius": 24, "track_len": 30, "track_stride": 3},
    ),
    "ul/cpu": (
        {"batch_size": 32, "checkpoint_every": 200, "clip_len": 1, "data_ids": (), "input_size": (32, 32), "log_every": 50, "lr": 0.001, "lr_schedule": "constant", "method": "ul", "momentum": 0.9, "num_workers": 1, "optimizer": "sgd", "preset": "cpu", "seed": 0, "steps": 500, "weight_decay": 0.01},
        {"conv_channels": 4, "eps": 0.001, "frame_stride": 1, "mu": 0.5, "mu_conv": 0.9, "out_dim": 8, "weight": 1.0},
    ),
    "ul/paper": (
        {"batch_size": 32, "checkpoint_every": 200, "clip_len": 1, "data_ids": (), "input_size": (56, 56), "log_every": 50, "lr": 1e-05, "lr_schedule": "constant", "method": "ul", "momentum": 0.9, "num_workers": 1, "optimizer": "sgd", "preset": "paper", "seed": 0, "steps": 5000, "weight_decay": 0.01},
        {"conv_channels": 4, "eps": 0.001, "frame_stride": 1, "mu": 0.5, "mu_conv": 0.9, "out_dim": 2, "weight": 1.0},
    ),
}
# fmt: on


def same_typed(a, b) -> bool:
    """``a == b`` with the same types all the way down (1 != 1.0 != True here)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_typed, a, b))
    return type(a) is type(b) and a == b


def test_today_covers_every_method_preset_and_field() -> None:
    # a new method, preset or TrainConfig field must be added to TODAY, not skipped
    assert set(TODAY) == {f"{name}/{preset}" for name, m in METHODS.items() for preset in m.PRESETS}
    names = {f.name for f in dataclasses.fields(TrainConfig)} - {"params"}
    assert all(set(fields) == names for fields, _ in TODAY.values())


@pytest.mark.parametrize("key", sorted(TODAY))
def test_presets_build_the_same_config_as_before(key) -> None:
    name, preset = key.split("/")
    fields, params = TODAY[key]
    cfg = get_method(name).config(preset)
    for field, expected in fields.items():
        got = getattr(cfg, field)
        assert same_typed(got, expected), f"{key} {field}: {got!r} != {expected!r}"
    assert [k for k, _ in cfg.params] == sorted(params), key
    for k, value in cfg.params:
        assert same_typed(value, params[k]), (key, k, value, params[k])
    assert cfg == TrainConfig(**fields, params=params)


def field_comment(cls: type, name: str) -> str:
    """The comment on field ``name`` (same line, or a ``#:`` line above) where it is declared."""
    owner = next(c for c in cls.__mro__ if name in c.__dict__.get("__annotations__", {}))
    lines = inspect.getsource(owner).splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.strip().startswith(f"{name}:"))
    return lines[i].partition("#")[2].strip() or lines[i - 1].strip().removeprefix("#:").strip()


@pytest.mark.parametrize("name", sorted(METHODS))
def test_one_frozen_params_dataclass_per_method_with_the_paper_defaults(name) -> None:
    m = get_method(name)
    P = m.Params
    assert dataclasses.is_dataclass(P) and P.__dataclass_params__.frozen
    # declared in the method's own module (siamese-mu / quadruplet-mu share their parent's)
    assert P.__module__ == type(m).__module__ or name.endswith("-mu")
    # a field named like a TrainConfig field could never be set (config() routes it there)
    clash = {f.name for f in dataclasses.fields(P)} & {
        f.name for f in dataclasses.fields(TrainConfig)
    }
    assert not clash, clash
    # the paper preset's hyper-parameters are the dataclass defaults
    paper = m.config("paper")
    assert m.params(paper) == P()
    assert dict(paper.params) == {f.name: f.default for f in dataclasses.fields(P) if in_presets(f)}
    # every field is typed and says what it is in a comment
    for f in dataclasses.fields(P):
        assert f.type and field_comment(P, f.name), f"{P.__name__}.{f.name} has no comment"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_cpu_preset_only_lists_what_differs_from_paper(name) -> None:
    m = get_method(name)
    paper, cpu = m.config("paper"), m.config("cpu")
    assert "params" not in m.PRESETS["cpu"] and "params" not in m.PRESETS["paper"]
    assert m.PRESETS["cpu"], "cpu equal to paper?"
    for key, value in m.PRESETS["cpu"].items():
        before = getattr(paper, key) if hasattr(paper, key) else paper.p(key)
        now = getattr(cpu, key) if hasattr(cpu, key) else cpu.p(key)
        assert before != now, f"{name}: cpu repeats paper's {key}={value!r}"
    # and nothing else differs (besides the preset name)
    changed = {
        f.name
        for f in dataclasses.fields(TrainConfig)
        if f.name not in ("preset", "params") and getattr(paper, f.name) != getattr(cpu, f.name)
    }
    changed |= {k for k, v in cpu.params if paper.p(k) != v}
    assert changed == set(m.PRESETS["cpu"])


def test_methods_read_typed_fields() -> None:
    m = get_method("siamese")
    p = m.params(m.config("cpu", margin=2))
    assert isinstance(p, m.Params) and p.margin == 2.0 and isinstance(p.margin, float)
    assert (p.fc6, p.fc7, p.dropout, p.backbone) == (512, 128, 0.0, "alexnet")
    assert (p.w, p.pos_fraction) == (1, 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.margin = 3.0
    assert m.build_loss(m.config("cpu", margin=2)).margin == 2.0
    slow = get_method("slow-ae")
    p = slow.params(slow.config("cpu", layer1=[16, 5, 4, 2], zca="false", beta=0))
    assert p.layer1 == (16, 5, 4, 2) and p.zca is False
    assert p.beta == 0.0 and isinstance(p.beta, float)


def test_backbone_is_stored_only_when_given() -> None:
    m = get_method("drlim")
    assert "backbone" not in dict(m.config("cpu").params)
    assert dict(m.config("cpu", backbone="small").params)["backbone"] == "small"
    assert m.params(m.config("cpu")).backbone == "alexnet"
    field = next(f for f in dataclasses.fields(m.Params) if f.name == "backbone")
    assert dict(field.metadata) == dict(NOT_IN_PRESETS)


def test_unknown_parameter_names_are_refused_with_the_valid_ones() -> None:
    m = get_method("siamese")
    with pytest.raises(
        BadInputError,
        match=r"unknown parameter\(s\) \['marign'\] for 'siamese'; its parameters are "
        r"augment, backbone, dropout, fc6, fc7, fn_filter, margin, normalize, pos_fraction, w; run settings are seed, steps",
    ):
        m.config("cpu", marign=2.0)
    with pytest.raises(BadInputError, match=r"unknown parameter\(s\) \['n'\] for 'ul'"):
        get_method("ul").config("paper", params={"n": 3})
    # a config changed after it was built (the resume path: cfg.replace) is checked when read
    cfg = m.config("cpu").replace(nonsense=1)
    with pytest.raises(BadInputError, match=r"unknown parameter\(s\) \['nonsense'\]"):
        m.build_loss(cfg)


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("siamese", {"margin": "wide"}, "siamese parameter margin must be a number, got 'wide'"),
        ("siamese", {"fc6": 1.5}, "siamese parameter fc6 must be a whole number, got 1.5"),
        ("siamese", {"fc6": True}, "siamese parameter fc6 must be a whole number, got True"),
        ("siamese", {"backbone": 3}, "siamese parameter backbone must be a string, got 3"),
        ("slow-ae", {"zca": 1}, "slow-ae parameter zca must be true or false, got 1"),
        (
            "slow-ae",
            {"layer1": [8, 5, 4]},
            r"slow-ae parameter layer1 must be a list of 4 whole numbers, got \[8, 5, 4\]",
        ),
        (
            "triplet",
            {"frame_size": 96},
            "triplet parameter frame_size must be a list of 2 whole numbers, got 96",
        ),
        (
            "c3d-siamese",
            {"frame_size": ["a", 2]},
            "c3d-siamese parameter frame_size must be a list of 2 whole numbers",
        ),
    ],
)
def test_wrong_types_are_refused_with_a_clear_message(name, given, message) -> None:
    with pytest.raises(BadInputError, match=message):
        get_method(name).config("cpu", **given)


def test_values_of_a_near_type_are_converted() -> None:
    P = get_method("triplet").Params
    p = build_params(
        P, {"patch": "64", "margin": "0.25", "radius": 8.0, "frame_size": [96, 128]}, "triplet"
    )
    assert (p.patch, p.margin, p.radius, p.frame_size) == (64, 0.25, 8, (96, 128))
    assert all(isinstance(v, int) for v in (p.patch, p.radius, *p.frame_size))
