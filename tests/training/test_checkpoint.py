"""Checkpoints: exact reload from the stored config alone, weights_only loading, refusals."""

from __future__ import annotations

import json

import pytest
import torch

from vidsift.errors import WorkspaceError
from vidsift.training.checkpoint import (
    FORMAT_VERSION,
    load_checkpoint,
    load_model,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from vidsift.training.registry import get_method
from vidsift.workspace import RunDir


class NotAllowed:
    """Any class: torch.load(weights_only=True) must refuse to unpickle it."""

    def __init__(self) -> None:
        self.x = 1


def small_siamese():
    m = get_method("siamese")
    cfg = m.config("cpu", backbone="small", fc6=16, fc7=8, input_size=(32, 32), data_ids=("a", "b"))
    return m, cfg


@pytest.mark.parametrize("name", ["siamese", "quadruplet", "triplet", "drlim", "slow-ae"])
def test_load_model_rebuilds_the_exact_model(tmp_path, name) -> None:
    m = get_method(name)
    if name == "slow-ae":
        cfg = m.config("cpu", input_size=(16, 16), layer1=(8, 5, 4, 2), layer2=(8, 3, 1, 4))
    else:
        cfg = m.config("cpu", backbone="small", fc6=16, fc7=8, input_size=(32, 32))
    torch.manual_seed(0)
    model = m.build_model(cfg)
    with torch.no_grad():  # make buffers/weights non-default so a rebuild could not fake it
        for p in model.state_dict().values():
            if p.is_floating_point():
                p.add_(torch.randn_like(p) * 0.01)
    opt = m.build_optimizer(model, cfg)
    path = save_checkpoint(RunDir(tmp_path).checkpoint, model, opt, 7, cfg, {"loss": 0.5}, rng_state())
    loaded = load_model(path)
    assert loaded.cfg == cfg and loaded.step == 7 and loaded.method is m
    assert len(loaded.sha256) == 64 and loaded.metrics == {"loss": 0.5}
    x = m.preprocess(torch.randint(0, 255, (3, *cfg.input_size, 3), dtype=torch.uint8).numpy(), cfg)
    model.eval()
    for layer in m.LAYERS:
        assert torch.equal(m.features(model, x, layer), m.features(loaded.model, x, layer))
    assert json.loads(RunDir(tmp_path).config.read_text()) == cfg.to_dict()


def test_checkpoint_is_plain_data_and_restores_rng(tmp_path) -> None:
    m, cfg = small_siamese()
    model = m.build_model(cfg)
    torch.manual_seed(123)
    state = rng_state()
    expected = torch.rand(3)
    import random

    import numpy as np

    np_expected, py_expected = np.random.rand(), random.random()
    save_checkpoint(tmp_path / "c.pt", model, None, 1, cfg, {}, state)
    ck = load_checkpoint(tmp_path / "c.pt", method="siamese")  # weights_only=True inside
    assert ck["format_version"] == FORMAT_VERSION and ck["config"]["data_ids"] == ["a", "b"]
    torch.manual_seed(0)
    set_rng_state(ck["rng"])
    assert torch.equal(torch.rand(3), expected)
    assert np.random.rand() == np_expected and random.random() == py_expected


def test_refuses_another_method(tmp_path) -> None:
    m, cfg = small_siamese()
    save_checkpoint(tmp_path / "c.pt", m.build_model(cfg), None, 1, cfg)
    with pytest.raises(WorkspaceError, match="checkpoint is for 'siamese', not 'triplet'"):
        load_checkpoint(tmp_path / "c.pt", method="triplet")
    with pytest.raises(WorkspaceError, match="checkpoint is for 'siamese', not 'triplet'"):
        load_model(tmp_path / "c.pt", method="triplet")


def test_refuses_a_newer_format(tmp_path) -> None:
    m, cfg = small_siamese()
    save_checkpoint(tmp_path / "c.pt", m.build_model(cfg), None, 1, cfg)
    ck = torch.load(tmp_path / "c.pt", weights_only=True)
    ck["format_version"] = FORMAT_VERSION + 1
    torch.save(ck, tmp_path / "new.pt")
    with pytest.raises(WorkspaceError, match="written by a newer vidsift.*upgrade"):
        load_model(tmp_path / "new.pt")


def test_refuses_pickled_objects(tmp_path) -> None:
    torch.save({"x": NotAllowed(), "format_version": 1}, tmp_path / "evil.pt")
    with pytest.raises(WorkspaceError, match="not a vidsift checkpoint: it holds pickled Python objects") as err:
        load_checkpoint(tmp_path / "evil.pt")
    assert "\n" not in str(err.value)


def test_refuses_files_that_are_not_checkpoints(tmp_path) -> None:
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    with pytest.raises(WorkspaceError, match="junk.pt: not a vidsift checkpoint"):
        load_model(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(WorkspaceError, match="no format_version"):
        load_model(tmp_path / "foreign.pt")
    with pytest.raises(WorkspaceError, match="no checkpoint there"):
        load_model(tmp_path / "missing.pt")


def test_save_is_atomic(tmp_path, monkeypatch) -> None:
    m, cfg = small_siamese()
    model = m.build_model(cfg)
    path = save_checkpoint(tmp_path / "c.pt", model, None, 1, cfg)
    before = path.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(RuntimeError):
        save_checkpoint(path, model, None, 2, cfg)
    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [tmp_path / "c.pt", RunDir(tmp_path).config]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_rng_state_restores_from_a_checkpoint_loaded_to_cuda(tmp_path) -> None:
    """``map_location="cuda"`` moves the saved generator states to the GPU; restoring them must
    still work (found on the first GPU run: every resume on CUDA failed)."""
    torch.cuda.init()
    state = rng_state()
    torch.save({"rng": state}, tmp_path / "r.pt")
    expected = torch.rand(3)
    moved = torch.load(tmp_path / "r.pt", map_location="cuda", weights_only=True)["rng"]
    assert moved["torch"].device.type == "cuda"
    set_rng_state(moved)
    assert torch.equal(torch.rand(3), expected)


def test_a_config_stored_before_typing_loads_and_rebuilds_the_model(tmp_path) -> None:
    """A checkpoint written by the untyped code: params stored as JSON pairs, ints where floats
    are meant, a parameter it did not store (pos_fraction) -> the typed defaults fill in."""
    m = get_method("siamese")
    cfg = m.config("cpu", backbone="small", fc6=16, fc7=8, input_size=(32, 32))
    torch.manual_seed(0)
    model = m.build_model(cfg)
    path = save_checkpoint(RunDir(tmp_path).checkpoint, model, None, 3, cfg, {}, rng_state())
    ck = torch.load(path, weights_only=True)
    old = dict(ck["config"])
    old["params"] = [
        ["backbone", "small"],
        ["dropout", 0],
        ["fc6", 16],
        ["fc7", 8],
        ["margin", 1],
        ["w", 1],
    ]
    ck["config"] = old
    torch.save(ck, path)
    loaded = load_model(path)
    p = m.params(loaded.cfg)
    assert (p.dropout, p.margin, p.pos_fraction) == (0.0, 1.0, 0.5) and isinstance(p.margin, float)
    x = torch.randn(2, 3, 32, 32)
    model.eval()
    assert torch.equal(m.features(model, x, "fc6"), m.features(loaded.model, x, "fc6"))
    assert loaded.cfg.to_dict()["params"] == old["params"]  # the stored config is kept as it was
