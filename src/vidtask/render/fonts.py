"""Pick a font that has a glyph for every character of a text, so nothing renders as tofu.

Order: the operator's explicit font, then well-known CJK-capable fonts, then DejaVu, then any
font file found under the usual directories. Coverage comes from the font's cmap (fontTools),
loaded once per face.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped]

from vidtask.core import errors

__all__ = ["FontFace", "bold_face", "choose_font", "missing_glyph"]

log = logging.getLogger(__name__)

Family = Literal["sans", "serif"]

_NOTO = Path("/usr/share/fonts/opentype/noto")
_SANS: tuple[tuple[Path, int], ...] = (
    (_NOTO / "NotoSansCJK-Regular.ttc", 2),  # face 2 = Simplified Chinese
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), 0),
    (Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"), 0),
)
_SERIF: tuple[tuple[Path, int], ...] = (
    (_NOTO / "NotoSerifCJK-Regular.ttc", 2),
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"), 0),
    (Path("/usr/share/fonts/dejavu/DejaVuSerif.ttf"), 0),
)
_SANS_BOLD: tuple[tuple[Path, int], ...] = (
    (_NOTO / "NotoSansCJK-Bold.ttc", 2),
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"), 0),
    (Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"), 0),
)
_SERIF_BOLD: tuple[tuple[Path, int], ...] = (
    (_NOTO / "NotoSerifCJK-Bold.ttc", 2),
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"), 0),
    (Path("/usr/share/fonts/dejavu/DejaVuSerif-Bold.ttf"), 0),
)
_FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)
_SUFFIXES = frozenset({".ttf", ".otf", ".ttc"})


@dataclass(frozen=True, slots=True)
class FontFace:
    path: Path
    #: Face index inside a .ttc collection.
    index: int = 0


@functools.lru_cache(maxsize=64)
def _cmap(path: Path, index: int) -> frozenset[int]:
    try:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, KeyError, AssertionError) as exc:
        log.warning("cannot read font %s (face %d): %s", path, index, exc)
        return frozenset()


def _scanned() -> Iterator[FontFace]:
    for directory in _FONT_DIRS:
        if directory.is_dir():
            for path in sorted(directory.rglob("*")):
                if path.suffix.lower() in _SUFFIXES and path.is_file():
                    yield FontFace(path, 0)


def _candidates(family: Family, explicit: Path | None) -> Iterator[FontFace]:
    if explicit is not None:
        if explicit.is_file():
            yield FontFace(explicit, 0)
        else:
            log.warning("configured font %s does not exist; using system fonts", explicit)
    known = _SERIF + _SANS if family == "serif" else _SANS
    for path, index in known:
        if path.is_file():
            yield FontFace(path, index)
    yield from _scanned()


def bold_face(text: str, family: Family = "sans") -> FontFace | None:
    """A bold face that covers ``text``, or None (the caller then emboldens the regular one)."""
    known = _SERIF_BOLD + _SANS_BOLD if family == "serif" else _SANS_BOLD
    for path, index in known:
        if path.is_file():
            face = FontFace(path, index)
            if missing_glyph(text, face) is None:
                return face
    return None


def missing_glyph(text: str, face: FontFace) -> str | None:
    """The first non-whitespace character ``face`` cannot draw, or None."""
    cmap = _cmap(face.path, face.index)
    return next((ch for ch in text if not ch.isspace() and ord(ch) not in cmap), None)


def choose_font(
    text: str, *, family: Family = "sans", explicit: Path | None = None, param: str = "text"
) -> FontFace:
    """The first font that covers every character, or `InvalidRequest` naming the gap."""
    chars = [ch for ch in dict.fromkeys(text) if not ch.isspace()]
    uncovered = set(chars)
    first_missing: str | None = None
    for face in _candidates(family, explicit):
        missing = missing_glyph(text, face)
        if missing is None:
            return face
        first_missing = first_missing or missing
        cmap = _cmap(face.path, face.index)
        uncovered = {ch for ch in uncovered if ord(ch) not in cmap}
    # Prefer a character no font has; else each is somewhere but no one font has them all.
    char = next((ch for ch in chars if ch in uncovered), first_missing or "?")
    what = "no installed font can draw" if char in uncovered else "no single font can draw all of"
    raise errors.InvalidRequest(
        f"{param}: {what} the text: {char!r} (U+{ord(char):04X}) is missing; install "
        "fonts-noto-cjk (or another font with that character) or set VIDTASK_FONT_PATH",
        param=param,
    )
