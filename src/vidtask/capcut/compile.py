"""A draft compiled to a vidtask timeline (`vidtask.render.schema`), plus where each clip came
from, so a render-time error can name the capcut-mate segment instead of a timeline path."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vidtask.capcut.draft import US, DraftContent, Segment, Track
from vidtask.core import errors

__all__ = ["Compiled", "compile_draft", "rename_error"]


@dataclass(frozen=True, slots=True)
class Compiled:
    timeline: dict[str, Any]
    #: ``tracks[i].clips[j]`` -> ``segment <id>``.
    origins: dict[str, str] = field(default_factory=dict)


#: Drawing order: pictures first, captions on top (as in JianYing); sound has no layer.
_LAYERS = {"video": 0, "image": 0, "text": 1, "audio": 2}


def compile_draft(draft: DraftContent) -> Compiled:
    if draft.imported_timeline is not None:
        return Compiled(draft.imported_timeline)
    tracks: list[dict[str, Any]] = []
    origins: dict[str, str] = {}
    ordered = sorted(
        (t for t in draft.tracks if t.segments), key=lambda t: _LAYERS[t.kind]
    )  # stable: call order within a layer
    for t, track in enumerate(ordered):
        segments = sorted(track.segments, key=lambda s: s.start)
        clips = []
        for c, segment in enumerate(segments):
            clip = _clip(track, segment)
            before = segments[c - 1] if c else None
            if before is not None and before.transition is not None:
                transition: dict[str, Any] = {"type": before.transition}
                if before.transition_duration:
                    transition["duration"] = before.transition_duration / US
                clip["transition"] = transition
            clips.append(clip)
            origins[f"tracks[{t}].clips[{c}]"] = f"segment {segment.id}"
        tracks.append({"clips": clips})
    if not tracks:
        raise errors.InvalidRequest(
            "draft_url: the draft is empty; add videos, images, audios or captions first",
            param="draft_url",
        )
    output = {"width": draft.width, "height": draft.height, "fps": draft.fps}
    return Compiled({"output": output, "tracks": tracks}, origins)


def _clip(track: Track, segment: Segment) -> dict[str, Any]:
    start, length = segment.start / US, (segment.end - segment.start) / US
    if track.kind == "audio":
        return {
            "asset": {"type": "audio", "src": segment.src, "volume": segment.volume},
            "start": start,
            "length": length,
        }
    asset: dict[str, Any]
    if track.kind == "video":
        asset = {"type": "video", "src": segment.src, "volume": segment.volume}
        if segment.speed != 1.0:
            asset["speed"] = segment.speed
    elif track.kind == "image":
        asset = {"type": "image", "src": segment.src}
    else:
        asset = {"type": "text", "text": segment.text, **segment.text_style}
    clip: dict[str, Any] = {"asset": asset, "start": start, "length": length}
    if track.kind != "text":
        clip["fit"] = "contain"  # JianYing fits a material inside the canvas
    clip["opacity"] = track.opacity
    clip["scale"] = track.scale
    if track.offset_x or track.offset_y:
        clip["offset"] = {"x": track.offset_x, "y": track.offset_y}
    keyframes = _keyframes(track, segment)
    if keyframes:
        clip["keyframes"] = keyframes
        # JianYing keyframes are absolute values; the renderer's multiply the clip's own.
        if "scale" in keyframes:
            clip["scale"] = 1.0
        if "opacity" in keyframes:
            clip["opacity"] = 1.0
    if segment.animation_in or segment.animation_out:
        animation: dict[str, Any] = {
            "in": segment.animation_in or "none",
            "out": segment.animation_out or "none",
        }
        if segment.animation_duration:
            animation["duration"] = segment.animation_duration / US
        clip["animation"] = animation
    return clip


def _keyframes(track: Track, segment: Segment) -> dict[str, list[dict[str, float]]]:
    lone = {"scale_x", "scale_y"} & set(segment.keyframes)
    if lone:
        raise errors.InvalidRequest(
            f"draft_url: segment {segment.id} has {'/'.join(sorted(lone))} keyframes without "
            "matching ones for the other axis (the renderer scales uniformly)",
            param="draft_url",
        )
    # x/y keyframes add to the clip's offset: subtract it to keep JianYing's absolute positions.
    base = {"x": track.offset_x, "y": track.offset_y}
    return {
        prop: [
            {"time": p.offset / US, "value": round(p.value - base.get(prop, 0.0), 6)}
            for p in points
        ]
        for prop, points in segment.keyframes.items()
    }


_CLIP = re.compile(r"(?:input\.)?(tracks\[\d+\]\.clips\[\d+\])")


def rename_error(exc: errors.InvalidRequest, origins: dict[str, str]) -> errors.InvalidRequest:
    """The renderer's ``input.tracks[0].clips[1].transition: ...`` as ``segment <id>:
    transition: ...`` (param ``draft_url``)."""
    found = _CLIP.search(exc.param or "") or _CLIP.search(exc.message)
    if found is None or found.group(1) not in origins:
        return exc
    where = origins[found.group(1)]
    message = _CLIP.sub(where, exc.message, count=1)
    return errors.InvalidRequest(f"draft_url: {message}", param="draft_url")
