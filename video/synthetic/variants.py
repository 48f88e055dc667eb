"""Near-duplicate test footage: variants of generated source clips whose shared footage is known.

Near-duplicate detection (``discovery.duplicates``) must pair a clip with its re-encodes, crops,
speed changes and trims, find a segment a video repeats, and pair nothing else; on real footage
nobody knows the exact answer, here every frame of every variant records which source second it
shows. The in-memory transforms (:func:`crop_resize`, :func:`retime`, :func:`variant_frames`,
:func:`repeat_frames`) are pure; :func:`make_duplicate_variants` writes the set with
``video.writer.write_video`` in the layout and ground-truth format of ``video.synthetic.write``
(``<label>/<name>.mp4`` plus ``ground_truth.json``), and :func:`shared_footage` /
:func:`true_pairs` turn the truth into the pairs a detector should report.

Variants of a source clip (``VARIANTS``):

* ``original``: the source as generated (libx264, crf 18);
* ``reencode``: the same frames at a much lower quality with another codec (mpeg4 at q 10, or
  libx264 at crf 40 where this PyAV build has no mpeg4);
* ``crop``: the central 90% of every frame, scaled back to the full size (a zoom);
* ``fast`` / ``slow``: 2x and 0.5x speed, by dropping / repeating frames at the same fps;
* ``fps``: the same speed at 15 fps instead of 25 (frames resampled in time);
* ``trim``: the middle 60% of the clip.

Besides, :func:`make_duplicate_variants` writes ``lookalike`` clips (the same photo as a source,
filmed along another camera path: similar, but no duplicate), ``unrelated`` clips (other photos)
and a ``repeat`` clip that shows a stretch of its own footage twice with other footage between,
the one true "within one video" pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.atomic import atomic_write_json
from vidsift.errors import BadInputError
from vidsift.video.resize import resize_frames
from vidsift.video.synthetic.base import check_seed
from vidsift.video.synthetic.scenes import SCENES, scene_frames
from vidsift.video.synthetic.write import GROUND_TRUTH, GeneratedVideo
from vidsift.video.writer import encoder_available, write_video

__all__ = [
    "VARIANTS",
    "Piece",
    "crop_resize",
    "make_duplicate_variants",
    "repeat_frames",
    "retime",
    "score_pairs",
    "shared_footage",
    "true_pairs",
    "variant_frames",
]

VARIANTS: tuple[str, ...] = ("original", "reencode", "crop", "fast", "slow", "fps", "trim")
_OTHER_FPS = 15.0
_CROP_KEEP = 0.9
_TRIM = (0.2, 0.8)  # fraction of the clip kept by "trim"


@dataclass(frozen=True)
class Piece:
    """Seconds ``[start, end)`` of a video show seconds ``[source_start, source_end)`` of ``source``
    at a constant speed (``(source_end - source_start) / (end - start)``)."""

    start: float
    end: float
    source: str
    source_start: float
    source_end: float

    @property
    def speed(self) -> float:
        return (self.source_end - self.source_start) / (self.end - self.start)

    def to_video_time(self, source_time: float) -> float:
        return self.start + (source_time - self.source_start) / self.speed


def crop_resize(frames: np.ndarray, keep: float = _CROP_KEEP) -> np.ndarray:
    """The central ``keep`` fraction of each frame (both sides), scaled back to the frame size.

    >>> crop_resize(np.zeros((2, 10, 20, 3), np.uint8), 0.5).shape
    (2, 10, 20, 3)
    """
    if not 0 < keep <= 1:
        raise BadInputError(f"keep must be in (0, 1], got {keep}")
    h, w = frames.shape[1:3]
    ch, cw = max(1, round(h * keep)), max(1, round(w * keep))
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return resize_frames(np.ascontiguousarray(frames[:, y0 : y0 + ch, x0 : x0 + cw]), (h, w))


def retime(frames: np.ndarray, step: float) -> np.ndarray:
    """Frame ``k`` of the result is frame ``floor(k * step)`` of ``frames``: ``step`` 2 drops every
    other frame (2x speed at the same fps), 0.5 shows each frame twice (0.5x speed).

    >>> retime(np.arange(6)[:, None], 2.0).ravel().tolist(), retime(np.arange(3)[:, None], 0.5).ravel().tolist()
    ([0, 2, 4], [0, 0, 1, 1, 2, 2])
    """
    if not step > 0:
        raise BadInputError(f"step must be positive, got {step}")
    n = int(np.ceil(len(frames) / step - 1e-9))
    idx = np.minimum(np.floor(np.arange(n) * step + 1e-9).astype(np.int64), len(frames) - 1)
    return frames[idx]


def variant_frames(
    frames: np.ndarray, variant: str, fps: float, source: str
) -> tuple[np.ndarray, float, list[Piece]]:
    """``(frames, fps, pieces)`` of one variant of a source clip shown at ``fps``.

    ``reencode`` returns the frames unchanged: the variant is made by the encoder (see
    :func:`make_duplicate_variants`).
    """
    n = len(frames)
    dur = n / fps
    if variant in ("original", "reencode"):
        return frames, fps, [Piece(0.0, dur, source, 0.0, dur)]
    if variant == "crop":
        return crop_resize(frames), fps, [Piece(0.0, dur, source, 0.0, dur)]
    if variant in ("fast", "slow"):
        step = 2.0 if variant == "fast" else 0.5
        out = retime(frames, step)
        return out, fps, [Piece(0.0, len(out) / fps, source, 0.0, min(dur, len(out) * step / fps))]
    if variant == "fps":
        out = retime(frames, fps / _OTHER_FPS)
        return out, _OTHER_FPS, [Piece(0.0, len(out) / _OTHER_FPS, source, 0.0, dur)]
    if variant == "trim":
        a, b = round(_TRIM[0] * n), round(_TRIM[1] * n)
        return frames[a:b], fps, [Piece(0.0, (b - a) / fps, source, a / fps, b / fps)]
    raise BadInputError(f"unknown variant {variant!r}; valid variants: {', '.join(VARIANTS)}")


def repeat_frames(
    frames: np.ndarray, filler: np.ndarray, repeat: int, fps: float, source: str, filler_source: str
) -> tuple[np.ndarray, list[Piece]]:
    """``frames`` then ``filler`` then ``frames[:repeat]`` again: a video that repeats its first
    ``repeat / fps`` seconds after the rest of its footage and the filler's."""
    if not 0 < repeat <= len(frames):
        raise BadInputError(f"repeat must be 1..{len(frames)} frames, got {repeat}")
    n, f = len(frames), len(filler)
    out = np.concatenate([frames, filler, frames[:repeat]])
    pieces = [
        Piece(0.0, n / fps, source, 0.0, n / fps),
        Piece(n / fps, (n + f) / fps, filler_source, 0.0, f / fps),
        Piece((n + f) / fps, (n + f + repeat) / fps, source, 0.0, repeat / fps),
    ]
    return out, pieces


