"""Text to video: turn a prompt (or a question and its answer) into a timeline of cards.

The first paragraph (or the question) becomes a title card; every further paragraph (or each
paragraph of the answer) becomes a body card, long ones split at sentence ends. Images go onto
the body cards in order, extra images get cards of their own, and ``opening_image`` fills the
title card. Each card stays on screen as long as it takes to read (about 15 characters a
second, CJK characters counting double), scaled to ``seconds`` when that is given. Cards change
with a crossfade of their backgrounds while their text slides in and fades out.

Everything is a pure function of the input: the same input (and ``seed``, which picks the
colour palette) always gives the same timeline.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vidtask.core import errors, validation
from vidtask.render import encoding

__all__ = ["Card", "SlidesInput", "cards", "parse_slides", "slides_timeline"]

_TEXT = Annotated[str, Field(max_length=20_000)]
_SRC = Annotated[str, Field(min_length=1, max_length=4096)]

#: Reading speed in "units" per second: a Latin character is 1 unit, a CJK character 2.
READING_UNITS_PER_S = 15.0
#: A body card holds at most this many units; longer paragraphs continue on the next card.
CARD_UNITS = 280
_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*")


class SlidesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Paragraphs separated by blank lines; the first one is the title card.
    prompt: _TEXT | None = None
    #: Scenext style: the question is the title card, the answer's paragraphs the body cards.
    question: Annotated[str, Field(max_length=5_000)] | None = None
    answer: _TEXT | None = None
    #: URLs or allowed local paths, placed on the body cards in order.
    images: Annotated[list[_SRC], Field(max_length=50)] = Field(default_factory=list)
    #: Shown full-frame on the title card (OpenAI's ``input_reference``).
    opening_image: _SRC | None = None
    width: Annotated[int, Field(ge=16, le=4096, multiple_of=2)] = 1280
    height: Annotated[int, Field(ge=16, le=4096, multiple_of=2)] = 720
    fps: Annotated[int, Field(ge=1, le=60)] = 30
    #: Total duration; by default the cards are paced by reading speed.
    seconds: Annotated[float, Field(gt=0, le=86_400)] | None = None
    quality: encoding.Quality = "standard"
    #: Picks the colour palette; by default derived from the text, so it is stable.
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    #: Speak each card (espeak-ng, when the worker has it installed; otherwise silent).
    narration: bool = True

    @model_validator(mode="after")
    def _has_text(self) -> Self:
        if not any((t or "").strip() for t in (self.prompt, self.question, self.answer)):
            raise ValueError("give a prompt, or a question and/or an answer")
        return self


def parse_slides(data: dict[str, Any]) -> SlidesInput:
    """Validate a ``slides`` request; `InvalidRequest` names the field (``prompt`` when no text
    is given at all)."""
    if not isinstance(data, dict):
        raise errors.InvalidRequest("the input must be a JSON object")
    try:
        slides = SlidesInput.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if not first["loc"]:
            reason = validation.reason(first)
            raise errors.InvalidRequest(f"prompt: {reason}", param="prompt") from None
        raise validation.invalid_request(exc) from None
    if slides.seed is None:
        text = "\n".join(t or "" for t in (slides.prompt, slides.question, slides.answer))
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        slides = slides.model_copy(update={"seed": seed})
    return slides


@dataclass(frozen=True, slots=True)
class Card:
    kind: str  # "title", "body" or "image"
    text: str
    image: str | None
    seconds: float


def _width(ch: str) -> int:
    """Reading units of one character (the measure every layout decision here is made of)."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _units(text: str) -> int:
    return sum(map(_width, text))


def _paragraphs(text: str | None) -> list[str]:
    if not text:
        return []
    parts = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return [" ".join(line.strip() for line in p.splitlines() if line.strip()) for p in parts
            if p.strip()]  # fmt: skip


def _fitting(text: str) -> int:
    """How many leading characters of ``text`` fit on one card (all of them if it is short);
    reads at most one character past the card, so each call costs O(`CARD_UNITS`)."""
    total = 0
    for n, ch in enumerate(text):
        total += _width(ch)
        if total > CARD_UNITS:
            return n
    return len(text)


def _cut(sentence: str, fits: int) -> int:
    """Where to cut a sentence (no surrounding whitespace) longer than a card, whose first
    ``fits`` characters fit on one: at the last space before the card's end, or right at it.

    Exactly where the first version cut, which stepped back from the sentence's end, re-measuring
    every time (minutes for 20,000 characters), to the last space at least two characters back,
    or one character once no space was left, until the rest fit. So at a space at ``fits`` it
    stopped, unless it had passed ``fits + 1`` (the sentence's end, or a space of the same run,
    which it counted down two at a time from the run's end or from the second to last
    character): then it went on to the last space before."""
    space = sentence.rfind(" ", 0, fits)
    if sentence[fits] != " ":
        return space if space >= 0 else fits
    rest = sentence[fits:]
    run_end = fits + len(rest) - len(rest.lstrip(" ")) - 1
    entry = min(run_end, len(sentence) - 2)
    stops_after = fits + 1 == len(sentence) or (entry > fits and (entry - fits) % 2 == 1)
    return space if stops_after and space >= 0 else fits


