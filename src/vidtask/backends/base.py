"""The seam between the task engine and whatever produces a video.

A backend validates a model's input at submit time (in the API process) and runs it in a
worker process. It reports stages and progress through a `Reporter`, watches `cancel`, and
returns files in its scratch directory; the worker moves them to artifact storage.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeAlias

from vidtask.render.pipeline import RenderResult

__all__ = ["Backend", "Checkpoint", "Reporter", "RunContext", "RunResult"]


class Reporter(Protocol):
    """Receives a running task's stage, progress (0-100) and preview frames. Progress writes are
    throttled by the reporter."""

    def stage(self, name: str) -> None: ...

    def progress(self, percent: float) -> None: ...

    def preview(self, path: Path) -> None:
        """A finished preview frame (a JPEG in the run's workdir), shown on the task while the
        run goes on. The reporter copies the file; it stays where it is and should also be
        listed in `RunResult.previews`."""
        ...


class Checkpoint(Protocol):
    """Saves an external reference (e.g. a provider's job id) on the task while the run goes
    on, so a later attempt or a poller can pick it up; merged into ``external_ref["checkpoint"]``.
    Fenced like every worker write: False when the lease is gone (``cancel`` is set then)."""

    def __call__(self, ref: dict[str, Any]) -> bool: ...


def _unstored(ref: dict[str, Any]) -> bool:
    """A run outside a worker (tests, tools): no task to write to, nothing to refuse."""
    return True


@dataclass(frozen=True, slots=True)
class RunContext:
    task_id: str
    attempt: int
    #: An empty scratch directory owned by this attempt; removed after the run.
    workdir: Path
    reporter: Reporter
    #: Set when the task is cancelled or the lease is lost: stop work and return promptly.
    cancel: threading.Event
    #: Save an external reference on the task (fenced by worker and attempt).
    checkpoint: Checkpoint = _unstored


#: What a run produced: the renderer's result type, so a backend that renders returns it as is
#: (render does not import backends; backends import render).
RunResult: TypeAlias = RenderResult


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
