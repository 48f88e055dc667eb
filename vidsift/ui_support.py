"""Small, UI-agnostic helpers the Streamlit page (``app.py``) calls besides the library proper.

The page holds no logic of its own (design decision 9): everything it shows or does goes through
a library function. What did not exist in a library module lives here, testable without
Streamlit:

* workspace discovery: :func:`default_workspace`, :func:`stores`, :func:`indexed_embedders`,
  :func:`index_version` (cache keys that change when an index is rebuilt);
* the library table: :func:`library_rows`;
* search helpers: :func:`indexed_videos`, :func:`snap_frame`, :func:`strip_frames`,
  :func:`search` (the index search with an optional "only these videos" filter),
  :func:`load_upload` (size/type-checked image upload), :func:`safe_thumbnail`;
* discovery: :func:`load_assignments`, :func:`cluster_members`, :func:`cluster_map`,
  :func:`save_last_run` / :func:`load_last_run`, :func:`export_zip`;
* evaluation: :func:`evaluate_embedders` (temporal PR + conditional entropy for several
  embedders, errors per embedder);
* training in a background process: :func:`start_training`, :func:`training_jobs`,
  :func:`job_state`, :func:`stop_training`, :func:`read_loss_log`.

Every error meant for a person is a ``VidsiftError`` whose ``str`` is one readable line.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vidsift.atomic import atomic_path, atomic_write_json
from vidsift.errors import BadInputError, VidsiftError, WorkspaceError
from vidsift.workspace import DEFAULT_WORKSPACE, Workspace, safe_name

WORKSPACE_ENV = "VIDSIFT_WORKSPACE"
#: largest image a person may upload to search with (the server limit is set by `vidsift app`)
MAX_UPLOAD_MB = 10
IMAGE_TYPES = ("jpg", "jpeg", "png")
#: an uploaded image with more pixels than this is refused (decompression bombs)
MAX_IMAGE_PIXELS = 40_000_000


# ------------------------------------------------------------------------------- workspace
def default_workspace(env: dict[str, str] | None = None) -> str:
    """The workspace the page opens first: ``$VIDSIFT_WORKSPACE`` or ``./vidsift-workspace``."""
    env = os.environ if env is None else env
    return env.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE


def open_workspace(path: str | Path) -> Workspace:
    """``Workspace.at(path)`` with a readable error for an unusable path.

    Raises:
        BadInputError: empty path, or a path that is a file.
    """
    text = str(path).strip()
    if not text:
        raise BadInputError("give a workspace folder (e.g. ./vidsift-workspace)")
    p = Path(text).expanduser()
    if p.exists() and not p.is_dir():
        raise BadInputError(f"{p}: is a file; the workspace must be a folder")
    try:
        return Workspace.at(p)
    except OSError as exc:
        raise BadInputError(f"{p}: cannot use this folder as a workspace ({exc.strerror})") from exc


def _manifest_name(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and "manifest" in data and "files" in data:  # an index meta.json
        data = data.get("manifest") or {}
    name = data.get("name") if isinstance(data, dict) else None
    return str(name) if name else None


def stores(ws: Workspace) -> list[str]:
    """Names of the embedders with an embedding store in the workspace, sorted."""
    root = ws.root / "embeddings"
    if not root.is_dir():
        return []
    names = {_manifest_name(d / "manifest.json") for d in root.iterdir() if (d / "manifest.json").is_file()}
    return sorted(n for n in names if n)


def indexed_embedders(ws: Workspace) -> list[str]:
    """Names of the embedders with a saved index in the workspace, sorted."""
    root = ws.root / "indexes"
    if not root.is_dir():
        return []
    names = {_manifest_name(d / "meta.json") for d in root.iterdir() if (d / "meta.json").is_file()}
    return sorted(n for n in names if n)


def index_version(ws: Workspace, embedder: str) -> tuple[int, int] | None:
    """(mtime_ns, size) of the index's ``meta.json`` — changes whenever the index is saved."""
    try:
        st = os.stat(ws.indexes(embedder) / "meta.json")
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def store_version(ws: Workspace, embedder: str) -> tuple[int, int]:
    """(number of shards, newest shard mtime_ns): changes when videos are embedded or removed."""
    d = ws.embeddings(embedder) / "shards"
    if not d.is_dir():
        return (0, 0)
    stamps = [p.stat().st_mtime_ns for p in d.glob("*.parquet") if not p.name.startswith(".")]
    return (len(stamps), max(stamps, default=0))


