"""capcut-mate's request parameters: list inputs given as JSON strings, microsecond times.

Each ``add_*`` body is parsed into a new `Track` of the draft (capcut-mate adds one track per
call). Every problem is an `InvalidRequest` naming the field (``video_infos[1].end``) and the
reason. Fields that ask for something the renderer cannot do (masks, loop animations, audio
effects, per-keyword fonts...) are refused, never dropped.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vidtask.capcut import names
from vidtask.capcut.draft import US, DraftContent, KeyframePoint, Segment, Track, TrackKind, new_id
from vidtask.core import errors, validation

__all__ = [
    "AddAudios",
    "AddCaptions",
    "AddImages",
    "AddKeyframes",
    "AddVideos",
    "CreateDraft",
    "DraftRef",
    "audio_track",
    "caption_track",
    "image_track",
    "json_list",
    "keyframes",
    "parse",
    "video_track",
]

Micros = Annotated[int, Field(ge=0, le=86_400 * US)]
Positive = Annotated[int, Field(gt=0)]
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], body: Any, prefix: str = "") -> M:
    """Validate ``body`` against ``model``; the first error names its field."""
    if not isinstance(body, dict) and not prefix:
        raise errors.InvalidRequest("the request body must be a JSON object", param="body")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation.invalid_request(exc, prefix) from None


def json_list(raw: Any, field: str) -> list[dict[str, Any]]:
    """A list input: a JSON string holding an array of objects (an array itself is accepted
    too, as n8n sends one)."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise errors.InvalidRequest(
                f"{field}: is not valid JSON ({exc}); give a JSON string of an array of objects",
                param=field,
            ) from None
    if not isinstance(value, list):
        raise errors.InvalidRequest(
            f'{field}: must be a JSON array of objects, e.g. "[{{...}}]"', param=field
        )
    if not value:
        raise errors.InvalidRequest(f"{field}: must not be empty", param=field)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise errors.InvalidRequest(
                f"{field}[{i}]: must be a JSON object", param=f"{field}[{i}]"
            )
    return value


# --- bodies ---------------------------------------------------------------------------------


class CreateDraft(_Body):
    width: int = Field(1920, ge=16, le=4096)
    height: int = Field(1080, ge=16, le=4096)

    @model_validator(mode="after")
    def _even(self) -> Self:
        for name in ("width", "height"):
            if getattr(self, name) % 2:
                raise ValueError(f"{name} must be an even number (H.264 needs even sizes)")
        return self


class DraftRef(_Body):
    draft_url: str = Field(min_length=1, max_length=4096)
    #: capcut-mate's own key field; vidtask authenticates with the Authorization header.
    apiKey: str | None = None


class _Placed(DraftRef):
    alpha: float = Field(1.0, ge=0, le=1)
    scale_x: float = Field(1.0, gt=0, le=10)
    scale_y: float = Field(1.0, gt=0, le=10)
    transform_x: float = Field(0.0, ge=-100_000, le=100_000)
    transform_y: float = Field(0.0, ge=-100_000, le=100_000)


class AddVideos(_Placed):
    video_infos: Any
    scene_timelines: list[dict[str, Any]] | None = None


class AddImages(_Placed):
    image_infos: Any


class AddAudios(DraftRef):
    audio_infos: Any


class ShadowInfo(_Body):
    shadow_alpha: float = Field(0.9, ge=0, le=1)
    shadow_color: str = "#000000"
    shadow_diffuse: float = Field(15.0, ge=0, le=100)
    shadow_distance: float = Field(5.0, ge=0, le=100)
    shadow_angle: float = Field(-45.0, ge=-180, le=180)


class AddCaptions(_Placed):
    captions: Any
    text_color: str = "#ffffff"
    border_color: str | None = None
    alignment: int = Field(1, ge=0, le=5)
    font: str | None = None
    font_size: int = Field(15, ge=1, le=500)
    letter_spacing: float | None = Field(None, ge=-50, le=200)
    line_spacing: float | None = Field(None, ge=-10, le=50)
    line_max_width: float = Field(0.82, gt=0, le=1)
    style_text: bool = False
    underline: bool = False
    italic: bool = False
    bold: bool = False
    has_shadow: bool = False
    shadow_info: ShadowInfo | None = None
    text_effect: str | None = None


