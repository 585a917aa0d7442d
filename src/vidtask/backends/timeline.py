"""The ``timeline`` model: a JSON timeline of colour, image, video, text and audio clips,
rendered to MP4 with FFmpeg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import imageio_ffmpeg

from vidtask.backends.base import RunContext, RunResult
from vidtask.render import assets, fonts, pipeline, schema

__all__ = ["TimelineBackend"]


class TimelineBackend:
    name = "timeline"
    description = (
        "Compose colour, image, video, text and audio clips on layered tracks into an MP4 "
        "(H.264/AAC) with FFmpeg."
    )

    def __init__(
        self,
        *,
        policy: assets.AssetPolicy,
        limits: schema.Limits,
        font_path: Path | None = None,
        ffmpeg_exe: str | None = None,
    ) -> None:
        self.policy = policy
        self.limits = limits
        self.font_path = font_path
        self._ffmpeg_exe = ffmpeg_exe

    @property
    def ffmpeg_exe(self) -> str:
        # Resolved lazily: the API process validates but never runs ffmpeg.
        if self._ffmpeg_exe is None:
            self._ffmpeg_exe = imageio_ffmpeg.get_ffmpeg_exe()
        return self._ffmpeg_exe

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        timeline = schema.parse_timeline(data, self.limits)
        for path, clip in timeline.clips():
            asset = clip.asset
            if isinstance(asset, schema.ImageAsset | schema.VideoAsset | schema.AudioAsset):
                assets.check_source(asset.src, self.policy, param=f"{path}.asset.src")
            elif isinstance(asset, schema.TextAsset):
                fonts.choose_font(
                    asset.text,
                    family=asset.font,
                    explicit=self.font_path,
                    param=f"{path}.asset.text",
                )
        return timeline.model_dump(mode="json", exclude_none=True)

    def input_schema(self) -> dict[str, Any]:
        return schema.timeline_json_schema()

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        timeline = schema.parse_timeline(data, self.limits)
        return pipeline.render_timeline(
            timeline,
            ctx,
            policy=self.policy,
            limits=self.limits,
            font_path=self.font_path,
            ffmpeg_exe=self.ffmpeg_exe,
        )
