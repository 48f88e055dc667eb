"""The routes of `vidsift serve`: each parses its input, calls one use case and returns its JSON.

``create_app(workspace, tokens=TokenStore(...), limits=Limits(...))`` builds the FastAPI app;
``vidsift serve`` runs it with uvicorn. Every error is ``{"error": "one line"}`` with a 4xx status
(``BadInputError`` 400; unknown ids and ``WorkspaceError``, e.g. no index yet, 404; a missing or
wrong token 401; a read token on an admin route 403; a body over the upload limit 413; too many
requests 429); a 500 means a bug, never bad input.

No path from a request reaches the file system: videos are named by catalog id (or their path
exactly as catalogued), thumbnails are served only from inside ``<workspace>/thumbnails``, media
only from the catalogued file, and search never gets a file name (images are uploaded, vectors
sent as numbers).
"""

from __future__ import annotations

import inspect
import io
import logging
import math
import mimetypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

import vidsift
from vidsift.api import schemas
from vidsift.api.auth import Limits, RateLimiter, TokenStore, allows, token_from_headers
from vidsift.errors import VideoError, VidsiftError, WorkspaceError
from vidsift.workspace import Workspace

log = logging.getLogger("vidsift.api")

#: the arguments of ``search_workspace`` a request may not pass through by name
_FIXED = {"ws", "embedder", "image", "vector", "video", "frame", "at", "k", "videos",
          "exclude_same_video", "exclude_window"}

#: what the error of a bad ``POST /search/image`` shows as the form of its ``query`` field
IMAGE_QUERY_EXAMPLE = '{"embedder": "pixels", "k": 10}'