def _split(paragraph: str) -> list[str]:
    """A paragraph in card-sized pieces, broken at sentence ends where possible.

    Linear in the paragraph's length: each character's width is read a bounded number of times
    (a 20,000-character answer without spaces used to take minutes in validation)."""
    if _fitting(paragraph) == len(paragraph):
        return [paragraph]
    pieces: list[str] = []
    current, current_units = "", 0
    for sentence in (s for s in _SENTENCE_END.split(paragraph) if s):
        while (fits := _fitting(sentence)) < len(sentence):  # one huge sentence: cut by width
            if current:  # what came before it goes first
                pieces.append(current)
                current, current_units = "", 0
            cut = _cut(sentence, fits)
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        units = _units(sentence)
        # Sentences never start or end with whitespace, so joining adds one space at most.
        spaced = bool(current) and sentence[:1].isascii()
        joined_units = current_units + units + int(spaced)
        if current and joined_units > CARD_UNITS:
            pieces.append(current)
            current, current_units = sentence, units
        else:
            current = f"{current} {sentence}" if spaced else current + sentence
            current_units = joined_units
    if current:
        pieces.append(current)
    return pieces


def _reading(text: str, floor: float, ceiling: float, base: float) -> float:
    return min(ceiling, max(floor, base + _units(text) / READING_UNITS_PER_S))


def cards(slides: SlidesInput) -> list[Card]:
    """The cards in order, with their natural (reading-speed) durations."""
    prompt = _paragraphs(slides.prompt)
    answer = _paragraphs(slides.answer)
    question = " ".join((slides.question or "").split())
    if question:
        title, body = question, prompt + answer
    elif prompt:
        title, body = prompt[0], prompt[1:] + answer
    else:
        title, body = answer[0], answer[1:]
    out = [Card("title", title, slides.opening_image, _reading(title, 3.0, 6.0, 1.5))]
    texts = [piece for paragraph in body for piece in _split(paragraph)]
    images = list(slides.images)
    for n, text in enumerate(texts):
        image = images[n] if n < len(images) else None
        extra = 0.8 if image else 0.0
        out.append(Card("body", text, image, _reading(text, 2.5, 12.0, 1.2) + extra))
    for image in images[len(texts) :]:
        out.append(Card("image", "", image, 3.5))
    return out


#: Background, accent, text colour.
PALETTES: tuple[tuple[str, str, str], ...] = (
    ("#0f172a", "#38bdf8", "#f8fafc"),
    ("#1e1b4b", "#f472b6", "#fdf4ff"),
    ("#052e16", "#4ade80", "#f0fdf4"),
    ("#fafaf9", "#ea580c", "#1c1917"),
    ("#111827", "#facc15", "#f9fafb"),
    ("#172554", "#fb923c", "#eff6ff"),
)


def _mix(a: str, b: str, amount: float) -> str:
    """``a`` moved ``amount`` of the way to ``b`` (both #rrggbb)."""
    pa = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    pb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(pa, pb, strict=True))


