"""The index of a workspace: what the CLI (`vidsift index ...`, `vidsift search`) and the page call.

The index of embedder NAME lives in ``Workspace.indexes(NAME)`` and is built from the store in
``Workspace.embeddings(NAME)``. Every function takes the workspace (a ``Workspace`` or its folder)
and the embedder name, and returns plain dicts ready for JSON.

Example::

    build_workspace_index(ws, "pixels")                       # {'kind': 'flat', 'vectors': ...}
    search_workspace(ws, "pixels", video="clips/a.mp4", frame=30, k=5, exclude_window=10)
    # [{'video_id': ..., 'path': ..., 'frame': ..., 'time': ..., 'shot': ..., 'label': ..., 'distance': ...}]
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.embedder.store import (
    MANIFEST,
    check_manifest,
    finished_videos,
    load_store,
    read_manifest,
)
from vidsift.errors import BadInputError, VidsiftError, WorkspaceError
from vidsift.index.build import UseGpu, check_vectors, choose_params
from vidsift.index.check import check_index
from vidsift.index.filters import (
    Filter,
    check_max_distance,
    is_glob,
    parse_time_range,
    videos_matching,
)
from vidsift.index.hits import Hit, Hits
from vidsift.index.persist import META
from vidsift.index.video_index import VideoIndex
from vidsift.locks import job_lock
from vidsift.services.contents import no_index_message
from vidsift.services.search import check_group, match_video
from vidsift.timecode import parse_time, timecode
from vidsift.video.segment import Segment
from vidsift.workspace import Workspace, WorkspaceLike

_CACHE: dict[str, tuple[tuple[int, int, int], VideoIndex]] = {}
_CACHE_LOCK = threading.Lock()


def _ws(ws: WorkspaceLike) -> Workspace:
    return ws if isinstance(ws, Workspace) else Workspace.at(ws)


def _store_manifest(ws: Workspace, embedder: str) -> dict[str, Any] | None:
    """The store's manifest, or None when the store is gone (the index can still answer)."""
    return (
        read_manifest(ws.embeddings(embedder))
        if (ws.embeddings(embedder) / MANIFEST).exists()
        else None
    )


def _summary(vi: VideoIndex, index_dir: Path, **extra: Any) -> dict[str, Any]:
    files = sorted(index_dir.glob("index.*.faiss"))
    return {
        "embedder": vi.name,
        "path": str(index_dir),
        "kind": vi.params.kind,
        "metric": vi.params.metric,
        "dim": vi.dim,
        "vectors": vi.ntotal,
        "videos": len(vi.videos),
        "bytes": files[-1].stat().st_size if files else None,
        "params": vi.params.to_dict(),
        **extra,
    }


def hit_dict(hit: Hit) -> dict[str, Any]:
    """The JSON shape of one result (``video_id`` as in the store's Parquet and clusters.csv)."""
    return {
        "video_id": hit.video_id,
        "path": hit.path,
        "frame": hit.frame,
        "time": hit.time,
        "timecode": timecode(hit.time),
        "shot": hit.shot,
        "label": hit.label,
        "distance": hit.distance,
    }


def build_workspace_index(
    ws: WorkspaceLike,
    embedder: str,
    kind: str = "auto",
    metric: str = "cosine",
    use_gpu: UseGpu = "auto",
    **overrides: Any,
) -> dict[str, Any]:
    """(Re)build the index of ``embedder`` from its whole store and save it.

    ``overrides``: ``nlist``, ``nprobe``, ``m``, ``nbits``, ``hnsw_m``, ``ef_search``,
    ``ef_construction``, ``memory_budget_bytes`` (``None`` = choose).

    Raises:
        WorkspaceError: no store for ``embedder``.  BadInputError: empty store, bad options.
    """
    ws = _ws(ws)
    with job_lock(ws, f"index-{embedder}") as lock:  # one writer per index; a twin build joins
        return _build_locked(ws, embedder, kind, metric, use_gpu, lock.waited, **overrides)