# ------------------------------------------------------------------------------- library
def library_rows(ws: Workspace) -> list[dict[str, Any]]:
    """One dict per catalogued file (errors included) for the Library table.

    Keys: ``id, name, path, label, duration, frames, fps, size, shots, status, error,
    embedded`` (embedders whose store holds the video).
    """
    from embedder.store import finished_videos
    from vidsift.catalog import Catalog

    cat = Catalog(ws.catalog_path)
    try:
        videos = cat.videos(status=None)
    finally:
        cat.close()
    done = {name: finished_videos(ws.embeddings(name)) for name in stores(ws)}
    rows = []
    for v in videos:
        rows.append({
            "id": v.id,
            "name": Path(v.path).name,
            "path": v.path,
            "label": v.label,
            "duration": round(float(v.duration), 2),
            "frames": int(v.num_frames),
            "fps": round(float(v.fps), 2),
            "size": f"{v.width}x{v.height}" if v.width else "",
            "shots": len(v.shots),
            "status": v.status,
            "error": v.error or "",
            "embedded": ", ".join(n for n, ids in done.items() if v.id in ids),
        })
    return rows


def default_folder(ws: Workspace) -> str:
    """The folder that holds every catalogued video (their common parent), or ''."""
    from vidsift.catalog import Catalog

    cat = Catalog(ws.catalog_path)
    try:
        paths = [str(Path(v.path).parent) for v in cat.videos(status=None)]
    finally:
        cat.close()
    if not paths:
        return ""
    try:
        return os.path.commonpath(paths)
    except ValueError:  # different drives
        return paths[0]


# ------------------------------------------------------------------------------- search
@dataclass(frozen=True)
class IndexedVideo:
    """A video as the index knows it: id, path, label and its indexed frame numbers."""

    id: str
    path: str
    label: str | None
    frames: np.ndarray  # int64, sorted

    @property
    def name(self) -> str:
        return Path(self.path).name

    def title(self) -> str:
        return f"{self.name} ({self.label})" if self.label else self.name


def indexed_videos(vi: Any) -> list[IndexedVideo]:
    """The videos of a loaded ``VideoIndex``, sorted by path."""
    cols = vi.columns
    out = []
    for vid in cols.videos:
        code = cols.code_of[vid]
        frames = cols.frames_of(code)[0]
        row = int(np.flatnonzero(cols.codes == code)[0])
        out.append(IndexedVideo(vid, str(cols.path[row]), cols.label[row], np.asarray(frames, np.int64)))
    return sorted(out, key=lambda v: (v.path, v.id))


def frame_time(vi: Any, video_id: str, frame: int) -> float:
    """The time in seconds of an indexed frame, as stored in the index."""
    cols = vi.columns
    frames, ids = cols.frames_of(cols.code_of[str(video_id)])
    i = min(int(np.searchsorted(frames, int(frame))), len(frames) - 1)
    return float(cols.time[cols.positions(ids[i : i + 1])][0])


def frame_step(frames: np.ndarray) -> int:
    """The common stride of the indexed frame numbers (1 when irregular or a single frame)."""
    if len(frames) < 2:
        return 1
    step = int(np.gcd.reduce(np.diff(np.asarray(frames, np.int64))))
    return max(step, 1)


def snap_frame(frames: np.ndarray, frame: int) -> int:
    """The indexed frame nearest ``frame`` (ties go to the earlier one)."""
    frames = np.asarray(frames, np.int64)
    if len(frames) == 0:
        raise BadInputError("this video has no indexed frames")
    i = int(np.searchsorted(frames, frame))
    cands = [frames[j] for j in (i - 1, i) if 0 <= j < len(frames)]
    return int(min(cands, key=lambda f: (abs(int(f) - int(frame)), int(f))))


def strip_frames(frames: np.ndarray, n: int = 8) -> list[int]:
    """``n`` indexed frames spread evenly over the video (first and last included)."""
    frames = np.asarray(frames, np.int64)
    if len(frames) <= n:
        return [int(f) for f in frames]
    pos = np.linspace(0, len(frames) - 1, n).round().astype(int)
    return [int(frames[p]) for p in np.unique(pos)]


