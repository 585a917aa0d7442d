"""Output formats and quality presets: which encoder settings a render uses, and at what size.

``standard`` is the known fast path (libx264 ``veryfast``, crf 23); ``draft`` renders a quick
preview at a third of the width and height, at most 15 frames per second, with ``ultrafast``;
``high`` spends more encoder time for a smaller, cleaner file. WebM is VP9/Opus, GIF gets a
palette computed for each frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["FORMATS", "QUALITIES", "Encoding", "encoding_for"]

Format = Literal["mp4", "webm", "gif"]
Quality = Literal["draft", "standard", "high"]
FORMATS: tuple[Format, ...] = ("mp4", "webm", "gif")
QUALITIES: tuple[Quality, ...] = ("draft", "standard", "high")


@dataclass(frozen=True, slots=True)
class _Preset:
    #: Render size as a fraction of the requested size.
    scale: float
    x264_preset: str
    x264_crf: int
    #: libvpx-vp9 speed (``-cpu-used``) and quality (``-crf``).
    vp9_speed: int
    vp9_crf: int
    audio_kbps: int
    #: Frame rate cap; None renders at the requested rate.
    max_fps: int | None = None


_PRESETS: dict[Quality, _Preset] = {
    # Half the frames of a 30 fps video: the filters and the encoder do half the work, and
    # motion still reads in a preview (Shotstack's "preview" resolution is 15 fps as well).
    "draft": _Preset(1 / 3, "ultrafast", 28, 8, 40, 96, max_fps=15),
    "standard": _Preset(1.0, "veryfast", 23, 6, 33, 192),
    "high": _Preset(1.0, "medium", 18, 3, 28, 256),
}


@dataclass(frozen=True, slots=True)
class Encoding:
    format: Format
    #: File name of the rendered video inside the workdir.
    file_name: str
    #: The size frames are composed and encoded at (even numbers).
    width: int
    height: int
    #: Multiply pixel sizes given for the requested size (font sizes, strokes) by this.
    scale: float
    #: The frame rate frames are composed and encoded at.
    fps: int
    video_args: list[str]
    #: Empty when the format carries no audio.
    audio_args: list[str]
    #: Final filters for the video branch (GIF's palette pass), applied to ``[vout]``.
    video_filter: str = ""

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_args)


def _even(value: float) -> int:
    return max(16, round(value / 2) * 2)


def encoding_for(
    fmt: Format,
    quality: Quality,
    *,
    width: int,
    height: int,
    fps: int,
    crf: int | None,
    threads: int = 2,
) -> Encoding:
    """Encoder settings for a render of ``width`` x ``height`` at ``fps`` (the preset may lower
    both); ``crf`` overrides the
    preset's quality setting for mp4 and webm. ``threads`` bounds the encoder's threads: each
    x264 frame thread holds frames, so memory grows with it (1080x1920: ~300 MB at 2 threads,
    ~430 MB at 8)."""
    preset = _PRESETS[quality]
    w, h = (
        (width, height)
        if preset.scale == 1
        else (_even(width * preset.scale), _even(height * preset.scale))
    )
    scale = w / width
    fps = min(fps, preset.max_fps or fps)
    if fmt == "mp4":
        # Lookahead in the encoding threads rather than in a thread of its own: ~40 MB less at
        # 1080x1920 for ~10% more wall time. Drafts are small; they keep the faster setting.
        lookahead = [] if quality == "draft" else ["-x264-params", "sync-lookahead=0"]
        return Encoding(
            fmt, "video.mp4", w, h, scale, fps,
            ["-c:v", "libx264", "-preset", preset.x264_preset,
             "-crf", str(preset.x264_crf if crf is None else crf), "-threads", str(threads),
             *lookahead, "-pix_fmt", "yuv420p", "-r", str(fps), "-movflags", "+faststart"],
            ["-c:a", "aac", "-b:a", f"{preset.audio_kbps}k", "-ar", "48000"],
        )  # fmt: skip
    if fmt == "webm":
        return Encoding(
            fmt, "video.webm", w, h, scale, fps,
            ["-c:v", "libvpx-vp9", "-b:v", "0",
             "-crf", str(preset.vp9_crf if crf is None else crf),
             "-deadline", "good" if quality == "high" else "realtime",
             "-cpu-used", str(preset.vp9_speed), "-row-mt", "1", "-tile-columns", "2",
             "-threads", str(threads),
             "-pix_fmt", "yuv420p", "-r", str(fps)],
            ["-c:a", "libopus", "-b:a", f"{min(preset.audio_kbps, 160)}k", "-ar", "48000"],
        )  # fmt: skip
    colors = 128 if quality == "draft" else 256
    return Encoding(
        fmt,
        "video.gif",
        w,
        h,
        scale,
        fps,
        ["-c:v", "gif", "-r", str(fps), "-loop", "0"],
        [],
        # A palette per frame keeps the filter streaming: one palette for the whole clip would
        # hold every frame back until the end, and ffmpeg's progress with it.
        video_filter=(
            f"split[gif_a][gif_b];[gif_a]palettegen=max_colors={colors}:stats_mode=single[pal];"
            "[gif_b][pal]paletteuse=new=1:dither=sierra2_4a"
        ),
    )
