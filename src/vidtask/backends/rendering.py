"""The timeline renderer behind the backend contract: a `RunContext` in, a `RunResult` out.

`vidtask.render` knows nothing of backends; this is where its own context and result types
meet the contract of `vidtask.backends.base`.
"""

from __future__ import annotations

from pathlib import Path

from vidtask.backends.base import RunContext, RunResult
from vidtask.render import assets, pipeline, schema

__all__ = ["render_timeline"]


def render_timeline(
    timeline: schema.Timeline,
    ctx: RunContext,
    *,
    policy: assets.AssetPolicy,
    limits: schema.Limits,
    font_path: Path | None,
    ffmpeg_exe: str,
) -> RunResult:
    """`vidtask.render.pipeline.render_timeline` for a backend's run."""
    return pipeline.render_timeline(
        timeline,
        pipeline.RenderContext(
            task_id=ctx.task_id, workdir=ctx.workdir, reporter=ctx.reporter, cancel=ctx.cancel
        ),
        policy=policy,
        limits=limits,
        font_path=font_path,
        ffmpeg_exe=ffmpeg_exe,
    )