def search(
    ws: Workspace,
    embedder: str,
    *,
    videos: Collection[str] | None = None,
    k: int = 12,
    **query: Any,
) -> list[dict[str, Any]]:
    """``index.workspace.search_workspace`` restricted to ``videos`` (ids) when given.

    The filter asks the index for more neighbours until ``k`` of them lie in the chosen videos
    or the index is exhausted (first ``k`` / the chosen videos' share of the index, x2; then x4
    each round), so results are the exact nearest within those videos for exact indexes.
    """
    from index.workspace import load_workspace_index, search_workspace

    if not videos:
        return search_workspace(ws, embedder, k=k, **query)
    allowed = set(map(str, videos))
    vi = load_workspace_index(ws, embedder)
    total = vi.ntotal
    cols = vi.columns
    rows = sum(len(cols.frames_of(cols.code_of[v])[0]) for v in allowed if v in cols.code_of)
    if rows == 0:
        return []
    fetch = min(max(2 * int(k) * total // rows, int(k)), max(total, 1))
    while True:
        hits = search_workspace(ws, embedder, k=fetch, **query)
        kept = [h for h in hits if h["video"] in allowed]
        if len(kept) >= k or fetch >= total or len(hits) < fetch:
            return kept[: int(k)]
        fetch = min(fetch * 4, total)


def load_upload(name: str, data: bytes, max_bytes: int = MAX_UPLOAD_MB * 1_000_000) -> Any:
    """An uploaded JPEG/PNG as an RGB PIL image, checked before it is decoded.

    Raises:
        BadInputError: another file type, more than ``max_bytes``, a file that is not really a
            JPEG/PNG, or an image of more than ``MAX_IMAGE_PIXELS`` pixels.
    """
    from PIL import Image

    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in IMAGE_TYPES:
        raise BadInputError(f"{name}: only JPEG or PNG images can be searched with (got '.{ext}')")
    if len(data) > max_bytes:
        raise BadInputError(
            f"{name} is {len(data) / 1e6:.1f} MB; images up to {max_bytes / 1e6:.0f} MB are accepted, use a smaller one"
        )
    try:
        im = Image.open(io.BytesIO(data))
        fmt = im.format
        w, h = im.size
    except (OSError, Image.DecompressionBombError) as exc:
        raise BadInputError(f"{name}: not a readable JPEG or PNG image ({exc})") from exc
    if fmt not in ("JPEG", "PNG"):
        raise BadInputError(f"{name}: the file holds a {fmt} image, not JPEG or PNG")
    if w * h > MAX_IMAGE_PIXELS:
        raise BadInputError(f"{name}: {w}x{h} pixels is too large; use an image under {MAX_IMAGE_PIXELS // 1_000_000} megapixels")
    try:
        return im.convert("RGB")
    except OSError as exc:
        raise BadInputError(f"{name}: the image is damaged ({exc})") from exc


def safe_thumbnail(ws: Workspace, path: str, video_id: str, frame: int) -> np.ndarray | None:
    """The cached thumbnail of a frame, or ``None`` when it cannot be made (file gone...)."""
    from embedder.thumbnails import thumbnail

    try:
        return thumbnail(ws, path, video_id, int(frame))
    except (VidsiftError, OSError, ValueError):
        return None


def image_data_url(image: np.ndarray | None, max_side: int = 96) -> str | None:
    """A small JPEG ``data:`` URL of an image (for image columns of a table)."""
    if image is None:
        return None
    import base64

    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(image[..., :3]).astype(np.uint8))
    im.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def playable(path: str) -> bool:
    """Whether a browser can play the file with ``<video>`` (MP4/WebM/Ogg/MOV containers)."""
    return Path(path).suffix.lower() in (".mp4", ".m4v", ".webm", ".ogg", ".ogv", ".mov") and Path(path).is_file()


# ------------------------------------------------------------------------------- discovery
def _discovery_dir(ws: Workspace, embedder: str) -> Path:
    return ws.root / "discovery" / safe_name(embedder)


def load_assignments(ws: Workspace, embedder: str) -> pd.DataFrame:
    """The last cluster assignment of ``embedder`` (one row per frame; ``cluster``, ``distance``).

    Raises:
        WorkspaceError: no discovery has been run for this embedder, or the file is unreadable.
    """
    from discovery.workflow import assignments_path

    path = assignments_path(ws, embedder)
    if not path.is_file():
        raise WorkspaceError(f"no clusters for '{embedder}' yet; run discovery first")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"{path}: unreadable cluster file ({exc}); run discovery again") from exc


