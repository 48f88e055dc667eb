"""Decoding back-ends in a name -> class registry.

A back-end whose library fails to import is left out (and named by ``vidsift doctor``), never a
crash at import time: the rest of vidsift works with whichever back-end is present.
"""

from __future__ import annotations

from vidsift.video.backends.base import Backend

BACKENDS: dict[str, type[Backend]] = {}
UNAVAILABLE: dict[str, str] = {}

try:
    from vidsift.video.backends.pyav_backend import PyAVBackend

    BACKENDS[PyAVBackend.NAME] = PyAVBackend
except ImportError as exc:  # pragma: no cover - depends on the install
    UNAVAILABLE["pyav"] = str(exc)

try:
    from vidsift.video.backends.decord_backend import DecordBackend

    BACKENDS[DecordBackend.NAME] = DecordBackend
except ImportError as exc:  # pragma: no cover
    UNAVAILABLE["decord"] = str(exc)

__all__ = ["BACKENDS", "UNAVAILABLE", "Backend"]
