"""Job locks (``vidsift.locks``): one holder per key, the second waits or is refused by name."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from vidsift.errors import WorkspaceError
from vidsift.locks import holder, job_lock, lock_path
from vidsift.workspace import Workspace


def test_second_holder_waits_then_knows_it_waited(tmp_path) -> None:
    ws = Workspace.at(tmp_path)
    order: list[str] = []
    seen: list[dict] = []
    first_in = threading.Event()

    def first() -> None:
        with job_lock(ws, "embed-pixels"):
            first_in.set()
            time.sleep(0.3)
            order.append("first done")

    t = threading.Thread(target=first)
    t.start()
    first_in.wait(5)
    # flock locks belong to open files, so a second open in this process contends like another process
    with job_lock(ws, "embed-pixels", on_wait=seen.append) as lock:
        order.append("second in")
        assert lock.waited
    t.join()
    assert order == ["first done", "second in"]
    assert seen and seen[0]["key"] == "embed-pixels"
    assert holder(ws, "embed-pixels") is None
    assert lock_path(ws, "embed-pixels").parent == ws.root / "locks"


def test_no_wait_names_the_holder_and_other_keys_do_not_block(tmp_path) -> None:
    ws = Workspace.at(tmp_path)
    with job_lock(ws, "index-pixels") as lock:
        assert not lock.waited
        info = holder(ws, "index-pixels")
        assert info is not None and info["pid"] > 0
        with pytest.raises(WorkspaceError, match=r"index-pixels is already running .*pid \d+"):
            with job_lock(ws, "index-pixels", wait=False):
                pass
        with pytest.raises(WorkspaceError, match="still running after 0.2s"):
            with job_lock(ws, "index-pixels", timeout=0.2, on_wait=lambda _i: None):
                pass
        with job_lock(ws, "index-zca", wait=False):
            pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path) -> None:
    ws = Workspace.at(tmp_path)
    code = (
        "import sys, time; from vidsift.locks import job_lock\n"
        f"with job_lock({str(tmp_path)!r}, 'train-x'):\n"
        "    print('in', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "in"
        assert holder(ws, "train-x")["pid"] == proc.pid
        proc.kill()
        proc.wait(10)
        with job_lock(ws, "train-x", wait=False) as lock:
            assert not lock.waited
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