def cluster_sizes(assign: pd.DataFrame) -> pd.DataFrame:
    """``cluster, size`` sorted largest first."""
    sizes = assign.groupby("cluster").size().rename("size").reset_index()
    return sizes.sort_values(["size", "cluster"], ascending=[False, True]).reset_index(drop=True)


def cluster_members(assign: pd.DataFrame, cluster: int, n: int = 12) -> pd.DataFrame:
    """The ``n`` frames of ``cluster`` nearest its centre."""
    rows = assign[assign["cluster"] == int(cluster)]
    return rows.sort_values(["distance", "video_id", "frame"], kind="stable").head(int(n))


def map_cache_exists(ws: Workspace, embedder: str, method: str = "umap") -> bool:
    return (_discovery_dir(ws, embedder) / f"{method}_2d.npz").is_file()


def cluster_map(ws: Workspace, embedder: str, seed: int = 0) -> pd.DataFrame:
    """The 2-D map of the last discovery run: assignment rows with ``x, y, row`` columns.

    Uses (and fills) the same cache as ``run_discovery``'s map, so it is instant after a run.

    Raises:
        WorkspaceError: no clusters yet, or the store changed since they were computed.
    """
    from discovery.workflow import project_2d_cached
    from embedder.store import load_store

    assign = load_assignments(ws, embedder)
    ids = sorted(assign["video_id"].astype(str).unique())
    data = load_store(ws.embeddings(embedder), ids)
    same = len(data) == len(assign) and (
        data.meta["video_id"].astype(str).to_numpy() == assign["video_id"].astype(str).to_numpy()
    ).all() and (data.meta["frame"].to_numpy() == assign["frame"].to_numpy()).all()
    if not same:
        raise WorkspaceError(
            f"the embeddings of '{embedder}' changed since the clusters were computed; run discovery again"
        )
    if len(data) < 3:
        raise BadInputError(f"a 2-D map needs at least 3 frames; '{embedder}' has {len(data)}")
    coords, idx = project_2d_cached(ws, embedder, data.vectors, seed)
    out = assign.iloc[idx].reset_index(drop=True)
    out["x"], out["y"] = coords[:, 0], coords[:, 1]
    out["row"] = np.arange(len(out))
    return out


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def save_last_run(ws: Workspace, embedder: str, result: dict[str, Any]) -> None:
    """Keep ``run_discovery``'s result beside its clusters so a reload shows the same scores."""
    atomic_write_json(_discovery_dir(ws, embedder) / "last_run.json", _jsonable(result))


def load_last_run(ws: Workspace, embedder: str) -> dict[str, Any] | None:
    path = _discovery_dir(ws, embedder) / "last_run.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def export_zip(ws: Workspace, embedder: str, name: str, max_thumbnails: int = 48) -> tuple[dict[str, Any], Path]:
    """Export the last clusters of ``embedder`` to ``ws.exports/<name>`` and zip that folder.

    ``name`` becomes a safe folder name; an earlier export of the same name is replaced (only our
    own files, see ``discovery.export``). The zip is written atomically beside the folder as
    ``<name>.zip``. Returns ``(export summary, zip path)``.
    """
    from discovery.export import META, export_clusters

    folder_name = safe_name(name.strip() or embedder)
    exports = ws.exports
    exports.mkdir(parents=True, exist_ok=True)
    out_dir = exports / folder_name
    if out_dir.resolve().parent != exports.resolve():
        raise BadInputError(f"export name {name!r} must be a plain folder name")
    assign = load_assignments(ws, embedder)

    def thumb(row: pd.Series) -> np.ndarray | None:
        return safe_thumbnail(ws, row["path"], row["video_id"], int(row["frame"]))

    summary = export_clusters(
        out_dir, assign.loc[:, list(META)], assign["cluster"].to_numpy(), assign["distance"].to_numpy(),
        thumbnail_fn=thumb, force=True, max_thumbnails=max_thumbnails,
    )
    zip_path = exports / f"{folder_name}.zip"
    zip_folder(out_dir, zip_path)
    return summary.to_dict(), zip_path


