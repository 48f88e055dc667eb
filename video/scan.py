"""Scanning: probe every video of a folder into the catalog (frame count, timeline, shots, notes).

    with Catalog(ws.catalog_path) as cat:
        report = scan_folder(cat, "clips/")

The catalog (foundation) only stores rows; probing a file means decoding it, which is this
package's job, so the scan loop takes ``inspect_video`` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidsift.catalog import Catalog, ScanReport

_MIB = 1 << 20


def inspect_video(path: str | Path, timeout: float | None = None) -> dict[str, Any]:
    """Probe data and shots of one file; raises ``VideoError`` when it is not usable.

    ``timeout`` (seconds) bounds the decode; by default it scales with the file size
    (60 s + 10 s per MiB), so only a file that makes the decoder loop is stopped.
    """
    if timeout is None:
        timeout = 60.0 + 10.0 * Path(path).stat().st_size / _MIB
    from vidsift.video.guard import time_limit
    from vidsift.video.reader import VideoReader
    from vidsift.video.shots import detect_shots

    with time_limit(timeout, path), VideoReader(path) as r:
        shots = detect_shots(r)  # decodes every frame once, which also measures the timeline
        tl = r.timeline
        notes = [r.problem] if r.problem else []
        header = int(r.info.num_frames)
        if tl.num_frames != header and not r.problem:
            notes.append(
                f"the header estimates {header} frames; {tl.num_frames} decode"
                + (f" (the last at {tl.duration:.3f} s; {header - tl.num_frames} missing after it or "
                   "never there, e.g. AVI null entries)" if tl.num_frames < header else "")
            )
        return {**r.info.to_dict(), "num_frames": tl.num_frames, "header_frames": header,
                "duration": tl.end, "shots": shots, "timeline": tl, "note": "; ".join(notes) or None}



def scan_folder(
    catalog: Catalog,
    folder: str | Path,
    progress: bool = False,
    on_file: Callable[[int, int, str], None] | None = None,
) -> ScanReport:
    """``catalog.scan(folder, inspect_video, ...)``: add new, re-probe changed, drop removed files."""
    return catalog.scan(folder, inspect_video, progress=progress, on_file=on_file)
