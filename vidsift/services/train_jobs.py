"""Training as a background job: start ``vidsift train`` in its own process group, list jobs,
follow their state and loss log, stop them. The page and ``vidsift jobs`` use the same functions."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from vidsift.atomic import atomic_write_json
from vidsift.errors import BadInputError
from vidsift.workspace import RunDir, Workspace

_PROCS: dict[int, subprocess.Popen] = {}


_PROCS_LOCK = threading.Lock()


_START_LOCK = threading.Lock()  # two tabs pressing Start at once must not start the same run twice


def train_args(
    ws: Workspace, method: str, folder: str | Path, preset: str, resume: bool = False,
    steps: int | None = None, overwrite: bool = False,
) -> list[str]:
    """The arguments of ``vidsift train`` for this run (what follows ``vidsift``)."""
    args = ["train", method, str(folder), "--preset", preset, "-w", str(ws.root)]
    if steps:
        args += ["--steps", str(int(steps))]
    return args + (["--resume"] if resume else []) + (["--overwrite"] if overwrite else [])


def train_command(
    ws: Workspace, method: str, folder: str | Path, preset: str, resume: bool = False,
    steps: int | None = None, overwrite: bool = False,
) -> list[str]:
    """The ``vidsift train`` command line the page runs in the background."""
    return [sys.executable, "-m", "vidsift", *train_args(ws, method, folder, preset, resume, steps, overwrite)]


@dataclass
class TrainingJob:
    """A training process started from the page (recorded in ``<run dir>/ui_job.json``)."""

    pid: int
    method: str
    preset: str
    folder: str
    resume: bool
    run_dir: str
    command: list[str]
    started: float
    stopped: bool = False

    @property
    def run(self) -> RunDir:
        return RunDir(Path(self.run_dir))

    @property
    def output(self) -> Path:
        return self.run.job_output

    @property
    def log(self) -> Path:
        return self.run.log


def _proc_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(job: TrainingJob) -> bool:
    """Whether the job's process still runs (and is still that process, not a reused pid)."""
    with _PROCS_LOCK:
        proc = _PROCS.get(job.pid)
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(job.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmd = _proc_cmdline(job.pid)
    if not cmd:  # no /proc (not Linux): trust the pid
        return True
    return "vidsift" in cmd and " train " in f" {cmd} " and job.method in cmd


def job_state(job: TrainingJob) -> str:
    """``running``, ``stopped``, ``finished`` (exit 0), ``failed`` (non-zero exit) or ``ended``
    (exited, status unknown: started by another server process)."""
    if _alive(job):
        return "running"
    if job.stopped:
        return "stopped"
    with _PROCS_LOCK:
        proc = _PROCS.get(job.pid)
    if proc is not None and proc.returncode is not None:
        return "finished" if proc.returncode == 0 else "failed"
    return "ended"


def _read_job(path: Path) -> TrainingJob | None:
    try:
        data = json.loads(path.read_text())
        return TrainingJob(**data)
    except (OSError, ValueError, TypeError):
        return None


def training_jobs(ws: Workspace) -> list[TrainingJob]:
    """Jobs started from the page in this workspace, newest first."""
    jobs = [j for r in ws.runs() if (j := _read_job(r.job)) is not None]
    return sorted(jobs, key=lambda j: -j.started)


def start_training(
    ws: Workspace, method: str, folder: str | Path, preset: str = "cpu", resume: bool = False,
    steps: int | None = None, overwrite: bool = False,
) -> TrainingJob:
    """Start ``vidsift train METHOD FOLDER --preset P -w WS [--steps N] [--resume | --overwrite]``
    in the background.

    The process gets its own session (so stopping it also stops its DataLoader workers); its
    output goes to ``<run dir>/ui_train.out``.

    Raises:
        BadInputError: unknown method, a missing folder, a job of this run still running, or a
            run folder holding a checkpoint without ``resume`` or ``overwrite``.
    """
    from vidsift.training.registry import get_method

    get_method(method)
    if preset not in ("cpu", "paper"):
        raise BadInputError(f"preset must be 'cpu' or 'paper', got {preset!r}")
    if resume and overwrite:
        raise BadInputError("choose either resume or start over, not both")
    if steps is not None and int(steps) < 0:
        raise BadInputError(f"steps must be positive, got {steps}")
    folder_p = Path(str(folder)).expanduser()
    if not str(folder).strip() or not folder_p.is_dir():
        raise BadInputError(f"{folder}: no such folder of videos to train on")
    with _START_LOCK:
        return _start(ws, method, folder_p, preset, resume, steps, overwrite)


def _start(
    ws: Workspace, method: str, folder_p: Path, preset: str, resume: bool, steps: int | None, overwrite: bool
) -> TrainingJob:
    run = ws.training_run(method, preset)
    previous = _read_job(run.job)
    if previous is not None and _alive(previous):
        raise BadInputError(f"{method} ({preset}) is already training (pid {previous.pid}); stop it first")
    if run.has_checkpoint and not (resume or overwrite):
        raise BadInputError(f"{run.path} already holds a checkpoint of {method} ({preset}); resume it (--resume) or start over (--overwrite)")
    if resume and not run.has_checkpoint:
        raise BadInputError(f"{run.path}: no checkpoint to resume; start a new run")
    run.path.mkdir(parents=True, exist_ok=True)
    cmd = train_command(ws, method, folder_p.resolve(), preset, resume, steps, overwrite)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(run.job_output, "wb") as f:
        proc = subprocess.Popen(
            cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=os.getcwd(),
        )
    with _PROCS_LOCK:
        _PROCS[proc.pid] = proc
    job = TrainingJob(proc.pid, method, preset, str(folder_p.resolve()), bool(resume), str(run.path), cmd, time.time())
    atomic_write_json(run.job, asdict(job))
    return job


def stop_training(job: TrainingJob, timeout: float = 10.0) -> str:
    """Stop a job: SIGTERM to its leader, the ``vidsift train`` process, which finishes the step
    in flight and writes ``last.pt`` at it; then SIGTERM to what is left of its process group;
    SIGKILL to the group after ``timeout`` s. Returns its state.

    The leader is asked first because a signal to the whole group also reaches the DataLoader
    workers (``--workers N``), which die at once: the trainer's next batch then fails and the
    step is lost instead of checkpointed.
    """
    if _alive(job):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(job.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(job) and time.monotonic() < deadline:
            time.sleep(0.1)
        # workers that outlived the leader, or the whole group if the leader did not stop in time
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.pid, signal.SIGKILL if _alive(job) else signal.SIGTERM)
        with _PROCS_LOCK:
            proc = _PROCS.get(job.pid)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        job.stopped = True
        atomic_write_json(job.run.job, asdict(job))
    return job_state(job)


def training_runs(ws: Workspace) -> list[RunDir]:
    """Run folders under ``checkpoints/`` that hold a checkpoint or a loss log, newest first."""
    runs = [r for r in ws.runs() if r.log.is_file() or r.has_checkpoint]

    def stamp(r: RunDir) -> float:
        return max((p.stat().st_mtime for p in (r.log, r.checkpoint) if p.exists()), default=0.0)

    return sorted(runs, key=lambda r: -stamp(r))


def tail(path: str | Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a text file ('' when absent)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64_000))
            data = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
