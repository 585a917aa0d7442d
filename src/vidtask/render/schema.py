"""The timeline JSON: output settings plus tracks of clips, layered bottom to top.

Validation is pydantic (``extra="forbid"`` everywhere, so unknown fields are refused with their
path); `parse_timeline` turns the first error into `InvalidRequest` with a ``param`` such as
``tracks[0].clips[2].length`` and then applies the operator's `Limits`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from vidtask.core import errors, validation

__all__ = [
    "Asset",
    "AudioAsset",
    "Clip",
    "ColorAsset",
    "ImageAsset",
    "Limits",
    "Offset",
    "Output",
    "TextAsset",
    "Timeline",
    "Track",
    "VideoAsset",
    "parse_timeline",
    "rgba",
    "timeline_json_schema",
]

COLOR_NAMES: dict[str, str] = {
    "black": "#000000",
    "white": "#ffffff",
    "red": "#ff0000",
    "green": "#00ff00",
    "blue": "#0000ff",
    "yellow": "#ffff00",
    "cyan": "#00ffff",
    "magenta": "#ff00ff",
    "gray": "#808080",
    "grey": "#808080",
    "orange": "#ffa500",
    "purple": "#800080",
    "transparent": "#00000000",
}
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def _color(value: str) -> str:
    name = value.strip().lower()
    if name in COLOR_NAMES:
        return COLOR_NAMES[name]
    if not _HEX.fullmatch(name):
        names = ", ".join(sorted(COLOR_NAMES))
        raise ValueError(f"{value!r} is not a colour: use #rrggbb, #rrggbbaa or one of {names}")
    return name


def rgba(color: str) -> tuple[int, int, int, int]:
    """A validated colour ("#rrggbb[aa]") as an RGBA tuple."""
    hex_ = color.lstrip("#")
    alpha = int(hex_[6:8], 16) if len(hex_) == 8 else 255
    return int(hex_[0:2], 16), int(hex_[2:4], 16), int(hex_[4:6], 16), alpha


Color = Annotated[str, AfterValidator(_color)]
Src = Annotated[str, Field(min_length=1, max_length=4096)]
Seconds = Annotated[float, Field(ge=0, le=86_400)]
Volume = Annotated[float, Field(ge=0, le=4)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColorAsset(_Model):
    type: Literal["color"]
    color: Color


class ImageAsset(_Model):
    type: Literal["image"]
    src: Src


class VideoAsset(_Model):
    type: Literal["video"]
    src: Src
    trim: Seconds = 0.0
    volume: Volume = 1.0


class AudioAsset(_Model):
    type: Literal["audio"]
    src: Src
    trim: Seconds = 0.0
    volume: Volume = 1.0


class TextAsset(_Model):
    type: Literal["text"]
    text: Annotated[str, Field(min_length=1)]
    font_size: Annotated[int, Field(ge=4, le=1000)] = 64
    color: Color = "#ffffff"
    background: Color | None = None
    align: Literal["left", "center", "right"] = "center"
    max_width: Annotated[float, Field(gt=0, le=1)] = 0.9
    font: Literal["sans", "serif"] = "sans"


Asset = Annotated[
    ColorAsset | ImageAsset | VideoAsset | TextAsset | AudioAsset, Field(discriminator="type")
]
MEDIA_TYPES = frozenset({"image", "video", "audio"})


class Offset(_Model):
    x: Annotated[float, Field(ge=-10, le=10)] = 0.0
    y: Annotated[float, Field(ge=-10, le=10)] = 0.0


Position = Literal[
    "center",
    "top",
    "bottom",
    "left",
    "right",
    "top_left",
    "top_right",
    "bottom_left",
    "bottom_right",
]


class Clip(_Model):
    asset: Asset
    start: Seconds
    #: Omitted for video/audio = the rest of the source after ``trim`` (known after probing).
    length: Annotated[float, Field(gt=0, le=86_400)] | None = None
    fit: Literal["contain", "cover", "stretch"] = "cover"
    position: Position = "center"
    offset: Offset = Field(default_factory=Offset)
    scale: Annotated[float, Field(gt=0, le=10)] = 1.0
    opacity: Annotated[float, Field(ge=0, le=1)] = 1.0
    fade_in: Seconds = 0.0
    fade_out: Seconds = 0.0


class Track(_Model):
    clips: list[Clip]


def _even(value: int) -> int:
    if value % 2:
        raise ValueError("must be an even number")
    return value


Dimension = Annotated[int, Field(ge=16, le=4096), AfterValidator(_even)]


class Output(_Model):
    width: Dimension = 1280
    height: Dimension = 720
    fps: Annotated[int, Field(ge=1, le=60)] = 30
    crf: Annotated[int, Field(ge=0, le=51)] = 23
    background: Color = "#000000"
    #: Seconds into the output for cover.jpg; default 25% of the duration.
    cover_at: Seconds | None = None
    previews: Annotated[int, Field(ge=3, le=20)] = 3


class Timeline(_Model):
    output: Output = Field(default_factory=Output)
    tracks: Annotated[list[Track], Field(min_length=1)]

    def clips(self) -> Iterator[tuple[str, Clip]]:
        """Every clip in drawing order with its field path."""
        for t, track in enumerate(self.tracks):
            for c, clip in enumerate(track.clips):
                yield f"tracks[{t}].clips[{c}]", clip


@dataclass(frozen=True, slots=True)
class Limits:
    max_duration_s: float = 1800.0
    max_width: int = 4096
    max_height: int = 4096
    max_clips: int = 500
    max_text_chars: int = 2000


_ASSET_TAGS = frozenset({"color", "image", "video", "text", "audio"})


def _invalid(path: str, reason: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(f"{path}: {reason}", param=path)


def parse_timeline(data: dict[str, Any], limits: Limits) -> Timeline:
    """Validate a timeline request; raise `InvalidRequest` naming the first bad field."""
    if not isinstance(data, dict):
        raise errors.InvalidRequest("the timeline must be a JSON object")
    try:
        timeline = Timeline.model_validate(data)
    except ValidationError as exc:
        raise validation.invalid_request(exc, tags=_ASSET_TAGS) from None
    _check_limits(timeline, limits)
    return timeline


def _check_limits(timeline: Timeline, limits: Limits) -> None:
    out = timeline.output
    if out.width > limits.max_width:
        raise _invalid("output.width", f"must be at most {limits.max_width}")
    if out.height > limits.max_height:
        raise _invalid("output.height", f"must be at most {limits.max_height}")
    count = 0
    end = 0.0
    for path, clip in timeline.clips():
        count += 1
        if count > limits.max_clips:
            raise _invalid("tracks", f"at most {limits.max_clips} clips are allowed")
        asset = clip.asset
        if clip.length is None and asset.type not in ("video", "audio"):
            raise _invalid(f"{path}.length", f"is required for {asset.type} clips")
        if clip.start >= limits.max_duration_s:
            raise _invalid(f"{path}.start", _too_long(limits))
        if clip.length is not None:
            if clip.fade_in + clip.fade_out > clip.length:
                raise _invalid(f"{path}.fade_out", "fade_in + fade_out must not exceed length")
            end = max(end, clip.start + clip.length)
            if end > limits.max_duration_s:
                raise _invalid(f"{path}.length", _too_long(limits))
        if isinstance(asset, TextAsset) and len(asset.text) > limits.max_text_chars:
            raise _invalid(f"{path}.asset.text", f"at most {limits.max_text_chars} characters")
    if count == 0:
        raise _invalid("tracks", "the timeline needs at least one clip")
    if out.cover_at is not None and out.cover_at > limits.max_duration_s:
        raise _invalid("output.cover_at", _too_long(limits))


def _too_long(limits: Limits) -> str:
    return f"the video would be longer than the {limits.max_duration_s:g} s limit"


def timeline_json_schema() -> dict[str, Any]:
    """The JSON Schema published at /v1/schemas/timeline.json."""
    schema = Timeline.model_json_schema()
    schema["title"] = "vidtask timeline"
    return schema
