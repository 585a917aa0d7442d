"""The timeline JSON: output settings plus tracks of clips, layered bottom to top.

Validation is pydantic (``extra="forbid"`` everywhere, so unknown fields are refused with their
path); `parse_timeline` turns the first error into `InvalidRequest` with a ``param`` such as
``tracks[0].clips[2].length`` and then applies the operator's `Limits` and the rules that span
clips (overlaps need a transition, nothing starts after the end). Every field is described in
``docs/renderer.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from vidtask.core import errors, validation
from vidtask.render import encoding, transitions
from vidtask.render.motion import Animation, KenBurns, Keyframes

__all__ = [
    "ASPECTS",
    "Asset",
    "AudioAsset",
    "Box",
    "CaptionsAsset",
    "Clip",
    "ColorAsset",
    "Crop",
    "Highlight",
    "ImageAsset",
    "Limits",
    "Offset",
    "Output",
    "Shadow",
    "Stroke",
    "TextAsset",
    "TextStyle",
    "Timeline",
    "Track",
    "Transition",
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
_HEX = re.compile(r"#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")


def _color(value: str) -> str:
    """A colour name or hex colour as "#rrggbb[aa]"; "#rgb[a]" doubles each digit, as in CSS."""
    name = value.strip().lower()
    if name in COLOR_NAMES:
        return COLOR_NAMES[name]
    if not _HEX.fullmatch(name):
        names = ", ".join(sorted(COLOR_NAMES))
        raise ValueError(
            f"{value!r} is not a colour: use #rgb, #rgba, #rrggbb, #rrggbbaa or one of {names}"
        )
    if len(name) <= 5:
        return "#" + "".join(digit * 2 for digit in name[1:])
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
Pixels = Annotated[float, Field(ge=0, le=500)]
Fraction = Annotated[float, Field(ge=0, le=1)]
AudioRole = Literal["sound", "music", "voice"]


class _Model(BaseModel):
    # NaN compares false with every bound, so it would be refused as "must be ≤ 86400".
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ColorAsset(_Model):
    type: Literal["color"]
    color: Color


class ImageAsset(_Model):
    """A still image (an animated GIF/WebP/APNG plays and loops)."""

    type: Literal["image"]
    src: Src


class VideoAsset(_Model):
    type: Literal["video"]
    src: Src
    trim: Seconds = 0.0
    volume: Volume = 1.0
    #: Drop the clip's own sound (same as volume 0).
    mute: bool = False
    #: Playback speed; the sound keeps its pitch.
    speed: Annotated[float, Field(ge=0.25, le=4)] = 1.0
    #: Hold the frame at ``trim`` for the whole clip (a freeze frame; silent).
    freeze: bool = False
    role: AudioRole = "sound"


class AudioAsset(_Model):
    type: Literal["audio"]
    src: Src
    trim: Seconds = 0.0
    volume: Volume = 1.0
    #: Repeat the source to fill the clip's length.
    loop: bool = False
    #: ``music`` is lowered (sidechain) while any ``voice`` clip speaks.
    role: AudioRole = "sound"


class Stroke(_Model):
    color: Color = "#000000"
    #: Outline width in pixels at the requested output size.
    width: Annotated[float, Field(gt=0, le=50)] = 4.0


class Shadow(_Model):
    color: Color = "#000000a0"
    x: Annotated[float, Field(ge=-200, le=200)] = 3.0
    y: Annotated[float, Field(ge=-200, le=200)] = 3.0
    blur: Annotated[float, Field(ge=0, le=100)] = 4.0


class Highlight(_Model):
    #: Words or phrases drawn in ``color`` wherever they occur (case-insensitive for Latin).
    words: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]],
                     Field(min_length=1, max_length=50)]  # fmt: skip
    color: Color = "#ffd400"


class TextStyle(_Model):
    font_size: Annotated[int, Field(ge=4, le=1000)] = 64
    color: Color = "#ffffff"
    font: Literal["sans", "serif"] = "sans"
    bold: bool = False
    #: A box behind the text.
    background: Color | None = None
    #: Space between the text and the edge of its box, in pixels (default: 35% of the size).
    padding: Pixels | None = None
    #: Corner radius of the box, in pixels (default: 20% of the size).
    radius: Pixels | None = None
    align: Literal["left", "center", "right"] = "center"
    #: Wrap lines at this fraction of the clip's region (the frame or its ``box``).
    max_width: Annotated[float, Field(gt=0, le=1)] = 0.9
    #: Extra space between characters, in pixels.
    letter_spacing: Annotated[float, Field(ge=-50, le=200)] = 0.0
    #: Distance between baselines, as a multiple of the font's line height.
    line_spacing: Annotated[float, Field(ge=0.5, le=4)] = 1.2
    stroke: Stroke | None = None
    shadow: Shadow | None = None
    highlight: Highlight | None = None


class TextAsset(TextStyle):
    type: Literal["text"]
    text: Annotated[str, Field(min_length=1)]


class CaptionsAsset(TextStyle):
    """Subtitles: each cue of an SRT file becomes a text clip styled like this, timed from the
    clip's ``start``. Give the file as ``src`` (URL or local path) or inline as ``srt``."""

    type: Literal["captions"]
    src: Src | None = None
    srt: Annotated[str, Field(min_length=1, max_length=1_000_000)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.src is None) == (self.srt is None):
            raise ValueError("give exactly one of src (an SRT file) or srt (its text)")
        return self


