"""Artifacts made from a finished video the first time someone fetches them, then kept next to
it: ``<task>/<attempt>/last_frame.png``, the video's last frame (Ark's ``last_frame_url``).

Any dialect can link to one (`TaskService.links` signs the URL for every completed task); only
the tasks whose clients follow the link pay for the decode.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import av

from vidtask.core import errors
from vidtask.service import LAST_FRAME
from vidtask.storage.local import LocalArtifacts

__all__ = ["is_derived", "last_frame_png", "materialize"]

#: Decode only this final stretch of the video (keyframes are at most a few seconds apart).
_TAIL_S = 5.0


def is_derived(name: str) -> bool:
    """``<attempt>/last_frame.png``."""
    attempt, _, file = name.partition("/")
    return attempt.isdigit() and file == LAST_FRAME


def materialize(artifacts: LocalArtifacts, task_id: str, name: str) -> Path | None:
    """The derived file ``name``, made now if it does not exist yet; None without a video."""
    existing = artifacts.path(task_id, name)
    if existing is not None or not is_derived(name):
        return existing
    attempt = name.partition("/")[0]
    videos = [
        path
        for path in sorted((artifacts.root / task_id / attempt).glob("video.*"))
        if artifacts.path(task_id, f"{attempt}/{path.name}") is not None
    ]
    if not videos:
        return None
    dest = videos[0].with_name(LAST_FRAME)
    part = dest.with_name(f".{secrets.token_hex(8)}.png.part")
    try:
        last_frame_png(videos[0], part)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return dest


def last_frame_png(video: Path, dest: Path) -> None:
    """Write the last decodable frame of ``video`` to ``dest`` as a PNG."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        duration = float(container.duration or 0) / av.time_base
        time_base = stream.time_base
        if duration > _TAIL_S and time_base is not None:
            container.seek(int((duration - _TAIL_S) / time_base), stream=stream, backward=True)
        last = None
        for frame in container.decode(stream):
            last = frame
        if last is None:
            raise errors.RenderFailed(f"{video.name} has no decodable frame")
        image = last.to_image()  # type: ignore[no-untyped-call]
        image.save(dest, format="PNG")
