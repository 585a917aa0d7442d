from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vidtask.core import errors
from vidtask.render.schema import Limits, parse_timeline, timeline_json_schema

__all__: list[str] = []

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def color_clip(**overrides: Any) -> dict[str, Any]:
    return {"asset": {"type": "color", "color": "red"}, "start": 0, "length": 1, **overrides}


def timeline(*clips: dict[str, Any], **output: Any) -> dict[str, Any]:
    return {"output": output, "tracks": [{"clips": list(clips)}]}


def refused(data: dict[str, Any], limits: Limits | None = None) -> errors.InvalidRequest:
    with pytest.raises(errors.InvalidRequest) as info:
        parse_timeline(data, limits or Limits())
    return info.value


@pytest.mark.parametrize("length", [0, -1])
def test_non_positive_length(length: float) -> None:
    err = refused(timeline(color_clip(), color_clip(), color_clip(length=length)))
    assert err.param == "tracks[0].clips[2].length"
    assert err.message == "tracks[0].clips[2].length: must be greater than 0"


def test_ten_hour_video() -> None:
    err = refused(timeline(color_clip(length=36_000)))
    assert err.param == "tracks[0].clips[0].length"
    assert "1800 s limit" in err.message


def test_16k_resolution() -> None:
    err = refused(timeline(color_clip(), width=15360, height=8640))
    assert err.param == "output.width"


def test_limits_lower_resolution() -> None:
    err = refused(timeline(color_clip(), width=1280, height=2160), Limits(max_height=1080))
    assert err.param == "output.height"
    assert "1080" in err.message


def test_odd_width() -> None:
    assert refused(timeline(color_clip(), width=321)).param == "output.width"


def test_ten_thousand_clips() -> None:
    err = refused(timeline(*[color_clip()] * 10_000))
    assert err.param == "tracks"
    assert "500" in err.message


def test_unknown_field() -> None:
    err = refused({"tracks": [{"clips": [color_clip(rotate=90)]}]})
    assert err.param == "tracks[0].clips[0].rotate"
    assert "unknown field" in err.message


def test_unknown_asset_field_path_has_no_union_tag() -> None:
    clip = {"asset": {"type": "video", "src": "a.mp4", "volume": 9}, "start": 0}
    assert refused(timeline(clip)).param == "tracks[0].clips[0].asset.volume"


def test_bad_colour() -> None:
    err = refused(timeline(color_clip(asset={"type": "color", "color": "#12345"})))
    assert err.param == "tracks[0].clips[0].asset.color"
    assert "#rrggbb" in err.message


def test_length_required_for_stills() -> None:
    clip = color_clip()
    del clip["length"]
    assert refused(timeline(clip)).param == "tracks[0].clips[0].length"


def test_no_clips() -> None:
    assert refused({"tracks": [{"clips": []}]}).param == "tracks"


def test_unknown_asset_type() -> None:
    err = refused(timeline(color_clip(asset={"type": "hologram"})))
    assert err.param == "tracks[0].clips[0].asset"


def test_fades_longer_than_clip() -> None:
    err = refused(timeline(color_clip(fade_in=0.6, fade_out=0.6)))
    assert err.param == "tracks[0].clips[0].fade_out"


def test_unbounded_media_clip_must_start_within_limit() -> None:
    clip = {"asset": {"type": "audio", "src": "a.m4a"}, "start": 5000}
    assert refused(timeline(clip)).param == "tracks[0].clips[0].start"


def test_defaults_and_colour_names() -> None:
    parsed = parse_timeline(timeline(color_clip()), Limits())
    assert parsed.output.width == 1280 and parsed.output.previews == 3
    assert parsed.tracks[0].clips[0].asset.color == "#ff0000"  # type: ignore[union-attr]


def test_demo_parses_and_schema_publishes() -> None:
    parse_timeline(json.loads((EXAMPLES / "demo.json").read_text()), Limits())
    schema = timeline_json_schema()
    assert "tracks" in schema["properties"]
    json.dumps(schema)
