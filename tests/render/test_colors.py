"""Short hex colours (``#rgb``, ``#rgba``) are accepted wherever a colour is, as in CSS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vidtask.backends.timeline import TimelineBackend
from vidtask.core import errors
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits, TextAsset, parse_timeline

from .helpers import clip, frames_at, mean_rgb, render, timeline

__all__: list[str] = []

TEXT: dict[str, Any] = {
    "type": "text",
    "text": "Hi",
    "color": "#FFF",
    "background": "#0008",
    "stroke": {"color": "#123", "width": 1},
    "shadow": {"color": "#0000"},
    "highlight": {"words": ["Hi"], "color": "#fd0"},
}


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> TimelineBackend:
    return TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


def test_short_hex_expands_each_digit_everywhere() -> None:
    data = timeline([clip({"type": "color", "color": "#f00a"}, 0, 1)], [clip(TEXT, 0, 1)],
                    background="#000")  # fmt: skip
    parsed = parse_timeline(data, Limits())
    assert parsed.output.background == "#000000"
    color, text = (track.clips[0].asset for track in parsed.tracks)
    assert color.color == "#ff0000aa"  # type: ignore[union-attr]
    assert isinstance(text, TextAsset)
    assert (text.color, text.background) == ("#ffffff", "#00000088")
    assert text.stroke is not None and text.stroke.color == "#112233"
    assert text.shadow is not None and text.shadow.color == "#00000000"
    assert text.highlight is not None and text.highlight.color == "#ffdd00"


@pytest.mark.parametrize("bad", ["#12", "#12345", "#1234567", "#ggg", "fff", "#fff0f"])
@pytest.mark.parametrize(
    ("where", "path"),
    [("color", "tracks[0].clips[0].asset.color"),
     ("background", "tracks[0].clips[0].asset.background"),
     ("output", "output.background")],
)  # fmt: skip
def test_invalid_hex_names_the_path_and_the_reason(bad: str, where: str, path: str) -> None:
    if where == "output":
        data = timeline([clip(TEXT, 0, 1)], background=bad)
    else:
        data = timeline([clip({**TEXT, where: bad}, 0, 1)])
    with pytest.raises(errors.InvalidRequest) as info:
        parse_timeline(data, Limits())
    assert info.value.param == path
    assert info.value.message.startswith(f"{path}: {bad!r} is not a colour: use #rgb, #rgba,")


def test_short_hex_renders_its_colour(backend: TimelineBackend, tmp_path: Path) -> None:
    data = timeline([clip({"type": "color", "color": "#f00"}, 0, 1, box={"x": 0, "y": 0,
                     "width": 0.5, "height": 1})], background="#00f")  # fmt: skip
    result = render(backend, data, tmp_path)
    frame = frames_at(result.video, [0.5], 10)[0.5]
    red, blue = mean_rgb(frame, (10, 10, 70, 80)), mean_rgb(frame, (90, 10, 150, 80))
    assert red[0] > 230 and red[1] < 25 and red[2] < 25, red
    assert blue[2] > 230 and blue[0] < 25 and blue[1] < 25, blue
