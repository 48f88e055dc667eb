"""Ensembles ``a+b``: the members' L2-normalised features concatenated.

Wang & Gupta (2015) combine networks by concatenating their normalised features; with cosine
similarity this averages the members' similarities. All members must share the unit (and the
clip length); frames are decoded at the largest member's input size and resized for the others.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidsift.embedder.base import Embedder
from vidsift.errors import BadInputError


class EnsembleEmbedder(Embedder):
    kind = "ensemble"

    def __init__(self, name: str, members: list[Embedder]) -> None:
        if len(members) < 2:
            raise BadInputError(f"ensemble {name!r} needs at least two members joined by '+'")
        units = {m.unit for m in members}
        if len(units) > 1:
            raise BadInputError(
                f"ensemble {name!r} mixes frame and clip embedders ({', '.join(m.name + ':' + m.unit for m in members)}); "
                "combine embedders of one unit"
            )
        clip_lens = {m.clip_len for m in members}
        if len(clip_lens) > 1:
            raise BadInputError(f"ensemble {name!r}: members take clips of different lengths {sorted(clip_lens)}")
        self.name = name
        self.members = members
        self.unit = members[0].unit
        self.clip_len = members[0].clip_len
        self.input_size = max((m.input_size for m in members), key=lambda s: (s[0] * s[1], s))
        self.dim = sum(m.dim for m in members)
        self.batch_size = max(m.batch_size for m in members)
        self.layer = "+".join(str(m.layer) for m in members)
        self.checkpoint_hash = "+".join(str(m.checkpoint_hash) for m in members)
        self.preprocessing = " | ".join(f"{m.name}: {m.preprocessing}" for m in members) + " | each L2-normalised, concatenated"

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        parts = []
        for m in self.members:
            f = m.embed(batch)
            norms = np.linalg.norm(f, axis=1, keepdims=True)
            parts.append(f / np.maximum(norms, 1e-12))
        return np.concatenate(parts, axis=1)

    def prepare(self, ws: Any, videos: list[Any], progress: bool = False) -> None:
        for m in self.members:
            m.prepare(ws, videos, progress)

    def to_device(self) -> None:
        for m in self.members:
            m.to_device()

    def _manifest_extra(self) -> dict[str, Any]:
        return {"members": [m.manifest() for m in self.members]}
