"""Layout and motion, checked on real frames: Ken Burns, keyframes, animations, crop, fit blur,
boxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vidtask.backends.timeline import TimelineBackend
from vidtask.core import errors
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits, parse_timeline

from .helpers import clip, frames_at, mean_rgb, render, timeline

__all__: list[str] = []

pytestmark = pytest.mark.slow

WHITE = {"type": "color", "color": "#ffffff"}


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> TimelineBackend:
    return TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


@pytest.fixture(scope="module")
def pictures(media: Any) -> dict[str, str]:
    """A white square on black, and a picture that is red on the left and blue on the right."""
    square = Image.new("RGB", (160, 90))
    ImageDraw.Draw(square).rectangle((70, 35, 89, 54), fill=(255, 255, 255))
    square.save(media.root / "square.png")
    halves = Image.new("RGB", (160, 90), (255, 0, 0))
    ImageDraw.Draw(halves).rectangle((80, 0, 159, 89), fill=(0, 0, 255))
    halves.save(media.root / "halves.png")
    return {"square": "square.png", "halves": "halves.png"}


def bright(frame: Any, threshold: int = 180) -> Any:
    return np.asarray(frame).min(axis=2) > threshold


def centre(frame: Any) -> tuple[float, float]:
    """Centre of everything not black (also half-faded pixels)."""
    ys, xs = np.nonzero(bright(frame, 30))
    assert len(xs), "nothing bright in the frame"
    return float(xs.mean()), float(ys.mean())


def test_ken_burns_zooms_in(backend: TimelineBackend, pictures: Any, tmp_path: Path) -> None:
    image = {"type": "image", "src": pictures["square"]}
    kb = {"start": {"scale": 1}, "end": {"scale": 2}, "easing": "linear"}
    result = render(backend, timeline([clip(image, 0, 2, ken_burns=kb)]), tmp_path)
    frames = frames_at(result.video, [0.0, 1.0, 1.9], 10)
    sizes = [int(bright(frames[t]).sum()) for t in (0.0, 1.0, 1.9)]
    assert sizes[0] == pytest.approx(400, rel=0.25)  # the 20x20 square
    assert sizes[0] < sizes[1] < sizes[2]
    assert sizes[2] == pytest.approx(400 * 1.95**2, rel=0.25)
    assert centre(frames[1.9]) == pytest.approx((80, 45), abs=2)  # zoomed on the middle


def test_ken_burns_pans(backend: TimelineBackend, pictures: Any, tmp_path: Path) -> None:
    image = {"type": "image", "src": pictures["square"]}
    kb = {"start": {"scale": 2, "x": -0.2}, "end": {"scale": 2, "x": 0.2}, "easing": "linear"}
    result = render(backend, timeline([clip(image, 0, 2, ken_burns=kb)]), tmp_path)
    frames = frames_at(result.video, [0.0, 1.9], 10)
    # Looking left of centre first, the square sits right of centre; then the other way.
    assert centre(frames[0.0])[0] > 100 and centre(frames[1.9])[0] < 60


def test_keyframes_move_scale_rotate_and_fade(backend: TimelineBackend, tmp_path: Path) -> None:
    mover = clip(WHITE, 0, 2, scale=0.2, keyframes={
        "x": [{"time": 0, "value": -0.3}, {"time": 1, "value": 0.3, "easing": "ease_in"}],
    })  # fmt: skip
    grower = clip(WHITE, 0, 2, scale=0.2, keyframes={
        "scale": [{"time": 0, "value": 1}, {"time": 1, "value": 2}]})  # fmt: skip
    spinner = clip(WHITE, 0, 2, box={"x": 0.1, "y": 0.45, "width": 0.8, "height": 0.1},
                   fit="stretch", keyframes={"rotation": [{"time": 0, "value": 0},
                                                          {"time": 1, "value": 90}]})  # fmt: skip
    fader = clip(WHITE, 0, 2, keyframes={"opacity": [{"time": 0, "value": 0},
                                                     {"time": 1, "value": 1}]})  # fmt: skip
    results = {
        name: frames_at(render(backend, timeline([c]), tmp_path / name).video, [0.0, 0.5, 1.5], 10)
        for name, c in (("mover", mover), ("grower", grower), ("spinner", spinner),
                        ("fader", fader))
    }  # fmt: skip
    mover_x = [centre(results["mover"][t])[0] for t in (0.0, 0.5, 1.5)]
    assert mover_x[0] == pytest.approx(80 - 48, abs=3) and mover_x[2] == pytest.approx(128, abs=3)
    assert mover_x[1] < 80  # ease_in: less than half way at half time
    areas = [int(bright(results["grower"][t]).sum()) for t in (0.0, 0.5, 1.5)]
    assert areas[0] == pytest.approx(32 * 18, rel=0.2)
    assert areas[2] == pytest.approx(4 * 32 * 18, rel=0.2) and areas[0] < areas[1] < areas[2]
    flat, upright = bright(results["spinner"][0.0]), bright(results["spinner"][1.5])
    assert flat[45, 20] and not flat[10, 80]  # a wide horizontal bar ...
    assert upright[10, 80] and not upright[45, 20]  # ... turned into a vertical one
    levels = [mean_rgb(results["fader"][t])[0] for t in (0.0, 0.5, 1.5)]
    assert levels[0] < 10 and levels[1] == pytest.approx(128, abs=20) and levels[2] > 245


def test_slide_and_pop_animations(backend: TimelineBackend, tmp_path: Path) -> None:
    slide = clip(WHITE, 0, 3, scale=0.3, animation={"in": "slide_up", "out": "slide_left",
                                                    "duration": 1})  # fmt: skip
    pop = clip(WHITE, 0, 3, scale=0.3, animation={"in": "pop", "out": "none", "duration": 1})
    slid = frames_at(render(backend, timeline([slide]), tmp_path / "s").video, [0.3, 1.5, 2.7], 10)
    popped = frames_at(render(backend, timeline([pop]), tmp_path / "p").video, [0.1, 1.5], 10)
    assert centre(slid[0.3])[1] > centre(slid[1.5])[1] + 2  # still rising from below
    assert centre(slid[1.5]) == pytest.approx((80, 45), abs=1.5)
    assert centre(slid[2.7])[0] < 78  # leaving to the left
    assert mean_rgb(slid[0.3])[0] < mean_rgb(slid[1.5])[0]  # and fading in
    assert int(bright(popped[0.1]).sum()) < int(bright(popped[1.5]).sum())


def test_crop_box_and_fit_blur(backend: TimelineBackend, pictures: Any, tmp_path: Path) -> None:
    halves = {"type": "image", "src": pictures["halves"]}
    cropped = clip(halves, 0, 1, fit="stretch", crop={"left": 0.5})
    boxed = clip(halves, 0, 1, box={"x": 0.5, "y": 0, "width": 0.5, "height": 1})
    square = {"type": "image", "src": "image.png"}
    blurred = clip(square, 0, 1, fit="blur", crop={"left": 0.25, "right": 0.25}, scale=1)
    crop_frame = frames_at(render(backend, timeline([cropped]), tmp_path / "c").video, [0.5], 10)
    assert mean_rgb(crop_frame[0.5]) == pytest.approx((0, 0, 254), abs=10)  # only the blue half
    box_frame = frames_at(render(backend, timeline([boxed]), tmp_path / "b").video, [0.5], 10)
    assert mean_rgb(box_frame[0.5], (0, 0, 78, 90)) == pytest.approx((0, 0, 0), abs=4)
    assert mean_rgb(box_frame[0.5], (82, 0, 160, 90)) != pytest.approx((0, 0, 0), abs=30)
    blur_frame = frames_at(render(backend, timeline([blurred]), tmp_path / "f").video, [0.5], 10)
    # The 80x90 crop is contained in the middle; the sides are a blurred green, not black.
    side = mean_rgb(blur_frame[0.5], (0, 0, 30, 90))
    assert side[1] > 80 and side[1] > side[0] and side[1] > side[2]


def test_motion_fields_are_checked() -> None:
    def refused(**extra: Any) -> str:
        with pytest.raises(errors.InvalidRequest) as info:
            parse_timeline(timeline([clip(WHITE, 0, 1, **extra)]), Limits())
        return info.value.param or ""

    assert refused(ken_burns={}) == "tracks[0].clips[0].ken_burns"  # colour clips cannot
    late = {"x": [{"time": 0, "value": 0}, {"time": 2, "value": 1}]}
    assert refused(keyframes=late) == "tracks[0].clips[0].keyframes"
    backwards = {"x": [{"time": 1, "value": 0}, {"time": 0.5, "value": 1}]}
    assert refused(keyframes=backwards) == "tracks[0].clips[0].keyframes.x"
    assert refused(keyframes={"opacity": [{"time": 0, "value": 2}]}).endswith("opacity")
    assert refused(animation={"in": "spin"}) == "tracks[0].clips[0].animation.in"
    assert refused(animation={"duration": 0.8}) == "tracks[0].clips[0].animation.duration"
    assert refused(crop={"left": 0.6, "right": 0.5}) == "tracks[0].clips[0].crop"
