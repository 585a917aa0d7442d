"""Where a visual clip lands on the frame: crop, scaled size and top-left corner, in pixels.

Computed in Python from probed sizes so the filter graph holds plain numbers. Sizes are even
because 4:2:0 chroma cannot represent odd ones exactly. Crops happen before scaling, so the
scaler never touches pixels that are thrown away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vidtask.render import schema

__all__ = ["Blur", "Placement", "Rect", "place", "position_xy", "region"]


@dataclass(frozen=True, slots=True)
class Rect:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Blur:
    """For ``fit=blur``: the sharp picture's place inside the clip's region, and the crop of the
    source that covers the whole region behind it."""

    cover_crop: Rect
    inner: Rect


@dataclass(frozen=True, slots=True)
class Placement:
    #: Part of the source (in source pixels) to keep before scaling; None keeps all of it.
    crop: Rect | None
    width: int
    height: int
    x: int
    y: int
    blur: Blur | None = None


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def region(clip: schema.Clip, frame: tuple[int, int]) -> tuple[int, int, int, int]:
    """The area a clip is laid out in, as (x, y, width, height) pixels: its ``box`` or the
    whole frame."""
    fw, fh = frame
    box = clip.box
    if box is None:
        return 0, 0, fw, fh
    return round(box.x * fw), round(box.y * fh), _even(box.width * fw), _even(box.height * fh)


def _anchor(name: str, space: tuple[int, int], size: tuple[int, int]) -> tuple[float, float]:
    (rw, rh), (w, h) = space, size
    x = 0.0 if "left" in name else float(rw - w) if "right" in name else (rw - w) / 2
    y = 0.0 if "top" in name else float(rh - h) if "bottom" in name else (rh - h) / 2
    return x, y


def position_xy(
    clip: schema.Clip, frame: tuple[int, int], size: tuple[int, int]
) -> tuple[int, int]:
    """Top-left corner of a ``size`` box placed at ``clip.position`` (inside the clip's
    region) plus ``clip.offset`` (fractions of the frame)."""
    fw, fh = frame
    rx, ry, rw, rh = region(clip, frame)
    x, y = _anchor(clip.position, (rw, rh), size)
    return (
        math.floor(rx + x + clip.offset.x * fw + 0.5),
        math.floor(ry + y + clip.offset.y * fh + 0.5),
    )


def _user_crop(clip: schema.Clip, source: tuple[int, int]) -> Rect:
    sw, sh = source
    crop = clip.crop
    if crop is None:
        return Rect(0, 0, sw, sh)
    x, y = round(crop.left * sw), round(crop.top * sh)
    width = max(2, round(sw * (1 - crop.left - crop.right)))
    height = max(2, round(sh * (1 - crop.top - crop.bottom)))
    return Rect(x, y, min(width, sw - x), min(height, sh - y))


def _cover(area: Rect, target: tuple[int, int]) -> Rect:
    """The centered part of ``area`` with the aspect ratio of ``target``."""
    ratio = target[0] / target[1]
    if area.width / area.height > ratio:
        width, height = min(area.width, _even(area.height * ratio)), area.height
    else:
        width, height = area.width, min(area.height, _even(area.width / ratio))
    return Rect(area.x + (area.width - width) // 2, area.y + (area.height - height) // 2,
                width, height)  # fmt: skip


def place(clip: schema.Clip, source: tuple[int, int], frame: tuple[int, int]) -> Placement:
    """Lay out an image/video/colour clip of ``source`` pixels in its region of ``frame``."""
    _, _, rw, rh = region(clip, frame)
    if isinstance(clip.asset, schema.ColorAsset):
        size = (_even(rw * clip.scale), _even(rh * clip.scale))
        return Placement(None, *size, *position_xy(clip, frame, size))
    area = _user_crop(clip, source)
    whole = area == Rect(0, 0, *source)
    if clip.fit == "stretch":
        size = (_even(rw * clip.scale), _even(rh * clip.scale))
        return Placement(None if whole else area, *size, *position_xy(clip, frame, size))
    if clip.fit == "cover":
        crop = _cover(area, (rw, rh))
        size = (_even(rw * clip.scale), _even(rh * clip.scale))
        keep = None if crop == Rect(0, 0, *source) else crop
        return Placement(keep, *size, *position_xy(clip, frame, size))
    factor = min(rw / area.width, rh / area.height) * clip.scale
    size = (_even(area.width * factor), _even(area.height * factor))
    if clip.fit == "contain":
        return Placement(None if whole else area, *size, *position_xy(clip, frame, size))
    # blur: the region is filled; the sharp picture sits inside it at ``position``.
    x, y = _anchor(clip.position, (rw, rh), size)
    inner = Rect(round(x), round(y), *size)
    blur = Blur(cover_crop=_cover(area, (rw, rh)), inner=inner)
    corner = position_xy(clip.model_copy(update={"position": "top_left"}), frame, (rw, rh))
    return Placement(None if whole else area, rw, rh, *corner, blur=blur)