Asset = Annotated[
    ColorAsset | ImageAsset | VideoAsset | TextAsset | AudioAsset | CaptionsAsset,
    Field(discriminator="type"),
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


class Box(_Model):
    """A region of the frame, in fractions of its width and height, that the clip is laid
    out in instead of the whole frame (``fit``, ``position`` and text wrapping apply inside it)."""

    x: Fraction = 0.0
    y: Fraction = 0.0
    width: Annotated[float, Field(gt=0, le=1)] = 1.0
    height: Annotated[float, Field(gt=0, le=1)] = 1.0


class Crop(_Model):
    """Cut away fractions of the source's edges before it is fitted."""

    left: Fraction = 0.0
    top: Fraction = 0.0
    right: Fraction = 0.0
    bottom: Fraction = 0.0

    @model_validator(mode="after")
    def _something_left(self) -> Self:
        if self.left + self.right >= 0.99 or self.top + self.bottom >= 0.99:
            raise ValueError("the crop leaves nothing of the picture")
        return self


#: FFmpeg ``xfade`` transitions offered between clips.
TransitionType = Literal[
    "fade", "dissolve", "fadeblack", "fadewhite", "fadegrays", "wipeleft", "wiperight",
    "wipeup", "wipedown", "slideleft", "slideright", "slideup", "slidedown", "smoothleft",
    "smoothright", "smoothup", "smoothdown", "circleopen", "circleclose", "circlecrop",
    "rectcrop", "radial", "vertopen", "vertclose", "horzopen", "horzclose", "pixelize",
    "hblur", "zoomin", "squeezeh", "squeezev", "diagtl", "diagtr", "diagbl", "diagbr",
]  # fmt: skip


class Transition(_Model):
    """How this clip takes over from the previous clip on the same track. If the clips overlap,
    the overlap is the transition; if they only touch, the previous clip is held ``duration``
    seconds longer under this one."""

    type: TransitionType = "fade"
    duration: Annotated[float, Field(gt=0, le=10)] | None = None


class Clip(_Model):
    asset: Asset
    start: Seconds
    #: Omitted for video/audio = the rest of the source after ``trim`` (known after probing).
    length: Annotated[float, Field(gt=0, le=86_400)] | None = None
    #: ``blur`` = contain, over a blurred, enlarged copy that fills the rest.
    fit: Literal["contain", "cover", "stretch", "blur"] = "cover"
    position: Position = "center"
    offset: Offset = Field(default_factory=Offset)
    scale: Annotated[float, Field(gt=0, le=10)] = 1.0
    opacity: Annotated[float, Field(ge=0, le=1)] = 1.0
    fade_in: Seconds = 0.0
    fade_out: Seconds = 0.0
    box: Box | None = None
    crop: Crop | None = None
    ken_burns: KenBurns | None = None
    keyframes: Keyframes | None = None
    animation: Animation | None = None
    transition: Transition | None = None


class Track(_Model):
    clips: list[Clip]


def _even(value: int) -> int:
    if value % 2:
        raise ValueError("must be an even number")
    return value


Dimension = Annotated[int, Field(ge=16, le=4096), AfterValidator(_even)]
Aspect = Literal["16:9", "9:16", "1:1", "4:5"]
ASPECTS: dict[str, tuple[int, int]] = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1),
                                       "4:5": (4, 5)}  # fmt: skip
Resolution = Literal["360p", "480p", "540p", "720p", "1080p", "1440p", "2160p"]


