"""The JSON shapes of the API, which are the CLI's ``--json`` shapes, described for OpenAPI.

The dicts themselves are built where the CLI builds them, and nowhere else: a search hit by
``services.indexes.hit_dict`` (``vidsift search --json`` prints a list of them), a video by
``VideoRecord.to_dict`` (``vidsift videos --json``), an index summary by the index use case. The
models here only *describe* and check those shapes (``tests/api`` checks that every key of
``hit_dict`` and ``VideoRecord.to_dict`` is a field here and the other way round; ``Video`` and
``Segment`` are built from their dataclasses' fields, so they cannot drift); requests are the
only models that parse.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from vidsift.catalog import VideoRecord
from vidsift.video.segment import Segment as SegmentRecord

#: JSON values a pass-through search option may take (new keywords of ``search_workspace``)
Scalar = str | int | float | bool | None


def _fields_of(cls: type, rename: dict[str, str] | None = None) -> dict[str, Any]:
    """``create_model`` field specs of a dataclass: its fields, types and defaults (``rename``:
    the JSON name of a field), so a model that describes a dataclass's ``to_dict`` cannot drift
    from it."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = Field(default_factory=f.default_factory)
        else:
            default = ...
        out[(rename or {}).get(f.name, f.name)] = (hints[f.name], default)
    return out


#: A catalogued video (``catalog.VideoRecord.to_dict``: its id is ``video_id``; broken files carry ``error``).
Video = create_model(
    "Video",
    __doc__="A catalogued video (``catalog.VideoRecord.to_dict``; broken files carry ``error``).",
    **_fields_of(VideoRecord, rename={"id": "video_id"}),
)


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: one line saying what was wrong and what to do."""

    error: str = Field(examples=["no video 'x' in the index of 'pixels'; list them with GET /videos"])


class Health(BaseModel):
    status: str = "ok"
    version: str
    auth: bool = Field(description="whether requests need a token")


class Hit(BaseModel):
    """One search result (``services.indexes.hit_dict``)."""

    video_id: str
    path: str
    frame: int
    time: float = Field(description="presentation time in seconds")
    timecode: str = Field(examples=["00:00:12.500"])
    shot: int | None = None
    label: str | None = None
    distance: float


class VideoPage(BaseModel):
    """A page of ``vidsift videos --json``: ``items[offset:offset+limit]`` of ``total``."""

    total: int
    offset: int
    limit: int
    items: list[Video]


class Embedders(BaseModel):
    stores: list[str] = Field(description="embedders with an embedding store")
    indexes: list[str] = Field(description="embedders with a saved index (searchable)")


class SearchQuery(BaseModel):
    """The arguments of ``services.indexes.search_workspace`` (``vidsift search``) as JSON.

    Exactly one query: ``video`` with ``frame`` or ``at``, or ``vector`` (an image goes to
    ``POST /search/image``). ``video`` and ``videos`` are video ids or paths exactly as listed by
    ``GET /videos``. Other keyword arguments of ``search_workspace`` (filters and grouping added
    later) are accepted by name with JSON scalar or list values.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"embedder": "pixels", "video": "3f2a9c1d", "at": "00:00:12.5", "k": 10, "exclude_window": 10},
        {"embedder": "pixels", "vector": [0.1, 0.2, 0.3], "k": 5},
    ]})

    embedder: str = Field(min_length=1, max_length=200)
    video: str | None = Field(None, max_length=4096)
    frame: int | None = Field(None, ge=0)
    at: float | str | None = Field(None, description="seconds or HH:MM:SS.mmm")
    vector: list[float] | None = Field(None, max_length=1 << 16)
    k: int = Field(10, ge=1, le=1000)
    videos: list[str] | None = Field(None, max_length=10_000)
    exclude_same_video: bool = False
    exclude_window: int = Field(0, ge=0)
    labels: list[str] | None = Field(None, max_length=10_000, description="catalog labels")
    time_range: str | list[float | str | None] | None = Field(None, description='"A-B", "A-", "-B" or [A, B]')
    max_distance: float | None = None
    group: str | None = Field(None, description="segment, shot or video: results are moments (Segment)")
    gap: float | None = Field(None, description="seconds between hits of one segment (group=segment)")


class ImageQuery(BaseModel):
    """The ``query`` part of ``POST /search/image``: ``SearchQuery`` without a frame or vector."""

    model_config = ConfigDict(extra="allow")

    embedder: str = Field(min_length=1, max_length=200)
    k: int = Field(10, ge=1, le=1000)
    videos: list[str] | None = Field(None, max_length=10_000)
    labels: list[str] | None = Field(None, max_length=10_000)
    time_range: str | list[float | str | None] | None = None
    max_distance: float | None = None
    group: str | None = None
    gap: float | None = None


#: the filter and grouping fields both queries share, passed to ``search_workspace`` by name
FILTERS = ("labels", "time_range", "max_distance", "group", "gap")


#: A grouped search result (``group`` given): ``video.segment.Segment.to_dict()`` + ``rank``.
Segment = create_model(
    "Segment",
    __config__=ConfigDict(extra="allow"),
    __doc__="A grouped search result (``group`` given): ``video.segment.Segment.to_dict()`` + ``rank``.",
    rank=(int, ...),
    **_fields_of(SegmentRecord),
    start_timecode=(str, ...),
    end_timecode=(str, ...),
    duration=(float, ...),
    best_timecode=(str | None, None),
)


class ClusterSize(BaseModel):
    cluster: int
    size: int


class Clusters(BaseModel):
    """The last discovery of an embedder: cluster sizes (largest first) and its run's result."""

    embedder: str
    clusters: list[ClusterSize]
    last_run: dict[str, Any] | None = None


class Member(BaseModel):
    """A frame of a cluster (a row of ``clusters.parquet``), nearest the centre first."""

    model_config = ConfigDict(extra="allow")

    video_id: str
    path: str
    frame: int
    time: float
    shot: int | None = None
    label: str | None = None
    cluster: int
    distance: float


class ClusterMembers(BaseModel):
    embedder: str
    cluster: int
    size: int
    members: list[Member]


class Clip(BaseModel):
    """A time range of a catalogued video, and where to play it (``media_url`` with a media
    fragment; the media endpoint answers HTTP Range requests)."""

    video_id: str
    start: float
    end: float
    start_timecode: str
    end_timecode: str
    media_url: str
    playable: bool = True  # a browser plays the file itself (MP4/WebM/MOV with H.264, VP8/9, AV1)
    preview_url: str | None = None  # else: an H.264 MP4 excerpt of the range


class IndexSummary(BaseModel):
    """``vidsift index build|add --json``."""

    model_config = ConfigDict(extra="allow")

    embedder: str
    kind: str
    metric: str
    dim: int
    vectors: int
    videos: int


class BuildRequest(BaseModel):
    """``vidsift index build`` options (``None``: chosen from the size of the store)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "auto"
    metric: str = "cosine"
    nlist: int | None = Field(None, ge=1)
    nprobe: int | None = Field(None, ge=1)
    m: int | None = Field(None, ge=1)
    ef_search: int | None = Field(None, ge=1)


class Evaluation(BaseModel):
    """``vidsift evaluate NAME --json``: ``embedder``, ``evaluation`` and the scores."""

    model_config = ConfigDict(extra="allow")

    embedder: str
    evaluation: str


class TokenInfo(BaseModel):
    """A token as the server lists it (never the token itself)."""

    id: str
    scope: str
    created: float | None = None
    note: str | None = None
