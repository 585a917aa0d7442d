"""Artifacts made from a finished video the first time someone fetches them, then kept next to
it: ``<task>/<attempt>/last_frame.png``, the video's last frame (Ark's ``last_frame_url``).

Any dialect can link to one (`TaskService.links` signs the URL for every completed task); only
the tasks whose clients follow the link pay for the decode. A video on this machine is decoded
in place and the frame written beside it; one in another store is downloaded to a temporary
folder first and the frame saved back through the store.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import av

from vidtask.core import errors
from vidtask.storage.base import ArtifactStore

__all__ = ["LAST_FRAME", "is_derived", "last_frame_png", "materialize"]

#: The file name of a video's last frame, made on first fetch next to the video.
LAST_FRAME = "last_frame.png"

#: Decode only this final stretch of the video (keyframes are at most a few seconds apart).
_TAIL_S = 5.0


def is_derived(name: str) -> bool:
    """``<attempt>/last_frame.png``."""
    attempt, _, file = name.partition("/")
    return attempt.isdigit() and file == LAST_FRAME


def materialize(artifacts: ArtifactStore, task_id: str, name: str) -> bool:
    """Make the derived file ``name`` if it does not exist yet; whether it exists now (False
    for a name that is not derived, or an attempt without a video)."""
    if artifacts.stat(task_id, name) is not None:
        return True
    if not is_derived(name):
        return False
    attempt = name.partition("/")[0]
    if not attempt.isascii() or str(int(attempt)) != attempt:  # "01", "²": no attempt's name
        return False
    videos = [
        video
        for video in artifacts.names(task_id, int(attempt))
        if video.partition("/")[2].startswith("video.")
    ]
    if not videos:
        return False
    local = artifacts.local_path(task_id, videos[0])
    if local is not None:
        _write_beside(local)
    else:
        _write_through(artifacts, task_id, int(attempt), videos[0])
    return True


def _write_beside(video: Path) -> None:
    """The last frame of a local video, next to it; a rename makes it appear whole."""
    dest = video.with_name(LAST_FRAME)
    part = dest.with_name(f".{secrets.token_hex(8)}.png.part")
    try:
        last_frame_png(video, part)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def _write_through(artifacts: ArtifactStore, task_id: str, attempt: int, video: str) -> None:
    """The last frame of a video in a store that is not local, saved back into it."""
    with tempfile.TemporaryDirectory(prefix="vidtask-frame-") as scratch:
        copy = Path(scratch) / video.partition("/")[2]
        with copy.open("wb") as out:
            for chunk in artifacts.read_range(task_id, video):
                out.write(chunk)
        frame = Path(scratch) / LAST_FRAME
        last_frame_png(copy, frame)
        artifacts.save(task_id, attempt, [frame])


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
