"""Write the synthetic generators' output to disk: video files in ``<label>/`` folders plus the
truth about them (``ground_truth.json``), the points file and the broken-file corpus.

The generators (``video.synthetic``) return arrays and labels; this is the one module that turns
them into files, with ``video.writer.write_video``. Every file is derived from a seed, so the same
seed gives byte-identical files on the same PyAV build (see ``video.writer``).

What is made:

* **scene videos** (:func:`make_scene_videos`): ``video.synthetic.scenes``, a camera over a
  photo with hard cuts between shots. The sub-folder is the label.
* **shape videos** (:func:`make_shape_videos`): ``video.synthetic.shapes.shape_frames``; label
  ``"<shape>-<motion>"`` (shape x motion classes for action-like discovery).
* **drift videos** (:func:`make_drift_videos`): ``video.synthetic.drift``, grey camera pans
  whose label is the direction of motion and nothing else.
* **rotating points** (:func:`save_points`): ``video.synthetic.points``, saved as ``points.npz``.
* **broken files** (:func:`make_broken_files`): inputs every reader must survive.

Notes on the broken files: ``truncated.mp4`` is cut from a ``movflags=+faststart`` file (index
first): it opens and reports its frame count, then decoding fails part-way. Cut with the index at
the end, a file simply fails to open, like the zero-byte and text files. ``tiny_1x1.mp4`` is 1x1
in yuv444p (libx264 refuses 1x1 yuv420p).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.atomic import atomic_path, atomic_write_bytes, atomic_write_json
from vidsift.errors import BadInputError
from vidsift.video.synthetic.base import check_seed, keyed_rng
from vidsift.video.synthetic.drift import drift_videos
from vidsift.video.synthetic.points import rotating_points
from vidsift.video.synthetic.scenes import SCENES, scene_frames
from vidsift.video.synthetic.shapes import MOTIONS, SHAPES, shape_frames
from vidsift.video.writer import encoder_available, write_video

__all__ = [
    "GROUND_TRUTH",
    "KINDS",
    "GeneratedVideo",
    "make",
    "make_broken_files",
    "make_drift_videos",
    "make_scene_videos",
    "make_shape_videos",
    "save_points",
]

KINDS: tuple[str, ...] = ("scenes", "shapes", "drift", "points", "broken", "all")
GROUND_TRUTH = "ground_truth.json"


@dataclass(frozen=True)
class GeneratedVideo:
    """One written video and the truth about it, so tests and benchmarks need no guessing."""

    path: Path
    label: str
    num_frames: int
    shot_starts: list[int] = field(default_factory=lambda: [0])
    fps: float = 25.0


def _video_record(v: GeneratedVideo, root: Path, **extra: Any) -> dict[str, Any]:
    rec = {
        "path": v.path.relative_to(root).as_posix(),
        "label": v.label,
        "num_frames": v.num_frames,
        "shot_starts": list(v.shot_starts),
        "fps": v.fps,
    }
    rec.update(extra)
    return rec


def make_scene_videos(
    out_dir: str | Path,
    scenes: Sequence[str] = ("astronaut", "coffee", "chelsea", "rocket"),
    videos_per_scene: int = 2,
    shots_per_video: int = 3,
    frames_per_shot: int = 20,
    size: tuple[int, int] = (64, 64),
    fps: float = 25.0,
    seed: int = 0,
    motion: bool = True,
    noise: float = 0.02,
    illumination: float = 0.15,
) -> list[GeneratedVideo]:
    """Write labelled scene videos to ``out_dir/<scene>/<scene>_<k>.mp4`` plus ground truth.

    The folder name is the label (as the catalog reads it), every shot of a video shows the same
    scene, and ``out_dir/ground_truth.json`` records each video's label and exact shot starts so
    retrieval and shot detection can be scored without hand labelling.
    """
    out_dir = Path(out_dir)
    scenes = tuple(scenes)
    bad = [s for s in scenes if s not in SCENES]
    if bad:
        raise BadInputError(f"unknown scene(s) {', '.join(bad)}; valid scenes: {', '.join(SCENES)}")
    if videos_per_scene < 1:
        raise BadInputError("videos_per_scene must be >= 1")
    check_seed(seed)
    videos: list[GeneratedVideo] = []
    for scene in scenes:
        for k in range(videos_per_scene):
            frames, starts = scene_frames(
                scene, seed=seed, index=k, shots=shots_per_video,
                frames_per_shot=frames_per_shot, size=size, motion=motion, noise=noise,
                illumination=illumination,
            )
            path = write_video(out_dir / scene / f"{scene}_{k}.mp4", frames, fps=fps)
            videos.append(GeneratedVideo(path, scene, len(frames), starts, float(fps)))
    atomic_write_json(out_dir / GROUND_TRUTH, {
        "kind": "scenes",
        "seed": seed,
        "size": list(size),
        "params": {"motion": motion, "noise": noise, "illumination": illumination},
        "videos": [_video_record(v, out_dir) for v in videos],
    })
    return videos


def make_shape_videos(
    out_dir: str | Path,
    shapes: Sequence[str] = SHAPES,
    motions: Sequence[str] = MOTIONS,
    videos_per_class: int = 1,
    frames: int = 32,
    size: tuple[int, int] = (64, 64),
    seed: int = 0,
    fps: float = 25.0,
) -> list[GeneratedVideo]:
    """Write ``out_dir/<shape>-<motion>/<shape>-<motion>_<k>.mp4`` for every shape x motion.

    Gives action-like classes whose label is known, to check that clustering finds motion and
    not only appearance; ``ground_truth.json`` records shape and motion separately (and the
    shape's centre per frame) so either factor can be scored.
    """
    out_dir = Path(out_dir)
    shapes, motions = tuple(shapes), tuple(motions)
    for s in shapes:
        if s not in SHAPES:
            raise BadInputError(f"unknown shape {s!r}; valid shapes: {', '.join(SHAPES)}")
    for m in motions:
        if m not in MOTIONS:
            raise BadInputError(f"unknown motion {m!r}; valid motions: {', '.join(MOTIONS)}")
    if videos_per_class < 1:
        raise BadInputError("videos_per_class must be >= 1")
    check_seed(seed)
    videos: list[GeneratedVideo] = []
    records: list[dict[str, Any]] = []
    for shape in shapes:
        for motion in motions:
            label = f"{shape}-{motion}"
            for k in range(videos_per_class):
                arr, info = shape_frames(shape, motion, seed=seed, index=k, frames=frames,
                                         size=size)
                path = write_video(out_dir / label / f"{label}_{k}.mp4", arr, fps=fps)
                v = GeneratedVideo(path, label, len(arr), [0], float(fps))
                videos.append(v)
                records.append(_video_record(v, out_dir, **info))
    atomic_write_json(out_dir / GROUND_TRUTH, {
        "kind": "shapes", "seed": seed, "size": list(size), "videos": records,
    })
    return videos


def make_drift_videos(
    out_dir: str | Path,
    videos_per_class: int = 8,
    frames: int = 32,
    size: tuple[int, int] = (24, 24),
    seed: int = 0,
    fps: float = 25.0,
) -> list[GeneratedVideo]:
    """Write ``out_dir/<drift>/<drift>-<k>.mp4`` for every direction of
    ``video.synthetic.drift.DRIFTS`` (up, down, sideways, up-diagonal, down-diagonal).

    Motion-only classes: every video pans over its own texture drawn from one distribution, so
    what two clips of a video share, and what tells the classes apart, is the direction of
    motion (left and right are one class; see ``drift_videos``).
    """
    if videos_per_class < 1:
        raise BadInputError("videos_per_class must be >= 1")
    check_seed(seed)
    out_dir = Path(out_dir)
    arrays, labels = drift_videos(videos_per_class, frames, size, seed=seed)
    videos: list[GeneratedVideo] = []
    records: list[dict[str, Any]] = []
    for vid, arr in arrays.items():
        path = write_video(out_dir / labels[vid] / f"{vid}.mp4", arr, fps=fps)
        v = GeneratedVideo(path, labels[vid], len(arr), [0], float(fps))
        videos.append(v)
        records.append(_video_record(v, out_dir, drift=labels[vid]))
    atomic_write_json(out_dir / GROUND_TRUTH, {
        "kind": "drift", "seed": seed, "size": list(size), "videos": records,
    })
    return videos


def save_points(
    out_dir: str | Path,
    n_points: int = 28,
    n_frames: int = 360,
    degrees_per_frame: float = 5.0,
    noise: float = 0.0,
    seed: int = 0,
) -> Path:
    """Write :func:`rotating_points` to ``out_dir/points.npz`` (X, angles and the parameters).

    Saved so training and benchmark runs read one fixed sequence instead of regenerating it.
    """
    X, angles = rotating_points(n_points, n_frames, degrees_per_frame, noise, seed)
    buf = io.BytesIO()
    np.savez(buf, X=X, angles=angles, n_points=n_points, degrees_per_frame=degrees_per_frame,
             noise=noise, seed=seed)
    target = Path(out_dir) / "points.npz"
    atomic_write_bytes(target, buf.getvalue())
    return target


def _try_write(path: Path, frames: np.ndarray, candidates: Sequence[tuple[str, str]],
               notes: list[str]) -> Path | None:
    for codec, pix_fmt in candidates:
        if not encoder_available(codec):
            continue
        try:
            return write_video(path, frames, codec=codec, pix_fmt=pix_fmt)
        except Exception as err:  # encoders fail with assorted av errors
            notes.append(f"{path.name}: {codec}/{pix_fmt} failed: {err}")
    return None


def make_broken_files(out_dir: str | Path, seed: int = 0) -> dict[str, Path]:
    """Write files that readers and the catalog must reject cleanly or handle correctly.

    Keys (only those this PyAV build could make): ``zero_bytes`` (empty), ``truncated`` (a valid
    16-frame video, index first, cut at a random 40-60% of its bytes: it opens and reports 16
    frames, then decoding fails part-way), ``text`` (a text file named .mp4), ``no_frames``
    (an mp4 with a video stream and zero frames), ``tiny`` (1x1 frames in yuv444p: libx264 will
    not take 1x1 yuv420p), ``rotated`` (64x48 with a 90 degree display matrix), ``gray``
    (monochrome H.264), ``tenbit`` (yuv420p10le H.264), ``audio_only`` (an mp4 with one
    AAC stream and no video) and ``cover_only`` (the same with a song's cover picture). What could not be made is listed in
    ``out_dir/broken.json`` under ``notes``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = keyed_rng(seed, "broken")
    base, _ = shape_frames("circle", "diagonal", seed=seed, index=0, frames=16, size=(32, 48))
    files: dict[str, Path] = {}
    notes: list[str] = []

    files["zero_bytes"] = out_dir / "zero_bytes.mp4"
    atomic_write_bytes(files["zero_bytes"], b"")

    # faststart puts the index first, so the cut file still opens and claims 16 frames but
    # decoding fails part-way (a cut file with its index at the end just fails to open)
    whole = write_video(out_dir / ".whole.mp4", base, container_options={"movflags": "+faststart"})
    data = whole.read_bytes()
    whole.unlink()
    cut = int(len(data) * rng.uniform(0.4, 0.6))
    files["truncated"] = out_dir / "truncated.mp4"
    atomic_write_bytes(files["truncated"], data[:cut])

    files["text"] = out_dir / "text.mp4"
    atomic_write_bytes(files["text"], b"This is not a video. vidsift test file.\n" * 8)

    try:
        files["no_frames"] = write_video(
            out_dir / "no_frames.mp4", np.zeros((0, 32, 32, 3), np.uint8),
            container_options={"movflags": "empty_moov"},
        )
    except Exception as err:
        notes.append(f"no_frames.mp4: {err}")

    tiny = _try_write(out_dir / "tiny_1x1.mp4", base[:, :1, :1],
                      [("libx264", "yuv444p"), ("mpeg4", "yuv420p")], notes)
    if tiny is None:
        tiny = _try_write(out_dir / "tiny_1x1.mkv", base[:, :1, :1], [("ffv1", "yuv444p")], notes)
    if tiny is not None:
        files["tiny"] = tiny

    try:
        rot_frames, _ = shape_frames("triangle", "up-down", seed=seed, frames=12, size=(48, 64))
        files["rotated"] = write_video(out_dir / "rotated.mp4", rot_frames, rotation=90)
    except Exception as err:
        notes.append(f"rotated.mp4: {err}")

    gray = base.mean(axis=3).round().astype(np.uint8)
    made = _try_write(out_dir / "gray.mp4", gray, [("libx264", "gray"), ("mpeg4", "yuv420p")],
                      notes)
    if made is not None:
        files["gray"] = made

    made = _try_write(out_dir / "tenbit.mp4", base, [("libx264", "yuv420p10le")], notes)
    if made is not None:
        files["tenbit"] = made
    else:
        notes.append("tenbit.mp4: no 10-bit encoder in this PyAV build; skipped")

    try:
        files["audio_only"] = _write_audio_only(out_dir / "audio_only.mp4")
        files["cover_only"] = _write_audio_only(out_dir / "cover_only.mp4", cover=True)
    except Exception as err:
        notes.append(f"audio_only.mp4 / cover_only.mp4: {err}")

    atomic_write_json(out_dir / "broken.json", {
        "kind": "broken", "seed": seed, "truncated_at": cut, "original_bytes": len(data),
        "original_frames": len(base),
        "files": {k: v.name for k, v in files.items()}, "notes": notes,
    })
    return files


def _write_audio_only(path: Path, seconds: float = 1.0, rate: int = 44100, cover: bool = False) -> Path:
    """An mp4 holding one AAC stream of silence and no video (a file a folder of clips can hold);
    ``cover``: with a song's cover picture (an MJPEG stream marked ``attached_pic``)."""
    import av

    with atomic_path(path) as tmp, av.open(str(tmp), "w", format="mp4") as c:
        stream = c.add_stream("aac", rate=rate)
        picture = None
        if cover:
            picture = c.add_stream("mjpeg", rate=1)
            picture.width, picture.height, picture.pix_fmt = 32, 32, "yuvj420p"
            picture.disposition = av.stream.Disposition.attached_pic
        for i in range(int(seconds * rate) // 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, i * 1024
            c.mux(stream.encode(frame))
        c.mux(stream.encode())
        if picture is not None:
            img = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 128, np.uint8), format="rgb24")
            img = img.reformat(format="yuvj420p")
            img.pts = 0
            c.mux(picture.encode(img))
            c.mux(picture.encode())
    return path


def _summary(kind: str, out_dir: Path, videos: list[GeneratedVideo]) -> dict[str, Any]:
    return {
        "kind": kind,
        "out_dir": str(out_dir),
        "videos": len(videos),
        "frames": sum(v.num_frames for v in videos),
        "labels": sorted({v.label for v in videos}),
        "ground_truth": str(out_dir / GROUND_TRUTH),
    }


def make(kind: str, out_dir: str | Path, seed: int = 0, small: bool = False) -> dict[str, Any]:
    """Generate one kind of data set (or ``"all"``, each in ``out_dir/<kind>``).

    ``small=True`` makes test-sized data (seconds on one core). Returns a JSON-ready summary
    for the CLI to print.
    """
    if kind not in KINDS:
        raise BadInputError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    out_dir = Path(out_dir)
    check_seed(seed)
    if kind == "all":
        parts = {k: make(k, out_dir / k, seed=seed, small=small) for k in KINDS if k != "all"}
        return {"kind": "all", "out_dir": str(out_dir), "parts": parts}
    if kind == "scenes":
        if small:
            videos = make_scene_videos(out_dir, scenes=("astronaut", "coffee"),
                                       videos_per_scene=2, shots_per_video=2, frames_per_shot=8,
                                       size=(32, 32), seed=seed)
        else:
            videos = make_scene_videos(out_dir, videos_per_scene=3, frames_per_shot=25,
                                       size=(96, 128), seed=seed)
        return _summary(kind, out_dir, videos)
    if kind == "shapes":
        if small:
            videos = make_shape_videos(out_dir, shapes=("circle", "square"),
                                       motions=("left-right", "static"), frames=12,
                                       size=(32, 32), seed=seed)
        else:
            videos = make_shape_videos(out_dir, videos_per_class=2, seed=seed)
        return _summary(kind, out_dir, videos)
    if kind == "drift":
        if small:
            videos = make_drift_videos(out_dir, videos_per_class=2, frames=12, size=(24, 24), seed=seed)
        else:
            videos = make_drift_videos(out_dir, seed=seed)
        return _summary(kind, out_dir, videos)
    if kind == "points":
        n_frames = 72 if small else 360
        path = save_points(out_dir, n_frames=n_frames, seed=seed)
        return {"kind": kind, "out_dir": str(out_dir), "path": str(path), "n_points": 28,
                "n_frames": n_frames, "degrees_per_frame": 5.0}
    files = make_broken_files(out_dir, seed=seed)
    notes = json.loads((out_dir / "broken.json").read_text())["notes"]
    return {"kind": kind, "out_dir": str(out_dir),
            "files": {k: str(v) for k, v in files.items()}, "notes": notes}
