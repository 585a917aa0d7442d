"""The timeline compiler and layout math, without running ffmpeg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vidtask.core import errors
from vidtask.render import compiler, layout
from vidtask.render.probe import MediaInfo
from vidtask.render.schema import Clip, Limits, parse_timeline

__all__: list[str] = []

VIDEO = MediaInfo(
    path=Path("/m/v.mp4"),
    duration=8.0,
    width=640,
    height=480,
    fps=25.0,
    has_video=True,
    has_audio=True,
    is_image=False,
)
AUDIO = MediaInfo(
    path=Path("/m/a.m4a"),
    duration=8.0,
    width=0,
    height=0,
    fps=0.0,
    has_video=False,
    has_audio=True,
    is_image=False,
)


def compile_(
    tracks: list[dict[str, Any]], max_duration_s: float = 1800, **output: Any
) -> compiler.Command:
    timeline = parse_timeline({"output": {"fps": 25, **output}, "tracks": tracks}, Limits())
    return compiler.compile_timeline(
        timeline,
        media={"v.mp4": VIDEO, "a.m4a": AUDIO},
        texts={},
        workdir=Path("/o"),
        ffmpeg_exe="ffmpeg",
        max_duration_s=max_duration_s,
    )


def video_clip(**extra: Any) -> dict[str, Any]:
    return {"asset": {"type": "video", "src": "v.mp4", "trim": 3}, "start": 1, **extra}


def graph(command: compiler.Command) -> str:
    """Every filter graph of the command (video, then audio), as one text."""
    args = command.args
    return ";\n".join(args[n + 1] for n, arg in enumerate(args) if arg == "-filter_complex")


def source_of(graph_text: str, label: str) -> str:
    """The chain where the stream ``label`` starts (following single-input chains back)."""
    chain = next(c for c in graph_text.split(";\n") if c.endswith(f"[{label}]"))
    if not chain.startswith("["):
        return chain
    return source_of(graph_text, chain[1 : chain.index("]")])


def test_length_resolved_from_probe() -> None:
    command = compile_([{"clips": [video_clip()]}])
    assert command.duration == pytest.approx(6.0)  # start 1 + (8 - 3 trim)
    args = command.args
    assert args[args.index("-ss") + 1] == "3" and args[args.index("-t") + 1] == "5"
    assert "[aout]" in args and "adelay=delays=1000" in graph(command)
    # The sound is mixed in a graph of its own (ffmpeg gives each graph a thread).
    video, sound = (args[n + 1] for n, arg in enumerate(args) if arg == "-filter_complex")
    assert "[0:a]" in sound and ":a]" not in video


def test_resolved_duration_over_limit_refused() -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        compile_([{"clips": [video_clip()]}], max_duration_s=4)
    assert info.value.param == "tracks[0].clips[0].length"


def test_trim_past_end_refused() -> None:
    clip = {"asset": {"type": "audio", "src": "a.m4a", "trim": 9}, "start": 0}
    with pytest.raises(errors.InvalidRequest) as info:
        compile_([{"clips": [clip]}])
    assert info.value.param == "tracks[0].clips[0].asset.trim"


def test_no_audio_sources_means_no_audio_stream() -> None:
    muted = video_clip(length=1)
    muted["asset"]["volume"] = 0
    command = compile_([{"clips": [muted]}])
    assert "[aout]" not in command.args and "-c:a" not in command.args
    assert command.args.count("-filter_complex") == 1


def test_layers_overlay_in_order_and_huge_graphs_go_to_a_file(tmp_path: Path) -> None:
    red = {"asset": {"type": "color", "color": "red"}, "start": 0, "length": 1}
    blue = {**red, "asset": {"type": "color", "color": "blue"}}
    small_red = {**red, "scale": 0.5}
    g = graph(compile_([{"clips": [small_red]}, {"clips": [blue]}]))
    overlays = [line for line in g.split(";\n") if "overlay=" in line]
    assert "0x000000" in source_of(g, overlays[0][1 : overlays[0].index("]")])  # background
    assert "0xff0000" in source_of(g, overlays[0].split("]")[1].lstrip("["))
    assert "0x0000ff" in source_of(g, overlays[1].split("]")[1].lstrip("["))
    # An opaque full-frame bottom layer that lasts the whole video replaces the background.
    g = graph(compile_([{"clips": [red]}, {"clips": [blue]}]))
    overlays = [line for line in g.split(";\n") if "overlay=" in line]
    assert len(overlays) == 1 and "0x000000" not in g
    assert "0xff0000" in source_of(g, overlays[0][1 : overlays[0].index("]")])
    clips = [{**red, "start": i} for i in range(500)]
    timeline = parse_timeline({"tracks": [{"clips": clips}]}, Limits())
    command = compiler.compile_timeline(
        timeline,
        media={},
        texts={},
        workdir=tmp_path,
        ffmpeg_exe="ffmpeg",
        max_duration_s=1800,
    )
    assert "-/filter_complex" in command.args
    assert (tmp_path / "filter_graph.txt").read_text().count("overlay=") == 500


def test_layout_cover_contain_position() -> None:
    def clip(**extra: Any) -> Clip:
        return Clip.model_validate(
            {"asset": {"type": "image", "src": "x"}, "start": 0, "length": 1, **extra}
        )

    cover = layout.place(clip(), (640, 480), (320, 180))
    assert cover.crop == layout.Rect(0, 60, 640, 360) and (
        cover.width,
        cover.height,
        cover.x,
        cover.y,
    ) == (
        320,
        180,
        0,
        0,
    )
    contain = layout.place(clip(fit="contain"), (640, 480), (320, 180))
    assert (contain.width, contain.height, contain.x, contain.y) == (240, 180, 40, 0)
    corner = layout.place(
        clip(fit="contain", scale=0.5, position="bottom_right", offset={"x": -0.1, "y": 0}),
        (640, 480),
        (320, 180),
    )
    assert (corner.width, corner.height, corner.x, corner.y) == (120, 90, 168, 90)


def test_joined_pictures_blend_from_full_chroma_copies_converted_back_once() -> None:
    red = {"asset": {"type": "color", "color": "red"}, "start": 0, "length": 2}
    blue = {"asset": {"type": "color", "color": "blue"}, "start": 1.5, "length": 2,
            "transition": {"type": "fade"}}  # fmt: skip
    green = {"asset": {"type": "color", "color": "green"}, "start": 3, "length": 1,
             "transition": {"type": "wipeleft"}}  # fmt: skip
    g = graph(compile_([{"clips": [red, blue, green]}]))
    # xfade works in 4:4:4: pictures that never change get a 4:4:4 copy for the transitions,
    # so ffmpeg adds no converters (each holding frames to the end) to them. The blends are
    # converted back by one converter; the bodies pass untouched.
    assert g.count("format=yuv444p") == 3 and g.count("xfade=") == 2
    assert g.count("concat=n=2:v=1:a=0,format=yuv420p,split=2") == 1
    # A video changes every frame: its layer stays 4:2:0 (only transition frames convert).
    g = graph(compile_([{"clips": [video_clip(length=2), {**blue, "start": 2.5}]}]))
    assert "444p" not in g
    # So does a picture that moves.
    spin = {**red, "keyframes": {"rotation": [{"time": 0, "value": 0}, {"time": 2, "value": 9}]}}
    assert "444p" not in graph(compile_([{"clips": [spin, blue]}]))


def test_a_source_already_the_right_size_is_not_scaled() -> None:
    g = graph(compile_([{"clips": [video_clip(length=1)]}], width=640, height=480))
    assert "scale=" not in g.split(";\n")[0]
    g = graph(compile_([{"clips": [video_clip(length=1)]}], width=320, height=240))
    assert "scale=320:240" in g.split(";\n")[0]
