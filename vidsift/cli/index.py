"""`vidsift index build|add|remove|check` and `vidsift search`: thin wrappers over ``index.workspace``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from vidsift.cli.common import DEFAULT_WS, EmbedderOpt, JsonOpt, WorkspaceOpt, emit, workspace

index_app = typer.Typer(
    help="Build, update and check the FAISS index of an embedder's frames.", no_args_is_help=True
)



class Kind(StrEnum):
    auto = "auto"
    flat = "flat"
    ivf = "ivf"
    ivfpq = "ivfpq"
    hnsw = "hnsw"


class Metric(StrEnum):
    cosine = "cosine"
    l2 = "l2"


def _print_summary(s: dict[str, Any]) -> None:
    typer.echo(
        f"{s['embedder']}: {s['kind']} index ({s['metric']}), {s['vectors']} vectors of dim {s['dim']} "
        f"from {s['videos']} video(s) -> {s['path']}"
    )
    for key in ("added_videos", "stale_videos"):
        if s.get(key):
            typer.echo(f"  {key.replace('_', ' ')}: {', '.join(s[key])}")
    if "removed_video" in s:
        typer.echo(f"  removed {s['removed_vectors']} vectors of video {s['removed_video']}")


@index_app.command("build")
def build_cmd(
    embedder: EmbedderOpt,
    kind: Annotated[
        Kind, typer.Option("--kind", help="auto: flat up to 200k vectors, then IVF / IVF-PQ.")
    ] = Kind.auto,
    metric: Annotated[
        Metric, typer.Option("--metric", help="cosine (1 - cos) or l2 (squared).")
    ] = Metric.cosine,
    nlist: Annotated[
        int | None, typer.Option("--nlist", help="IVF lists (default ~4 sqrt(N)).")
    ] = None,
    nprobe: Annotated[
        int | None, typer.Option("--nprobe", help="IVF lists visited per query.")
    ] = None,
    m: Annotated[
        int | None, typer.Option("--m", help="PQ sub-quantizers (bytes per vector); divides dim.")
    ] = None,
    ef_search: Annotated[
        int | None, typer.Option("--ef-search", help="HNSW search breadth.")
    ] = None,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """(Re)build the index of an embedder from its whole embedding store."""
    from vidsift.services.indexes import build_workspace_index

    summary = build_workspace_index(
        workspace(ws),
        embedder,
        kind=kind.value,
        metric=metric.value,
        nlist=nlist,
        nprobe=nprobe,
        m=m,
        ef_search=ef_search,
    )
    emit(summary, as_json, _print_summary)


@index_app.command("add")
def add_cmd(embedder: EmbedderOpt, ws: WorkspaceOpt = DEFAULT_WS, as_json: JsonOpt = False) -> None:
    """Add videos embedded since the index was built."""
    from vidsift.services.indexes import add_to_workspace_index

    emit(add_to_workspace_index(workspace(ws), embedder), as_json, _print_summary)


@index_app.command("remove")
def remove_cmd(
    video: Annotated[str, typer.Argument(help="Video id or path.")],
    embedder: EmbedderOpt,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Remove one video's frames from the index (its embeddings stay in the store)."""
    from vidsift.services.indexes import remove_from_workspace_index

    emit(remove_from_workspace_index(workspace(ws), embedder, video), as_json, _print_summary)


