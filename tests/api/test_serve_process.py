"""`vidsift serve` and `vidsift app` as real processes: HTTP from outside, tokens, refusal to
listen beyond this machine without one, and SIGTERM leaving nothing behind (the port is free)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def vidsift(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vidsift", *args], env=ENV, cwd=ROOT, text=True, **kw)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_serve_answers_over_http_and_stops_on_sigterm(api_ws, tmp_path) -> None:
    from vidsift.api.auth import create_token, tokens_path
    from vidsift.api.client import VidsiftClient
    from vidsift.errors import BadInputError

    token, _ = create_token(tokens_path(api_ws), "read")
    port = free_port()
    proc = vidsift("serve", "-w", str(api_ws.root), "--port", str(port), stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: port_open(port) or proc.poll() is not None, 60) and proc.poll() is None
        url = f"http://127.0.0.1:{port}"
        client = VidsiftClient(url, token)
        assert client.health()["auth"] is True
        page = client.videos(limit=1)
        assert page["total"] == 2 and len(page["items"]) == 1
        vid = page["items"][0]["video_id"]
        hits = client.search("pixels", video=vid, frame=4, k=3)
        assert hits[0]["video_id"] == vid and hits[0]["frame"] == 4
        assert client.thumbnail(vid, 4)[:2] == b"\xff\xd8"  # a JPEG
        with pytest.raises(BadInputError, match="401 no token"):
            VidsiftClient(url).videos()
        with pytest.raises(BadInputError, match="404 no video 'nope'"):
            client.search("pixels", video="nope", frame=1)

        # `vidsift search --server` prints what the local `vidsift search --json` prints
        args = ["search", "-e", "pixels", "--video", vid, "--at", "0.4", "-k", "3", "--json"]
        remote = subprocess.run([sys.executable, "-m", "vidsift", *args, "--server", url], env={**ENV, "VIDSIFT_TOKEN": token},
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        local = subprocess.run([sys.executable, "-m", "vidsift", *args, "-w", str(api_ws.root)], env=ENV,
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert remote.returncode == 0 == local.returncode, remote.stderr + local.stderr
        assert json.loads(remote.stdout) == json.loads(local.stdout)
        # and for an image (`vidsift search IMAGE --server` sent the frame exclusions, which
        # POST /search/image refused: "422 unknown search field 'exclude_same_video'")
        from PIL import Image

        Image.new("RGB", (24, 24), (200, 30, 30)).save(tmp_path / "q.png")
        args = ["search", str(tmp_path / "q.png"), "-e", "pixels", "-k", "2", "--json"]
        remote = subprocess.run([sys.executable, "-m", "vidsift", *args, "--server", url], env={**ENV, "VIDSIFT_TOKEN": token},
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        local = subprocess.run([sys.executable, "-m", "vidsift", *args, "-w", str(api_ws.root)], env=ENV,
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert remote.returncode == 0 == local.returncode, remote.stderr + local.stderr
        assert json.loads(remote.stdout) == json.loads(local.stdout) and len(json.loads(local.stdout)) == 2

        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert not port_open(port)
    finally:
        stop(proc)


def test_serve_refuses_other_hosts_without_a_token(tmp_path) -> None:
    out = subprocess.run([sys.executable, "-m", "vidsift", "serve", "--host", "0.0.0.0", "-w", str(tmp_path / "ws")],
                         env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert "needs a token" in out.stderr and "vidsift token create" in out.stderr


def test_token_commands(tmp_path) -> None:
    ws = str(tmp_path / "ws")
    made = subprocess.run([sys.executable, "-m", "vidsift", "token", "create", "--scope", "admin", "-w", ws, "--json"],
                          env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    info = json.loads(made.stdout)
    assert info["token"].startswith("vs_") and info["scope"] == "admin"
    listed = subprocess.run([sys.executable, "-m", "vidsift", "token", "list", "-w", ws, "--json"],
                            env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert [t["id"] for t in json.loads(listed.stdout)] == [info["id"]] and info["token"] not in listed.stdout
    bad = subprocess.run([sys.executable, "-m", "vidsift", "token", "create", "--scope", "root", "-w", ws],
                         env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown scope 'root'" in bad.stderr


def test_run_child_forwards_sigterm_and_the_child_goes_too(tmp_path) -> None:
    pidfile = tmp_path / "child.pid"
    child = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    parent = ("import sys; from vidsift.cli.serve import run_child; "
              f"sys.exit(run_child([sys.executable, '-c', {child!r}]))")
    proc = subprocess.Popen([sys.executable, "-c", parent], env=ENV, cwd=ROOT)
    try:
        assert wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 60)
        child_pid = int(pidfile.read_text())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 128 + signal.SIGTERM
        assert wait_until(lambda: not Path(f"/proc/{child_pid}").exists(), 10)
    finally:
        stop(proc)


def test_run_child_kills_a_child_that_ignores_sigterm(tmp_path) -> None:
    pidfile = tmp_path / "child.pid"
    child = ("import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
             f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(120)")
    parent = ("import sys; from vidsift.cli.serve import run_child; "
              f"sys.exit(run_child([sys.executable, '-c', {child!r}], grace=1.0))")
    proc = subprocess.Popen([sys.executable, "-c", parent], env=ENV, cwd=ROOT)
    try:
        assert wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 128 + signal.SIGKILL
    finally:
        stop(proc)


def test_app_stops_streamlit_on_sigterm_and_frees_the_port(tmp_path) -> None:
    pytest.importorskip("streamlit")
    port = free_port()
    proc = vidsift("app", "--port", str(port), "-w", str(tmp_path / "ws"), stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT)
    try:
        if not wait_until(lambda: port_open(port) or proc.poll() is not None, 90) or proc.poll() is not None:
            pytest.skip(f"streamlit did not start here: {(proc.stdout.read() if proc.poll() is not None else '')[-300:]}")
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert wait_until(lambda: not port_open(port), 10), "streamlit still listens after SIGTERM"
    finally:
        stop(proc)
