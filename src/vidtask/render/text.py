"""Draw a text clip into a transparent PNG with Pillow; FFmpeg only overlays the image.

Latin text wraps at spaces, CJK (wide) characters wrap anywhere, closing punctuation never
starts a line, and a word wider than the line is broken per character.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from vidtask.render import schema
from vidtask.render.fonts import FontFace

__all__ = ["RenderedText", "render_text", "wrap"]

_NO_LINE_START = frozenset("，。、；：！？）」』】》〉’”…,.!?;:)]}%")
_LINE_SPACING = 0.2


@dataclass(frozen=True, slots=True)
class RenderedText:
    path: Path
    width: int
    height: int


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(paragraph: str) -> list[str]:
    tokens: list[str] = []
    for ch in paragraph:
        last = tokens[-1][-1] if tokens else ""
        if not _is_wide(ch) and last and not _is_wide(last) and last.isspace() == ch.isspace():
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


def wrap(text: str, font: ImageFont.FreeTypeFont, max_px: float) -> list[str]:
    """Greedy line breaking by measured advance width."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _tokens(paragraph):
            if token.isspace():
                line += token if line else ""
                continue
            if not line or font.getlength(line + token) <= max_px or token[0] in _NO_LINE_START:
                line += token
            else:
                lines.append(line.rstrip())
                line = token
            while line == token and len(line) > 1 and font.getlength(line) > max_px:
                cut = _fit(line, font, max_px)
                lines.append(line[:cut].rstrip())
                line = token = line[cut:].lstrip()
        lines.append(line.rstrip())
    return lines


def _fit(line: str, font: ImageFont.FreeTypeFont, max_px: float) -> int:
    """How many leading characters of ``line`` fit in ``max_px`` (at least one)."""
    cut = 1
    while cut < len(line) and font.getlength(line[: cut + 1]) <= max_px:
        cut += 1
    return cut


def _load(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(face.path), size, index=face.index, layout_engine=engine)


def _even(value: float) -> int:
    return max(2, math.ceil(value / 2) * 2)


def render_text(
    asset: schema.TextAsset, *, face: FontFace, frame_width: int, scale: float, dest: Path
) -> RenderedText:
    """Render ``asset`` at ``font_size * scale`` px, wrapped to ``max_width`` of the frame."""
    size = max(1, round(asset.font_size * scale))
    font = _load(face, size)
    pad = round(size * 0.35) if asset.background else math.ceil(size * 0.1)
    max_px = max(size, asset.max_width * frame_width - 2 * pad)
    lines = wrap(asset.text, font, max_px)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    step = round(line_height * (1 + _LINE_SPACING))
    widths = [font.getlength(line) for line in lines]
    content_w = max(widths, default=0.0)
    width = _even(content_w + 2 * pad)
    height = _even(line_height + step * (len(lines) - 1) + 2 * pad)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if asset.background:
        radius = round(size * 0.2)
        draw.rounded_rectangle(
            (0, 0, width - 1, height - 1), radius=radius, fill=schema.rgba(asset.background)
        )
    fill = schema.rgba(asset.color)
    for i, (line, line_w) in enumerate(zip(lines, widths, strict=True)):
        x: float
        if asset.align == "left":
            x = pad
        elif asset.align == "right":
            x = width - pad - line_w
        else:
            x = (width - line_w) / 2
        draw.text((x, pad + ascent + i * step), line, font=font, fill=fill, anchor="ls")
    dest.parent.mkdir(parents=True, exist_ok=True)
    image.save(dest, format="PNG")
    return RenderedText(path=dest, width=width, height=height)