@index_app.command("check")
def check_cmd(
    embedder: EmbedderOpt,
    k: Annotated[int, typer.Option("-k", "--k", help="Neighbours compared per query.")] = 40,
    queries: Annotated[int, typer.Option("--queries", help="Stored frames used as queries.")] = 200,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Measure recall@k of the index against exact search."""
    from vidsift.services.indexes import check_workspace_index

    def human(r: dict[str, Any]) -> None:
        typer.echo(
            f"{r['embedder']}: {r['kind']} recall@{r['k']} = {r['recall']:.4f} over {r['queries']} queries; "
            f"{r['speedup']:.1f}x the speed of exact search ({r['index_s']:.3f}s vs {r['exact_s']:.3f}s)"
        )

    emit(check_workspace_index(workspace(ws), embedder, k=k, queries=queries), as_json, human)


def search_cmd(
    embedder: EmbedderOpt,
    query: Annotated[
        str | None,
        typer.Argument(help="What to search for: an image file, a .npy vector, or a video (path, id or file "
                            "name; with --at or --frame). Or use --image / --vector-file / --video."),
    ] = None,
    video: Annotated[str | None, typer.Option("--video", help="Query video: id or path.")] = None,
    frame: Annotated[
        int | None, typer.Option("--frame", help="Query frame number within --video (decode order).")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Query time within --video: seconds (12.5) or 00:00:12.500.")
    ] = None,
    image: Annotated[Path | None, typer.Option("--image", help="Query image file.")] = None,
    vector_file: Annotated[
        Path | None,
        typer.Option("--vector-file", help="Query vector: a .npy file holding one vector."),
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Number of results.")] = 10,
    videos: Annotated[
        list[str] | None,
        typer.Option(
            "--videos",
            help="Search only within these videos: id, path or a glob over ids, paths and file names ('clips/*.mp4'); repeatable.",
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Search only videos with this catalog label; repeatable."),
    ] = None,
    time_range: Annotated[
        str | None,
        typer.Option(
            "--time-range",
            help="Only frames within A-B of their video (seconds or timecodes; '30-' or '-1:00' leave a side open).",
        ),
    ] = None,
    max_distance: Annotated[
        float | None,
        typer.Option("--max-distance", help="Drop hits farther than D (cosine: 1 - cos)."),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            help="Merge hits into moments: segment (adjacent in time), shot or video; -k then counts moments.",
        ),
    ] = None,
    gap: Annotated[
        float | None,
        typer.Option("--gap", help="With --group segment: hits at most this many seconds apart join (default 1.0)."),
    ] = None,
    exclude_same_video: Annotated[
        bool, typer.Option("--exclude-same-video", help="Drop frames of the query video.")
    ] = False,
    exclude_window: Annotated[
        int,
        typer.Option(
            "--exclude-window", help="Drop query-video frames within W frames of the query."
        ),
    ] = 0,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
    server: Annotated[
        str | None, typer.Option("--server", help="Ask a `vidsift serve` at this URL instead of -w.")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="VIDSIFT_TOKEN", help="Its token (or $VIDSIFT_TOKEN).")
    ] = None,
) -> None:
    """Find the frames (or, with --group, the moments) nearest to a frame, an image or a vector.

    Nearest first; --videos/--label/--time-range filter inside the index (docs/search.md)."""
    from vidsift.services.indexes import search_workspace
    from vidsift.services.search import query_source

    source = query_source(query, video=video, image=image, vector=vector_file)
    video, image, vector_file = source["video"], source["image"], source["vector"]
    if server:  # the same query, answered by the server (same JSON; docs/serve.md)
        from vidsift.api.client import VidsiftClient

        search_workspace = VidsiftClient(server, token).search_workspace  # noqa: F811

    results = search_workspace(
        None if server else workspace(ws),
        embedder,
        videos=videos,
        video=video,
        frame=frame,
        at=at,
        image=image,
        vector=vector_file,
        k=k,
        # only the options given: a server that predates one still answers the others, and an
        # image search (POST /search/image) takes no frame exclusions at all
        **_given(
            labels=label, time_range=time_range, max_distance=max_distance, group=group, gap=gap,
            exclude_same_video=exclude_same_video or None, exclude_window=exclude_window or None,
        ),
    )

    def human(rows: list[dict[str, Any]]) -> None:
        if group is not None:
            _print_segments(rows)
            from vidsift.services.search import fewer_than_asked

            short = fewer_than_asked(k, len(rows), group, gap="--gap s")
            if short:
                typer.echo(f"note: {short}", err=True)
            return
        typer.echo(f"{'#':>3}  {'distance':>9}  {'frame':>6}  {'time':>9}  {'timecode':>12}  video / path")
        for i, r in enumerate(rows, 1):
            typer.echo(
                f"{i:>3}  {r['distance']:>9.4f}  {r['frame']:>6}  {r['time']:>8.3f}s  {r['timecode']:>12}  "
                f"{r['video_id']}  {r['path']}"
            )

    emit(results, as_json, human)


def _given(**options: Any) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None and v != []}


def _print_segments(rows: list[dict[str, Any]]) -> None:
    """One line per moment: rank, start-end timecodes, best distance, hits merged, video."""
    typer.echo(f"{'#':>3}  {'start':>12} - {'end':<12}  {'distance':>9}  {'frames':>6}  {'best':>12}  video / path")
    for r in rows:
        typer.echo(
            f"{r['rank']:>3}  {r['start_timecode']:>12} - {r['end_timecode']:<12}  {r['distance']:>9.4f}  "
            f"{r['frames']:>6}  {r.get('best_timecode', ''):>12}  {r['video_id']}  {r['path']}"
        )


def register(app: typer.Typer) -> None:
    """Attach `index ...` and `search` to the main app."""
    app.add_typer(index_app, name="index")
    app.command("search")(search_cmd)
