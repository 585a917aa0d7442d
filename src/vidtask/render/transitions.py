"""Clips on one track, in time order: which of them are joined by transitions.

A track is a single layer: its clips may not overlap unless the later one has a ``transition``.
Overlapping clips blend over the overlap; clips that only touch blend over the transition's
``duration`` (default 0.5 s), with the earlier clip held that much longer. Each run of joined
clips becomes one `Layer` that the compiler renders with FFmpeg's ``xfade``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vidtask.core import errors

if TYPE_CHECKING:  # schema validates tracks with this module
    from vidtask.render import schema

__all__ = ["DEFAULT_DURATION", "Join", "Layer", "Span", "plan_track"]

DEFAULT_DURATION = 0.5


@dataclass(slots=True)
class Span:
    """A visual clip placed in time; ``length`` may grow to cover the next clip's transition."""

    path: str
    clip: schema.Clip
    start: float
    length: float

    @property
    def end(self) -> float:
        return self.start + self.length


@dataclass(frozen=True, slots=True)
class Join:
    type: str
    duration: float


@dataclass(slots=True)
class Layer:
    members: list[Span]
    #: ``joins[i]`` blends ``members[i]`` into ``members[i + 1]``.
    joins: list[Join] = field(default_factory=list)


def _invalid(param: str, reason: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(f"{param}: {reason}", param=param)


def _n(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def plan_track(spans: list[Span], fps: int) -> list[Layer]:
    """Group one track's visual clips into layers; refuse overlaps without a transition.

    ``spans`` are modified in place when a transition extends the earlier clip."""
    tolerance = 0.5 / fps
    layers: list[Layer] = []
    previous: Span | None = None
    for span in sorted(spans, key=lambda s: s.start):
        transition = span.clip.transition
        if transition is None:
            if previous is not None and previous.end - span.start > tolerance:
                raise _invalid(
                    f"{span.path}.start",
                    f"overlaps the previous clip on this track ({previous.path}) by "
                    f"{_n(previous.end - span.start)} s; add a transition or move it to "
                    "another track",
                )
            layers.append(Layer([span]))
            previous = span
            continue
        param = f"{span.path}.transition"
        if previous is None:
            raise _invalid(param, "there is no earlier clip on this track to transition from")
        overlap = previous.end - span.start
        if overlap < -tolerance:
            raise _invalid(
                param,
                f"the clip starts {_n(-overlap)} s after the previous one ends; a transition "
                "needs the clips to touch or overlap",
            )
        if overlap <= tolerance:
            duration = transition.duration or DEFAULT_DURATION
            previous.length = span.start + duration - previous.start
        else:
            duration = overlap
            if transition.duration is not None and abs(transition.duration - overlap) > tolerance:
                raise _invalid(
                    f"{param}.duration",
                    f"the clips overlap by {_n(overlap)} s and the overlap is the transition; "
                    "make them match or leave duration out",
                )
        layer = layers[-1]
        already = layer.joins[-1].duration if layer.joins else 0.0
        if duration + already > previous.length + tolerance or duration > span.length + tolerance:
            raise _invalid(param, f"a {_n(duration)} s transition is longer than the clips allow")
        layer.members.append(span)
        layer.joins.append(Join(transition.type, duration))
        previous = span
    return layers
