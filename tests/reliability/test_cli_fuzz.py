"""Fuzzed numeric options and paths: every outcome is a result or one readable line, never a traceback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vidsift_testdata import write_walk_store

from vidsift.services.indexes import build_workspace_index, clear_cache
from vidsift.workspace import Workspace

NUMBERS = st.one_of(
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "abc", "1e309", "-0", "0x10", "  3", "½"]),
)


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    ws = Workspace.at(tmp_path_factory.mktemp("fuzzws"))
    write_walk_store(ws)
    build_workspace_index(ws, "pixels")
    clear_cache()
    return ws


def one_line_or_ok(r) -> None:
    assert "Traceback" not in r.err and "Traceback" not in r.out, r
    if r.code != 0:
        # click usage errors draw a small box; vidsift errors are one "error:" line (progress bars aside)
        errors = [ln for ln in r.err.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 or "Usage" in r.err or "Try '" in r.err, r


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=NUMBERS, frame=NUMBERS, window=NUMBERS)
def test_search_numbers(cli, ws, k, frame, window):
    r = cli("search", "--embedder", "pixels", "--video", "v1", "--frame", frame, "-k", k, "--exclude-window", window, "-w", ws.root, "--json")
    one_line_or_ok(r)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=NUMBERS, repeats=NUMBERS)
def test_evaluate_numbers(cli, ws, k, repeats):
    r = cli("evaluate", "discovery", "--embedder", "pixels", "--clusters", k, "--repeats", repeats, "-w", ws.root, "--json")
    one_line_or_ok(r)


@pytest.mark.parametrize("repeats", ["1000000000000", "1001", "0", "-5"])
def test_evaluate_refuses_repeats_out_of_range_at_once(cli, ws, repeats):
    # found by the fuzz test above: --repeats 10**12 ran K-means for ever instead of failing
    r = cli("evaluate", "discovery", "--embedder", "pixels", "--repeats", repeats, "-w", ws.root)
    assert r.code != 0 and "repeats must be between 1 and 1000" in r.err, r
    one_line_or_ok(r)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["", "/", "/dev/null", "..", "/nonexistent/x", "\x01bad", "a" * 300, "/proc/self/status"]))
def test_paths(cli, ws, tmp_path_factory, path):
    for args in (("shots", path), ("scan", path, "-w", ws.root), ("search", "--embedder", "pixels", "--image", path, "-w", ws.root)):
        one_line_or_ok(cli(*args))


def test_foreign_workspace_files(cli, tmp_path):
    ws = Workspace.at(tmp_path / "foreign")
    ws.catalog_path.write_text("not a database" * 50)
    r = cli("videos", "-w", ws.root)
    assert r.code != 0 and "not a vidsift catalog" in r.err
    store = ws.embeddings("pixels")
    store.mkdir(parents=True)
    (store / "manifest.json").write_text("{broken")
    r = cli("index", "build", "--embedder", "pixels", "-w", ws.root)
    assert r.code != 0 and "manifest" in r.err and "Traceback" not in r.err