def _reencode_args() -> dict[str, Any]:
    if encoder_available("mpeg4"):
        return {"codec": "mpeg4", "crf": 60}  # fixed quantiser 10 (see video.writer)
    return {"codec": "libx264", "crf": 40}


def make_duplicate_variants(
    out_dir: str | Path,
    sources: Sequence[str] = ("astronaut", "coffee"),
    unrelated: Sequence[str] = ("chelsea", "rocket"),
    repeat: str | None = "camera",
    variants: Sequence[str] = VARIANTS,
    lookalikes: bool = True,
    seconds: float = 4.0,
    size: tuple[int, int] = (64, 64),
    fps: float = 25.0,
    seed: int = 0,
) -> list[GeneratedVideo]:
    """Write every variant of each source clip, the unrelated clips and the repeat clip.

    Files: ``out_dir/<source>/<source>-<variant>.mp4``, ``out_dir/<scene>/<scene>.mp4`` (unrelated)
    and ``out_dir/<repeat>/<repeat>-repeat.mp4``; the folder is the label. Each clip is a two-shot
    ``video.synthetic.scenes`` video of ``seconds`` seconds (the repeat clip: that, 1 s of the
    ``"moon"`` photo, then its first 60% again). ``lookalikes`` adds ``<source>-lookalike.mp4`` per
    source: another camera path over the same photo, similar-looking but no duplicate (the hard
    negatives). ``out_dir/ground_truth.json`` lists every video with
    its ``pieces`` (:class:`Piece` as dicts), which :func:`true_pairs` reads.

    Raises:
        BadInputError: an unknown scene or variant, a scene used twice, or too short a clip.
    """
    out_dir = Path(out_dir)
    check_seed(seed)
    names = [*sources, *unrelated, *([repeat] if repeat else [])]
    bad = [s for s in names if s not in SCENES]
    if bad:
        raise BadInputError(f"unknown scene(s) {', '.join(bad)}; valid scenes: {', '.join(SCENES)}")
    if len(set(names)) != len(names) or "moon" in names:
        raise BadInputError(
            "sources, unrelated clips and the repeat clip need distinct scenes (not 'moon', the filler)"
        )
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        raise BadInputError(
            f"unknown variant(s) {', '.join(bad)}; valid variants: {', '.join(VARIANTS)}"
        )
    per_shot = round(seconds * fps / 2)
    if per_shot < 4:
        raise BadInputError(
            f"clips of {seconds} s at {fps} fps are too short; give at least {8 / fps:.2f} s"
        )

    def clip(scene: str) -> np.ndarray:
        return scene_frames(scene, seed=seed, shots=2, frames_per_shot=per_shot, size=size)[0]

    videos: list[GeneratedVideo] = []
    records: list[dict[str, Any]] = []

    def write(
        label: str,
        name: str,
        frames: np.ndarray,
        rate: float,
        pieces: list[Piece],
        variant: str,
        **enc: Any,
    ) -> None:
        path = write_video(out_dir / label / f"{name}.mp4", frames, fps=rate, **enc)
        v = GeneratedVideo(path, label, len(frames), [0], float(rate))
        videos.append(v)
        rec = {
            "path": path.relative_to(out_dir).as_posix(),
            "label": label,
            "num_frames": len(frames),
            "fps": float(rate),
            "variant": variant,
            "pieces": [asdict(p) for p in pieces],
        }
        rec.update({"codec": enc["codec"], "crf": enc["crf"]} if enc else {})
        records.append(rec)

    for src in sources:
        base = clip(src)
        for variant in variants:
            frames, rate, pieces = variant_frames(base, variant, fps, src)
            enc = _reencode_args() if variant == "reencode" else {}
            write(src, f"{src}-{variant}", frames, rate, pieces, variant, **enc)
        if lookalikes:
            other = scene_frames(
                src, seed=seed, index=1, shots=2, frames_per_shot=per_shot, size=size
            )[0]
            frames, rate, pieces = variant_frames(other, "original", fps, f"{src}#1")
            write(src, f"{src}-lookalike", frames, rate, pieces, "lookalike")
    for scene in unrelated:
        frames, rate, pieces = variant_frames(clip(scene), "original", fps, scene)
        write(scene, scene, frames, rate, pieces, "unrelated")
    if repeat:
        filler = scene_frames("moon", seed=seed, shots=1, frames_per_shot=round(fps), size=size)[0]
        base = clip(repeat)
        frames, pieces = repeat_frames(base, filler, round(0.6 * len(base)), fps, repeat, "moon")
        write(repeat, f"{repeat}-repeat", frames, fps, pieces, "repeat")
    atomic_write_json(
        out_dir / GROUND_TRUTH,
        {
            "kind": "duplicates",
            "seed": seed,
            "size": list(size),
            "seconds": seconds,
            "fps": fps,
            "videos": records,
        },
    )
    return videos


