from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from vidtask.core import errors
from vidtask.render import fonts, text
from vidtask.render.schema import TextAsset

__all__: list[str] = []

NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def test_cjk_text_gets_a_cjk_font() -> None:
    face = fonts.choose_font("你好，世界 — vidtask")
    assert fonts.missing_glyph("你好，世界 — vidtask", face) is None
    if NOTO.exists():
        assert face == fonts.FontFace(NOTO, 2)


def test_uncovered_character_is_named() -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        fonts.choose_font("ok \U000f0001", param="tracks[0].clips[0].asset.text")
    assert info.value.param == "tracks[0].clips[0].asset.text"
    assert "U+F0001" in info.value.message and "VIDTASK_FONT_PATH" in info.value.message


def test_explicit_font_wins(tmp_path: Path) -> None:
    serif = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
    if not serif.exists():
        pytest.skip("DejaVu not installed")
    assert fonts.choose_font("Hello", explicit=serif).path == serif
    # Explicit font without the glyphs falls through to one that has them.
    assert fonts.choose_font("你好", explicit=serif).path != serif


def test_wrap_latin_by_words_and_cjk_by_characters() -> None:
    face = fonts.choose_font("你好 hello")
    font = ImageFont.truetype(str(face.path), 20, index=face.index)
    lines = text.wrap("the quick brown fox jumps over the lazy dog", font, 120)
    assert len(lines) > 1
    assert all(font.getlength(line) <= 120 for line in lines)
    assert " ".join(lines) == "the quick brown fox jumps over the lazy dog"
    cjk = text.wrap("这是一个很长的中文句子，用来测试自动换行。", font, 100)
    assert len(cjk) > 2 and "".join(cjk) == "这是一个很长的中文句子，用来测试自动换行。"
    assert not any(line.startswith(("，", "。")) for line in cjk)


def test_render_text_png(tmp_path: Path) -> None:
    asset = TextAsset(
        type="text",
        text="你好，世界 hello world " * 4,
        font_size=24,
        background="#00000080",
        align="left",
        max_width=0.5,
    )
    face = fonts.choose_font(asset.text)
    out = text.render_text(asset, face=face, frame_width=640, scale=1.0, dest=tmp_path / "t.png")
    with Image.open(out.path) as image:
        assert image.mode == "RGBA" and image.size == (out.width, out.height)
        assert out.width <= 322 and out.height > 60  # wrapped onto several lines
        assert image.getpixel((2, out.height // 2)) == (0, 0, 0, 0x80)  # the box


def draw(tmp_path: Path, **style: object) -> tuple[text.RenderedText, Image.Image]:
    asset = TextAsset.model_validate({"type": "text", "text": "Hello word", "font_size": 40,
                                      **style})  # fmt: skip
    face = fonts.choose_font(asset.text)
    bold = fonts.bold_face(asset.text) if asset.bold else None
    name = "t_" + "_".join(sorted(style)) + ".png"
    out = text.render_text(
        asset, face=face, bold_face=bold, frame_width=640, scale=1.0, dest=tmp_path / name
    )
    image = Image.open(out.path)
    image.load()
    return out, image


def count(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 40) -> int:
    pixels = np.asarray(image.convert("RGBA")).astype(int)
    close = (np.abs(pixels[..., :3] - rgb) <= tolerance).all(axis=2) & (pixels[..., 3] > 200)
    return int(close.sum())


def test_stroke_shadow_box_and_highlight(tmp_path: Path) -> None:
    _, plain = draw(tmp_path)
    _, stroked = draw(tmp_path, stroke={"color": "#ff0000", "width": 3})
    assert count(plain, (255, 0, 0)) == 0 and count(stroked, (255, 0, 0)) > 200
    assert stroked.size[0] > plain.size[0]  # the outline needs room
    shadowed_out, shadowed = draw(tmp_path, shadow={"color": "#00ff00", "x": 6, "y": 6, "blur": 0})
    assert count(shadowed, (0, 255, 0)) > 100
    assert shadowed.size[0] >= plain.size[0] + 12
    boxed_out, boxed = draw(tmp_path, background="#0000ff", padding=20, radius=15)
    corner, padding = boxed.getpixel((0, 0)), boxed.getpixel((boxed_out.width // 2, 5))
    assert isinstance(corner, tuple) and isinstance(padding, tuple)
    assert corner[3] == 0  # rounded corner
    assert padding[:3] == (0, 0, 255)  # inside the padding
    assert boxed_out.height >= 40 + 2 * 20
    _, marked = draw(tmp_path, highlight={"words": ["WORD"], "color": "#ffd400"})
    assert count(marked, (255, 212, 0)) > 100
    left_half = marked.crop((0, 0, marked.width // 2, marked.height))
    assert count(left_half, (255, 212, 0)) == 0  # "Hello" keeps the base colour


def test_spacing_and_bold_change_the_geometry(tmp_path: Path) -> None:
    plain, _ = draw(tmp_path)
    spaced, _ = draw(tmp_path, letter_spacing=10)
    assert spaced.width >= plain.width + 9 * 10 - 2
    two_lines = TextAsset(type="text", text="one\ntwo", font_size=40)
    face = fonts.choose_font("one two")
    tight = text.render_text(
        two_lines, face=face, frame_width=640, scale=1, dest=tmp_path / "a.png"
    )
    loose = text.render_text(two_lines.model_copy(update={"line_spacing": 2.0}), face=face,
                             frame_width=640, scale=1, dest=tmp_path / "b.png")  # fmt: skip
    assert loose.height > tight.height + 30
    bold, _ = draw(tmp_path, bold=True)
    assert bold.width > plain.width


def test_color_runs_match_whole_latin_words_and_any_cjk() -> None:
    base, accent = (1, 1, 1, 255), (2, 2, 2, 255)
    assert text.color_runs("cat concat Cat", ["cat"], base, accent) == [
        ("cat", accent), (" concat ", base), ("Cat", accent)]  # fmt: skip
    assert text.color_runs("我爱北京", ["北京"], base, accent) == [("我爱", base), ("北京", accent)]


KOREAN = "한국어는 띄어쓰기로 단어를 구분하기 때문에 줄은 공백에서만 바뀌어야 합니다"


def test_wrap_korean_only_at_spaces() -> None:
    face = fonts.choose_font(KOREAN)
    font = ImageFont.truetype(str(face.path), 20, index=face.index)
    for width in (110, 150, 200, 260):  # the longest word is 5 syllables, 100 px
        lines = text.wrap(KOREAN, font, width)
        assert len(lines) > 2
        assert " ".join(lines) == KOREAN  # every break replaced a space
        assert all(font.getlength(line) <= width for line in lines)


def test_wrap_breaks_inside_a_korean_word_wider_than_the_line() -> None:
    word = "가나다라마바사아자차카타파하"
    face = fonts.choose_font(word)
    font = ImageFont.truetype(str(face.path), 20, index=face.index)
    lines = text.wrap(f"한 {word} 끝", font, 100)
    assert lines[0] == "한" and lines[-1].endswith("끝")
    assert "".join(lines[1:])[: len(word)] == word
    assert all(font.getlength(line) <= 100 for line in lines)
