"""A prompt-style video request, the same whichever dialect sent it, and the input it becomes
for the local model that routing picked.

OpenAI's ``prompt`` + ``input_reference``, Ark's ``content[]`` and Scenext's ``question`` +
``answer`` all say the same few things: some text, some images, a frame size, a duration and a
quality. `model_input` turns that into the ``slides`` model's input, or, for ``timeline``, into a
plain title-card timeline (or the timeline itself when the prompt is one, as in New API), or,
for a relayed model, into the prompt-and-images input providers take.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Generation", "Quality", "model_input", "text_card_timeline", "timeline_in_text"]

Quality = Literal["draft", "standard", "high"]

#: x264 CRF per quality, for the ``timeline`` fallback.
_CRF: dict[str, int] = {"draft": 30, "standard": 23, "high": 20}


@dataclass(frozen=True, slots=True)
class Generation:
    """What a client asked for, in the ``slides`` model's terms."""

    prompt: str | None = None
    question: str | None = None
    answer: str | None = None
    images: tuple[str, ...] = ()
    opening_image: str | None = None
    width: int = 1280
    height: int = 720
    fps: int = 30
    seconds: float | None = None
    quality: Quality = "standard"
    #: Ark's ``seed``; for ``slides`` it picks the palette (None: derived from the text).
    seed: int | None = None

    @property
    def text(self) -> str:
        """Everything the video should say, paragraphs separated by blank lines."""
        parts = (self.prompt, self.question, self.answer)
        return "\n\n".join(p.strip() for p in parts if p and p.strip())


def model_input(model: str, request: Generation, *, param: str = "model") -> dict[str, Any]:
    """The input of ``model`` for ``request``; a model that takes no prompts is a clear 400."""
    if model == "slides":
        return {
            "prompt": request.prompt,
            "question": request.question,
            "answer": request.answer,
            "images": list(request.images),
            "opening_image": request.opening_image,
            "width": request.width,
            "height": request.height,
            "fps": request.fps,
            "seconds": request.seconds,
            "quality": request.quality,
            "seed": request.seed,
        }
    if model == "timeline":
        return _timeline(request)
    return relay_input(request)


def relay_input(request: Generation) -> dict[str, Any]:
    """The input of a relayed model (a provider generates the video): the prompt, the opening
    image as the first frame, further images as references, the frame size, the seconds."""
    data: dict[str, Any] = {
        "prompt": request.text or None,
        "first_frame": request.opening_image or (request.images[0] if request.images else None),
        "width": request.width,
        "height": request.height,
        "seconds": None if request.seconds is None else max(1, round(request.seconds)),
        "seed": request.seed,
    }
    rest = list(request.images[1:] if not request.opening_image else request.images)
    if rest:
        data["reference_images"] = rest
    return {k: v for k, v in data.items() if v is not None}


def text_card_timeline(
    text: str, *, width: int, height: int, fps: int, duration: float
) -> dict[str, Any]:
    """A plain, readable video of a text prompt: the text centred on a dark card."""
    size = max(24, min(width, height) // 12)
    fade = min(0.5, duration / 4)
    return {
        "output": {"width": width - width % 2, "height": height - height % 2, "fps": fps},
        "tracks": [
            {
                "clips": [
                    {"asset": {"type": "color", "color": "#101828"}, "start": 0, "length": duration}
                ]
            },
            {
                "clips": [
                    {
                        "asset": {
                            "type": "text",
                            "text": text,
                            "font_size": size,
                            "max_width": 0.8,
                        },
                        "start": 0,
                        "length": duration,
                        "fade_in": fade,
                        "fade_out": fade,
                    }
                ]
            },
        ],
    }


def timeline_in_text(text: str | None) -> dict[str, Any] | None:
    """The JSON timeline a prompt may be (New API's convention), else None."""
    stripped = (text or "").strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "tracks" in value else None


def _timeline(request: Generation) -> dict[str, Any]:
    """A title card of the request's text over its images (or a dark card), for the seconds
    asked (default 5)."""
    given = timeline_in_text(request.prompt)
    if given is not None:
        return given
    duration = request.seconds or 5.0
    timeline = text_card_timeline(
        request.text or " ",
        width=request.width,
        height=request.height,
        fps=request.fps,
        duration=duration,
    )
    timeline["output"]["crf"] = _CRF[request.quality]
    pictures = [p for p in (request.opening_image, *request.images) if p]
    if pictures:
        each = duration / len(pictures)
        timeline["tracks"][0]["clips"] = [
            {"asset": {"type": "image", "src": src}, "start": i * each, "length": each}
            for i, src in enumerate(pictures)
        ]
        timeline["tracks"][1]["clips"][0]["asset"]["background"] = "#101828b0"
    if not request.text:
        timeline["tracks"].pop()
    return timeline
