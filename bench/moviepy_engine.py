"""The benchmark's MoviePy 2.2.1 renders, written the way MoviePy's documentation does it.

Same inputs, layout and encoder settings as vidtask's timelines (`bench/timelines.py`). MoviePy
has no sidechain ducking, so its music plays at a fixed level under the narration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moviepy import (  # type: ignore[import-not-found]
    AudioFileClip,
    CompositeAudioClip,
    CompositeVideoClip,
    ImageClip,
    TextClip,
    VideoFileClip,
    afx,
    vfx,
)
from timelines import CJK_FONT, Spec

__all__ = ["render_moviepy"]


def _fill(clip: Any, width: int, height: int) -> Any:
    """Scale to cover the frame, then crop the middle (fit=cover)."""
    if clip.w / clip.h > width / height:
        clip = clip.resized(height=height)
    else:
        clip = clip.resized(width=width)
    return clip.cropped(x_center=clip.w / 2, y_center=clip.h / 2, width=width, height=height)


def render_moviepy(s: Spec, root: Path, out: Path) -> None:
    layers = []
    for n, (kind, name, start, length, zoom) in enumerate(s.shots):
        if kind == "video":
            clip = VideoFileClip(str(root / name)).subclipped(0, length)
            clip = clip.with_volume_scaled(0.3)
        else:
            clip = ImageClip(str(root / name)).with_duration(length)
        clip = _fill(clip, s.width, s.height)
        if zoom:
            zoomed = clip.resized(lambda t, d=length: 1 + 0.25 * t / d)
            clip = CompositeVideoClip([zoomed.with_position("center")], size=(s.width, s.height))
            clip = clip.with_duration(length)
        clip = clip.with_start(start)
        if n and s.crossfade:
            clip = clip.with_effects([vfx.CrossFadeIn(s.crossfade)])
        layers.append(clip)
    vertical = s.height > s.width
    for caption in s.captions:
        text = TextClip(
            font=str(CJK_FONT),
            text=caption.text,
            font_size=72 if vertical else 56,
            color="white",
            stroke_color="black",
            stroke_width=5,
            method="caption",
            size=(int(s.width * 0.9), None),
            text_align="center",
        )
        y = s.height * (0.82 if vertical else 0.86)
        text = text.with_start(caption.start).with_duration(caption.end - caption.start)
        text = text.with_position(("center", y - text.h / 2))
        if s.caption_fade:
            text = text.with_effects(
                [vfx.CrossFadeIn(s.caption_fade), vfx.CrossFadeOut(s.caption_fade)]
            )
        layers.append(text)
    if s.logo:
        logo = ImageClip(str(root / s.logo)).resized(width=s.width * 0.25)
        logo = logo.with_duration(s.duration).with_position(
            (s.width * 0.96 - logo.w, s.height * 0.03)
        )
        layers.append(logo)
    video = CompositeVideoClip(layers, size=(s.width, s.height)).with_duration(s.duration)
    sounds = [video.audio] if video.audio is not None else []
    if s.music:
        music = AudioFileClip(str(root / s.music)).with_volume_scaled(0.6)
        sounds.append(music.with_effects([afx.AudioFadeOut(1.0)]).with_duration(s.duration))
    for name, at in s.narration:
        sounds.append(AudioFileClip(str(root / name)).with_start(at))
    if sounds:
        video = video.with_audio(CompositeAudioClip(sounds).with_duration(s.duration))
    video.write_videofile(
        str(out),
        fps=s.fps,
        codec="libx264",
        preset="veryfast",
        audio_codec="aac",
        audio_bitrate="192k",
        ffmpeg_params=["-crf", "23", "-pix_fmt", "yuv420p"],
        logger=None,
    )