class ApiError(Exception):
    """An answer other than 200, with its one-line message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def one_line(text: object, limit: int = 500) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": one_line(message)}, status_code=status, headers=headers)


def _plain(obj: Any) -> Any:
    """JSON-safe copy: numpy scalars and arrays as Python values, NaN/inf as null, paths as text."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_plain(v) for v in obj]
    if hasattr(obj, "tolist"):
        return _plain(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    return str(obj)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


class BodyLimit:
    """ASGI middleware: refuse a request body over ``max_bytes`` (413), by its Content-Length
    when it has one, else while it streams in."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, int(max_bytes)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = f"the request body is over the limit of {self.max_bytes / 1e6:.1f} MB; send a smaller file"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    n = int(value)
                except ValueError:
                    n = -1
                if n < 0 or n > self.max_bytes:
                    msg = too_big if n > self.max_bytes else "a Content-Length that is not a number"
                    await _error(413 if n > 0 else 400, msg)(scope, receive, send)
                    return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, too_big)
            return message

        await self.app(scope, limited, send)


def _guard(needed: str) -> Callable[[Request], dict[str, Any]]:
    """A dependency: the caller's token entry when it may do what needs ``needed``, else a 401
    (no or a wrong token), 403 (a read token on an admin route) or 429 (over the rate)."""

    def check(request: Request) -> dict[str, Any]:
        state = request.app.state
        tokens, limits = state.tokens, state.limits
        address = request.client.host if request.client else "?"
        if tokens is None:
            who: dict[str, Any] = {"id": None, "scope": "admin"}
            key = f"ip:{address}"
        else:
            token = token_from_headers(request.headers.get("authorization"))
            found = tokens.check(token)
            if found is None:
                why = "a wrong token" if token else "no token"
                raise ApiError(401, f"{why}: send 'Authorization: Bearer TOKEN' (create one with "
                                    "`vidsift token create --scope read`)",
                               {"WWW-Authenticate": 'Basic realm="vidsift"'})
            who = found
            key = f"token:{found.get('id')}"
        wait = state.limiter.allow(key)
        if wait > 0:
            raise ApiError(429, f"too many requests; at most {limits.rate:g} a second (burst {limits.burst}), "
                                f"retry in {wait:.2f}s", {"Retry-After": str(max(1, math.ceil(wait)))})
        if not allows(str(who.get("scope")), needed):
            raise ApiError(403, f"this needs an {needed} token; yours is {who.get('scope')}")
        return who

    return check


Read = Annotated[dict[str, Any], Depends(_guard("read"))]
Admin = Annotated[dict[str, Any], Depends(_guard("admin"))]


def create_app(
    workspace: Workspace | str | Path,
    tokens: TokenStore | None = None,
    limits: Limits | None = None,
    cors_origins: tuple[str, ...] | list[str] = (),
) -> FastAPI:
    """The API over ``workspace``.

    Args:
        tokens: the accepted tokens; ``None`` serves without authentication (what ``vidsift
            serve`` does on 127.0.0.1 when no token was created) and every caller is admin.
        limits: upload size and request rate (``Limits()`` by default).
        cors_origins: origins a browser page may call from (none: no CORS headers at all).
    """
    from vidsift.services.indexes import search_workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)
    limits = limits or Limits()
    limiter = RateLimiter(limits.rate, limits.burst)
    search_params = set(inspect.signature(search_workspace).parameters)
    passthrough = sorted(search_params - _FIXED)

    app = FastAPI(
        title="vidsift",
        version=vidsift.__version__,
        summary="Search, browse and cluster the frames of one vidsift workspace.",
        description=(
            "The JSON shapes are those of the CLI's `--json` (see `vidsift.api.schemas`). "
            "Send `Authorization: Bearer TOKEN` unless the server runs without tokens "
            "(127.0.0.1 only). Errors are `{\"error\": \"one line\"}` with a 4xx status."
        ),
        responses={c: {"model": schemas.ErrorBody} for c in (400, 401, 403, 404, 409, 413, 422, 429)},
    )
    app.state.workspace = ws
    app.state.tokens = tokens
    app.state.limits = limits
    app.state.limiter = limiter

    # -- errors -> one line ----------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(_r: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.headers)

    @app.exception_handler(VidsiftError)
    async def _vidsift_error(_r: Request, exc: VidsiftError) -> JSONResponse:
        status = 404 if isinstance(exc, WorkspaceError | VideoError) else 400
        return _error(status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        first = errs[0] if errs else {}
        if first.get("type") == "json_invalid":
            return _error(400, f"the body is not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})")
        loc = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        return _error(422, f"{loc or 'request'}: {first.get('msg', 'invalid')}{more}")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        msg = exc.detail
        if exc.status_code == 404 and msg == "Not Found":
            msg = f"no such endpoint: {request.method} {request.url.path}; see /docs"
        elif exc.status_code == 405:
            msg = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return _error(exc.status_code, str(msg), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(_r: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")

    # -- lookups -----------------------------------------------------------------------------
    def records() -> dict[str, Any]:
        from vidsift.services.library import videos

        return {v.id: v for v in videos(ws)}

    def record(video_id: str) -> Any:
        rec = records().get(video_id)
        if rec is None:
            raise ApiError(404, f"no video {video_id!r} in the catalog; list them with GET /videos")
        return rec

    def served_file(video_id: str) -> Path:
        """The catalogued file of ``video_id`` when it may be served (or cut): there, and not a
        link out of its folder."""
        path = Path(record(video_id).path)
        if path.is_symlink() and not _inside(path, path.parent):
            raise ApiError(404, f"video {video_id}: its file is a link out of its folder; not served")
        if not path.is_file():
            raise ApiError(404, f"video {video_id}: its file is gone; rescan the folder")
        return path

    def video_id_in(vi: Any, ref: str, embedder: str) -> str:
        """What the CLI accepts (an id, a unique id prefix, a path as stored, a unique file name)
        -> the id, without looking at the file system."""
        from vidsift.services.search import match_video

        found = match_video(ref, vi.columns.video_paths(), local=False)
        if len(found) == 1:
            return found[0]
        if found:
            raise ApiError(400, f"{ref!r} matches {len(found)} videos ({', '.join(found[:4])}, ...); "
                                "give the full id or path")
        raise ApiError(404, f"no video {ref!r} in the index of '{embedder}'; give a video id, its path "
                            "as listed by GET /videos, or its file name")

    def search(q: schemas.SearchQuery | schemas.ImageQuery, **query: Any) -> list[dict[str, Any]]:
        from vidsift.services.indexes import load_workspace_index

        extra = dict(q.model_extra or {})
        for name, value in extra.items():
            if name not in passthrough:
                raise ApiError(422, f"unknown search field {name!r}; fields: "
                                    f"{', '.join(sorted({*type(q).model_fields, *passthrough}))}")
            items = value if isinstance(value, list) else [value]
            if not all(v is None or isinstance(v, str | int | float | bool) for v in items):
                raise ApiError(422, f"{name}: give a JSON number, string, boolean or a list of them")
        for name in schemas.FILTERS:
            if getattr(q, name, None) is not None and name in search_params:
                query[name] = getattr(q, name)
        vi = load_workspace_index(ws, q.embedder)
        if query.get("video") is not None:
            query["video"] = video_id_in(vi, query["video"], q.embedder)
        # ids or stored paths; a glob (* ? [) is matched by the search over the index's names only
        within = [v if any(c in v for c in "*?[") and v not in vi.columns.code_of else video_id_in(vi, v, q.embedder)
                  for v in q.videos] if q.videos else None
        try:
            return _plain(search_workspace(ws, q.embedder, k=q.k, videos=within, **query, **extra))
        except (TypeError, ValueError) as exc:  # a pass-through option of the wrong kind
            if isinstance(exc, VidsiftError):
                raise
            raise ApiError(422, f"bad search option: {exc}") from exc

    # -- routes ------------------------------------------------------------------------------
    @app.get("/health", response_model=schemas.Health, tags=["server"])
    def health() -> dict[str, Any]:
        """Liveness and version (no token needed)."""
        return {"status": "ok", "version": vidsift.__version__, "auth": tokens is not None}

    @app.get("/auth", status_code=204, tags=["server"], response_class=Response)
    def auth_check(_who: Read) -> Response:
        """204 for a valid token, else 401: for a reverse proxy's ``auth_request`` (docs/serve.md)."""
        return Response(status_code=204)

    @app.get("/embedders", response_model=schemas.Embedders, tags=["videos"])
    def embedders(_who: Read) -> dict[str, Any]:
        """The embedders with a store, and those with an index (the ones search can use)."""
        from vidsift.services.contents import indexed_embedders, stores

        return {"stores": stores(ws), "indexes": indexed_embedders(ws)}

    @app.get("/videos", response_model=schemas.VideoPage, tags=["videos"])
    def list_videos(
        _who: Read,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        label: Annotated[list[str] | None, Query(max_length=200, description="only these labels; repeatable")] = None,
        errors: Annotated[bool, Query(description="only the files that could not be read")] = False,
    ) -> dict[str, Any]:
        """The catalog (``vidsift videos --json``, with its ``--label`` and ``--errors``), a page at
        a time, ordered as the CLI lists it."""
        from vidsift.services.library import videos

        rows = videos(ws, labels=label, errors_only=errors)
        return {"total": len(rows), "offset": offset, "limit": limit,
                "items": [_plain(v.to_dict()) for v in rows[offset: offset + limit]]}

    @app.get("/videos/{video_id}", response_model=schemas.Video, tags=["videos"])
    def get_video(_who: Read, video_id: Annotated[str, PathParam(max_length=200)]) -> dict[str, Any]:
        """One catalogued video."""
        return _plain(record(video_id).to_dict())

    @app.get("/videos/{video_id}/clip", response_model=schemas.Clip, tags=["media"])
    def clip(
        _who: Read,
        video_id: Annotated[str, PathParam(max_length=200)],
        at: Annotated[str, Query(max_length=40, description="seconds or HH:MM:SS.mmm")],
        seconds: Annotated[float, Query(gt=0, le=600)] = 2.0,
    ) -> dict[str, Any]:
        """The clip of ``seconds`` centred on ``at`` (clamped to the video), and its media URL."""
        from vidsift.timecode import parse_time, timecode

        rec = record(video_id)
        t = parse_time(at)
        duration = float(rec.duration or 0.0)
        if t < 0 or (duration > 0 and t > duration):
            raise ApiError(400, f"--at {at} is outside video {video_id} (0..{duration:.3f}s)")
        from vidsift.services.media import playable

        start = max(0.0, t - seconds / 2)
        end = min(duration, t + seconds / 2) if duration > 0 else t + seconds / 2
        can_play = playable(rec.path)
        return {"video_id": rec.id, "start": round(start, 3), "end": round(end, 3),
                "start_timecode": timecode(start), "end_timecode": timecode(end),
                "media_url": f"/videos/{rec.id}/media#t={start:.3f},{end:.3f}", "playable": can_play,
                "preview_url": None if can_play else f"/videos/{rec.id}/preview?start={start:.3f}&end={end:.3f}"}

    @app.get("/videos/{video_id}/preview", tags=["media"], response_class=FileResponse,
             responses={200: {"content": {"video/mp4": {}}, "description": "an H.264 MP4 excerpt"}})
    async def preview(
        _who: Read,
        video_id: Annotated[str, PathParam(max_length=200)],
        start: Annotated[float, Query(ge=0, le=1e7)],
        end: Annotated[float, Query(gt=0, le=1e7)],
    ) -> FileResponse:
        """``[start, end)`` of a video as an H.264 MP4 a browser plays (cut once, then kept under
        ``<workspace>/previews``), for files it cannot play itself (MPEG-2, MPEG-TS, HEVC...);
        a file it can play is answered as ``/media`` answers it."""
        from vidsift.services.media import PREVIEW_MAX_SECONDS, playback

        if not end > start or end - start > PREVIEW_MAX_SECONDS:
            raise ApiError(400, f"preview {start:g}-{end:g} s: give 0 <= start < end, at most {PREVIEW_MAX_SECONDS:g} s long")
        path = served_file(video_id)
        pb = await run_in_threadpool(playback, ws, str(path), record(video_id).id, start, end)
        if not pb.preview:
            return media(_who, video_id)
        return FileResponse(pb.path, media_type="video/mp4")

    @app.get("/videos/{video_id}/media", tags=["media"], response_class=FileResponse,
             responses={200: {"content": {"video/mp4": {}}, "description": "the file (HTTP Range works)"}})
    def media(_who: Read, video_id: Annotated[str, PathParam(max_length=200)]) -> FileResponse:
        """The catalogued video file itself; players fetch a clip with Range requests."""
        path = served_file(video_id)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=kind)

    @app.get("/thumbnails/{video_id}/{frame}", tags=["media"], response_class=Response,
             responses={200: {"content": {"image/jpeg": {}}}})
    def thumbnail(
        _who: Read,
        video_id: Annotated[str, PathParam(max_length=200)],
        frame: Annotated[int, PathParam(ge=0, le=10**9)],
    ) -> Response:
        """A frame's JPEG thumbnail (cached in the workspace, decoded when missing)."""
        from vidsift.embedder.thumbnails import thumbnail_path
        from vidsift.services.media import safe_thumbnail

        rec = record(video_id)
        root = ws.thumbnails
        path = thumbnail_path(root, rec.id, frame)
        if not (_inside(root, ws.root) and _inside(path.parent, root)):
            raise ApiError(404, f"thumbnails of {video_id} lead out of the workspace; not served")
        if os.path.lexists(path):
            if not _inside(path, root) or not path.is_file():
                raise ApiError(404, f"thumbnail {video_id}/{frame} leads out of the workspace; not served")
            return FileResponse(path, media_type="image/jpeg")
        if rec.num_frames and frame >= int(rec.num_frames):
            raise ApiError(404, f"video {video_id} has frames 0..{int(rec.num_frames) - 1}; no frame {frame}")
        arr = safe_thumbnail(ws, rec.path, rec.id, frame)
        if arr is None:
            raise ApiError(404, f"frame {frame} of video {video_id} cannot be read")
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=85)
        return Response(buf.getvalue(), media_type="image/jpeg")

    hits_doc = {200: {"model": list[schemas.Hit | schemas.Segment],
                      "description": "hits nearest first, or moments (Segment) with `group`"}}

    @app.post("/search", response_model=None, responses=hits_doc, tags=["search"])
    def search_json(_who: Read, q: schemas.SearchQuery) -> list[dict[str, Any]]:
        """Nearest frames to a frame (``video`` + ``frame``/``at``) or a ``vector``
        (``vidsift search --json``)."""
        return search(q, video=q.video, frame=q.frame, at=q.at, vector=q.vector,
                      exclude_same_video=q.exclude_same_video, exclude_window=q.exclude_window)

    @app.post("/search/image", response_model=None, responses=hits_doc, tags=["search"])
    async def search_image(
        _who: Read,
        file: Annotated[UploadFile, File(description="a JPEG or PNG")],
        query: Annotated[str, Form(max_length=100_000, description="ImageQuery as JSON")] = "{}",
    ) -> list[dict[str, Any]]:
        """Nearest frames to an uploaded image (``vidsift search --image``)."""
        from vidsift.services.uploads import load_upload

        try:
            q = schemas.ImageQuery.model_validate_json(query)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            raise ApiError(422, f"query{'.' + loc if loc else ''}: {first.get('msg')} (the form field "
                                f"'query' holds the options as JSON, e.g. query={IMAGE_QUERY_EXAMPLE})") from None
        data = await file.read(limits.max_body_bytes + 1)
        image = load_upload(file.filename or "upload", data, max_bytes=int(limits.max_upload_mb * 1_000_000))
        return await run_in_threadpool(search, q, image=image)

    @app.get("/clusters", response_model=schemas.Clusters, tags=["clusters"])
    def clusters(_who: Read, embedder: Annotated[str, Query(min_length=1, max_length=200)]) -> dict[str, Any]:
        """The clusters of the last discovery run of ``embedder``, largest first."""
        from vidsift.services.discover import cluster_sizes, load_assignments, load_last_run

        sizes = cluster_sizes(load_assignments(ws, embedder))
        return {"embedder": embedder, "clusters": _plain(sizes.to_dict("records")),
                "last_run": _plain(load_last_run(ws, embedder))}

    @app.get("/clusters/{cluster}", response_model=schemas.ClusterMembers, tags=["clusters"])
    def members(
        _who: Read,
        cluster: Annotated[int, PathParam(ge=0, le=10**7)],
        embedder: Annotated[str, Query(min_length=1, max_length=200)],
        n: Annotated[int, Query(ge=1, le=1000)] = 12,
    ) -> dict[str, Any]:
        """The ``n`` frames of a cluster nearest its centre."""
        from vidsift.services.discover import cluster_members, load_assignments

        assign = load_assignments(ws, embedder)
        size = int((assign["cluster"] == cluster).sum())
        if size == 0:
            raise ApiError(404, f"no cluster {cluster} for '{embedder}'; list them with GET /clusters")
        rows = cluster_members(assign, cluster, n)
        return {"embedder": embedder, "cluster": cluster, "size": size,
                "members": _plain(rows.to_dict("records"))}

    @app.get("/duplicates", tags=["clusters"])
    def duplicates(_who: Read, embedder: Annotated[str, Query(min_length=1, max_length=200)]) -> dict[str, Any]:
        """The last near-duplicates run of ``embedder`` (``vidsift duplicates --json``'s shape)."""
        from vidsift.services.duplicates import load_duplicates

        result = load_duplicates(ws, embedder)
        if result is None:
            raise ApiError(404, f"no duplicates run for '{embedder}'; run vidsift duplicates -e {embedder}")
        return _plain(result)

    @app.get("/evaluations", tags=["evaluations"])
    def evaluations(_who: Read) -> dict[str, list[str]]:
        """The names of the evaluations (``vidsift evaluate NAME``)."""
        from vidsift.services.evaluate import EVALUATIONS

        return {"evaluations": list(EVALUATIONS)}

    @app.get("/evaluations/{name}", response_model=schemas.Evaluation, tags=["evaluations"])
    def evaluate(
        _who: Read,
        name: Annotated[str, PathParam(max_length=40)],
        embedder: Annotated[str, Query(min_length=1, max_length=200)],
        repeats: Annotated[int | None, Query(ge=1, le=50)] = None,
        seed: Annotated[int | None, Query(ge=0, le=2**31)] = None,
        k: Annotated[int | None, Query(ge=1, le=1000)] = None,
        shots: Annotated[int | None, Query(ge=1, le=1000)] = None,
        pairs: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    ) -> dict[str, Any]:
        """Run one evaluation on the store of ``embedder`` (``vidsift evaluate NAME --json``)."""
        from vidsift.services.evaluate import EVALUATIONS, evaluate_workspace

        if name not in EVALUATIONS:
            raise ApiError(404, f"no evaluation {name!r}; choose {', '.join(EVALUATIONS)}")
        options = {key: v for key, v in (("repeats", repeats), ("seed", seed), ("k", k), ("shots", shots),
                                         ("pairs", pairs)) if v is not None}
        return _plain(evaluate_workspace(ws, embedder, name, **options))

    @app.post("/indexes/{embedder}/build", response_model=schemas.IndexSummary, tags=["indexes"])
    def build_index(
        _who: Admin, embedder: Annotated[str, PathParam(max_length=200)], body: schemas.BuildRequest | None = None,
    ) -> dict[str, Any]:
        """(Re)build the index of ``embedder`` (admin). Readers keep the old index until the new
        one is complete; an identical build already running is joined, not repeated."""
        from vidsift.services.indexes import build_workspace_index

        b = body or schemas.BuildRequest()
        return _plain(build_workspace_index(ws, embedder, kind=b.kind, metric=b.metric, nlist=b.nlist,
                                            nprobe=b.nprobe, m=b.m, ef_search=b.ef_search))

    @app.post("/indexes/{embedder}/add", response_model=schemas.IndexSummary, tags=["indexes"])
    def add_index(_who: Admin, embedder: Annotated[str, PathParam(max_length=200)]) -> dict[str, Any]:
        """Add the videos embedded since the index was built (admin)."""
        from vidsift.services.indexes import add_to_workspace_index

        return _plain(add_to_workspace_index(ws, embedder))

    @app.get("/tokens", response_model=list[schemas.TokenInfo], tags=["server"])
    def list_tokens(_who: Admin) -> list[dict[str, Any]]:
        """The tokens the server accepts (ids and scopes; never the tokens) (admin)."""
        if tokens is None:
            return []
        return [{"id": e.get("id"), "scope": e.get("scope"), "created": e.get("created"), "note": e.get("note")}
                for e in tokens.entries]

    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    return app
