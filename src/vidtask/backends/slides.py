"""The ``slides`` model: text (a prompt, or a question and answer) to a video of title and body
cards, rendered by the timeline renderer, so stages, progress, previews and stills all work.

Cards are narrated with espeak-ng when the worker has it installed; otherwise the video is
silent (see ``docs/renderer.md``).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from vidtask.backends import rendering
from vidtask.backends.base import RunContext, RunResult
from vidtask.core import errors
from vidtask.render import assets, fonts, narration, schema, slides

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

    def _timeline(
        self,
        request: slides.SlidesInput,
        voices: list[tuple[Path, float] | None] | None = None,
    ) -> schema.Timeline:
        try:
            return schema.parse_timeline(slides.slides_timeline(request, voices), self.limits)
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

    def _narrate(
        self, request: slides.SlidesInput, ctx: RunContext
    ) -> list[tuple[Path, float] | None] | None:
        """Speak every card, faster if ``seconds`` is too short for the default pace; None
        when narration is off or espeak-ng is not installed."""
        program = narration.synthesizer()
        if not request.narration or program is None:
            return None
        deck = slides.cards(request)
        folder = ctx.workdir / "narration"
        wpm = narration.DEFAULT_WPM
        while True:
            voices: list[tuple[Path, float] | None] = []
            for n, card in enumerate(deck):
                if ctx.cancel.is_set():
                    raise errors.Cancelled()
                path = folder / f"card_{n}.wav"
                voices.append((path, narration.speak(program, card.text, path, wpm=wpm))
                              if card.text.strip() else None)  # fmt: skip
            pause = slides.VOICE_LEAD + slides.VOICE_TAIL
            needed = sum(v[1] + pause for v in voices if v is not None)
            if request.seconds is None or needed <= request.seconds or wpm >= narration.MAX_WPM:
                return voices
            wpm = min(narration.MAX_WPM, math.ceil(wpm * needed / request.seconds) + 5)

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        request = slides.parse_slides(data)
        voices = self._narrate(request, ctx)
        policy = self.policy
        if voices is not None:  # the narration files are local assets of this run only
            policy = dataclasses.replace(policy, roots=(*policy.roots, ctx.workdir / "narration"))
        result = rendering.render_timeline(
            self._timeline(request, voices),
            ctx,
            policy=policy,
            limits=self.limits,
            font_path=self.font_path,
            ffmpeg_exe=self.ffmpeg_exe,
        )
        result.metadata["seed"] = request.seed
        return result
