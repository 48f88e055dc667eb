"""Page-only helpers of the Streamlit page (``app.py``): slider steps, frame strips, image data
URLs and the display tables of evaluation results. Everything the page *does* goes through a use
case in ``vidsift.services`` (the same functions the CLI calls; see docs/app.md for the CLI
equivalent of each page action).
"""

from __future__ import annotations

import io

import numpy as np

from vidsift.errors import BadInputError


def frame_step(frames: np.ndarray) -> int:
    """The common stride of the indexed frame numbers (1 when irregular or a single frame)."""
    if len(frames) < 2:
        return 1
    step = int(np.gcd.reduce(np.diff(np.asarray(frames, np.int64))))
    return max(step, 1)


def snap_frame(frames: np.ndarray, frame: int) -> int:
    """The indexed frame nearest ``frame`` (ties go to the earlier one)."""
    frames = np.asarray(frames, np.int64)
    if len(frames) == 0:
        raise BadInputError("this video has no indexed frames")
    i = int(np.searchsorted(frames, frame))
    cands = [frames[j] for j in (i - 1, i) if 0 <= j < len(frames)]
    return int(min(cands, key=lambda f: (abs(int(f) - int(frame)), int(f))))


def strip_frames(frames: np.ndarray, n: int = 8) -> list[int]:
    """``n`` indexed frames spread evenly over the video (first and last included)."""
    frames = np.asarray(frames, np.int64)
    if len(frames) <= n:
        return [int(f) for f in frames]
    pos = np.linspace(0, len(frames) - 1, n).round().astype(int)
    return [int(frames[p]) for p in np.unique(pos)]


def image_data_url(image: np.ndarray | None, max_side: int = 96) -> str | None:
    """A small JPEG ``data:`` URL of an image (for image columns of a table)."""
    if image is None:
        return None
    import base64

    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(image[..., :3]).astype(np.uint8))
    im.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")