class Output(_Model):
    width: Dimension = 1280
    height: Dimension = 720
    #: Sets width and height from an aspect ratio and ``resolution`` (the short side).
    aspect: Aspect | None = None
    resolution: Resolution | None = None
    fps: Annotated[int, Field(ge=1, le=60)] = 30
    format: encoding.Format = "mp4"
    quality: encoding.Quality = "standard"
    #: Overrides the quality preset's constant rate factor (lower = better, bigger).
    crf: Annotated[int, Field(ge=0, le=63)] | None = None
    background: Color = "#000000"
    #: Exact length of the video; default: until the last clip ends.
    duration: Annotated[float, Field(gt=0, le=86_400)] | None = None
    #: Seconds into the output for cover.jpg; default 25% of the duration.
    cover_at: Seconds | None = None
    previews: Annotated[int, Field(ge=3, le=20)] = 3

    @model_validator(mode="after")
    def _aspect_preset(self) -> Self:
        if self.aspect is None:
            if self.resolution is not None:
                raise ValueError('resolution needs an aspect (e.g. "aspect": "9:16")')
            return self
        short = int((self.resolution or "720p").removesuffix("p"))
        w, h = ASPECTS[self.aspect]
        long_side = round(short * max(w, h) / min(w, h) / 2) * 2
        size = (long_side, short) if w >= h else (short, long_side)
        given = {"width", "height"} & self.model_fields_set
        if given and (self.width, self.height) != size:
            raise ValueError("give either aspect (with resolution) or width and height")
        self.width, self.height = size
        return self


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


_ASSET_TAGS = frozenset({"color", "image", "video", "text", "audio", "captions"})


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
    _check_clips(timeline)
    _check_tracks(timeline)
    return timeline


def _check_limits(timeline: Timeline, limits: Limits) -> None:
    out = timeline.output
    if out.width > limits.max_width:
        raise _invalid("output.width", f"must be at most {limits.max_width}")
    if out.height > limits.max_height:
        raise _invalid("output.height", f"must be at most {limits.max_height}")
    if out.duration is not None and out.duration > limits.max_duration_s:
        raise _invalid("output.duration", _too_long(limits))
    count = 0
    end = 0.0
    for path, clip in timeline.clips():
        count += 1
        if count > limits.max_clips:
            raise _invalid("tracks", f"at most {limits.max_clips} clips are allowed")
        asset = clip.asset
        if clip.length is None and asset.type not in ("video", "audio", "captions"):
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


#: Clip fields that mean nothing for some asset types; setting them is refused.
_NOT_FOR: dict[str, tuple[str, ...]] = {
    "audio": ("fit", "box", "crop", "ken_burns", "keyframes", "animation", "transition"),
    "captions": ("crop", "ken_burns", "keyframes", "transition"),
}


def _check_clips(timeline: Timeline) -> None:
    """Rules that depend on the asset type or on other clips, for the lengths known now (the
    compiler checks again once probing has filled in the rest)."""
    duration = timeline.output.duration
    for path, clip in timeline.clips():
        asset = clip.asset
        if duration is not None and clip.start >= duration:
            raise _invalid(
                f"{path}.start", f"the clip starts after the end of the {duration:g} s video"
            )
        for name in _NOT_FOR.get(asset.type, ()):
            if getattr(clip, name) != Clip.model_fields[name].default:
                raise _invalid(f"{path}.{name}", f"does not apply to {asset.type} clips")
        if clip.ken_burns is not None and not isinstance(asset, ImageAsset | VideoAsset):
            raise _invalid(f"{path}.ken_burns", "applies to image and video clips only")
        if clip.crop is not None and not isinstance(asset, ImageAsset | VideoAsset):
            raise _invalid(f"{path}.crop", "applies to image and video clips only")
        if clip.fit == "blur" and not isinstance(asset, ImageAsset | VideoAsset):
            raise _invalid(f"{path}.fit", "blur applies to image and video clips only")
        if clip.keyframes is not None and clip.length is not None:
            if clip.keyframes.last_time() > clip.length:
                raise _invalid(f"{path}.keyframes", "a keyframe lies after the end of the clip")
        if clip.animation is not None and clip.length is not None:
            a = clip.animation
            spent = a.duration * ((a.in_ != "none") + (a.out != "none"))
            if spent > clip.length:
                raise _invalid(f"{path}.animation.duration", "the animations outlast the clip")


def _check_tracks(timeline: Timeline) -> None:
    """Overlaps and transitions, on every track whose clip lengths are all known already."""
    fps = timeline.output.fps
    for t, track in enumerate(timeline.tracks):
        spans = [
            transitions.Span(f"tracks[{t}].clips[{c}]", clip, clip.start, clip.length)
            for c, clip in enumerate(track.clips)
            if clip.length is not None and not isinstance(clip.asset, AudioAsset | CaptionsAsset)
        ]
        unknown = any(
            clip.length is None and isinstance(clip.asset, VideoAsset) for clip in track.clips
        )
        if not unknown:
            transitions.plan_track(spans, fps)


def _too_long(limits: Limits) -> str:
    return f"the video would be longer than the {limits.max_duration_s:g} s limit"


def timeline_json_schema() -> dict[str, Any]:
    """The JSON Schema published at /v1/schemas/timeline.json."""
    schema = Timeline.model_json_schema(by_alias=True)
    schema["title"] = "vidtask timeline"
    return schema
