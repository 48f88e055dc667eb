"""FAISS indexes over frame embeddings: build, persist, update, search, check (design decision 6).

Modules: ``build`` (parameters and FAISS construction), ``video_index`` (``VideoIndex``), ``persist``
(files on disk), ``hits`` (results), ``check`` (recall against exact search). What a workspace
does with them (build the index of a store, search it, add and remove videos) is the use case
``vidsift.services.indexes``.
"""

from vidsift.index.build import IndexParams, build_index, choose_params
from vidsift.index.check import check_index, recall_at_k
from vidsift.index.hits import Hit, Hits
from vidsift.index.video_index import VideoIndex

__all__ = [
    "Hit",
    "Hits",
    "IndexParams",
    "VideoIndex",
    "build_index",
    "check_index",
    "choose_params",
    "recall_at_k",
]
