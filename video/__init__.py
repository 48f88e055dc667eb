"""Video reading, probing, shot boundaries and generated test videos."""

from vidsift.video.info import VIDEO_EXTENSIONS, VideoInfo
from vidsift.video.reader import VideoReader, available_backends, open_video, probe
from vidsift.video.shots import detect_shots

__all__ = [
    "VIDEO_EXTENSIONS",
    "VideoInfo",
    "VideoReader",
    "available_backends",
    "detect_shots",
    "open_video",
    "probe",
]
