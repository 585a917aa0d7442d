"""The durable draft: tracks of segments with ids and microsecond times, as capcut-mate builds
them. Stored as JSON in the draft store; everything in it is already in renderer terms (sources,
fractions of the frame, renderer transition and animation names), so compiling is assembly.

``transition`` on a segment follows JianYing: it joins the segment to the *next* one on its track.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DraftContent",
    "KeyframePoint",
    "Segment",
    "Track",
    "TrackKind",
    "new_draft_id",
    "new_id",
]

TrackKind = Literal["video", "image", "audio", "text"]
US = 1_000_000


def new_draft_id() -> str:
    """24 hex characters: unguessable, and within capcut-mate's 20-32 character draft ids."""
    return secrets.token_hex(12)


def new_id() -> str:
    return str(uuid.uuid4())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyframePoint(_Model):
    #: Microseconds from the segment's start.
    offset: int
    value: float


class Segment(_Model):
    id: str
    #: The material's id (capcut-mate's video_ids / image_ids / audio_ids / text_ids).
    material_id: str
    start: int
    end: int
    src: str | None = None
    volume: float = 1.0
    speed: float = 1.0
    transition: str | None = None
    transition_duration: int | None = None
    animation_in: str | None = None
    animation_out: str | None = None
    animation_duration: int | None = None
    text: str | None = None
    #: Renderer text style fields (font_size in pixels, color, stroke, highlight...).
    text_style: dict[str, Any] = Field(default_factory=dict)
    #: Renderer keyframe property (x, y, scale, opacity, rotation) -> points.
    keyframes: dict[str, list[KeyframePoint]] = Field(default_factory=dict)


class Track(_Model):
    id: str
    kind: TrackKind
    segments: list[Segment]
    opacity: float = 1.0
    scale: float = 1.0
    #: Offset of the track's clips from the centre, in fractions of the frame (x right, y down).
    offset_x: float = 0.0
    offset_y: float = 0.0


class DraftContent(_Model):
    width: int
    height: int
    fps: int = 30
    tracks: list[Track] = Field(default_factory=list)
    #: A JianYing draft imported as a ready timeline (read-only: add_* is refused).
    imported_timeline: dict[str, Any] | None = None
    #: What the import could not render, listed on every render's task.
    warnings: list[str] = Field(default_factory=list)

    def find_segment(self, segment_id: str) -> tuple[Track, Segment] | None:
        for track in self.tracks:
            for segment in track.segments:
                if segment.id == segment_id:
                    return track, segment
        return None

    @property
    def duration_us(self) -> int:
        return max((s.end for t in self.tracks for s in t.segments), default=0)
