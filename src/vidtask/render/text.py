"""Draw a text clip into a transparent PNG with Pillow; FFmpeg only overlays the image.

Latin and Korean text wraps at spaces, Chinese and Japanese (other wide) characters wrap
anywhere, closing punctuation never starts a line, and a word wider than the line is broken per
character. Styles: colour, bold,
outline (stroke), soft drop shadow, a box with padding and rounded corners, alignment, letter
and line spacing, and highlighted words in another colour. Pixel sizes are given for the
requested output size and multiplied by ``scale`` (the clip's scale times the render scale).
"""

from __future__ import annotations

import bisect
import itertools
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

from vidtask.render import schema
from vidtask.render.fonts import FontFace

__all__ = ["RenderedText", "color_runs", "render_text", "wrap"]

_NO_LINE_START = frozenset("，。、；：！？）」』】》〉’”…,.!?;:)]}%")

Measure = Callable[[str], float]
RGBA = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class RenderedText:
    path: Path
    width: int
    height: int


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


#: Hangul jamo, compatibility jamo, jamo extended A, syllables and jamo extended B.
_HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF))


def _breaks_anywhere(ch: str) -> bool:
    """Wide characters, except Hangul: Korean separates its words with spaces."""
    code = ord(ch)
    return _is_wide(ch) and not any(low <= code <= high for low, high in _HANGUL)


def _joins(last: str, ch: str) -> bool:
    """Whether ``ch`` continues the token that ``last`` ends."""
    return (
        not _breaks_anywhere(ch) and not _breaks_anywhere(last) and last.isspace() == ch.isspace()
    )


def _tokens(paragraph: str) -> list[str]:
    """Words, runs of spaces, and single characters that break anywhere."""
    starts = [n for n in range(1, len(paragraph)) if not _joins(paragraph[n - 1], paragraph[n])]
    bounds = [0, *starts, len(paragraph)] if paragraph else []
    return [paragraph[a:b] for a, b in itertools.pairwise(bounds)]


def _first(count: int, fails: Callable[[int], bool]) -> int:
    """The first of ``0 .. count - 1`` for which ``fails`` holds (``count`` if none), where
    ``fails`` stays true once true: by doubling, then bisecting, so it tries O(log answer)
    indices and none beyond twice the answer."""
    passed, failed, step = 0, count, 1
    while passed + step - 1 < failed:
        probe = passed + step - 1
        if fails(probe):
            failed = probe
            break
        passed, step = probe + 1, step * 2
    while passed < failed:
        middle = (passed + failed) // 2
        if fails(middle):
            failed = middle
        else:
            passed = middle + 1
    return failed


def wrap(
    text: str, font: ImageFont.FreeTypeFont, max_px: float, measure: Measure | None = None
) -> list[str]:
    """Greedy line breaking by measured advance width (``measure`` defaults to the font's)."""
    size: Measure = measure or font.getlength
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += _wrap_paragraph(paragraph, size, max_px)
    return lines


def _wrap_paragraph(paragraph: str, size: Measure, max_px: float) -> list[str]:
    """A line ends before the first word (or wide character) that would make it wider than
    ``max_px``; spaces and closing punctuation never start one. A line only grows as words are
    added, so `_first` finds that word in O(log n) measurements of at most about twice the line.
    (Measuring the line after every word was quadratic in the box's width, and a word wider
    than the box was re-measured whole for each of its lines.)"""
    tokens = _tokens(paragraph)
    ends = list(itertools.accumulate(map(len, tokens)))
    starts = [end - len(token) for end, token in zip(ends, tokens, strict=True)]
    words = [n for n, token in enumerate(tokens) if not token.isspace()]
    if not words:
        return [""]
    # Where a line may break: before a word that is not closing punctuation.
    breaks = [n for n in words[1:] if tokens[n][0] not in _NO_LINE_START]
    lines: list[str] = []
    n, begin = words[0], starts[words[0]]
    while True:
        # The line's first word: while wider than the line, cut it as late as it fits. What is
        # left is measured whole only when short: re-measuring a long word per line was
        # quadratic, and `_first` finds out whether it fits.
        cut = 0
        while ends[n] - begin > 1:
            rest = ends[n] - begin
            if (not cut or rest <= 2 * cut) and size(paragraph[begin : ends[n]]) <= max_px:
                break
            cut = 1 + _first(rest - 1, lambda i: size(paragraph[begin : begin + i + 2]) > max_px)
            if cut == rest:
                break
            lines.append(paragraph[begin : begin + cut])
            begin += cut
        later = bisect.bisect_right(breaks, n)
        k = _first(
            len(breaks) - later, lambda i: size(paragraph[begin : ends[breaks[later + i]]]) > max_px
        )
        if later + k == len(breaks):
            lines.append(paragraph[begin:].rstrip())
            return lines
        n = breaks[later + k]
        lines.append(paragraph[begin : starts[n]].rstrip())
        begin = starts[n]


