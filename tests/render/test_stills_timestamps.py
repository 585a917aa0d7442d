"""Regression: at 30 fps the frame JPEGs' encoder rounded adjacent selected frames (45 and 46
of a 6 s video) to one timestamp in its default 1/25 time base, and the whole render failed."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.integration.timelines import long_render
from vidtask.backends.base import RunContext
from vidtask.backends.timeline import TimelineBackend
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits
from vidtask.render.stills import plan_stills


class Quiet:
    def stage(self, name: str) -> None: ...

    def progress(self, percent: float) -> None: ...

    def preview(self, path: Path) -> None: ...


def test_adjacent_still_frames_at_30_fps_render(tmp_path: Path, asset_root: Path) -> None:
    plan = plan_stills(tmp_path, frames=180, fps=30, previews=4, cover_at=None)
    assert any(b - a == 1 for a, b in zip(plan.frames, plan.frames[1:], strict=False))
    policy = AssetPolicy(roots=(asset_root,))
    backend = TimelineBackend(policy=policy, limits=Limits(), font_path=None)
    # a still under translucent video overlays: the graph's output has no frame rate of its own
    timeline = backend.validate(long_render(6))
    workdir = tmp_path / "work"
    workdir.mkdir()
    result = backend.run(timeline, RunContext("t", 1, workdir, Quiet(), threading.Event()))
    assert result.metadata["duration"] == 6.0
    assert result.cover is not None and result.cover.read_bytes()[:2] == b"\xff\xd8"
