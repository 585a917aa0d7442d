"""Render a parsed timeline in a worker: fetch and probe, render with ffmpeg, save stills.

Stages and progress: ``fetching`` 0-10, ``rendering`` 10-90, ``saving`` 90-100.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from vidtask.backends.base import Reporter, RunContext, RunResult
from vidtask.core import errors
from vidtask.render import assets, compiler, fonts, probe, schema, stills, text
from vidtask.render.ffmpeg import run_ffmpeg
from vidtask.render.probe import MediaInfo

__all__ = ["render_timeline"]

log = logging.getLogger(__name__)


class _Progress:
    """Forwards progress to the reporter, never going backwards."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.last = -1.0

    def __call__(self, percent: float) -> None:
        percent = round(min(100.0, max(0.0, percent)), 1)
        if percent > self.last:
            self.last = percent
            self.reporter.progress(percent)


class _PreviewPublisher:
    """Hands each preview JPEG to the reporter once ffmpeg has renamed it into place."""

    def __init__(self, plan: stills.StillPlan, reporter: Reporter) -> None:
        self.plan = plan
        self.reporter = reporter
        self.published = 0

    def __call__(self) -> None:
        ready = self.plan.ready_previews()
        for path in ready[self.published :]:
            self.reporter.preview(path)
        self.published = max(self.published, len(ready))


def _check(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise errors.Cancelled()


def _require(path: str, asset: schema.Asset, info: MediaInfo) -> None:
    name = info.path.name
    if isinstance(asset, schema.ImageAsset) and not info.has_video:
        raise errors.UnsupportedMedia(f"{path}.asset.src: {name} has no image")
    if isinstance(asset, schema.VideoAsset):
        if not info.has_video:
            raise errors.UnsupportedMedia(f"{path}.asset.src: {name} has no video stream")
        if info.is_image:
            raise errors.UnsupportedMedia(
                f"{path}.asset.src: {name} is a still image; use an image asset"
            )
    if isinstance(asset, schema.AudioAsset) and not info.has_audio:
        raise errors.UnsupportedMedia(f"{path}.asset.src: {name} has no audio stream")


def _fetch_all(
    timeline: schema.Timeline, ctx: RunContext, policy: assets.AssetPolicy, report: _Progress
) -> dict[str, MediaInfo]:
    sources = list(
        dict.fromkeys(
            clip.asset.src
            for _, clip in timeline.clips()
            if isinstance(clip.asset, schema.ImageAsset | schema.VideoAsset | schema.AudioAsset)
        )
    )
    media: dict[str, MediaInfo] = {}
    for n, src in enumerate(sources, start=1):
        _check(ctx.cancel)
        local = assets.fetch(src, policy, ctx.workdir / "assets", ctx.cancel)
        media[src] = probe.probe(local)
        report(10.0 * n / len(sources))
    for path, clip in timeline.clips():
        if isinstance(clip.asset, schema.ImageAsset | schema.VideoAsset | schema.AudioAsset):
            _require(path, clip.asset, media[clip.asset.src])
    return media


def _draw_texts(
    timeline: schema.Timeline, workdir: Path, font_path: Path | None
) -> dict[str, text.RenderedText]:
    drawn: dict[str, text.RenderedText] = {}
    for n, (path, clip) in enumerate(timeline.clips()):
        if isinstance(clip.asset, schema.TextAsset):
            face = fonts.choose_font(
                clip.asset.text,
                family=clip.asset.font,
                explicit=font_path,
                param=f"{path}.asset.text",
            )
            drawn[path] = text.render_text(
                clip.asset,
                face=face,
                frame_width=timeline.output.width,
                scale=clip.scale,
                dest=workdir / "text" / f"text_{n}.png",
            )
    return drawn


def render_timeline(
    timeline: schema.Timeline,
    ctx: RunContext,
    *,
    policy: assets.AssetPolicy,
    limits: schema.Limits,
    font_path: Path | None,
    ffmpeg_exe: str,
) -> RunResult:
    """Render ``timeline`` into ``ctx.workdir`` and describe the result."""
    report = _Progress(ctx.reporter)
    ctx.reporter.stage("fetching")
    report(0.0)
    media = _fetch_all(timeline, ctx, policy, report)
    _check(ctx.cancel)
    texts = _draw_texts(timeline, ctx.workdir, font_path)
    video = ctx.workdir / "video.mp4"
    command = compiler.compile_timeline(
        timeline,
        media=media,
        texts=texts,
        output=video,
        ffmpeg_exe=ffmpeg_exe,
        max_duration_s=limits.max_duration_s,
    )
    _check(ctx.cancel)

    ctx.reporter.stage("rendering")
    plan = command.stills
    assert plan is not None
    plan.frames_dir.mkdir(parents=True, exist_ok=True)
    publish = _PreviewPublisher(plan, ctx.reporter)

    def on_progress(percent: float) -> None:
        report(10.0 + 0.8 * percent)
        publish()

    run_ffmpeg(
        command.args, duration_s=command.duration, on_progress=on_progress, cancel=ctx.cancel
    )
    _check(ctx.cancel)
    publish()

    ctx.reporter.stage("saving")
    report(90.0)
    metadata = probe.probe_output(video)
    files = plan.finish()
    publish()
    report(100.0)
    log.info("task %s rendered %.2f s of video", ctx.task_id, metadata["duration"])
    return RunResult(
        video=video,
        format="mp4",
        metadata=metadata,
        cover=files.cover,
        thumbnail=files.thumbnail,
        spritesheet=files.spritesheet,
        previews=files.previews,
        warnings=command.warnings,
    )
