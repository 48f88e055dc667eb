"""Figures for discovery and evaluation, written atomically (PNG, or the format of the suffix).

Matplotlib is used through ``Figure`` + the Agg canvas directly, never ``pyplot``, so no global
backend is switched and plots can be drawn from any thread (the Streamlit page included).

* :func:`plot_pr_curves`: temporal precision-recall curves, AUC in the legend (Goroshin Fig. 7).
* :func:`plot_cluster_sizes`: frames per cluster, largest first.
* :func:`plot_map`: 2-D map coloured by cluster or label (categorical) or by a number.
* :func:`contact_sheet`: thumbnails tiled in a grid (PIL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from vidsift.atomic import atomic_path
from vidsift.discovery.scores import PRResult
from vidsift.errors import BadInputError

__all__ = ["contact_sheet", "plot_cluster_sizes", "plot_map", "plot_pr_curves"]


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=110, bbox_inches="tight")
    return path


def plot_pr_curves(
    results: Mapping[str, PRResult], path: str | Path, title: str = "Temporal precision-recall"
) -> Path:
    """One precision(recall) curve per named result; legend shows each AUC."""
    if not results:
        raise BadInputError("no precision-recall results to plot")
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.add_subplot()
    for name, res in results.items():
        label = f"{name} (AUC {res.auc:.3f}" + (f" ± {res.auc_std:.3f})" if res.auc_std else ")")
        ax.plot(res.recall, res.precision, marker=".", markersize=3, label=label)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_cluster_sizes(
    labels: Sequence[Any] | np.ndarray, path: str | Path, title: str = "Cluster sizes"
) -> Path:
    """Bar chart of frames per cluster, sorted from largest to smallest."""
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    if len(values) == 0:
        raise BadInputError("no cluster labels to plot")
    order = np.argsort(-counts, kind="stable")
    fig = Figure(figsize=(max(4.0, min(16.0, 0.25 * len(values) + 2)), 3.5))
    ax = fig.add_subplot()
    ax.bar(np.arange(len(values)), counts[order], color="tab:blue")
    if len(values) <= 40:
        ax.set_xticks(
            np.arange(len(values)), [str(v) for v in values[order]], rotation=90, fontsize=7
        )
    ax.set_xlabel("cluster (largest first)")
    ax.set_ylabel("frames")
    ax.set_title(title)
    return _save(fig, path)


def plot_map(
    coords: np.ndarray, colors: Sequence[Any] | np.ndarray | None, path: str | Path, title: str = ""
) -> Path:
    """Scatter of 2-D ``coords`` [n, 2]; ``colors``: cluster ids / labels (categorical, legend
    when <= 20 classes) or floats (colour bar), or ``None``."""
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise BadInputError(f"coords must be [n, 2], got shape {coords.shape}")
    fig = Figure(figsize=(6, 5.5))
    ax = fig.add_subplot()
    size = float(np.clip(2000 / max(len(coords), 1), 1, 20))
    if colors is None:
        ax.scatter(coords[:, 0], coords[:, 1], s=size, lw=0)
    else:
        c = np.asarray(colors)
        if len(c) != len(coords):
            raise BadInputError(f"{len(c)} colours for {len(coords)} points")
        if np.issubdtype(c.dtype, np.floating):
            sc = ax.scatter(coords[:, 0], coords[:, 1], c=c, s=size, lw=0, cmap="viridis")
            fig.colorbar(sc, ax=ax)
        else:
            cats, codes = np.unique(c.astype(str), return_inverse=True)
            cmap = "tab10" if len(cats) <= 10 else "tab20"
            sc = ax.scatter(
                coords[:, 0],
                coords[:, 1],
                c=codes.ravel() % 20,
                s=size,
                lw=0,
                cmap=cmap,
                vmin=0,
                vmax=(9 if cmap == "tab10" else 19),
            )
            if len(cats) <= 20:
                handles = [
                    ax.scatter([], [], color=sc.cmap(sc.norm(i % 20)), s=20, label=str(cat))
                    for i, cat in enumerate(cats)
                ]
                ax.legend(handles=handles, fontsize=7, markerscale=1, loc="best")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return _save(fig, path)


def contact_sheet(
    images: Sequence[np.ndarray],
    path: str | Path,
    cols: int = 8,
    cell: tuple[int, int] | None = None,
    pad: int = 2,
) -> Path:
    """Tile uint8 HxWx3 images into a grid ``cols`` wide; each is fitted (aspect kept) into a
    cell of ``cell`` = (H, W), the first image's size by default. Written atomically."""
    if len(images) == 0:
        raise BadInputError("a contact sheet needs at least one image")
    if cols < 1:
        raise BadInputError(f"cols must be >= 1, got {cols}")
    first = np.asarray(images[0])
    ch, cw = cell if cell is not None else first.shape[:2]
    rows = (len(images) + cols - 1) // cols
    ncols = min(cols, len(images))
    sheet = Image.new("RGB", (ncols * (cw + pad) + pad, rows * (ch + pad) + pad), (24, 24, 24))
    for i, img in enumerate(images):
        arr = np.asarray(img)
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise BadInputError(f"image {i} must be HxWx3 uint8, got shape {arr.shape}")
        tile = Image.fromarray(np.ascontiguousarray(arr[..., :3]).astype(np.uint8))
        tile.thumbnail((cw, ch))
        r, c = divmod(i, cols)
        x = pad + c * (cw + pad) + (cw - tile.width) // 2
        y = pad + r * (ch + pad) + (ch - tile.height) // 2
        sheet.paste(tile, (x, y))
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    with atomic_path(path) as tmp:
        sheet.save(tmp, format=fmt)
    return path