def zip_folder(folder: Path, target: Path) -> Path:
    """Zip the regular files below ``folder`` (symlinks skipped) into ``target`` atomically."""
    folder = Path(folder).resolve()
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.is_symlink() and not p.name.startswith(".") and p.resolve().is_relative_to(folder):
                zf.write(p, Path(folder.name) / p.relative_to(folder))
    return target


# ------------------------------------------------------------------------------- evaluation
def evaluate_embedders(
    ws: Workspace,
    embedders: Sequence[str],
    repeats: int = 5,
    seed: int = 0,
    on_progress: Callable[[str, float], None] | None = None,
    probe_shots: int = 1,
) -> dict[str, dict[str, Any]]:
    """Temporal PR and (when labels exist) discovery, linear-probe and similarity scores of each
    embedder.

    Returns ``{embedder: {"temporal_pr": dict | None, "discovery": dict | None, "errors":
    [str]}}``; an embedder that fails is reported in ``errors``, the others go on.
    """
    from discovery.transfer import probe_workspace, similarity_workspace
    from discovery.workflow import evaluate_workspace

    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(embedders):
        if on_progress:
            on_progress(f"evaluating {name}", i / max(len(embedders), 1))
        res: dict[str, Any] = {"temporal_pr": None, "discovery": None, "probe": None, "similarity": None, "errors": []}
        for what, key in (("temporal-pr", "temporal_pr"), ("discovery", "discovery")):
            try:
                res[key] = evaluate_workspace(ws, name, what, repeats=repeats, seed=seed)
            except VidsiftError as exc:
                res["errors"].append(f"{what}: {exc}")
        # transfer scores (need labelled videos: several per class); a failure is one warning
        for key, fn, kw in (("probe", probe_workspace, {"shots": probe_shots}), ("similarity", similarity_workspace, {})):
            try:
                res[key] = fn(ws, name, repeats=repeats, seed=seed, **kw)
            except VidsiftError as exc:
                res["errors"].append(f"{key}: {exc}")
        out[name] = res
    if on_progress:
        on_progress("done", 1.0)
    return out