def color_runs(line: str, words: list[str], base: RGBA, accent: RGBA) -> list[tuple[str, RGBA]]:
    """Split ``line`` into runs of the base colour and of ``accent`` where a word occurs.

    Matching ignores case; a Latin word only matches whole (not inside a longer word)."""
    marked = [False] * len(line)
    folded = line.casefold()
    for word in words:
        needle = word.casefold()
        at = folded.find(needle)
        while at >= 0 and needle:
            end = at + len(needle)
            before = folded[at - 1] if at else " "
            after = folded[end] if end < len(folded) else " "
            latin = needle[0].isalnum() and not _is_wide(needle[0])
            if not latin or (not before.isalnum() and not after.isalnum()):
                marked[at:end] = [True] * len(needle)
            at = folded.find(needle, at + 1)
    runs: list[tuple[str, RGBA]] = []
    for ch, hit in zip(line, marked, strict=True):
        color = accent if hit else base
        if runs and runs[-1][1] == color:
            runs[-1] = (runs[-1][0] + ch, color)
        else:
            runs.append((ch, color))
    return runs


def _load(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(face.path), size, index=face.index, layout_engine=engine)


def _even(value: float) -> int:
    return max(2, math.ceil(value / 2) * 2)


class _Painter:
    """Draws lines of runs with letter spacing; the same geometry for text and its shadow."""

    def __init__(self, font: ImageFont.FreeTypeFont, spacing: float, stroke: int) -> None:
        self.font, self.spacing, self.stroke = font, spacing, stroke

    def measure(self, text: str) -> float:
        width = self.font.getlength(text)
        return width + self.spacing * max(0, len(text) - 1)

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        runs: list[tuple[str, RGBA]],
        stroke_fill: RGBA | None,
        fill: RGBA | None = None,
    ) -> None:
        """Draw ``runs`` from the left end of the baseline ``xy``; ``fill`` overrides colours."""
        x, y = xy
        stroke = self.stroke if stroke_fill is not None else 0
        for run, color in runs:
            pieces = list(run) if self.spacing else [run]
            for piece in pieces:
                draw.text(
                    (x, y), piece, font=self.font, fill=fill or color, anchor="ls",
                    stroke_width=stroke, stroke_fill=stroke_fill,
                )  # fmt: skip
                x += self.font.getlength(piece) + (self.spacing if self.spacing else 0)


def render_text(
    asset: schema.TextAsset,
    *,
    face: FontFace,
    frame_width: int,
    scale: float,
    dest: Path,
    bold_face: FontFace | None = None,
) -> RenderedText:
    """Render ``asset`` at ``font_size * scale`` px, wrapped to ``max_width`` of
    ``frame_width`` (the width of the clip's region, in render pixels).

    With ``bold`` and no ``bold_face``, the regular face is emboldened with a thin outline of
    the text's own colour."""
    size = max(1, round(asset.font_size * scale))
    font = _load(bold_face if asset.bold and bold_face else face, size)
    fill = schema.rgba(asset.color)
    faux_bold = asset.bold and bold_face is None
    stroke_px = math.ceil(asset.stroke.width * scale) if asset.stroke else 0
    if faux_bold:
        stroke_px = max(stroke_px, max(1, round(size / 30)))
    stroke_fill = schema.rgba(asset.stroke.color) if asset.stroke else fill if faux_bold else None
    painter = _Painter(font, asset.letter_spacing * scale, stroke_px)

    default_pad = size * 0.35 if asset.background else size * 0.1
    pad = asset.padding * scale if asset.padding is not None else default_pad
    inner = pad + stroke_px
    max_px = max(size, asset.max_width * frame_width - 2 * inner)
    lines = wrap(asset.text, font, max_px, painter.measure)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    step = round(line_height * asset.line_spacing)
    widths = [painter.measure(line) for line in lines]
    block_w = max(widths, default=0.0)
    block_h = line_height + step * (len(lines) - 1)

    shadow = asset.shadow
    reach = 0.0
    if shadow is not None:
        reach = max(abs(shadow.x), abs(shadow.y)) * scale + 2 * shadow.blur * scale
    margin = math.ceil(reach)
    box_w, box_h = block_w + 2 * inner, block_h + 2 * inner
    width, height = _even(box_w + 2 * margin), _even(box_h + 2 * margin)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    left, top = (width - box_w) / 2, (height - box_h) / 2
    if asset.background:
        radius = asset.radius * scale if asset.radius is not None else size * 0.2
        ImageDraw.Draw(image).rounded_rectangle(
            (left, top, left + box_w - 1, top + box_h - 1),
            radius=round(radius),
            fill=schema.rgba(asset.background),
        )
    accent = schema.rgba(asset.highlight.color) if asset.highlight else fill
    words = asset.highlight.words if asset.highlight else []
    placed = []
    for i, (line, line_w) in enumerate(zip(lines, widths, strict=True)):
        if asset.align == "left":
            x = left + inner
        elif asset.align == "right":
            x = left + box_w - inner - line_w
        else:
            x = left + (box_w - line_w) / 2
        placed.append(((x, top + inner + ascent + i * step), color_runs(line, words, fill, accent)))

    if shadow is not None:
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        color = schema.rgba(shadow.color)
        for (x, y), runs in placed:
            offset = (x + shadow.x * scale, y + shadow.y * scale)
            painter.draw(draw, offset, runs, color if stroke_px else None, fill=color)
        if shadow.blur > 0:
            layer = layer.filter(ImageFilter.GaussianBlur(shadow.blur * scale))
        image = Image.alpha_composite(image, layer)
    draw = ImageDraw.Draw(image)
    for xy, runs in placed:
        painter.draw(draw, xy, runs, stroke_fill)
    dest.parent.mkdir(parents=True, exist_ok=True)
    image.save(dest, format="PNG")
    return RenderedText(path=dest, width=width, height=height)
