"""Video reading, probing, shot boundaries and generated test videos."""

from video.info import VIDEO_EXTENSIONS, VideoInfo
from video.reader import VideoReader, available_backends, open_video, probe
from video.shots import detect_shots

__all__ = [
    "VIDEO_EXTENSIONS",
    "VideoInfo",
    "VideoReader",
    "available_backends",
    "detect_shots",
    "open_video",
    "probe",
]
