"""The result files a simulator serves: a small real MP4 and the images derived from it.

The sample is made once with the FFmpeg that ``imageio_ffmpeg`` ships (2 s, 320x240, 24 fps
``testsrc`` with a 440 Hz sine on AAC) and cached in the temp directory, so every test process
after the first reuses it. ``Media.from_video`` wraps any other file (the benchmark serves a
larger one to measure mirror throughput).
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg

__all__ = ["Media", "sample_media"]

# Bump when the recipe changes, so a stale cache is never served.
_CACHE = Path(tempfile.gettempdir()) / "vidtask-simulators-media-v1"


class Media:
    """The bytes of one result: the video, its last frame (PNG), a thumbnail and a sprite sheet
    (WebP, the types OpenAI's content endpoint names). Held in memory; served from there."""

    def __init__(
        self, video: bytes, last_frame: bytes, thumbnail: bytes, spritesheet: bytes
    ) -> None:
        self.video = video
        self.last_frame = last_frame
        self.thumbnail = thumbnail
        self.spritesheet = spritesheet

    @classmethod
    def from_video(cls, path: Path, cache: Path | None = None) -> Media:
        """Wrap an existing video; the images are derived with FFmpeg into ``cache``."""
        folder = cache or Path(tempfile.mkdtemp(prefix="vidtask-sim-"))
        folder.mkdir(parents=True, exist_ok=True)
        derived = {
            "last.png": ["-sseof", "-1", "-i", str(path), "-update", "1", "-frames:v", "1"],
            "thumb.webp": ["-i", str(path), "-frames:v", "1", "-c:v", "libwebp"],
            "sprite.webp": [
                *("-i", str(path), "-vf", "fps=2,scale=80:-2,tile=4x1"),
                *("-frames:v", "1", "-c:v", "libwebp"),
            ],
        }
        for name, args in derived.items():
            _make(folder / name, args)
        return cls(
            video=path.read_bytes(),
            last_frame=(folder / "last.png").read_bytes(),
            thumbnail=(folder / "thumb.webp").read_bytes(),
            spritesheet=(folder / "sprite.webp").read_bytes(),
        )


@functools.cache
def sample_media() -> Media:
    """The default result: made on first use, then read from the cache."""
    video = _CACHE / "sample.mp4"
    _make(
        video,
        [
            *("-f", "lavfi", "-i", "testsrc=size=320x240:rate=24:duration=2"),
            *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart"),
        ],
    )
    return Media.from_video(video, _CACHE)


def _make(target: Path, args: list[str]) -> None:
    """Run FFmpeg into a temporary name and rename it, so concurrent test processes never read
    a half-written file."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{os.getpid()}.{target.name}")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [ffmpeg, "-y", "-v", "error", *args, str(partial)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    os.replace(partial, target)
