"""Probe media with PyAV (there is no ffprobe): what a source contains, and what we rendered.

A source only counts as media if a frame actually decodes; FFmpeg will happily "open" a text
file as ANSI art or a truncated file as something, and we want a clear error instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from vidtask.core import errors

__all__ = ["MediaInfo", "probe", "probe_output"]

log = logging.getLogger(__name__)

_TIMEOUT_S = 20.0
#: Demuxers that turn arbitrary bytes into "video"; never accept them as media.
_TEXT_FORMATS = frozenset({"tty", "bin", "xbin", "adf", "idf", "srt", "ass", "webvtt"})
_STILL_CODECS = frozenset({"png", "mjpeg", "webp", "bmp", "tiff", "jpegls", "jpeg2000", "qoi"})


@dataclass(frozen=True, slots=True)
class MediaInfo:
    path: Path
    #: Seconds; 0 for still images.
    duration: float
    #: Display size (after rotation); 0 without video.
    width: int
    height: int
    fps: float
    has_video: bool
    has_audio: bool
    is_image: bool
    rotation: int = 0
    #: The picture has an alpha channel (it may be transparent somewhere).
    alpha: bool = False


def _unsupported(path: Path, why: str) -> errors.UnsupportedMedia:
    return errors.UnsupportedMedia(f"{path.name}: {why}")


def _open(path: Path) -> av.container.InputContainer:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _unsupported(path, f"cannot be read ({exc.strerror})") from None
    if size == 0:
        raise _unsupported(path, "the file is empty")
    try:
        return av.open(str(path), mode="r", timeout=_TIMEOUT_S)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise _unsupported(path, f"not a media file FFmpeg can read ({exc})") from None


def _first_frame(container: av.container.InputContainer, stream: Any) -> Any:
    try:
        for frame in container.decode(stream):
            return frame
    except (av.FFmpegError, OSError) as exc:
        log.debug("decode failed for %s: %s", container.name, exc)
    return None


def probe(path: Path) -> MediaInfo:
    """Describe a source file, or raise `UnsupportedMedia` naming it."""
    with _open(path) as container:
        fmt = container.format.name
        if set(fmt.split(",")) & _TEXT_FORMATS:
            raise _unsupported(path, "not an image, video or audio file")
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise _unsupported(path, "contains no video or audio stream")
        primary = video if video is not None else audio
        frame = _first_frame(container, primary)
        if frame is None:
            raise _unsupported(path, "no frame could be decoded (corrupt or unsupported codec)")
        width = height = rotation = 0
        fps = 0.0
        is_image = alpha = False
        if video is not None:
            alpha = any(component.is_alpha for component in frame.format.components)
            width, height = frame.width, frame.height
            rotation = int(getattr(frame, "rotation", 0) or 0) % 360
            if rotation in (90, 270):
                width, height = height, width
            rate = video.average_rate or video.guessed_rate
            fps = float(rate) if rate else 0.0
            is_image = fmt.endswith("_pipe") or fmt == "image2"
            is_image = is_image and video.codec_context.name in _STILL_CODECS
        duration = 0.0 if is_image else _duration(container, video, audio)
        if not is_image and duration <= 0:
            raise _unsupported(path, "its duration is unknown or zero")
        return MediaInfo(
            path=path,
            duration=duration,
            width=width,
            height=height,
            fps=fps,
            has_video=video is not None,
            has_audio=audio is not None,
            is_image=is_image,
            rotation=rotation,
            alpha=alpha,
        )


def _stream_seconds(stream: Any) -> float:
    if stream is None or stream.duration is None or stream.time_base is None:
        return 0.0
    return float(stream.duration * stream.time_base)


def _duration(container: av.container.InputContainer, video: Any, audio: Any) -> float:
    best = max(_stream_seconds(video), _stream_seconds(audio))
    if best > 0:
        return best
    return container.duration / av.time_base if container.duration else 0.0


def probe_output(path: Path) -> dict[str, Any]:
    """Metadata of a rendered file: duration, fps, width, height, size_bytes, has_audio, seed."""
    with _open(path) as container:
        video = next(iter(container.streams.video), None)
        if video is None:
            raise errors.RenderFailed(f"{path.name}: the output has no video stream")
        rate = video.average_rate or video.guessed_rate or Fraction(0)
        fps: float | int = int(rate) if rate.denominator == 1 else round(float(rate), 3)
        duration = _stream_seconds(video)
        if duration <= 0 and container.duration:
            duration = container.duration / av.time_base
        return {
            "duration": round(duration, 3),
            "fps": fps,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "size_bytes": path.stat().st_size,
            "has_audio": bool(container.streams.audio),
            "seed": None,
        }
