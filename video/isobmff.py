"""Why an MP4 / MOV file that FFmpeg refuses cannot be read, from its top-level boxes.

FFmpeg says only "Invalid data found when processing input" for the commonest broken MP4: a
recording or copy cut short before its index, the ``moov`` box, was written (cameras and phones
write it last). Walking the top-level boxes (size + type headers, nothing decoded) tells that
case apart, so the message can say what happened.
"""

from __future__ import annotations

import os
from pathlib import Path

#: top-level boxes read at most (a real file has a handful; junk stops the walk sooner)
MAX_BOXES = 10_000


def missing_index_reason(path: str | Path) -> str | None:
    """A sentence for an ISO base media file (``ftyp`` first) without a ``moov`` box; None
    when the file is something else, has its index, or cannot be read."""
    try:
        size = os.path.getsize(path)
        types: list[bytes] = []
        cut_in: bytes | None = None
        with open(path, "rb") as f:
            pos = 0
            while pos + 8 <= size and len(types) < MAX_BOXES:
                f.seek(pos)
                head = f.read(16)
                n, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if n == 1 and len(head) == 16:  # 64-bit size
                    n = int.from_bytes(head[8:16], "big")
                elif n == 0:  # the box runs to the end of the file
                    n = size - pos
                if n < 8 or not kind.isascii():
                    return None  # not a box: leave the decoder's words
                types.append(kind)
                if pos + n > size:
                    cut_in = kind
                    break
                pos += n
    except OSError:
        return None
    if not types or types[0] != b"ftyp" or b"moov" in types:
        return None
    if cut_in is not None:
        return (f"the file ends inside its '{cut_in.decode()}' box, before its index (the 'moov' box) "
                "was written: a recording or copy cut short")
    return "it has no index (no 'moov' box): a recording or copy cut short, or not a finished file"
