"""capcut-mate's data-reshaping helpers for Coze/n8n workflows: they build the JSON strings
that ``add_*`` takes. Pure (``audio_timelines`` gets the durations from its caller)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vidtask.capcut.params import SceneTimeline
from vidtask.core import errors

__all__ = [
    "AudioInfos",
    "AudioTimelines",
    "CaptionInfos",
    "ImgsInfos",
    "StrToList",
    "Timelines",
    "VideoInfos",
    "audio_infos",
    "audio_timelines",
    "caption_infos",
    "imgs_infos",
    "str_to_list",
    "timelines",
    "video_infos",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Timelines(_Body):
    duration: int = Field(gt=0)
    num: int = Field(ge=1, le=1000)
    start: int = Field(ge=0)
    type: Literal[0, 1] = 0


class AudioTimelines(_Body):
    links: list[str] = Field(min_length=1, max_length=200)


class _Infos(_Body):
    timelines: list[SceneTimeline] = Field(min_length=1)


class ImgsInfos(_Infos):
    imgs: list[str] = Field(min_length=1)
    width: int | None = None
    height: int | None = None
    in_animation: str | None = None
    in_animation_duration: int | None = None
    loop_animation: str | None = None
    loop_animation_duration: int | None = None
    out_animation: str | None = None
    out_animation_duration: int | None = None
    transition: str | None = None
    transition_duration: int | None = None


class VideoInfos(_Infos):
    video_urls: list[str] = Field(min_length=1)
    width: int | None = None
    height: int | None = None
    mask: str | None = None
    transition: str | None = None
    transition_duration: int | None = None
    volume: float | None = None


class AudioInfos(_Infos):
    mp3_urls: list[str] = Field(min_length=1)
    audio_effect: str | None = None
    volume: float | None = None


class CaptionInfos(_Infos):
    texts: list[str] = Field(min_length=1)
    font_size: int | None = None
    keyword_color: str | None = None
    keyword_border_color: str | None = None
    keyword_font: str | None = None
    keyword_font_size: int | None = None
    keyword_has_shadow: bool | None = None
    keyword_shadow_info: dict[str, Any] | None = None
    keywords: list[str] | None = None
    in_animation: str | None = None
    in_animation_duration: int | None = None
    loop_animation: str | None = None
    loop_animation_duration: int | None = None
    out_animation: str | None = None
    out_animation_duration: int | None = None
    transition: str | None = None
    transition_duration: int | None = None


class StrToList(_Body):
    obj: str


def _span(start: int, end: int) -> dict[str, int]:
    return {"start": start, "end": end}


def timelines(body: Timelines, rng: random.Random | None = None) -> dict[str, Any]:
    """``num`` consecutive spans over ``duration`` from ``start``: equal (type 0) or random
    cut points (type 1)."""
    if body.duration < body.num:
        raise errors.InvalidRequest("num: must not exceed duration (microseconds)", param="num")
    if body.type == 0:
        cuts = [body.duration * i // body.num for i in range(body.num + 1)]
    else:
        picked = sorted((rng or random.Random()).sample(range(1, body.duration), body.num - 1))
        cuts = [0, *picked, body.duration]
    spans = [_span(body.start + a, body.start + b) for a, b in zip(cuts, cuts[1:], strict=False)]
    return {"timelines": spans, "all_timelines": [_span(body.start, body.start + body.duration)]}


def audio_timelines(durations_us: Sequence[int]) -> dict[str, Any]:
    """Back-to-back spans, one per audio file, as long as the file."""
    spans, at = [], 0
    for duration in durations_us:
        spans.append(_span(at, at + duration))
        at += duration
    return {"timelines": spans, "all_timelines": [_span(0, at)]}


def _dump(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


def _with(item: dict[str, Any], body: BaseModel, fields: Sequence[str]) -> dict[str, Any]:
    for name in fields:
        value = getattr(body, name)
        if value is not None:
            item[name] = value
    return item


_IMAGE_FIELDS = ("height", "width", "in_animation", "in_animation_duration", "out_animation",
                 "out_animation_duration", "loop_animation", "loop_animation_duration",
                 "transition", "transition_duration")  # fmt: skip


def imgs_infos(body: ImgsInfos) -> dict[str, Any]:
    items = [
        _with({"image_url": url, **span.model_dump()}, body, _IMAGE_FIELDS)
        for url, span in zip(body.imgs, body.timelines, strict=False)
    ]
    return {"infos": _dump(items)}


def video_infos(body: VideoInfos) -> dict[str, Any]:
    fields = ("height", "width", "mask", "transition", "transition_duration", "volume")
    items = [
        _with({"video_url": url, **span.model_dump()}, body, fields)
        for url, span in zip(body.video_urls, body.timelines, strict=False)
    ]
    return {"infos": _dump(items)}


def audio_infos(body: AudioInfos) -> dict[str, Any]:
    items = [
        _with({"audio_url": url, **span.model_dump()}, body, ("audio_effect", "volume"))
        for url, span in zip(body.mp3_urls, body.timelines, strict=False)
    ]
    return {"infos": _dump(items)}


_CAPTION_FIELDS = ("keyword_color", "keyword_border_color", "keyword_font", "keyword_font_size",
                   "keyword_has_shadow", "keyword_shadow_info", "font_size", "in_animation",
                   "in_animation_duration", "loop_animation", "loop_animation_duration",
                   "out_animation", "out_animation_duration", "transition",
                   "transition_duration")  # fmt: skip


def caption_infos(body: CaptionInfos) -> dict[str, Any]:
    keywords = body.keywords or []
    items = []
    for i, (text, span) in enumerate(zip(body.texts, body.timelines, strict=False)):
        item: dict[str, Any] = {**span.model_dump(), "text": text}
        if body.keywords is not None:
            item["keyword"] = keywords[i] if i < len(keywords) else ""
        items.append(_with(item, body, _CAPTION_FIELDS))
    return {"infos": _dump(items)}


def str_to_list(body: StrToList) -> dict[str, Any]:
    return {"infos": [body.obj]}
