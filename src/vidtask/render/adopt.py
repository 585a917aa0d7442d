"""A finished video made elsewhere (a provider's result) becomes a `RenderResult` like a local
render's: the file is probed (its metadata comes from the file, not from whoever made it) and
its cover, thumbnail, sprite sheet and preview frames are cut in one ffmpeg pass."""

from __future__ import annotations

import math
import threading
from pathlib import Path

from vidtask.core import errors
from vidtask.render import probe, stills
from vidtask.render.ffmpeg import run_ffmpeg
from vidtask.render.pipeline import RenderResult

__all__ = ["adopt_video"]

#: Preview frames cut from an adopted video.
PREVIEWS = 4


def adopt_video(
    video: Path, workdir: Path, *, ffmpeg_exe: str, cancel: threading.Event
) -> RenderResult:
    """Probe ``video`` (`UnsupportedMedia` if it is not a whole, playable video) and cut its
    stills into ``workdir``."""
    info = probe.probe(video)
    if not info.has_video or info.is_image:
        raise errors.UnsupportedMedia(f"{video.name}: not a video")
    metadata = probe.probe_output(video)
    fps = max(1, round(info.fps or 24))
    frames = max(1, math.floor(info.duration * fps))
    plan = stills.plan_stills(workdir, frames=frames, fps=fps, previews=PREVIEWS, cover_at=None)
    plan.frames_dir.mkdir(parents=True, exist_ok=True)
    chain = plan.chain("v")
    args = [
        ffmpeg_exe, "-hide_banner", "-nostdin", "-y", "-i", str(video),
        "-filter_complex", f"[0:v]fps={fps}[v];{chain}", *plan.args(),
    ]  # fmt: skip
    run_ffmpeg(args, duration_s=info.duration, on_progress=lambda _: None, cancel=cancel)
    files = plan.finish()
    return RenderResult(
        video=video,
        format=video.suffix.lstrip(".") or "mp4",
        metadata=metadata,
        cover=files.cover,
        thumbnail=files.thumbnail,
        spritesheet=files.spritesheet,
        previews=files.previews,
    )
