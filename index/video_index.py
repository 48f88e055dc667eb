"""``VideoIndex``: a FAISS index over frame embeddings plus the id map that names every vector.

Each vector gets an int64 id, allocated increasingly and never reused (removed ids leave gaps).
The id map is a DataFrame indexed by that id with the store's metadata columns
(``video_id, path, frame, time, shot, label``). The embedder's manifest travels with the index,
so loading it for another embedder is refused (design decision 6).

Example::

    vi = VideoIndex.build(ws.embeddings("pixels"))        # params chosen from the size
    vi.save(ws.indexes("pixels"))
    vi = VideoIndex.load(ws.indexes("pixels"), expected_manifest=read_manifest(store_dir))
    hits = vi.search_frame("a1b2c3", 120, k=10, exclude_window=15)
    hits[0].video_id, hits[0].frame, hits[0].distance     # nearest first

Distances: ``1 - cos`` for the cosine metric, squared Euclidean distance for ``l2``.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from vidsift.embedder.store import StoreData, check_manifest, load_store
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.index.build import (
    IndexParams,
    UseGpu,
    apply_search_params,
    build_index,
    build_index_batches,
    check_vectors,
    choose_params,
    prepare_vectors,
    resolve_gpu,
    to_gpu,
    to_user_distance,
)
from vidsift.index.filters import Filter, Selection, check_max_distance, selection
from vidsift.index.hits import Columns, Hits
from vidsift.index.persist import load_files, save_files

log = logging.getLogger(__name__)

QueryPosition = tuple[str, int] | None

#: a filter that keeps at most this many vector bytes is searched exactly over just those vectors
#: (read back from the index once, then cached for the next search with the same filter): for a
#: few videos that is faster than any index walk and exact for every kind; a larger selection runs
#: inside FAISS with an ID selector (docs/search.md, docs/perf_search.md)
SUBSET_MAX_BYTES = 16 << 20
#: a filtered IVF search starts with nprobe divided by the fraction of frames that pass (so about
#: as many passing candidates are met as an unfiltered search meets); one that still finds fewer
#: than k widens by this factor a round, up to nlist (exhaustive over the passing frames)
WIDEN = 4
#: a flat index answers up to this many queries at once with one single-threaded BLAS product
#: over its stored vectors: ~7x faster than FAISS's per-query scan at 100k x 256, and steady on
#: a busy machine (docs/perf_search.md); more queries go to FAISS, which batches them itself
DIRECT_FLAT_MAX_QUERIES = 8
DIRECT_FLAT_MIN_ROWS = 20_000  # below this the FAISS call is already sub-millisecond


@functools.cache
def _blas_threads() -> ThreadpoolController:
    return ThreadpoolController()


def _idmap_from(meta: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "video_id": meta["video_id"].astype(str).to_numpy(),
            "path": meta["path"].astype(str).to_numpy(),
            "frame": meta["frame"].to_numpy(dtype=np.int64),
            "time": meta["time"].to_numpy(dtype=np.float64),
            "shot": meta["shot"].to_numpy(dtype=np.int64),
            "label": [None if pd.isna(x) else str(x) for x in meta["label"]],
        },
        index=pd.Index(ids, dtype=np.int64, name="id"),
    )
    return df


def _as_store_data(source: str | Path | StoreData) -> tuple[StoreData, Path | None]:
    if isinstance(source, StoreData):
        return source, None
    return load_store(source), Path(source)


def _describe_frames(frames: np.ndarray) -> str:
    if len(frames) == 0:
        return "no frames"
    text = f"{frames[0]}..{frames[-1]} ({len(frames)} frames"
    steps = np.unique(np.diff(frames))
    if len(steps) == 1 and steps[0] > 1:
        text += f", every {steps[0]}th"
    return text + ")"


class VideoIndex:
    """FAISS index + id map + embedder manifest + build parameters.

    Build with :meth:`build`, reopen with :meth:`load`. ``add``/``remove`` change it in memory;
    call :meth:`save` to persist. Searches run on GPU when ``use_gpu`` allows and one is present;
    the index held here (and saved) is always the CPU one.
    """

    def __init__(
        self,
        index: faiss.Index,
        idmap: pd.DataFrame,
        manifest: dict[str, Any],
        params: IndexParams,
        next_id: int | None = None,
        store_dir: str | Path | None = None,
        use_gpu: UseGpu = "auto",
    ) -> None:
        self.index = index
        self.idmap = idmap.sort_index()
        self.manifest = dict(manifest)
        self.params = params
        self.next_id = int(
            next_id
            if next_id is not None
            else (self.idmap.index.max() + 1 if len(self.idmap) else 0)
        )
        self.store_dir = Path(store_dir) if store_dir is not None else None
        self.use_gpu = resolve_gpu(use_gpu)
        self._cols: Columns | None = None
        self._gpu_index: faiss.Index | None = None
        self._subset: tuple[Filter, np.ndarray] | None = None  # exact-path vectors of a filter
        self._selection: tuple[Filter, Selection] | None = None  # the last filter's rows
        self._flat: np.ndarray | None = None  # ids of a flat index's rows, for _search_index
        apply_search_params(self.index, params)

    # ------------------------------------------------------------------ construction / files
    @classmethod
    def build(
        cls,
        source: str | Path | StoreData,
        params: IndexParams | None = None,
        use_gpu: UseGpu = "auto",
        **choose: Any,
    ) -> VideoIndex:
        """Index every vector of a store folder (or of a loaded ``StoreData``).

        ``params`` default to ``choose_params(n, dim, **choose)``.

        Raises:
            BadInputError: an empty store, or parameters the data cannot support.
            WorkspaceError: a missing or corrupt store.
        """
        data, store_dir = _as_store_data(source)
        if len(data) == 0:
            raise BadInputError(
                f"{store_dir or 'the store'}: no embeddings to index; run `vidsift embed` first"
            )
        d = data.vectors.shape[1]
        if int(data.manifest.get("dim", d)) != d:
            raise WorkspaceError(
                f"store vectors have dim {d} but its manifest says {data.manifest.get('dim')}; re-embed"
            )
        dup = data.meta.duplicated(["video_id", "frame"])
        if dup.any():
            row = data.meta[dup].iloc[0]
            raise BadInputError(
                f"video {row['video_id']} has frame {row['frame']} twice in the store; re-embed that video"
            )
        params = params or choose_params(len(data), d, **choose)
        ids = np.arange(len(data), dtype=np.int64)
        index = build_index(data.vectors, params, ids, use_gpu=use_gpu)
        return cls(
            index, _idmap_from(data.meta, ids), data.manifest, params, len(data), store_dir, use_gpu
        )

    @classmethod
    def build_streaming(
        cls,
        store_dir: str | Path,
        params: IndexParams | None = None,
        use_gpu: UseGpu = "auto",
        batch_rows: int = 250_000,
        seed: int = 0,
        **choose: Any,
    ) -> VideoIndex:
        """Build from a store folder without holding all its vectors in memory.

        Shards are read in batches of whole videos (about ``batch_rows`` rows). IVF kinds are
        first trained on a uniform random sample of rows (64 per centroid, the sample read in a
        first pass), so peak memory is the sample + one batch + the index itself: this is what
        makes IVF-PQ useful when the raw vectors exceed the memory budget. Ids and rows are
        those of :meth:`build` on the same store.

        Raises:
            BadInputError: an empty store, or parameters the data cannot support.
            WorkspaceError: a missing or corrupt store.
        """
        store_dir = Path(store_dir)
        info = load_store(store_dir, with_vectors=False)
        meta, manifest = info.meta, info.manifest
        n, d = len(meta), int(manifest["dim"])
        if n == 0:
            raise BadInputError(f"{store_dir}: no embeddings to index; run `vidsift embed` first")
        params = params or choose_params(n, d, **choose)
        counts = meta.groupby("video_id", sort=True).size()
        groups: list[list[str]] = [[]]
        rows = 0
        for vid, c in counts.items():
            if rows >= batch_rows:
                groups.append([])
                rows = 0
            groups[-1].append(str(vid))
            rows += int(c)

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            start = 0
            for videos in groups:
                data = load_store(store_dir, videos)
                check_manifest(data.manifest, manifest, what=f"store {store_dir}")
                part = meta.iloc[start : start + len(data)]
                if not np.array_equal(part["frame"].to_numpy(), data.meta["frame"].to_numpy()):
                    raise WorkspaceError(
                        f"{store_dir}: the store changed while indexing; run the build again"
                    )
                yield data.vectors, np.arange(start, start + len(data), dtype=np.int64)
                start += len(data)

        training = None
        if params.kind in ("ivf", "ivfpq"):
            want = max(64 * params.nlist, 64 * (1 << params.nbits) if params.kind == "ivfpq" else 0)
            keep = min(1.0, want / n)
            rng = np.random.default_rng(seed)
            parts = [x if keep >= 1.0 else x[rng.random(len(x)) < keep] for x, _ in batches()]
            training = np.concatenate(parts)
        index = build_index_batches(batches(), params, d, training, use_gpu=use_gpu)
        ids = np.arange(n, dtype=np.int64)
        return cls(index, _idmap_from(meta, ids), manifest, params, n, store_dir, use_gpu)

    def save(self, index_dir: str | Path) -> Path:
        """Write the index atomically (see :mod:`index.persist`); returns the folder."""
        meta = {
            "manifest": self.manifest,
            "params": self.params.to_dict(),
            "next_id": self.next_id,
            "ntotal": self.ntotal,
            "videos": len(self.videos),
            "store_dir": str(self.store_dir) if self.store_dir else None,
            "faiss_version": faiss.__version__,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        save_files(index_dir, self.index, self.idmap, meta)
        return Path(index_dir)

    @classmethod
    def load(
        cls,
        index_dir: str | Path,
        expected_manifest: dict[str, Any] | None = None,
        use_gpu: UseGpu = "auto",
    ) -> VideoIndex:
        """Open a saved index; refuse it when it was built for another embedder.

        Raises:
            WorkspaceError: no index, a torn/corrupt file (named), or a manifest mismatch.
        """
        name = (expected_manifest or {}).get("name")
        index, idmap, meta = load_files(index_dir, name)
        manifest = meta.get("manifest") or {}
        if expected_manifest is not None:
            check_manifest(manifest, expected_manifest, what=f"index {Path(index_dir)}")
        if "dim" in manifest and index.d != int(manifest["dim"]):
            raise WorkspaceError(
                f"{index_dir}: index has dim {index.d} but its manifest says {manifest['dim']}; rebuild it"
            )
        params = IndexParams.from_dict(meta.get("params") or {})
        return cls(
            index, idmap, manifest, params, meta.get("next_id"), meta.get("store_dir"), use_gpu
        )

    # ------------------------------------------------------------------ facts
    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", "?"))

    @property
    def columns(self) -> Columns:
        if self._cols is None:
            self._cols = Columns.from_idmap(self.idmap)
        return self._cols

    @property
    def videos(self) -> list[str]:
        return list(self.columns.videos)

    def __len__(self) -> int:
        return self.ntotal

    def __repr__(self) -> str:
        p = self.params
        return f"VideoIndex({self.name!r}, kind={p.kind}, metric={p.metric}, vectors={self.ntotal}, videos={len(self.videos)})"

    def _changed(self) -> None:
        self._cols = None
        self._gpu_index = None
        self._subset = None
        self._selection = None
        self._flat = None

    # ------------------------------------------------------------------ updates
    def add(self, data: StoreData) -> int:
        """Add the vectors of videos not yet indexed; returns the number of vectors added.

        IVF indexes keep their trained centroids (rebuild when the data has changed a lot).

        Raises:
            WorkspaceError: ``data`` comes from another embedder.
            BadInputError: a video of ``data`` is already indexed, or dims differ.
        """
        check_manifest(data.manifest, self.manifest, what="the new embeddings")
        if len(data) == 0:
            return 0
        already = sorted(set(data.meta["video_id"].astype(str)) & set(self.columns.code_of))
        if already:
            raise BadInputError(
                f"video(s) {', '.join(already[:5])} already in the index; remove them first with "
                f"`vidsift index remove VIDEO --embedder {self.name}`"
            )
        x = prepare_vectors(
            check_vectors(data.vectors, self.dim, "new vectors", meta=data.meta),
            self.params.metric,
        )
        ids = np.arange(self.next_id, self.next_id + len(x), dtype=np.int64)
        self.index.add_with_ids(x, ids)
        self.idmap = pd.concat([self.idmap, _idmap_from(data.meta, ids)])
        self.next_id += len(x)
        self._changed()
        return len(x)

    def remove(self, video_id: str) -> int:
        """Remove every vector of one video; returns how many were removed.

        HNSW cannot delete from its graph: the graph is rebuilt from the remaining vectors
        (which takes about as long as the first build).

        Raises:
            BadInputError: the video is not in the index.
        """
        code = self.columns.code_of.get(str(video_id))
        if code is None:
            raise BadInputError(f"video {video_id} is not in the index for embedder '{self.name}'")
        ids = np.array(self.columns.frames_of(code)[1], dtype=np.int64)  # a copy: FAISS writes
        if self.params.kind == "hnsw":
            log.info("HNSW cannot remove vectors: rebuilding the graph without video %s", video_id)
            inner = faiss.downcast_index(self.index.index)
            all_ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            keep = ~np.isin(all_ids, ids)
            vectors = inner.reconstruct_n(0, self.ntotal)[keep]
            if keep.any():
                self.index = build_index(vectors, self.params, all_ids[keep], use_gpu=False)
            else:
                self.index.reset()
            removed = int((~keep).sum())
        else:
            removed = int(self.index.remove_ids(ids))
        self.idmap = self.idmap.drop(index=ids)
        self._changed()
        return removed

    def relocate(self, places: Mapping[str, tuple[str, str | None]]) -> list[str]:
        """Point the rows of moved or renamed videos at ``places[video_id] = (path, label)``:
        the content id, and so the vectors, stay. Returns the ids whose rows changed."""
        vids = self.idmap["video_id"].astype(str)
        mask = vids.isin(list(places)).to_numpy()
        if not mask.any():
            return []
        moved = vids[mask]
        path = moved.map(lambda v: places[v][0])
        label = moved.map(lambda v: places[v][1])
        old_path, old_label = self.idmap.loc[mask, "path"], self.idmap.loc[mask, "label"]
        same = (old_path.astype(str) == path) & ((old_label == label) | (old_label.isna() & label.isna()))
        changed = sorted(set(moved[~same]))
        if changed:
            self.idmap.loc[mask, "path"] = path.to_numpy(dtype=object)
            self.idmap.loc[mask, "label"] = label.to_numpy(dtype=object)
            self._changed()
        return changed

    # ------------------------------------------------------------------ lookups
    def id_of(self, video_id: str, frame: int) -> int:
        """The index id of ``(video_id, frame)``.

        Raises:
            BadInputError: unknown video, or a frame that is not indexed (valid range named).
        """
        cols = self.columns
        code = cols.code_of.get(str(video_id))
        if code is None:
            known = ", ".join(cols.videos[:5]) + (", ..." if len(cols.videos) > 5 else "")
            raise BadInputError(
                f"video {video_id} is not in the index for embedder '{self.name}' (indexed: {known or 'none'}); "
                f"embed it and run `vidsift index add --embedder {self.name}`"
            )
        frames, ids = cols.frames_of(code)
        i = int(np.searchsorted(frames, frame))
        if i < len(frames) and frames[i] == frame:
            return int(ids[i])
        near = sorted({int(frames[j]) for j in (i - 1, i) if 0 <= j < len(frames)})
        raise BadInputError(
            f"video {video_id} has no frame {frame} in the index; indexed frames are "
            f"{_describe_frames(frames)}; nearest: {', '.join(map(str, near))}"
        )

    def vector_of(self, video_id: str, frame: int) -> np.ndarray:
        """The indexed vector of one frame, float32 [dim] (L2-normalised for cosine).

        Exact for flat/IVF/HNSW (reconstructed from the index); IVF-PQ stores only codes, so the
        vector is re-read from the embedding store when it is known, else decoded (approximate).

        Raises:
            BadInputError: unknown video or frame (the valid range is named).
        """
        row_id = self.id_of(video_id, frame)
        if self.params.kind == "ivfpq" and self.store_dir is not None and self.store_dir.exists():
            try:
                data = load_store(self.store_dir, [str(video_id)])
                check_manifest(data.manifest, self.manifest, what=f"store {self.store_dir}")
                row = np.flatnonzero(data.meta["frame"].to_numpy() == frame)
                if len(row):
                    return prepare_vectors(data.vectors[row[:1]], self.params.metric)[0]
            except WorkspaceError as exc:
                log.warning(
                    "decoding the PQ vector of %s frame %s instead: %s", video_id, frame, exc
                )
        return np.asarray(self.index.reconstruct(row_id), dtype=np.float32)

    # ------------------------------------------------------------------ search
    def _searcher(self) -> faiss.Index:
        if self.use_gpu:
            if self._gpu_index is None:
                self._gpu_index = to_gpu(self.index) or self.index
                apply_search_params(self._gpu_index, self.params)
            return self._gpu_index
        return self.index

    def search(
        self,
        queries: np.ndarray,
        k: int = 10,
        exclude_video: str | Sequence[str | None] | None = None,
        exclude_window: int = 0,
        query_positions: Sequence[QueryPosition] | None = None,
        videos: Collection[str] | None = None,
        filter: Filter | None = None,  # noqa: A002 - the word users and FAISS docs use
        max_distance: float | None = None,
    ) -> list[Hits]:
        """The ``k`` nearest indexed frames of each query [Q, dim], nearest first.

        ``exclude_video``: a video id excluded for every query, or one entry per query (``None``
        for none). ``exclude_window`` (frames, > 0) with ``query_positions`` (``(video_id,
        frame)`` or ``None`` per query) drops hits of the query's own video whose frame differs
        from the query frame by at most the window (the query frame included). The search
        over-fetches by the number of excluded rows, so ``k`` hits remain whenever the index
        holds that many eligible vectors.

        ``filter`` (videos, labels, time range; see :mod:`index.filters`) and ``videos`` (ids; a
        shortcut for ``Filter(videos=...)``, intersected with ``filter.videos`` when both are
        given) restrict the hits to the frames that pass. A selection of at most
        ``SUBSET_MAX_BYTES`` of vectors is searched exactly over just those vectors; a larger one
        runs inside FAISS with an ID selector over the passing ids (``SearchParameters(sel=)``),
        on the CPU index even when a GPU copy exists: flat and HNSW (its flat storage) scan the
        passing vectors exactly; IVF probes ``nprobe / passing fraction`` lists and, when those
        hold fewer than ``k`` passing frames, more (up to all: exhaustive). So ``min(k, passing
        frames)`` hits come back for every kind.

        ``max_distance``: hits farther than this are dropped after the search (so fewer than
        ``k`` may come back); ``None`` keeps all ``k``.

        Raises:
            BadInputError: a query dimension differing from the index (both named), NaN queries,
                ``k < 1``, exclusion arguments of the wrong length, a video not in the index, an
                unknown label, a negative or NaN ``max_distance``.
        """
        q = prepare_vectors(
            check_vectors(
                queries, self.dim, "queries", f"the index of '{self.name}'", allow_1d=True
            ),
            self.params.metric,
        )
        nq = len(q)
        if int(k) < 1:
            raise BadInputError(f"k must be at least 1, got {k}")
        k = int(k)
        max_distance = check_max_distance(max_distance)
        cols = self.columns
        empty = [Hits(cols, np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in range(nq)]
        filt = self._merged_filter(filter, videos)
        chosen = self.select(filt) if filt is not None else None  # validates videos and labels
        if self.ntotal == 0 or nq == 0 or (chosen is not None and chosen.rows == 0):
            return empty

        excl = self._exclusions(nq, exclude_video, exclude_window, query_positions)
        k_fetch = k + (int(excl[3].max()) if excl is not None else 0)
        if chosen is None:
            raw, labels = self._search_index(q, min(k_fetch, self.ntotal))
        elif chosen.rows * self.dim * 4 <= SUBSET_MAX_BYTES:
            assert filt is not None
            raw, labels = self._search_subset(q, min(k_fetch, chosen.rows), filt, chosen)
        else:
            raw, labels = self._search_selected(q, min(k_fetch, chosen.rows), chosen)
        dist = to_user_distance(raw, self.params.metric)
        pos = cols.positions(labels)
        drop = labels < 0
        if excl is not None:
            codes_hit = cols.codes[pos]
            ex_code, win_code, win_frame, _ = excl
            drop |= codes_hit == ex_code[:, None]
            if exclude_window > 0:
                drop |= (codes_hit == win_code[:, None]) & (
                    np.abs(cols.frame[pos] - win_frame[:, None]) <= exclude_window
                )
        if max_distance is not None:
            drop |= dist > max_distance
        if drop.any():
            order = np.argsort(drop, axis=1, kind="stable")[:, :k]  # kept hits first, in order
            counts = np.minimum((~drop).sum(axis=1), k)
            pos = np.take_along_axis(pos, order, axis=1)
            dist = np.take_along_axis(dist, order, axis=1)
            return [Hits(cols, pos[i, : counts[i]], dist[i, : counts[i]]) for i in range(nq)]
        return [Hits(cols, pos[i, :k], dist[i, :k]) for i in range(nq)]

    def _merged_filter(
        self, filt: Filter | None, videos: Collection[str] | None
    ) -> Filter | None:
        """``filter`` with the ``videos`` shortcut folded in; None when nothing is restricted."""
        if videos is not None:
            wanted = {str(v) for v in videos}
            self._codes_of(wanted)  # the historical message for an unknown video
            if filt is not None and filt.videos:
                wanted &= set(filt.videos)
                if not wanted:  # disjoint restrictions: nothing passes
                    return Filter(videos=(), labels=filt.labels, time_range=filt.time_range)
            base = filt or Filter()
            filt = Filter(videos=tuple(wanted), labels=base.labels, time_range=base.time_range)
            if not wanted:
                return filt
        if filt is None or (not filt.active and filt.videos is None):
            return None
        return filt

    def select(self, filt: Filter) -> Selection:
        """The rows ``filt`` keeps (their ids, and a FAISS selector over them), kept for the next
        search with the same filter.

        Raises:
            BadInputError: a video not in the index, an unknown label (known ones listed).
        """
        cached = self._selection
        if cached is not None and cached[0] == filt:
            return cached[1]
        cols = self.columns
        if filt.videos is not None and len(filt.videos) == 0:
            chosen = selection(np.zeros(0, np.int64), self.next_id)
        else:
            mask = filt.mask(cols, f"the index for embedder '{self.name}'")
            chosen = selection(cols.ids[mask], self.next_id)
        self._selection = (filt, chosen)
        return chosen

    def _search_selected(
        self, q: np.ndarray, k: int, chosen: Selection
    ) -> tuple[np.ndarray, np.ndarray]:
        """FAISS-shaped (scores, ids) of a search restricted inside FAISS to ``chosen``'s ids.

        Always on the CPU index: FAISS GPU indexes silently ignore ``params.sel`` (faiss#3924;
        only the cuVS build filters on GPU), so a GPU copy would return unfiltered neighbours.
        ``k <= chosen.rows``, so a complete answer has no ``-1`` label; a short IVF answer (the
        probed lists held fewer than ``k`` passing frames) is searched again with more lists.

        HNSW does not walk its graph under a filter: the walk only steps to neighbours of frames
        it has seen, and a query among frames the filter excludes (its own video's chain) often
        never reaches the passing ones (2 of 10 true neighbours at efSearch 64 on video-shaped
        data, tests/index/test_filters.py); FAISS scans the graph's flat storage instead.
        """
        kind, p = self.params.kind, self.params
        if kind == "hnsw":
            return self._scan_hnsw_storage(q, k, chosen)
        if kind not in ("ivf", "ivfpq"):  # flat: FAISS scans every passing vector, exact
            return self.index.search(q, k, params=faiss.SearchParameters(sel=chosen.selector))
        fraction = chosen.rows / max(1, self.ntotal)
        limit = max(p.nprobe, p.nlist)
        width = min(limit, math.ceil(p.nprobe / fraction))
        raw, labels = self.index.search(q, k, params=self._ivf_parameters(chosen, width))
        short = labels[:, -1] < 0
        while short.any() and width < limit:
            width = min(limit, width * WIDEN)
            params = self._ivf_parameters(chosen, width)
            raw[short], labels[short] = self.index.search(q[short], k, params=params)
            short = labels[:, -1] < 0
        return raw, labels

    def _scan_hnsw_storage(
        self, q: np.ndarray, k: int, chosen: Selection
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact filtered search of an HNSW index without its graph: FAISS scans the flat
        storage under the graph (no copy) with the selector translated to storage positions
        (``IDSelectorTranslated``: the storage knows positions, the selector external ids)."""
        inner = faiss.downcast_index(self.index.index)
        storage = faiss.downcast_index(inner.storage)
        sel = faiss.IDSelectorTranslated(self.index.id_map, chosen.selector)
        raw, found = storage.search(q, k, params=faiss.SearchParameters(sel=sel))
        if self._flat is None:
            self._flat = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        return raw, np.where(found >= 0, self._flat[np.maximum(found, 0)], -1)

    @staticmethod
    def _ivf_parameters(chosen: Selection, nprobe: int) -> faiss.SearchParametersIVF:
        """Fresh parameters per call: IVF needs its nprobe in them (not the index's own)."""
        return faiss.SearchParametersIVF(sel=chosen.selector, nprobe=int(nprobe))

    def _codes_of(self, videos: Collection[str]) -> tuple[int, ...]:
        """Sorted video codes of ``videos`` (ids).

        Raises:
            BadInputError: a video that is not in the index.
        """
        code_of = self.columns.code_of
        unknown = sorted(str(v) for v in videos if str(v) not in code_of)
        if unknown:
            raise BadInputError(
                f"video(s) {', '.join(unknown[:5])} not in the index for embedder '{self.name}'; "
                f"embed them and run `vidsift index add --embedder {self.name}`"
            )
        return tuple(sorted({code_of[str(v)] for v in videos}))

    def _search_index(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FAISS-shaped (scores, ids) of the whole index; a few queries on a large CPU cosine flat
        index are one BLAS product over the stored vectors (same scores, ties by row). Squared L2
        stays with FAISS, whose per-pair differences are more precise than the expanded form."""
        if (
            self.params.kind != "flat"
            or self.params.metric != "cosine"
            or self.use_gpu
            or len(q) > DIRECT_FLAT_MAX_QUERIES
            or self.ntotal < DIRECT_FLAT_MIN_ROWS
        ):
            return self._searcher().search(q, k)
        inner = faiss.downcast_index(self.index.index)
        n, d = int(inner.ntotal), int(inner.d)
        xb = faiss.rev_swig_ptr(inner.get_xb(), n * d).reshape(n, d)  # a view, no copy
        if self._flat is None:
            self._flat = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        ids = self._flat
        with _blas_threads().limit(limits=1, user_api="blas"):
            scores = xb @ q.T  # [n, nq] inner products of unit vectors
        key = -scores  # smaller is nearer
        raw = np.empty((len(q), k), np.float32)
        labels = np.empty((len(q), k), np.int64)
        for j in range(len(q)):
            col = key[:, j]
            top = np.argpartition(col, k - 1)[:k] if k < n else np.arange(n)
            top = top[np.lexsort((top, col[top]))]  # nearest first, ties by row
            raw[j], labels[j] = scores[top, j], ids[top]
        return raw, labels

    def _search_subset(
        self, q: np.ndarray, k: int, filt: Filter, chosen: Selection
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact search over the vectors of ``chosen`` only: FAISS-shaped (scores, ids).

        The vectors are read back from the index (decoded, so approximate, for IVF-PQ) once per
        filter: the page repeats a search with the same filter.
        """
        cached = self._subset  # one read: another thread may swap in another filter's vectors
        if cached is None or cached[0] != filt:
            vectors = np.ascontiguousarray(
                self.index.reconstruct_batch(chosen.ids), dtype=np.float32
            )
            cached = self._subset = (filt, vectors)
        vectors = cached[1]
        ids = chosen.ids
        raw, found = faiss.knn(q, vectors, min(k, len(ids)), metric=self.params.faiss_metric)
        labels = np.where(found >= 0, ids[np.maximum(found, 0)], -1)
        return raw, labels

    def _exclusions(
        self,
        nq: int,
        exclude_video: str | Sequence[str | None] | None,
        exclude_window: int,
        query_positions: Sequence[QueryPosition] | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """Per query: excluded video code, window video code, window centre frame, excluded count."""
        if exclude_window < 0:
            raise BadInputError(f"exclude_window must be >= 0, got {exclude_window}")
        if exclude_video is None and exclude_window == 0:
            return None
        cols = self.columns
        ex_code = np.full(nq, -2, np.int64)
        win_code = np.full(nq, -2, np.int64)
        win_frame = np.zeros(nq, np.int64)
        count = np.zeros(nq, np.int64)
        if exclude_video is not None:
            videos = [exclude_video] * nq if isinstance(exclude_video, str) else list(exclude_video)
            if len(videos) != nq:
                raise BadInputError(f"exclude_video has {len(videos)} entries for {nq} queries")
            for i, v in enumerate(videos):
                code = cols.code_of.get(str(v), -2) if v is not None else -2
                ex_code[i] = code
                if code >= 0:
                    count[i] += len(cols.frames_of(code)[0])
        if exclude_window > 0:
            if query_positions is None or len(query_positions) != nq:
                raise BadInputError(
                    "exclude_window needs query_positions: one (video_id, frame) per query"
                )
            for i, qp in enumerate(query_positions):
                if qp is None:
                    continue
                code = cols.code_of.get(str(qp[0]), -2)
                win_code[i], win_frame[i] = code, int(qp[1])
                if code >= 0 and code != ex_code[i]:
                    frames = cols.frames_of(code)[0]
                    lo = np.searchsorted(frames, int(qp[1]) - exclude_window, side="left")
                    hi = np.searchsorted(frames, int(qp[1]) + exclude_window, side="right")
                    count[i] += int(hi - lo)
        return ex_code, win_code, win_frame, count

    def search_frame(
        self,
        video_id: str,
        frame: int,
        k: int = 10,
        exclude_same_video: bool = False,
        exclude_window: int = 0,
        videos: Collection[str] | None = None,
        filter: Filter | None = None,  # noqa: A002
        max_distance: float | None = None,
    ) -> Hits:
        """Neighbours of an indexed frame (the frame itself comes first unless excluded or
        filtered out); ``videos``, ``filter`` and ``max_distance`` as in :meth:`search`."""
        q = self.vector_of(video_id, frame)
        return self.search(
            q[None, :],
            k,
            exclude_video=str(video_id) if exclude_same_video else None,
            exclude_window=exclude_window,
            query_positions=[(str(video_id), int(frame))],
            videos=videos,
            filter=filter,
            max_distance=max_distance,
        )[0]

    def candidates(self, filt: Filter | None = None) -> int:
        """How many frames a search with ``filt`` can return (all of them without a filter)."""
        if filt is None or (not filt.active and filt.videos is None):
            return self.ntotal
        return self.select(filt).rows
