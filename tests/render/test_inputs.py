"""Real-world inputs, generated as fixtures: variable frame rate, a rotation display matrix, odd
sizes, no audio, audio only, 4K, EXIF orientation, transparency, animated GIFs, and broken files
that must fail clearly (never hang)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from vidtask.backends.timeline import TimelineBackend
from vidtask.core import errors
from vidtask.render import probe
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits

from .helpers import clip, frames_at, mean_rgb, render, timeline

__all__: list[str] = []

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(media: Any, ffmpeg_exe: str) -> Path:
    root: Path = media.root
    quiet = [ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-y"]

    def ffmpeg(*args: str) -> None:
        subprocess.run([*quiet, *args], check=True)

    x264 = ["-c:v", "libx264", "-preset", "ultrafast"]
    # Frames arrive further and further apart (variable frame rate).
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x90:r=30:d=2,setpts='(N+N*N/120)/30/TB'",
        "-fps_mode",
        "vfr",
        *x264,
        "-pix_fmt",
        "yuv420p",
        str(root / "vfr.mp4"),
    )
    # A phone video: stored 160x90 with the top red and the bottom blue, displayed turned.
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=red:s=160x45:r=10:d=1",
        "-f",
        "lavfi",
        "-i",
        "color=blue:s=160x45:r=10:d=1",
        "-filter_complex",
        "[0][1]vstack",
        *x264,
        "-pix_fmt",
        "yuv420p",
        str(root / "upright.mp4"),
    )
    ffmpeg(
        "-display_rotation:v:0",
        "90",
        "-i",
        str(root / "upright.mp4"),
        "-c",
        "copy",
        str(root / "rotated.mp4"),
    )
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=179x319:r=10:d=1",
        *x264,
        "-pix_fmt",
        "yuv444p",
        str(root / "odd.mp4"),
    )
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=green:s=160x90:r=10:d=1",
        *x264,
        "-pix_fmt",
        "yuv420p",
        str(root / "silent.mp4"),
    )
    ffmpeg("-f", "lavfi", "-i", "color=0x808080:s=3840x2160:r=10:d=0.5", *x264, "-pix_fmt",
           "yuv420p", str(root / "uhd.mp4"))  # fmt: skip
    # EXIF orientation 6: stored with blue on the left, shown turned clockwise (blue on top).
    sideways = Image.new("RGB", (200, 100), (255, 0, 0))
    ImageDraw.Draw(sideways).rectangle((0, 0, 99, 99), fill=(0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(root / "exif6.jpg", exif=exif, quality=95)
    hole = Image.new("RGBA", (160, 90), (0, 0, 0, 0))
    ImageDraw.Draw(hole).rectangle((60, 25, 99, 64), fill=(255, 0, 0, 255))
    hole.save(root / "transparent.png")
    frames = [Image.new("RGB", (80, 45), color) for color in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(root / "blink.gif", save_all=True, append_images=frames[1:], duration=500,
                   loop=0)  # fmt: skip
    (root / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    (root / "empty.mp4").write_bytes(b"")
    whole = (root / "upright.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(whole[: len(whole) // 3])
    return root


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> TimelineBackend:
    return TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


def video(src: str, **extra: Any) -> dict[str, Any]:
    return {"type": "video", "src": src, **extra}


def test_variable_frame_rate_is_resampled(
    backend: TimelineBackend, inputs: Path, tmp_path: Path
) -> None:
    info = probe.probe(inputs / "vfr.mp4")
    result = render(backend, timeline([clip(video("vfr.mp4"), 0, None)]), tmp_path)
    assert result.metadata["fps"] == 10
    assert result.metadata["duration"] == pytest.approx(info.duration, abs=0.11)


def test_rotation_matrix_is_applied(backend: TimelineBackend, inputs: Path, tmp_path: Path) -> None:
    info = probe.probe(inputs / "rotated.mp4")
    assert (info.width, info.height) == (90, 160)
    data = timeline([clip(video("rotated.mp4"), 0, None, fit="stretch")])
    frame = frames_at(render(backend, data, tmp_path).video, [0.5], 10)[0.5]
    left, right = mean_rgb(frame, (0, 0, 70, 90)), mean_rgb(frame, (90, 0, 160, 90))
    # Turned a quarter: the stored top/bottom halves are now left and right, in some order.
    assert {max(range(3), key=left.__getitem__), max(range(3), key=right.__getitem__)} == {0, 2}


def test_odd_size_4k_and_silent_videos(
    backend: TimelineBackend, inputs: Path, tmp_path: Path
) -> None:
    data = timeline(
        [clip(video("odd.mp4"), 0, 1, fit="contain")],
        [clip(video("uhd.mp4"), 1, None)],
        [clip(video("silent.mp4"), 1.5, None, scale=0.5, fit="contain")],
    )
    result = render(backend, data, tmp_path)
    assert result.metadata["duration"] == pytest.approx(2.5)
    assert result.metadata["has_audio"] is False
    frames = frames_at(result.video, [0.5, 1.2, 2.0], 10)
    assert mean_rgb(frames[0.5], (0, 0, 20, 90)) == pytest.approx((0, 0, 0), abs=4)  # pillarbox
    assert mean_rgb(frames[1.2]) == pytest.approx((128, 128, 128), abs=6)  # 4K, scaled down
    assert mean_rgb(frames[2.0], (60, 35, 100, 55))[1] > 100  # the green, half size


def test_exif_transparency_and_animated_gif(
    backend: TimelineBackend, inputs: Path, tmp_path: Path
) -> None:
    data = timeline(
        [clip({"type": "color", "color": "#00ff00"}, 0, 3)],
        [clip({"type": "image", "src": "exif6.jpg"}, 0, 1, fit="stretch")],
        [clip({"type": "image", "src": "transparent.png"}, 1, 1)],
        [clip({"type": "image", "src": "blink.gif"}, 2, 1, fit="stretch")],
    )
    frames = frames_at(render(backend, data, tmp_path).video, [0.5, 1.5, 2.2, 2.7], 10)
    top, bottom = mean_rgb(frames[0.5], (0, 0, 160, 40)), mean_rgb(frames[0.5], (0, 50, 160, 90))
    assert top[2] > 200 and bottom[0] > 200  # turned upright: blue above red
    assert mean_rgb(frames[1.5], (0, 0, 30, 30)) == pytest.approx((0, 255, 0), abs=10)
    assert mean_rgb(frames[1.5], (70, 35, 90, 55)) == pytest.approx((255, 0, 0), abs=10)
    assert mean_rgb(frames[2.2])[0] > 200 and mean_rgb(frames[2.7])[2] > 200  # it animates


@pytest.mark.parametrize(
    ("src", "kind", "reason"),
    [
        ("corrupt.mp4", "video", "corrupt.mp4"),
        ("empty.mp4", "video", "the file is empty"),
        ("tone.m4a", "video", "has no video stream"),
        ("image.png", "video", "is a still image"),
        ("silent.mp4", "audio", "has no audio stream"),
    ],
)
def test_broken_or_wrong_files_fail_clearly(
    backend: TimelineBackend, inputs: Path, tmp_path: Path, src: str, kind: str, reason: str
) -> None:
    with pytest.raises(errors.UnsupportedMedia) as info:
        render(backend, timeline([clip({"type": kind, "src": src}, 0, 1)]), tmp_path)
    assert reason in info.value.message


def test_a_truncated_file_renders_what_is_there_or_fails_clearly(
    backend: TimelineBackend, inputs: Path, tmp_path: Path
) -> None:
    try:
        result = render(backend, timeline([clip(video("truncated.mp4"), 0, 1)]), tmp_path)
    except errors.VidtaskError as exc:
        assert exc.code in ("unsupported_media", "render_failed")
    else:
        assert result.metadata["duration"] == pytest.approx(1.0)
