"""A tiny workspace for the page's tests: two labelled scene videos, embedded with ``pixels``."""

from __future__ import annotations

from pathlib import Path

from vidsift.embedder.extract import extract
from vidsift.services.indexes import build_workspace_index
from vidsift.video.synthetic.write import make_scene_videos
from vidsift.workspace import Workspace

SCENES = ("astronaut", "coffee")
APP = Path(__file__).resolve().parents[2] / "app.py"


def build_workspace(root: Path, index: bool = True) -> Workspace:
    """Videos under ``root/videos/<scene>/``, the workspace in ``root/ws`` (pixels store + index)."""
    make_scene_videos(root / "videos", scenes=SCENES, videos_per_scene=1, shots_per_video=2,
                      frames_per_shot=8, size=(32, 32), fps=10.0, seed=0)
    ws = Workspace.at(root / "ws")
    extract(ws, root / "videos", "pixels", progress=False, workers=0)
    if index:
        build_workspace_index(ws, "pixels")
    return ws


def build_duplicates_workspace(root: Path, size: tuple[int, int] = (32, 32)) -> Workspace:
    """A clip, its re-encode and its trim, and an unrelated clip (3 duplicate pairs), embedded
    with ``pixels`` into ``root/ws`` (the Duplicates view's tests)."""
    from vidsift.video.synthetic.variants import make_duplicate_variants

    make_duplicate_variants(root / "set", sources=("astronaut",), unrelated=("rocket",), repeat=None,
                            variants=("original", "reencode", "trim"), lookalikes=False, seconds=4.0, size=size)
    ws = Workspace.at(root / "ws")
    extract(ws, root / "set", "pixels", progress=False, workers=0)
    return ws
