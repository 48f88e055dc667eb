"""One lock per long job of a workspace, so that two identical commands never do the work twice.

``job_lock(ws, "embed-pixels")`` holds an exclusive ``fcntl.flock`` on
``<workspace>/locks/<key>.lock`` for the duration of the job. A second process asking for the
same key waits (``wait=True``, the default) and then runs its job, which finds the work done
(embedding skips finished videos, ``index add`` finds nothing new, ``index build`` joins the build
it waited for), or is refused at once with a message naming the holder (``wait=False``).

The lock file holds the holder's pid, command line and start time as JSON, for messages only:
the kernel lock is the truth, and it goes away with the process (a ``kill -9`` leaves no stale
lock). Lock files are never deleted, so two processes can never lock two different files of the
same name.

Example::

    with job_lock(ws, f"index-{embedder}") as lock:
        if lock.waited: ...   # another process held it; its result is on disk now
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidsift.errors import BadInputError, WorkspaceError
from vidsift.workspace import Workspace, safe_name

LOCKS = "locks"


@dataclass
class JobLock:
    """A held job lock: ``waited`` tells whether another process held it first (``holder``)."""

    key: str
    path: Path
    waited: bool = False
    holder: dict[str, Any] = field(default_factory=dict)


def lock_path(ws: Workspace | str | Path, key: str) -> Path:
    """``<workspace>/locks/<safe key>.lock``."""
    root = ws.root if isinstance(ws, Workspace) else Path(ws)
    return root / LOCKS / f"{safe_name(key)}.lock"


def _read_holder(fd: int) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        data = os.pread(fd, 4096, 0)
        info = json.loads(data.decode("utf-8")) if data.strip() else {}
        if isinstance(info, dict):
            return info
    return {}


def describe_holder(info: dict[str, Any]) -> str:
    """``pid 123, `vidsift embed ...`, running 12s`` (what is known of it)."""
    parts = []
    if info.get("pid"):
        parts.append(f"pid {info['pid']}")
    if info.get("command"):
        parts.append(f"`{info['command']}`")
    if isinstance(info.get("started"), int | float):
        parts.append(f"running {max(0.0, time.time() - float(info['started'])):.0f}s")
    return ", ".join(parts) or "another process"


def holder(ws: Workspace | str | Path, key: str) -> dict[str, Any] | None:
    """Who holds the lock ``key`` now (pid, command, started), or None when nobody does."""
    path = lock_path(ws, key)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or {"pid": None}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def job_lock(
    ws: Workspace | str | Path,
    key: str,
    wait: bool = True,
    timeout: float | None = None,
    on_wait: Callable[[dict[str, Any]], None] | None = None,
    poll: float = 0.1,
) -> Iterator[JobLock]:
    """Hold the workspace's lock ``key`` while the block runs.

    Args:
        wait: wait for another holder to finish (else raise at once).
        timeout: give up waiting after this many seconds (None: wait as long as it takes).
        on_wait: called once with the holder's info when we have to wait (default: a note on
            stderr).

    Raises:
        WorkspaceError: the lock is held and ``wait`` is False or ``timeout`` passed, or the
            lock file cannot be created.
        BadInputError: an empty key.
    """
    if not key.strip():
        raise BadInputError("a job lock needs a non-empty key")
    path = lock_path(ws, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot create the job lock ({exc.strerror or exc})") from None
    lock = JobLock(key=key, path=path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.waited = True
            lock.holder = _read_holder(fd)
            who = describe_holder(lock.holder)
            if not wait:
                raise WorkspaceError(
                    f"{key} is already running in this workspace ({who}); wait for it to finish"
                ) from None
            if on_wait is not None:
                on_wait(lock.holder)
            else:
                print(f"note: waiting for the running {key} ({who}) to finish", file=sys.stderr)
            _wait_for(fd, key, who, timeout, poll)
        info = {"pid": os.getpid(), "command": " ".join(os.path.basename(a) if i == 0 else a
                                                         for i, a in enumerate(sys.argv)),
                "key": key, "started": time.time()}
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        try:
            yield lock
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _wait_for(fd: int, key: str, who: str, timeout: float | None, poll: float) -> None:
    if timeout is None:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                return
            except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for safety
                continue
    deadline = time.monotonic() + float(timeout)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            raise WorkspaceError(f"{key} is still running after {timeout:g}s ({who}); try again later")
        time.sleep(poll)