def transfer_table(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per embedder: linear-probe accuracy (split by video) and same/not-same ROC AUC."""
    rows = []
    for name, r in results.items():
        p, sim = r.get("probe") or {}, r.get("similarity") or {}
        if not p and not sim:
            continue
        acc = p.get("accuracy", {})

        def ms(d: dict[str, Any] | None) -> str:
            return "" if not d else f"{d['mean']:.3f} ± {d['std']:.3f}"

        rows.append({
            "embedder": name,
            "probe logreg (video)": ms(acc.get("logreg", {}).get("video_vote")),
            "probe 1-NN (frame)": ms(acc.get("knn1", {}).get("frame")),
            "chance": f"{p['chance']['uniform']:.3f}" if p.get("chance") else "",
            "similarity ROC AUC": f"{sim['auc']:.3f}" if sim.get("auc") is not None else "",
        })
    return pd.DataFrame(rows)


def evaluation_table(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per embedder: temporal-PR AUC vs RANDOM, H(label|cluster) vs RANDOM, purity, NMI."""

    def ms(d: dict[str, Any] | None) -> str:
        return "" if not d else f"{d['mean']:.3f} ± {d['std']:.3f}"

    rows = []
    for name, r in results.items():
        pr, disc = r.get("temporal_pr") or {}, r.get("discovery") or {}
        rnd = pr.get("random") or {}
        rows.append({
            "embedder": name,
            "temporal PR AUC": pr.get("auc"),
            "RANDOM AUC": rnd.get("auc"),
            "K": disc.get("k"),
            "H(label|cluster) bits": ms(disc.get("conditional_entropy")),
            "RANDOM H": ms(disc.get("random")),
            "purity": ms(disc.get("purity")),
            "NMI": ms(disc.get("nmi")),
        })
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- training
JOB_FILE = "ui_job.json"
OUTPUT_FILE = "ui_train.out"
_PROCS: dict[int, subprocess.Popen] = {}
_PROCS_LOCK = threading.Lock()
_START_LOCK = threading.Lock()  # two tabs pressing Start at once must not start the same run twice


def run_dir(ws: Workspace, method: str, preset: str) -> Path:
    """Where ``vidsift train METHOD DIR --preset P`` writes: ``checkpoints/<method>-<preset>``."""
    from training.workspace import run_dir as training_run_dir

    return training_run_dir(ws, method, preset)


def train_command(
    ws: Workspace, method: str, folder: str | Path, preset: str, resume: bool = False,
    steps: int | None = None, overwrite: bool = False,
) -> list[str]:
    """The ``vidsift train`` command line the page runs in the background."""
    cmd = [sys.executable, "-m", "vidsift", "train", method, str(folder), "--preset", preset, "-w", str(ws.root)]
    if steps:
        cmd += ["--steps", str(int(steps))]
    return cmd + (["--resume"] if resume else []) + (["--overwrite"] if overwrite else [])


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
    def output(self) -> Path:
        return Path(self.run_dir) / OUTPUT_FILE

    @property
    def log(self) -> Path:
        return Path(self.run_dir) / "log.jsonl"


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
    if not ws.checkpoints.is_dir():
        return []
    jobs = [j for p in ws.checkpoints.glob(f"*/{JOB_FILE}") if (j := _read_job(p)) is not None]
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
    from training.registry import get_method

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
    out = run_dir(ws, method, preset)
    previous = _read_job(out / JOB_FILE)
    if previous is not None and _alive(previous):
        raise BadInputError(f"{method} ({preset}) is already training (pid {previous.pid}); stop it first")
    if (out / "last.pt").is_file() and not (resume or overwrite):
        raise BadInputError(f"{out} already holds a checkpoint of {method} ({preset}); resume it or start over")
    if resume and not (out / "last.pt").is_file():
        raise BadInputError(f"{out}: no checkpoint to resume; start a new run")
    out.mkdir(parents=True, exist_ok=True)
    cmd = train_command(ws, method, folder_p.resolve(), preset, resume, steps, overwrite)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(out / OUTPUT_FILE, "wb") as f:
        proc = subprocess.Popen(
            cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=os.getcwd(),
        )
    with _PROCS_LOCK:
        _PROCS[proc.pid] = proc
    job = TrainingJob(proc.pid, method, preset, str(folder_p.resolve()), bool(resume), str(out), cmd, time.time())
    atomic_write_json(out / JOB_FILE, asdict(job))
    return job


def stop_training(job: TrainingJob, timeout: float = 10.0) -> str:
    """Stop a job's process group: SIGTERM, then SIGKILL after ``timeout`` s. Returns its state."""
    if _alive(job):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(job) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(job):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(job.pid, signal.SIGKILL)
            with _PROCS_LOCK:
                proc = _PROCS.get(job.pid)
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
        job.stopped = True
        atomic_write_json(Path(job.run_dir) / JOB_FILE, asdict(job))
    return job_state(job)


def training_runs(ws: Workspace) -> list[Path]:
    """Run folders under ``checkpoints/`` that hold a checkpoint or a loss log, newest first."""
    if not ws.checkpoints.is_dir():
        return []
    runs = [d for d in ws.checkpoints.iterdir() if d.is_dir() and ((d / "log.jsonl").is_file() or (d / "last.pt").is_file())]

    def stamp(d: Path) -> float:
        return max((p.stat().st_mtime for p in (d / "log.jsonl", d / "last.pt") if p.exists()), default=0.0)

    return sorted(runs, key=lambda d: -stamp(d))


def read_loss_log(path: str | Path) -> pd.DataFrame:
    """The ``log.jsonl`` of a run as a table (``step``, ``loss``, ...); empty when absent.

    A partly written last line (the trainer appends while we read) is skipped.
    """
    path = Path(path)
    rows = []
    try:
        text = path.read_text()
    except OSError:
        return pd.DataFrame(columns=["step", "loss"])
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "step" in rec:
            rows.append(rec)
    if not rows:
        return pd.DataFrame(columns=["step", "loss"])
    return pd.DataFrame(rows).sort_values("step").drop_duplicates("step", keep="last").reset_index(drop=True)


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