def _build_locked(
    ws: Workspace, embedder: str, kind: str, metric: str, use_gpu: UseGpu, waited: bool,
    **overrides: Any,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    store_dir = ws.embeddings(embedder)
    manifest = read_manifest(store_dir)  # a clear error when there is no store
    n = len(load_store(store_dir, with_vectors=False))
    if n == 0:
        raise BadInputError(
            f"{store_dir}: no finished videos to index; run `vidsift embed DIR --embedder {embedder}` first"
        )
    budget = overrides.pop("memory_budget_bytes", None)
    choose: dict[str, Any] = {"kind": kind, "metric": metric, **overrides}
    if budget is not None:
        choose["memory_budget_bytes"] = int(budget)
    params = choose_params(n, int(manifest["dim"]), **choose)
    if waited and (ws.indexes(embedder) / META).exists():  # another process just built it: join
        try:
            vi = VideoIndex.load(ws.indexes(embedder), expected_manifest=manifest, use_gpu=False)
        except WorkspaceError:  # not the same (or a broken) index: build ours
            vi = None
        if vi is not None and vi.params == params and set(vi.videos) == finished_videos(store_dir):
            return _summary(vi, ws.indexes(embedder), seconds=0.0, joined=True)
    if params.kind in ("ivf", "ivfpq"):  # trained on a sample, filled video batch by video batch
        vi = VideoIndex.build_streaming(store_dir, params, use_gpu=use_gpu)
    else:  # flat and HNSW hold every vector anyway
        vi = VideoIndex.build(store_dir, params, use_gpu=use_gpu)
    index_dir = vi.save(ws.indexes(embedder))
    return _summary(vi, index_dir, seconds=round(time.perf_counter() - t0, 3))


def add_to_workspace_index(
    ws: WorkspaceLike, embedder: str, use_gpu: UseGpu = "auto"
) -> dict[str, Any]:
    """Add the videos that are in the store but not yet in the index, and save.

    ``stale_videos`` lists indexed videos whose shard is gone from the store (remove them with
    :func:`remove_from_workspace_index`).

    Raises:
        WorkspaceError: no store, no index, or an index built for another embedder.
    """
    ws = _ws(ws)
    with job_lock(ws, f"index-{embedder}"):
        return _add_locked(ws, embedder, use_gpu)


def _add_locked(ws: Workspace, embedder: str, use_gpu: UseGpu) -> dict[str, Any]:
    store_dir, index_dir = ws.embeddings(embedder), ws.indexes(embedder)
    vi = VideoIndex.load(index_dir, expected_manifest=read_manifest(store_dir), use_gpu=use_gpu)
    finished = finished_videos(store_dir)
    new = sorted(finished - set(vi.videos))
    added = 0
    if new:
        added = vi.add(load_store(store_dir, new))
        vi.store_dir = store_dir
        vi.save(index_dir)
    return _summary(
        vi,
        index_dir,
        added_videos=new,
        added_vectors=added,
        stale_videos=sorted(set(vi.videos) - finished),
    )


def remove_from_workspace_index(
    ws: WorkspaceLike, embedder: str, video_ref: str, use_gpu: UseGpu = "auto"
) -> dict[str, Any]:
    """Remove one video (id or path) from the index and save. Its shard stays in the store.

    Raises:
        BadInputError: the video is not in the index.  WorkspaceError: no index.
    """
    ws = _ws(ws)
    index_dir = ws.indexes(embedder)
    with job_lock(ws, f"index-{embedder}"):
        vi = VideoIndex.load(
            index_dir, expected_manifest=_store_manifest(ws, embedder), use_gpu=use_gpu
        )
        video_id = resolve_video(vi, video_ref)
        removed = vi.remove(video_id)
        vi.save(index_dir)
    return _summary(vi, index_dir, removed_video=video_id, removed_vectors=removed)


def load_workspace_index(ws: WorkspaceLike, embedder: str, use_gpu: UseGpu = "auto") -> VideoIndex:
    """The saved index of ``embedder``, cached in-process until its ``meta.json`` changes.

    The returned object is shared: read from it, do not ``add``/``remove`` on it.

    Raises:
        WorkspaceError: no index, a corrupt file, or an index for another embedder.
    """
    ws = _ws(ws)
    index_dir = ws.indexes(embedder)
    expected = _store_manifest(ws, embedder)
    try:
        st = os.stat(index_dir / META)
    except FileNotFoundError:
        raise WorkspaceError(no_index_message(ws, embedder, expected is not None)) from None
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    with _CACHE_LOCK:
        cached = _CACHE.get(str(index_dir))
        if cached is not None and cached[0] == key:
            vi = cached[1]
        else:
            vi = VideoIndex.load(index_dir, expected_manifest=expected, use_gpu=use_gpu)
            _CACHE[str(index_dir)] = (key, vi)
    if expected is not None:
        check_manifest(vi.manifest, expected, what=f"index {index_dir}")
    if expected is not None:  # the workspace may have moved since the index was saved
        vi.store_dir = ws.embeddings(embedder)
    return vi


def clear_cache() -> None:
    """Forget every cached index (tests, or to free memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def resolve_video(vi: VideoIndex, ref: str | Path) -> str:
    """The video id meant by ``ref``: an id, a unique id prefix, a stored path (also relative or
    through a link on this machine), or a unique file name (``services.search.match_video``).

    Raises:
        BadInputError: nothing or more than one video matches.
    """
    text = str(ref)
    paths = vi.columns.video_paths()
    candidates = match_video(text, paths)
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise BadInputError(
            f"{text!r} matches {len(candidates)} videos ({', '.join(candidates[:4])}, ...); give the full id or path"
        )
    example = next(iter(paths.items()), ("ID", "PATH"))
    raise BadInputError(
        f"no video {text!r} in the index for embedder '{vi.name}'; give a video id or its path as stored "
        f"(e.g. {example[0]} or {example[1]}); run `vidsift index add --embedder {vi.name}` for newly embedded videos"
    )


def _load_vector(vector: Any, dim: int) -> np.ndarray:
    if isinstance(vector, str | Path):
        path = Path(vector)
        try:
            vector = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise BadInputError(
                f"{path}: cannot read a vector from it ({exc}); save one with numpy.save"
            ) from exc
    arr = check_vectors(vector, dim, "the query vector", allow_1d=True)
    if len(arr) != 1:
        raise BadInputError(f"the query holds {len(arr)} vectors; give exactly one [dim] vector")
    return arr


def _open_image(image: Any) -> Any:
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    path = Path(image)
    if not path.is_file():
        raise BadInputError(f"{path}: no such image file")
    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except OSError as exc:
        raise BadInputError(f"{path}: not an image PIL can read ({exc})") from exc


def _image_batch(img: Any, manifest: dict[str, Any]) -> np.ndarray:
    """uint8 [1, H, W, 3] at the embedder's input size ([1, T, H, W, 3] for clip embedders)."""
    size = manifest.get("input_size")
    if isinstance(size, int):
        size = (size, size)
    if isinstance(size, list | tuple) and len(size) >= 2:
        h, w = int(size[-2]), int(size[-1])
        img = img.resize((w, h))
    frame = np.asarray(img, dtype=np.uint8)
    if manifest.get("unit") == "clip":
        length = manifest.get("clip_length") or (
            size[0] if isinstance(size, list | tuple) and len(size) == 3 else None
        )
        if not length:
            raise BadInputError(
                f"image search needs a frame embedder; '{manifest.get('name')}' embeds clips of unknown length"
            )
        return np.repeat(frame[None, None], int(length), axis=1)
    return frame[None]


def _embed_image(image: Any, manifest: dict[str, Any], ws: Workspace | None = None) -> np.ndarray:
    """Embed one image with the store's embedder -> float32 [1, dim].

    Uses ``embedder.registry.embed_image`` (which caches the rebuilt embedder), or
    ``get_embedder(manifest)`` when that is all the registry offers. The registry is imported
    lazily so that search by frame or vector works without it.

    Raises:
        BadInputError: no registry, an embedder that cannot be rebuilt, an unreadable image.
        WorkspaceError: the embedder's checkpoint/whitening is gone or changed (from the registry).
    """
    name = manifest.get("name", "?")
    try:
        from vidsift.embedder import registry
    except ImportError as exc:
        raise BadInputError(
            f"image search needs the embedder '{name}', but the embedder registry is not available ({exc}); "
            "search with --video/--frame or --vector-file instead"
        ) from exc
    img = _open_image(image)
    try:
        if hasattr(registry, "embed_image"):
            out = registry.embed_image(img, manifest, ws)
        else:
            emb = registry.get_embedder(manifest)
            out = (
                emb.embed_image(img)
                if hasattr(emb, "embed_image")
                else emb.embed(_image_batch(img, manifest))
            )
    except VidsiftError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to build/run the model is a user-facing one
        raise BadInputError(
            f"image search needs the embedder '{name}', which could not be run ({exc})"
        ) from exc
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    dim = int(manifest.get("dim", np.shape(out)[-1]))
    return check_vectors(out, dim, "the image embedding", allow_1d=True)


#: a grouped search first asks for ``k * GROUP_DEPTH`` frames, then 4x deeper a round until it
#: has ``k`` groups, the frames that pass the filter are exhausted, or ``GROUP_MAX_FRAMES``
GROUP_DEPTH = 10
GROUP_MAX_FRAMES = 200_000


def search_workspace(
    ws: WorkspaceLike,
    embedder: str,
    video: str | Path | None = None,
    frame: int | None = None,
    image: Any = None,
    vector: Any = None,
    k: int = 10,
    exclude_same_video: bool = False,
    exclude_window: int = 0,
    at: float | str | None = None,
    videos: Collection[str | Path] | None = None,
    labels: Collection[str] | None = None,
    time_range: str | tuple[float | str | None, float | str | None] | None = None,
    max_distance: float | None = None,
    group: str | None = None,
    gap: float | None = None,
) -> list[dict[str, Any]]:
    """Nearest frames (or moments) to one query: an indexed frame (``video`` + ``frame`` or
    ``at``), an image, or a vector.

    ``at`` is a time in the video (seconds or ``HH:MM:SS.mmm``): the indexed frame on screen then
    (the last one at or before it; the first one before the first) is the query.

    ``video`` is a video id or its path (as stored); ``image`` a file path or a PIL image;
    ``vector`` an array [dim] or a ``.npy`` path. With a frame query, the frame itself comes
    first (distance 0) unless excluded or filtered out.

    Filters (all must hold; they run inside FAISS, so ``k`` results come back whenever ``k``
    frames pass, see ``VideoIndex.search``): ``videos`` ids, paths or globs (``fnmatch`` over
    ids, paths and file names; an empty collection means no restriction); ``labels`` catalog
    labels; ``time_range`` ``"A-B"`` / ``"A-"`` / ``"-B"`` or a pair, the frame's time in its
    video. ``max_distance`` drops hits farther than that (fewer than ``k`` may remain).

    ``group`` (``segment``, ``shot``, ``video``): hits of one video merge into moments
    (``video.segment.merge_frames``; ``gap`` seconds for ``segment``, default 1.0) and ``k``
    counts moments: the search goes deeper (``k * GROUP_DEPTH`` frames, then 4x a round) until
    it has ``k`` of them or the passing frames run out. Returns ``Segment.to_dict()`` plus
    ``rank`` (1 = best), best first.

    Without ``group``: dicts with keys ``video_id, path, frame, time, timecode, shot, label,
    distance``, nearest first (``time`` is the presentation time in seconds).

    Raises:
        BadInputError: not exactly one query, ``frame`` without ``video``, exclusions without a
            frame query, an unknown video/frame/label, a glob that matches nothing, an empty or
            reversed time range, a negative or NaN max distance or gap, an unknown group, a
            vector of the wrong dimension.
        WorkspaceError: no index, or one built for another embedder.
    """
    given = [
        n
        for n, v in (("--video", video), ("--image", image), ("--vector-file", vector))
        if v is not None
    ]
    if len(given) != 1:
        how = "got " + " and ".join(given) if given else "got none"
        raise BadInputError(
            f"search needs exactly one query: --video V --frame F, --image PATH or --vector-file F.npy ({how})"
        )
    if (frame is not None or at is not None) and video is None:
        raise BadInputError("--frame and --at need --video: they point into one video")
    if frame is not None and at is not None:
        raise BadInputError("give --frame N or --at TIME, not both")
    if video is None and (exclude_same_video or exclude_window):
        raise BadInputError(
            "--exclude-same-video and --exclude-window need a --video/--frame query"
        )
    if int(k) < 1:
        raise BadInputError(f"-k must be at least 1, got {k}")
    group, gap_s = check_group(group, gap)
    window = parse_time_range(time_range)
    cut = check_max_distance(max_distance)
    vi = load_workspace_index(ws, embedder)
    filt = Filter.of(
        videos=resolve_videos(vi, videos),
        labels=[str(x).strip() for x in labels] if labels else None,
        time_range=window,
    )
    candidates = vi.candidates(filt)  # refuses unknown labels before any query; kept for reruns
    search: Callable[[int], Hits]
    if video is not None:
        video_id = resolve_video(vi, video)
        if at is not None:
            frame = frame_at_time(vi, video_id, parse_time(at))
        if frame is None:
            frames = vi.columns.frames_of(vi.columns.code_of[video_id])[0]
            raise BadInputError(
                f"--video needs --frame N or --at TIME: video {video_id} has frames {frames[0]}..{frames[-1]} indexed"
            )
        vi.id_of(video_id, int(frame))  # an unknown frame is refused before any search

        def search(n: int) -> Hits:
            return vi.search_frame(
                video_id, int(frame), n, exclude_same_video, int(exclude_window),
                filter=filt, max_distance=cut,
            )
    else:
        q = (
            _load_vector(vector, vi.dim)
            if vector is not None
            else _embed_image(image, vi.manifest, _ws(ws))
        )

        def search(n: int) -> Hits:
            return vi.search(q, n, filter=filt, max_distance=cut)[0]

    if group is None:
        return [hit_dict(h) for h in search(int(k))]
    segments = search_grouped(
        search, int(k), group, gap_s, candidates,
        durations=lambda ids: _catalog_durations(_ws(ws), ids),
    )
    return [{"rank": i, **s.to_dict()} for i, s in enumerate(segments, 1)]


def search_grouped(
    search: Callable[[int], Hits],
    k: int,
    by: str,
    gap: float,
    candidates: int,
    durations: Callable[[Collection[str]], Mapping[str, float]] | None = None,
) -> list[Segment]:
    """The ``k`` best moments: ``search(n)`` (the ``n`` nearest frames) merged by ``by``, asked
    deeper (``k * GROUP_DEPTH``, then 4x) until ``k`` moments, the search returning fewer than
    asked (the filter, the index or ``max_distance`` ran out), ``candidates`` frames or
    ``GROUP_MAX_FRAMES``. ``durations(video_ids)``: the real length of those videos, which caps
    a moment that runs to a video's last indexed frame.

    A moment's best distance is its nearest hit, so the first ``k`` moments among the ``n``
    nearest frames are the ``k`` best moments; their extent and ``frames`` count the hits among
    those ``n`` frames. A deeper search adds farther hits, which may also join two moments into
    one: when ``k`` moments are never reached, the depth that gave the most is the answer.
    """
    limit = max(1, min(candidates, GROUP_MAX_FRAMES))
    depth = min(limit, k * GROUP_DEPTH)
    best: tuple[Any, list[Segment]] | None = None
    while True:
        hits = search(depth)
        segments = hits.segments(by, gap)  # type: ignore[arg-type]
        # deeper hits can also fill the gap between two moments and merge them: when k is never
        # reached, the depth that gave the most moments answers (the deeper one on a tie)
        if best is None or len(segments) >= len(best[1]):
            best = (hits, segments)
        if len(segments) >= k or len(hits) < depth or depth >= limit:
            break
        depth = min(limit, depth * 4)
    hits, segments = best
    segments = segments[:k]
    if durations is not None and segments:  # caps move ends, never merges: same k moments
        ends = durations({s.video_id for s in segments})
        if ends:
            segments = hits.segments(by, gap, ends)[:k]  # type: ignore[arg-type]
    return segments


def _catalog_durations(ws: Workspace, video_ids: Collection[str]) -> dict[str, float]:
    """Video id -> duration in seconds as the catalog records it (none when there is no catalog)."""
    if not video_ids or not ws.catalog_path.exists():
        return {}
    from vidsift.catalog import Catalog

    out: dict[str, float] = {}
    try:
        with Catalog(ws.catalog_path) as cat:
            for vid in video_ids:
                try:
                    rec = cat.get(vid)
                except BadInputError:
                    continue
                if rec.duration and rec.duration > 0:
                    out[vid] = float(rec.duration)
    except VidsiftError:  # an unreadable catalog only loses the cap, not the search
        return {}
    return out


def resolve_videos(vi: VideoIndex, refs: Collection[str | Path] | None) -> list[str] | None:
    """Video ids meant by ``refs``: each an id, a path, a unique prefix or file name
    (:func:`resolve_video`) or a glob over ids, paths and file names; None when ``refs`` is empty.

    Raises:
        BadInputError: a reference that matches nothing, an ambiguous one, a glob that matches
            no video.
    """
    if not refs:
        return None
    out: set[str] = set()
    paths = set(vi.columns.video_paths().values())
    for ref in refs:
        text = str(ref)
        if is_glob(text) and text not in vi.columns.code_of and text not in paths:
            out.update(videos_matching(vi.columns, text))
        else:
            out.add(resolve_video(vi, text))
    return sorted(out)


def frame_at_time(vi: Any, video_id: str, seconds: float) -> int:
    """The indexed frame of ``video_id`` on screen at ``seconds`` (its last row at or before it).
    A time past the last indexed frame by more than one sampling step (at least 1 s) is refused:
    the index does not hold the video's end, and a time far past it is a typo, not a query for
    the last frame."""
    cols = vi.columns
    code = cols.code_of[video_id]
    frames, ids = cols.frames_of(code)
    times = cols.time[cols.positions(ids)]
    if seconds > times[-1] + max(1.0, cols.row_span(code)):
        raise BadInputError(
            f"time {seconds:g} s is past the end of video {video_id}: its last indexed frame "
            f"({int(frames[-1])}) is at {timecode(float(times[-1]))}"
        )
    i = int(np.searchsorted(times, seconds + 1e-6, side="right")) - 1
    return int(frames[max(i, 0)])


def check_workspace_index(
    ws: WorkspaceLike, embedder: str, k: int = 40, queries: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Recall@k of the saved index against exact search on ``queries`` stored vectors."""
    ws = _ws(ws)
    vi = load_workspace_index(ws, embedder)
    data = None
    if _store_manifest(ws, embedder) is not None:
        videos = sorted(set(vi.videos) & finished_videos(ws.embeddings(embedder)))
        data = load_store(ws.embeddings(embedder), videos) if videos else None
    return check_index(vi, data, k=k, n_queries=queries, seed=seed)
