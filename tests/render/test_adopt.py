"""A provider's finished video adopted as a render result: probed, stills cut from the file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import Image

from tests.render.conftest import Media
from vidtask.core import errors
from vidtask.render.adopt import PREVIEWS, adopt_video


def test_adopted_video_gets_metadata_and_stills_from_the_file(
    media: Media, ffmpeg_exe: str, tmp_path: Path
) -> None:
    result = adopt_video(media.video, tmp_path, ffmpeg_exe=ffmpeg_exe, cancel=threading.Event())
    meta = result.metadata
    assert (meta["width"], meta["height"], meta["fps"], meta["has_audio"]) == (160, 90, 20, True)
    assert meta["duration"] == pytest.approx(2.0, abs=0.1)
    assert result.cover is not None and result.thumbnail is not None
    assert result.spritesheet is not None and len(result.previews) == PREVIEWS
    with Image.open(result.cover) as cover:
        assert cover.size == (160, 90)
    for still in (result.thumbnail, result.spritesheet, *result.previews):
        assert still.read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_truncated_or_foreign_file_is_refused(
    media: Media, ffmpeg_exe: str, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(media.video.read_bytes()[: media.video.stat().st_size // 3])
    with pytest.raises(errors.UnsupportedMedia):
        adopt_video(cut, tmp_path / "a", ffmpeg_exe=ffmpeg_exe, cancel=threading.Event())
    with pytest.raises(errors.UnsupportedMedia):
        adopt_video(media.image, tmp_path / "b", ffmpeg_exe=ffmpeg_exe, cancel=threading.Event())
