"""Keeping a copy of a provider's result: fetch it (through the SSRF guard, within the size and
time limits of assets, never with a provider key) and adopt it as a run's result."""

from __future__ import annotations

import threading
from pathlib import Path

import imageio_ffmpeg

from vidtask.backends.base import RunResult
from vidtask.core import errors
from vidtask.render import assets
from vidtask.render.adopt import adopt_video
from vidtask.render.assets import AssetPolicy

__all__ = ["AssetPolicy", "adopt", "fetch_result"]


def fetch_result(url: str, policy: AssetPolicy, dest: Path, cancel: threading.Event) -> Path:
    """Download ``url`` to ``dest`` (`AssetFetchFailed`, `AssetTooLarge` on failure). Only
    http(s): a provider never points vidtask at a local file."""
    if not url.lower().startswith(("http://", "https://")):
        raise errors.AssetFetchFailed(f"{url[:200]}: a result must be an http(s) URL")
    fetched = assets.fetch(url, policy, dest.parent / ".fetch", cancel)
    fetched.replace(dest)
    return dest


def adopt(video: Path, workdir: Path, cancel: threading.Event) -> RunResult:
    """Probe ``video`` and cut its stills (`UnsupportedMedia` if it is not a whole video)."""
    return adopt_video(video, workdir, ffmpeg_exe=imageio_ffmpeg.get_ffmpeg_exe(), cancel=cancel)