def shared_footage(
    pieces_a: Sequence[Piece], pieces_b: Sequence[Piece], same_video: bool = False
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Where two videos show the same source seconds: ``[((a_start, a_end), (b_start, b_end)), ...]``
    in each video's own seconds, one entry per pair of pieces that overlap in source time.
    ``same_video``: compare a video with itself, skipping each piece against itself."""
    out = []
    for ia, pa in enumerate(pieces_a):
        for ib, pb in enumerate(pieces_b):
            if pa.source != pb.source or (same_video and ib <= ia):
                continue
            lo, hi = max(pa.source_start, pb.source_start), min(pa.source_end, pb.source_end)
            if hi <= lo:
                continue
            out.append(
                (
                    (pa.to_video_time(lo), pa.to_video_time(hi)),
                    (pb.to_video_time(lo), pb.to_video_time(hi)),
                )
            )
    return out


def true_pairs(
    truth: dict[str, Any], min_seconds: float, max_speed: float | None = None
) -> dict[tuple[str, str], list[tuple[tuple[float, float], tuple[float, float]]]]:
    """The pairs a detector should find in a ``ground_truth.json`` of :func:`make_duplicate_variants`.

    Keys are ``(path_a, path_b)`` (relative paths as in the truth, ``path_a <= path_b``; equal for
    a repeat within one video); values the shared ranges whose longer side lasts ``min_seconds``
    or more (the rule ``discovery.duplicates`` reports by). ``max_speed``: leave out shared
    ranges whose speeds differ by more than this factor (``fast`` vs ``slow`` is 4x).
    """
    recs = sorted(truth["videos"], key=lambda r: r["path"])
    pieces = {r["path"]: [Piece(**p) for p in r["pieces"]] for r in recs}
    out: dict[tuple[str, str], list[tuple[tuple[float, float], tuple[float, float]]]] = {}
    for i, ra in enumerate(recs):
        for rb in recs[i:]:
            a, b = ra["path"], rb["path"]
            shared = [
                (x, y)
                for x, y in shared_footage(pieces[a], pieces[b], same_video=a == b)
                if max(x[1] - x[0], y[1] - y[0]) >= min_seconds - 1e-9
                and (
                    max_speed is None
                    or max(x[1] - x[0], y[1] - y[0])
                    <= max_speed * min(x[1] - x[0], y[1] - y[0]) + 1e-9
                )
            ]
            if shared:
                out[(a, b)] = shared
    return out


def _overlaps(x: tuple[float, float], lo: float, hi: float) -> bool:
    return min(x[1], hi) > max(x[0], lo)


def score_pairs(
    pairs: Iterable[dict[str, Any]],
    truth: dict[str, Any],
    root: str | Path,
    min_seconds: float,
    max_speed: float | None = None,
) -> dict[str, Any]:
    """Precision and recall of reported pairs against the truth of :func:`make_duplicate_variants`.

    ``pairs`` are dicts in the JSON shape of ``vidsift duplicates --json`` (``a`` and ``b`` with
    ``path``, ``start``, ``end``); paths are taken relative to ``root``, the folder the set was
    written to. A reported pair is correct when its two videos share footage by the truth and its
    two ranges overlap the shared ranges of one such pair of pieces; recall counts the true pairs
    of videos (:func:`true_pairs`, with ``max_speed``) that got at least one correct report. A
    correct report of a pair left out by ``max_speed`` still counts as correct.

    Returns:
        ``{"predicted", "correct", "true", "found", "precision", "recall", "false": [...],
        "missed": [...]}`` (``false`` and ``missed`` name pairs as ``"a.mp4 ~ b.mp4"``).
    """
    root = Path(root).resolve()
    expected = true_pairs(truth, min_seconds, max_speed)
    shared = true_pairs(truth, min_seconds)

    def rel(path: str) -> str:
        try:
            return Path(path).resolve().relative_to(root).as_posix()
        except ValueError:
            return str(path)

    found: set[tuple[str, str]] = set()
    false: list[str] = []
    predicted = correct = 0
    for p in pairs:
        predicted += 1
        a, b = rel(p["a"]["path"]), rel(p["b"]["path"])
        ra, rb = (p["a"]["start"], p["a"]["end"]), (p["b"]["start"], p["b"]["end"])
        key, (r1, r2) = ((a, b), (ra, rb)) if a <= b else ((b, a), (rb, ra))
        ok = any(
            (_overlaps(r1, *x) and _overlaps(r2, *y))
            or (a == b and _overlaps(r1, *y) and _overlaps(r2, *x))
            for x, y in shared.get(key, [])
        )
        if ok:
            correct += 1
            if key in expected:
                found.add(key)
        else:
            false.append(
                f"{Path(a).name} {ra[0]:.2f}-{ra[1]:.2f} ~ {Path(b).name} {rb[0]:.2f}-{rb[1]:.2f}"
            )
    missed = [f"{Path(a).name} ~ {Path(b).name}" for a, b in sorted(set(expected) - found)]
    return {
        "predicted": predicted,
        "correct": correct,
        "true": len(expected),
        "found": len(found),
        "precision": correct / predicted if predicted else 1.0,
        "recall": len(found) / len(expected) if expected else 1.0,
        "false": false,
        "missed": missed,
    }
