"""An image a person uploads to search with: the limits, and the checks made before decoding it
(the page, the HTTP API and ``vidsift app``'s server limit share them). Light on purpose: the
CLI reads ``MAX_UPLOAD_MB`` for its option's default without importing the search stack."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from vidsift.errors import BadInputError

#: largest image a person may upload to search with (the server limit is set by `vidsift app`)
MAX_UPLOAD_MB = 10


IMAGE_TYPES = ("jpg", "jpeg", "png")


#: an uploaded image with more pixels than this is refused (decompression bombs)
MAX_IMAGE_PIXELS = 40_000_000


def load_upload(name: str, data: bytes, max_bytes: int = MAX_UPLOAD_MB * 1_000_000) -> Any:
    """An uploaded JPEG/PNG as an RGB PIL image, checked before it is decoded.

    Raises:
        BadInputError: another file type, more than ``max_bytes``, a file that is not really a
            JPEG/PNG, or an image of more than ``MAX_IMAGE_PIXELS`` pixels.
    """
    from PIL import Image

    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in IMAGE_TYPES:
        raise BadInputError(f"{name}: only JPEG or PNG images can be searched with (got '.{ext}')")
    if len(data) > max_bytes:
        raise BadInputError(
            f"{name} is {len(data) / 1e6:.1f} MB; images up to {max_bytes / 1e6:.0f} MB are accepted, use a smaller one"
        )
    try:
        im = Image.open(io.BytesIO(data))
        fmt = im.format
        w, h = im.size
    except (OSError, Image.DecompressionBombError) as exc:
        raise BadInputError(f"{name}: not a readable JPEG or PNG image ({exc})") from exc
    if fmt not in ("JPEG", "PNG"):
        raise BadInputError(f"{name}: the file holds a {fmt} image, not JPEG or PNG")
    if w * h > MAX_IMAGE_PIXELS:
        raise BadInputError(f"{name}: {w}x{h} pixels is too large; use an image under {MAX_IMAGE_PIXELS // 1_000_000} megapixels")
    try:
        return im.convert("RGB")
    except OSError as exc:
        raise BadInputError(f"{name}: the image is damaged ({exc})") from exc


__all__ = ["IMAGE_TYPES", "MAX_IMAGE_PIXELS", "MAX_UPLOAD_MB", "load_upload"]
