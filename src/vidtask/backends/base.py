"""The seam between the task engine and whatever produces a video.

A backend validates a model's input at submit time (in the API process) and runs it in a
worker process. It reports stages and progress through a `Reporter`, watches `cancel`, and
returns files in its scratch directory; the worker moves them to artifact storage.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Backend", "Reporter", "RunContext", "RunResult"]


class Reporter(Protocol):
    """Receives a running task's stage and progress (0-100). Writes are throttled by the caller."""

    def stage(self, name: str) -> None: ...

    def progress(self, percent: float) -> None: ...


@dataclass(frozen=True, slots=True)
class RunContext:
    task_id: str
    attempt: int
    #: An empty scratch directory owned by this attempt; removed after the run.
    workdir: Path
    reporter: Reporter
    #: Set when the task is cancelled or the lease is lost: stop work and return promptly.
    cancel: threading.Event


@dataclass(frozen=True, slots=True)
class RunResult:
    #: The rendered video, inside the run's workdir.
    video: Path
    format: str
    #: Probed from the output file: duration, fps, width, height, seed, size_bytes, has_audio.
    metadata: dict[str, Any]
    cover: Path | None = None
    previews: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Backend(Protocol):
    """One model, e.g. ``timeline``."""

    name: str
    description: str

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the normalized input or raise `InvalidRequest` naming the field path."""
        ...

    def input_schema(self) -> dict[str, Any]:
        """The JSON Schema of this model's input."""
        ...

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        """Produce the video. Raise a `VidtaskError` subclass on failure, `Cancelled` on cancel."""
        ...
