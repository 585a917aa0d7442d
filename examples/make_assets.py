"""Generate the small example assets used by examples/demo.json into examples/assets/.

python examples/make_assets.py
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]
from PIL import Image, ImageDraw

__all__ = ["main", "make_image", "make_music", "make_video"]

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "assets"


def make_image(dest: Path, size: tuple[int, int] = (640, 360)) -> None:
    """A diagonal gradient with a few soft shapes."""
    width, height = size
    image = Image.new("RGB", size)
    pixels = image.load()
    assert pixels is not None
    for y in range(height):
        for x in range(width):
            t = (x / width + y / height) / 2
            pixels[x, y] = (int(30 + 200 * t), int(60 + 80 * (1 - t)), int(160 + 90 * (1 - t)))
    draw = ImageDraw.Draw(image, "RGBA")
    draw.ellipse((60, 60, 260, 260), fill=(255, 210, 80, 200))
    draw.rounded_rectangle((330, 110, 580, 300), radius=30, fill=(255, 255, 255, 90))
    draw.polygon([(420, 40), (500, 160), (340, 160)], fill=(240, 80, 120, 180))
    image.save(dest, format="PNG", optimize=True)


def _ffmpeg(*args: str) -> None:
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([exe, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_video(dest: Path, seconds: float = 3.0) -> None:
    """testsrc2 with a 440 Hz tone, H.264/AAC."""
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=s=640x360:r=25:d={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "34", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart", str(dest),
    )  # fmt: skip


def make_music(dest: Path, seconds: float = 6.0) -> None:
    """Three soft chords (C, A minor, F, C) with a gentle pulse, as AAC in .m4a."""
    chords = [(261.63, 329.63, 392.0), (220.0, 261.63, 329.63), (174.61, 220.0, 261.63)]
    step = seconds / 4
    terms = []
    for n, chord in enumerate([*chords, chords[0]]):
        tones = "+".join(f"sin(2*PI*{f}*t)" for f in chord)
        window = f"between(t,{n * step},{(n + 1) * step})"
        terms.append(f"{window}*({tones})")
    pulse = "(0.6+0.4*exp(-4*mod(t,0.5)))"
    expr = f"0.12*{pulse}*({'+'.join(terms)})"
    _ffmpeg(
        "-f", "lavfi", "-i", f"aevalsrc='{expr}|{expr}':s=48000:d={seconds}",
        "-c:a", "aac", "-b:a", "96k", str(dest),
    )  # fmt: skip


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ASSETS.mkdir(parents=True, exist_ok=True)
    make_image(ASSETS / "image.png")
    make_video(ASSETS / "video.mp4")
    make_music(ASSETS / "music.m4a")
    for path in sorted(ASSETS.iterdir()):
        log.info("%s: %d bytes", path.relative_to(ASSETS.parent), path.stat().st_size)


if __name__ == "__main__":
    main()
