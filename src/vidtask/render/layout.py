"""Where a visual clip lands on the frame: crop, scaled size and top-left corner, in pixels.

Computed in Python from probed sizes so the filter graph holds plain numbers. Sizes are even
because 4:2:0 chroma cannot represent odd ones exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vidtask.render import schema

__all__ = ["Placement", "place", "position_xy"]


@dataclass(frozen=True, slots=True)
class Placement:
    #: Centered crop of the source (w, h) applied before scaling, for ``fit=cover``.
    crop: tuple[int, int] | None
    width: int
    height: int
    x: int
    y: int


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def position_xy(
    clip: schema.Clip, frame: tuple[int, int], size: tuple[int, int]
) -> tuple[int, int]:
    """Top-left corner of a ``size`` box placed at ``clip.position`` plus ``clip.offset``."""
    (fw, fh), (w, h) = frame, size
    name = clip.position
    if "left" in name:
        x = 0.0
    elif "right" in name:
        x = float(fw - w)
    else:
        x = (fw - w) / 2
    if "top" in name:
        y = 0.0
    elif "bottom" in name:
        y = float(fh - h)
    else:
        y = (fh - h) / 2
    return math.floor(x + clip.offset.x * fw + 0.5), math.floor(y + clip.offset.y * fh + 0.5)


def place(clip: schema.Clip, source: tuple[int, int], frame: tuple[int, int]) -> Placement:
    """Lay out an image/video/colour clip of ``source`` pixels on a ``frame``."""
    (sw, sh), (fw, fh) = source, frame
    crop: tuple[int, int] | None = None
    if clip.fit == "stretch" or isinstance(clip.asset, schema.ColorAsset):
        width, height = fw * clip.scale, fh * clip.scale
    elif clip.fit == "contain":
        factor = min(fw / sw, fh / sh) * clip.scale
        width, height = sw * factor, sh * factor
    else:
        target = fw / fh
        cw, ch = (sh * target, sh) if sw / sh > target else (sw, sw / target)
        crop = (min(sw, _even(cw)), min(sh, _even(ch)))
        if crop == (sw, sh):
            crop = None
        width, height = fw * clip.scale, fh * clip.scale
    size = (_even(width), _even(height))
    x, y = position_xy(clip, frame, size)
    return Placement(crop=crop, width=size[0], height=size[1], x=x, y=y)
