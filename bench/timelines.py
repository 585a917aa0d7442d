"""The benchmark's inputs: generated media (cached in a folder) and the three timelines.

- ``vertical``: 20 s at 1080x1920: two 1080p clips cropped to fill the frame, a zooming still,
  0.5 s crossfades, a logo, three Chinese captions fading in and out, music ducked under
  narration;
- ``slideshow``: 60 s at 1920x1080: twelve stills with 0.5 s crossfades over music;
- ``talking``: a 5-minute 1080p talking-head video with 80 subtitle lines.

Each is described once as a `Spec` that both the vidtask timeline and the MoviePy script are
built from, so the two engines render the same thing.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

__all__ = ["NAMES", "Spec", "make_assets", "spec", "vidtask_timeline"]

NAMES = ("vertical", "slideshow", "talking")
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@dataclass(frozen=True)
class Caption:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Spec:
    name: str
    width: int
    height: int
    fps: int
    duration: float
    #: Visual clips on the base track: (kind, file, start, length, zoom); crossfade between them.
    shots: list[tuple[str, str, float, float, bool]]
    crossfade: float
    captions: list[Caption] = field(default_factory=list)
    caption_fade: float = 0.0
    logo: str | None = None
    music: str | None = None
    narration: list[tuple[str, float]] = field(default_factory=list)


def _ffmpeg(ffmpeg: str, *args: str) -> None:
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_assets(root: Path, ffmpeg: str, talking_seconds: float) -> None:
    """Create the media once (skipped when the files exist)."""
    root.mkdir(parents=True, exist_ok=True)
    x264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    for n, hue in ((1, 0), (2, 120)):
        out = root / f"clip{n}.mp4"
        if not out.exists():
            _ffmpeg(ffmpeg, "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=30:d=8,hue=h={hue}",
                    "-f", "lavfi", "-i", "sine=frequency=330:duration=8", *x264, "-c:a", "aac",
                    "-shortest", str(out))  # fmt: skip
    talking = root / f"talking_{talking_seconds:g}.mp4"
    if not talking.exists():
        _ffmpeg(ffmpeg, "-f", "lavfi", "-i",
                f"testsrc2=s=1920x1080:r=30:d={talking_seconds:g},eq=saturation=0.4",
                "-f", "lavfi", "-i", f"anoisesrc=color=pink:duration={talking_seconds:g}"
                ":amplitude=0.2,lowpass=3000,highpass=200", *x264, "-c:a", "aac", "-shortest",
                str(talking))  # fmt: skip
    sources = ["testsrc2", "smptehdbars", "rgbtestsrc", "yuvtestsrc", "mandelbrot", "cellauto"]
    for n in range(12):
        out = root / f"still{n}.jpg"
        if not out.exists():
            source = sources[n % len(sources)]
            _ffmpeg(ffmpeg, "-f", "lavfi", "-i", f"{source}=s=2400x1600", "-frames:v", "1",
                    "-vf", f"hue=h={n * 30}", "-q:v", "3", str(out))  # fmt: skip
    logo = root / "logo.png"
    if not logo.exists():
        image = Image.new("RGBA", (360, 120), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        draw.rounded_rectangle((0, 0, 359, 119), radius=24, fill=(20, 20, 30, 170))
        font = ImageFont.truetype(str(CJK_FONT), 64, index=2) if CJK_FONT.exists() else None
        draw.text((180, 60), "vidtask", anchor="mm", fill=(255, 220, 120, 255), font=font)
        image.save(logo)
    for seconds in (20, 60):
        out = root / f"music_{seconds}.m4a"
        if not out.exists():
            _ffmpeg(ffmpeg, "-f", "lavfi", "-i",
                    f"aevalsrc=0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277*t)+0.1*sin(2*PI*330*t)"
                    f":s=48000:d={seconds}", "-c:a", "aac", str(out))  # fmt: skip
    voice = root / "narration.m4a"
    if not voice.exists():
        _ffmpeg(ffmpeg, "-f", "lavfi", "-i",
                "anoisesrc=color=brown:duration=4:amplitude=0.5,bandpass=f=700:width_type=o:w=2,"
                "tremolo=f=4:d=0.7", "-c:a", "aac", str(voice))  # fmt: skip


def spec(name: str, talking_seconds: float = 300.0) -> Spec:
    if name == "vertical":
        return Spec(
            name, 1080, 1920, 30, 20.0,
            shots=[("video", "clip1.mp4", 0.0, 7.0, False), ("image", "still0.jpg", 6.5, 7.0, True),
                   ("video", "clip2.mp4", 13.0, 7.0, False)],
            crossfade=0.5,
            captions=[Caption("欢迎来到视频任务服务", 1.0, 5.0),
                      Caption("每个任务都不会丢失", 8.0, 12.0),
                      Caption("用一条命令渲染真实的视频", 14.5, 19.0)],
            caption_fade=0.4,
            logo="logo.png",
            music="music_20.m4a",
            narration=[("narration.m4a", 1.5), ("narration.m4a", 8.5), ("narration.m4a", 14.5)],
        )  # fmt: skip
    if name == "slideshow":
        shots = [("image", f"still{n}.jpg", n * 5.0 - (0.5 if n else 0.0),
                  5.0 + (0.5 if n else 0.0), False) for n in range(12)]  # fmt: skip
        return Spec(name, 1920, 1080, 30, 60.0, shots=shots, crossfade=0.5, music="music_60.m4a")
    if name == "talking":
        lines = 80 * talking_seconds / 300.0
        step = talking_seconds / max(1, round(lines))
        captions = [Caption(f"Line {n + 1}: this is what the speaker says at this moment.",
                            n * step + 0.1, (n + 1) * step - 0.1)
                    for n in range(max(1, round(lines)))]  # fmt: skip
        return Spec(name, 1920, 1080, 30, talking_seconds,
                    shots=[("video", f"talking_{talking_seconds:g}.mp4", 0.0, talking_seconds,
                            False)],
                    crossfade=0.0, captions=captions)  # fmt: skip
    raise ValueError(name)


def _srt(captions: list[Caption]) -> str:
    def stamp(t: float) -> str:
        ms = round(t * 1000)
        return (
            f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"
        )

    return "".join(
        f"{n}\n{stamp(c.start)} --> {stamp(c.end)}\n{c.text}\n\n" for n, c in enumerate(captions, 1)
    )


def vidtask_timeline(s: Spec, root: Path, quality: str = "standard") -> dict[str, Any]:
    base = []
    for n, (kind, name, start, length, zoom) in enumerate(s.shots):
        asset: dict[str, Any] = {"type": kind, "src": str(root / name)}
        clip: dict[str, Any] = {"asset": asset, "start": start, "length": length, "fit": "cover"}
        if kind == "video":
            asset["volume"] = 0.3
        if zoom:
            clip["ken_burns"] = {
                "start": {"scale": 1.0},
                "end": {"scale": 1.25},
                "easing": "linear",
            }
        if n and s.crossfade:
            clip["transition"] = {"type": "fade"}
        base.append(clip)
    tracks: list[dict[str, Any]] = [{"clips": base}]
    style = {"font_size": 72 if s.height > s.width else 56, "color": "#ffffff",
             "stroke": {"color": "#000000", "width": 5}}  # fmt: skip
    if s.name == "talking":
        tracks.append({"clips": [{"asset": {"type": "captions", "srt": _srt(s.captions), **style},
                                  "start": 0, "position": "bottom",
                                  "offset": {"y": -0.06}}]})  # fmt: skip
    elif s.captions:
        tracks.append({"clips": [
            {"asset": {"type": "text", "text": c.text, **style}, "start": c.start,
             "length": c.end - c.start, "position": "bottom", "offset": {"y": -0.12},
             "fade_in": s.caption_fade, "fade_out": s.caption_fade}
            for c in s.captions]})  # fmt: skip
    if s.logo:
        tracks.append({"clips": [{"asset": {"type": "image", "src": str(root / s.logo)},
                                  "start": 0, "length": s.duration, "fit": "contain",
                                  "scale": 0.25, "position": "top_right",
                                  "offset": {"x": -0.04, "y": 0.03}}]})  # fmt: skip
    if s.music:
        tracks.append({"clips": [{"asset": {"type": "audio", "src": str(root / s.music),
                                            "volume": 0.6, "role": "music"},
                                  "start": 0, "length": s.duration, "fade_out": 1.0}]})  # fmt: skip
    if s.narration:
        tracks.append({"clips": [{"asset": {"type": "audio", "src": str(root / name),
                                            "role": "voice"}, "start": at, "length": 4.0}
                                 for name, at in s.narration]})  # fmt: skip
    return {
        "output": {"width": s.width, "height": s.height, "fps": s.fps, "quality": quality,
                   "duration": s.duration},
        "tracks": tracks,
    }  # fmt: skip
