"""The ``timeline`` model: a JSON timeline of colour, image, video, text and audio clips,
rendered to MP4 with FFmpeg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import imageio_ffmpeg

from vidtask.backends import rendering
from vidtask.backends.base import RunContext, RunResult
from vidtask.render import assets, captions, fonts, schema

__all__ = ["TimelineBackend"]


class TimelineBackend:
    name = "timeline"
    description = (
        "Compose colour, image, video, text, caption and audio clips on layered tracks, with "
        "transitions, motion and mixed audio, into MP4 (H.264/AAC), WebM (VP9/Opus) or GIF "
        "with FFmpeg."
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
                self._check_font(asset.text, asset.font, f"{path}.asset.text")
            elif isinstance(asset, schema.CaptionsAsset):
                if asset.src is not None:
                    assets.check_source(asset.src, self.policy, param=f"{path}.asset.src")
                else:
                    assert asset.srt is not None
                    cues = captions.parse_srt(asset.srt, param=f"{path}.asset.srt")
                    text = "".join(cue.text for cue in cues)
                    self._check_font(text, asset.font, f"{path}.asset.srt")
        return timeline.model_dump(mode="json", exclude_none=True, by_alias=True)

    def _check_font(self, text: str, family: fonts.Family, param: str) -> None:
        fonts.choose_font(text, family=family, explicit=self.font_path, param=param)

    def input_schema(self) -> dict[str, Any]:
        return schema.timeline_json_schema()

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        timeline = schema.parse_timeline(data, self.limits)
        return rendering.render_timeline(
            timeline,
            ctx,
            policy=self.policy,
            limits=self.limits,
            font_path=self.font_path,
            ffmpeg_exe=self.ffmpeg_exe,
        )
