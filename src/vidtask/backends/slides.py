"""The ``slides`` model: text (a prompt, or a question and answer) to a video of title and body
cards, rendered by the timeline renderer, so stages, progress, previews and stills all work.

Narration is not generated: the video is silent (see ``docs/renderer.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import imageio_ffmpeg

from vidtask.backends.base import RunContext, RunResult
from vidtask.core import errors
from vidtask.render import assets, fonts, pipeline, schema, slides

__all__ = ["SlidesBackend"]


class SlidesBackend:
    name = "slides"
    description = (
        "Text to video: a prompt's paragraphs, or a question and its answer (with images), "
        "become title and body cards with typography, transitions and reading-speed pacing."
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
        if self._ffmpeg_exe is None:
            self._ffmpeg_exe = imageio_ffmpeg.get_ffmpeg_exe()
        return self._ffmpeg_exe

    def _timeline(self, request: slides.SlidesInput) -> schema.Timeline:
        try:
            return schema.parse_timeline(slides.slides_timeline(request), self.limits)
        except errors.InvalidRequest as exc:
            # The timeline is ours; only limits can refuse it. Say which input caused it.
            param = exc.param or ""
            if param.startswith("output.width") or param.startswith("output.height"):
                field = param.removeprefix("output.")
                raise errors.InvalidRequest(f"{field}: {exc.message.split(': ', 1)[-1]}",
                                            param=field) from None  # fmt: skip
            if param == "tracks":
                raise errors.InvalidRequest(
                    "prompt: the text makes more cards than this server allows", param="prompt"
                ) from None
            if param == "output.duration" or param.endswith((".length", ".start")):
                raise errors.InvalidRequest(
                    f"seconds: the video would be longer than the "
                    f"{self.limits.max_duration_s:g} s limit",
                    param="seconds",
                ) from None
            raise

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        request = slides.parse_slides(data)
        for field in ("prompt", "question", "answer"):
            text = getattr(request, field)
            if text and text.strip():
                fonts.choose_font(text, explicit=self.font_path, param=field)
        for n, image in enumerate(request.images):
            assets.check_source(image, self.policy, param=f"images[{n}]")
        if request.opening_image is not None:
            assets.check_source(request.opening_image, self.policy, param="opening_image")
        self._timeline(request)
        return request.model_dump(mode="json", exclude_none=True)

    def input_schema(self) -> dict[str, Any]:
        schema_ = slides.SlidesInput.model_json_schema()
        schema_["title"] = "vidtask slides"
        return schema_

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        request = slides.parse_slides(data)
        result = pipeline.render_timeline(
            self._timeline(request),
            ctx,
            policy=self.policy,
            limits=self.limits,
            font_path=self.font_path,
            ffmpeg_exe=self.ffmpeg_exe,
        )
        result.metadata["seed"] = request.seed
        return result
