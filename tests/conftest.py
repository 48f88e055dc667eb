"""Shared fixtures: tiny generated videos, the shipped real footage, a CLI runner."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from vidsift_testdata import moving_gradient

from vidsift.video.real import real_footage
from vidsift.video.writer import write_video


@pytest.fixture(scope="session")
def real() -> dict[str, Path]:
    files = real_footage()
    missing = {"bikes.mp4", "cityCC0.mpg", "carphone_pristine.mp4"} - set(files)
    assert not missing, f"dev install incomplete, missing {missing} (run make test)"
    return files


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.mp4"
    write_video(path, moving_gradient(), fps=10)
    return path


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-500:]!r}, err={self.err[-500:]!r})"


@pytest.fixture
def cli(monkeypatch):
    """Run `vidsift ARGS` in-process through the real entry point (errors -> one line + exit)."""
    from vidsift.cli import main

    def run(*args: str | Path) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "argv", ["vidsift", *map(str, args)])
        code = 0
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run