def _fit_font(text: str, box: dict[str, float], frame: tuple[int, int], largest: int) -> int:
    """The largest font size (up to ``largest``) at which ``text`` should fit in ``box``,
    estimating half an em per unit of advance and 1.5 em per line (1.3 spacing)."""
    width, height = box["width"] * frame[0], box["height"] * frame[1]
    size, units = largest, _units(text)
    while size > 12:
        per_line = max(1, int(width / (size * 0.5)))
        lines = -(-units // per_line)
        if lines * size * 1.5 <= height:
            break
        size -= 1
    return size


def _box(x: float, y: float, w: float, h: float) -> dict[str, float]:
    return {"x": x, "y": y, "width": w, "height": h}


#: Narration starts this long into its card and leaves this much silence at the end.
VOICE_LEAD = 0.4
VOICE_TAIL = 0.5


def slides_timeline(
    slides: SlidesInput, voices: Sequence[tuple[Path, float] | None] | None = None
) -> dict[str, Any]:
    """The timeline JSON for ``slides`` (validated later like any timeline).

    ``voices`` (one per card, or None for a silent card) are narration files with their
    durations; a card stays up at least as long as its narration."""
    deck = cards(slides)
    spoken = list(voices) if voices is not None else [None] * len(deck)
    natural = [
        max(card.seconds, voice[1] + VOICE_LEAD + VOICE_TAIL) if voice else card.seconds
        for card, voice in zip(deck, spoken, strict=True)
    ]
    factor = (slides.seconds / sum(natural)) if slides.seconds else 1.0
    lengths = [seconds * factor for seconds in natural]
    background, accent, ink = PALETTES[(slides.seed or 0) % len(PALETTES)]
    w, h = slides.width, slides.height
    portrait = h > w
    short = min(w, h)
    fade = min(0.5, min(lengths) / 4)
    motion = min(0.4, min(lengths) / 5)
    backgrounds: list[dict[str, Any]] = []
    pictures: list[dict[str, Any]] = []
    dims: list[dict[str, Any]] = []
    accents: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    speech: list[dict[str, Any]] = []
    fading = {"in": "fade", "out": "fade", "duration": 0.0}
    start = 0.0
    for n, (card, length) in enumerate(zip(deck, lengths, strict=True)):
        shade = background if n % 2 == 0 else _mix(background, ink, 0.06)
        # Each background reaches into the next card by the crossfade; the last ends on time.
        tail = fade if n < len(deck) - 1 else 0.0
        backdrop: dict[str, Any] = {
            "asset": {"type": "color", "color": shade},
            "start": start,
            "length": length + tail,
        }
        if n:
            backdrop["transition"] = {"type": "fade"}
        backgrounds.append(backdrop)
        shown = {"start": start + (fade if n else 0.0), "length": length - (fade if n else 0.0)}
        animation = {"in": "slide_up", "out": "fade", "duration": motion}
        fading["duration"] = motion
        if card.kind == "title":
            text_color = ink
            if card.image:
                pictures.append({"asset": {"type": "image", "src": card.image}, **shown,
                                 "fit": "cover", "animation": dict(fading),
                                 "ken_burns": {"end": {"scale": 1.08}}})  # fmt: skip
                dims.append({"asset": {"type": "color", "color": "#000000"}, **shown,
                             "opacity": 0.45, "animation": dict(fading)})  # fmt: skip
                text_color = "#ffffff"
            words.append({
                "asset": {"type": "text", "text": card.text, "font_size": round(short * 0.085),
                          "bold": True, "color": text_color, "max_width": 0.84,
                          "line_spacing": 1.15,
                          "shadow": {"color": "#00000080", "x": 0, "y": 2, "blur": 6}},
                **shown, "animation": {**animation, "in": "pop"},
            })  # fmt: skip
            accents.append({"asset": {"type": "color", "color": accent}, **shown,
                            "box": _box(0.44, 0.8, 0.12, 0.008),
                            "animation": dict(fading)})  # fmt: skip
        elif card.kind == "image":
            assert card.image is not None
            pictures.append({"asset": {"type": "image", "src": card.image}, **shown,
                             "fit": "contain", "box": _box(0.05, 0.06, 0.9, 0.88),
                             "ken_burns": {"end": {"scale": 1.06}},
                             "animation": dict(fading)})  # fmt: skip
        else:
            if card.image is None:
                text_box = _box(0.1, 0.1, 0.8, 0.8)
            elif portrait:
                text_box = _box(0.08, 0.54, 0.84, 0.38)
                picture_box = _box(0.06, 0.08, 0.88, 0.42)
            else:
                text_box = _box(0.52, 0.1, 0.42, 0.8)
                picture_box = _box(0.05, 0.1, 0.42, 0.8)
            if card.image is not None:
                pictures.append({"asset": {"type": "image", "src": card.image}, **shown,
                                 "fit": "contain", "box": picture_box,
                                 "animation": dict(fading)})  # fmt: skip
            font_size = _fit_font(card.text, text_box, (w, h), round(short * 0.065))
            words.append({
                "asset": {"type": "text", "text": card.text, "font_size": font_size,
                          "color": ink, "align": "left", "max_width": 1.0,
                          "line_spacing": 1.3},
                **shown, "box": text_box, "position": "left", "animation": animation,
            })  # fmt: skip
            bar_x = text_box["x"] - 0.025
            bar = _box(max(0.0, bar_x), text_box["y"] + text_box["height"] * 0.3, 0.006,
                       text_box["height"] * 0.4)  # fmt: skip
            accents.append({"asset": {"type": "color", "color": accent}, **shown, "box": bar,
                            "animation": dict(fading)})  # fmt: skip
        voice = spoken[n]
        if voice is not None:
            said = min(voice[1], length - VOICE_LEAD - 0.1)
            if said > 0.1:
                speech.append({"asset": {"type": "audio", "src": str(voice[0]), "role": "voice"},
                               "start": start + VOICE_LEAD, "length": said})  # fmt: skip
        start += length
    layers = (backgrounds, pictures, dims, accents, words, speech)
    tracks = [{"clips": clips} for clips in layers if clips]
    return {
        "output": {
            "width": w,
            "height": h,
            "fps": slides.fps,
            "quality": slides.quality,
            "background": background,
            "duration": round(start, 6),
        },
        "tracks": tracks,
    }
