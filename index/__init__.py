"""FAISS indexes over frame embeddings: build, persist, update, search, check (design decision 6).

Modules: ``build`` (parameters and FAISS construction), ``video_index`` (``VideoIndex``), ``persist``
(files on disk), ``hits`` (results), ``check`` (recall against exact search), ``workspace``
(functions the CLI and the page call).
"""

from vidsift.index.build import IndexParams, build_index, choose_params
from vidsift.index.check import check_index, recall_at_k
from vidsift.index.hits import Hit, Hits
from vidsift.index.video_index import VideoIndex
from vidsift.index.workspace import (
    add_to_workspace_index,
    build_workspace_index,
    check_workspace_index,
    load_workspace_index,
    remove_from_workspace_index,
    resolve_video,
    search_workspace,
)

__all__ = [
    "Hit",
    "Hits",
    "IndexParams",
    "VideoIndex",
    "add_to_workspace_index",
    "build_index",
    "build_workspace_index",
    "check_index",
    "check_workspace_index",
    "choose_params",
    "load_workspace_index",
    "recall_at_k",
    "remove_from_workspace_index",
    "resolve_video",
    "search_workspace",
]
