"""Small helpers for render tests: run a timeline through the real backend, look at frames."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import av
import numpy as np

from vidtask.backends.base import RunContext, RunResult
from vidtask.backends.timeline import TimelineBackend

__all__ = ["clip", "frames_at", "mean_rgb", "render", "timeline"]


class _Quiet:
    def stage(self, name: str) -> None:
        pass

    def progress(self, percent: float) -> None:
        pass

    def preview(self, path: Path) -> None:
        pass


def clip(asset: dict[str, Any], start: float, length: float | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"asset": asset, "start": start, **extra}
    if length is not None:
        out["length"] = length
    return out


def timeline(*tracks: list[dict[str, Any]], **output: Any) -> dict[str, Any]:
    settings = {"width": 160, "height": 90, "fps": 10, **output}
    return {"output": settings, "tracks": [{"clips": clips} for clips in tracks]}


def render(backend: TimelineBackend, data: dict[str, Any], workdir: Path) -> RunResult:
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = RunContext("t", 1, workdir, _Quiet(), threading.Event())
    return backend.run(backend.validate(data), ctx)


def frames_at(video: Path, times: list[float], fps: int) -> dict[float, Any]:
    """RGB arrays (height x width x 3) of the frames shown at each time."""
    wanted = {round(t * fps): t for t in times}
    found: dict[float, Any] = {}
    with av.open(str(video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found[wanted[index]] = frame.to_ndarray(format="rgb24")
    missing = set(times) - set(found)
    assert not missing, f"no frames at {sorted(missing)}"
    return found


def mean_rgb(frame: Any, box: tuple[int, int, int, int] | None = None) -> tuple[int, int, int]:
    """Mean colour of ``box`` (left, top, right, bottom), or of the whole frame."""
    if box is not None:
        left, top, right, bottom = box
        frame = frame[top:bottom, left:right]
    r, g, b = np.asarray(frame, dtype=float).reshape(-1, 3).mean(axis=0)
    return round(r), round(g), round(b)