class AddKeyframes(DraftRef):
    keyframes: Any


# --- list items -----------------------------------------------------------------------------


class _Span(_Body):
    start: Micros
    end: Micros

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")
        return self


class VideoInfo(_Span):
    video_url: str = Field(min_length=1, max_length=4096)
    width: Positive | None = None
    height: Positive | None = None
    duration: Positive | None = None
    mask: str | None = None
    transition: str | None = None
    transition_duration: Positive | None = None
    volume: float = Field(1.0, ge=0, le=4)


class ImageInfo(_Span):
    image_url: str = Field(min_length=1, max_length=4096)
    width: Positive | None = None
    height: Positive | None = None
    in_animation: str | None = None
    out_animation: str | None = None
    loop_animation: str | None = None
    in_animation_duration: Positive | None = None
    out_animation_duration: Positive | None = None
    loop_animation_duration: Positive | None = None
    transition: str | None = None
    transition_duration: Positive | None = None


class AudioInfo(_Span):
    audio_url: str = Field(min_length=1, max_length=4096)
    duration: Positive | None = None
    volume: float = Field(1.0, ge=0, le=4)
    audio_effect: str | None = None


class CaptionInfo(_Span):
    text: str = Field(min_length=1, max_length=2000)
    keyword: str | None = None
    keyword_color: str = "#ff7100"
    keyword_border_color: str | None = None
    keyword_font: str | None = None
    keyword_font_size: int | None = None
    keyword_has_shadow: bool = False
    keyword_shadow_info: dict[str, Any] | None = None
    font_size: int | None = Field(None, ge=1, le=500)
    in_animation: str | None = None
    out_animation: str | None = None
    loop_animation: str | None = None
    in_animation_duration: Positive | None = None
    out_animation_duration: Positive | None = None
    loop_animation_duration: Positive | None = None
    transition: str | None = None
    transition_duration: Positive | None = None


class KeyframeInfo(_Body):
    segment_id: str = Field(min_length=1)
    property: str = Field(min_length=1)
    offset: float = Field(ge=0)
    value: float


class SceneTimeline(_Body):
    start: Micros
    end: Micros


# --- tracks ---------------------------------------------------------------------------------


def _items(model: type[M], raw: Any, field: str) -> list[M]:
    return [parse(model, item, f"{field}[{i}]") for i, item in enumerate(json_list(raw, field))]


