"""Cover and preview JPEGs taken from the rendered video with PyAV (seek, then decode)."""

from __future__ import annotations

from pathlib import Path

import av

from vidtask.core import errors

__all__ = ["grab_frames", "preview_times"]

_QUALITY = 85


def preview_times(duration: float, count: int) -> list[float]:
    """``count`` evenly spaced times strictly inside the video."""
    return [duration * (i + 1) / (count + 1) for i in range(count)]


def grab_frames(video: Path, shots: list[tuple[float, Path]]) -> None:
    """Save the frame shown at each time as a JPEG; times past the end give the last frame."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base
        assert time_base is not None
        for at, dest in sorted(shots):
            container.seek(int(max(0.0, at) / time_base), stream=stream, backward=True)
            chosen = None
            for frame in container.decode(stream):
                if chosen is not None and frame.time is not None and frame.time > at:
                    break
                chosen = frame
            if chosen is None:
                raise errors.RenderFailed(f"cannot decode a frame at {at:.2f} s of {video.name}")
            image = chosen.to_image()  # type: ignore[no-untyped-call]
            image.save(dest, format="JPEG", quality=_QUALITY)
