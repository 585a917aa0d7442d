"""Probe media with PyAV (there is no ffprobe): what a source contains, and what we rendered.

A source only counts as media if a frame actually decodes; FFmpeg will happily "open" a text
file as ANSI art or a truncated file as something, and we want a clear error instead. For the
same reason a picture over `MAX_PIXELS` (a decompression bomb) is refused from its header, and
an MP4 whose data ends before the duration its index declares (a cut download) is refused.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av
import av.container
from PIL import Image

from vidtask.core import errors

__all__ = ["MAX_PIXELS", "MediaInfo", "image_size", "probe", "probe_output", "too_many_pixels"]

log = logging.getLogger(__name__)

_TIMEOUT_S = 20.0
#: Demuxers that turn arbitrary bytes into "video"; never accept them as media.
_TEXT_FORMATS = frozenset({"tty", "bin", "xbin", "adf", "idf", "srt", "ass", "webvtt"})
#: Containers whose index gives exact durations (so data that ends early means a cut file).
_INDEXED_FORMATS = frozenset({"mov", "mp4", "m4a", "3gp", "3g2", "mj2"})
_STILL_CODECS = frozenset({"png", "mjpeg", "webp", "bmp", "tiff", "jpegls", "jpeg2000", "qoi"})
#: The most pixels (width × height) a picture may have: Pillow's decompression-bomb limit
#: (``PIL.Image.MAX_IMAGE_PIXELS``), so uploaded images and timeline sources agree. Decoding a
#: 50000×50000 PNG of a few bytes would take gigabytes.
MAX_PIXELS = 89_478_485


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
        if path.stat().st_size == 0:
            raise _unsupported(path, "the file is empty")
        with path.open("rb") as fp:  # before FFmpeg, which decodes a frame while opening
            _refuse_huge(path, *(image_size(fp) or (0, 0)))
    except OSError as exc:
        raise _unsupported(path, f"cannot be read ({exc.strerror})") from None
    try:
        return av.open(str(path), mode="r", timeout=_TIMEOUT_S)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise _unsupported(path, f"not a media file FFmpeg can read ({exc})") from None


def image_size(fp: IO[bytes]) -> tuple[int, int] | None:
    """The size an image declares in its header, read by Pillow's format plugins without
    decoding anything, or None if no plugin recognises it. (``PIL.Image.open`` refuses a
    decompression bomb without saying how large it is.)"""
    Image.init()
    prefix = fp.read(16)
    for factory, accept in Image.OPEN.values():
        try:
            if accept is None or accept(prefix) is not True:
                continue
            fp.seek(0)
            with factory(fp, "") as image:
                return image.size
        except (OSError, SyntaxError, ValueError, IndexError, TypeError, EOFError, struct.error):
            continue
    return None


def too_many_pixels(width: int, height: int, kind: str = "image") -> str | None:
    """Why a picture this large is refused, or None."""
    if width * height <= MAX_PIXELS:
        return None
    return f"the {kind} is {width}×{height} pixels, over the limit of {MAX_PIXELS}"


def _refuse_huge(path: Path, width: int, height: int, kind: str = "image") -> None:
    why = too_many_pixels(width, height, kind)
    if why is not None:
        raise _unsupported(path, why)


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
        if video is not None:
            context = video.codec_context
            _refuse_huge(path, context.width, context.height, "video")
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
        if not is_image and set(fmt.split(",")) & _INDEXED_FORMATS:
            _check_complete(path, container, [s for s in (video, audio) if s is not None])
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


def _check_complete(path: Path, container: av.container.InputContainer, streams: list[Any]) -> None:
    """Refuse a file whose data ends well before the duration its index declares (a download
    or copy cut short): FFmpeg would render the clip short, or the render fail much later."""
    for stream in streams:
        end = _stream_seconds(stream)
        have = _data_end(container, stream, end)
        if end > 0 and have < end - max(0.5, 0.02 * end):
            ends = f"at {have:.2f} s" if have > 0 else f"before {max(0.0, end - 0.5):.2f} s"
            raise _unsupported(
                path,
                f"the {stream.type} is truncated or corrupt (it declares {end:.2f} s, but its "
                f"data ends {ends})",
            )


def _data_end(container: av.container.InputContainer, stream: Any, end: float) -> float:
    """Seconds into ``stream`` where its last packet ends. Only the packets after the last
    keyframe before ``end`` are read, and none is decoded, so this costs milliseconds."""
    if end <= 0:
        return 0.0
    start, unit, reached = stream.start_time or 0, stream.time_base, 0.0
    try:
        container.seek(start + int(max(0.0, end - 0.5) / unit), stream=stream, backward=True)
        for packet in container.demux(stream):
            if packet.pts is not None:
                ticks = packet.pts + (packet.duration or 0) - start
                reached = max(reached, float(ticks * unit))
    except av.FFmpegError as exc:  # a cut packet: what was read before it counts
        log.debug("reading %s to its end failed: %s", container.name, exc)
    return reached


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