def _refuse(param: str, why: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(f"{param}: {why}", param=param)


def _placement(body: _Placed, draft: DraftContent, kind: TrackKind) -> Track:
    if abs(body.scale_x - body.scale_y) > 1e-9:
        raise _refuse("scale_y", "must equal scale_x: the renderer scales uniformly")
    return Track(
        id=new_id(),
        kind=kind,
        segments=[],
        opacity=body.alpha,
        scale=body.scale_x,
        # transform_x/y are pixels from the centre, positive right/down.
        offset_x=body.transform_x / draft.width,
        offset_y=body.transform_y / draft.height,
    )


def _no_overlaps(segments: list[Segment], field: str) -> None:
    ordered = sorted(enumerate(segments), key=lambda pair: pair[1].start)
    for (i, before), (j, after) in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise _refuse(
                f"{field}[{j}].start",
                f"overlaps {field}[{i}] (which ends at {before.end}); items of one call share a "
                "track, so they must not overlap",
            )


def _transition(
    name: str | None, duration: int | None, param: str
) -> tuple[str | None, int | None]:
    if name is None or not name.strip():
        return None, None
    return names.transition(name, param=param), duration


def _animation(
    in_name: str | None,
    out_name: str | None,
    in_duration: int | None,
    out_duration: int | None,
    param: str,
) -> tuple[str | None, str | None, int | None]:
    a_in = names.animation_in(in_name, param=f"{param}.in_animation") if in_name else None
    a_out = names.animation_out(out_name, param=f"{param}.out_animation") if out_name else None
    if in_duration and out_duration and in_duration != out_duration:
        raise _refuse(
            f"{param}.out_animation_duration",
            "must equal in_animation_duration: the renderer uses one duration for both",
        )
    return a_in, a_out, in_duration or out_duration


def video_track(body: AddVideos, draft: DraftContent) -> Track:
    track = _placement(body, draft, "video")
    infos = _items(VideoInfo, body.video_infos, "video_infos")
    scenes = None
    if body.scene_timelines is not None:
        scenes = [
            parse(SceneTimeline, s, f"scene_timelines[{i}]")
            for i, s in enumerate(body.scene_timelines)
        ]
        if len(scenes) != len(infos):
            raise _refuse("scene_timelines", "must have one item per video_infos item")
    for i, info in enumerate(infos):
        param = f"video_infos[{i}]"
        if info.mask:
            raise _refuse(f"{param}.mask", "masks are not supported by the vidtask renderer")
        start, end, speed = info.start, info.end, 1.0
        if scenes is not None:
            scene = scenes[i]
            if scene.end <= scene.start:
                raise _refuse(f"scene_timelines[{i}].end", "must be greater than start")
            # capcut-mate: the source span end-start plays within the scene's length.
            speed = (info.end - info.start) / (scene.end - scene.start)
            if not 0.25 <= speed <= 4:
                raise _refuse(f"scene_timelines[{i}]", f"gives speed {speed:g}; allowed 0.25-4")
            end = start + (scene.end - scene.start)
        transition, t_duration = _transition(
            info.transition, info.transition_duration, f"{param}.transition"
        )
        track.segments.append(
            Segment(
                id=new_id(),
                material_id=new_id(),
                start=start,
                end=end,
                src=info.video_url,
                volume=info.volume,
                speed=speed,
                transition=transition,
                transition_duration=t_duration,
            )
        )
    _no_overlaps(track.segments, "video_infos")
    return track


def image_track(body: AddImages, draft: DraftContent) -> Track:
    track = _placement(body, draft, "image")
    for i, info in enumerate(_items(ImageInfo, body.image_infos, "image_infos")):
        param = f"image_infos[{i}]"
        if info.loop_animation:
            raise _refuse(f"{param}.loop_animation", "loop animations are not supported")
        a_in, a_out, a_duration = _animation(
            info.in_animation,
            info.out_animation,
            info.in_animation_duration,
            info.out_animation_duration,
            param,
        )
        transition, t_duration = _transition(
            info.transition, info.transition_duration, f"{param}.transition"
        )
        track.segments.append(
            Segment(
                id=new_id(),
                material_id=new_id(),
                start=info.start,
                end=info.end,
                src=info.image_url,
                animation_in=a_in,
                animation_out=a_out,
                animation_duration=a_duration,
                transition=transition,
                transition_duration=t_duration,
            )
        )
    _no_overlaps(track.segments, "image_infos")
    return track


def audio_track(body: AddAudios, draft: DraftContent) -> Track:
    track = Track(id=new_id(), kind="audio", segments=[])
    for i, info in enumerate(_items(AudioInfo, body.audio_infos, "audio_infos")):
        if info.audio_effect:
            raise _refuse(
                f"audio_infos[{i}].audio_effect", "audio effects are not supported by the renderer"
            )
        track.segments.append(
            Segment(
                id=new_id(),
                material_id=new_id(),
                start=info.start,
                end=info.end,
                src=info.audio_url,
                volume=info.volume,
            )
        )
    _no_overlaps(track.segments, "audio_infos")
    return track


def _color(value: str, param: str) -> str:
    if not _HEX.fullmatch(value.strip()):
        raise _refuse(param, f"{value!r} is not a colour; use #rrggbb or #rrggbbaa")
    return value.strip().lower()


def font_pixels(size: float, draft: DraftContent) -> int:
    """JianYing's font size unit in pixels: size 15 (its caption default) is 1/18 of the short
    side of the frame (60 px at 1080p). An approximation; documented in docs/capcut-mate.md."""
    return max(4, round(size * min(draft.width, draft.height) / 270))


_FONTS = {"sans": "sans", "serif": "serif", "黑体": "sans", "宋体": "serif"}


def _caption_style(body: AddCaptions, draft: DraftContent) -> dict[str, Any]:
    if body.text_effect:
        raise _refuse("text_effect", "text effects (花字) are not supported by the renderer")
    if body.style_text:
        raise _refuse("style_text", "rich-text styles are not supported")
    for flag in ("underline", "italic"):
        if getattr(body, flag):
            raise _refuse(flag, f"{flag} text is not supported by the renderer")
    if body.alignment > 2:
        raise _refuse("alignment", "vertical typesetting (3-5) is not supported; use 0, 1 or 2")
    style: dict[str, Any] = {
        "color": _color(body.text_color, "text_color"),
        "align": ("left", "center", "right")[body.alignment],
        "bold": body.bold,
        "max_width": body.line_max_width,
    }
    if body.font is not None:
        font = _FONTS.get(body.font.strip())
        if font is None:
            raise _refuse("font", f"{body.font!r} is not available; use one of {', '.join(_FONTS)}")
        style["font"] = font
    if body.border_color:
        style["stroke"] = {"color": _color(body.border_color, "border_color")}
    if body.letter_spacing:
        style["letter_spacing"] = body.letter_spacing
    if body.line_spacing:
        # JianYing's unit: 1 = 5% of a line; the renderer's default spacing is 1.2 lines.
        style["line_spacing"] = max(0.5, min(4.0, 1.2 + body.line_spacing * 0.05))
    if body.has_shadow or body.shadow_info is not None:
        style["shadow"] = _shadow(body.shadow_info or ShadowInfo(), "shadow_info")
    return style


def _shadow(info: ShadowInfo, param: str) -> dict[str, Any]:
    color = _color(info.shadow_color, f"{param}.shadow_color")[:7]
    angle = math.radians(info.shadow_angle)
    return {
        "color": f"{color}{round(info.shadow_alpha * 255):02x}",
        "x": round(info.shadow_distance * math.cos(angle), 2),
        "y": round(-info.shadow_distance * math.sin(angle), 2),
        "blur": info.shadow_diffuse / 3,
    }


_KEYWORD_EXTRAS = (
    "keyword_border_color",
    "keyword_font",
    "keyword_font_size",
    "keyword_shadow_info",
)


def caption_track(body: AddCaptions, draft: DraftContent) -> Track:
    track = _placement(body, draft, "text")
    base = _caption_style(body, draft)
    for i, info in enumerate(_items(CaptionInfo, body.captions, "captions")):
        param = f"captions[{i}]"
        for name in _KEYWORD_EXTRAS:
            if getattr(info, name) is not None:
                raise _refuse(f"{param}.{name}", "keywords can only change colour (keyword_color)")
        if info.keyword_has_shadow:
            raise _refuse(f"{param}.keyword_has_shadow", "keyword shadows are not supported")
        if info.loop_animation:
            raise _refuse(f"{param}.loop_animation", "loop animations are not supported")
        if info.transition:
            raise _refuse(f"{param}.transition", "captions have no transitions; use animations")
        style = dict(base)
        style["font_size"] = font_pixels(info.font_size or body.font_size, draft)
        words = [w.strip() for w in (info.keyword or "").split("|") if w.strip()]
        if words:
            style["highlight"] = {
                "words": words,
                "color": _color(info.keyword_color, f"{param}.keyword_color"),
            }
        a_in, a_out, a_duration = _animation(
            info.in_animation,
            info.out_animation,
            info.in_animation_duration,
            info.out_animation_duration,
            param,
        )
        track.segments.append(
            Segment(
                id=new_id(),
                material_id=new_id(),
                start=info.start,
                end=info.end,
                text=info.text,
                text_style=style,
                animation_in=a_in,
                animation_out=a_out,
                animation_duration=a_duration,
            )
        )
    _no_overlaps(track.segments, "captions")
    return track


# --- keyframes ------------------------------------------------------------------------------

#: capcut-mate property names (both spellings) -> renderer keyframe property.
PROPERTIES: dict[str, str] = {
    "KFTypePositionX": "x",
    "position_x": "x",
    "KFTypePositionY": "y",
    "position_y": "y",
    "UNIFORM_SCALE": "scale",
    "scale": "scale",
    "KFTypeScaleX": "scale_x",
    "scale_x": "scale_x",
    "KFTypeScaleY": "scale_y",
    "scale_y": "scale_y",
    "KFTypeRotation": "rotation",
    "rotation": "rotation",
    "KFTypeAlpha": "opacity",
    "alpha": "opacity",
}
_UNSUPPORTED_PROPERTIES = ("KFTypeSaturation", "KFTypeContrast", "KFTypeBrightness", "KFTypeVolume")


def keyframes(body: AddKeyframes, draft: DraftContent) -> tuple[int, list[str]]:
    """Add the keyframes to their segments in ``draft`` (in place); returns how many were added
    and the affected segment ids."""
    touched: dict[str, Segment] = {}
    items = _items(KeyframeInfo, body.keyframes, "keyframes")
    for i, item in enumerate(items):
        param = f"keyframes[{i}]"
        found = draft.find_segment(item.segment_id)
        if found is None:
            raise _refuse(f"{param}.segment_id", f"no segment {item.segment_id!r} in this draft")
        track, segment = found
        if track.kind == "audio":
            raise _refuse(f"{param}.segment_id", "keyframes apply to visual segments only")
        prop = PROPERTIES.get(item.property)
        if prop is None:
            why = (
                "is not supported by the renderer"
                if item.property in _UNSUPPORTED_PROPERTIES
                else "is unknown"
            )
            raise _refuse(
                f"{param}.property",
                f"{item.property!r} {why}; supported: {', '.join(PROPERTIES)}",
            )
        length = segment.end - segment.start
        # The documented 0-1 form is a fraction of the segment; capcut-mate's is microseconds.
        offset = round(item.offset * length) if item.offset <= 1 else round(item.offset)
        offset = min(offset, length)
        value = _keyframe_value(prop, item.value, draft, param)
        points = [p for p in segment.keyframes.get(prop, []) if p.offset != offset]
        points.append(KeyframePoint(offset=offset, value=value))
        segment.keyframes[prop] = sorted(points, key=lambda p: p.offset)
        touched[segment.id] = segment
    for segment in touched.values():
        _merge_scale(segment)
    return len(items), list(touched)


def _keyframe_value(prop: str, value: float, draft: DraftContent, param: str) -> float:
    if prop == "x":  # half-canvas units (|v| <= 1) or pixels, right positive
        return value / 2 if abs(value) <= 1 else value / draft.width
    if prop == "y":  # JianYing's y points up; the renderer's down
        return -(value / 2 if abs(value) <= 1 else value / draft.height)
    if prop == "opacity" and not 0 <= value <= 1:
        raise _refuse(f"{param}.value", "alpha must be between 0 and 1")
    if prop in ("scale", "scale_x", "scale_y") and not 0 <= value <= 10:
        raise _refuse(f"{param}.value", "scale must be between 0 and 10")
    return value


def _merge_scale(segment: Segment) -> None:
    """KFTypeScaleX and KFTypeScaleY become one uniform scale once both are given and agree
    (until then they are kept apart; the compiler refuses a lone one)."""
    sx, sy = segment.keyframes.get("scale_x"), segment.keyframes.get("scale_y")
    if sx is None or sy is None:
        return
    if sx != sy:
        raise _refuse(
            "keyframes",
            f"segment {segment.id}: KFTypeScaleX and KFTypeScaleY keyframes must match (the "
            "renderer scales uniformly); use UNIFORM_SCALE",
        )
    if "scale" in segment.keyframes:
        raise _refuse("keyframes", f"segment {segment.id}: mixes UNIFORM_SCALE and KFTypeScaleX/Y")
    segment.keyframes["scale"] = sx
    del segment.keyframes["scale_x"], segment.keyframes["scale_y"]
