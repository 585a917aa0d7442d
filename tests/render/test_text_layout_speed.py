"""Wrapping text and reading subtitles take work linear (up to a log) in the text's length.

The work is counted, never timed: for `text.wrap`, the characters handed to the measuring
function. The lines are the same as before the rewrite, checked against the first version on
realistic text with a real font.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable

import pytest
from PIL import ImageFont, features

from vidtask.render import captions, fonts, text

__all__: list[str] = []

LONG = 20_000


def _mixed(n: int) -> str:
    return ("Latin words, 漢字かな混じり 한국어 문장, and a sentence end. " * n)[:n]


WORST: dict[str, Callable[[int], str]] = {
    "no spaces": lambda n: "a" * n,
    "CJK": lambda n: "漢" * n,
    "closing punctuation": lambda n: "，" * n,
    "mixed scripts": _mixed,
    "words": lambda n: ("lorem ipsum dolor sit amet " * n)[:n],
}


@pytest.fixture(scope="module")
def font() -> ImageFont.FreeTypeFont:
    """A font for every script here, with the layout engine text is rendered with."""
    face = fonts.choose_font("漢字かな한국어 Latin，")
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(face.path), 24, index=face.index, layout_engine=layout)


@pytest.mark.parametrize("max_px", [600.0, 40_000.0], ids=["narrow", "very wide"])
@pytest.mark.parametrize("make", WORST.values(), ids=WORST.keys())
def test_wrap_measures_each_character_a_few_times(
    font: ImageFont.FreeTypeFont, make: Callable[[int], str], max_px: float
) -> None:
    measured = [0]

    def measure(part: str) -> float:
        measured[0] += len(part)
        return font.getlength(part)

    work = {}
    for n in (LONG // 2, LONG):
        measured[0] = 0
        lines = text.wrap(make(n), font, max_px, measure)
        assert "".join(lines).replace(" ", "") == make(n).replace(" ", "")
        work[n] = measured[0]
    # At most about 13 a character (the line's width, in characters, adds a log factor);
    # re-measuring the line for every word made it the line's width, or the whole text.
    assert work[LONG] <= 20 * LONG
    assert work[LONG] <= 2.5 * max(work[LONG // 2], 1)


_NO_LINE_START = frozenset("，。、；：！？）」』】》〉’”…,.!?;:)]}%")


def _wrap_reference(text_: str, size: Callable[[str], float], max_px: float) -> list[str]:
    """`text.wrap` as first written: it measures the whole line for every word."""

    def anywhere(ch: str) -> bool:
        hangul = (
            0x1100 <= ord(ch) <= 0x11FF
            or 0x3130 <= ord(ch) <= 0x318F
            or (0xA960 <= ord(ch) <= 0xA97F or 0xAC00 <= ord(ch) <= 0xD7FF)
        )
        return unicodedata.east_asian_width(ch) in ("W", "F") and not hangul

    lines: list[str] = []
    for paragraph in text_.splitlines() or [""]:
        tokens: list[str] = []
        for ch in paragraph:
            last = tokens[-1][-1] if tokens else ""
            if last and not anywhere(ch) and not anywhere(last) and last.isspace() == ch.isspace():
                tokens[-1] += ch
            else:
                tokens.append(ch)
        line = ""
        for token in tokens:
            if token.isspace():
                line += token if line else ""
                continue
            if not line or size(line + token) <= max_px or token[0] in _NO_LINE_START:
                line += token
            else:
                lines.append(line.rstrip())
                line = token
            while line == token and len(line) > 1 and size(line) > max_px:
                cut = 1
                while cut < len(line) and size(line[: cut + 1]) <= max_px:
                    cut += 1
                lines.append(line[:cut].rstrip())
                line = token = line[cut:].lstrip()
        lines.append(line.rstrip())
    return lines


REALISTIC = [
    "The quick brown fox jumps over the lazy dog. AV To Wa office affluent. " * 3,
    "这是一个很长的中文句子，用来测试自动换行。「引号」（括号）！？……" * 3,
    "日本語の文章も、ちゃんと改行されるはずです。カタカナとひらがな。" * 3,
    "한국어 문장은 띄어쓰기로 줄을 바꿉니다. 긴 문장도 잘 나뉘어야 합니다." * 3,
    "Mixed 中文 and English, 한국어 too; numbers 1234567890!!! ??" * 3,
    "Supercalifragilisticexpialidocious" * 5 + " short words after",
    "W" * 30 + "i" * 80 + " tail",
    "line one\nline two is a bit longer than line one\n\n  indented   spaces   here  \n",
    "Ünïcödé àccents — “quotes” «guillemets» café naïve résumé",
]


@pytest.mark.parametrize("spacing", [0.0, 2.5])
def test_wrap_breaks_where_the_first_version_did(
    font: ImageFont.FreeTypeFont, spacing: float
) -> None:
    def measure(part: str) -> float:
        return font.getlength(part) + spacing * max(0, len(part) - 1)

    rng = random.Random(7)
    pieces = list("abc ABC,.;!?，。、漢字한국어 ") + ["  ", "word", "Typography", "—"]
    samples = REALISTIC + [
        "".join(rng.choice(pieces) for _ in range(rng.randint(1, 150))) for _ in range(25)
    ]
    for sample in samples:
        for max_px in (30.0, 120.0, 333.3, 800.0):
            expected = _wrap_reference(sample, measure, max_px)
            assert text.wrap(sample, font, max_px, measure) == expected, (sample, max_px)


_TAGS = re.compile(r"</?[a-zA-Z][^>]*>|\{\\[^}]*\}")


def test_tags_are_removed_as_the_regex_did() -> None:
    rng = random.Random(11)
    pieces = ["<", ">", "/", "{", "}", "\\", "a", "Z", "1", " ", "<i>", "</b>", "{\\an8}", "é"]
    for _ in range(20_000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        assert captions._untag(line) == _TAGS.sub("", line), repr(line)


@pytest.mark.parametrize("opening", ["<a", "{\\"])
def test_a_hostile_cue_of_unclosed_tags_is_read_in_one_pass(opening: str) -> None:
    """Inline SRT is parsed while a timeline is validated. The regex scanned to the end of the
    line from every unclosed tag: about 7 minutes for the largest inline file allowed."""
    cue = opening * 499_000
    srt = f"1\n00:00:00,000 --> 00:00:02,000\n{cue}\n"
    assert captions.parse_srt(srt, param="srt") == [captions.Cue(0.0, 2.0, cue)]
