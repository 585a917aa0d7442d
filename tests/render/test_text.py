from __future__ import annotations

from pathlib import Path

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
