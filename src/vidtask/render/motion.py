"""Movement over time: keyframes, Ken Burns and in/out animations, as models and as FFmpeg
expressions.

Every curve becomes one expression of a time variable (seconds since the clip started), built
from nested ``if(lt(T,t1), …)`` segments with an easing per segment, so the filters evaluate it
per frame with sub-pixel precision and nothing is precomputed per frame in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "Animation",
    "Easing",
    "KenBurns",
    "Keyframe",
    "Keyframes",
    "View",
    "curve",
    "ease",
    "num",
]

Easing = Literal["linear", "ease_in", "ease_out", "ease_in_out"]
AnimationIn = Literal["none", "fade", "slide_up", "slide_down", "slide_left", "slide_right", "pop"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Keyframe(_Model):
    #: Seconds from the start of the clip.
    time: Annotated[float, Field(ge=0, le=86_400)]
    value: Annotated[float, Field(ge=-10_000, le=10_000)]
    #: How the value moves from this keyframe to the next one.
    easing: Easing = "linear"


def _ascending(frames: list[Keyframe]) -> list[Keyframe]:
    for before, after in zip(frames, frames[1:], strict=False):
        if after.time <= before.time:
            raise ValueError("keyframe times must increase")
    return frames


Track = Annotated[list[Keyframe], Field(min_length=1, max_length=200), AfterValidator(_ascending)]


def _opacities(frames: list[Keyframe]) -> list[Keyframe]:
    if any(not 0 <= frame.value <= 1 for frame in frames):
        raise ValueError("opacity values must be between 0 and 1")
    return frames


def _scales(frames: list[Keyframe]) -> list[Keyframe]:
    if any(not 0 <= frame.value <= 10 for frame in frames):
        raise ValueError("scale values must be between 0 and 10")
    return frames


class Keyframes(_Model):
    """Animated properties. ``x``/``y`` add to the clip's offset (fractions of the frame),
    ``scale`` multiplies its laid-out size, ``opacity`` multiplies its opacity, ``rotation`` is
    in degrees clockwise. Before the first keyframe the first value holds, after the last the
    last one."""

    x: Track | None = None
    y: Track | None = None
    scale: Annotated[Track, AfterValidator(_scales)] | None = None
    opacity: Annotated[Track, AfterValidator(_opacities)] | None = None
    rotation: Track | None = None

    def last_time(self) -> float:
        tracks = (self.x, self.y, self.scale, self.opacity, self.rotation)
        return max((track[-1].time for track in tracks if track), default=0.0)


class View(_Model):
    #: 1 shows the whole laid-out clip; 1.5 shows the middle two thirds, enlarged.
    scale: Annotated[float, Field(ge=1, le=10)] = 1.0
    #: Pan, as a fraction of the clip's width/height; clamped so the view stays on the picture.
    x: Annotated[float, Field(ge=-0.5, le=0.5)] = 0.0
    y: Annotated[float, Field(ge=-0.5, le=0.5)] = 0.0


class KenBurns(_Model):
    """A slow zoom and pan across an image or video from ``start`` to ``end`` over the clip."""

    start: View = Field(default_factory=View)
    end: View = Field(default_factory=lambda: View(scale=1.2))
    easing: Easing = "ease_in_out"


class Animation(_Model):
    """How a visual clip enters and leaves: fade, slide from a side (with a fade) or pop (grow
    from small with a slight overshoot, with a fade)."""

    in_: AnimationIn = Field("fade", alias="in")
    out: AnimationIn = "fade"
    duration: Annotated[float, Field(gt=0, le=5)] = 0.4

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, serialize_by_alias=True, allow_inf_nan=False
    )


def num(value: float) -> str:
    """A number as FFmpeg expects it: plain decimal, no exponent, no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def ease(easing: Easing, u: str) -> str:
    """``u`` (0..1, already clamped) shaped by ``easing``."""
    if easing == "linear":
        return u
    if easing == "ease_in":
        return f"({u})*({u})"
    if easing == "ease_out":
        return f"({u})*(2-({u}))"
    return f"({u})*({u})*(3-2*({u}))"


def curve(frames: Sequence[Keyframe], t: str) -> str:
    """The keyframed value at time ``t`` (an expression in seconds since the clip started)."""
    if len(frames) == 1:
        return num(frames[0].value)
    expr = ""
    for a, b in reversed(list(zip(frames, frames[1:], strict=False))):
        span = b.time - a.time
        u = f"clip(({t}-{num(a.time)})/{num(span)},0,1)"
        segment = f"{num(a.value)}+{num(b.value - a.value)}*{ease(a.easing, u)}"
        expr = segment if not expr else f"if(lt({t},{num(b.time)}),{segment},{expr})"
    return expr
