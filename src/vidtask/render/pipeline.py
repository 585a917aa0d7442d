"""Render a parsed timeline in a worker: fetch and probe, render with ffmpeg, save stills.

Stages and progress: ``fetching`` 0-10, ``rendering`` 10-90, ``saving`` 90-100. Preview frames
are handed to the reporter while ffmpeg is still running.

The renderer declares what it takes (`RenderContext`, `RenderReporter`) and what it hands back
(`RenderResult`) itself: the backends import the renderer and adapt these to their own
contract (`vidtask.backends.base`), never the other way round.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vidtask.core import errors
from vidtask.render import assets, captions, compiler, fonts, layout, probe, schema, stills, text
from vidtask.render.ffmpeg import run_ffmpeg
from vidtask.render.probe import MediaInfo

__all__ = ["RenderContext", "RenderReporter", "RenderResult", "render_timeline"]

log = logging.getLogger(__name__)

_MEDIA = schema.ImageAsset | schema.VideoAsset | schema.AudioAsset
#: Subtitle files are small; anything bigger is not an SRT file.
_MAX_SRT_BYTES = 5 * 1024 * 1024


class RenderReporter(Protocol):
    """Receives the render's stage, progress (0-100, never decreasing) and preview frames.
    `vidtask.backends.base.Reporter` is one."""

    def stage(self, name: str) -> None: ...

    def progress(self, percent: float) -> None: ...

    def preview(self, path: Path) -> None:
        """A finished preview frame (a JPEG in the workdir), handed over while the render goes
        on; it stays where it is and is listed again in `RenderResult.previews`."""
        ...


@dataclass(frozen=True, slots=True)
class RenderContext:
    #: Names the render in log lines.
    task_id: str
    #: An empty scratch directory; the video, stills and fetched assets are written into it.
    workdir: Path
    reporter: RenderReporter
    #: Set to stop the render: it raises `Cancelled` promptly.
    cancel: threading.Event


@dataclass(frozen=True, slots=True)
class RenderResult:
    #: The rendered video, inside the workdir.
    video: Path
    format: str
    #: Probed from the output file: duration, fps, width, height, seed, size_bytes, has_audio.
    metadata: dict[str, Any]
    cover: Path | None = None
    #: A small JPEG of the cover frame (about 320 px wide).
    thumbnail: Path | None = None
    #: One JPEG holding a grid of frames sampled across the video.
    spritesheet: Path | None = None
    #: Every preview frame in time order, including those already given to the reporter.
    previews: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Progress:
    """Forwards progress to the reporter, never going backwards."""

    def __init__(self, reporter: RenderReporter) -> None:
        self.reporter = reporter
        self.last = -1.0

    def __call__(self, percent: float) -> None:
        percent = round(min(100.0, max(0.0, percent)), 1)
        if percent > self.last:
            self.last = percent
            self.reporter.progress(percent)


class _PreviewPublisher:
    """Hands each preview JPEG to the reporter once ffmpeg has renamed it into place."""

    def __init__(self, plan: stills.StillPlan, reporter: RenderReporter) -> None:
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


def _read_srt(path: str, local: Path) -> str:
    if local.stat().st_size > _MAX_SRT_BYTES:
        raise errors.UnsupportedMedia(f"{path}.asset.src: larger than an SRT file can be")
    try:
        return local.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.UnsupportedMedia(
            f"{path}.asset.src: {local.name} is not UTF-8 text (SRT files must be UTF-8)"
        ) from None


def _fetch_all(
    timeline: schema.Timeline, ctx: RenderContext, policy: assets.AssetPolicy, report: _Progress
) -> tuple[dict[str, MediaInfo], dict[str, str]]:
    """Probed media by src, and the text of every subtitle file by clip path."""
    wanted = [
        clip.asset.src
        for _, clip in timeline.clips()
        if isinstance(clip.asset, _MEDIA | schema.CaptionsAsset) and clip.asset.src is not None
    ]
    sources = list(dict.fromkeys(wanted))
    local: dict[str, Path] = {}
    for n, src in enumerate(sources, start=1):
        _check(ctx.cancel)
        local[src] = assets.fetch(src, policy, ctx.workdir / "assets", ctx.cancel)
        report(10.0 * n / len(sources))
    media: dict[str, MediaInfo] = {}
    subtitles: dict[str, str] = {}
    for path, clip in timeline.clips():
        asset = clip.asset
        if isinstance(asset, _MEDIA):
            if asset.src not in media:
                try:
                    media[asset.src] = probe.probe(local[asset.src])
                except errors.UnsupportedMedia as exc:  # name the clip, as validation does
                    raise errors.UnsupportedMedia(f"{path}.asset.src: {exc.message}") from exc
            _require(path, asset, media[asset.src])
        elif isinstance(asset, schema.CaptionsAsset):
            srt = asset.srt if asset.src is None else _read_srt(path, local[asset.src])
            assert srt is not None
            subtitles[path] = srt
    return media, subtitles


def _entries(timeline: schema.Timeline, subtitles: dict[str, str]) -> list[compiler.Entry]:
    """The clips to render, with each captions clip replaced by one text clip per cue."""
    out = compiler.entries(timeline)
    for t, track in enumerate(timeline.tracks):
        for c, clip in enumerate(track.clips):
            path, asset = f"tracks[{t}].clips[{c}]", clip.asset
            if path in subtitles and isinstance(asset, schema.CaptionsAsset):
                param = f"{path}.asset.src" if asset.src else f"{path}.asset.srt"
                cues = captions.parse_srt(subtitles[path], param=param)
                out += [
                    compiler.Entry(f"{path}.cues[{n}]", t, cue_clip, exclusive=False)
                    for n, cue_clip in enumerate(captions.expand(clip, cues))
                ]
    return out


def _draw_texts(
    timeline: schema.Timeline,
    entries: list[compiler.Entry],
    workdir: Path,
    font_path: Path | None,
    scale: float,
) -> dict[str, text.RenderedText]:
    drawn: dict[str, text.RenderedText] = {}
    canvas = (round(timeline.output.width * scale), round(timeline.output.height * scale))
    for n, entry in enumerate(entries):
        asset = entry.clip.asset
        if not isinstance(asset, schema.TextAsset):
            continue
        param = f"{entry.path}.asset.text"
        face = fonts.choose_font(asset.text, family=asset.font, explicit=font_path, param=param)
        drawn[entry.path] = text.render_text(
            asset,
            face=face,
            bold_face=fonts.bold_face(asset.text, asset.font) if asset.bold else None,
            frame_width=layout.region(entry.clip, canvas)[2],
            scale=entry.clip.scale * scale,
            dest=workdir / "text" / f"text_{n}.png",
        )
    return drawn


def render_timeline(
    timeline: schema.Timeline,
    ctx: RenderContext,
    *,
    policy: assets.AssetPolicy,
    limits: schema.Limits,
    font_path: Path | None,
    ffmpeg_exe: str,
) -> RenderResult:
    """Render ``timeline`` into ``ctx.workdir`` and describe the result."""
    report = _Progress(ctx.reporter)
    ctx.reporter.stage("fetching")
    report(0.0)
    media, subtitles = _fetch_all(timeline, ctx, policy, report)
    _check(ctx.cancel)
    entries = _entries(timeline, subtitles)
    scale = compiler.output_encoding(timeline.output).scale
    texts = _draw_texts(timeline, entries, ctx.workdir, font_path, scale)
    command = compiler.compile_timeline(
        timeline,
        media=media,
        texts=texts,
        clips=entries,
        workdir=ctx.workdir,
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
    metadata = probe.probe_output(command.output)
    files = plan.finish()
    publish()
    report(100.0)
    log.info("task %s rendered %.2f s of video", ctx.task_id, metadata["duration"])
    return RenderResult(
        video=command.output,
        format=command.encoding.format,
        metadata=metadata,
        cover=files.cover,
        thumbnail=files.thumbnail,
        spritesheet=files.spritesheet,
        previews=files.previews,
        warnings=command.warnings,
    )
